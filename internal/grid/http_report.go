package grid

import "net/http"

func (h *HTTP) reportRoutes(mux *http.ServeMux) {}
