// Package money reads and writes amounts of money as Chinese forms and
// ledgers show them: typed in yuan (元) with at most two decimals, stored as
// an int64 of fen (分), written with thousands separators.
package money

import (
	"fmt"
	"strconv"
	"strings"
)

// Max bounds one amount: a hundred billion yuan, far beyond any village's
// accounts (a typo guard, not a policy).
const Max int64 = 100_000_000_000 * 100

// Codes of a refused amount (field error codes).
const (
	Required = "required"  // nothing typed
	NaN      = "amount"    // not a number
	Negative = "negative"  // below zero
	Zero     = "zero"      // exactly zero
	Decimals = "decimals"  // more than two decimal places
	TooLarge = "too_large" // over Max
)

// Parse reads an amount typed in yuan — 1234, 1234.5, 1,234.56, ¥1 234.56,
// 800元 — as fen. code is "" for an amount above zero, else one of the
// codes above (Required and Zero come with fen 0, for callers that accept
// them).
func Parse(s string) (fen int64, code string) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "¥"), "￥")
	s = strings.TrimSuffix(s, "元")
	s = strings.NewReplacer(",", "", "，", "", " ", "", "\u00a0", "").Replace(s)
	if s == "" {
		return 0, Required
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || !digits(whole) || !digits(frac) {
		return 0, NaN
	}
	if len(frac) > 2 {
		// 12.300 is 12.30: only non-zero digits beyond the fen are refused
		if strings.Trim(frac[2:], "0") != "" {
			return 0, Decimals
		}
		frac = frac[:2]
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 12 {
		return 0, TooLarge
	}
	if whole != "" {
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, NaN
		}
		fen = w * 100
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	fen += f
	switch {
	case neg && fen != 0:
		return 0, Negative
	case fen == 0:
		return 0, Zero
	case fen > Max:
		return 0, TooLarge
	}
	return fen, ""
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format writes fen as yuan with two decimals and thousands separators:
// 123456 → 1,234.56, -5 → -0.05.
func Format(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	w := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, r := range w {
		if i > 0 && (len(w)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s%s.%02d", sign, b.String(), fen%100)
}

// Input writes fen as a form field holds it: 1234.5 → "1234.50" ("" for 0).
func Input(fen int64) string {
	if fen == 0 {
		return ""
	}
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}
