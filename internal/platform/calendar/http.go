package calendar

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the calendar pages (calendar_admin), for the renderer.
func Templates() embed.FS { return templates }

// maxUpload bounds an uploaded calendar file (a year is a few kilobytes).
const maxUpload = 256 << 10

// HTTP serves the calendar page: mount its routes behind login. Everyone
// signed in may look at the calendar; changing it takes calendar.manage.
type HTTP struct {
	S *Service
	R *web.Renderer
}

// Routes registers the calendar page and its forms.
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/calendar", h.page)
	mux.HandleFunc("POST /admin/calendar/days", h.set)
	mux.HandleFunc("POST /admin/calendar/days/{date}/delete", h.delete)
	mux.HandleFunc("POST /admin/calendar/import", h.upload)
}

var (
	weekdayKeys = [7]string{web.Msg("calendar.weekday.mon"), web.Msg("calendar.weekday.tue"), web.Msg("calendar.weekday.wed"),
		web.Msg("calendar.weekday.thu"), web.Msg("calendar.weekday.fri"), web.Msg("calendar.weekday.sat"), web.Msg("calendar.weekday.sun")}
	monthKeys = [12]string{web.Msg("calendar.month.1"), web.Msg("calendar.month.2"), web.Msg("calendar.month.3"),
		web.Msg("calendar.month.4"), web.Msg("calendar.month.5"), web.Msg("calendar.month.6"), web.Msg("calendar.month.7"),
		web.Msg("calendar.month.8"), web.Msg("calendar.month.9"), web.Msg("calendar.month.10"), web.Msg("calendar.month.11"),
		web.Msg("calendar.month.12")}
	doneKeys = map[string]string{
		"saved":    web.Msg("calendar.done.saved"),
		"deleted":  web.Msg("calendar.done.deleted"),
		"imported": web.Msg("calendar.done.imported"),
	}
)

// pageData is the .Data of calendar_admin.
type pageData struct {
	Year, Prev, Next int
	Known            bool  // the shown year has been entered
	NotEntered       bool  // not Known, and not already warned about in Missing
	Years            []int // the years entered
	Missing          []int // the current and next year, when not entered
	Stats            yearStats
	Days             []dayRow
	Months           []monthView
	CanManage        bool
	Form             dayForm
	Upload           uploadForm
	DeleteErr        *FieldError
	Done             string // i18n key of the confirmation after a redirect
}

type yearStats struct{ WorkingDays, Holidays, Workdays int }

type dayRow struct {
	Day
	ISO     string // 2006-01-02
	Weekday string // i18n key
}

type monthView struct {
	Title string // i18n key
	Weeks [][]cell
}

// cell is a day of the month grid; Day 0 pads the first and last week.
type cell struct {
	Day   int
	Kind  string // Holiday, Workday, "rest" (an ordinary weekend day) or "" (a working weekday)
	Name  string
	Class string // CSS classes: cal-<kind>, cal-today
}

type dayForm struct {
	Date, Kind, Name string
	Err              *FieldError
}

type uploadForm struct {
	Year int
	Err  *FieldError
}

// data builds the page of year.
func (h *HTTP) data(r *http.Request, year int) (*pageData, error) {
	c, err := h.S.Calendar(r.Context())
	if err != nil {
		return nil, err
	}
	today := h.S.today()
	d := &pageData{Year: year, Prev: year - 1, Next: year + 1, Known: c.Known(year), Years: c.Years(),
		CanManage: access.From(r.Context()).Can(Permission), Form: dayForm{Kind: Holiday}, Upload: uploadForm{Year: year}}
	for _, y := range []int{today / 10000, today/10000 + 1} {
		if !c.Known(y) {
			d.Missing = append(d.Missing, y)
		}
	}
	d.NotEntered = !d.Known && !slices.Contains(d.Missing, year)
	for _, day := range c.Year(year) {
		d.Days = append(d.Days, dayRow{Day: day, ISO: formatDate(day.Date), Weekday: weekdayKeys[weekday(day.Date)]})
		if day.Kind == Holiday {
			d.Stats.Holidays++
		} else {
			d.Stats.Workdays++
		}
	}
	d.Stats.WorkingDays = c.WorkingDaysBetween((year-1)*10000+1231, year*10000+1231)
	for m := 1; m <= 12; m++ {
		mv := monthView{Title: monthKeys[m-1]}
		week := make([]cell, weekday(year*10000+m*100+1))
		for day := 1; day <= daysIn(year, m); day++ {
			date := year*10000 + m*100 + day
			cl := cell{Day: day}
			if e, ok := c.Day(date); ok {
				cl.Kind, cl.Name = e.Kind, e.Name
			} else if weekday(date) >= 5 {
				cl.Kind = "rest"
			}
			var class []string
			if cl.Kind != "" {
				class = append(class, "cal-"+cl.Kind)
			}
			if date == today {
				class = append(class, "cal-today")
			}
			cl.Class = strings.Join(class, " ")
			week = append(week, cl)
			if len(week) == 7 {
				mv.Weeks, week = append(mv.Weeks, week), nil
			}
		}
		if len(week) > 0 {
			mv.Weeks = append(mv.Weeks, append(week, make([]cell, 7-len(week))...))
		}
		d.Months = append(d.Months, mv)
	}
	return d, nil
}

func (h *HTTP) page(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	year := h.S.today() / 10000
	if s := q.Get("year"); s != "" {
		y, err := strconv.Atoi(s)
		if err != nil || y < MinYear || y > MaxYear {
			h.R.Error(w, r, http.StatusBadRequest, "")
			return
		}
		year = y
	}
	d, err := h.data(r, year)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Done = doneKeys[q.Get("done")]
	if s := q.Get("edit"); s != "" && d.CanManage {
		if date, ok := parseDate(s); ok {
			d.Form.Date = formatDate(date)
			if c, err := h.S.Calendar(r.Context()); err == nil {
				if e, ok := c.Day(date); ok {
					d.Form.Kind, d.Form.Name = e.Kind, e.Name
				}
			}
		}
	}
	h.R.Page(w, r, http.StatusOK, "calendar_admin", d)
}

// formYear is the year a failed form goes back to: the one it was sent from.
func formYear(r *http.Request, fallback int) int {
	if y, err := strconv.Atoi(r.PostFormValue("year")); err == nil && y >= MinYear && y <= MaxYear {
		return y
	}
	return fallback
}

// invalid renders the page again (422) with the form's error.
func (h *HTTP) invalid(w http.ResponseWriter, r *http.Request, year int, fill func(d *pageData)) {
	d, err := h.data(r, year)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fill(d)
	h.R.Page(w, r, http.StatusUnprocessableEntity, "calendar_admin", d)
}

func (h *HTTP) redirect(w http.ResponseWriter, r *http.Request, year int, done string) {
	http.Redirect(w, r, "/admin/calendar?year="+strconv.Itoa(year)+"&done="+done, http.StatusSeeOther)
}

func (h *HTTP) set(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	f := dayForm{Date: strings.TrimSpace(r.PostFormValue("date")), Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name")}
	year := formYear(r, h.S.today()/10000)
	d := Day{Kind: parseKind(f.Kind), Name: f.Name}
	var err error
	switch date, ok := parseDate(f.Date); {
	case !p.Can(Permission):
		err = h.S.allow(r.Context(), p, EntityDay, dayID(date)) // refused and audited
	case f.Date == "":
		err = &FieldError{Field: FieldDate, Reason: ReasonMissing}
	case !ok:
		err = &FieldError{Field: FieldDate, Reason: ReasonDate, Value: f.Date}
	case d.Kind == "" && f.Kind != "":
		err = &FieldError{Field: FieldKind, Reason: ReasonKind, Value: f.Kind}
	default:
		d.Date, year = date, date/10000
		err = h.S.Set(r.Context(), p, d)
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		h.invalid(w, r, year, func(pd *pageData) { f.Err = fe; pd.Form = f })
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, year, "saved")
}

func (h *HTTP) delete(w http.ResponseWriter, r *http.Request) {
	date, ok := parseDate(r.PathValue("date"))
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	err := h.S.Delete(r.Context(), access.From(r.Context()), date)
	var fe *FieldError
	if errors.As(err, &fe) {
		h.invalid(w, r, date/10000, func(pd *pageData) { pd.DeleteErr = fe })
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, date/10000, "deleted")
}

func (h *HTTP) upload(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	if !p.Can(Permission) {
		h.fail(w, r, h.S.allow(r.Context(), p, EntityYear, "")) // refused and audited
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		if web.BodyTooLarge(err) {
			h.R.Error(w, r, http.StatusRequestEntityTooLarge, "")
			return
		}
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	defer r.MultipartForm.RemoveAll()
	fallback := h.S.today() / 10000
	bad := func(year int, fe *FieldError) {
		h.invalid(w, r, year, func(pd *pageData) { pd.Upload.Err = fe })
	}
	ys := strings.TrimSpace(r.PostFormValue("year"))
	year, err := strconv.Atoi(ys)
	if err != nil || year < MinYear || year > MaxYear {
		fe := &FieldError{Field: FieldYear, Reason: ReasonYear, Value: ys}
		if ys == "" {
			fe.Reason = ReasonMissing
		}
		bad(fallback, fe)
		return
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		bad(year, &FieldError{Field: FieldFile, Reason: ReasonMissing})
		return
	}
	defer file.Close()
	days, lines, err := parseCSV(file)
	var fe *FieldError
	if errors.As(err, &fe) {
		bad(year, fe)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i, d := range days {
		if d.Date/10000 != year {
			bad(year, &FieldError{Line: lines[i], Field: FieldDate, Reason: ReasonOtherYear, Value: formatDate(d.Date), Year: year})
			return
		}
	}
	err = h.S.ImportYear(r.Context(), p, year, days)
	if errors.As(err, &fe) {
		bad(year, fe)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, year, "imported")
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrForbidden):
		h.R.Error(w, r, http.StatusForbidden, "")
	case errors.Is(err, db.ErrNotFound):
		h.R.Error(w, r, http.StatusNotFound, "")
	default:
		slog.Default().ErrorContext(r.Context(), "calendar: http", "path", r.URL.Path, "err", err)
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}
