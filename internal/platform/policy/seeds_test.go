package policy

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestSeedIDsMatchReadme checks the embedded copy of the seed rule ids
// against shared/seeds/README.md when the shared directory sits beside the
// repository (as on the development machine); elsewhere it is skipped.
func TestSeedIDsMatchReadme(t *testing.T) {
	data, err := os.ReadFile("../../../../shared/seeds/README.md")
	if err != nil {
		t.Skipf("shared seeds README not available: %v", err)
	}
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^- ((?:NH|DG|XS|SX|NT)-\d+)`).FindAllSubmatch(data, -1) {
		ids = append(ids, string(m[1]))
	}
	if !slices.Equal(ids, seedIDs) {
		t.Errorf("seedIDs is out of date with shared/seeds/README.md:\n got  %v\n want %v", seedIDs, ids)
	}
}

func TestParseDivisionRoot(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"320205", 320205000000000},
		{"441900", 441900000000000},
		{"320205001", 320205001000000},
		{"320205001001", 320205001001000},
		{"320205001001007", 320205001001007},
		{"110000", 110000000000000},
		{"32020", 0},
		{"3202050", 0},
		{"3202050010010070", 0},
		{"-32020", 0},
		{"32020a", 0},
		{"012345", 0},
		{"", 0},
	}
	for _, tt := range tests {
		got, msg := parseDivisionRoot(tt.in)
		if got != tt.want || (msg == "") != (tt.want != 0) {
			t.Errorf("parseDivisionRoot(%q) = %d, %q; want %d", tt.in, got, msg, tt.want)
		}
	}
}
