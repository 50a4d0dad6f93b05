// Package pinyin produces search keys for person names and normalises typed
// queries, so that a registry can find 曾小明 by 曾小明, 曾小, 小明,
// zengxiaoming, "zeng xiao ming", xiaoming, zxm or xm with a prefix range
// over a plain B-tree index, identically on SQLite and PostgreSQL.
//
// # Storage and query
//
// Store NameKeys(name) per resident in a side table
//
//	-- SQLite (default BINARY collation; do not declare NOCASE)
//	CREATE TABLE resident_keys (resident_id INTEGER NOT NULL, key TEXT NOT NULL,
//	    PRIMARY KEY (key, resident_id)) WITHOUT ROWID;
//	-- PostgreSQL (the collation is required, see below)
//	CREATE TABLE resident_keys (resident_id bigint NOT NULL, key text COLLATE "C" NOT NULL,
//	    PRIMARY KEY (key, resident_id));
//
// and search with
//
//	p, ok := QueryPrefix(q)   // refuse the search when !ok
//	... WHERE key >= ? AND key < ?   -- args: p, UpperBound(p)
//
// # Collation
//
// The range [p, UpperBound(p)) selects exactly the keys that start with p
// when keys are compared as UTF-8 bytes (equivalently, by code point).
// SQLite compares TEXT with the BINARY collation by memcmp, which is that
// order for UTF-8 databases (the default encoding; bind keys as TEXT, not
// BLOB). PostgreSQL compares with the column's collation: a linguistic one
// (en_US.UTF-8, zh_CN.UTF-8, ICU) orders by language rules — zh_CN even
// sorts Han by pinyin — and the range would be wrong. The key column must
// therefore be declared COLLATE "C" in a UTF8 database (or the index and
// the comparisons must use COLLATE "C"). UpperBound increments the last
// code point rather than appending U+10FFFF or incrementing the last byte:
// the result is always valid UTF-8 (PostgreSQL rejects invalid UTF-8 in
// text parameters) and the range is exact whatever characters keys hold.
//
// # Keys
//
// Keys are lower-case ASCII (pinyin, initials, Latin names, ü written as
// "v") or Han text, at most MaxKeyBytes bytes, never shorter than
// MinQueryRunes runes (shorter keys could never match a query). NameKeys
// returns them best first (Han text, main reading, initials, given name,
// other readings); a caller that ranks by key may store the index.
package pinyin

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	gopinyin "github.com/mozillazg/go-pinyin"
	"golang.org/x/text/unicode/norm"
)

const (
	// MaxReadings caps the reading combinations of polyphonic characters
	// per name (and per given name or part), keeping the key set small.
	MaxReadings = 16
	// MinQueryRunes is the shortest accepted query, Han or Latin: one Han
	// character or one letter would match a large part of the county.
	MinQueryRunes = 2
	// MaxKeyBytes bounds keys and query prefixes; both are cut at the same
	// rune boundary, so a longer query still matches its (cut) key.
	MaxKeyBytes = 128
)

// NameKeys returns every search key that should find name, deduplicated,
// best first. For a Chinese name (曾小明):
//   - the name in Han (曾小明) and the given name and its suffixes of at
//     least two characters (小明);
//   - the full pinyin for each combination of readings, the surname read
//     as a surname and, where commonly read otherwise, also that way
//     (zengxiaoming, cengxiaoming), and the given name's pinyin (xiaoming);
//   - the initials of each combination (zxm, cxm) and of the given name (xm).
//
// Compound surnames (欧阳, 尉迟 …) are recognised when the name has at least
// three characters. Given-name keys are produced for given names of at least
// two characters. A name with a middle dot (买买提·艾力) gets keys for the
// whole name without the dot and for each part, with pinyin and initials of
// the Han parts; no surname logic applies. A Latin name gets the lower-cased
// name without spaces and each word. Han characters without a known reading
// get Han keys but are left out of pinyin and initials.
func NameKeys(name string) []string {
	n := parse(name)
	var ks keySet
	if len(n.all) == 0 {
		return nil
	}
	hasHan := n.hasHan()
	// Whole name, then given name / parts, main reading first.
	fullCombos := combine(n.all)
	ks.add(text(n.all))
	ks.addCombo(fullCombos, 0, hasHan)
	givenCombos := combine(n.given)
	if runeLen(n.given) >= MinQueryRunes {
		ks.add(text(n.given))
		ks.addCombo(givenCombos, 0, true)
		for i := 1; i+MinQueryRunes <= len(n.given); i++ {
			ks.add(text(n.given[i:]))
		}
	}
	groupCombos := make([][]reading, len(n.groups))
	for i, g := range n.groups {
		if runeLen(g) < MinQueryRunes {
			continue
		}
		groupCombos[i] = combine(g)
		ks.add(text(g))
		ks.addCombo(groupCombos[i], 0, hasHanUnits(g))
	}
	// Other readings.
	for i := 1; i < len(fullCombos); i++ {
		ks.addCombo(fullCombos, i, hasHan)
	}
	if runeLen(n.given) >= MinQueryRunes {
		for i := 1; i < len(givenCombos); i++ {
			ks.addCombo(givenCombos, i, true)
		}
	}
	for gi, g := range n.groups {
		for i := 1; i < len(groupCombos[gi]); i++ {
			ks.addCombo(groupCombos[gi], i, hasHanUnits(g))
		}
	}
	return ks.keys
}

// Full returns the full pinyin of name (no spaces) for each combination of
// readings, best first, the surname read as in NameKeys. Latin text is kept
// lower-cased. Characters without a known reading are left out.
func Full(name string) []string {
	var out []string
	for _, c := range combine(parse(name).all) {
		if c.full != "" && !slices.Contains(out, c.full) {
			out = append(out, c.full)
		}
	}
	return out
}

// Initials returns the initials (first letter of each syllable, zxm) of name
// for each combination of readings, best first. A Latin word contributes its
// first letter.
func Initials(name string) []string {
	var out []string
	for _, c := range combine(parse(name).all) {
		if c.initials != "" && !slices.Contains(out, c.initials) {
			out = append(out, c.initials)
		}
	}
	return out
}

// QueryPrefix normalises a typed query into a key prefix: full-width forms
// become half-width, Latin is lower-cased with accents and tone marks
// dropped (ü and "u:" become v, as in keys), and spaces, apostrophes
// (xi'an → xian), middle dots and other punctuation are removed; Han is kept
// as is. ok is false when fewer than MinQueryRunes runes remain: a single
// Han character or a single letter is not searched.
func QueryPrefix(q string) (prefix string, ok bool) {
	q = strings.ReplaceAll(strings.ToLower(norm.NFKC.String(q)), "u:", "v")
	p := truncate(fold(q, "v"))
	if utf8.RuneCountInString(p) < MinQueryRunes {
		return "", false
	}
	return p, true
}

// UpperBound returns the exclusive upper end of the range of strings that
// start with prefix under byte (code point) order: prefix with its last code
// point incremented (skipping the surrogate block, carrying past U+10FFFF).
// Use it as `key >= prefix AND key < UpperBound(prefix)`. It returns "" (no
// upper bound) only when prefix is empty or made of U+10FFFF, which
// QueryPrefix never returns.
func UpperBound(prefix string) string {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		head := prefix[:len(prefix)-size]
		switch {
		case r == utf8.RuneError && size == 1:
			// Invalid UTF-8: fall back to byte order.
			if b := prefix[len(prefix)-1]; b < 0xFF {
				return head + string([]byte{b + 1})
			}
		case r == unicode.MaxRune:
		case r == 0xD7FF:
			return head + "\uE000"
		default:
			return head + string(r+1)
		}
		prefix = head
	}
	return ""
}

// reading is one way to read a unit: its pinyin and its initials.
type reading struct{ full, initials string }

// unit is one Han character (or a compound surname), or one non-Han word.
type unit struct {
	text     string
	han      bool
	readings []reading // best first; empty for Han without a known reading
}

type parsedName struct {
	all    []unit   // the whole name
	given  []unit   // Chinese names: the given name
	groups [][]unit // parts or words, when there is more than one
}

func (n parsedName) hasHan() bool { return hasHanUnits(n.all) }

func hasHanUnits(us []unit) bool {
	return slices.ContainsFunc(us, func(u unit) bool { return u.han })
}

var dictArgs = gopinyin.Args{
	Style:    gopinyin.Normal,
	Fallback: func(rune, gopinyin.Args) []string { return nil },
}

// syllables turns readings such as "ou yang" into a reading value.
func syllables(rs []string) []reading {
	out := make([]reading, 0, len(rs))
	for _, r := range rs {
		var full, ini strings.Builder
		for s := range strings.FieldsSeq(r) {
			full.WriteString(s)
			ini.WriteByte(s[0])
		}
		out = append(out, reading{full.String(), ini.String()})
	}
	return out
}

func hanUnit(r rune, surname bool) unit {
	u := unit{text: string(r), han: true}
	if rs, ok := surnameReadings[r]; ok && surname {
		u.readings = syllables(rs)
	} else if rs, ok := namePolyphones[r]; ok {
		u.readings = syllables(rs)
	} else {
		for _, p := range gopinyin.SinglePinyin(r, dictArgs) {
			if p = fold(p, "v"); p != "" && isASCIILower(p) {
				u.readings = append(u.readings, reading{p, p[:1]})
			}
		}
	}
	return u
}

// wordUnit makes a unit of a non-Han word; a word with ü is also readable
// with u (Müller: mvller, muller).
func wordUnit(w string) unit {
	v := fold(w, "v")
	u := unit{text: v, readings: []reading{{v, firstRune(v)}}}
	if alt := fold(w, "u"); alt != v {
		u.readings = append(u.readings, reading{alt, firstRune(alt)})
	}
	return u
}

var partDots = map[rune]bool{
	'·': true, '・': true, '•': true, '‧': true, '⋅': true, '∙': true,
	'.': true, '-': true, '‐': true, '‑': true, '–': true, '—': true, 'ㆍ': true,
}

// parse splits a name into units and groups and, for a Chinese name (only
// Han, no dots), applies the surname rules.
func parse(name string) parsedName {
	s := strings.ToLower(norm.NFKC.String(name))
	var groups [][]unit
	var cur []unit
	var word strings.Builder
	dotted := false
	endGroup := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
			cur = nil
		}
	}
	endWord := func() {
		if word.Len() == 0 {
			return
		}
		if u := wordUnit(word.String()); u.text != "" {
			endGroup()
			cur = []unit{u}
			endGroup()
		}
		word.Reset()
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			endWord()
			cur = append(cur, hanUnit(r, false))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			word.WriteRune(r)
		case partDots[r]:
			endWord()
			endGroup()
			dotted = true
		default:
			endWord()
			endGroup()
		}
	}
	endWord()
	endGroup()

	var n parsedName
	for _, g := range groups {
		n.all = append(n.all, g...)
	}
	if len(groups) > 1 {
		n.groups = groups
	}
	if dotted || !isHanOnly(n.all) || len(n.all) < 2 {
		return n
	}
	// Chinese name: surname, then given name.
	var sur unit
	rs := []rune(text(n.all))
	if rd, ok := compoundSurnames[string(rs[:2])]; ok && len(rs) > 2 {
		sur = unit{text: string(rs[:2]), han: true, readings: syllables(rd)}
		n.given = n.all[2:]
	} else {
		sur = hanUnit(rs[0], true)
		n.given = n.all[1:]
	}
	n.all = append([]unit{sur}, n.given...)
	return n
}

func isHanOnly(us []unit) bool {
	return !slices.ContainsFunc(us, func(u unit) bool { return !u.han })
}

func text(us []unit) string {
	var b strings.Builder
	for _, u := range us {
		b.WriteString(u.text)
	}
	return b.String()
}

func runeLen(us []unit) int { return utf8.RuneCountInString(text(us)) }

// combine returns up to MaxReadings reading combinations of us, best first
// (fewest non-preferred readings, earlier units preferred). Units without
// readings are skipped.
func combine(us []unit) []reading {
	var rs [][]reading
	for _, u := range us {
		if len(u.readings) > 0 {
			rs = append(rs, u.readings)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	counts := make([]int, len(rs))
	for i, r := range rs {
		counts[i] = len(r)
	}
	var out []reading
	for _, idx := range choose(counts, MaxReadings) {
		var full, ini strings.Builder
		for i, k := range idx {
			full.WriteString(rs[i][k].full)
			ini.WriteString(rs[i][k].initials)
		}
		out = append(out, reading{full.String(), ini.String()})
	}
	return out
}

// choose enumerates index vectors (0 <= v[i] < counts[i]) in order of
// increasing sum, lexicographically within a sum, stopping after limit.
func choose(counts []int, limit int) [][]int {
	n := len(counts)
	room := make([]int, n+1) // room[i]: largest sum of v[i:]
	for i := n - 1; i >= 0; i-- {
		room[i] = room[i+1] + counts[i] - 1
	}
	var out [][]int
	cur := make([]int, n)
	var rec func(i, rem int)
	rec = func(i, rem int) {
		if len(out) >= limit {
			return
		}
		if i == n {
			out = append(out, slices.Clone(cur))
			return
		}
		for k := 0; k < counts[i] && k <= rem; k++ {
			if rem-k <= room[i+1] {
				cur[i] = k
				rec(i+1, rem-k)
			}
		}
	}
	for d := 0; d <= room[0] && len(out) < limit; d++ {
		rec(0, d)
	}
	return out
}

// fold lower-cases, drops accents and tone marks on Latin letters (ü
// becomes umlaut), and keeps only letters and digits.
func fold(s, umlaut string) string {
	rs := []rune(norm.NFD.String(strings.ToLower(norm.NFKC.String(s))))
	var b strings.Builder
	prevLatin := false
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.Is(unicode.Mn, r):
			if !prevLatin {
				b.WriteRune(r)
			}
		case r == 'u' && hasDiaeresis(rs[i+1:]):
			b.WriteString(umlaut)
			prevLatin = true
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
			prevLatin = unicode.Is(unicode.Latin, r)
		default:
			prevLatin = false
		}
	}
	return norm.NFC.String(b.String())
}

// hasDiaeresis reports whether the combining marks at the start of rs
// include U+0308.
func hasDiaeresis(rs []rune) bool {
	for _, r := range rs {
		if !unicode.Is(unicode.Mn, r) {
			return false
		}
		if r == '\u0308' {
			return true
		}
	}
	return false
}

func truncate(s string) string {
	if len(s) <= MaxKeyBytes {
		return s
	}
	i := MaxKeyBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

func isASCIILower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func firstRune(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

type keySet struct {
	seen map[string]bool
	keys []string
}

func (k *keySet) add(s string) {
	s = truncate(s)
	if utf8.RuneCountInString(s) < MinQueryRunes || k.seen[s] {
		return
	}
	if k.seen == nil {
		k.seen = map[string]bool{}
	}
	k.seen[s] = true
	k.keys = append(k.keys, s)
}

// addCombo adds the i-th combination's pinyin and, if initials, its
// initials.
func (k *keySet) addCombo(cs []reading, i int, initials bool) {
	if i >= len(cs) {
		return
	}
	k.add(cs[i].full)
	if initials {
		k.add(cs[i].initials)
	}
}
