package idnum

import "unicode"

// MiddleDot is the separator of transliterated names (买买提·艾力), U+00B7,
// as the public security registration uses it.
const MiddleDot = '·'

// dotLookalikes are what keyboards and input methods produce instead of the
// middle dot: katakana middle dot (both widths), bullet, hyphenation point,
// bullet and dot operators, Greek ano teleia.
var dotLookalikes = map[rune]bool{
	'・': true, '･': true, '•': true, '‧': true, '∙': true, '⋅': true, '\u0387': true,
}

// NormalizeName returns the stored form of a typed name: look-alike dots
// become U+00B7 (an ASCII or full-width full stop too, when it sits between
// two Chinese characters); full-width Latin letters become ASCII; white space
// next to a Chinese character or a dot is removed (张  三 → 张三, 买买提 · 艾力
// → 买买提·艾力); other runs of white space become one space; the ends are
// trimmed. It does not validate: see ValidName.
func NormalizeName(s string) string {
	in := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case dotLookalikes[r]:
			r = MiddleDot
		case r >= 'Ａ' && r <= 'Ｚ':
			r = 'A' + r - 'Ａ'
		case r >= 'ａ' && r <= 'ｚ':
			r = 'a' + r - 'ａ'
		case r == '＇' || r == '’':
			r = '\''
		case r == '－' || r == '‐':
			r = '-'
		case r == '\u200b' || r == '\ufeff':
			continue
		case unicode.IsSpace(r):
			r = ' '
		}
		in = append(in, r)
	}
	// Full stops between Chinese characters are middle dots typed in a hurry.
	for i, r := range in {
		if (r == '.' || r == '．') && hanAround(in, i) {
			in[i] = MiddleDot
		}
	}
	out := make([]rune, 0, len(in))
	for i, r := range in {
		if r != ' ' {
			out = append(out, r)
			continue
		}
		var prev rune
		if len(out) > 0 {
			prev = out[len(out)-1]
		}
		next := nextNonSpace(in, i)
		if prev == 0 || prev == ' ' || next == 0 || tight(prev) || tight(next) {
			continue
		}
		out = append(out, ' ')
	}
	return string(out)
}

// hanAround reports whether the nearest non-space runes on both sides of
// in[i] are Chinese characters.
func hanAround(in []rune, i int) bool {
	j := i - 1
	for j >= 0 && in[j] == ' ' {
		j--
	}
	return j >= 0 && unicode.Is(unicode.Han, in[j]) && unicode.Is(unicode.Han, nextNonSpace(in, i))
}

func nextNonSpace(in []rune, i int) rune {
	for _, r := range in[i+1:] {
		if r != ' ' {
			return r
		}
	}
	return 0
}

// tight runes take no space next to them.
func tight(r rune) bool { return r == MiddleDot || unicode.Is(unicode.Han, r) }

// ValidName checks a person's name as NormalizeName(s) would store it (call
// NormalizeName and store its result). Accepted: 2 to 30 characters of
// Chinese characters (every CJK extension, for rare characters in names),
// the middle dot between parts, and, for foreigners, Latin letters (with
// accents) separated by single spaces, hyphens or apostrophes. Digits,
// punctuation and other scripts are refused with code "name_invalid"; a
// wrong length with "name_length".
func ValidName(s string) error {
	r := []rune(NormalizeName(s))
	for i, c := range r {
		var prev, next rune
		if i > 0 {
			prev = r[i-1]
		}
		if i+1 < len(r) {
			next = r[i+1]
		}
		switch {
		case unicode.Is(unicode.Han, c):
		case unicode.Is(unicode.Latin, c) && unicode.IsLetter(c):
		case unicode.Is(unicode.Mn, c):
			if !latinLetter(prev) && !unicode.Is(unicode.Mn, prev) {
				return fail(CodeNameInvalid)
			}
		case c == MiddleDot:
			if i == 0 || next == 0 || next == MiddleDot {
				return fail(CodeNameInvalid)
			}
		case c == ' ':
		case c == '-' || c == '\'':
			if !latinish(prev) || !latinLetter(next) {
				return fail(CodeNameInvalid)
			}
		default:
			return fail(CodeNameInvalid)
		}
	}
	if len(r) < 2 || len(r) > 30 {
		return fail(CodeNameLength)
	}
	return nil
}

func latinLetter(r rune) bool { return unicode.Is(unicode.Latin, r) && unicode.IsLetter(r) }

func latinish(r rune) bool { return latinLetter(r) || unicode.Is(unicode.Mn, r) }
