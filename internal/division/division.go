// Package division holds Shequ's administrative tree: provinces down to
// villages (imported from the statistical division list) and the grids,
// villager groups and buildings a village creates below itself.
//
// Codes are 15-digit integers (see code.go), so a subtree is a numeric range
// and every scope check is a BETWEEN. Tree structure comes from the stored
// level and parent, never from digits alone: the townships of 东莞/中山/儋州
// hang directly under a level-2 parent, and published lists carry a few codes
// with stray digits below their level.
package division

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kinds. Level 5 units are "village" (村) or "community" (社区/居委会),
// derived from the name on import ("" when the name tells neither); level 6
// units are "grid", "group" (villager group) or "building". Levels 1-4 have
// no kind.
const (
	KindVillage   = "village"
	KindCommunity = "community"
	KindGrid      = "grid"
	KindGroup     = "group"
	KindBuilding  = "building"
)

// SubKinds are the kinds CreateSub accepts, in display order.
var SubKinds = []string{KindGrid, KindGroup, KindBuilding}

// MaxSubNameRunes bounds the name of a grid, group or building.
const MaxSubNameRunes = 50

// MaxSubsPerVillage is the number of 3-digit sub-codes under one village.
const MaxSubsPerVillage = 999

// Division is one unit of the tree.
type Division struct {
	Code       int64  // 15 digits
	Name       string //
	Level      int    // 1 province … 5 village, 6 grid/group/building
	Parent     int64  // 0 for provinces
	Kind       string // see the Kind constants
	UrbanRural int    // 城乡分类代码 (111…220) on villages, else 0
	Retired    bool   // retired units keep their code; it is never reused
	UpdatedAt  int64  // unix ms
}

// Range is the unit's subtree as an inclusive code range.
func (d Division) Range() (lo, hi int64) { return Range(d.Code, d.Level) }

// FieldError is a validation error of a mutating Store call. Code is stable
// (the UI maps it to a translated message); Msg is English, for logs and
// the API. Callers use errors.As(err, &fe) with fe of type *FieldError.
type FieldError struct {
	Field string // "name", "kind", "code", "parent"
	Code  string // e.g. "name_required", "name_taken", "not_a_village", "full"
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Field error codes.
const (
	ErrCodeNameRequired   = "name_required"   // empty after trimming spaces
	ErrCodeNameTooLong    = "name_too_long"   // more than MaxSubNameRunes (or MaxNameRunes) runes
	ErrCodeNameInvalid    = "name_invalid"    // not UTF-8 or contains control characters
	ErrCodeNameTaken      = "name_taken"      // an active sibling has the same name
	ErrCodeKindInvalid    = "kind_invalid"    // not one of SubKinds
	ErrCodeNotAVillage    = "not_a_village"   // CreateSub under a unit that is not level 5
	ErrCodeFull           = "full"            // the village has used all 999 sub-codes
	ErrCodeNotRetirable   = "not_retirable"   // Retire/Restore of a unit above level 6
	ErrCodeAlreadyRetired = "already_retired" // Retire of a retired unit
	ErrCodeNotRetired     = "not_retired"     // Restore of an active unit
	ErrCodeRetired        = "retired"         // Rename of a retired unit, or CreateSub under one
)

// MaxNameRunes bounds any unit's name (official names reach about 35).
const MaxNameRunes = 100

func fieldErr(field, code, format string, args ...any) error {
	return &FieldError{Field: field, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// IsFieldError reports whether err is (or wraps) a *FieldError with the
// given code; an empty code matches any FieldError.
func IsFieldError(err error, code string) bool {
	var fe *FieldError
	return errors.As(err, &fe) && (code == "" || fe.Code == code)
}

// CleanName trims spaces and checks a name: non-empty, valid UTF-8, no
// control characters, at most max runes.
func CleanName(name string, max int) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fieldErr("name", ErrCodeNameRequired, "name is required")
	}
	if reason := nameProblem(name, max); reason != "" {
		code := ErrCodeNameInvalid
		if reason == reasonNameTooLong {
			code = ErrCodeNameTooLong
		}
		return "", fieldErr("name", code, "%s", nameMessage(reason, max))
	}
	return name, nil
}

const (
	reasonNameTooLong = "name_too_long"
	reasonNotUTF8     = "not_utf8"
	reasonNameControl = "name_control_char"
)

// nameProblem returns "" or a reason for a trimmed, non-empty name.
func nameProblem(name string, max int) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f || (c == 0xc2 && i+1 < len(name) && name[i+1] >= 0x80 && name[i+1] <= 0x9f) {
			if !utf8.ValidString(name) {
				return reasonNotUTF8
			}
			return reasonNameControl // C0, DEL or C1
		}
	}
	if !utf8.ValidString(name) {
		return reasonNotUTF8
	}
	if len(name) > max && utf8.RuneCountInString(name) > max {
		return reasonNameTooLong
	}
	return ""
}

func nameMessage(reason string, max int) string {
	switch reason {
	case reasonNameTooLong:
		return fmt.Sprintf("name is longer than %d characters", max)
	case reasonNotUTF8:
		return "name is not valid UTF-8"
	default:
		return "name contains control characters"
	}
}

// KindFromName derives a village-level kind from its official name:
// …居委会/居民委员会/社区 → community, …村委会/村民委员会/村/嘎查 → village.
func KindFromName(name string) string {
	base := name
	if i := strings.IndexAny(base, "（("); i > 0 { // "…社区居委会（红谷滩新城）"
		base = strings.TrimSpace(base[:i])
	}
	switch {
	case strings.HasSuffix(base, "居委会"), strings.HasSuffix(base, "居民委员会"), strings.HasSuffix(base, "社区"):
		return KindCommunity
	case strings.HasSuffix(base, "村委会"), strings.HasSuffix(base, "村民委员会"), strings.HasSuffix(base, "村委员会"),
		strings.HasSuffix(base, "村"), strings.HasSuffix(base, "嘎查"):
		return KindVillage
	}
	return ""
}

func validSubKind(k string) bool {
	for _, s := range SubKinds {
		if k == s {
			return true
		}
	}
	return false
}
