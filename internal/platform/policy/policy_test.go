package policy_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shequ-platform/shequ/internal/platform/policy"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// loadErrors returns the individual errors of a Load result.
func loadErrors(t *testing.T, err error) []*policy.Error {
	t.Helper()
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Load error %T is not a joined error: %v", err, err)
	}
	var out []*policy.Error
	for _, e := range joined.Unwrap() {
		var pe *policy.Error
		if !errors.As(e, &pe) {
			t.Fatalf("Load error %T is not a *policy.Error: %v", e, e)
		}
		out = append(out, pe)
	}
	return out
}

func mustLoadEmbedded(t *testing.T) *policy.Set {
	t.Helper()
	s, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatalf("embedded packs: %v", err)
	}
	return s
}

func TestEmbeddedPacks(t *testing.T) {
	s := mustLoadEmbedded(t)
	want := []struct {
		name, source, village string
		year                  int
		bind                  []int64
	}{
		{"dongguan-2016", "001_deb20732d91882d8.txt", "村(社区)", 2016, []int64{441900000000000}},
		{"nanhai-2009", "000_b2d2269a05886580.txt", "农村社区", 2009, []int64{440605000000000}},
		{"nantong-2011", "004_55e2a8d3f4fed65a.txt", "社区", 2011, []int64{320600000000000}},
		{"shaxian-2012", "003_0ebe54060e518e61.txt", "村(社区)", 2012, []int64{350427000000000, 350405000000000}},
		{"xishan-2008", "002_003132fcd8921ba3.txt", "村(社区)", 2008, []int64{320205000000000}},
	}
	packs := s.Packs()
	if len(packs) != len(want) {
		t.Fatalf("got %d packs, want %d", len(packs), len(want))
	}
	for i, w := range want {
		p := packs[i]
		if p.Name != w.name || p.Source != w.source || p.Year != w.year || !slices.Equal(p.Bind, w.bind) {
			t.Errorf("pack %d = %s %s %d %v, want %s %s %d %v", i, p.Name, p.Source, p.Year, p.Bind, w.name, w.source, w.year, w.bind)
		}
		if s.Get(w.name) != p {
			t.Errorf("Get(%q) does not return the pack", w.name)
		}
		if got := p.Levels["village"].Get("zh-CN"); got != w.village {
			t.Errorf("%s: village level = %q, want %q", w.name, got, w.village)
		}
		if p.Dir != w.name {
			t.Errorf("%s: Dir = %q", w.name, p.Dir)
		}
		if p.Title.Get("en") == "" || p.Title.Get("zh-CN") == "" {
			t.Errorf("%s: title lacks zh-CN or en: %v", w.name, p.Title)
		}
		if len(p.Roles) != 7 {
			t.Errorf("%s: %d roles, want 7", w.name, len(p.Roles))
		}
		// The foundation rules every pack cites.
		for _, id := range []string{"NT-2", "DG-15"} {
			if !slices.Contains(p.Seeds, id) {
				t.Errorf("%s: seeds lack %s", w.name, id)
			}
		}
		for _, root := range p.Bind {
			if s.For(root) != p {
				t.Errorf("%s: For(own root %d) = %v", w.name, root, s.For(root))
			}
		}
	}
	if _, ok := s.Get("dongguan-2016").Levels["county"]; ok {
		t.Error("dongguan-2016 names a county level; Dongguan has none")
	}
	if s.Get("nope") != nil {
		t.Error("Get(unknown) != nil")
	}
}

func TestFor(t *testing.T) {
	embedded := mustLoadEmbedded(t)
	nested, err := policy.LoadDir("testdata/nested")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		set      *policy.Set
		division int64
		want     string // "" for nil
	}{
		// Embedded packs. 320205001001 门楼社区居委会, a village of 锡山区.
		{embedded, 320205001001000, "xishan-2008"},
		{embedded, 320205001001007, "xishan-2008"}, // a grid of it
		{embedded, 320205102200000, "xishan-2008"}, // 羊尖村委会
		{embedded, 320205000000000, "xishan-2008"}, // the district itself
		{embedded, 320206000000000, ""},            // 惠山区, another district of Wuxi
		{embedded, 320200000000000, ""},            // 无锡市 encloses Xishan but is not bound
		{embedded, 110101001001000, ""},            // Beijing
		{embedded, 440605011001000, "nanhai-2009"}, // 桂一社区
		{embedded, 441900003000000, "dongguan-2016"},
		{embedded, 441900003001012, "dongguan-2016"},
		{embedded, 350427101201000, "shaxian-2012"}, // 澄江楼村 under 2016 沙县
		{embedded, 350405100000000, "shaxian-2012"}, // 青州镇 under 2023 沙县区
		{embedded, 320681100001000, "nantong-2011"}, // 启东市 幸福一村
		{embedded, 320205001001, ""},                // 12-digit code: not a 15-digit division
		{embedded, 0, ""},
		{embedded, -320205001001000, ""},
		{nil, 320205001001000, ""},
		// Nested test packs: the most specific root wins.
		{nested, 320200000000000, "wuxi-test"},
		{nested, 320206000000000, "wuxi-test"},
		{nested, 320206001001000, "wuxi-test"},
		{nested, 320205000000000, "xishan-test"},
		{nested, 320205102200000, "xishan-test"},
		{nested, 320205001000000, "dongting-test"},
		{nested, 320205001002000, "dongting-test"},
		{nested, 320205001001000, "dongting-test"},
		{nested, 320205001001007, "menlou-grid-test"},
		{nested, 320205001001008, "dongting-test"},
		{nested, 320600000000000, ""},
	}
	for _, tt := range tests {
		got := ""
		if p := tt.set.For(tt.division); p != nil {
			got = p.Name
		}
		if got != tt.want {
			t.Errorf("For(%d) = %q, want %q", tt.division, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"syntax", []string{
			"p/pack.yaml:1: did not find expected ',' or '}'",
		}},
		{"unknown-field", []string{
			"p/pack.yaml:7:1: colour: unknown field",
			"p/pack.yaml:10:3: levels.hamlet: unknown level (want one of province, prefecture, county, township, village, grid)",
			"p/pack.yaml:18:3: roles.mayor: unknown role (want one of system_admin, county_staff, township_staff, village_staff, grid_worker, special_groups_officer, viewer)",
		}},
		{"missing-required", []string{
			"p/pack.yaml:1:1: source: missing required field",
			"p/pack.yaml:1:1: year: missing required field",
			"p/pack.yaml:6:1: roles.viewer: missing role label",
		}},
		{"wrong-type", []string{
			"p/pack.yaml:2:8: title: want a mapping, got a string",
			"p/pack.yaml:4:7: year: want an integer, got a string",
			"p/pack.yaml:5:7: bind: want a list, got an integer",
			"p/pack.yaml:6:8: seeds: want a list, got a mapping",
			"p/pack.yaml:8:12: levels.village: want a mapping, got a sequence",
			"p/pack.yaml:9:21: levels.township.zh-CN: want a string, got an integer (quote it)",
		}},
		{"name-mismatch", []string{
			`p/pack.yaml:1:1: name: "xishan-2008" does not match its directory "p"`,
		}},
		{"bad-seed", []string{
			`p/pack.yaml:8:5: seeds[1]: "XS1" is not a seed rule id (want NH-1, DG-15, …)`,
			"p/pack.yaml:9:5: seeds[2]: XS-99 is not a rule in shared/seeds/README.md",
			"p/pack.yaml:10:5: seeds[3]: NH-01 is not a rule in shared/seeds/README.md",
			"p/pack.yaml:11:5: seeds[4]: XS-1 is listed twice",
		}},
		{"bind-malformed", []string{
			`p/pack.yaml:6:5: bind[0]: "32020" is not a division code (want 6, 9, 12 or 15 digits)`,
			`p/pack.yaml:7:5: bind[1]: "32O205" is not a division code (digits only)`,
			`p/pack.yaml:8:5: bind[2]: "002005" is not a division code (no province 00)`,
			"p/pack.yaml:9:5: bind[3]: want a division code, got a number",
			"p/pack.yaml:10:5: bind[4]: want a division code, got a mapping",
			"p/pack.yaml:12:5: bind[6]: division 320205000000000 is listed twice (also bind[5])",
			"p/pack.yaml:13:5: bind[7]: want a division code, got a sequence",
		}},
		{"duplicate-root", []string{
			`b/pack.yaml:5:8: bind[0]: "32020" is not a division code (want 6, 9, 12 or 15 digits)`,
			"b/pack.yaml:5:23: bind[2]: division 320205000000000 is already bound by pack a (a/pack.yaml:5:8)",
		}},
		{"missing-zh", []string{
			"p/pack.yaml:2:1: title.zh-CN: missing zh-CN text",
			"p/pack.yaml:8:3: levels.village.zh-CN: missing zh-CN text",
			`p/pack.yaml:10:24: levels.township.EN_us: "EN_us" is not a locale tag (want zh-CN, en, …)`,
			"p/pack.yaml:10:37: levels.township.en: empty text",
			"p/pack.yaml:17:12: roles.viewer.zh-CN: empty text",
		}},
		{"missing-role", []string{
			"p/pack.yaml:3:1: source: must not be empty",
			"p/pack.yaml:4:1: year: 1066 is not a plausible year (1949-2100)",
			"p/pack.yaml:5:1: bind: must list at least one division code",
			"p/pack.yaml:7:1: levels: must name at least one level",
			"p/pack.yaml:8:1: roles.county_staff: missing role label",
			"p/pack.yaml:8:1: roles.grid_worker: missing role label",
			"p/pack.yaml:8:1: roles.township_staff: missing role label",
			"p/pack.yaml:8:1: roles.viewer: missing role label",
			"p/pack.yaml:8:1: roles.village_staff: missing role label",
		}},
		{"file-level", []string{
			"alias/pack.yaml:9:9: levels.grid: anchors and aliases are not supported; write the value out",
			"dupkey/pack.yaml:16:1: year: duplicate key",
			"empty/pack.yaml:1:1: empty file",
			"scalar/pack.yaml:1:1: want a mapping, got a string",
			"twodocs/pack.yaml:16:1: a section file holds one YAML document; found another",
		}},
		{"layout", []string{
			"orphan: directory has section files but no pack.yaml",
			"p/window.yml: section files use the .yaml extension",
			"p/windows.yaml: unknown section file (known: pack.yaml, registry.yaml, window.yaml, grid.yaml, governance.yaml)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			s, err := policy.Load(os.DirFS(filepath.Join("testdata", "errors", tt.dir)))
			if s != nil {
				t.Errorf("Load returned a set along with errors")
			}
			var got []string
			for _, e := range loadErrors(t, err) {
				got = append(got, e.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	_, err := policy.Load(os.DirFS("testdata/errors/bad-seed"))
	errs := loadErrors(t, err)
	if len(errs) == 0 {
		t.Fatal("no errors")
	}
	e := errs[0]
	if e.File != "p/pack.yaml" || e.Line != 8 || e.Column != 5 || e.Field != "seeds[1]" {
		t.Errorf("first error = %+v", *e)
	}
}

func TestLoadDirNamesOSPaths(t *testing.T) {
	dir := filepath.Join("testdata", "errors", "name-mismatch")
	_, err := policy.LoadDir(dir)
	want := filepath.Join(dir, "p", "pack.yaml") + ":1:1: name: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("LoadDir error = %v, want prefix %q", err, want)
	}
	s, err := policy.LoadDir("testdata/nested")
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Get("xishan-test"); p == nil || p.Dir != filepath.Join("testdata", "nested", "xishan-test") {
		t.Errorf("Dir = %v", p)
	}
	if _, err := policy.LoadDir("testdata/does-not-exist"); err == nil {
		t.Error("LoadDir of a missing directory succeeded")
	}
}

func TestLoadEmpty(t *testing.T) {
	s, err := policy.Load(fstest.MapFS{"README.md": {Data: []byte("no packs")}})
	if err != nil || len(s.Packs()) != 0 || s.For(320205001001000) != nil {
		t.Errorf("empty FS: set %v, err %v", s, err)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    policy.Error
		want string
	}{
		{policy.Error{File: "x/pack.yaml", Line: 3, Column: 5, Field: "year", Msg: "bad"}, "x/pack.yaml:3:5: year: bad"},
		{policy.Error{File: "x/pack.yaml", Line: 3, Msg: "bad"}, "x/pack.yaml:3: bad"},
		{policy.Error{File: "x", Msg: "bad"}, "x: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestTextGet(t *testing.T) {
	txt := policy.Text{"zh-CN": "村", "en": "Village"}
	tests := []struct{ locale, want string }{
		{"zh-CN", "村"},
		{"en", "Village"},
		{"en-GB", "Village"},
		{"fr", "村"},
		{"", "村"},
	}
	for _, tt := range tests {
		if got := txt.Get(tt.locale); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.locale, got, tt.want)
		}
	}
	if got := policy.Text(nil).Get("en"); got != "" {
		t.Errorf("nil Text Get = %q", got)
	}
}

// FuzzLoad feeds arbitrary bytes as a pack.yaml: Load must never panic, and
// must return either a set or *Error values naming the file.
func FuzzLoad(f *testing.F) {
	for _, fsys := range []fs.FS{policypacks.FS, os.DirFS("testdata")} {
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
				if data, err := fs.ReadFile(fsys, p); err == nil {
					f.Add(data)
				}
			}
			return nil
		})
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("name: p\nbind: [99999999999999999999]\n"))
	f.Add([]byte("{"))
	f.Add([]byte("\xef\xbb\xbf\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := policy.Load(fstest.MapFS{"p/pack.yaml": {Data: data}})
		if (s == nil) == (err == nil) {
			t.Fatalf("set %v and error %v", s, err)
		}
		for _, e := range loadErrors(t, err) {
			if e.File != "p/pack.yaml" {
				t.Fatalf("error names file %q: %v", e.File, e)
			}
		}
		if s != nil && s.Get("p") == nil {
			t.Fatalf("loaded set lacks pack p")
		}
	})
}

func TestRegistrySection(t *testing.T) {
	for _, p := range mustLoadEmbedded(t).Packs() {
		tag, ok := p.Registry.Tag("community_correction")
		if !ok || !tag.Restricted || tag.Label.Get("zh-CN") != "社区矫正对象" {
			t.Errorf("%s: special-group tag %+v", p.Name, tag)
		}
		if d, _ := p.Registry.Tag("disabled"); len(d.Grades) != 4 {
			t.Errorf("%s: disability grades %v", p.Name, d.Grades)
		}
	}
}
