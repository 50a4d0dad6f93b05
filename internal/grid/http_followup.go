package grid

// The special-group follow-up pages (DG-17): the residents of a unit in a
// special group with their latest and next follow-up (GET /grid/followups),
// and one resident's follow-ups with the form of a new one (GET and POST
// /grid/followups/{resident}). Only principals with resident.special see
// them; to anyone else they do not exist (404). Every page view is a read
// the service audits.

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/registry"
)

func (h *HTTP) followupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /grid/followups", h.followupList)
	mux.HandleFunc("GET /grid/followups/{resident}", h.followupPage)
	mux.HandleFunc("POST /grid/followups/{resident}", h.followupPost)
}

// followupTag is a restricted tag as the pages show it.
type followupTag struct {
	Key, Label string
	Grade      string
	Since      int
}

// followupTags returns the restricted tags among tags, named in locale by
// the pack governing division.
func (h *HTTP) followupTags(division int64, tags []registry.TagValue, locale string) []followupTag {
	restricted := h.S.Registry.RestrictedTags(division)
	var out []followupTag
	for _, t := range tags {
		if !slices.Contains(restricted, t.Tag) {
			continue
		}
		out = append(out, followupTag{Key: t.Tag, Label: h.followupTagLabel(division, t.Tag, locale), Grade: t.Grade, Since: t.Since})
	}
	return out
}

// followupTagLabel names a tag in locale (its key when the pack has none).
func (h *HTTP) followupTagLabel(division int64, key, locale string) string {
	if pk := h.S.Packs.For(division); pk != nil && pk.Registry != nil {
		if t, ok := pk.Registry.Tag(key); ok {
			return t.Label.Get(locale)
		}
	}
	return key
}

// ---- the list ----

type followupRowView struct {
	FollowUpRow
	Tags     []followupTag
	LastName string // the label of the tag last followed up
}

type followupListData struct {
	Nav      patrolNav
	Unit     int64
	UnitName string
	Units    []patrolUnitOption
	View     string
	Views    []string
	Counts   FollowUpCounts
	Rows     []followupRowView
	Page     int
	More     bool
	Today    int
}

// Count is the size of a view.
func (d *followupListData) Count(view string) int {
	switch view {
	case FollowUpDue:
		return d.Counts.Due
	case FollowUpOverdue:
		return d.Counts.Overdue
	}
	return d.Counts.All
}

// Link is the list's address in view at page n.
func (d *followupListData) Link(view string, n int64) string {
	v := url.Values{"unit": {strconv.FormatInt(d.Unit, 10)}, "view": {view}}
	if n > 1 {
		v.Set("page", strconv.FormatInt(n, 10))
	}
	return "/grid/followups?" + v.Encode()
}

func (h *HTTP) followupList(w http.ResponseWriter, r *http.Request) {
	p, ok := h.patrolPrincipal(w, r, "resident.special")
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	loc := i18n.Negotiate(r)
	unit, ok := patrolUnitParam(p, "resident.special", q.Get("unit"))
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	d := &followupListData{Nav: newPatrolNav(p, "followups"), Unit: unit, UnitName: h.patrolUnitName(ctx, unit), View: q.Get("view"), Views: FollowUpViews, Today: h.S.Today()}
	if !slices.Contains(FollowUpViews, d.View) {
		d.View = FollowUpDue
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	rows, counts, more, err := h.S.FollowUpList(ctx, p, FollowUpFilter{Unit: unit, View: d.View, Offset: (d.Page - 1) * patrolPageSize, Limit: patrolPageSize})
	if err != nil {
		h.patrolFail(w, r, err)
		return
	}
	d.Counts, d.More = counts, more
	for _, row := range rows {
		v := followupRowView{FollowUpRow: row, Tags: h.followupTags(row.Division, row.Tags, loc)}
		if row.LastTag != "" {
			v.LastName = h.followupTagLabel(row.Division, row.LastTag, loc)
		}
		d.Rows = append(d.Rows, v)
	}
	if d.Units, err = h.patrolTreeUnits(ctx, p, "resident.special", loc, unit); err != nil {
		h.patrolFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "grid_followups.html", d)
}

// ---- one resident ----

type followupEntry struct {
	FollowUp
	TagLabel string
}

type followupData struct {
	Nav      patrolNav
	Resident registry.Resident
	Address  string
	UnitName string
	Tags     []followupTag
	Entries  []followupEntry
	Kinds    []string
	Values   map[string]string
	Errors   map[string]string
	Saved    bool
	Today    int
}

// E is the error message of a field.
func (d *followupData) E(name string) string { return d.Errors[name] }

// V is a field's value.
func (d *followupData) V(name string) string { return d.Values[name] }

// followupData reads the resident and the follow-ups (an audited read).
func (h *HTTP) followupData(r *http.Request, p *access.Principal, id int64) (*followupData, error) {
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	res, fs, err := h.S.ResidentFollowUps(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &followupData{Nav: newPatrolNav(p, "followups"), Resident: res, UnitName: (&incNames{s: h.S, wide: viewsAbove(p, "resident.special", res.Division)}).place(ctx, res.Division), Tags: h.followupTags(res.Division, res.Tags, loc),
		Kinds: FollowUpKinds, Values: map[string]string{}, Errors: map[string]string{}, Today: h.S.Today()}
	if res.HouseholdID != 0 {
		if hs, err := h.S.Registry.HouseholdsByID(ctx, p, []int64{res.HouseholdID}); err == nil {
			if hr, ok := hs[res.HouseholdID]; ok {
				d.Address = patrolPlace(hr.Household)
			}
		}
	}
	for _, f := range fs {
		d.Entries = append(d.Entries, followupEntry{FollowUp: f, TagLabel: h.followupTagLabel(res.Division, f.Tag, loc)})
	}
	d.Values["day"] = registry.FormatDate(d.Today)
	d.Values["kind"] = FollowUpVisit
	if len(d.Tags) == 1 {
		d.Values["tag"] = d.Tags[0].Key
	}
	return d, nil
}

func followupID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("resident"), 10, 64)
	return id, err == nil && id > 0
}

func (h *HTTP) followupPage(w http.ResponseWriter, r *http.Request) {
	p, ok := h.patrolPrincipal(w, r, "resident.special")
	if !ok {
		return
	}
	id, ok := followupID(r)
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	d, err := h.followupData(r, p, id)
	if err != nil {
		h.patrolFail(w, r, err)
		return
	}
	d.Saved = r.URL.Query().Get("saved") == "1"
	h.R.Page(w, r, http.StatusOK, "grid_followup.html", d)
}

func (h *HTTP) followupPost(w http.ResponseWriter, r *http.Request) {
	p, ok := h.patrolPrincipal(w, r, "resident.special")
	if !ok {
		return
	}
	id, ok := followupID(r)
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	loc := i18n.Negotiate(r)
	in := FollowUp{ResidentID: id, Tag: f.Get("tag"), Kind: f.Get("kind"), Note: f.Get("note")}
	var es Errors
	if s := f.Get("day"); s != "" {
		if day, ok := registry.ParseDate(s); ok {
			in.Day = day
		} else {
			es.Add("day", "followup_day_invalid")
		}
	}
	if s := f.Get("next_day"); s != "" {
		if day, ok := registry.ParseDate(s); ok {
			in.NextDay = day
		} else {
			es.Add("next_day", "followup_next_day")
		}
	}
	var err error = es
	if len(es) == 0 {
		_, err = h.S.Record(r.Context(), p, in)
	}
	if errors.As(err, &es) {
		d, derr := h.followupData(r, p, id)
		if derr != nil {
			h.patrolFail(w, r, derr)
			return
		}
		for _, k := range []string{"tag", "kind", "day", "next_day", "note"} {
			d.Values[k] = f.Get(k)
		}
		d.Errors = patrolErrors(loc, es)
		h.R.Page(w, r, http.StatusUnprocessableEntity, "grid_followup.html", d)
		return
	}
	if errors.Is(err, db.ErrNotFound) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if err != nil {
		h.patrolFail(w, r, err)
		return
	}
	http.Redirect(w, r, "/grid/followups/"+strconv.FormatInt(id, 10)+"?saved=1", http.StatusSeeOther)
}
