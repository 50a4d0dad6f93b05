package governance

import "net/http"

func (h *HTTP) meetingRoutes(mux *http.ServeMux) {}
