package governance

import "net/http"

func (h *HTTP) bodyRoutes(mux *http.ServeMux) {}
