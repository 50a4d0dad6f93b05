package disclosure

import (
	"fmt"
	"github.com/shequ-platform/shequ/internal/platform/money"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// model.go holds disclosure's types and rules without SQL or HTTP: money
// in fen typed in yuan, the schedule's periods, and the records (finance
// entries, budgets, assets, notices).

// Bounds of the input.
const (
	MaxSummaryRunes  = 200   // an entry's summary (摘要)
	MaxVoucherRunes  = 40    // a voucher number (凭证号)
	MaxTitleRunes    = 100   // a notice's title
	MaxBodyRunes     = 20000 // a notice's text
	MaxNameRunes     = 100   // an asset's name
	MaxQuantityRunes = 50    // an asset's quantity (1200 m², 35 亩)
	MaxStatusRunes   = 200   // an asset's status (in use, leased to whom until when)
	MaxNoteRunes     = 1000  // an asset's note
	// MaxFen bounds one amount: a hundred billion yuan, far beyond any
	// village, so a typo of extra digits is refused rather than stored.
	MaxFen = money.Max
)

// ---- money ----

// ParseYuan reads an amount typed in yuan as fen (money.Parse); the code of
// a refused amount is one of required, amount, negative, zero, decimals and
// too_large.
func ParseYuan(s string) (int64, string) { return money.Parse(s) }

// FormatYuan writes fen as yuan with two decimals and thousands separators.
func FormatYuan(fen int64) string { return money.Format(fen) }

// YuanInput writes fen as a form field holds it: 1234.5 → "1234.50".
func YuanInput(fen int64) string { return money.Input(fen) }

// ---- periods ----

// Period is one period of the disclosure schedule: a month, a quarter, a
// half year or a year (policy.EveryMonth, …).
type Period struct {
	Every string
	Year  int
	N     int // the month (1–12), quarter (1–4) or half (1–2); 0 for a year
}

// PeriodOf is the period of kind every that day (YYYYMMDD) falls in.
func PeriodOf(every string, day int) Period {
	y, m := day/10000, day/100%100
	switch every {
	case policy.EveryMonth:
		return Period{every, y, m}
	case policy.EveryQuarter:
		return Period{every, y, (m-1)/3 + 1}
	case policy.EveryHalfYear:
		return Period{every, y, (m-1)/6 + 1}
	case policy.EveryYear:
		return Period{every, y, 0}
	}
	return Period{}
}

// ParsePeriod reads a period key as PeriodOf writes it: 2026-11 (month),
// 2026-Q4, 2026-H2, 2026 (year).
func ParsePeriod(s string) (Period, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	y, rest, _ := strings.Cut(s, "-")
	year, err := strconv.Atoi(y)
	if err != nil || len(y) != 4 || year < 1990 || year > 2200 {
		return Period{}, false
	}
	if rest == "" {
		return Period{policy.EveryYear, year, 0}, !strings.Contains(s, "-")
	}
	kind, num := policy.EveryMonth, rest
	switch rest[0] {
	case 'Q':
		kind, num = policy.EveryQuarter, rest[1:]
	case 'H':
		kind, num = policy.EveryHalfYear, rest[1:]
	}
	n, err := strconv.Atoi(num)
	if err != nil || !digits(num) || kind == policy.EveryMonth && len(num) != 2 {
		return Period{}, false
	}
	p := Period{kind, year, n}
	return p, n >= 1 && n <= p.count()
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// count is the number of periods of p's kind in a year.
func (p Period) count() int {
	switch p.Every {
	case policy.EveryMonth:
		return 12
	case policy.EveryQuarter:
		return 4
	case policy.EveryHalfYear:
		return 2
	}
	return 1
}

// months is the number of months a period of p's kind spans.
func (p Period) months() int { return 12 / p.count() }

// Valid reports whether p is a period.
func (p Period) Valid() bool {
	return p.Year > 0 && (p.Every == policy.EveryYear || p.N >= 1 && p.N <= p.count())
}

// Key is the period as stored (pub_notices.period): 2026-11, 2026-Q4,
// 2026-H2, 2026.
func (p Period) Key() string {
	switch p.Every {
	case policy.EveryMonth:
		return fmt.Sprintf("%04d-%02d", p.Year, p.N)
	case policy.EveryQuarter:
		return fmt.Sprintf("%04d-Q%d", p.Year, p.N)
	case policy.EveryHalfYear:
		return fmt.Sprintf("%04d-H%d", p.Year, p.N)
	case policy.EveryYear:
		return strconv.Itoa(p.Year)
	}
	return ""
}

// From is the first day of the period (YYYYMMDD).
func (p Period) From() int {
	m := 1
	if p.Every != policy.EveryYear {
		m = (p.N-1)*p.months() + 1
	}
	return p.Year*10000 + m*100 + 1
}

// To is the last day of the period (YYYYMMDD).
func (p Period) To() int { return calendar.AddDays(p.Next().From(), -1) }

// Next is the period after p.
func (p Period) Next() Period {
	if p.Every == policy.EveryYear || p.N == p.count() {
		n := 1
		if p.Every == policy.EveryYear {
			n = 0
		}
		return Period{p.Every, p.Year + 1, n}
	}
	return Period{p.Every, p.Year, p.N + 1}
}

// Prev is the period before p.
func (p Period) Prev() Period {
	switch {
	case p.Every == policy.EveryYear:
		return Period{p.Every, p.Year - 1, 0}
	case p.N == 1:
		return Period{p.Every, p.Year - 1, p.count()}
	}
	return Period{p.Every, p.Year, p.N - 1}
}

// Covers reports whether p spans the whole of q (a quarterly statement
// covers each of its months; a month does not cover its quarter).
func (p Period) Covers(q Period) bool { return p.From() <= q.From() && q.To() <= p.To() }

// Label writes the period as people read it: 2026年11月, 2026年第四季度,
// 2026年下半年, 2026年 (zh-CN); Nov 2026, Q4 2026, H2 2026, 2026 (en).
func (p Period) Label(locale string) string {
	zh := !strings.HasPrefix(locale, "en")
	switch p.Every {
	case policy.EveryMonth:
		if zh {
			return fmt.Sprintf("%d年%d月", p.Year, p.N)
		}
		return fmt.Sprintf("%s %d", monthsEN[p.N-1], p.Year)
	case policy.EveryQuarter:
		if zh {
			return fmt.Sprintf("%d年第%s季度", p.Year, []string{"一", "二", "三", "四"}[p.N-1])
		}
		return fmt.Sprintf("Q%d %d", p.N, p.Year)
	case policy.EveryHalfYear:
		if zh {
			return fmt.Sprintf("%d年%s半年", p.Year, []string{"上", "下"}[p.N-1])
		}
		return fmt.Sprintf("H%d %d", p.N, p.Year)
	case policy.EveryYear:
		if zh {
			return fmt.Sprintf("%d年", p.Year)
		}
		return strconv.Itoa(p.Year)
	}
	return ""
}

var monthsEN = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// PeriodLabel is the label of a stored period key (the key itself when it
// is not one, "" for none).
func PeriodLabel(key, locale string) string {
	if p, ok := ParsePeriod(key); ok {
		return p.Label(locale)
	}
	return key
}

// ---- records ----

// Entry is one entry of a village's accounts (fin_entries): income or
// expenditure of a category of the administrative or economic account.
type Entry struct {
	ID        int64
	County    int64
	Division  int64 // the village
	Account   string
	Category  string
	Kind      string // policy.Income or policy.Expense, from the category
	Day       int    // YYYYMMDD
	Amount    int64  // fen, positive
	Summary   string // 摘要
	Voucher   string // 凭证号
	CreatedAt int64
	CreatedBy string
}

// EntryInput is an entry as typed.
type EntryInput struct {
	Village  int64
	Account  string // an account of the pack (admin, economic)
	Category string // a category of that account
	Day      string // 2006-01-02; empty: today; not in the future
	Amount   string // yuan, positive, at most two decimals
	Summary  string
	Voucher  string
}

// Budget is the annual budget of one category of an account (fin_budgets).
type Budget struct {
	Division int64
	Year     int
	Account  string
	Category string
	Amount   int64 // fen
}

// Asset is one item of the register of collective assets, funds and
// resources (三资, fin_assets).
type Asset struct {
	ID          int64
	County      int64
	Division    int64
	Kind        string // an asset kind of the pack
	Name        string
	Quantity    string // 1200 m², 35 亩
	Value       int64  // fen
	AcquiredDay int
	Status      string // in use, leased (to whom, until when), idle
	Note        string
	RetiredDay  int // 0: still held
	CreatedAt   int64
	UpdatedAt   int64
}

// Retired reports whether the asset has left the register.
func (a Asset) Retired() bool { return a.RetiredDay != 0 }

// AssetInput is an asset as typed (adding one or changing it).
type AssetInput struct {
	Village  int64
	Kind     string
	Name     string
	Quantity string
	Value    string // yuan; empty or 0 for a resource without a book value
	Acquired string // 2006-01-02, optional, not in the future
	Status   string
	Note     string
}

// Notice is one publication on the portal (pub_notices): a notice under a
// disclosure item, or a finance statement (Statement non-nil) of a period.
type Notice struct {
	ID           int64
	County       int64
	Division     int64
	Item         string // a disclosure item of the pack
	Period       string // the period it covers (Period.Key), "" for an event
	Title        string
	Body         string // the text; for a statement, its JSON (see Statement)
	PublishedDay int
	WithdrawnDay int // 0: on the portal
	CreatedAt    int64
	CreatedBy    string

	// Statement is the finance statement as published, decoded from Body
	// (nil for other notices).
	Statement *Statement
}

// Withdrawn reports whether the notice was taken off the portal.
func (n Notice) Withdrawn() bool { return n.WithdrawnDay != 0 }

// NoticeInput is a notice as typed.
type NoticeInput struct {
	Village int64
	Item    string // a disclosure item of the pack (not the finance one: PublishStatement)
	Period  string // the schedule period it covers (2026-11, 2026-Q4, …); required for scheduled items
	Title   string
	Body    string
}

// Statement is a finance statement as it was published: the income and
// expenditure of each account by category over a period, with the labels
// of the day, so a later correction of an entry or a pack changes the
// ledger and never what the bulletin board said.
type Statement struct {
	Period   string             `json:"period"`
	From     int                `json:"from"`
	To       int                `json:"to"`
	Accounts []StatementAccount `json:"accounts"`
}

// StatementAccount is one account of a statement.
type StatementAccount struct {
	Key     string          `json:"key"`
	Label   policy.Text     `json:"label"`
	Income  []StatementLine `json:"income"`
	Expense []StatementLine `json:"expense"`
	// In and Out are the totals of income and expenditure, in fen.
	In  int64 `json:"in"`
	Out int64 `json:"out"`
}

// Balance is income less expenditure.
func (a StatementAccount) Balance() int64 { return a.In - a.Out }

// StatementLine is one category of a statement.
type StatementLine struct {
	Key    string      `json:"key"`
	Label  policy.Text `json:"label"`
	Amount int64       `json:"amount"` // fen
	N      int         `json:"n"`      // entries
}

// runes counts the characters of s.
func runes(s string) int { return utf8.RuneCountInString(s) }
