package governance

import "net/http"

func (h *HTTP) matterRoutes(mux *http.ServeMux) {}
