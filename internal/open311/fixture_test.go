package open311_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/open311"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/window"
)

// The shared test jurisdiction (internal/fixture), bound here by the test
// pack in testdata/packs.
const (
	divisionsCSV = fx.DivisionsCSV
	county       = fx.County
	townA        = fx.TownA
	townB        = fx.TownB
	villageA     = fx.VillageA
	villageC     = fx.VillageC
	villageB     = fx.VillageB
)

// Household points (WGS-84): one in 门楼社区, one in 吼山社区, 14 km apart.
const (
	latA, lonA = 31.6000, 120.4000
	latB, lonB = 31.7000, 120.5000
)

var keyFile = fx.Keys

// stubCal is a calendar of weekdays only.
type stubCal struct{}

func day(d int) time.Time {
	return time.Date(d/10000, time.Month(d/100%100), d%100, 0, 0, 0, 0, time.UTC)
}

func dayOf(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }

func working(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }

func (stubCal) AddWorkingDays(d, n int) int {
	t := day(d)
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if working(t) {
			n--
		}
	}
	return dayOf(t)
}

func (stubCal) WorkingDaysBetween(from, to int) int {
	n := 0
	for t := day(from).AddDate(0, 0, 1); !t.After(day(to)); t = t.AddDate(0, 0, 1) {
		if working(t) {
			n++
		}
	}
	return n
}

var testPacks = func() func(t *testing.T) *policy.Set {
	var set *policy.Set
	var err error
	return func(t *testing.T) *policy.Set {
		t.Helper()
		if set == nil && err == nil {
			set, err = policy.LoadDir("testdata/packs")
		}
		if err != nil {
			t.Fatalf("test pack: %v", err)
		}
		return set
	}
}()

type fixture struct {
	t   *testing.T
	ctx context.Context
	d   *db.DB
	svc *window.Service
	h   http.Handler
	// what withGrid needs to build a grid service beside the window's
	al   *audit.Log
	acc  *access.Service
	divs *division.Service
	keys *pii.Keys
	reg  *registry.Service

	admin *access.Principal // system_admin
	townA *access.Principal // township_staff of 东亭街道

	key      string // client "anywhere" (division 0)
	keyTownA string // client bound to 东亭街道
	revoked  string // a revoked key
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: 1, Name: "clerk", Client: "test"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if _, err := divs.Import(ctx, strings.NewReader(divisionsCSV), division.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	packs := testPacks(t)
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	svc := window.NewService(d, al, acc, keys, divs.Store, packs, reg,
		func(context.Context) (window.Calendar, error) { return stubCal{}, nil }, t.TempDir())
	f := &fixture{t: t, ctx: ctx, d: d, svc: svc, al: al, acc: acc, divs: divs, keys: keys, reg: reg,
		admin: &access.Principal{UserID: 1, Username: "admin", Assignments: []access.Assignment{{Role: "system_admin"}}},
		townA: &access.Principal{UserID: 2, Username: "townA", Assignments: []access.Assignment{{Role: "township_staff", Division: townA}}},
	}
	for _, hh := range []registry.HouseholdInput{
		{Division: villageA, Address: "门楼路 1 号", Lat: "31.6", Lon: "120.4"},
		{Division: villageB, Address: "吼山路 9 号", Lat: "31.7", Lon: "120.5"},
		{Division: villageC, Address: "柏庄 3 号"}, // no point
	} {
		if _, err := reg.CreateHousehold(ctx, f.admin, hh); err != nil {
			t.Fatal(err)
		}
	}
	// an admin may not turn the registry-bound item online (a client cannot
	// name a resident); Open311 leaves such items out anyway
	elder, ok := packs.Get("o311test").Window.Item("T-ELDER")
	if !ok {
		t.Fatal("no T-ELDER in the test pack")
	}
	elder.Online = true
	var es window.Errors
	if err := svc.SaveItem(ctx, f.admin, villageA, elder); !errors.As(err, &es) || es.For("online") == nil {
		t.Fatalf("an online item requiring a resident was saved: %v", err)
	}
	f.key = f.addClient("随手拍", 0)
	f.keyTownA = f.addClient("东亭街道小程序", townA)
	f.revoked = f.addClient("旧应用", 0)
	c, err := svc.ClientByKey(ctx, f.revoked)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeClient(ctx, nil, c.ID); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&open311.HTTP{S: svc}).Routes(mux)
	f.h = mux
	return f
}

func (f *fixture) addClient(name string, div int64) string {
	f.t.Helper()
	key, _, err := f.svc.AddClient(f.ctx, nil, name, div)
	if err != nil {
		f.t.Fatal(err)
	}
	return key
}

// count runs a COUNT query.
func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return string(r.body) }

func (f *fixture) get(path string, hdr ...string) response {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return f.serve(req)
}

func (f *fixture) post(path string, form url.Values) response {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return f.serve(req)
}

func (f *fixture) serve(req *http.Request) response {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	return response{status: w.Code, header: w.Header(), body: b}
}

// schemas are the GeoReport v2 JSON Schemas of testdata/schema, compiled
// once, with format assertions (date-time, uri) on.
var schemas = map[string]*jsonschema.Schema{}

func schema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	if s, ok := schemas[name]; ok {
		return s
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile("testdata/schema/" + name)
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	schemas[name] = s
	return s
}

// validJSON checks a JSON response: status, content type, and the body
// against the schema.
func validJSON(t *testing.T, r response, status int, schemaFile string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(r.body)))
	if err != nil {
		t.Fatalf("not JSON: %v: %s", err, r)
	}
	if err := schema(t, schemaFile).Validate(inst); err != nil {
		t.Fatalf("response does not match %s: %v\n%s", schemaFile, err, r)
	}
}

// validXML checks an XML response: status, content type, the declaration,
// and decodes it into v (the specification's shape, declared in the tests).
func validXML(t *testing.T, r response, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if !strings.HasPrefix(string(r.body), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.80s", r)
	}
	dec := xml.NewDecoder(strings.NewReader(string(r.body)))
	dec.Strict = true
	if err := dec.Decode(v); err != nil {
		t.Fatalf("XML: %v\n%s", err, r)
	}
}

// errorsOf checks an error response (JSON) and returns its descriptions.
func errorsOf(t *testing.T, r response, status int) []string {
	t.Helper()
	validJSON(t, r, status, "errors.json")
	var es []struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(r.body, &es); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		if e.Code != status {
			t.Errorf("error code %d in a %d response", e.Code, status)
		}
		out[i] = e.Description
	}
	return out
}

// wantError checks that one of the descriptions contains each of want.
func wantError(t *testing.T, descs []string, want ...string) {
	t.Helper()
	for _, d := range descs {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(d, w)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no error mentions %q: %q", want, descs)
}

// Spec shapes of the XML documents (from the examples of the specification).
type (
	xDiscovery struct {
		XMLName    xml.Name `xml:"discovery"`
		Changeset  string   `xml:"changeset"`
		Contact    string   `xml:"contact"`
		KeyService string   `xml:"key_service"`
		Endpoints  []struct {
			Specification string   `xml:"specification"`
			URL           string   `xml:"url"`
			Changeset     string   `xml:"changeset"`
			Type          string   `xml:"type"`
			Formats       []string `xml:"formats>format"`
		} `xml:"endpoints>endpoint"`
	}
	xService struct {
		Code        string `xml:"service_code"`
		Name        string `xml:"service_name"`
		Description string `xml:"description"`
		Metadata    bool   `xml:"metadata"`
		Type        string `xml:"type"`
		Keywords    string `xml:"keywords"`
		Group       string `xml:"group"`
	}
	xServices struct {
		XMLName  xml.Name   `xml:"services"`
		Services []xService `xml:"service"`
	}
	xAttribute struct {
		Variable            bool   `xml:"variable"`
		Code                string `xml:"code"`
		Datatype            string `xml:"datatype"`
		Required            bool   `xml:"required"`
		DatatypeDescription string `xml:"datatype_description"`
		Order               int    `xml:"order"`
		Description         string `xml:"description"`
		Values              []struct {
			Key  string `xml:"key"`
			Name string `xml:"name"`
		} `xml:"values>value"`
	}
	xDefinition struct {
		XMLName    xml.Name     `xml:"service_definition"`
		Code       string       `xml:"service_code"`
		Attributes []xAttribute `xml:"attributes>attribute"`
	}
	xRequest struct {
		ID                string `xml:"service_request_id"`
		Token             string `xml:"token"`
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
		Lat               string `xml:"lat"`
		Long              string `xml:"long"`
		MediaURL          string `xml:"media_url"`
		AccountID         string `xml:"account_id"`
	}
	xRequests struct {
		XMLName  xml.Name   `xml:"service_requests"`
		Requests []xRequest `xml:"request"`
	}
	xErrors struct {
		XMLName xml.Name `xml:"errors"`
		Errors  []struct {
			Code        int    `xml:"code"`
			Description string `xml:"description"`
		} `xml:"error"`
	}
)
