package division

import (
	"embed"
	"errors"
	"net/http"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the division pages, for the renderer.
func Templates() embed.FS { return templates }

// HTTP serves the division pages.
type HTTP struct {
	S *Service
	R *web.Renderer
}

// Routes registers the pages (mount behind login).
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /divisions", h.index)
	mux.HandleFunc("GET /divisions/search", h.search)
	mux.HandleFunc("GET /divisions/picker", h.picker)
	mux.HandleFunc("GET /divisions/{code}", h.unit)
	mux.HandleFunc("GET /divisions/{code}/children", h.children)
	mux.HandleFunc("POST /divisions/{code}/subs", h.createSub)
	mux.HandleFunc("POST /divisions/{code}/rename", h.rename)
	mux.HandleFunc("POST /divisions/{code}/retire", h.retire)
	mux.HandleFunc("POST /divisions/{code}/restore", h.restore)
}

// node is a tree row: a unit, its counts and whether it can be expanded.
type node struct {
	Division
	Counts   Counts
	HasKids  bool
	Viewable bool
}

type unitData struct {
	Unit      Division
	Counts    Counts
	Ancestors []node
	Children  []node
	CanManage bool
	ShowAll   bool
	SubKinds  []string
	Form      subForm
}

type subForm struct {
	Kind, Name  string
	Error       string // i18n key
	Field       string
	RenameError string
}

func (h *HTTP) code(w http.ResponseWriter, r *http.Request) (int64, bool) {
	c, err := Parse(r.PathValue("code"))
	if err != nil && r.PathValue("code") != "0" {
		h.R.Error(w, r, http.StatusNotFound, "")
		return 0, false
	}
	return c, true
}

func (h *HTTP) index(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	roots := p.Roots("division.view")
	if len(roots) == 0 {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	http.Redirect(w, r, "/divisions/"+codeParam(roots[0]), http.StatusSeeOther)
}

func codeParam(c int64) string {
	if c == 0 {
		return "0"
	}
	return Format(c)
}

func (h *HTTP) nodes(r *http.Request, parent Division, kids []Division) []node {
	p := access.From(r.Context())
	counts, _ := h.S.ChildCounts(r.Context(), parent, kids)
	var codes []int64
	for _, k := range kids {
		codes = append(codes, k.Code)
	}
	kidKids, _ := h.S.Store.CountChildren(r.Context(), codes, false)
	out := make([]node, len(kids))
	for i, k := range kids {
		out[i] = node{Division: k, Counts: counts[k.Code], HasKids: kidKids[k.Code] > 0, Viewable: p.CanAt("division.view", k.Code)}
	}
	return out
}

func (h *HTTP) load(w http.ResponseWriter, r *http.Request, code int64) (unitData, bool) {
	p := access.From(r.Context())
	ctx := r.Context()
	u, err := h.S.View(ctx, p, code)
	if err != nil {
		h.fail(w, r, err)
		return unitData{}, false
	}
	d := unitData{Unit: u, CanManage: p.CanAt("division.manage", code), SubKinds: SubKinds, ShowAll: r.URL.Query().Get("retired") == "1"}
	d.Counts, _ = h.S.Counts(ctx, code)
	if code != 0 {
		anc, _ := h.S.Store.Ancestors(ctx, code)
		for _, a := range anc {
			if a.Code != code {
				d.Ancestors = append(d.Ancestors, node{Division: a, Viewable: p.CanAt("division.view", a.Code)})
			}
		}
	}
	kids, err := h.S.Store.Children(ctx, code, d.ShowAll)
	if err != nil {
		h.fail(w, r, err)
		return unitData{}, false
	}
	d.Children = h.nodes(r, u, kids)
	return d, true
}

func (h *HTTP) unit(w http.ResponseWriter, r *http.Request) {
	code, ok := h.code(w, r)
	if !ok {
		return
	}
	if d, ok := h.load(w, r, code); ok {
		h.R.Page(w, r, http.StatusOK, "division_unit", d)
	}
}

func (h *HTTP) children(w http.ResponseWriter, r *http.Request) {
	code, ok := h.code(w, r)
	if !ok {
		return
	}
	p := access.From(r.Context())
	u, err := h.S.View(r.Context(), p, code)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	kids, err := h.S.Store.Children(r.Context(), code, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Partial(w, r, http.StatusOK, "division_unit", "tree_partial", h.nodes(r, u, kids))
}

type searchData struct {
	Q       string
	Results []Division
	Picker  string // the form field name when rendering the picker
}

func (h *HTTP) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := searchData{Q: q}
	if q != "" {
		res, err := h.S.Search(r.Context(), access.From(r.Context()), q, 50)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Results = res
	}
	if r.Header.Get("HX-Request") != "" {
		h.R.Partial(w, r, http.StatusOK, "division_search", "results_partial", d)
		return
	}
	h.R.Page(w, r, http.StatusOK, "division_search", d)
}

// picker answers the scope-aware division picker used in other forms: the
// units matching q inside the caller's scope, as radio buttons named after
// the form field.
func (h *HTTP) picker(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q") + r.URL.Query().Get("division_q"))
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "division"
	}
	d := searchData{Q: q, Picker: name}
	if q != "" {
		d.Results, _ = h.S.Search(r.Context(), access.From(r.Context()), q, 20)
	}
	h.R.Partial(w, r, http.StatusOK, "_division_picker", "picker_results", d)
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, db.ErrNotFound):
		h.R.Error(w, r, http.StatusNotFound, "")
	case errors.Is(err, ErrForbidden):
		h.R.Error(w, r, http.StatusForbidden, "")
	default:
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}

// formError renders the unit page again with the field error (422).
func (h *HTTP) formError(w http.ResponseWriter, r *http.Request, code int64, err error, f subForm) {
	var fe *FieldError
	if !errors.As(err, &fe) {
		h.fail(w, r, err)
		return
	}
	d, ok := h.load(w, r, code)
	if !ok {
		return
	}
	f.Error, f.Field = "division.error."+fe.Code, fe.Field
	d.Form = f
	h.R.Page(w, r, http.StatusUnprocessableEntity, "division_unit", d)
}

func (h *HTTP) createSub(w http.ResponseWriter, r *http.Request) {
	code, ok := h.code(w, r)
	if !ok {
		return
	}
	f := subForm{Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name")}
	d, err := h.S.CreateSub(r.Context(), access.From(r.Context()), code, f.Kind, f.Name)
	if err != nil {
		h.formError(w, r, code, err, f)
		return
	}
	http.Redirect(w, r, "/divisions/"+Format(d.Code)+"?created=1", http.StatusSeeOther)
}

func (h *HTTP) rename(w http.ResponseWriter, r *http.Request) {
	code, ok := h.code(w, r)
	if !ok {
		return
	}
	f := subForm{Name: r.PostFormValue("name")}
	if _, err := h.S.Rename(r.Context(), access.From(r.Context()), code, f.Name); err != nil {
		h.formError(w, r, code, err, f)
		return
	}
	http.Redirect(w, r, "/divisions/"+Format(code), http.StatusSeeOther)
}

func (h *HTTP) retire(w http.ResponseWriter, r *http.Request)  { h.setRetired(w, r, true) }
func (h *HTTP) restore(w http.ResponseWriter, r *http.Request) { h.setRetired(w, r, false) }

func (h *HTTP) setRetired(w http.ResponseWriter, r *http.Request, retire bool) {
	code, ok := h.code(w, r)
	if !ok {
		return
	}
	if _, err := h.S.SetRetired(r.Context(), access.From(r.Context()), code, retire); err != nil {
		h.formError(w, r, code, err, subForm{})
		return
	}
	http.Redirect(w, r, "/divisions/"+Format(code), http.StatusSeeOther)
}
