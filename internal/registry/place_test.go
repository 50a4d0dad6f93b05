package registry_test

import (
	"testing"

	"github.com/shequ-platform/shequ/internal/registry"
)

func TestHouseholdPlace(t *testing.T) {
	for _, c := range []struct {
		address, houseNo, want, shown string
	}{
		{"东亭路", "7号", "东亭路7号", "7号"},
		{"锦绣花园", "27幢1603室", "锦绣花园27幢1603室", "27幢1603室"},
		// the address already holds it: at its end, inside it, spaced apart
		{"锦绣花园27幢1603室", "27幢1603室", "锦绣花园27幢1603室", ""},
		{"27幢1603室", "27幢1603室", "27幢1603室", ""},
		{"锦绣花园27幢1603室（北门）", "27幢1603室", "锦绣花园27幢1603室（北门）", ""},
		{"锦绣花园 27 幢 1603 室", "27幢1603室", "锦绣花园 27 幢 1603 室", ""},
		{"锦绣花园27幢1603室", " 27幢 1603室 ", "锦绣花园27幢1603室", ""},
		// … not when the number is a part of a longer one
		{"东亭路11号", "1号", "东亭路11号1号", "1号"},
		{"东亭路12号", "2号", "东亭路12号2号", "2号"},
		{"27幢1603室", "603", "27幢1603室603", "603"},
		{"B12栋", "12", "B12栋12", "12"},
		{"12栋", "12", "12栋", ""},
		// nothing to add
		{"东亭路7号", "", "东亭路7号", ""},
		{"", "27幢1603室", "27幢1603室", "27幢1603室"},
	} {
		h := registry.Household{Address: c.address, HouseNo: c.houseNo}
		if got := h.Place(); got != c.want {
			t.Errorf("Place(%q, %q) = %q, want %q", c.address, c.houseNo, got, c.want)
		}
		if got := h.ShownHouseNo(); got != c.shown {
			t.Errorf("ShownHouseNo(%q, %q) = %q, want %q", c.address, c.houseNo, got, c.shown)
		}
	}
}
