package i18n

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// keyRE is the shape of a catalogue key: lower-case dotted words, at least one dot.
const keyRE = `[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+`

// Where TestCatalogueComplete looks for keys. A key is found only when written as a
// string literal in one of these forms; a key computed at run time (a nav item built from
// a variable, `{{t .Data.Key}}`, `{{t (print "role." .Role)}}`) is invisible to the
// test, so wrap such literals with web.Msg("key") where they are written. Key families
// built at run time (role.*, division.level.*, …) are listed in the catalogue files
// and reported by this test as "not found literally" (a log line, not a failure).
//
// Templates (*.html):
//
//	{{t "key"   {{- t "key"   (t "key"   … tf "key"      (t / tf preceded by {{, ( or space)
//
// Go code (*.go; test files and // comment lines excluded, so that tests and doc
// examples may use made-up keys):
//
//	i18n.T(<one argument>, "key"       e.g. i18n.T(loc, "key"), i18n.T(i18n.Negotiate(r), "key")
//	.T("key"                            a method T on a per-request localizer
//	Msg("key"                           web.Msg("key"), or Msg("key") inside package web
//	NavItem{Key: "key"                  web.NavItem{Key: "nav.divisions", Href: …}
//	.Error(…, "key")                    rd.Error(w, r, http.StatusForbidden, "key")
var (
	templatePatterns = []*regexp.Regexp{
		regexp.MustCompile(`(?:\{\{-?\s*|\(\s*|\s)tf?\s+"(` + keyRE + `)"`),
	}
	goPatterns = []*regexp.Regexp{
		regexp.MustCompile(`i18n\.T\(\s*(?:"[^"\n]*"|[^",()\n]*(?:\([^()\n]*\))?[^",()\n]*)\s*,\s*"(` + keyRE + `)"`),
		regexp.MustCompile(`\.T\(\s*"(` + keyRE + `)"`),
		regexp.MustCompile(`\bMsg\(\s*"(` + keyRE + `)"`),
		regexp.MustCompile(`\bNavItem\{\s*Key:\s*"(` + keyRE + `)"`),
		regexp.MustCompile(`\.Error\([^"\n]*,\s*"(` + keyRE + `)"\s*\)`),
	}
)

// skipDirs are never walked: dependencies, generated assets, data, test fixtures.
var skipDirs = map[string]bool{
	"node_modules": true, "vendor": true, "testdata": true, "bin": true, "shequ-data": true,
}

type use struct {
	file string
	line int
}

func scanRepo(t *testing.T, root string) map[string][]use {
	t.Helper()
	used := map[string][]use{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || skipDirs[name]) {
				return filepath.SkipDir
			}
			return nil
		}
		var pats []*regexp.Regexp
		switch {
		case strings.HasSuffix(name, ".html"):
			pats = templatePatterns
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			pats = goPatterns
		default:
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue // Go comments (doc examples) are not uses
			}
			for _, re := range pats {
				for _, m := range re.FindAllStringSubmatch(line, -1) {
					used[m[1]] = append(used[m[1]], use{filepath.ToSlash(rel), i + 1})
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return used
}

func TestCatalogueComplete(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	used := scanRepo(t, root)
	if len(used) == 0 {
		t.Fatal("no keys found at all: the scan patterns are broken")
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, loc := range Locales() {
			if !Has(loc, k) {
				u := used[k][0]
				t.Errorf("key %q used at %s:%d is missing from locales/%s.yaml", k, u.file, u.line, loc)
			}
		}
	}
	// Keys in one locale only.
	for _, a := range Locales() {
		for _, b := range Locales() {
			if a == b {
				continue
			}
			for _, k := range Keys(a) {
				if !Has(b, k) {
					t.Errorf("key %q is in locales/%s.yaml but not in locales/%s.yaml", k, a, b)
				}
			}
		}
	}
	var unused []string
	for _, k := range Keys(Default) {
		if _, ok := used[k]; !ok {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		// Not an error: some keys are chosen at run time (error titles by status, …).
		t.Logf("%d keys not found literally in code or templates (used dynamically, or stale): %s",
			len(unused), strings.Join(unused, ", "))
	}
}

var verbRE = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[a-zA-Z%]`)

func verbs(s string) []string {
	v := verbRE.FindAllString(s, -1)
	v = slices.DeleteFunc(v, func(x string) bool { return x == "%%" })
	sort.Strings(v)
	return v
}

func TestCatalogueTexts(t *testing.T) {
	key := regexp.MustCompile(`^` + keyRE + `$`)
	for _, loc := range Locales() {
		for _, k := range Keys(loc) {
			if !key.MatchString(k) {
				t.Errorf("%s: key %q is not lower-case dotted words", loc, k)
			}
			text := T(loc, k)
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: key %q has an empty text", loc, k)
			}
			if loc != Default && Has(Default, k) {
				if a, b := verbs(T(Default, k)), verbs(text); !slices.Equal(a, b) {
					t.Errorf("key %q: format verbs differ: %s %v, %s %v", k, Default, a, loc, b)
				}
			}
		}
	}
}

func TestT(t *testing.T) {
	if got := T("zh-CN", "error.code", 404); got != "错误代码 404" {
		t.Errorf("zh-CN: %q", got)
	}
	if got := T("en", "error.code", 404); got != "Error code 404" {
		t.Errorf("en: %q", got)
	}
	if got := T("fr", "error.home"); got != T(Default, "error.home") {
		t.Errorf("unknown locale should fall back to default, got %q", got)
	}
	if got := T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
	if !Has("en", "error.home") || Has("en", "no.such.key") || Has("fr", "error.home") {
		t.Error("Has is wrong")
	}
	if got := Locales(); !slices.Equal(got, []string{"zh-CN", "en"}) {
		t.Errorf("Locales() = %v", got)
	}
}

func TestNegotiate(t *testing.T) {
	cases := []struct {
		cookie, accept, want string
	}{
		{"", "", "zh-CN"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"},
		{"", "en;q=0.5, zh-TW;q=0.8", "zh-CN"},
		{"", "fr-FR, de;q=0.9", "zh-CN"},
		{"", "fr-FR, en-GB;q=0.3", "en"},
		{"en", "zh-CN", "en"},
		{"zh-CN", "en", "zh-CN"},
		{"klingon", "en", "en"},
		{"", "en;q=abc, zh", "zh-CN"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: CookieName, Value: c.cookie})
		}
		if c.accept != "" {
			r.Header.Set("Accept-Language", c.accept)
		}
		if got := Negotiate(r); got != c.want {
			t.Errorf("cookie %q accept %q: got %s, want %s", c.cookie, c.accept, got, c.want)
		}
	}
}

func TestScanPatterns(t *testing.T) {
	tpl := `<a>{{t "nav.home"}}</a> {{- t "nav.trim"}} {{printf "%s" (t "nav.paren")}} {{tf "x.count" .N}} {{.Title | t}}`
	var got []string
	for _, re := range templatePatterns {
		for _, m := range re.FindAllStringSubmatch(tpl, -1) {
			got = append(got, m[1])
		}
	}
	if want := []string{"nav.home", "nav.trim", "nav.paren", "x.count"}; !slices.Equal(got, want) {
		t.Errorf("templates: got %v, want %v", got, want)
	}
	src := `i18n.T(loc, "a.one") i18n.T(i18n.Negotiate(r), "a.two") i18n.T("en", "a.three") l.T("a.four")` +
		` web.Msg("a.five") web.NavItem{Key: "a.six", Href: "/"} rd.Error(w, r, http.StatusForbidden, "a.seven") fmt.Errorf("b.no")`
	got = nil
	for _, re := range goPatterns {
		for _, m := range re.FindAllStringSubmatch(src, -1) {
			got = append(got, m[1])
		}
	}
	sort.Strings(got)
	if want := []string{"a.five", "a.four", "a.one", "a.seven", "a.six", "a.three", "a.two"}; !slices.Equal(got, want) {
		t.Errorf("go: got %v, want %v", got, want)
	}
}
