package web

import (
	"bytes"
	"compress/gzip"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/i18n"
)

func TestVendorAssetsPresent(t *testing.T) {
	for _, f := range []string{"vendor/htmx.min.js", "vendor/echarts.min.js", "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css"} {
		if a := assets()[f]; a == nil || len(a.body) == 0 {
			t.Errorf("static/%s is missing: run scripts/assets.sh (npm ci + copy into internal/platform/web/static/vendor/), then rebuild", f)
		}
	}
}

var testPages = fstest.MapFS{
	"templates/test_hello.html": {Data: []byte(`{{define "title"}}{{t "error.title.404"}}{{end}}
{{define "head"}}<script src="{{asset "vendor/echarts.min.js"}}" defer></script>{{end}}
{{define "content"}}<h1>{{t "error.home"}}</h1><p id="n">{{shout .Data.Name}}</p><p>{{datetime .Data.At}}</p>
<ul>{{block "rows" .}}{{range $i, $r := .Data.Rows}}<li>{{add $i 1}}. {{$r}}</li>{{end}}{{end}}</ul>
{{template "_test_pager" .}}{{end}}`)},
	"templates/_test_shared.html": {Data: []byte(`{{define "_test_pager"}}<nav class="pager">{{tf "error.code" 7}}</nav>{{end}}`)},
}

type helloData struct {
	Name string
	At   int64
	Rows []string
}

func newTestRenderer(t *testing.T, sh Shell) *Renderer {
	t.Helper()
	rd := NewRenderer(func(*http.Request) Shell { return sh })
	rd.SetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	err := rd.Register(testPages, "templates/*.html", template.FuncMap{"shout": strings.ToUpper})
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

var hello = helloData{Name: "li <lei>", At: time.Date(2025, 3, 1, 0, 30, 0, 0, time.UTC).UnixMilli(), Rows: []string{"a", "b"}}

func TestPageBothLocales(t *testing.T) {
	for _, c := range []struct{ loc, home, lang string }{
		{"zh-CN", "返回首页", `<html lang="zh-CN">`},
		{"en", "Back to the home page", `<html lang="en">`},
	} {
		rd := newTestRenderer(t, Shell{Locale: c.loc, LoggedIn: true, UserName: "王芳", CSRFToken: "tok123",
			Nav: []NavItem{{Key: "error.home", Href: "/", Active: true}}, Flash: "shell.offline"})
		w := httptest.NewRecorder()
		rd.Page(w, httptest.NewRequest("GET", "/x?y=1", nil), http.StatusOK, "test_hello", hello)
		body := w.Body.String()
		if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: %d %v", c.loc, w.Code, w.Header())
		}
		for _, want := range []string{
			c.lang, "<h1>" + c.home + "</h1>", "LI &lt;LEI&gt;", "2025-03-01 08:30", "<li>1. a</li><li>2. b</li>",
			i18n.T(c.loc, "error.code", 7), `aria-current="page"`, "王芳", `name="csrf_token" value="tok123"`,
			`<meta name="csrf-token" content="tok123">`, i18n.T(c.loc, "shell.offline"), `id="main"`, `class="skip-link"`,
			`/static/vendor/htmx.min.js?v=`, `/static/vendor/echarts.min.js?v=`, `/static/app.css?v=`, `next=%2fx%3fy%3d1`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: page lacks %q\n%s", c.loc, want, body)
			}
		}
		if m := regexp.MustCompile(`(?i)(src|href|action)="(https?:)?//`).FindString(body); m != "" {
			t.Errorf("%s: page loads from another host: %s", c.loc, m)
		}
	}
}

func TestLoginLayoutHasNoNav(t *testing.T) {
	rd := newTestRenderer(t, Shell{})
	r := httptest.NewRequest("GET", "/login", nil)
	r.Header.Set("Accept-Language", "en-US,en;q=0.9")
	w := httptest.NewRecorder()
	rd.Page(w, r, 200, "test_hello.html", hello)
	body := w.Body.String()
	if strings.Contains(body, "mainnav") || strings.Contains(body, "/logout") || !strings.Contains(body, `lang="en"`) {
		t.Errorf("bare layout wrong:\n%s", body)
	}
}

func TestPartial(t *testing.T) {
	rd := newTestRenderer(t, Shell{Locale: "en"})
	w := httptest.NewRecorder()
	rd.Partial(w, httptest.NewRequest("GET", "/", nil), 200, "test_hello", "rows", hello)
	if got := w.Body.String(); got != "<li>1. a</li><li>2. b</li>" {
		t.Errorf("partial = %q", got)
	}
	w = httptest.NewRecorder()
	rd.Partial(w, httptest.NewRequest("GET", "/", nil), 200, "_test_shared", "_test_pager", nil)
	if got := w.Body.String(); got != `<nav class="pager">Error code 7</nav>` {
		t.Errorf("shared partial = %q", got)
	}
	w = httptest.NewRecorder()
	rd.Partial(w, httptest.NewRequest("GET", "/", nil), 200, "test_hello", "nosuch", hello)
	if w.Code != 500 || strings.Contains(w.Body.String(), "nosuch") {
		t.Errorf("unknown block: %d %q", w.Code, w.Body.String())
	}
}

func TestRegisterErrors(t *testing.T) {
	rd := newTestRenderer(t, Shell{})
	if err := rd.Register(testPages, "templates/test_hello.html", nil); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("duplicate: %v", err)
	}
	bad := fstest.MapFS{"t/x_nocontent.html": {Data: []byte(`{{define "title"}}x{{end}}`)}}
	if err := rd.Register(bad, "t/*.html", nil); err == nil || !strings.Contains(err.Error(), `"content"`) {
		t.Errorf("missing content: %v", err)
	}
	if err := rd.Register(bad, "none/*.html", nil); err == nil {
		t.Error("empty pattern accepted")
	}
	if err := rd.Register(bad, "t/*.html", template.FuncMap{"t": strings.ToUpper}); err == nil {
		t.Error("reserved func accepted")
	}
	syntax := fstest.MapFS{"t/x_syntax.html": {Data: []byte(`{{define "title"}}{{.Foo{{end}}`)}}
	if err := rd.Register(syntax, "t/*.html", nil); err == nil || !strings.Contains(err.Error(), "t/x_syntax.html") {
		t.Errorf("syntax error should name the file: %v", err)
	}
}

func TestErrorPage(t *testing.T) {
	rd := newTestRenderer(t, Shell{Locale: "en"})
	for _, status := range []int{400, 403, 404, 413, 500, 418} {
		w := httptest.NewRecorder()
		rd.Error(w, httptest.NewRequest("GET", "/", nil), status, "")
		body := w.Body.String()
		if w.Code != status || !strings.Contains(body, "Error code "+http.StatusText(status)[:0]) {
			t.Errorf("%d: got %d", status, w.Code)
		}
		if strings.Contains(body, "error.") || strings.Contains(body, "goroutine") {
			t.Errorf("%d: raw key or stack in page:\n%s", status, body)
		}
	}
	w := httptest.NewRecorder()
	rd.Error(w, httptest.NewRequest("GET", "/", nil), 404, "")
	if !strings.Contains(w.Body.String(), "Page not found") || !strings.Contains(w.Body.String(), "outside your jurisdiction") {
		t.Errorf("404 page:\n%s", w.Body.String())
	}
	// zh-CN
	rd = newTestRenderer(t, Shell{Locale: "zh-CN"})
	w = httptest.NewRecorder()
	rd.Error(w, httptest.NewRequest("GET", "/", nil), 403, "")
	if !strings.Contains(w.Body.String(), "无权访问") {
		t.Errorf("zh 403:\n%s", w.Body.String())
	}
	// htmx: only the message, retargeted into #flash.
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("HX-Request", "true")
	w = httptest.NewRecorder()
	rd.Error(w, r, 403, "")
	if w.Code != 403 || w.Header().Get("HX-Retarget") != "#flash" || strings.Contains(w.Body.String(), "<html") ||
		!strings.Contains(w.Body.String(), i18n.T("zh-CN", "error.msg.403")) {
		t.Errorf("htmx error: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
}

func TestRecoverNoStack(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := Recover(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "half=done")
		panic("secret detail 110101199003077777")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
	body := w.Body.String()
	if w.Code != 500 || strings.Contains(body, "secret") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
		t.Errorf("500 page leaks: %d\n%s", w.Code, body)
	}
	if !strings.Contains(body, i18n.T(i18n.Default, "error.title.500")) || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("500 page wrong: %v\n%s", w.Header(), body)
	}
	if !strings.Contains(logs.String(), "secret detail") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("panic not logged: %s", logs.String())
	}
}

func get(t *testing.T, h http.Handler, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStatic(t *testing.T) {
	h := Static()
	css, _ := staticFiles.ReadFile("static/app.css")
	url := AssetURL("app.css")
	if !strings.HasPrefix(url, "/static/app.css?v=") || AssetURL("/static/app.css") != url {
		t.Fatalf("AssetURL = %q", url)
	}
	w := get(t, h, url, map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	hd := w.Header()
	if w.Code != 200 || hd.Get("Content-Encoding") != "gzip" || hd.Get("Content-Type") != "text/css; charset=utf-8" ||
		hd.Get("Cache-Control") != "public, max-age=31536000, immutable" || hd.Get("Vary") != "Accept-Encoding" || hd.Get("ETag") == "" {
		t.Fatalf("gzip static: %d %v", w.Code, hd)
	}
	if !bytes.Equal(gunzip(t, w.Body.Bytes()), css) {
		t.Error("gzip body differs from app.css")
	}
	w = get(t, h, "/static/app.css", nil)
	if w.Header().Get("Content-Encoding") != "" || w.Header().Get("Cache-Control") != "no-cache" || !bytes.Equal(w.Body.Bytes(), css) {
		t.Errorf("plain static: %v", w.Header())
	}
	w = get(t, h, "/static/app.css", map[string]string{"If-None-Match": hd.Get("ETag"), "Accept-Encoding": "gzip"})
	if w.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", w.Code)
	}
	w = get(t, h, "/static/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if w.Header().Get("Content-Encoding") != "" || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("app.js: %v", w.Header())
	}
	if w := get(t, h, "/static/favicon.svg", nil); w.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon: %v", w.Header())
	}
	for _, p := range []string{"/static/nope.css", "/static/", "/static/vendor", "/static/../web.go"} {
		if w := get(t, h, p, nil); w.Code != 404 {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
}

// TestPageWeight: the layout with a page, app.css, app.js and htmx, gzip-compressed, must
// stay under 150 KB (ECharts, loaded only by dashboards, aside).
func TestPageWeight(t *testing.T) {
	rd := newTestRenderer(t, Shell{Locale: "zh-CN", LoggedIn: true, UserName: "王芳",
		Nav: []NavItem{{Key: "error.home", Href: "/"}, {Key: "error.title.404", Href: "/a"}}})
	w := httptest.NewRecorder()
	rd.Page(w, httptest.NewRequest("GET", "/", nil), 200, "test_hello", hello)
	total := len(gz(w.Body.Bytes()))
	for _, f := range []string{"app.css", "app.js", "favicon.svg", "vendor/htmx.min.js"} {
		a := assets()[f]
		if a == nil {
			t.Fatalf("%s missing: run scripts/assets.sh", f)
		}
		n := len(a.body)
		if a.gz != nil {
			n = len(a.gz)
		}
		t.Logf("%-20s %6d bytes transferred", f, n)
		total += n
	}
	t.Logf("total %d bytes", total)
	if total >= 150*1024 {
		t.Errorf("shell weighs %d bytes gzip-compressed, limit 150 KB", total)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestSecurityHeaders(t *testing.T) {
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	w := get(t, h, "/", nil)
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "img-src 'self' data: blob:", "style-src 'self' 'unsafe-inline'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-eval") {
		t.Error("CSP allows eval")
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q", k, got)
		}
	}
}

func TestMaxBody(t *testing.T) {
	var sawTooLarge bool
	h := MaxBody(100)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			sawTooLarge = BodyTooLarge(err)
			w.WriteHeader(413)
			return
		}
		w.WriteHeader(204)
	}))
	r := httptest.NewRequest("POST", "/", strings.NewReader("a="+strings.Repeat("x", 200)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept-Language", "en")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 413 || !strings.Contains(w.Body.String(), "larger than the system accepts") {
		t.Errorf("declared length: %d %s", w.Code, w.Body.String())
	}
	// Chunked body (no Content-Length): the handler's read fails.
	r = httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("a="), strings.NewReader(strings.Repeat("x", 200))))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 413 || !sawTooLarge {
		t.Errorf("streamed body: %d %v", w.Code, sawTooLarge)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("a=1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 204 {
		t.Errorf("small body: %d", w.Code)
	}
}

func TestGzipMiddleware(t *testing.T) {
	big := strings.Repeat("<p>社区治理</p>\n", 500)
	h := Gzip(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, big[:100])
			io.WriteString(w, big[100:])
		case "/sniff":
			io.WriteString(w, big)
		case "/small":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			io.WriteString(w, `{"ok":true}`)
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(bytes.Repeat([]byte{0}, 5000))
		case "/empty":
			w.WriteHeader(204)
		}
	}))
	ae := map[string]string{"Accept-Encoding": "gzip"}
	w := get(t, h, "/big", ae)
	if w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("Vary") != "Accept-Encoding" || string(gunzip(t, w.Body.Bytes())) != big {
		t.Errorf("big: %v", w.Header())
	}
	w = get(t, h, "/sniff", ae)
	if w.Header().Get("Content-Encoding") != "gzip" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("sniff: %v", w.Header())
	}
	w = get(t, h, "/small", ae)
	if w.Code != 201 || w.Header().Get("Content-Encoding") != "" || w.Body.String() != `{"ok":true}` {
		t.Errorf("small: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	w = get(t, h, "/png", ae)
	if w.Header().Get("Content-Encoding") != "" || w.Body.Len() != 5000 {
		t.Errorf("png: %v", w.Header())
	}
	if w = get(t, h, "/empty", ae); w.Code != 204 || w.Header().Get("Content-Encoding") != "" {
		t.Errorf("empty: %d %v", w.Code, w.Header())
	}
	if w = get(t, h, "/big", nil); w.Header().Get("Content-Encoding") != "" || w.Body.String() != big {
		t.Errorf("no accept-encoding: %v", w.Header())
	}
	// Precompressed static files pass through untouched.
	w = get(t, Gzip(Static()), AssetURL("app.css"), ae)
	css, _ := staticFiles.ReadFile("static/app.css")
	if !bytes.Equal(gunzip(t, w.Body.Bytes()), css) {
		t.Error("static through Gzip was double-compressed")
	}
}

func TestRequestLogNoQuery(t *testing.T) {
	var logs bytes.Buffer
	h := RequestLog(slog.New(slog.NewTextHandler(&logs, nil)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		io.WriteString(w, "x")
	}))
	get(t, h, "/residents?q=110101199003077777&name=张三", nil)
	line := logs.String()
	if strings.Contains(line, "110101") || strings.Contains(line, "张三") || strings.Contains(line, "q=") {
		t.Errorf("query string logged: %s", line)
	}
	for _, want := range []string{"method=GET", "path=/residents", "status=404", "duration=", "bytes=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("log lacks %q: %s", want, line)
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("bad prefix accepted")
	}
	cases := []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"203.0.113.9:5000", "1.2.3.4", nil, "203.0.113.9"},
		{"127.0.0.1:5000", "1.2.3.4", nil, "127.0.0.1"},
		{"203.0.113.9:5000", "1.2.3.4", trusted, "203.0.113.9"},              // not from a proxy: header ignored
		{"127.0.0.1:5000", "1.2.3.4", trusted, "1.2.3.4"},                    // from the proxy
		{"127.0.0.1:5000", "6.6.6.6, 1.2.3.4, 10.1.1.1", trusted, "1.2.3.4"}, // forged left part ignored
		{"127.0.0.1:5000", "garbage, 10.1.1.1", trusted, "10.1.1.1"},
		{"[::ffff:127.0.0.1]:80", "1.2.3.4", trusted, "1.2.3.4"},
	}
	for _, c := range cases {
		var got netip.Addr
		h := RealIP(c.trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientIP(r) }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		r.Header.Set("X-Forwarded-For", c.xff)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got.String() != c.want {
			t.Errorf("%s %q: got %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	if ClientIP(r).String() != "192.0.2.1" {
		t.Error("ClientIP without RealIP")
	}
}

func TestLocaleSwitch(t *testing.T) {
	h := LocaleSwitch()
	w := get(t, h, "/lang?to=en&next=/grid/incidents%3Fpage%3D2", nil)
	if w.Code != 303 || w.Header().Get("Location") != "/grid/incidents?page=2" || !strings.Contains(w.Header().Get("Set-Cookie"), "lang=en") {
		t.Errorf("switch: %d %v", w.Code, w.Header())
	}
	for _, next := range []string{"//evil.example", "/%5Cevil.example", "https://evil.example/", "javascript:alert(1)", ""} {
		w := get(t, h, "/lang?to=zh-CN&next="+next, nil)
		if loc := w.Header().Get("Location"); loc != "/" {
			t.Errorf("next %q redirected to %q", next, loc)
		}
	}
	if w := get(t, h, "/lang?to=fr&next=/", nil); w.Header().Get("Set-Cookie") != "" {
		t.Error("unsupported locale stored")
	}
}

func TestFuncs(t *testing.T) {
	f := baseFuncs("en")
	dt := f["datetime"].(func(any) (string, error))
	ms := time.Date(2024, 12, 31, 16, 5, 0, 0, time.UTC).UnixMilli()
	for _, c := range []struct {
		in   any
		want string
	}{{ms, "2025-01-01 00:05"}, {int64(0), ""}, {(*int64)(nil), ""}, {&ms, "2025-01-01 00:05"}, {time.UnixMilli(ms), "2025-01-01 00:05"}, {nil, ""}} {
		if got, err := dt(c.in); err != nil || got != c.want {
			t.Errorf("datetime(%v) = %q, %v", c.in, got, err)
		}
	}
	if got, _ := f["date"].(func(any) (string, error))(ms); got != "2025-01-01" {
		t.Errorf("date = %q", got)
	}
	if _, err := dt("x"); err == nil {
		t.Error("datetime accepted a string")
	}
	if got, _ := f["json"].(func(any) (template.JS, error))(map[string]string{"a": "</script>"}); strings.Contains(string(got), "</") {
		t.Errorf("json = %s", got)
	}
}
