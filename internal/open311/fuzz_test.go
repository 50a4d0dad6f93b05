package open311

import (
	"math"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPostRequest feeds arbitrary form bodies to the POST Service Request
// parser: it must never panic, must report problems with printable
// parameter names, and whatever it accepts must be a complete, bounded
// request.
func FuzzPostRequest(f *testing.F) {
	for _, seed := range []string{
		"api_key=xyz&jurisdiction_id=320205001001&service_code=T-REPAIR&lat=37.76524078&long=-122.4212043&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001",
		"service_code=T-LOCK&address_id=42&phone=13912345678",
		"service_code=T-LOCK&lat=31.6&phone=1",
		"service_code=T-LOCK&lat=NaN&long=Inf&phone=1",
		"service_code=T-LOCK&lat=1e400&long=-0&phone=1",
		"attribute[a][]=1&attribute[a][]=2&attribute[a]=3&attribute=&attribute[]=x&attribute[[x]]=y",
		"service_code=%FF%FE&phone=%C0%80&address_string=%E4%B8",
		"description=" + strings.Repeat("%E9%95%BF", 4001),
		"media_url=javascript:alert(1)&media_url=https://x.example/1.jpg",
		"jurisdiction_id=32020500100100&service_code=+&phone=+",
		"attribute%5Bcount%5D=3&attribute%5Bvisit_day%5D=2026-12-01T09%3A00%3A00%2B08%3A00",
	} {
		f.Add(seed)
	}
	codeRE := regexp.MustCompile(`^(?:[0-9]{12}|[0-9]{15})?$`)
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return // net/http refuses such a body before the parser sees it
		}
		req, ps := parsePost(form)
		for _, p := range ps {
			for _, s := range []string{p.Param, describe("zh-CN", p), describe("en", p)} {
				if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
					t.Fatalf("problem text %q", s)
				}
			}
			if utf8.RuneCountInString(p.Param) > 80 {
				t.Fatalf("long parameter name %q", p.Param)
			}
		}
		if len(ps) > 0 {
			return
		}
		// accepted: complete and bounded
		if req.ServiceCode == "" || req.Phone == "" {
			t.Fatalf("accepted without service_code or phone: %+v", req)
		}
		if req.Lat == nil && req.AddressString == "" && req.AddressID == "" {
			t.Fatalf("accepted without a location: %+v", req)
		}
		if (req.Lat == nil) != (req.Long == nil) {
			t.Fatal("one coordinate only")
		}
		if req.Lat != nil && (math.IsNaN(*req.Lat) || math.Abs(*req.Lat) > 90 || math.IsNaN(*req.Long) || math.Abs(*req.Long) > 180) {
			t.Fatalf("coordinates %v %v", *req.Lat, *req.Long)
		}
		if !codeRE.MatchString(req.Jurisdiction) {
			t.Fatalf("jurisdiction %q", req.Jurisdiction)
		}
		for _, s := range []string{req.ServiceCode, req.AddressString, req.AddressID, req.Email, req.DeviceID, req.AccountID,
			req.FirstName, req.LastName, req.Phone, req.Description, req.MediaURL} {
			if !utf8.ValidString(s) || s != strings.TrimSpace(s) {
				t.Fatalf("value %q", s)
			}
		}
		if utf8.RuneCountInString(req.Description) > 4000 || utf8.RuneCountInString(req.FirstName) > 50 || utf8.RuneCountInString(req.LastName) > 50 {
			t.Fatal("unbounded value")
		}
		if req.MediaURL != "" {
			u, err := url.Parse(req.MediaURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("media_url %q", req.MediaURL)
			}
		}
		for k, v := range req.Attributes {
			if k == "" || strings.ContainsAny(k, "[]") || !utf8.ValidString(k) || !utf8.ValidString(v) || utf8.RuneCountInString(v) > 2000 {
				t.Fatalf("attribute %q=%q", k, v)
			}
		}
	})
}
