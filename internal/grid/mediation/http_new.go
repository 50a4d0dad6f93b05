package mediation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/registry"
)

// The registration form is one POST form that works without JavaScript:
// its buttons carry an op — add a party row, remove one, search the
// registry for a row, pick a resident from the hits, undo the pick — and the
// server answers with the form again, every typed value kept. Only op
// "create" registers the dispute. Enter in a text field presses the hidden
// first button, "refresh", which only redraws (and runs the rows' searches).

type newData struct {
	Units     []division.Division
	Unit      int64
	Types     []typeOption
	Type      string
	Summary   string
	Mediators string
	Incident  string
	Parties   []partyRow
	Errors    formErrors
	Locale    string
	CanSearch bool
	CanAdd    bool
	Sides     []string
}

// E is the message of a field.
func (d *newData) E(name string) string { return d.Errors.At[name] }

type partyRow struct {
	I                                         int
	Side, Name, Gender, IDNumber, Phone, Addr string
	Q                                         string // the registry search typed in the row
	ResidentID                                int64
	Resident                                  *registry.Resident
	Hits                                      []registry.Hit
	Searched                                  bool
	Prefix                                    string // parties[i].
	SideErr, ResidentErr, NameErr, GenderErr  string
	IDErr, PhoneErr, AddrErr                  string
}

// F is the form name of one of the row's fields.
func (p partyRow) F(name string) string { return p.Prefix + name }

// manageUnits lists the townships and villages where p may register
// disputes, at most limit of them.
func (h *HTTP) manageUnits(ctx context.Context, p *access.Principal, limit int) ([]division.Division, error) {
	var out []division.Division
	for _, rg := range p.Ranges(PermManage) {
		ds, err := h.S.Divisions.InRange(ctx, rg.Lo, rg.Hi, 4, 5)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if !d.Retired {
				out = append(out, d)
			}
			if len(out) >= limit {
				return out, nil
			}
		}
	}
	return out, nil
}

func (h *HTTP) newBase(r *http.Request, p *access.Principal) (*newData, error) {
	d := &newData{Locale: i18n.Negotiate(r), CanSearch: p.Can("resident.view"), Errors: newFormErrors(), Sides: Sides}
	units, err := h.manageUnits(r.Context(), p, 300)
	if err != nil {
		return nil, err
	}
	d.Units = units
	return d, nil
}

// setUnit chooses the unit (the one asked for when p may register there)
// and its dispute types.
func (h *HTTP) setUnit(d *newData, p *access.Principal, asked string) {
	if u, err := strconv.ParseInt(asked, 10, 64); err == nil {
		if m, ok := MediationUnit(u); ok && p.CanAt(PermManage, m) {
			d.Unit = m
		}
	}
	if d.Unit == 0 && len(d.Units) > 0 {
		d.Unit = d.Units[0].Code
	}
	for _, t := range h.S.Types(d.Unit) {
		d.Types = append(d.Types, typeOption{t.Key, t.Label.Get(d.Locale)})
	}
}

func (h *HTTP) newForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if !p.Can(PermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	d, err := h.newBase(r, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setUnit(d, p, r.URL.Query().Get("unit"))
	d.Mediators = actorName(r.Context(), p)
	d.Incident = r.URL.Query().Get("incident")
	d.Parties = []partyRow{{Side: SideApplicant}, {Side: SideRespondent}}
	h.fillRows(r.Context(), p, d, -1)
	h.R.Page(w, r, http.StatusOK, "mediation_new.html", d)
}

// fillRows numbers the rows, loads the residents picked, and runs the
// search of row search (-1: none; -2: every row with a query).
func (h *HTTP) fillRows(ctx context.Context, p *access.Principal, d *newData, search int) {
	for i := range d.Parties {
		pr := &d.Parties[i]
		pr.I, pr.Prefix = i, "parties["+strconv.Itoa(i)+"]."
		if pr.ResidentID > 0 && d.CanSearch {
			if res, err := h.S.Registry.Get(ctx, p, pr.ResidentID); err == nil {
				pr.Resident = &res
			}
		}
		if pr.Resident == nil && pr.Q != "" && d.CanSearch && (search == i || search == -2) {
			pr.Searched = true
			if res, err := h.S.Registry.Search(ctx, p, pr.Q, 0, 10); err == nil {
				pr.Hits = res.Hits
			}
		}
		pr.SideErr, pr.ResidentErr, pr.NameErr = d.E(pr.F("side")), d.E(pr.F("resident_id")), d.E(pr.F("name"))
		pr.GenderErr, pr.IDErr, pr.PhoneErr, pr.AddrErr = d.E(pr.F("gender")), d.E(pr.F("id_number")), d.E(pr.F("phone")), d.E(pr.F("address"))
	}
	d.CanAdd = len(d.Parties) < MaxParties
}

// readRows reads the party rows of the form: row i is there when its side is.
func readRows(f url.Values) []partyRow {
	var out []partyRow
	for i := 0; i < MaxParties; i++ {
		pre := "parties[" + strconv.Itoa(i) + "]."
		if !f.Has(pre + "side") {
			continue
		}
		pr := partyRow{Side: f.Get(pre + "side"), Name: f.Get(pre + "name"), Gender: f.Get(pre + "gender"),
			IDNumber: f.Get(pre + "id_number"), Phone: f.Get(pre + "phone"), Addr: f.Get(pre + "address"), Q: strings.TrimSpace(f.Get(pre + "q"))}
		pr.ResidentID, _ = strconv.ParseInt(f.Get(pre+"resident_id"), 10, 64)
		out = append(out, pr)
	}
	return out
}

func (h *HTTP) create(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if !p.Can(PermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	d, err := h.newBase(r, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setUnit(d, p, f.Get("unit"))
	d.Type, d.Summary, d.Mediators, d.Incident = f.Get("type"), f.Get("summary"), f.Get("mediators"), strings.TrimSpace(f.Get("incident_id"))
	d.Parties = readRows(f)
	op, arg, _ := strings.Cut(f.Get("op"), ".")
	row, _ := strconv.Atoi(arg)
	search := -1
	switch op {
	case "add":
		if len(d.Parties) < MaxParties {
			d.Parties = append(d.Parties, partyRow{Side: SideOther})
		}
	case "remove":
		if row >= 0 && row < len(d.Parties) {
			d.Parties = append(d.Parties[:row], d.Parties[row+1:]...)
		}
	case "search":
		if row >= 0 && row < len(d.Parties) {
			d.Parties[row].ResidentID = 0
			search = row
		}
	case "pick":
		// pick.<row>.<resident id>
		ri, id, _ := strings.Cut(arg, ".")
		i, _ := strconv.Atoi(ri)
		rid, _ := strconv.ParseInt(id, 10, 64)
		if i >= 0 && i < len(d.Parties) && rid > 0 {
			d.Parties[i].ResidentID, d.Parties[i].Q = rid, ""
		}
	case "unpick":
		if row >= 0 && row < len(d.Parties) {
			d.Parties[row].ResidentID = 0
		}
	case "create":
		if h.register(w, r, p, d) {
			return
		}
	default: // refresh
		search = -2
	}
	h.fillRows(r.Context(), p, d, search)
	status := http.StatusOK
	if len(d.Errors.List) > 0 {
		status = http.StatusUnprocessableEntity
	}
	h.R.Page(w, r, status, "mediation_new.html", d)
}

// register registers the dispute of the form; true when it answered (a
// redirect to the new dispute), false when the form shows again with its
// problems.
func (h *HTTP) register(w http.ResponseWriter, r *http.Request, p *access.Principal, d *newData) bool {
	var es field.Errors
	if d.Unit == 0 {
		es.Add("unit", "required")
		d.Errors.add(d.Locale, "", es)
		return false
	}
	in := Input{Unit: d.Unit, Type: d.Type, Summary: d.Summary, Mediators: []string{d.Mediators}}
	if d.Incident != "" {
		n, err := strconv.ParseInt(d.Incident, 10, 64)
		if err != nil {
			n = -1 // refused by Register with the other problems
		}
		in.IncidentID = n
	}
	for _, pr := range d.Parties {
		in.Parties = append(in.Parties, PartyInput{Side: pr.Side, ResidentID: pr.ResidentID, Name: pr.Name, Gender: pr.Gender,
			IDNumber: pr.IDNumber, Phone: pr.Phone, Address: pr.Addr})
	}
	dis, err := h.S.Register(r.Context(), p, in)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/mediation/%d?new=1", dis.ID), http.StatusSeeOther)
		return true
	}
	if !errors.As(err, &es) {
		h.fail(w, r, err)
		return true
	}
	d.Errors.add(d.Locale, "", es)
	return false
}
