package disclosure_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// TestRuntimeCatalogueKeys checks the catalogue keys disclosure builds at
// run time (invisible to i18n's literal scan): the error codes and the
// fields they name, read from the sources that add them, and the families
// the templates build with print.
func TestRuntimeCatalogueKeys(t *testing.T) {
	var keys []string
	files, _ := filepath.Glob("*.go")
	add := regexp.MustCompile(`\.Add\("([a-z_]+)", "([a-z_]+)"`)
	lit := regexp.MustCompile(`field\.Error\{Field: "([a-z_]+)", Code: "([a-z_]+)"`)
	fields := regexp.MustCompile(`check(?:Text|Day)\(&?es, "([a-z_]+)"`)
	codes := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{add, lit} {
			for _, m := range re.FindAllSubmatch(b, -1) {
				keys = append(keys, "fin.field."+string(m[1]), "fin.error."+string(m[2]))
				codes++
			}
		}
		for _, m := range fields.FindAllSubmatch(b, -1) {
			keys = append(keys, "fin.field."+string(m[1]))
		}
	}
	if codes < 20 {
		t.Fatalf("only %d error codes found: the patterns no longer match the sources", codes)
	}
	// codes added under a computed field (the budget form's lines)
	for _, c := range []string{"amount", "negative", "zero", "decimals", "too_large", "required", "too_long", "category_unknown",
		"category_account", "account_unknown", "no_accounts"} {
		keys = append(keys, "fin.error."+c)
	}
	for _, e := range append(append([]string(nil), policy.Cadences...), policy.EveryEvent) {
		keys = append(keys, "pub.every."+e)
	}
	for _, s := range disclosure.KioskSections {
		keys = append(keys, "pub.sec."+s)
	}
	for _, s := range governance.MatterStatuses {
		keys = append(keys, "pub.status."+s)
	}
	for _, a := range governance.MatterActions {
		keys = append(keys, "pub.action."+a)
	}
	for _, r := range []string{governance.ResultPassed, governance.ResultFailed} {
		keys = append(keys, "gov.result."+r)
	}
	for _, k := range []string{policy.Income, policy.Expense} {
		keys = append(keys, "fin.kind."+k)
	}
	for _, l := range disclosure.Ledgers {
		keys = append(keys, "fin.ledger."+l)
	}
	for i := 1; i <= 5; i++ {
		keys = append(keys, "pub.rate.score_"+strconv.Itoa(i))
	}
	keys = append(keys, "fin.other", "pub.done.published", "pub.done.statement", "pub.done.withdrawn", "fin.done.entry", "fin.done.budget",
		"fin.done.asset", "fin.done.asset_edit")
	for _, loc := range i18n.Locales() {
		for _, k := range keys {
			if !i18n.Has(loc, k) {
				t.Errorf("%s: missing catalogue key %q", loc, k)
			}
		}
	}
}
