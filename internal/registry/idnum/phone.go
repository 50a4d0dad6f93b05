package idnum

import (
	"strings"
	"unicode"
)

// NormalizePhone returns the canonical form of a mainland phone number:
//
//   - a mobile number as 11 digits, 1[3-9]XXXXXXXXX;
//   - a landline as 0AA-LLLLLLLL or 0AAA-LLLLLLL(L), with -EXT appended when
//     an extension (1–6 digits) was given. Area codes 010 and 020–029 have
//     three characters, all others four; local numbers have 7 or 8 digits
//     and do not start with 0 or 1.
//
// It accepts spaces, dashes (ASCII, full-width, en and em dashes), dots
// between groups, parentheses around the area code, full-width digits, the
// prefixes +86, 0086 and (for mobiles) a bare 86, the area code without its 0
// after +86, and extensions written -801, 转801, 分机801, ext 801, x801 or
// #801. Anything else, including an empty string, is an *Error with code
// "phone_invalid". The result normalises to itself.
func NormalizePhone(s string) (string, error) {
	if len(s) > maxInput {
		return "", fail(CodePhoneInvalid)
	}
	// Fold to ASCII digits, '-' for separators between groups and '+'.
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		case r == '＋':
			b.WriteByte('+')
		case r == '-' || r == '－' || r == '–' || r == '—' || r == '‐' || r == ')' || r == '）' || r == '.':
			b.WriteByte('-')
		case r == '(' || r == '（' || unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff':
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	num, ext, hasExt := splitExtension(b.String())
	if hasExt && !allDigits(ext, 1, 6) {
		return "", fail(CodePhoneInvalid)
	}

	intl := false
	switch {
	case strings.HasPrefix(num, "+86"):
		num, intl = num[3:], true
	case strings.HasPrefix(num, "0086"):
		num, intl = num[4:], true
	}
	num = strings.TrimLeft(num, "-")
	digits := strings.ReplaceAll(num, "-", "")

	// Mobile.
	if ext == "" {
		m := digits
		if !intl && len(m) == 13 && strings.HasPrefix(m, "86") {
			m = m[2:]
		}
		if isMobile(m) {
			return m, nil
		}
	}

	// Landline.
	if intl && !strings.HasPrefix(digits, "0") {
		num, digits = "0"+num, "0"+digits
	}
	if !allDigits(digits, 10, 18) || digits[0] != '0' {
		return "", fail(CodePhoneInvalid)
	}
	groups := strings.FieldsFunc(num, func(r rune) bool { return r == '-' })
	area, local, dashExt, ok := landline(groups)
	if !ok {
		return "", fail(CodePhoneInvalid)
	}
	if dashExt != "" {
		if ext != "" {
			return "", fail(CodePhoneInvalid)
		}
		ext = dashExt
	}
	out := area + "-" + local
	if ext != "" {
		out += "-" + ext
	}
	return out, nil
}

// splitExtension cuts an extension introduced by a word or sign off s.
func splitExtension(s string) (num, ext string, found bool) {
	lower := []byte(s) // ASCII-only lower-casing keeps byte offsets
	for i, c := range lower {
		if c >= 'A' && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	for _, sep := range []string{"分机", "转", "ext.", "ext", "x", "#", ",", "，"} {
		if i := strings.Index(string(lower), sep); i >= 0 {
			return s[:i], strings.Trim(s[i+len(sep):], "-"), true
		}
	}
	return s, "", false
}

// landline reads area-local[-ext] from digit groups. Accepted shapes: one
// group (area and local run together), area|local, area|local|ext, and
// local-with-ext run together after the area (0510|81234567|801 written as
// 051081234567-801).
func landline(g []string) (area, local, ext string, ok bool) {
	split := func(d string) (string, string, bool) {
		n := areaLen(d)
		if n == 0 || len(d) <= n {
			return "", "", false
		}
		return d[:n], d[n:], isLocal(d[n:])
	}
	switch len(g) {
	case 1:
		area, local, ok = split(g[0])
	case 2:
		if areaLen(g[0]) == len(g[0]) && isLocal(g[1]) {
			return g[0], g[1], "", true
		}
		if area, local, ok = split(g[0]); ok && allDigits(g[1], 1, 6) {
			ext = g[1]
		} else {
			ok = false
		}
	case 3:
		if areaLen(g[0]) == len(g[0]) && isLocal(g[1]) && allDigits(g[2], 1, 6) {
			return g[0], g[1], g[2], true
		}
		// 0510-8123-4567: local number written in two groups.
		if areaLen(g[0]) == len(g[0]) && len(g[1]) < 7 && isLocal(g[1]+g[2]) {
			return g[0], g[1] + g[2], "", true
		}
	}
	return area, local, ext, ok
}

// areaLen is the length of the area code (with its 0) that d starts with:
// 3 for 010 and 020–029, 4 for other 0XXX, 0 when d does not start with 0.
func areaLen(d string) int {
	switch {
	case len(d) < 3 || d[0] != '0':
		return 0
	case d[1] == '1' && d[2] == '0':
		return 3
	case d[1] == '2':
		return 3
	case d[1] == '1' || d[1] == '0':
		return 0 // 00 is international, 011–019 do not exist
	case len(d) < 4:
		return 0
	default:
		return 4
	}
}

func isLocal(d string) bool {
	return allDigits(d, 7, 8) && d[0] >= '2'
}

func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && allDigits(d, 11, 11)
}

func allDigits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaskPhone hides the middle of a phone number for display: a mobile
// 13812345678 → 138****5678; a landline 0510-81234567 → 0510-****4567 (the
// area code and any extension stay visible). Other strings keep their last 4
// characters only.
func MaskPhone(p string) string {
	if isMobile(p) {
		return p[:3] + "****" + p[7:]
	}
	if g := strings.Split(p, "-"); (len(g) == 2 || len(g) == 3) && areaLen(g[0]) == len(g[0]) && isLocal(g[1]) {
		g[1] = strings.Repeat("*", len(g[1])-4) + g[1][len(g[1])-4:]
		return strings.Join(g, "-")
	}
	r := []rune(p)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}
