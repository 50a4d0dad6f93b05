package governance

import "net/http"

func (h *HTTP) documentRoutes(mux *http.ServeMux) {}
