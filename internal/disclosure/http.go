package disclosure

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are disclosure's pages, for the renderer (register them with
// Funcs).
func Templates() embed.FS { return templates }

// Funcs are the template funcs disclosure's pages use besides the base
// ones.
func Funcs() template.FuncMap {
	return template.FuncMap{
		// yuan writes fen as yuan: 123456 → 1,234.56.
		"yuan": FormatYuan,
		// yuanIn writes fen as a form field holds it: 123450 → 1234.50.
		"yuanIn": YuanInput,
		// ptext is a pack's text in the page's locale: {{ptext .Label $.Locale}}.
		"ptext": func(t policy.Text, locale string) string { return t.Get(locale) },
		// plabel names a period key: {{plabel "2026-Q4" $.Locale}} → 2026年第四季度.
		"plabel": PeriodLabel,
		// pday writes a YYYYMMDD day as 2006-01-02.
		"pday": calendar.FormatDay,
		// barStep rounds a percentage to tens (the progress bars' classes).
		"barStep": barStep,
		// sections lists the portal's sections in their order.
		"sections": func() []string { return KioskSections },
		// scores are the rating form's choices, best first.
		"scores": func() []int { return []int{5, 4, 3, 2, 1} },
	}
}

// percent writes a share as a percentage with one decimal ("—" when ok is
// false).
func percent(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// HTTP serves the staff pages (behind login): the village's disclosure
// (notices, the publish forms, the schedule's compliance and the township's
// roll-up), its finance (entries, budget against actual, the ledgers) and
// its asset register.
type HTTP struct {
	S *Service
	R *web.Renderer
}

// Routes registers the staff pages.
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /disclosure", h.overview)
	mux.HandleFunc("POST /disclosure/notices", h.publish)
	mux.HandleFunc("GET /disclosure/notices/{id}", h.notice)
	mux.HandleFunc("POST /disclosure/notices/{id}/withdraw", h.withdraw)
	mux.HandleFunc("POST /disclosure/statements", h.publishStatement)
	mux.HandleFunc("GET /disclosure/finance", h.finance)
	mux.HandleFunc("POST /disclosure/finance/entries", h.addEntry)
	mux.HandleFunc("POST /disclosure/finance/budgets", h.saveBudgets)
	mux.HandleFunc("GET /disclosure/ledgers/{kind}", h.ledger)
	mux.HandleFunc("GET /disclosure/assets", h.assets)
	mux.HandleFunc("POST /disclosure/assets", h.addAsset)
	mux.HandleFunc("POST /disclosure/assets/{id}", h.updateAsset)
}

// viewer returns the signed-in principal holding governance.view
// somewhere, or answers 404.
func (h *HTTP) viewer(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can(PermView) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, false
	}
	return p, true
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, db.ErrNotFound):
		h.R.Error(w, r, http.StatusNotFound, "")
	case errors.Is(err, ErrForbidden):
		h.R.Error(w, r, http.StatusForbidden, "")
	case errors.Is(err, ErrWithdrawn):
		h.R.Error(w, r, http.StatusConflict, "pub.error.withdrawn")
	default:
		slog.ErrorContext(r.Context(), "disclosure: request failed", "path", r.URL.Path, "err", err)
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}

// errorText translates a field error.
func errorText(locale string, e *field.Error) string {
	if e.Arg == "" {
		return i18n.T(locale, "fin.error."+e.Code)
	}
	return i18n.T(locale, "fin.error."+e.Code, e.Arg)
}

// formErrors is a form's problems: the message at each field, and the list
// at the top of the form, each naming its field (金额：不能为零).
type formErrors struct {
	At   map[string]string
	List []string
}

func newFormErrors() formErrors { return formErrors{At: map[string]string{}} }

// add records es; label names a field for the list at the top.
func (fe *formErrors) add(locale string, es field.Errors, label func(string) string) {
	for _, e := range es {
		msg := errorText(locale, e)
		if _, dup := fe.At[e.Field]; !dup {
			fe.At[e.Field] = msg
		}
		fe.List = append(fe.List, label(e.Field)+i18n.T(locale, "fin.colon")+msg)
	}
}

// fieldLabel names an input field of the forms.
func fieldLabel(locale string) func(string) string {
	return func(name string) string { return i18n.T(locale, "fin.field."+name) }
}

// ---- the village chosen ----

// scope is the village a staff page shows and what surrounds it: the
// villages the principal may choose from, and the unit of the roll-up when
// the principal's scope is above a village.
type scope struct {
	Village   division.Division // Code 0: none chosen
	Villages  []division.Division
	Unit      division.Division // the roll-up's unit (Code 0: none)
	CanManage bool
	Portal    string // the village's portal path
	Code      string // its 12-digit code
}

// maxPicker bounds the villages offered in the picker.
const maxPicker = 500

// parseUnit reads a division code as the pages write it: 15 digits, or
// the 12-digit statistical code.
func parseUnit(s string) int64 {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	if len(s) == 12 {
		n *= 1000
	}
	return n
}

// scopeOf chooses the village of a request (query or form value village):
// the one asked for when the principal sees it, else the principal's only
// village, else none (the page then offers the villages and, for a
// township's or a county's staff, the roll-up).
func (h *HTTP) scopeOf(r *http.Request, p *access.Principal, asked string) (*scope, error) {
	ctx := r.Context()
	sc := &scope{}
	roots := p.Roots(PermView)
	for _, rg := range p.Ranges(PermView) {
		vs, err := h.S.Divisions.InRange(ctx, rg.Lo, rg.Hi, 5, 5)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if !v.Retired && len(sc.Villages) < maxPicker {
				sc.Villages = append(sc.Villages, v)
			}
		}
	}
	code := parseUnit(asked)
	if v, ok := VillageOf(code); ok && p.CanAt(PermView, v) {
		d, err := h.S.Village(ctx, v)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
		sc.Village = d
	} else if code != 0 {
		h.S.deny(ctx, "pub_notice", 0, code)
	}
	if sc.Village.Code == 0 && len(sc.Villages) == 1 {
		sc.Village = sc.Villages[0]
	}
	if sc.Village.Code == 0 && len(roots) > 0 && ids.Level(roots[0]) >= 1 && ids.Level(roots[0]) <= 4 {
		if d, err := h.S.Divisions.Get(ctx, roots[0]); err == nil {
			sc.Unit = d
		}
	}
	if sc.Village.Code != 0 {
		sc.CanManage = p.CanAt(PermManage, sc.Village.Code)
		sc.Code = PortalCode(sc.Village.Code)
		sc.Portal = "/public/" + sc.Code
	}
	return sc, nil
}

// backTo is a staff page of the village with a flash.
func backTo(path string, village int64, extra ...string) string {
	v := url.Values{}
	v.Set("village", strconv.FormatInt(village, 10))
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			v.Set(extra[i], extra[i+1])
		}
	}
	return path + "?" + v.Encode()
}

// flashes are the done= values the pages announce.
var flashes = map[string]string{
	"published":  web.Msg("pub.done.published"),
	"statement":  web.Msg("pub.done.statement"),
	"withdrawn":  web.Msg("pub.done.withdrawn"),
	"entry":      web.Msg("fin.done.entry"),
	"budget":     web.Msg("fin.done.budget"),
	"asset":      web.Msg("fin.done.asset"),
	"asset_edit": web.Msg("fin.done.asset_edit"),
}

func flashOf(r *http.Request) string { return flashes[r.URL.Query().Get("done")] }

// ---- the overview: notices, publishing, compliance ----

type itemOption struct {
	Key, Label, Every, Source string
	Example                   string // a period of its kind (the current one)
}

type noticeRow struct {
	Notice
	ItemLabel, PeriodLabel string
	Statement              bool
}

type overviewData struct {
	*scope
	Locale     string
	Flash      string
	Items      []itemOption
	Notices    []noticeRow
	Compliance Compliance
	RollUp     []VillageCompliance
	// the notice form and the statement form, with their problems
	N          NoticeInput
	NErrors    formErrors
	Period     string
	SErrors    formErrors
	Finance    bool   // the pack has a finance item
	LastPeriod string // the finance item's last ended period, suggested
	Today      string
}

func (h *HTTP) overviewData(r *http.Request, p *access.Principal, asked string) (*overviewData, error) {
	sc, err := h.scopeOf(r, p, asked)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	d := &overviewData{scope: sc, Locale: i18n.Negotiate(r), Flash: flashOf(r), NErrors: newFormErrors(), SErrors: newFormErrors(),
		Today: calendar.FormatDay(h.S.Today())}
	if sc.Village.Code == 0 {
		if sc.Unit.Code != 0 {
			if d.RollUp, err = h.S.RollUp(ctx, p, sc.Unit.Code); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	v := sc.Village.Code
	today := h.S.Today()
	if g := h.S.Rules(v); g != nil {
		for _, it := range g.Disclosure {
			o := itemOption{Key: it.Key, Label: it.Label.Get(d.Locale), Every: it.Every, Source: it.Source}
			if slices.Contains(policy.Cadences, it.Every) {
				o.Example = PeriodOf(it.Every, today).Key()
			}
			if it.Source == policy.SourceFinance {
				d.Finance = true
				d.LastPeriod = PeriodOf(it.Every, today).Prev().Key()
				if !slices.Contains(policy.Cadences, it.Every) {
					d.LastPeriod = PeriodOf(policy.EveryMonth, today).Prev().Key()
				}
				continue
			}
			d.Items = append(d.Items, o)
		}
	}
	d.Period = d.LastPeriod
	ns, err := h.S.Notices(ctx, p, NoticeFilter{Village: v, Withdrawn: true, Limit: 100})
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		it, _ := h.S.Item(v, n.Item)
		d.Notices = append(d.Notices, noticeRow{Notice: n, ItemLabel: h.S.ItemLabel(v, n.Item, d.Locale),
			PeriodLabel: PeriodLabel(n.Period, d.Locale), Statement: it.Source == policy.SourceFinance})
	}
	if d.Compliance, err = h.S.Compliance(ctx, p, v); err != nil {
		return nil, err
	}
	return d, nil
}

func (h *HTTP) overview(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	d, err := h.overviewData(r, p, r.URL.Query().Get("village"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "fin_disclosure.html", d)
}

func (h *HTTP) publish(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	in := NoticeInput{Village: parseUnit(f.Get("village")), Item: f.Get("item"), Period: f.Get("period"), Title: f.Get("title"), Body: f.Get("body")}
	n, err := h.S.Publish(r.Context(), p, in)
	if err == nil {
		http.Redirect(w, r, backTo("/disclosure", n.Division, "done", "published"), http.StatusSeeOther)
		return
	}
	var es field.Errors
	if !errors.As(err, &es) {
		h.fail(w, r, err)
		return
	}
	d, err := h.overviewData(r, p, f.Get("village"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.N = in
	d.NErrors.add(d.Locale, es, fieldLabel(d.Locale))
	h.R.Page(w, r, http.StatusUnprocessableEntity, "fin_disclosure.html", d)
}

func (h *HTTP) publishStatement(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	n, err := h.S.PublishStatement(r.Context(), p, parseUnit(f.Get("village")), f.Get("period"))
	if err == nil {
		http.Redirect(w, r, backTo("/disclosure", n.Division, "done", "statement"), http.StatusSeeOther)
		return
	}
	var es field.Errors
	if !errors.As(err, &es) {
		h.fail(w, r, err)
		return
	}
	d, err := h.overviewData(r, p, f.Get("village"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Period = f.Get("period")
	d.SErrors.add(d.Locale, es, fieldLabel(d.Locale))
	h.R.Page(w, r, http.StatusUnprocessableEntity, "fin_disclosure.html", d)
}

func (h *HTTP) withdraw(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	n, err := h.S.Withdraw(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, backTo("/disclosure", n.Division, "done", "withdrawn"), http.StatusSeeOther)
}

type noticeData struct {
	*scope
	N           Notice
	ItemLabel   string
	PeriodLabel string
	Locale      string
}

func (h *HTTP) notice(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	n, err := h.S.Notice(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sc, err := h.scopeOf(r, p, strconv.FormatInt(n.Division, 10))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	loc := i18n.Negotiate(r)
	h.R.Page(w, r, http.StatusOK, "fin_notice.html", &noticeData{scope: sc, N: n, Locale: loc,
		ItemLabel: h.S.ItemLabel(n.Division, n.Item, loc), PeriodLabel: PeriodLabel(n.Period, loc)})
}

// ---- ledgers ----

func (h *HTTP) ledger(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	kind := r.PathValue("kind")
	kind = strings.TrimSuffix(kind, ".xlsx")
	if !slices.Contains(Ledgers, kind) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	q := r.URL.Query()
	year, _ := strconv.Atoi(q.Get("year"))
	if year < 1990 || year > 2200 {
		year = h.S.Today() / 10000
	}
	ctx := r.Context()
	code := parseUnit(q.Get("village"))
	v, err := h.S.viewable(ctx, p, "fin_ledger", code)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vd, err := h.S.Village(ctx, v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	loc := i18n.Negotiate(r)
	// rendered to memory first, so an error still gets an error page
	var buf bytes.Buffer
	if _, err := h.S.Ledger(ctx, p, v, kind, year, loc, &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	name := LedgerFileName(loc, kind, vd.Name, year)
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ledger.xlsx"; filename*=UTF-8''%s`, url.PathEscape(name)))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}
