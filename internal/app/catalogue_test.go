package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/registry"
)

// TestRuntimeCatalogueKeys checks the catalogue keys that are built at run
// time (and so invisible to i18n's literal scan): navigation, roles,
// division levels and kinds, division and access error codes, audit actions.
func TestRuntimeCatalogueKeys(t *testing.T) {
	var keys []string
	for _, n := range nav {
		keys = append(keys, n.key)
	}
	for _, r := range access.Roles() {
		keys = append(keys, "role."+r.Name)
	}
	for l := 0; l <= 6; l++ {
		keys = append(keys, "division.level."+strconv.Itoa(l))
	}
	for _, k := range append(division.SubKinds, division.KindVillage, division.KindCommunity) {
		keys = append(keys, "division.kind."+k)
	}
	for _, a := range []string{audit.Create, audit.Update, audit.Delete, audit.Login, audit.Logout, audit.LoginFailed, audit.Denied, audit.Reveal, audit.Export} {
		keys = append(keys, "audit.action."+a)
	}
	keys = append(keys, registry.CatalogueKeys()...)
	// error codes, read from the sources that define them
	grab := func(dir string, re *regexp.Regexp, prefix string) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllSubmatch(b, -1) {
				keys = append(keys, prefix+string(m[1]))
			}
		}
	}
	grab("../platform/access", regexp.MustCompile(`Code: "([a-z_.]+)"`), "")
	grab("../division", regexp.MustCompile(`ErrCode\w+\s*=\s*"([a-z_]+)"`), "division.error.")
	if len(keys) < 60 {
		t.Fatalf("only %d keys found: the patterns no longer match the sources", len(keys))
	}
	for _, loc := range i18n.Locales() {
		for _, k := range keys {
			if !i18n.Has(loc, k) {
				t.Errorf("%s: missing catalogue key %q", loc, k)
			}
		}
	}
}
