package disclosure

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// The finance page (/disclosure/finance): the year's entries with filters
// and the form to add one, the budget against actual with the budget form,
// and the XLSX ledgers. The asset register (/disclosure/assets).

type categoryOption struct{ Key, Label, Kind, Account string }

type accountOption struct {
	Key, Label string
	Categories []categoryOption
}

type entryRow struct {
	Entry
	AccountLabel, CategoryLabel string
}

type financeData struct {
	*scope
	Locale   string
	Flash    string
	Year     int
	Years    []int
	Accounts []accountOption
	// the filter
	Account, Category, Kind string
	PageNo                  int
	Prev, Next              string
	Entries                 EntryPage
	Rows                    []entryRow
	Report                  BudgetReport
	// the entry form and the budget form, with their problems
	E       EntryInput
	EErrors formErrors
	B       map[string]string // budget amounts by BudgetKey
	BErrors formErrors
	Today   string
}

// Err is the message of a budget line's field.
func (d *financeData) BudgetErr(account, category string) string {
	return d.BErrors.At[BudgetKey(account, category)]
}

// BudgetVal is the budget form's value of a line.
func (d *financeData) BudgetVal(account, category string) string {
	return d.B[BudgetKey(account, category)]
}

const entriesPageSize = 50

func (h *HTTP) financeData(r *http.Request, p *access.Principal, q url.Values) (*financeData, error) {
	sc, err := h.scopeOf(r, p, q.Get("village"))
	if err != nil {
		return nil, err
	}
	today := h.S.Today()
	d := &financeData{scope: sc, Locale: i18n.Negotiate(r), Flash: flashOf(r), EErrors: newFormErrors(), BErrors: newFormErrors(),
		B: map[string]string{}, Account: q.Get("account"), Category: q.Get("category"), Kind: q.Get("kind"),
		Today: calendar.FormatDay(today)}
	d.Year, _ = strconv.Atoi(q.Get("year"))
	thisYear := today / 10000
	if d.Year < thisYear-BudgetYears || d.Year > thisYear+1 {
		d.Year = thisYear
	}
	for y := thisYear + 1; y >= thisYear-BudgetYears; y-- {
		d.Years = append(d.Years, y)
	}
	if d.Kind != policy.Income && d.Kind != policy.Expense {
		d.Kind = ""
	}
	d.PageNo, _ = strconv.Atoi(q.Get("page"))
	d.PageNo = max(d.PageNo, 1)
	if sc.Village.Code == 0 {
		return d, nil
	}
	v := sc.Village.Code
	f := h.S.Finance(v)
	for _, a := range f.Accounts {
		ao := accountOption{Key: a.Key, Label: a.Label.Get(d.Locale)}
		for _, c := range f.Categories {
			if c.Account == a.Key {
				ao.Categories = append(ao.Categories, categoryOption{Key: c.Key, Label: c.Label.Get(d.Locale), Kind: c.Kind, Account: a.Key})
			}
		}
		d.Accounts = append(d.Accounts, ao)
	}
	ctx := r.Context()
	filter := EntryFilter{Village: v, From: d.Year*10000 + 101, To: d.Year*10000 + 1231, Account: d.Account, Category: d.Category,
		Kind: d.Kind, Offset: (d.PageNo - 1) * entriesPageSize, Limit: entriesPageSize}
	if d.Entries, err = h.S.Entries(ctx, p, filter); err != nil {
		return nil, err
	}
	for _, e := range d.Entries.Entries {
		d.Rows = append(d.Rows, entryRow{Entry: e, AccountLabel: h.S.AccountLabel(v, e.Account, d.Locale),
			CategoryLabel: h.S.CategoryLabel(v, e.Category, d.Locale)})
	}
	link := func(page int) string {
		vals := url.Values{"village": {strconv.FormatInt(v, 10)}, "year": {strconv.Itoa(d.Year)}}
		for k, x := range map[string]string{"account": d.Account, "category": d.Category, "kind": d.Kind} {
			if x != "" {
				vals.Set(k, x)
			}
		}
		if page > 1 {
			vals.Set("page", strconv.Itoa(page))
		}
		return "/disclosure/finance?" + vals.Encode()
	}
	if d.PageNo > 1 {
		d.Prev = link(d.PageNo - 1)
	}
	if d.Entries.More {
		d.Next = link(d.PageNo + 1)
	}
	if d.Report, err = h.S.Budget(ctx, p, v, d.Year); err != nil {
		return nil, err
	}
	for _, a := range d.Report.Accounts {
		for _, l := range append(append([]BudgetLine(nil), a.Income...), a.Expense...) {
			d.B[BudgetKey(a.Account, l.Category)] = YuanInput(l.Budget)
		}
	}
	return d, nil
}

func (h *HTTP) finance(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	d, err := h.financeData(r, p, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "fin_finance.html", d)
}

func (h *HTTP) addEntry(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	in := EntryInput{Village: parseUnit(f.Get("village")), Account: f.Get("account"), Category: f.Get("category"), Day: f.Get("day"),
		Amount: f.Get("amount"), Summary: f.Get("summary"), Voucher: f.Get("voucher")}
	e, err := h.S.AddEntry(r.Context(), p, in)
	if err == nil {
		http.Redirect(w, r, backTo("/disclosure/finance", e.Division, "year", strconv.Itoa(e.Day/10000), "done", "entry"), http.StatusSeeOther)
		return
	}
	var es field.Errors
	if !errors.As(err, &es) {
		h.fail(w, r, err)
		return
	}
	d, err := h.financeData(r, p, url.Values{"village": {f.Get("village")}, "year": {f.Get("year")}})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.E = in
	d.EErrors.add(d.Locale, es, fieldLabel(d.Locale))
	h.R.Page(w, r, http.StatusUnprocessableEntity, "fin_finance.html", d)
}

func (h *HTTP) saveBudgets(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	village := parseUnit(f.Get("village"))
	year, _ := strconv.Atoi(f.Get("year"))
	amounts := map[string]string{}
	for k, vs := range f {
		if key, ok := strings.CutPrefix(k, "b."); ok && len(vs) > 0 {
			amounts[key] = vs[0]
		}
	}
	_, err := h.S.SetBudgets(r.Context(), p, village, year, amounts)
	if err == nil {
		http.Redirect(w, r, backTo("/disclosure/finance", village, "year", strconv.Itoa(year), "done", "budget")+"#budget", http.StatusSeeOther)
		return
	}
	var es field.Errors
	if !errors.As(err, &es) {
		h.fail(w, r, err)
		return
	}
	d, err := h.financeData(r, p, url.Values{"village": {f.Get("village")}, "year": {f.Get("year")}})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for k, v := range amounts {
		d.B[k] = v
	}
	d.BErrors.add(d.Locale, es, func(name string) string {
		acc, cat, ok := strings.Cut(name, "/")
		if !ok {
			return i18n.T(d.Locale, "fin.field."+name)
		}
		return h.S.AccountLabel(d.Village.Code, acc, d.Locale) + " · " + h.S.CategoryLabel(d.Village.Code, cat, d.Locale)
	})
	h.R.Page(w, r, http.StatusUnprocessableEntity, "fin_finance.html", d)
}

// ---- the asset register ----

type assetRow struct {
	Asset
	KindLabel string
}

type assetsData struct {
	*scope
	Locale string
	Flash  string
	All    bool
	Kinds  []categoryOption
	Rows   []assetRow
	Total  int64 // the book value of the assets held
	// the form that failed: 0 for the new asset's, else the asset's id
	Failed int64
	A      AssetInput
	Retire bool
	Errors formErrors
	Today  string
}

// Err is a field's message when form id (an asset's id, 0 for the new
// asset's form) failed.
func (d *assetsData) Err(id any, name string) string {
	var n int64
	switch v := id.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	default:
		return ""
	}
	if d.Failed == n {
		return d.Errors.At[name]
	}
	return ""
}

func (h *HTTP) assetsData(r *http.Request, p *access.Principal, village string, all bool) (*assetsData, error) {
	sc, err := h.scopeOf(r, p, village)
	if err != nil {
		return nil, err
	}
	d := &assetsData{scope: sc, Locale: i18n.Negotiate(r), Flash: flashOf(r), All: all, Errors: newFormErrors(), Failed: -1}
	if sc.Village.Code == 0 {
		return d, nil
	}
	v := sc.Village.Code
	for _, k := range h.S.Finance(v).AssetKinds {
		d.Kinds = append(d.Kinds, categoryOption{Key: k.Key, Label: k.Label.Get(d.Locale)})
	}
	as, err := h.S.Assets(r.Context(), p, v, all)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		d.Rows = append(d.Rows, assetRow{Asset: a, KindLabel: h.S.AssetKindLabel(v, a.Kind, d.Locale)})
		if !a.Retired() {
			d.Total += a.Value
		}
	}
	return d, nil
}

func (h *HTTP) assets(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	d, err := h.assetsData(r, p, q.Get("village"), q.Get("all") == "1")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "fin_assets.html", d)
}

func assetInput(f url.Values) AssetInput {
	return AssetInput{Village: parseUnit(f.Get("village")), Kind: f.Get("kind"), Name: f.Get("name"), Quantity: f.Get("quantity"),
		Value: f.Get("value"), Acquired: f.Get("acquired"), Status: f.Get("status"), Note: f.Get("note")}
}

func (h *HTTP) addAsset(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	in := assetInput(r.PostForm)
	a, err := h.S.AddAsset(r.Context(), p, in)
	if err == nil {
		http.Redirect(w, r, backTo("/disclosure/assets", a.Division, "done", "asset"), http.StatusSeeOther)
		return
	}
	h.assetFailed(w, r, p, err, 0, in, false)
}

func (h *HTTP) updateAsset(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	in := assetInput(f)
	retire := f.Get("retire") == "1"
	a, err := h.S.UpdateAsset(r.Context(), p, id, in, retire, f.Get("retired"))
	if err == nil {
		http.Redirect(w, r, backTo("/disclosure/assets", a.Division, "done", "asset_edit", "all", boolParam(a.Retired())), http.StatusSeeOther)
		return
	}
	h.assetFailed(w, r, p, err, id, in, retire)
}

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return ""
}

func (h *HTTP) assetFailed(w http.ResponseWriter, r *http.Request, p *access.Principal, err error, id int64, in AssetInput, retire bool) {
	var es field.Errors
	if !errors.As(err, &es) {
		h.fail(w, r, err)
		return
	}
	d, err := h.assetsData(r, p, r.PostFormValue("village"), true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Failed, d.A, d.Retire = id, in, retire
	d.Errors.add(d.Locale, es, fieldLabel(d.Locale))
	h.R.Page(w, r, http.StatusUnprocessableEntity, "fin_assets.html", d)
}
