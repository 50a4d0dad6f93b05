package window

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
)

// ---- the dashboard: GET /window/dashboard?unit=CODE&from=YYYY-MM&to=YYYY-MM ----

type dashData struct {
	F                Figures
	Unit             string // the unit's code as the URLs carry it
	UnitName         string
	From, To         string // YYYY-MM
	Query            string // unit, from and to, URL-encoded, for links
	Crumbs           []dashCrumb
	Error            string // catalogue key of a problem with the months asked for
	Categories       []dashRow
	Channels         []dashRow
	Items            []dashRow
	Children         []dashUnit
	Own              *dashUnit
	Ratings          []dashRating
	Months           []dashMonth
	Today            string // YYYY-MM-DD of the open-overdue count
	Charts           dashCharts
	CanIntake        bool
	CanManage        bool
	CanLedger        bool
	ChildrenLevelKey string // catalogue key naming the children's level
}

type dashCrumb struct {
	Href, Name string
}

type dashRow struct {
	Row
	Label string
}

type dashUnit struct {
	Unit
	Href        string // drill-down
	OverdueHref string
}

type dashMonth struct {
	Month
	Label string // YYYY-MM
}

type dashRating struct {
	Level int
	N     int64
	Share Ratio
}

// dashCharts are the chart data charts.js turns into ECharts options; the
// page carries each as JSON in a <script type="application/json"> (data,
// not code: the CSP allows no inline script).
type dashCharts struct {
	Months, Categories, Channels, Ratings, Children chartSpec
}

// chartSpec is one chart for static/charts.js.
type chartSpec struct {
	Kind       string        `json:"kind"`                 // bar, hbar, pie
	Categories []string      `json:"categories,omitempty"` // x (or y for hbar) axis labels
	Series     []chartSeries `json:"series"`
	Percent    bool          `json:"percent,omitempty"` // values are percentages
	Title      string        `json:"title"`             // accessible name of the chart
}

type chartSeries struct {
	Name string     `json:"name"`
	Type string     `json:"type,omitempty"` // line or bar (default: the chart's kind)
	Data []*float64 `json:"data,omitempty"` // null: no value
	Pie  []pieSlice `json:"pie,omitempty"`
}

type pieSlice struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

func num(v int64) *float64 { f := float64(v); return &f }

func pct(r Ratio) *float64 {
	if !r.Valid() {
		return nil
	}
	f := float64(int64(r.Value()*1000+0.5)) / 10
	return &f
}

// formatPeriod writes YYYYMM as YYYY-MM.
func formatPeriod(p int) string { return fmt.Sprintf("%04d-%02d", p/100, p%100) }

// parsePeriod reads a month as YYYY-MM, YYYY-M, YYYY/MM or YYYYMM.
func parsePeriod(s string) (int, bool) {
	s = strings.TrimSpace(s)
	var y, m int
	if a, b, ok := strings.Cut(strings.ReplaceAll(s, "/", "-"), "-"); ok {
		var err1, err2 error
		y, err1 = strconv.Atoi(a)
		m, err2 = strconv.Atoi(b)
		if err1 != nil || err2 != nil || len(a) != 4 {
			return 0, false
		}
	} else if len(s) == 6 {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, false
		}
		y, m = n/100, n%100
	} else {
		return 0, false
	}
	p := y*100 + m
	return p, ValidPeriod(p)
}

// dashboardUnit is the unit the dashboard shows: ?unit=CODE (6, 9, 12 or 15
// digits), else the user's first subtree with window.view.
func dashboardUnit(p *access.Principal, q url.Values) (int64, bool) {
	if s := strings.TrimSpace(q.Get("unit")); s != "" {
		if s == "0" {
			return division.Root, true
		}
		u, err := division.Parse(s)
		return u, err == nil
	}
	roots := p.Roots("window.view")
	if len(roots) == 0 {
		return 0, false
	}
	return roots[0], true
}

func (h *HTTP) dashboard(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	q := r.URL.Query()
	unit, ok := dashboardUnit(p, q)
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	thisMonth := period(h.S.Today())
	from, to := thisMonth/100*100+1, thisMonth
	d := &dashData{CanIntake: p.Can("window.intake"), CanManage: p.Can("window.manage")}
	status := http.StatusOK
	if s := q.Get("from"); s != "" {
		if v, ok := parsePeriod(s); ok {
			from = v
		} else {
			d.Error = "window.fig.error.period"
		}
	}
	if s := q.Get("to"); s != "" {
		if v, ok := parsePeriod(s); ok {
			to = v
		} else {
			d.Error = "window.fig.error.period"
		}
	}
	if from > to || periodsBetween(from, to) > MaxFigureMonths {
		d.Error = "window.fig.error.period"
	}
	if d.Error != "" {
		status = http.StatusUnprocessableEntity
		from, to = thisMonth/100*100+1, thisMonth
	}
	f, err := h.S.Figures(ctx, p, unit, from, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.F, d.From, d.To = f, formatPeriod(from), formatPeriod(to)
	d.Today = fmt.Sprintf("%04d-%02d-%02d", f.Today/10000, f.Today/100%100, f.Today%100)
	for _, m := range f.Months {
		d.Months = append(d.Months, dashMonth{Month: m, Label: formatPeriod(m.Period)})
	}
	d.Unit = strconv.FormatInt(unit, 10)
	d.UnitName = f.UnitName
	if unit == division.Root {
		d.UnitName = i18n.T(loc, "window.fig.country")
	}
	d.CanLedger = h.Jobs != nil
	link := func(code int64) string {
		v := url.Values{"unit": {strconv.FormatInt(code, 10)}, "from": {d.From}, "to": {d.To}}
		return "/window/dashboard?" + v.Encode()
	}
	d.Query = url.Values{"unit": {d.Unit}, "from": {d.From}, "to": {d.To}}.Encode()

	// breadcrumbs: the ancestors the user may see
	if unit != division.Root {
		anc, err := h.S.Divisions.Ancestors(ctx, unit)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if p.CanAt("window.view", division.Root) {
			d.Crumbs = append(d.Crumbs, dashCrumb{link(division.Root), i18n.T(loc, "window.fig.country")})
		}
		for _, a := range anc {
			if p.CanAt("window.view", a.Code) {
				d.Crumbs = append(d.Crumbs, dashCrumb{link(a.Code), a.Name})
			}
		}
	}

	label := func(dim string, row Row) string {
		switch {
		case row.Other && dim == DimItem:
			return i18n.T(loc, "window.fig.other_items")
		case row.Other:
			return i18n.T(loc, "window.fig.other")
		case dim == DimChannel:
			return i18n.T(loc, "window.fig.channel."+row.Key)
		case len(row.Name) > 0:
			return row.Name.Get(loc)
		}
		return row.Key
	}
	rows := func(dim string, in []Row) []dashRow {
		out := make([]dashRow, len(in))
		for i, row := range in {
			out[i] = dashRow{Row: row, Label: label(dim, row)}
		}
		return out
	}
	d.Categories, d.Channels, d.Items = rows(DimCategory, f.Categories), rows(DimChannel, f.Channels), rows(DimItem, f.Items)
	overdue := func(code int64) string {
		return "/window?" + url.Values{"view": {ViewOverdue}, "unit": {strconv.FormatInt(code, 10)}}.Encode()
	}
	for _, u := range f.Children {
		d.Children = append(d.Children, dashUnit{Unit: u, Href: link(u.Code), OverdueHref: overdue(u.Code)})
	}
	if f.Own != nil {
		d.Own = &dashUnit{Unit: *f.Own, OverdueHref: overdue(f.Own.Code)}
	}
	if len(f.Children) > 0 {
		d.ChildrenLevelKey = "window.fig.level." + strconv.Itoa(f.Children[0].Level)
	}
	for l := RatingMax; l >= RatingMin; l-- {
		d.Ratings = append(d.Ratings, dashRating{Level: l, N: f.Totals.Ratings[l-1], Share: Ratio{f.Totals.Ratings[l-1], f.Totals.Rated}})
	}
	d.Charts = dashboardCharts(loc, d)
	h.R.Page(w, r, status, "window_dashboard", d)
}

// dashboardCharts builds the chart data of the page from its tables.
func dashboardCharts(loc string, d *dashData) dashCharts {
	t := func(k string) string { return i18n.T(loc, k) }
	var c dashCharts
	f := d.F

	c.Months = chartSpec{Kind: "bar", Title: t("window.fig.by_month")}
	acc := chartSeries{Name: t("window.fig.accepted"), Type: "bar"}
	done := chartSeries{Name: t("window.fig.completed"), Type: "bar"}
	onTime := chartSeries{Name: t("window.fig.on_time"), Type: "line"}
	agency := chartSeries{Name: t("window.fig.agency"), Type: "line"}
	for _, m := range f.Months {
		c.Months.Categories = append(c.Months.Categories, formatPeriod(m.Period))
		acc.Data = append(acc.Data, num(m.Accepted))
		done.Data = append(done.Data, num(m.Completed))
		onTime.Data = append(onTime.Data, num(m.OnTime))
		agency.Data = append(agency.Data, num(m.Agency))
	}
	c.Months.Series = []chartSeries{acc, done, onTime, agency}

	c.Categories = chartSpec{Kind: "hbar", Title: t("window.fig.by_category")}
	acc = chartSeries{Name: t("window.fig.accepted")}
	done = chartSeries{Name: t("window.fig.completed")}
	for _, r := range d.Categories {
		c.Categories.Categories = append(c.Categories.Categories, r.Label)
		acc.Data = append(acc.Data, num(r.Accepted))
		done.Data = append(done.Data, num(r.Completed))
	}
	c.Categories.Series = []chartSeries{acc, done}

	c.Channels = chartSpec{Kind: "pie", Title: t("window.fig.by_channel")}
	pie := chartSeries{Name: t("window.fig.accepted")}
	for _, r := range d.Channels {
		pie.Pie = append(pie.Pie, pieSlice{Name: r.Label, Value: r.Accepted})
	}
	c.Channels.Series = []chartSeries{pie}

	c.Ratings = chartSpec{Kind: "bar", Title: t("window.fig.ratings")}
	rs := chartSeries{Name: t("window.fig.rated")}
	for l := RatingMin; l <= RatingMax; l++ {
		c.Ratings.Categories = append(c.Ratings.Categories, t("window.fig.rating."+strconv.Itoa(l)))
		rs.Data = append(rs.Data, num(f.Totals.Ratings[l-1]))
	}
	c.Ratings.Series = []chartSeries{rs}

	c.Children = chartSpec{Kind: "hbar", Percent: true, Title: t("window.fig.children_on_time")}
	rate := chartSeries{Name: t("window.fig.on_time_rate")}
	for _, u := range d.Children {
		c.Children.Categories = append(c.Children.Categories, u.Name)
		rate.Data = append(rate.Data, pct(u.OnTimeRate))
	}
	if d.Own != nil {
		c.Children.Categories = append(c.Children.Categories, t("window.fig.own"))
		rate.Data = append(rate.Data, pct(d.Own.OnTimeRate))
	}
	c.Children.Series = []chartSeries{rate}
	return c
}

// ---- the ledger: POST /window/ledger (unit, from, to) ----

func (h *HTTP) ledger(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	if h.Jobs == nil {
		h.R.Error(w, r, http.StatusServiceUnavailable, "")
		return
	}
	unit, ok := dashboardUnit(p, r.PostForm)
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	lp := LedgerParams{Unit: unit, Locale: i18n.Negotiate(r)}
	var okFrom, okTo bool
	lp.From, okFrom = parsePeriod(r.PostFormValue("from"))
	lp.To, okTo = parsePeriod(r.PostFormValue("to"))
	if !okFrom || !okTo {
		h.R.Error(w, r, http.StatusBadRequest, "window.fig.error.period")
		return
	}
	if err := h.S.CheckLedger(r.Context(), p, lp); err != nil {
		var es Errors
		if errors.As(err, &es) {
			h.R.Error(w, r, http.StatusBadRequest, "window.fig.error.period")
			return
		}
		h.fail(w, r, err)
		return
	}
	id, err := h.Jobs.Submit(r.Context(), p, jobs.Spec{Kind: JobLedger, Division: unit, Params: lp})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/jobs/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
