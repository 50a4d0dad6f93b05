package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/i18n"
)

//go:embed templates/*.html
var shellTemplates embed.FS

// NavItem is one entry of the main navigation. Key is a catalogue key; write it as a
// literal `NavItem{Key: "nav.x", …}` or through Msg so the catalogue test sees it.
type NavItem struct {
	Key, Href string
	Active    bool
}

// Shell is what the layout needs to know about the request: who is signed in, in which
// locale, what they may navigate to. Flash is a catalogue key (see Msg), shown once at
// the top of the page. A Shell with LoggedIn false and no Nav gives the bare layout of
// the login and error pages.
type Shell struct {
	UserName, Locale string
	Nav              []NavItem
	ScopeName        string
	LoggedIn         bool
	Flash            string
	CSRFToken        string
}

// View is the dot of every template: the page's own data is .Data.
type View struct {
	Shell  Shell
	Data   any
	Locale string // a supported locale; also the <html lang>
	Here   string // path and query of the current request, for "come back here" links
}

// page is one registered template file, parsed once per locale.
type page struct {
	source      string // file path, for messages
	partialOnly bool   // a "_name.html" file: blocks only, not a full page
	byLocale    map[string]*template.Template
}

// Renderer renders registered pages inside the shared layout. Register every page at
// start-up, before serving; rendering is safe for concurrent use.
//
// Template names: a page is named by its file's base name without ".html"
// ("templates/division_tree.html" is page "division_tree"). Names are global to the
// Renderer and Register rejects a duplicate, so name files after their package:
// division_tree.html, grid_incident_list.html, window_case_form.html. "error" is taken by
// the shell. A page file must define the blocks "title" and "content"; it may define
// "head" (extra <script>/<link> in <head>, e.g. ECharts on dashboards) and any other
// blocks for Partial. Block names are private to a page, so every page may have its own
// "rows". Files whose base name starts with "_" ("_grid_pager.html") are shared partials:
// their blocks are parsed into every page of the same Register call, and Partial can
// render them by the file's name ("_grid_pager").
type Renderer struct {
	shell  func(*http.Request) Shell
	logger *slog.Logger
	base   map[string]*template.Template // locale -> layout; cloned, never executed

	mu    sync.RWMutex
	pages map[string]*page
}

// NewRenderer returns a renderer whose layout gets its Shell from shell (nil: an empty
// Shell in the negotiated locale). It panics if the embedded shell templates are broken,
// which the package tests rule out.
func NewRenderer(shell func(*http.Request) Shell) *Renderer {
	rd := &Renderer{
		shell:  shell,
		logger: slog.Default(),
		base:   map[string]*template.Template{},
		pages:  map[string]*page{},
	}
	for _, loc := range i18n.Locales() {
		t, err := template.New("layout.html").Funcs(baseFuncs(loc)).ParseFS(shellTemplates, "templates/layout.html")
		if err != nil {
			panic(fmt.Sprintf("web: layout: %v", err))
		}
		rd.base[loc] = t
	}
	if err := rd.Register(shellTemplates, "templates/error.html", nil); err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	return rd
}

// SetLogger sets where template execution errors are logged (default slog.Default()).
func (rd *Renderer) SetLogger(l *slog.Logger) { rd.logger = l }

// Register parses the files of fsys matching pattern (fs.Glob syntax, e.g.
// "templates/*.html") once per locale, each with the layout, the common funcs and funcs
// (which may be nil, and may not replace t, tf or asset). See Renderer for naming.
func (rd *Renderer) Register(fsys fs.FS, pattern string, funcs template.FuncMap) error {
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		return fmt.Errorf("web: register %q: %w", pattern, err)
	}
	if len(files) == 0 {
		return fmt.Errorf("web: register %q: no file matches", pattern)
	}
	for name := range funcs {
		switch name {
		case "t", "tf", "asset":
			return fmt.Errorf("web: register %q: func %q is reserved", pattern, name)
		}
	}
	sort.Strings(files)
	type file struct{ path, name, text string }
	var partials, pages []file
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("web: register: %w", err)
		}
		ff := file{f, strings.TrimSuffix(path.Base(f), ".html"), string(b)}
		if strings.HasPrefix(ff.name, "_") {
			partials = append(partials, ff)
		} else {
			pages = append(pages, ff)
		}
	}

	// build parses the partials and then main (if any) into a fresh copy of the layout.
	build := func(loc string, main *file) (t *template.Template, err error) {
		defer func() { // template.Funcs panics on a malformed FuncMap
			if v := recover(); v != nil {
				err = fmt.Errorf("web: register %q: %v", pattern, v)
			}
		}()
		t, err = rd.base[loc].Clone()
		if err != nil {
			return nil, err
		}
		t.Funcs(funcs)
		for _, f := range partials {
			if _, err := t.New(f.path).Parse(f.text); err != nil {
				return nil, fmt.Errorf("web: %w", err)
			}
		}
		if main != nil {
			if _, err := t.New(main.path).Parse(main.text); err != nil {
				return nil, fmt.Errorf("web: %w", err)
			}
			for _, block := range []string{"title", "content"} {
				if t.Lookup(block) == nil {
					return nil, fmt.Errorf("web: %s: page defines no {{define %q}}", main.path, block)
				}
			}
		}
		return t, nil
	}

	// Names first, so that a duplicate is reported as such rather than as a parse error.
	seen := map[string]string{}
	rd.mu.RLock()
	for name, p := range rd.pages {
		seen[name] = p.source
	}
	rd.mu.RUnlock()
	for _, f := range append(append([]file(nil), pages...), partials...) {
		if src, dup := seen[f.name]; dup {
			return fmt.Errorf("web: %s: page name %q already used by %s", f.path, f.name, src)
		}
		seen[f.name] = f.path
	}

	out := map[string]*page{}
	add := func(f file, partialOnly bool, main *file) error {
		p := &page{source: f.path, partialOnly: partialOnly, byLocale: map[string]*template.Template{}}
		for _, loc := range i18n.Locales() {
			t, err := build(loc, main)
			if err != nil {
				return err
			}
			p.byLocale[loc] = t
		}
		out[f.name] = p
		return nil
	}
	for i := range pages {
		if err := add(pages[i], false, &pages[i]); err != nil {
			return err
		}
	}
	for _, f := range partials {
		if err := add(f, true, nil); err != nil {
			return err
		}
	}

	rd.mu.Lock()
	defer rd.mu.Unlock()
	for name, p := range out {
		if old, dup := rd.pages[name]; dup {
			return fmt.Errorf("web: %s: page name %q already used by %s", p.source, name, old.source)
		}
	}
	for name, p := range out {
		rd.pages[name] = p
	}
	return nil
}

// Page writes the page name inside the layout with the given status. The templates see
// a View: .Shell, .Data (= data), .Locale, .Here. Rendering goes to a buffer first, so a
// template error gives a clean 500 page, never half a page. Unless the handler set one,
// the response gets "Cache-Control: no-store": pages carry personal data and village
// offices share computers.
func (rd *Renderer) Page(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	rd.render(w, r, status, name, "layout", data, false)
}

// Partial writes only one block of a page (or of a "_" partial file) with the same View
// as Page, for htmx swaps.
func (rd *Renderer) Partial(w http.ResponseWriter, r *http.Request, status int, name, block string, data any) {
	rd.render(w, r, status, name, block, data, true)
}

func (rd *Renderer) render(w http.ResponseWriter, r *http.Request, status int, name, block string, data any, partial bool) {
	v := rd.view(r, data)
	buf, err := rd.execute(v, name, block, partial)
	if err != nil {
		rd.logger.ErrorContext(r.Context(), "web: render", "page", name, "block", block, "err", err)
		if name == "error" {
			plainError(w, v.Locale, http.StatusInternalServerError)
			return
		}
		rd.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	defer putBuf(buf)
	writeHTML(w, status, buf.Bytes())
}

func (rd *Renderer) view(r *http.Request, data any) View {
	var sh Shell
	if rd.shell != nil {
		sh = rd.shell(r)
	}
	if !i18n.Valid(sh.Locale) {
		sh.Locale = i18n.Negotiate(r)
	}
	return View{Shell: sh, Data: data, Locale: sh.Locale, Here: r.URL.RequestURI()}
}

func (rd *Renderer) execute(v View, name, block string, partial bool) (*bytes.Buffer, error) {
	rd.mu.RLock()
	p := rd.pages[strings.TrimSuffix(name, ".html")]
	rd.mu.RUnlock()
	if p == nil {
		return nil, fmt.Errorf("no page %q is registered", name)
	}
	if p.partialOnly && !partial {
		return nil, fmt.Errorf("%s holds partials only; use Partial", p.source)
	}
	t := p.byLocale[v.Locale]
	if t == nil {
		t = p.byLocale[i18n.Default]
	}
	if t.Lookup(block) == nil {
		return nil, fmt.Errorf("%s defines no block %q", p.source, block)
	}
	buf := getBuf()
	if err := t.ExecuteTemplate(buf, block, v); err != nil {
		putBuf(buf)
		return nil, err
	}
	return buf, nil
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorPage is the .Data of the "error" page.
type errorPage struct {
	Status         int
	Title, Message string // catalogue keys
}

var errorTitles = map[int]string{
	400: Msg("error.title.400"),
	403: Msg("error.title.403"),
	404: Msg("error.title.404"),
	413: Msg("error.title.413"),
	500: Msg("error.title.500"),
}

var errorMessages = map[int]string{
	400: Msg("error.msg.400"),
	403: Msg("error.msg.403"),
	404: Msg("error.msg.404"),
	413: Msg("error.msg.413"),
	500: Msg("error.msg.500"),
}

// Error writes the friendly error page for status (400, 403, 404, 413, 500, …) in the
// request's locale, with msgKey as its message ("" for the standard message of the
// status). It never shows internal details: log those before calling Error. For an htmx
// request it writes only the message, retargeted (HX-Retarget) into the page's #flash.
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, status int, msgKey string) {
	data := errorPage{Status: status, Title: errorTitles[status], Message: msgKey}
	if data.Title == "" {
		data.Title = Msg("error.title.other")
	}
	if data.Message == "" {
		data.Message = errorMessages[status]
		if data.Message == "" {
			data.Message = Msg("error.msg.other")
		}
	}
	h := w.Header()
	h.Del("Content-Encoding")
	h.Set("Cache-Control", "no-store")
	if r.Header.Get("HX-Request") == "true" {
		h.Set("HX-Retarget", "#flash")
		h.Set("HX-Reswap", "innerHTML")
		h.Set("X-Shequ-Error", strconv.Itoa(status))
		rd.render(w, r, status, "error", "message", data, true)
		return
	}
	rd.render(w, r, status, "error", "layout", data, false)
}

// plainError is the last resort when even the error page fails.
func plainError(w http.ResponseWriter, locale string, status int) {
	msg := errorMessages[status]
	if msg == "" {
		msg = Msg("error.msg.other")
	}
	http.Error(w, i18n.T(locale, msg), status)
}

// fallback renders the error pages of the middleware, which has no Renderer of its own.
var fallback = sync.OnceValue(func() *Renderer { return NewRenderer(nil) })

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// shanghai is China Standard Time. A fixed UTC+8 zone rather than time.LoadLocation: the
// binary must not depend on a tz database on a village office's Windows laptop, and China
// has kept UTC+8 without daylight saving since 1991.
var shanghai = time.FixedZone("CST", 8*60*60)

// baseFuncs are the funcs of every template, t and tf bound to locale.
//
//	t "key" args…     catalogue text (args optional)      {{t "nav.home"}}
//	tf "key" args…    the same, for texts with fmt verbs   {{tf "x.count" .N}}
//	asset "path"      versioned URL of a static file       {{asset "app.css"}}
//	datetime ms       unix milliseconds -> "2006-01-02 15:04" in China Standard Time
//	date ms           the same -> "2006-01-02"; both accept int64/int/time.Time/pointers, 0/nil -> ""
//	add a b           integer sum                          {{add $i 1}}
//	query s           url.QueryEscape, for URLs in attributes html/template does not know
//	                  as URLs (hx-get, data-*)             hx-get="/x?q={{query .Q}}"
//	json v            v as JSON, safe in <script type="application/json"> and attributes
//	dict k v …        a map[string]any for passing several values to a block
func baseFuncs(locale string) template.FuncMap {
	tr := func(key string, args ...any) string { return i18n.T(locale, key, args...) }
	return template.FuncMap{
		"t":        tr,
		"tf":       tr,
		"asset":    AssetURL,
		"datetime": func(v any) (string, error) { return formatTime(v, "2006-01-02 15:04") },
		"date":     func(v any) (string, error) { return formatTime(v, "2006-01-02") },
		"add": func(a, b any) (int64, error) {
			x, err := toInt(a)
			if err != nil {
				return 0, err
			}
			y, err := toInt(b)
			return x + y, err
		},
		"query": url.QueryEscape,
		// fmtday writes a YYYYMMDD day (an int) as 2006-01-02; 0 as "".
		"fmtday": func(d int) string {
			if d == 0 {
				return ""
			}
			return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
		},
		// kb is a size in bytes as whole KiB, rounded up.
		"kb": func(n int64) int64 { return (n + 1023) / 1024 },
		"json": func(v any) (template.JS, error) {
			b, err := json.Marshal(v) // escapes <, >, & so </script> cannot appear
			return template.JS(b), err
		},
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
}

func formatTime(v any, layout string) (string, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "", nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return "", nil
	}
	if t, ok := rv.Interface().(time.Time); ok {
		if t.IsZero() {
			return "", nil
		}
		return t.In(shanghai).Format(layout), nil
	}
	ms, err := toInt(rv.Interface())
	if err != nil {
		return "", err
	}
	if ms == 0 {
		return "", nil
	}
	return time.UnixMilli(ms).In(shanghai).Format(layout), nil
}

func toInt(v any) (int64, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint()), nil
	}
	return 0, fmt.Errorf("%v (%T) is not an integer", v, v)
}
