package policypacks_test

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/policy"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// TestShippedPacks checks that FS exposes the five pack directories and that
// they load without error.
func TestShippedPacks(t *testing.T) {
	want := []string{"dongguan-2016", "nanhai-2009", "nantong-2011", "shaxian-2012", "xishan-2008"}
	var dirs []string
	entries, err := fs.ReadDir(policypacks.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
			if _, err := fs.Stat(policypacks.FS, e.Name()+"/pack.yaml"); err != nil {
				t.Errorf("%s: %v", e.Name(), err)
			}
		}
	}
	if !slices.Equal(dirs, want) {
		t.Errorf("pack directories = %v, want %v", dirs, want)
	}
	s, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatalf("shipped packs do not load:\n%v", err)
	}
	if got := len(s.Packs()); got != len(want) {
		t.Errorf("%d packs loaded, want %d", got, len(want))
	}
}
