package open311_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/window"
)

// numberRE is the form of a case number (the service_request_id).
var numberRE = regexp.MustCompile(`^[0-9]{12}-[0-9]{8}-[0-9]{4,}$`)

// repair is a complete, valid request for T-REPAIR at 门楼社区.
func repair(key string) url.Values {
	return url.Values{
		"api_key":              {key},
		"jurisdiction_id":      {"320205001001"},
		"service_code":         {"T-REPAIR"},
		"address_string":       {"门楼路 1 号 302 室"},
		"first_name":           {"芳"},
		"last_name":            {"王"},
		"phone":                {"13912345678"},
		"email":                {"wang.fang@example.com"},
		"account_id":           {"u-42"},
		"description":          {"电视机开不了机"},
		"media_url":            {"https://img.example.com/a/1.jpg"},
		"attribute[appliance]": {"tv"},
		"attribute[count]":     {"1"},
		"attribute[visit_day]": {"2026-12-01T09:00:00+08:00"},
		"attribute[problem]":   {"无法开机，有焦味"},
	}
}

func TestOpen311(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		t.Run("discovery", f.testDiscovery)
		t.Run("services", f.testServices)
		t.Run("definition", f.testDefinition)
		t.Run("post", f.testPost)
		t.Run("post errors", f.testPostErrors)
		t.Run("routing", f.testRouting)
		t.Run("get requests", f.testGetRequests)
		t.Run("tokens", f.testTokens)
		t.Run("nearest village", f.testNearest)
	})
}

func (f *fixture) testDiscovery(t *testing.T) {
	r := f.get("/open311/discovery.json")
	validJSON(t, r, http.StatusOK, "discovery.json")
	var d struct {
		Endpoints []struct{ Specification, URL string }
	}
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Endpoints) != 1 || d.Endpoints[0].Specification != "http://wiki.open311.org/GeoReport_v2" ||
		d.Endpoints[0].URL != "http://example.com/open311/v2" {
		t.Fatalf("endpoints %+v", d.Endpoints)
	}
	var x xDiscovery
	validXML(t, f.get("/open311/discovery.xml"), http.StatusOK, &x)
	if x.Changeset == "" || x.Contact == "" || x.KeyService == "" || len(x.Endpoints) != 1 ||
		x.Endpoints[0].URL != "http://example.com/open311/v2" || !slices.Equal(x.Endpoints[0].Formats, []string{"text/xml", "application/json"}) {
		t.Fatalf("discovery.xml %+v", x)
	}
	errorsOf(t, f.get("/open311/discovery.html"), http.StatusNotFound)
	errorsOf(t, f.get("/open311/nothing.json"), http.StatusNotFound)
}

func (f *fixture) testServices(t *testing.T) {
	if cat, err := f.svc.Catalogue(f.ctx, villageA); err != nil {
		t.Fatal(err)
	} else if it, ok := cat.Item("T-ELDER"); !ok || it.Online {
		t.Fatal("T-ELDER, which requires a resident, is online at 门楼社区")
	}
	for _, path := range []string{"/open311/v2/services.json", "/open311/v2/services.json?jurisdiction_id=320205001001"} {
		r := f.get(path)
		validJSON(t, r, http.StatusOK, "services.json")
		var ss []struct {
			Code     string `json:"service_code"`
			Name     string `json:"service_name"`
			Metadata bool
			Type     string
			Group    *string
		}
		if err := json.Unmarshal(r.body, &ss); err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, s := range ss {
			codes = append(codes, s.Code)
			if s.Type != "realtime" || s.Group == nil {
				t.Errorf("%s: %+v", path, s)
			}
			if s.Code == "T-REPAIR" && (s.Name != "家电维修预约" || !s.Metadata || *s.Group != "便民服务") {
				t.Errorf("T-REPAIR %+v", s)
			}
			if s.Code == "T-LOCK" && s.Metadata {
				t.Error("T-LOCK has no fields: metadata false")
			}
		}
		// window-only items and items needing a registry link are not offered
		if !slices.Equal(codes, []string{"T-REPAIR", "T-LOCK", "T-VISIT"}) {
			t.Fatalf("%s: codes %v", path, codes)
		}
	}
	// English on request
	r := f.get("/open311/v2/services.json", "Accept-Language", "en-GB,en;q=0.8")
	if !strings.Contains(r.String(), `"Appliance repair booking"`) {
		t.Errorf("en: %s", r)
	}
	if r := f.get("/open311/v2/services.json?locale=en"); !strings.Contains(r.String(), `"Convenience services"`) {
		t.Errorf("locale=en: %s", r)
	}
	var x xServices
	validXML(t, f.get("/open311/v2/services.xml"), http.StatusOK, &x)
	if len(x.Services) != 3 || x.Services[0].Code != "T-REPAIR" || !x.Services[0].Metadata || x.Services[0].Type != "realtime" ||
		x.Services[0].Group != "便民服务" || x.Services[0].Description == "" {
		t.Fatalf("services.xml %+v", x)
	}
	wantError(t, errorsOf(t, f.get("/open311/v2/services.json?jurisdiction_id=320205009009"), http.StatusNotFound), "320205009009")
	errorsOf(t, f.get("/open311/v2/services.json?jurisdiction_id=abc"), http.StatusBadRequest)
	var xe xErrors
	validXML(t, f.get("/open311/v2/services.xml?jurisdiction_id=320205009009"), http.StatusNotFound, &xe)
	if len(xe.Errors) != 1 || xe.Errors[0].Code != 404 || xe.Errors[0].Description == "" {
		t.Fatalf("errors.xml %+v", xe)
	}
}

func (f *fixture) testDefinition(t *testing.T) {
	r := f.get("/open311/v2/services/T-REPAIR.json?jurisdiction_id=320205001001")
	validJSON(t, r, http.StatusOK, "service-definition.json")
	var d struct {
		Code       string `json:"service_code"`
		Attributes []struct {
			Variable            bool
			Code                string
			Datatype            string
			Required            bool
			DatatypeDescription *string `json:"datatype_description"`
			Order               int
			Description         string
			Values              []struct{ Key, Name string }
		}
	}
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	type attr struct {
		code, datatype string
		required       bool
	}
	var got []attr
	for i, a := range d.Attributes {
		got = append(got, attr{a.Code, a.Datatype, a.Required})
		if !a.Variable || a.Order != i+1 || a.Description == "" || a.DatatypeDescription == nil {
			t.Errorf("attribute %+v", a)
		}
	}
	want := []attr{{"appliance", "singlevaluelist", true}, {"count", "number", false}, {"visit_day", "datetime", false},
		{"contact", "string", false}, {"problem", "text", true}}
	if d.Code != "T-REPAIR" || !slices.Equal(got, want) {
		t.Fatalf("definition %s %+v", d.Code, got)
	}
	if v := d.Attributes[0].Values; len(v) != 2 || v[0].Key != "tv" || v[0].Name != "电视机" || v[1].Key != "fridge" {
		t.Fatalf("values %+v", v)
	}
	if !strings.Contains(*d.Attributes[1].DatatypeDescription, "1–10") {
		t.Errorf("number bounds: %q", *d.Attributes[1].DatatypeDescription)
	}

	// a resident field is left to staff
	r = f.get("/open311/v2/services/T-VISIT.json")
	validJSON(t, r, http.StatusOK, "service-definition.json")
	if strings.Contains(r.String(), `"person"`) || !strings.Contains(r.String(), `"reason"`) {
		t.Fatalf("T-VISIT %s", r)
	}
	// no fields: an empty list
	r = f.get("/open311/v2/services/T-LOCK.json")
	validJSON(t, r, http.StatusOK, "service-definition.json")
	if !strings.Contains(r.String(), `"attributes":[]`) {
		t.Fatalf("T-LOCK %s", r)
	}

	var x xDefinition
	r = f.get("/open311/v2/services/T-REPAIR.xml")
	if n := strings.Count(r.String(), "<values>"); n != 1 {
		t.Errorf("%d <values> lists, want 1 (the choice field's)", n)
	}
	validXML(t, r, http.StatusOK, &x)
	if x.Code != "T-REPAIR" || len(x.Attributes) != 5 || x.Attributes[0].Datatype != "singlevaluelist" || !x.Attributes[0].Required ||
		len(x.Attributes[0].Values) != 2 || x.Attributes[0].Values[1].Name != "冰箱" || x.Attributes[4].Order != 5 {
		t.Fatalf("definition.xml %+v", x)
	}
	for _, code := range []string{"T-CERT", "T-ELDER", "NOPE"} {
		wantError(t, errorsOf(t, f.get("/open311/v2/services/"+code+".json"), http.StatusNotFound), code)
	}
}

func (f *fixture) testPost(t *testing.T) {
	before := f.count(`SELECT COUNT(*) FROM cases`)
	r := f.post("/open311/v2/requests.json", repair(f.key))
	validJSON(t, r, http.StatusOK, "request-response.json")
	var out []struct {
		ID        string  `json:"service_request_id"`
		Notice    string  `json:"service_notice"`
		AccountID *string `json:"account_id"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !numberRE.MatchString(out[0].ID) || !strings.HasPrefix(out[0].ID, "320205001001-") ||
		!strings.Contains(out[0].Notice, "3") || out[0].AccountID == nil || *out[0].AccountID != "u-42" {
		t.Fatalf("response %s", r)
	}
	if n := f.count(`SELECT COUNT(*) FROM cases`); n != before+1 {
		t.Fatalf("%d cases, want %d", n, before+1)
	}
	c, err := f.svc.ByNumber(f.ctx, f.admin, out[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Channel != window.ChannelOnline || c.State != window.StateSubmitted || c.Division != villageA || c.ItemCode != "T-REPAIR" ||
		c.ClientID == 0 || c.Token == "" || c.Applicant != "王芳" || c.PhoneMasked != "139****5678" ||
		c.Address != "门楼路 1 号 302 室" || c.Description != "电视机开不了机\nhttps://img.example.com/a/1.jpg" {
		t.Fatalf("case %+v", c)
	}
	if c.Fields["appliance"] != "tv" || c.Fields["count"] != "1" || c.Fields["visit_day"] != "2026-12-01" || c.Fields["problem"] == "" {
		t.Fatalf("fields %v", c.Fields)
	}
	// the resident finds it with the phone's last four digits
	if _, _, err := f.svc.Lookup(f.ctx, c.Number, "5678"); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	steps, err := f.svc.Steps(f.ctx, c)
	if err != nil || len(steps) != 1 || steps[0].Action != window.ActSubmit || steps[0].Actor != "open311:随手拍" {
		t.Fatalf("steps %+v %v", steps, err)
	}

	// XML, no fields, lat/long, a Latin name
	form := url.Values{"api_key": {f.key}, "service_code": {"T-LOCK"}, "lat": {"31.6001"}, "long": {"120.4001"},
		"first_name": {"John"}, "last_name": {"Smith"}, "phone": {"0510-88881234"}}
	var x xRequests
	validXML(t, f.post("/open311/v2/requests.xml", form), http.StatusOK, &x)
	if len(x.Requests) != 1 || !numberRE.MatchString(x.Requests[0].ID) || x.Requests[0].ServiceNotice == "" || x.Requests[0].Token != "" {
		t.Fatalf("requests.xml %+v", x)
	}
	c, err = f.svc.ByNumber(f.ctx, f.admin, x.Requests[0].ID)
	if err != nil || c.Division != villageA || c.Applicant != "Smith John" || c.Lat == nil || *c.Lat != 31.6001 {
		t.Fatalf("case %+v %v", c, err)
	}
	// an optional resident field is not offered, the rest works
	form = url.Values{"api_key": {f.key}, "jurisdiction_id": {"320205001002"}, "service_code": {"T-VISIT"}, "address_string": {"柏庄 3 号"},
		"last_name": {"李"}, "first_name": {"雷"}, "phone": {"13800001111"}, "attribute[reason]": {"看望独居老人"}}
	validJSON(t, f.post("/open311/v2/requests.json", form), http.StatusOK, "request-response.json")
}

func (f *fixture) testPostErrors(t *testing.T) {
	cases := f.count(`SELECT COUNT(*) FROM cases`)
	entries := f.count(`SELECT COUNT(*) FROM audit_log`)
	steps := f.count(`SELECT COUNT(*) FROM case_steps`)
	with := func(change func(url.Values)) url.Values {
		v := repair(f.key)
		change(v)
		return v
	}
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		want   []string
	}{
		{"no key", with(func(v url.Values) { v.Del("api_key") }), 403, []string{"api_key"}},
		{"unknown key", with(func(v url.Values) { v.Set("api_key", "o311_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") }), 403, []string{"api_key"}},
		{"not a key", with(func(v url.Values) { v.Set("api_key", "shq_abc") }), 403, []string{"api_key"}},
		{"revoked key", with(func(v url.Values) { v.Set("api_key", f.revoked) }), 403, []string{"api_key"}},
		{"wrong type", with(func(v url.Values) { v.Set("attribute[count]", "three") }), 400, []string{"attribute[count]"}},
		{"out of range", with(func(v url.Values) { v.Set("attribute[count]", "11") }), 400, []string{"attribute[count]"}},
		{"bad choice", with(func(v url.Values) { v.Set("attribute[appliance]", "car") }), 400, []string{"attribute[appliance]"}},
		{"bad date", with(func(v url.Values) { v.Set("attribute[visit_day]", "next monday") }), 400, []string{"attribute[visit_day]"}},
		{"unknown attribute", with(func(v url.Values) { v.Set("attribute[colour]", "red") }), 400, []string{"attribute[colour]"}},
		{"missing required attribute", with(func(v url.Values) { v.Del("attribute[problem]") }), 400, []string{"attribute[problem]"}},
		{"two values", with(func(v url.Values) { v["attribute[count]"] = []string{"1", "2"} }), 400, []string{"attribute[count]"}},
		{"malformed attribute", with(func(v url.Values) { v.Set("attribute[]", "x") }), 400, []string{"attribute[]"}},
		{"unknown service", with(func(v url.Values) { v.Set("service_code", "T-NOPE") }), 404, []string{"T-NOPE"}},
		{"window-only service", with(func(v url.Values) { v.Set("service_code", "T-CERT") }), 404, []string{"T-CERT"}},
		{"resident service", with(func(v url.Values) { v.Set("service_code", "T-ELDER") }), 404, []string{"T-ELDER"}},
		{"no service", with(func(v url.Values) { v.Del("service_code") }), 400, []string{"service_code"}},
		{"no location", with(func(v url.Values) { v.Del("address_string") }), 400, []string{"lat/long, address_string, address_id"}},
		{"lat without long", with(func(v url.Values) { v.Set("lat", "31.6") }), 400, []string{"lat/long"}},
		{"bad lat", with(func(v url.Values) { v.Set("lat", "91"); v.Set("long", "120") }), 400, []string{"lat"}},
		{"no phone", with(func(v url.Values) { v.Del("phone") }), 400, []string{"phone"}},
		{"bad phone", with(func(v url.Values) { v.Set("phone", "12") }), 400, []string{"phone"}},
		{"no name", with(func(v url.Values) { v.Del("first_name"); v.Del("last_name") }), 400, []string{"last_name/first_name"}},
		{"bad media", with(func(v url.Values) { v.Set("media_url", "javascript:alert(1)") }), 400, []string{"media_url"}},
		{"long description", with(func(v url.Values) { v.Set("description", strings.Repeat("长", 4001)) }), 400, []string{"description"}},
		{"bad jurisdiction", with(func(v url.Values) { v.Set("jurisdiction_id", "3202") }), 400, []string{"jurisdiction_id"}},
		{"unknown jurisdiction", with(func(v url.Values) { v.Set("jurisdiction_id", "320205009009") }), 404, []string{"320205009009"}},
		{"county jurisdiction", with(func(v url.Values) { v.Set("jurisdiction_id", "320205000000") }), 400, []string{"jurisdiction_id"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, errorsOf(t, f.post("/open311/v2/requests.json", c.form), c.status), c.want...)
		})
	}
	// several problems at once, in one array
	form := with(func(v url.Values) {
		v.Del("phone")
		v.Set("attribute[count]", "x")
		v.Set("attribute[appliance]", "car")
	})
	if descs := errorsOf(t, f.post("/open311/v2/requests.json", form), 400); len(descs) < 1 {
		t.Fatal("no errors")
	}
	form = with(func(v url.Values) { v.Set("attribute[count]", "x"); v.Set("attribute[appliance]", "car") })
	if descs := errorsOf(t, f.post("/open311/v2/requests.json", form), 400); len(descs) != 2 {
		t.Fatalf("want both attributes reported: %q", descs)
	}
	// XML errors
	var xe xErrors
	validXML(t, f.post("/open311/v2/requests.xml", with(func(v url.Values) { v.Set("api_key", f.revoked) })), 403, &xe)
	if len(xe.Errors) != 1 || xe.Errors[0].Code != 403 {
		t.Fatalf("errors.xml %+v", xe)
	}
	// a body over 64 KiB
	big := repair(f.key)
	big.Set("description", strings.Repeat("x", 70<<10))
	errorsOf(t, f.post("/open311/v2/requests.json", big), 400)
	// POST elsewhere
	errorsOf(t, f.post("/open311/v2/services.json", repair(f.key)), 404)

	if n := f.count(`SELECT COUNT(*) FROM cases`); n != cases {
		t.Fatalf("errors stored cases: %d, want %d", n, cases)
	}
	if n := f.count(`SELECT COUNT(*) FROM case_steps`); n != steps {
		t.Fatalf("errors stored steps: %d, want %d", n, steps)
	}
	if n := f.count(`SELECT COUNT(*) FROM audit_log`); n != entries {
		t.Fatalf("errors wrote %d audit entries", n-entries)
	}
}

func (f *fixture) testRouting(t *testing.T) {
	post := func(key string, change func(url.Values)) response {
		v := repair(key)
		v.Del("jurisdiction_id")
		change(v)
		return f.post("/open311/v2/requests.json", v)
	}
	division := func(r response) int64 {
		t.Helper()
		validJSON(t, r, http.StatusOK, "request-response.json")
		var out []struct {
			ID string `json:"service_request_id"`
		}
		_ = json.Unmarshal(r.body, &out)
		c, err := f.svc.ByNumber(f.ctx, f.admin, out[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.Division
	}
	// near 吼山社区's household (about 150 m)
	if d := division(post(f.key, func(v url.Values) { v.Set("lat", "31.7010"); v.Set("long", "120.5010") })); d != villageB {
		t.Errorf("near B: %d", d)
	}
	// near a household, but outside the client's division: its own township
	if d := division(post(f.keyTownA, func(v url.Values) { v.Set("lat", "31.7010"); v.Set("long", "120.5010") })); d != townA {
		t.Errorf("townA client near B: %d", d)
	}
	// far from every household: the client's township
	if d := division(post(f.keyTownA, func(v url.Values) { v.Set("lat", "31.9"); v.Set("long", "120.9") })); d != townA {
		t.Errorf("townA client far away: %d", d)
	}
	// far away, and the client has no township of its own
	wantError(t, errorsOf(t, post(f.key, func(v url.Values) { v.Set("lat", "31.9"); v.Set("long", "120.9") }), 400), "jurisdiction_id")
	// an address alone says nothing about where
	wantError(t, errorsOf(t, post(f.key, func(url.Values) {}), 400), "jurisdiction_id")
	// a jurisdiction outside the client's division
	wantError(t, errorsOf(t, post(f.keyTownA, func(v url.Values) { v.Set("jurisdiction_id", "320205002001") }), 403), "320205002001")
	// and inside it
	if d := division(post(f.keyTownA, func(v url.Values) { v.Set("jurisdiction_id", "320205001002") })); d != villageC {
		t.Errorf("townA client in C: %d", d)
	}
}

func (f *fixture) testGetRequests(t *testing.T) {
	// a walk-in case at the window: never published
	walkIn, err := f.svc.Intake(f.ctx, f.admin, window.Intake{Unit: villageA, ItemCode: "T-REPAIR", Channel: window.ChannelWindow,
		Name: "赵敏", Phone: "13700002222", Decision: window.DecideAccept,
		Fields: map[string]string{"appliance": "fridge", "problem": "不制冷"}})
	if err != nil {
		t.Fatal(err)
	}
	// an Open311 case, accepted and completed
	r := f.post("/open311/v2/requests.json", repair(f.key))
	validJSON(t, r, http.StatusOK, "request-response.json")
	var created []struct {
		ID string `json:"service_request_id"`
	}
	_ = json.Unmarshal(r.body, &created)
	c, err := f.svc.ByNumber(f.ctx, f.admin, created[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = f.svc.Do(f.ctx, f.admin, c.ID, window.Action{Kind: window.ActAccept}); err != nil {
		t.Fatal(err)
	}
	if c, err = f.svc.Do(f.ctx, f.admin, c.ID, window.Action{Kind: window.ActComplete, Outcome: window.OutcomeApproved, Note: "已上门修好"}); err != nil {
		t.Fatal(err)
	}

	r = f.get("/open311/v2/requests.json")
	validJSON(t, r, http.StatusOK, "requests.json")
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	online := f.count(`SELECT COUNT(*) FROM cases WHERE channel = 'online' AND client_id <> 0`)
	if len(list) != online || online < 5 {
		t.Fatalf("%d requests, want the %d online cases", len(list), online)
	}
	body := r.String()
	for _, private := range []string{walkIn.Number, "王芳", "赵敏", "13912345678", "5678", "139****", "电视机开不了机", "无法开机", "wang.fang",
		"已上门修好", "门楼路", "img.example.com"} {
		if strings.Contains(body, private) {
			t.Errorf("GET requests shows %q", private)
		}
	}
	var closed map[string]any
	for _, q := range list {
		if q["service_request_id"] == c.Number {
			closed = q
		}
		if q["requested_datetime"] == nil || !strings.HasSuffix(q["requested_datetime"].(string), "+08:00") {
			t.Errorf("requested_datetime %v", q["requested_datetime"])
		}
	}
	// the state only: the reason, the address, the point and the photo are the applicant's
	if closed == nil || closed["status"] != "closed" || closed["status_notes"] != "已办结" || closed["agency_responsible"] != "门楼社区居委会" ||
		closed["service_code"] != "T-REPAIR" || closed["service_name"] != "家电维修预约" || closed["media_url"] != nil ||
		closed["address"] != nil || closed["lat"] != nil || closed["expected_datetime"] == nil || closed["description"] != nil {
		t.Fatalf("closed request %v", closed)
	}
	if exp := closed["expected_datetime"].(string); !strings.HasSuffix(exp, "T23:59:59+08:00") {
		t.Errorf("expected_datetime %s", exp)
	}

	// filters
	count := func(query string) int {
		t.Helper()
		r := f.get("/open311/v2/requests.json?" + query)
		validJSON(t, r, http.StatusOK, "requests.json")
		var l []map[string]any
		_ = json.Unmarshal(r.body, &l)
		return len(l)
	}
	if n := count("status=closed"); n != 1 {
		t.Errorf("closed: %d", n)
	}
	if n := count("status=open,closed"); n != online {
		t.Errorf("open,closed: %d", n)
	}
	if n := count("status=open"); n != online-1 {
		t.Errorf("open: %d", n)
	}
	if n := count("service_code=T-LOCK"); n != 1 {
		t.Errorf("T-LOCK: %d", n)
	}
	if n := count("service_code=T-LOCK,T-VISIT"); n != 2 {
		t.Errorf("T-LOCK,T-VISIT: %d", n)
	}
	if n := count("jurisdiction_id=320205002000"); n != 1 {
		t.Errorf("in 安镇街道: %d", n)
	}
	if n := count("service_request_id=" + c.Number + "," + walkIn.Number + ",nope"); n != 1 {
		t.Errorf("by id: %d", n)
	}
	now := time.Now()
	day := func(d time.Duration) string { return url.QueryEscape(now.Add(d).Format(time.RFC3339)) }
	if n := count("start_date=" + day(-time.Hour) + "&end_date=" + day(time.Hour)); n != online {
		t.Errorf("last hour: %d", n)
	}
	if n := count("start_date=" + day(-48*time.Hour) + "&end_date=" + day(-24*time.Hour)); n != 0 {
		t.Errorf("yesterday: %d", n)
	}
	// a '+' that was not escaped arrives as a space
	if n := count("end_date=" + strings.ReplaceAll(now.Add(time.Hour).In(time.FixedZone("", 8*3600)).Format(time.RFC3339), "+", "%20")); n != online {
		t.Errorf("unescaped +: %d", n)
	}
	for _, q := range []string{"status=pending", "start_date=yesterday", "start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z",
		"start_date=2025-02-01&end_date=2025-01-01", "jurisdiction_id=12"} {
		errorsOf(t, f.get("/open311/v2/requests.json?"+q), 400)
	}
	errorsOf(t, f.get("/open311/v2/requests.json?jurisdiction_id=320205009009"), 404)

	// XML
	var x xRequests
	validXML(t, f.get("/open311/v2/requests.xml?status=closed"), http.StatusOK, &x)
	if len(x.Requests) != 1 || x.Requests[0].ID != c.Number || x.Requests[0].Status != "closed" || x.Requests[0].StatusNotes != "已办结" ||
		x.Requests[0].ServiceCode != "T-REPAIR" || !strings.HasSuffix(x.Requests[0].RequestedDatetime, "+08:00") ||
		x.Requests[0].AgencyResponsible != "门楼社区居委会" || x.Requests[0].MediaURL != "" || x.Requests[0].Address != "" {
		t.Fatalf("requests.xml %+v", x)
	}

	r = f.get("/open311/v2/requests.xml")
	if strings.Contains(r.String(), "<lat>") || !strings.Contains(r.String(), "<description></description>") {
		t.Errorf("requests.xml: no points, empty elements as in the specification's example:\n%s", r)
	}

	// one request
	r = f.get("/open311/v2/requests/" + c.Number + ".json")
	validJSON(t, r, http.StatusOK, "requests.json")
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 || list[0]["service_request_id"] != c.Number {
		t.Fatalf("one request %s", r)
	}
	x = xRequests{}
	validXML(t, f.get("/open311/v2/requests/"+c.Number+".xml"), http.StatusOK, &x)
	if len(x.Requests) != 1 || x.Requests[0].ID != c.Number {
		t.Fatalf("one request XML %+v", x)
	}
	// a window case and an unknown number are not found alike
	wantError(t, errorsOf(t, f.get("/open311/v2/requests/"+walkIn.Number+".json"), 404), walkIn.Number)
	errorsOf(t, f.get("/open311/v2/requests/320205001001-20260101-9999.json"), 404)
	xe := xErrors{}
	validXML(t, f.get("/open311/v2/requests/nope.xml"), http.StatusNotFound, &xe)
}

func (f *fixture) testTokens(t *testing.T) {
	var number, token string
	if err := f.d.QueryRow(f.ctx, `SELECT number, token FROM cases WHERE channel = 'online' ORDER BY id LIMIT 1`).Scan(&number, &token); err != nil {
		t.Fatal(err)
	}
	if len(token) != 32 {
		t.Fatalf("token %q", token)
	}
	r := f.get("/open311/v2/tokens/" + token + ".json")
	validJSON(t, r, http.StatusOK, "token-response.json")
	if !strings.Contains(r.String(), `"service_request_id":"`+number+`"`) {
		t.Fatalf("token: %s", r)
	}
	var x xRequests
	validXML(t, f.get("/open311/v2/tokens/"+token+".xml"), http.StatusOK, &x)
	if len(x.Requests) != 1 || x.Requests[0].ID != number || x.Requests[0].Token != token {
		t.Fatalf("token XML %+v", x)
	}
	errorsOf(t, f.get("/open311/v2/tokens/0123456789abcdef0123456789abcdef.json"), 404)
	// a window case has no token
	errorsOf(t, f.get("/open311/v2/tokens/.json"), 404)
}

func (f *fixture) testNearest(t *testing.T) {
	for _, c := range []struct {
		lat, lon float64
		want     int64
	}{
		{latA, lonA, villageA},
		{latA + 0.005, lonA, villageA}, // 556 m north
		{latB - 0.02, lonB, villageB},  // 2.2 km south
		{latA + 0.05, lonA + 0.05, 0},  // 7 km from both
	} {
		v, err := f.svc.Registry.NearestVillage(f.ctx, c.lat, c.lon, 3000)
		if c.want == 0 {
			if err != db.ErrNotFound {
				t.Errorf("%v,%v: %d %v, want not found", c.lat, c.lon, v, err)
			}
			continue
		}
		if err != nil || v != c.want {
			t.Errorf("%v,%v: %d %v, want %d", c.lat, c.lon, v, err, c.want)
		}
	}
	if _, err := f.svc.Registry.NearestVillage(f.ctx, 91, 0, 3000); err == nil {
		t.Error("latitude 91 accepted")
	}
}

func TestHTTPHeaders(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	r := f.get("/open311/v2/services.json")
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET without CORS: %v", r.header)
	}
	r = f.post("/open311/v2/requests.json", repair(f.key))
	if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("POST headers %v", r.header)
	}
	if r := f.get("/open311/v2/services.csv"); r.status != 404 {
		t.Errorf("csv: %d", r.status)
	}
}

// TestCrossOrigin shows how the app's CSRF protection (Go's
// CrossOriginProtection, around everything) treats Open311 POSTs: server
// and app clients send no Origin or Sec-Fetch-Site and pass; a browser page
// of another site is refused unless the API is exempted (it may be: it is
// authenticated by api_key, never by cookies).
func TestCrossOrigin(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	inner := f.h
	post := func(h http.Handler, hdr ...string) int {
		req := httptest.NewRequest(http.MethodPost, "/open311/v2/requests.json", strings.NewReader(repair(f.key).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	csrf := http.NewCrossOriginProtection()
	if code := post(csrf.Handler(inner)); code != http.StatusOK {
		t.Errorf("server-to-server POST: %d", code)
	}
	if code := post(csrf.Handler(inner), "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.org"); code != http.StatusForbidden {
		t.Errorf("cross-site browser POST: %d", code)
	}
	csrf.AddInsecureBypassPattern("POST /open311/v2/")
	if code := post(csrf.Handler(inner), "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.org"); code != http.StatusOK {
		t.Errorf("cross-site browser POST with the bypass: %d", code)
	}
}
