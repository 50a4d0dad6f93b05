package grid

import "net/http"

func (h *HTTP) followupRoutes(mux *http.ServeMux) {}
