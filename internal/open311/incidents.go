package open311

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/window"
)

// Grid incidents (internal/grid) are offered beside the window's items:
// each incident category of the pack marked online is a service whose
// group is the category's group (市容环境, 公用设施 …), without attributes. A
// request for one becomes an incident in state reported at the village
// (jurisdiction_id, else the nearest household's village, else the
// client's own village): residents report problems of public space, so a
// township alone is not precise enough — unless the request has a point
// whose nearest household (within 3 km) lies in a village of that
// township, which is then the incident's village. media_url is not fetched (Shequ
// makes no outside calls); it is kept in the description.

// incidentServices lists the incident categories offered at unit.
func (h *HTTP) incidentServices(unit int64, loc string) []Service {
	if h.G == nil {
		return nil
	}
	var out []Service
	for _, c := range h.G.OnlineCategories(unit) {
		group := c.Group.Label.Get(loc)
		kw := group
		if d := c.Department.Get(loc); d != "" {
			kw += ", " + d
		}
		out = append(out, Service{Code: c.Code, Name: c.Name.Get(loc), Description: strPtr(c.Description.Get(loc)),
			Metadata: false, Type: "realtime", Keywords: strPtr(kw), Group: strPtr(group)})
	}
	return out
}

// incidentCategory reports whether code is an incident category offered at
// unit.
func (h *HTTP) incidentCategory(unit int64, code string) bool {
	if h.G == nil {
		return false
	}
	for _, c := range h.G.OnlineCategories(unit) {
		if c.Code == code {
			return true
		}
	}
	return false
}

// postIncident files a resident's report of an incident.
func (h *HTTP) postIncident(w http.ResponseWriter, r *http.Request, format, loc string, client window.Client, req postRequest, unit int64) {
	ctx := r.Context()
	if ids.Level(unit) < 5 {
		v, err := h.villageOf(ctx, unit, req)
		if err != nil {
			h.internal(w, r, format, err)
			return
		}
		if v == 0 {
			h.fail(w, r, format, http.StatusBadRequest, "jurisdiction_id: "+i18n.T(loc, "open311.error.incident_village"))
			return
		}
		unit = v
	}
	desc := req.Description
	if req.MediaURL != "" {
		desc = strings.TrimSpace(desc + "\n" + req.MediaURL)
	}
	addr := req.AddressString
	if addr == "" && req.AddressID != "" {
		addr = req.AddressID
	}
	rep := grid.Report{Division: unit, Category: req.ServiceCode, Description: desc, Address: addr, Lat: req.Lat, Lon: req.Long,
		Name: applicantName(req.FirstName, req.LastName), Phone: req.Phone, ClientID: client.ID, Token: newToken()}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "open311:" + client.Name, Client: web.ClientIP(r).String()})
	in, err := h.G.ReportOnline(ctx, rep)
	var es grid.Errors
	if errors.As(err, &es) {
		msgs := make([]string, len(es))
		for i, e := range es {
			msgs[i] = fieldError(loc, "grid", e.Field, e.Code, e.Arg)
		}
		h.fail(w, r, format, http.StatusBadRequest, msgs...)
		return
	}
	if err != nil {
		h.internal(w, r, format, err)
		return
	}
	rc := receipt{ID: in.Number, Notice: i18n.T(loc, "open311.incident_notice"), AccountID: strPtr(req.AccountID), AccountXML: req.AccountID}
	h.send(w, r, format, http.StatusOK, []receipt{rc}, xmlReceipts{Requests: []receipt{rc}})
}

// villageOf places a report made to a township in one of its villages: the
// village of the household nearest the request's point (within
// nearestMeters), when that village lies inside the township and is not
// retired. It returns 0 when the request has no point or the point places
// it nowhere in the township.
func (h *HTTP) villageOf(ctx context.Context, township int64, req postRequest) (int64, error) {
	if ids.Level(township) != 4 || req.Lat == nil || req.Long == nil || h.S == nil || h.S.Registry == nil {
		return 0, nil
	}
	v, err := h.S.Registry.NearestVillage(ctx, *req.Lat, *req.Long, nearestMeters)
	if errors.Is(err, db.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if v == township || !ids.Contains(township, v) {
		return 0, nil
	}
	d, err := h.S.Divisions.Get(ctx, v)
	if errors.Is(err, db.ErrNotFound) || (err == nil && d.Retired) {
		return 0, nil
	}
	return v, err
}

// incidentStatus is the public text of an incident's state.
func incidentStatus(loc string, in grid.Incident) string {
	switch in.State {
	case grid.StateReported:
		return i18n.T(loc, "open311.incident.reported")
	case grid.StateRejected:
		if in.DuplicateOf != 0 {
			return i18n.T(loc, "open311.incident.duplicate")
		}
		return i18n.T(loc, "open311.incident.rejected")
	case grid.StateClosed:
		return i18n.T(loc, "open311.incident.closed")
	case grid.StateHandled, grid.StateVerified:
		return i18n.T(loc, "open311.incident.handled")
	}
	return i18n.T(loc, "open311.incident.handling")
}

// incidentRequest publishes an incident's state, like toRequest a case's:
// no reporter, phone, description, address, point or photo.
func (h *HTTP) incidentRequest(ctx context.Context, loc string, names map[int64]string, in grid.Incident) Request {
	out := Request{ID: in.Number, Status: "open", ServiceName: strPtr(in.CategoryName), ServiceCode: in.Category,
		RequestedDatetime: w3c(in.ReportedAt), StatusNotes: strPtr(incidentStatus(loc, in))}
	updated := in.UpdatedAt
	if !in.Open() {
		out.Status = "closed"
		if in.ClosedAt != 0 {
			updated = in.ClosedAt
		}
	}
	if updated != 0 {
		out.UpdatedDatetime = strPtr(w3c(updated))
	}
	if in.Deadline != 0 && in.Open() {
		d := in.Deadline
		out.ExpectedDatetime = strPtr(time.Date(d/10000, time.Month(d/100%100), d%100, 23, 59, 59, 0, china).Format(time.RFC3339))
	}
	agency := in.Department
	if agency == "" {
		if v, ok := names[in.Holder]; ok {
			agency = v
		} else if d, err := h.S.Divisions.Get(ctx, in.Holder); err == nil {
			agency, names[in.Holder] = d.Name, d.Name
		}
	}
	out.AgencyResponsible = strPtr(agency)
	out.ServiceNotice = strPtr(i18n.T(loc, "open311.incident_notice"))
	return out
}

// isIncidentNumber tells an incident number (SJ…) from a case number.
func isIncidentNumber(id string) bool { return strings.HasPrefix(strings.TrimSpace(id), "SJ") }
