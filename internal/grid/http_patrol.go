package grid

import "net/http"

func (h *HTTP) patrolRoutes(mux *http.ServeMux) {}
