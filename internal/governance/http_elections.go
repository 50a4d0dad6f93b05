package governance

import "net/http"

func (h *HTTP) electionRoutes(mux *http.ServeMux) {}
