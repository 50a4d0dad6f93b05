package grid

import "net/http"

func (h *HTTP) gridRoutes(mux *http.ServeMux) {}
