package grid

import "net/http"

func (h *HTTP) incidentRoutes(mux *http.ServeMux) {}
