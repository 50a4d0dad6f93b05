package grid

import "net/http"

func (h *HTTP) mapRoutes(mux *http.ServeMux) {}
