package governance

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// The document pages (behind login): a village's documents by kind with
// each kind's deadline and target (or, above a village, every village's
// standing), the form recording a new document with its first version,
// and a document's page — its versions, each with the meeting and the vote
// that adopted it, a line diff between two versions, and the form adding
// a version. The stylesheet is gov-elections.css (gd-* classes).

func (h *HTTP) documentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /governance/documents", h.documentList)
	mux.HandleFunc("GET /governance/documents/new", h.documentNewForm)
	mux.HandleFunc("POST /governance/documents/new", h.documentCreate)
	mux.HandleFunc("GET /governance/documents/{id}", h.documentPage)
	mux.HandleFunc("POST /governance/documents/{id}/versions", h.documentAddVersion)
}

// gdOverviewLimit bounds the villages an overview lists.
const gdOverviewLimit = 300

// gdErrorText translates a document field error (adoption_wrong_body
// names the body kind by its label in the village's pack).
func (h *HTTP) gdErrorText(locale string, village int64, e *field.Error) string {
	key := "gov.document.error." + e.Code
	switch {
	case e.Code == AdoptionWrongBody:
		return i18n.T(locale, key, h.elBodyLabel(village, e.Arg, locale))
	case e.Arg != "":
		return i18n.T(locale, key, e.Arg)
	}
	return i18n.T(locale, key)
}

func gdFieldLabel(locale, name string) string {
	switch name {
	case "village", "kind", "title", "text", "note", "agenda_id":
		return i18n.T(locale, "gov.document.field."+name)
	}
	return i18n.T(locale, "gov.document.field.other")
}

// gdKindLabel names a document kind of the pack at code.
func (h *HTTP) gdKindLabel(code int64, key, locale string) string {
	if k, ok := h.S.Rules(code).Document(key); ok {
		return k.Label.Get(locale)
	}
	return key
}

// ---- the list ----

type gdListData struct {
	Locale      string
	Villages    []division.Division
	Village     int64
	VillageName string
	CanManage   bool
	// one village: its kinds with their documents
	Kinds []gdKindView
	// above a village: every village's standing
	Overview []VillageDocumentStatus
	Today    int
}

type gdKindView struct {
	DocumentKindStatus
	Label string
	Docs  []Document
}

// Percent is the share of the target reached, for a progress bar (0–100).
func (k gdKindView) Percent() int {
	if k.Target <= 0 {
		return 0
	}
	return min(100, k.Documents*100/k.Target)
}

// Label names a kind for the overview's chips.
func (d *gdListData) Label(k DocumentKindStatus) string { return k.Kind.Label.Get(d.Locale) }

func (h *HTTP) documentList(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	d := gdListData{Locale: i18n.Negotiate(r), Today: h.S.Today()}
	var err error
	if d.Villages, err = h.villages(ctx, p, PermView, 500); err != nil {
		h.govFail(w, r, err)
		return
	}
	if v, err := strconv.ParseInt(r.URL.Query().Get("village"), 10, 64); err == nil && v > 0 {
		d.Village = v
	} else if len(d.Villages) == 1 {
		d.Village = d.Villages[0].Code
	}
	if d.Village == 0 {
		for _, root := range p.Roots(PermView) {
			rows, err := h.S.DocumentOverview(ctx, p, root, gdOverviewLimit-len(d.Overview))
			if err != nil {
				h.govFail(w, r, err)
				return
			}
			d.Overview = append(d.Overview, rows...)
		}
		h.R.Page(w, r, http.StatusOK, "gov_document_list.html", &d)
		return
	}
	if _, ok := VillageOf(d.Village); !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	d.VillageName = h.unitName(ctx, d.Village)
	d.CanManage = p.CanAt(PermManage, d.Village)
	status, err := h.S.DocumentStatus(ctx, p, d.Village)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	docs, err := h.S.Documents(ctx, p, d.Village)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	for _, st := range status {
		kv := gdKindView{DocumentKindStatus: st, Label: st.Kind.Label.Get(d.Locale)}
		for _, doc := range docs {
			if doc.Kind == st.Kind.Key {
				kv.Docs = append(kv.Docs, doc)
			}
		}
		d.Kinds = append(d.Kinds, kv)
	}
	// documents of a kind the pack no longer names
	for _, doc := range docs {
		if _, ok := h.S.Rules(d.Village).Document(doc.Kind); !ok {
			if n := len(d.Kinds); n == 0 || d.Kinds[n-1].Kind.Key != doc.Kind {
				d.Kinds = append(d.Kinds, gdKindView{DocumentKindStatus: DocumentKindStatus{Kind: policy.DocumentKind{Key: doc.Kind}, Target: 1},
					Label: doc.Kind})
			}
			k := &d.Kinds[len(d.Kinds)-1]
			k.Docs = append(k.Docs, doc)
			k.Documents++
		}
	}
	h.R.Page(w, r, http.StatusOK, "gov_document_list.html", &d)
}

// ---- the new document form ----

type gdNewData struct {
	Locale    string
	Villages  []division.Division
	Village   int64
	Kinds     []elOption
	Kind      string
	KindLabel string
	Adopted   string // the adopting body kind's label
	Options   []AdoptionOption
	V         map[string]string
	Errors    elFormErrors
}

// E is the message at a field.
func (d *gdNewData) E(name string) string { return d.Errors.At[name] }

// Ready tells whether the village and the kind are chosen.
func (d *gdNewData) Ready() bool { return d.Village != 0 && d.Kind != "" }

// OptionLabel describes an adopting agenda item.
func (d *gdNewData) OptionLabel(o AdoptionOption) string { return gdOptionLabel(d.Locale, o) }

func gdOptionLabel(locale string, o AdoptionOption) string {
	return fmt.Sprintf("%s %s · %s（%s）", calendar.FormatDay(o.Day), o.MeetingTitle, o.ItemTitle,
		i18n.T(locale, "gov.document.tally", o.For, o.Against, o.Abstain))
}

func (h *HTTP) gdNewBase(r *http.Request, p *access.Principal, village int64, kind string) (*gdNewData, error) {
	ctx := r.Context()
	d := &gdNewData{Locale: i18n.Negotiate(r), V: map[string]string{}, Errors: newElFormErrors()}
	var err error
	if d.Villages, err = h.villages(ctx, p, PermManage, 500); err != nil {
		return nil, err
	}
	if len(d.Villages) == 1 && village == 0 {
		village = d.Villages[0].Code
	}
	for _, v := range d.Villages {
		if v.Code == village {
			d.Village = village
		}
	}
	if d.Village == 0 {
		return d, nil
	}
	for _, k := range h.S.documentKinds(d.Village) {
		d.Kinds = append(d.Kinds, elOption{k.Key, k.Label.Get(d.Locale)})
		if k.Key == kind {
			d.Kind, d.KindLabel = kind, k.Label.Get(d.Locale)
			d.Adopted = h.elBodyLabel(d.Village, k.AdoptedBy, d.Locale)
		}
	}
	if d.Kind != "" {
		if d.Options, err = h.S.AdoptionOptions(ctx, p, d.Village, d.Kind, 0); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (h *HTTP) documentNewForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	if !p.Can(PermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	q := r.URL.Query()
	village, _ := strconv.ParseInt(q.Get("village"), 10, 64)
	d, err := h.gdNewBase(r, p, village, q.Get("kind"))
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	if d.KindLabel != "" {
		d.V["title"] = d.KindLabel
	}
	h.R.Page(w, r, http.StatusOK, "gov_document_new.html", d)
}

var gdFields = []string{"title", "text", "note", "agenda_id"}

func (h *HTTP) documentCreate(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	village, _ := strconv.ParseInt(f.Get("village"), 10, 64)
	agenda, _ := strconv.ParseInt(f.Get("agenda_id"), 10, 64)
	in := DocumentInput{Village: village, Kind: f.Get("kind"), Title: f.Get("title"),
		Version: VersionInput{Text: f.Get("text"), Note: f.Get("note"), AgendaID: agenda}}
	doc, err := h.S.CreateDocument(r.Context(), p, in)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/governance/documents/%d?done=created", doc.ID), http.StatusSeeOther)
		return
	}
	var es field.Errors
	if !errors.As(err, &es) {
		h.govFail(w, r, err)
		return
	}
	d, derr := h.gdNewBase(r, p, village, in.Kind)
	if derr != nil {
		h.govFail(w, r, derr)
		return
	}
	for _, k := range gdFields {
		d.V[k] = f.Get(k)
	}
	d.Errors.add(d.Locale, es, func(name string) string { return gdFieldLabel(d.Locale, name) },
		func(e *field.Error) string { return h.gdErrorText(d.Locale, village, e) })
	h.R.Page(w, r, http.StatusUnprocessableEntity, "gov_document_new.html", d)
}

// ---- a document ----

type gdPageData struct {
	D           Document
	VillageName string
	KindLabel   string
	Adopted     string
	Locale      string
	CanManage   bool
	Flash       string
	Versions    []DocumentVersion // newest first
	// the diff shown: from version From to version To
	From, To int
	Diff     []DiffLine
	Options  []AdoptionOption
	V        map[string]string
	Errors   elFormErrors
}

// E is the message at a field of the version form.
func (d *gdPageData) E(name string) string { return d.Errors.At[name] }

// OptionLabel describes an adopting agenda item.
func (d *gdPageData) OptionLabel(o AdoptionOption) string { return gdOptionLabel(d.Locale, o) }

// Tally writes a version's vote.
func (d *gdPageData) Tally(v DocumentVersion) string {
	return i18n.T(d.Locale, "gov.document.tally", v.For, v.Against, v.Abstain)
}

// Attendance writes a version's meeting's attendance.
func (d *gdPageData) Attendance(v DocumentVersion) string {
	return i18n.T(d.Locale, "gov.document.attendance", v.Members, v.Present)
}

func (h *HTTP) gdData(r *http.Request, p *access.Principal, id int64) (*gdPageData, error) {
	ctx := r.Context()
	doc, err := h.S.GetDocument(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &gdPageData{D: doc, Locale: i18n.Negotiate(r), CanManage: p.CanAt(PermManage, doc.Division), V: map[string]string{},
		Errors: newElFormErrors()}
	d.VillageName = h.unitName(ctx, doc.Division)
	d.KindLabel = h.gdKindLabel(doc.Division, doc.Kind, d.Locale)
	if k, ok := h.S.Rules(doc.Division).Document(doc.Kind); ok {
		d.Adopted = h.elBodyLabel(doc.Division, k.AdoptedBy, d.Locale)
	}
	for i := len(doc.Versions) - 1; i >= 0; i-- {
		d.Versions = append(d.Versions, doc.Versions[i])
	}
	q := r.URL.Query()
	if q.Get("done") == "created" || q.Get("done") == "version" {
		d.Flash = q.Get("done")
	}
	d.To, _ = strconv.Atoi(q.Get("to"))
	d.From, _ = strconv.Atoi(q.Get("from"))
	if d.To > 0 {
		if d.From <= 0 {
			d.From = d.To - 1
		}
		var a, b *DocumentVersion
		for i := range doc.Versions {
			switch doc.Versions[i].Version {
			case d.From:
				a = &doc.Versions[i]
			case d.To:
				b = &doc.Versions[i]
			}
		}
		if a != nil && b != nil {
			d.Diff = Diff(a.Text, b.Text)
		} else {
			d.From, d.To = 0, 0
		}
	}
	if d.CanManage {
		if d.Options, err = h.S.AdoptionOptions(ctx, p, doc.Division, doc.Kind, doc.ID); err != nil {
			return nil, err
		}
		d.V["text"] = doc.Current.Text
	}
	return d, nil
}

func (h *HTTP) gdID(w http.ResponseWriter, r *http.Request) (*access.Principal, int64, bool) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return nil, 0, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, 0, false
	}
	return p, id, true
}

func (h *HTTP) documentPage(w http.ResponseWriter, r *http.Request) {
	p, id, ok := h.gdID(w, r)
	if !ok {
		return
	}
	d, err := h.gdData(r, p, id)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "gov_document.html", d)
}

func (h *HTTP) documentAddVersion(w http.ResponseWriter, r *http.Request) {
	p, id, ok := h.gdID(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	agenda, _ := strconv.ParseInt(f.Get("agenda_id"), 10, 64)
	v, err := h.S.AddVersion(r.Context(), p, id, VersionInput{Text: f.Get("text"), Note: f.Get("note"), AgendaID: agenda})
	if err == nil {
		to := ""
		if v.Version > 1 {
			to = "&to=" + strconv.Itoa(v.Version)
		}
		http.Redirect(w, r, fmt.Sprintf("/governance/documents/%d?done=version%s", id, to), http.StatusSeeOther)
		return
	}
	var es field.Errors
	if !errors.As(err, &es) {
		h.govFail(w, r, err)
		return
	}
	d, derr := h.gdData(r, p, id)
	if derr != nil {
		h.govFail(w, r, derr)
		return
	}
	for _, k := range gdFields {
		d.V[k] = strings.TrimRight(f.Get(k), " ")
	}
	d.Errors.add(d.Locale, es, func(name string) string { return gdFieldLabel(d.Locale, name) },
		func(e *field.Error) string { return h.gdErrorText(d.Locale, d.D.Division, e) })
	h.R.Page(w, r, http.StatusUnprocessableEntity, "gov_document.html", d)
}
