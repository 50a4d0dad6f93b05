package disclosure

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// calendar is the village's iCalendar feed (RFC 5545) of its public
// meetings: the last three months and the next twelve, written by
// governance.WriteCalendar, each event linking back to the portal.
func (h *PublicHTTP) calendar(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	if h.S.Governance == nil {
		h.fail(w, r, db.ErrNotFound)
		return
	}
	today := h.S.Today()
	ms, err := h.S.Governance.PublicMeetings(r.Context(), v.Code, calendar.AddDays(today, -CalendarBack), calendar.AddDays(today, CalendarAhead))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	base := web.BaseURL(r, h.PublicURL, h.TrustProxy) + "/public/" + PortalCode(v.Code)
	var buf bytes.Buffer
	if err := governance.WriteCalendar(&buf, v.Name, ms, func(m governance.Meeting) string { return base + "#meeting-" + strconv.FormatInt(m.ID, 10) }); err != nil {
		h.fail(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", governance.CalendarContentType)
	hd.Set("Content-Disposition", `inline; filename="calendar.ics"`)
	hd.Set("Cache-Control", PortalCache)
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}
