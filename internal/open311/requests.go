package open311

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/window"
)

// nearestMeters is how far from a request's point the nearest household may
// be for the request to go to that household's village.
const nearestMeters = 3000

// postRequest is a parsed POST Service Request.
type postRequest struct {
	Jurisdiction  string
	ServiceCode   string
	Lat, Long     *float64
	AddressString string
	AddressID     string
	Attributes    map[string]string // attribute[code]=value
	Email         string
	DeviceID      string
	AccountID     string
	FirstName     string
	LastName      string
	Phone         string
	Description   string
	MediaURL      string
}

// problem is one invalid parameter of a POST: Param names it as the client
// wrote it, Code says what is wrong (translated as open311.problem.<code>),
// Arg carries a bound.
type problem struct {
	Param, Code, Arg string
}

// Problem codes.
const (
	probServiceCode  = "service_code_missing"
	probLocation     = "location_missing"
	probLatLongPair  = "lat_long_pair"
	probCoordinate   = "coordinate"
	probAttrName     = "attribute_name"
	probAttrMultiple = "attribute_multiple"
	probMediaURL     = "media_url"
	probTooLong      = "too_long"
	probUTF8         = "utf8"
	probPhone        = "phone_missing"
	probJurisdiction = "jurisdiction_format"
)

var jurisdictionRE = regexp.MustCompile(`^(?:[0-9]{12}|[0-9]{15})$`)

// paramName makes a client's parameter name safe to quote: valid UTF-8, no
// control characters, at most 60 characters.
func paramName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	return s
}

// attributeName reads "attribute[code]" or "attribute[code][]" (the form of
// multivaluelist values).
func attributeName(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "attribute[")
	if !ok {
		return "", false
	}
	rest = strings.TrimSuffix(rest, "[]")
	name, ok := strings.CutSuffix(rest, "]")
	if !ok || name == "" || strings.ContainsAny(name, "[]") || len(name) > 64 || !utf8.ValidString(name) {
		return "", false
	}
	return name, true
}

// parsePost reads the form of a POST Service Request (everything but the
// api_key). Every problem is reported, in a stable order; the request is
// only meaningful when there is none.
func parsePost(form url.Values) (postRequest, []problem) {
	var req postRequest
	var ps []problem
	get := func(name string, max int) string {
		v := strings.TrimSpace(form.Get(name))
		if !utf8.ValidString(v) {
			ps = append(ps, problem{Param: name, Code: probUTF8})
			return ""
		}
		if utf8.RuneCountInString(v) > max {
			ps = append(ps, problem{Param: name, Code: probTooLong, Arg: strconv.Itoa(max)})
			return ""
		}
		return v
	}
	if req.Jurisdiction = get("jurisdiction_id", 40); req.Jurisdiction != "" && !jurisdictionRE.MatchString(req.Jurisdiction) {
		ps = append(ps, problem{Param: "jurisdiction_id", Code: probJurisdiction})
		req.Jurisdiction = ""
	}
	n := len(ps)
	if req.ServiceCode = get("service_code", 64); req.ServiceCode == "" && len(ps) == n {
		ps = append(ps, problem{Param: "service_code", Code: probServiceCode})
	}
	lat, long := get("lat", 40), get("long", 40)
	located := false
	switch {
	case lat == "" && long == "":
	case lat == "" || long == "":
		ps = append(ps, problem{Param: "lat/long", Code: probLatLongPair})
		located = true // the client meant to give a point: do not also ask for one
	default:
		located = true
		la, errLa := strconv.ParseFloat(lat, 64)
		lo, errLo := strconv.ParseFloat(long, 64)
		okLa := errLa == nil && !math.IsNaN(la) && la >= -90 && la <= 90
		okLo := errLo == nil && !math.IsNaN(lo) && lo >= -180 && lo <= 180
		if !okLa {
			ps = append(ps, problem{Param: "lat", Code: probCoordinate})
		}
		if !okLo {
			ps = append(ps, problem{Param: "long", Code: probCoordinate})
		}
		if okLa && okLo {
			req.Lat, req.Long = &la, &lo
		}
	}
	req.AddressString = get("address_string", 200)
	req.AddressID = get("address_id", 100)
	if !located && req.AddressString == "" && req.AddressID == "" {
		ps = append(ps, problem{Param: "lat/long, address_string, address_id", Code: probLocation})
	}

	var keys []string
	for k := range form {
		if k == "attribute" || strings.HasPrefix(k, "attribute[") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		name, ok := attributeName(k)
		if !ok {
			ps = append(ps, problem{Param: paramName(k), Code: probAttrName})
			continue
		}
		param := "attribute[" + paramName(name) + "]"
		vals := form[k]
		if _, dup := req.Attributes[name]; dup || len(vals) != 1 {
			ps = append(ps, problem{Param: param, Code: probAttrMultiple})
			continue
		}
		v := strings.TrimSpace(vals[0])
		if !utf8.ValidString(v) {
			ps = append(ps, problem{Param: param, Code: probUTF8})
			continue
		}
		if utf8.RuneCountInString(v) > 2000 {
			ps = append(ps, problem{Param: param, Code: probTooLong, Arg: "2000"})
			continue
		}
		if req.Attributes == nil {
			req.Attributes = map[string]string{}
		}
		req.Attributes[name] = v
	}

	req.Email = get("email", 254)
	req.DeviceID = get("device_id", 100)
	req.AccountID = get("account_id", 100)
	req.FirstName = get("first_name", 50)
	req.LastName = get("last_name", 50)
	n = len(ps)
	if req.Phone = get("phone", 40); req.Phone == "" && len(ps) == n {
		ps = append(ps, problem{Param: "phone", Code: probPhone})
	}
	req.Description = get("description", 4000)
	if req.MediaURL = get("media_url", 2000); req.MediaURL != "" {
		u, err := url.Parse(req.MediaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(req.MediaURL, " \t\r\n") {
			ps = append(ps, problem{Param: "media_url", Code: probMediaURL})
			req.MediaURL = ""
		}
	}
	return req, ps
}

// describe translates a problem.
func describe(loc string, p problem) string {
	var text string
	switch p.Code {
	case probServiceCode:
		text = i18n.T(loc, "open311.problem.service_code_missing")
	case probLocation:
		text = i18n.T(loc, "open311.problem.location_missing")
	case probLatLongPair:
		text = i18n.T(loc, "open311.problem.lat_long_pair")
	case probCoordinate:
		text = i18n.T(loc, "open311.problem.coordinate")
	case probAttrName:
		text = i18n.T(loc, "open311.problem.attribute_name")
	case probAttrMultiple:
		text = i18n.T(loc, "open311.problem.attribute_multiple")
	case probMediaURL:
		text = i18n.T(loc, "open311.problem.media_url")
	case probTooLong:
		text = i18n.T(loc, "open311.problem.too_long", p.Arg)
	case probUTF8:
		text = i18n.T(loc, "open311.problem.utf8")
	case probPhone:
		text = i18n.T(loc, "open311.problem.phone_missing")
	case probJurisdiction:
		text = i18n.T(loc, "open311.error.jurisdiction_format")
	default:
		text = p.Code
	}
	return p.Param + ": " + text
}

// paramOf names the request parameter behind a window or grid field error.
func paramOf(field string) string {
	if k, ok := strings.CutPrefix(field, "field."); ok {
		return "attribute[" + k + "]"
	}
	switch field {
	case "item", "category":
		return "service_code"
	case "unit", "division":
		return "jurisdiction_id"
	case "position":
		return "lat/long"
	case "name":
		return "last_name/first_name"
	case "address":
		return "address_string"
	}
	return field
}

// fieldError translates a domain's field error (domain window or grid):
// the domain's own text when the catalogue has it, else a generic one with
// the code.
func fieldError(loc, domain, field, code, arg string) string {
	key := domain + ".error." + code
	var text string
	if i18n.Has(loc, key) || i18n.Has(i18n.Default, key) {
		if arg != "" {
			text = i18n.T(loc, key, arg)
		} else {
			text = i18n.T(loc, key)
		}
	}
	if text == "" || strings.Contains(text, "%!") {
		text = i18n.T(loc, "open311.problem.invalid", code)
	}
	return paramOf(field) + ": " + text
}

// receipt is the answer to a POST: the new request's id (the case number)
// and what happens next.
type receipt struct {
	ID         string  `json:"service_request_id" xml:"service_request_id"`
	Notice     string  `json:"service_notice" xml:"service_notice"`
	AccountID  *string `json:"account_id" xml:"-"`
	AccountXML string  `json:"-" xml:"account_id"`
}

type xmlReceipts struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []receipt `xml:"request"`
}

// newToken returns a request token (Open311's "token", kept in cases.token).
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// applicantName writes the applicant's name in Chinese order (family name
// first); Latin names are written "family given".
func applicantName(first, last string) string {
	if first == "" || last == "" {
		return last + first
	}
	han := func(s string) bool {
		for _, r := range s {
			if unicode.Is(unicode.Han, r) {
				return true
			}
		}
		return false
	}
	if han(first) || han(last) {
		return last + first
	}
	return last + " " + first
}

// normalizeDate turns a W3C date-time given for a date attribute into the
// date in China (2006-01-02); anything else is left for the window to judge.
func normalizeDate(v string) string {
	if t, ok := parseW3C(v, false); ok && len(v) > 10 {
		return t.In(china).Format("2006-01-02")
	}
	return v
}

func (h *HTTP) post(w http.ResponseWriter, r *http.Request) {
	name, format, ok := h.parse(w, r)
	if !ok {
		return
	}
	loc := locale(r)
	if name != "requests" {
		h.fail(w, r, format, http.StatusNotFound, i18n.T(loc, "open311.error.not_found"))
		return
	}
	ctx := r.Context()
	key := strings.TrimSpace(r.Form.Get("api_key"))
	if key == "" {
		h.fail(w, r, format, http.StatusForbidden, i18n.T(loc, "open311.error.api_key_missing"))
		return
	}
	client, err := h.S.ClientByKey(ctx, key)
	switch {
	case errors.Is(err, window.ErrNoClient):
		h.fail(w, r, format, http.StatusForbidden, i18n.T(loc, "open311.error.api_key_invalid"))
		return
	case errors.Is(err, window.ErrClientRevoked):
		h.fail(w, r, format, http.StatusForbidden, i18n.T(loc, "open311.error.api_key_revoked"))
		return
	case err != nil:
		h.internal(w, r, format, err)
		return
	}
	req, ps := parsePost(r.Form)
	if len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = describe(loc, p)
		}
		h.fail(w, r, format, http.StatusBadRequest, msgs...)
		return
	}
	unit, status, msg := h.route(ctx, loc, client, req)
	if status != 0 {
		h.failStatus(w, r, format, status, msg)
		return
	}
	if h.incidentCategory(unit, req.ServiceCode) {
		h.postIncident(w, r, format, loc, client, req, unit)
		return
	}
	o, found, err := h.find(ctx, unit, req.ServiceCode, loc)
	if err != nil {
		h.internal(w, r, format, err)
		return
	}
	if !found {
		h.fail(w, r, format, http.StatusNotFound, i18n.T(loc, "open311.error.service_code_unknown", req.ServiceCode))
		return
	}
	fields := itemFields(o.item)
	values := map[string]string{}
	var unknown []string
	for k, v := range req.Attributes {
		f, ok := fields[k]
		if !ok {
			unknown = append(unknown, "attribute["+paramName(k)+"]: "+i18n.T(loc, "open311.problem.attribute_unknown"))
			continue
		}
		if f.Type == policy.FieldDate {
			v = normalizeDate(v)
		}
		values[k] = v
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		h.fail(w, r, format, http.StatusBadRequest, unknown...)
		return
	}
	desc := req.Description
	if req.MediaURL != "" {
		desc = strings.TrimSpace(desc + "\n" + req.MediaURL)
	}
	addr := req.AddressString
	if addr == "" && req.AddressID != "" {
		addr = req.AddressID
	}
	in := window.Intake{Unit: unit, ItemCode: o.item.Code, Name: applicantName(req.FirstName, req.LastName), Phone: req.Phone,
		Fields: values, Description: desc, Address: addr, Lat: req.Lat, Lon: req.Long, ClientID: client.ID, Token: newToken()}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "open311:" + client.Name, Client: web.ClientIP(r).String()})
	c, err := h.S.IntakeOnline(ctx, in)
	var es window.Errors
	if errors.As(err, &es) {
		msgs := make([]string, len(es))
		for i, e := range es {
			msgs[i] = fieldError(loc, "window", e.Field, e.Code, e.Arg)
		}
		h.fail(w, r, format, http.StatusBadRequest, msgs...)
		return
	}
	if err != nil {
		h.internal(w, r, format, err)
		return
	}
	rc := receipt{ID: c.Number, Notice: notice(loc, c), AccountID: strPtr(req.AccountID), AccountXML: req.AccountID}
	h.send(w, r, format, http.StatusOK, []receipt{rc}, xmlReceipts{Requests: []receipt{rc}})
}

// notice is the service notice of a case: the promised time.
func notice(loc string, c window.Case) string {
	return i18n.T(loc, "open311.notice", c.TimeLimit)
}

// route finds the unit a request goes to: jurisdiction_id (a township or
// village inside the client's division), else the village of the nearest
// household within 3 km of lat/long, else the client's own division when it
// is a township or village. It returns an HTTP status and text on failure.
func (h *HTTP) route(ctx context.Context, loc string, c window.Client, req postRequest) (int64, int, string) {
	inside := func(code int64) bool { return c.Division == 0 || ids.Contains(c.Division, code) }
	if req.Jurisdiction != "" {
		unit, status, msg := h.jurisdiction(ctx, loc, req.Jurisdiction)
		if status != 0 {
			return 0, status, msg
		}
		if lvl := ids.Level(unit); lvl != 4 && lvl != 5 {
			return 0, http.StatusBadRequest, "jurisdiction_id: " + i18n.T(loc, "open311.error.jurisdiction_level")
		}
		if !inside(unit) {
			return 0, http.StatusForbidden, i18n.T(loc, "open311.error.jurisdiction_outside", req.Jurisdiction)
		}
		return unit, 0, ""
	}
	if req.Lat != nil && req.Long != nil && h.S.Registry != nil {
		v, err := h.S.Registry.NearestVillage(ctx, *req.Lat, *req.Long, nearestMeters)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return 0, http.StatusInternalServerError, err.Error()
		}
		if err == nil && inside(v) {
			if d, err := h.S.Divisions.Get(ctx, v); err == nil && !d.Retired {
				return v, 0, ""
			}
		}
	}
	if lvl := ids.Level(c.Division); lvl == 4 || lvl == 5 {
		return c.Division, 0, ""
	}
	return 0, http.StatusBadRequest, "jurisdiction_id: " + i18n.T(loc, "open311.error.jurisdiction_required")
}

// Request is a service request as GET requests publishes it: its state
// only — no names, phones, form values, descriptions, addresses, points,
// media or reasons (window matters are personal).
type Request struct {
	ID                string   `json:"service_request_id" xml:"-"`
	Status            string   `json:"status" xml:"-"`
	StatusNotes       *string  `json:"status_notes" xml:"-"`
	ServiceName       *string  `json:"service_name" xml:"-"`
	ServiceCode       string   `json:"service_code" xml:"-"`
	Description       *string  `json:"description" xml:"-"`
	AgencyResponsible *string  `json:"agency_responsible" xml:"-"`
	ServiceNotice     *string  `json:"service_notice" xml:"-"`
	RequestedDatetime string   `json:"requested_datetime" xml:"-"`
	UpdatedDatetime   *string  `json:"updated_datetime" xml:"-"`
	ExpectedDatetime  *string  `json:"expected_datetime" xml:"-"`
	Address           *string  `json:"address" xml:"-"`
	AddressID         *string  `json:"address_id" xml:"-"`
	Zipcode           *string  `json:"zipcode" xml:"-"`
	Lat               *float64 `json:"lat" xml:"-"`
	Long              *float64 `json:"long" xml:"-"`
	MediaURL          *string  `json:"media_url" xml:"-"`
}

// xmlRequest is a Request in the XML form of the specification's example:
// every element present (empty when there is no value), but lat and long,
// which are left out rather than left empty when the request has no point.
type xmlRequest struct {
	ID                string `xml:"service_request_id"`
	Status            string `xml:"status"`
	StatusNotes       string `xml:"status_notes"`
	ServiceName       string `xml:"service_name"`
	ServiceCode       string `xml:"service_code"`
	Description       string `xml:"description"`
	AgencyResponsible string `xml:"agency_responsible"`
	ServiceNotice     string `xml:"service_notice"`
	RequestedDatetime string `xml:"requested_datetime"`
	UpdatedDatetime   string `xml:"updated_datetime"`
	ExpectedDatetime  string `xml:"expected_datetime"`
	Address           string `xml:"address"`
	AddressID         string `xml:"address_id"`
	Zipcode           string `xml:"zipcode"`
	Lat               string `xml:"lat,omitempty"`
	Long              string `xml:"long,omitempty"`
	MediaURL          string `xml:"media_url"`
}

type xmlRequests struct {
	XMLName  xml.Name     `xml:"service_requests"`
	Requests []xmlRequest `xml:"request"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func coordinate(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// requestsXML is the XML document of a list of requests.
func requestsXML(rs []Request) xmlRequests {
	out := xmlRequests{Requests: make([]xmlRequest, len(rs))}
	for i, r := range rs {
		out.Requests[i] = xmlRequest{ID: r.ID, Status: r.Status, StatusNotes: deref(r.StatusNotes), ServiceName: deref(r.ServiceName),
			ServiceCode: r.ServiceCode, Description: deref(r.Description), AgencyResponsible: deref(r.AgencyResponsible),
			ServiceNotice: deref(r.ServiceNotice), RequestedDatetime: r.RequestedDatetime, UpdatedDatetime: deref(r.UpdatedDatetime),
			ExpectedDatetime: deref(r.ExpectedDatetime), Address: deref(r.Address), AddressID: deref(r.AddressID),
			Zipcode: deref(r.Zipcode), Lat: coordinate(r.Lat), Long: coordinate(r.Long), MediaURL: deref(r.MediaURL)}
	}
	return out
}

// agencies caches the names of the units holding cases, per request.
type agencies struct {
	h    *HTTP
	seen map[int64]string
}

func (a *agencies) of(ctx context.Context, c window.Case) string {
	if c.HolderLevel == policy.LevelDepartment && c.Department != "" {
		return c.Department
	}
	if v, ok := a.seen[c.Holder]; ok {
		return v
	}
	v := ""
	if d, err := a.h.S.Divisions.Get(ctx, c.Holder); err == nil {
		v = d.Name
	}
	if v == "" {
		v = c.Department
	}
	a.seen[c.Holder] = v
	return v
}

// stateText is the public text of a case's state.
func stateText(loc string, c window.Case) string {
	switch c.State {
	case window.StateSubmitted:
		return i18n.T(loc, "open311.status.submitted")
	case window.StateAccepted:
		return i18n.T(loc, "open311.status.accepted")
	case window.StateHandling:
		return i18n.T(loc, "open311.status.handling")
	case window.StateSupplement:
		return i18n.T(loc, "open311.status.supplement")
	case window.StateRejected:
		return i18n.T(loc, "open311.status.rejected")
	case window.StateCompleted:
		if c.Outcome == window.OutcomeDenied {
			return i18n.T(loc, "open311.status.denied")
		}
		return i18n.T(loc, "open311.status.completed")
	}
	return c.State
}

func (h *HTTP) toRequest(ctx context.Context, loc string, ag *agencies, c window.Case) Request {
	// Anyone may read this, and case numbers are easy to guess: where the
	// applicant lives, the photo they sent and the reason of a decision
	// about them are personal (PIPL), so only the state is published. The
	// applicant reads the rest on /public/case with the phone's digits.
	out := Request{ID: c.Number, Status: "open", ServiceName: strPtr(c.ItemName), ServiceCode: c.ItemCode,
		RequestedDatetime: w3c(c.SubmittedAt)}
	notes := stateText(loc, c)
	updated := c.UpdatedAt
	if !c.Open() {
		out.Status = "closed"
		if c.ClosedAt != 0 {
			updated = c.ClosedAt
		}
	}
	out.StatusNotes = strPtr(notes)
	if updated != 0 {
		out.UpdatedDatetime = strPtr(w3c(updated))
	}
	if c.Deadline != 0 {
		d := c.Deadline
		out.ExpectedDatetime = strPtr(time.Date(d/10000, time.Month(d/100%100), d%100, 23, 59, 59, 0, china).Format(time.RFC3339))
	}
	out.AgencyResponsible = strPtr(ag.of(ctx, c))
	out.ServiceNotice = strPtr(notice(loc, c))
	return out
}

// maxSpan is the longest start_date–end_date range of GET requests: the
// specification's 90 days, plus a day so that whole dates (an end_date
// counts to the end of its day) may span 90 calendar days.
const maxSpan = 91 * 24 * time.Hour

// parseW3C reads a W3C date-time (a subset of ISO 8601). A time must carry
// its zone (Z or ±hh:mm); a '+' that the query string turned into a space is
// accepted. A bare date (or year-month, year) is a day in China: its start,
// or with end its last millisecond.
func parseW3C(s string, end bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if n := len(s); n > 16 && s[n-6] == ' ' {
		s = s[:n-6] + "+" + s[n-5:]
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	for _, l := range []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
	} {
		if t, err := time.ParseInLocation(l.layout, s, china); err == nil {
			if end {
				t = l.next(t).Add(-time.Millisecond)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// commaList splits a comma-separated parameter (repeated parameters too).
func commaList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	return out
}

func (h *HTTP) requests(w http.ResponseWriter, r *http.Request, format string) {
	loc := locale(r)
	ctx := r.Context()
	var f window.OnlineFilter
	var bad []string
	if numbers := commaList(r.Form["service_request_id"]); len(numbers) > 0 {
		if len(numbers) > 100 {
			bad = append(bad, "service_request_id: "+i18n.T(loc, "open311.problem.too_many", 100))
		}
		f.Numbers = numbers
	} else {
		unit, status, msg := h.jurisdiction(ctx, loc, r.Form.Get("jurisdiction_id"))
		if status != 0 {
			h.failStatus(w, r, format, status, msg)
			return
		}
		if unit != 0 {
			f.Lo, f.Hi = ids.Subtree(unit)
		}
		if f.Items = commaList(r.Form["service_code"]); len(f.Items) > 100 {
			bad = append(bad, "service_code: "+i18n.T(loc, "open311.problem.too_many", 100))
		}
		for _, st := range commaList(r.Form["status"]) {
			if st != "open" && st != "closed" {
				bad = append(bad, "status: "+i18n.T(loc, "open311.problem.status"))
				break
			}
			f.Status = append(f.Status, st)
		}
		var start, end time.Time
		startS, endS := strings.TrimSpace(r.Form.Get("start_date")), strings.TrimSpace(r.Form.Get("end_date"))
		okS, okE := true, true
		if startS != "" {
			if start, okS = parseW3C(startS, false); !okS {
				bad = append(bad, "start_date: "+i18n.T(loc, "open311.problem.datetime"))
			}
		}
		if endS != "" {
			if end, okE = parseW3C(endS, true); !okE {
				bad = append(bad, "end_date: "+i18n.T(loc, "open311.problem.datetime"))
			}
		}
		if okS && okE {
			switch {
			case startS == "" && endS == "":
				end = time.Now()
				start = end.Add(-90 * 24 * time.Hour)
			case startS == "":
				start = end.Add(-90 * 24 * time.Hour)
			case endS == "":
				end = start.Add(90 * 24 * time.Hour)
			}
			switch {
			case end.Before(start):
				bad = append(bad, "start_date/end_date: "+i18n.T(loc, "open311.problem.date_order"))
			case end.Sub(start) > maxSpan:
				bad = append(bad, "start_date/end_date: "+i18n.T(loc, "open311.problem.date_span"))
			}
			f.From, f.To = start.UnixMilli(), end.UnixMilli()
		}
	}
	if len(bad) > 0 {
		h.fail(w, r, format, http.StatusBadRequest, bad...)
		return
	}
	f.Limit = 1000
	cases, err := h.S.OnlineCases(ctx, f)
	if err != nil {
		h.internal(w, r, format, err)
		return
	}
	ag := &agencies{h: h, seen: map[int64]string{}}
	out := make([]Request, 0, len(cases))
	for _, c := range cases {
		out = append(out, h.toRequest(ctx, loc, ag, c))
	}
	if h.G != nil && len(out) < f.Limit {
		incs, err := h.G.OnlineIncidents(ctx, grid.OnlineFilter{Numbers: f.Numbers, Categories: f.Items, From: f.From, To: f.To,
			Status: f.Status, Lo: f.Lo, Hi: f.Hi, Limit: f.Limit - len(out)})
		if err != nil {
			h.internal(w, r, format, err)
			return
		}
		for _, in := range incs {
			out = append(out, h.incidentRequest(ctx, loc, ag.seen, in))
		}
	}
	h.send(w, r, format, http.StatusOK, out, requestsXML(out))
}

func (h *HTTP) request(w http.ResponseWriter, r *http.Request) {
	id, format, ok := h.parse(w, r)
	if !ok {
		return
	}
	loc := locale(r)
	if h.G != nil && isIncidentNumber(id) {
		in, err := h.G.OnlineIncident(r.Context(), id)
		if errors.Is(err, db.ErrNotFound) {
			h.fail(w, r, format, http.StatusNotFound, i18n.T(loc, "open311.error.request_unknown", paramName(id)))
			return
		}
		if err != nil {
			h.internal(w, r, format, err)
			return
		}
		out := []Request{h.incidentRequest(r.Context(), loc, map[int64]string{}, in)}
		h.send(w, r, format, http.StatusOK, out, requestsXML(out))
		return
	}
	c, err := h.S.OnlineCase(r.Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		h.fail(w, r, format, http.StatusNotFound, i18n.T(loc, "open311.error.request_unknown", paramName(id)))
		return
	}
	if err != nil {
		h.internal(w, r, format, err)
		return
	}
	out := []Request{h.toRequest(r.Context(), loc, &agencies{h: h, seen: map[int64]string{}}, c)}
	h.send(w, r, format, http.StatusOK, out, requestsXML(out))
}

// tokenAnswer resolves a token to its request.
type tokenAnswer struct {
	ID    string `json:"service_request_id" xml:"service_request_id"`
	Token string `json:"token" xml:"token"`
}

type xmlTokens struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []tokenAnswer `xml:"request"`
}

func (h *HTTP) token(w http.ResponseWriter, r *http.Request) {
	token, format, ok := h.parse(w, r)
	if !ok {
		return
	}
	loc := locale(r)
	c, err := h.S.OnlineCaseByToken(r.Context(), token)
	if errors.Is(err, db.ErrNotFound) && h.G != nil {
		if in, err := h.G.OnlineIncidentByToken(r.Context(), token); err == nil {
			out := []tokenAnswer{{ID: in.Number, Token: in.Token}}
			h.send(w, r, format, http.StatusOK, out, xmlTokens{Requests: out})
			return
		}
	}
	if errors.Is(err, db.ErrNotFound) {
		h.fail(w, r, format, http.StatusNotFound, i18n.T(loc, "open311.error.token_unknown"))
		return
	}
	if err != nil {
		h.internal(w, r, format, err)
		return
	}
	out := []tokenAnswer{{ID: c.Number, Token: c.Token}}
	h.send(w, r, format, http.StatusOK, out, xmlTokens{Requests: out})
}
