// Package idnum validates what people type about themselves: citizen ID
// numbers (公民身份号码, GB 11643-1999), phone numbers and names. It is pure:
// no database, no clock (callers pass today), no key material. Masking for
// display lives here too; encryption and lookup hashes are in platform/pii.
package idnum

import (
	"strings"
	"time"
	"unicode"
)

// Error is a validation failure with a stable Code that handlers map to a
// catalogue message (the code is part of the API; the text is not).
type Error struct {
	Code string
}

// Stable error codes.
const (
	CodeLength         = "length"          // not 15 or 18 characters
	CodeChars          = "chars"           // something other than digits and a final X
	CodeChecksum       = "checksum"        // MOD 11-2 check digit wrong
	CodeDate           = "date"            // not a real calendar date, or before 1900-01-01
	CodeFuture         = "future"          // born after today
	CodeArea           = "area"            // first two digits are not a province (GB/T 2260)
	CodeAreaUnknown    = "area_unknown"    // 6-digit area not in the divisions table (CheckArea)
	CodeBirthMismatch  = "birth_mismatch"  // typed birth date differs from the number's (CrossCheck)
	CodeGenderMismatch = "gender_mismatch" // typed gender differs from the number's (CrossCheck)
	CodePhoneInvalid   = "phone_invalid"
	CodeNameInvalid    = "name_invalid"
	CodeNameLength     = "name_length"
)

var messages = map[string]string{
	CodeLength:         "ID number must have 18 (or legacy 15) characters",
	CodeChars:          "ID number may contain only digits and a final X",
	CodeChecksum:       "ID number check digit is wrong",
	CodeDate:           "ID number birth date is not a real date",
	CodeFuture:         "ID number birth date is in the future",
	CodeArea:           "ID number area code is not a province",
	CodeAreaUnknown:    "ID number area code is not a known division",
	CodeBirthMismatch:  "birth date differs from the ID number's",
	CodeGenderMismatch: "gender differs from the ID number's",
	CodePhoneInvalid:   "not a mainland mobile or landline number",
	CodeNameInvalid:    "name may contain Chinese characters, the middle dot ·, Latin letters and spaces",
	CodeNameLength:     "name must have 2 to 30 characters",
}

func (e *Error) Error() string {
	if m, ok := messages[e.Code]; ok {
		return "idnum: " + m
	}
	return "idnum: " + e.Code
}

func fail(code string) error { return &Error{Code: code} }

// CodeOf returns the Code of the first *Error in err's chain, or "".
func CodeOf(err error) string {
	for err != nil {
		if e, ok := err.(*Error); ok {
			return e.Code
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return ""
		}
		err = u.Unwrap()
	}
	return ""
}

// ID is a parsed, valid citizen ID number.
type ID struct {
	Number   string    // always 18 characters, check digit X upper-case
	Area     int       // the first 6 digits: the division of first registration
	Birth    time.Time // date of birth, UTC midnight
	Male     bool      // 17th digit odd
	Upgraded bool      // typed as a 15-digit legacy number (YYMMDD, 19xx assumed)
}

// provinces are the province-level codes of GB/T 2260 (中华人民共和国行政区划代码)
// that open an ID number, plus 83, which GB/T 2260 does not list but the
// residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民居住证,
// 2018) use as 810000 / 820000 / 830000 in the same 18-character format.
var provinces = map[int]bool{
	11: true, 12: true, 13: true, 14: true, 15: true, // 华北
	21: true, 22: true, 23: true, // 东北
	31: true, 32: true, 33: true, 34: true, 35: true, 36: true, 37: true, // 华东
	41: true, 42: true, 43: true, 44: true, 45: true, 46: true, // 中南
	50: true, 51: true, 52: true, 53: true, 54: true, // 西南
	61: true, 62: true, 63: true, 64: true, 65: true, // 西北
	71: true,                     // 台湾
	81: true, 82: true, 83: true, // 香港, 澳门; 83 Taiwan residents' permits
}

// weights of the ISO 7064 MOD 11-2 check: 2^(17-i) mod 11 for i = 0..16.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// CheckDigit returns the MOD 11-2 check character of the first 17 digits of
// body (GB 11643-1999 §5.5, ISO 7064). body must hold at least 17 ASCII
// digits; the result is one of 0-9 or X.
func CheckDigit(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

var minBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// maxInput bounds the work done on hostile input before normalising.
const maxInput = 256

// Parse validates a citizen ID number as typed. It removes white space
// (including the ideographic space U+3000) anywhere in the input, folds
// full-width digits and Ｘ to ASCII, and accepts a lower-case x. A 15-digit
// legacy number (first generation, YYMMDD, no check digit) is upgraded to
// 18 digits with 19 prepended to the year and a computed check digit.
//
// The birth date must be a real date, not before 1900-01-01 and not after
// today's date (taken in today's own location: pass the current time in
// China time). The first two digits must be a province code; CheckArea checks
// the full 6-digit area against the divisions table.
//
// Checks run in this order and the first failure is returned: chars, length,
// checksum, date, future, area.
func Parse(s string, today time.Time) (ID, error) {
	if len(s) > maxInput {
		return ID{}, fail(CodeLength)
	}
	var b strings.Builder
	b.Grow(18)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		case r == 'X' || r == 'x' || r == 'Ｘ' || r == 'ｘ':
			b.WriteByte('X')
		case unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff':
			// dropped: spaces between groups, zero-width characters from pasting
		default:
			return ID{}, fail(CodeChars)
		}
	}
	n := b.String()
	if len(n) != 18 && len(n) != 15 {
		return ID{}, fail(CodeLength)
	}
	if i := strings.IndexByte(n, 'X'); i >= 0 && (len(n) == 15 || i != 17) {
		return ID{}, fail(CodeChars)
	}

	var id ID
	if len(n) == 15 {
		body := n[:6] + "19" + n[6:]
		n = body + string(CheckDigit(body))
		id.Upgraded = true
	} else if CheckDigit(n) != n[17] {
		return ID{}, fail(CodeChecksum)
	}
	id.Number = n

	y, m, d := atoi(n[6:10]), atoi(n[10:12]), atoi(n[12:14])
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || d < 1 || birth.Day() != d || birth.Before(minBirth) {
		return ID{}, fail(CodeDate)
	}
	ty, tm, td := today.Date()
	if birth.After(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
		return ID{}, fail(CodeFuture)
	}
	id.Birth = birth

	id.Area = atoi(n[:6])
	if !provinces[id.Area/10000] {
		return ID{}, fail(CodeArea)
	}
	id.Male = (n[16]-'0')%2 == 1
	return id, nil
}

func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// AgeOn returns the age in full years (周岁) on day (its own calendar date).
// Someone born on 29 February turns a year older on 1 March in common years.
func (id ID) AgeOn(day time.Time) int {
	y, m, d := day.Date()
	age := y - id.Birth.Year()
	if m < id.Birth.Month() || (m == id.Birth.Month() && d < id.Birth.Day()) {
		age--
	}
	return age
}

// CheckArea verifies the full 6-digit area code with known (typically a
// lookup in the divisions table), returning an *Error with code
// "area_unknown" when known says no. A nil known accepts everything.
//
// The area is where the number was first issued, not where the person lives,
// and it is never reissued: people registered in a county that has since been
// merged or renamed (e.g. 320202 崇安区 and 320204 北塘区 of 无锡, merged into
// 梁溪区 320213 in 2015) carry codes
// the current table no longer has. Callers should therefore usually treat
// "area_unknown" as a warning shown to the clerk, not a refusal.
func CheckArea(id ID, known func(area6 int) bool) error {
	if known == nil || known(id.Area) {
		return nil
	}
	return fail(CodeAreaUnknown)
}

// CrossCheck compares a birth date and gender typed on a form with those the
// number encodes. A zero birth or nil male is not checked. Only the calendar
// date of birth counts (its own location), not the time. The first mismatch is
// returned: "birth_mismatch", then "gender_mismatch".
func CrossCheck(id ID, birth time.Time, male *bool) error {
	if !birth.IsZero() {
		y, m, d := birth.Date()
		if y != id.Birth.Year() || m != id.Birth.Month() || d != id.Birth.Day() {
			return fail(CodeBirthMismatch)
		}
	}
	if male != nil && *male != id.Male {
		return fail(CodeGenderMismatch)
	}
	return nil
}

// MaskID shows the first 6 and last 4 characters of an ID number with the
// rest starred: 320205********123X for an 18-character number. Inputs of 10
// characters or fewer are starred entirely.
func MaskID(n string) string {
	r := []rune(n)
	if len(r) <= 10 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}
