package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Finance (DG-6) and notices (DG-8): a village's accounts, budgets, the
// register of collective assets, the budget against actual, and the
// notices and finance statements of its public page. Reading needs
// governance.view at the village, writing disclosure.manage. Money is
// typed in yuan as a string with at most two decimals ("1234.56") and
// returned both ways: amount (the same string form) and amount_fen.

// FinanceEntry is one entry of a village's accounts.
type FinanceEntry struct {
	ID        int64  `json:"id"`
	Village   string `json:"village" doc:"15-digit code of the village" example:"320205001001000"`
	Account   string `json:"account" doc:"An account of the village's policy pack (e.g. admin, economic)" example:"admin"`
	Category  string `json:"category" doc:"A category of that account" example:"office"`
	Kind      string `json:"kind" enum:"income,expense" doc:"From the category"`
	Day       string `json:"day" format:"date"`
	Amount    string `json:"amount" doc:"Yuan, two decimals" example:"1234.56"`
	AmountFen int64  `json:"amount_fen" doc:"The amount in fen" example:"123456"`
	Summary   string `json:"summary"`
	Voucher   string `json:"voucher,omitempty" doc:"Voucher number (凭证号)"`
	CreatedBy string `json:"created_by"`
	CreatedAt string `json:"created_at" format:"date-time"`
}

func yuanString(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return sign + strconv.FormatInt(fen/100, 10) + "." + strconv.FormatInt(fen%100/10, 10) + strconv.FormatInt(fen%10, 10)
}

func toFinanceEntry(e disclosure.Entry) FinanceEntry {
	return FinanceEntry{ID: e.ID, Village: codeString(e.Division), Account: e.Account, Category: e.Category, Kind: e.Kind,
		Day: dayString(e.Day), Amount: yuanString(e.Amount), AmountFen: e.Amount, Summary: e.Summary, Voucher: e.Voucher,
		CreatedBy: e.CreatedBy, CreatedAt: timeString(e.CreatedAt)}
}

// NewFinanceEntry is an entry as entered.
type NewFinanceEntry struct {
	Village  string `json:"village" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"Code of the village (a grid stands for its village); the caller needs disclosure.manage there" example:"320205001001"`
	Account  string `json:"account" maxLength:"64" example:"admin"`
	Category string `json:"category" maxLength:"64" doc:"A category of the account" example:"office"`
	Day      string `json:"day,omitempty" format:"date" doc:"Default today; not in the future"`
	Amount   string `json:"amount" maxLength:"32" doc:"Yuan: positive, at most two decimals" example:"1234.56"`
	Summary  string `json:"summary" maxLength:"1000" example:"购买办公用品"`
	Voucher  string `json:"voucher,omitempty" maxLength:"200" example:"记-0012"`
}

// FinanceEntryList is one page of entries, newest first, with the totals
// of every entry the filter chooses.
type FinanceEntryList struct {
	Items    []FinanceEntry `json:"items" nullable:"false"`
	More     bool           `json:"more"`
	Count    int            `json:"count" doc:"Entries the filter chooses (all pages)"`
	Income   string         `json:"income" doc:"Their income, yuan"`
	Expense  string         `json:"expense" doc:"Their expenditure, yuan"`
	IncomeF  int64          `json:"income_fen"`
	ExpenseF int64          `json:"expense_fen"`
}

// FinanceBudgetLine is one category's budget against its actual.
type FinanceBudgetLine struct {
	Account    string   `json:"account"`
	Category   string   `json:"category" doc:"\"\" for the account's total of its kind"`
	Label      string   `json:"label"`
	Kind       string   `json:"kind" enum:"income,expense"`
	Budget     string   `json:"budget" doc:"Yuan"`
	Actual     string   `json:"actual" doc:"Yuan: the sum of the year's entries"`
	Difference string   `json:"difference" doc:"Actual less budget, yuan"`
	Share      *float64 `json:"share,omitempty" doc:"Actual as a share of the budget (absent without a budget)"`
	Entries    int      `json:"entries"`
}

// FinanceSummary is a village's budget against actual for a year.
type FinanceSummary struct {
	Village string              `json:"village"`
	Year    int                 `json:"year"`
	To      string              `json:"to" format:"date" doc:"The last day counted"`
	Lines   []FinanceBudgetLine `json:"lines" nullable:"false" doc:"Per account: its income categories, the income total (category \"\"), its expenditure categories, the expenditure total"`
}

func toBudgetLine(acc string, l disclosure.BudgetLine, total bool) FinanceBudgetLine {
	out := FinanceBudgetLine{Account: acc, Category: l.Category, Label: l.Label.Get(policy.DefaultLocale), Kind: l.Kind,
		Budget: yuanString(l.Budget), Actual: yuanString(l.Actual), Difference: yuanString(l.Diff()), Entries: l.N}
	if total {
		out.Category, out.Label = "", ""
	}
	if sh, ok := l.Share(); ok {
		out.Share = &sh
	}
	return out
}

// FinanceBudgets sets a year's budget lines of a village.
type FinanceBudgets struct {
	Village string              `json:"village" pattern:"^([0-9]{12}|[0-9]{15})$" example:"320205001001"`
	Year    int                 `json:"year" minimum:"1990" maximum:"2200" example:"2026"`
	Lines   []FinanceBudgetItem `json:"lines" maxItems:"500" doc:"Lines to set; the others stay"`
}

// FinanceBudgetItem is one budget line as set.
type FinanceBudgetItem struct {
	Account  string `json:"account" maxLength:"64"`
	Category string `json:"category" maxLength:"64"`
	Amount   string `json:"amount" maxLength:"32" doc:"Yuan; \"\" or \"0\" removes the line"`
}

// FinanceAsset is one item of the register of collective assets, funds and
// resources (三资).
type FinanceAsset struct {
	ID       int64  `json:"id"`
	Village  string `json:"village"`
	Kind     string `json:"kind" doc:"An asset kind of the village's policy pack"`
	Name     string `json:"name"`
	Quantity string `json:"quantity,omitempty" example:"35 亩"`
	Value    string `json:"value" doc:"Book value, yuan"`
	ValueFen int64  `json:"value_fen"`
	Acquired string `json:"acquired,omitempty" format:"date"`
	Status   string `json:"status,omitempty"`
	Note     string `json:"note,omitempty"`
	Retired  string `json:"retired,omitempty" format:"date" doc:"When it left the register"`
}

func toFinanceAsset(a disclosure.Asset) FinanceAsset {
	return FinanceAsset{ID: a.ID, Village: codeString(a.Division), Kind: a.Kind, Name: a.Name, Quantity: a.Quantity,
		Value: yuanString(a.Value), ValueFen: a.Value, Acquired: dayString(a.AcquiredDay), Status: a.Status, Note: a.Note,
		Retired: dayString(a.RetiredDay)}
}

// NewFinanceAsset is an asset as entered.
type NewFinanceAsset struct {
	Village  string `json:"village" pattern:"^([0-9]{12}|[0-9]{15})$" example:"320205001001"`
	Kind     string `json:"kind" maxLength:"64" example:"land"`
	Name     string `json:"name" maxLength:"400" example:"东片集体耕地"`
	Quantity string `json:"quantity,omitempty" maxLength:"200"`
	Value    string `json:"value,omitempty" maxLength:"32" doc:"Yuan (empty: no book value)"`
	Acquired string `json:"acquired,omitempty" format:"date"`
	Status   string `json:"status,omitempty" maxLength:"800"`
	Note     string `json:"note,omitempty" maxLength:"4000"`
}

// DisclosureNotice is a notice or a finance statement of a village's
// public page.
type DisclosureNotice struct {
	ID        int64                 `json:"id"`
	Village   string                `json:"village"`
	Item      string                `json:"item" doc:"A disclosure item of the village's policy pack"`
	Period    string                `json:"period,omitempty" doc:"The schedule period it covers: 2026-11, 2026-Q4, 2026-H2, 2026"`
	Title     string                `json:"title"`
	Body      string                `json:"body,omitempty" doc:"The text (GET one and POST only; statements: absent, see statement)"`
	Published string                `json:"published" format:"date"`
	Withdrawn string                `json:"withdrawn,omitempty" format:"date"`
	Statement *disclosure.Statement `json:"statement,omitempty" doc:"A finance statement as published (amounts in fen)"`
	CreatedBy string                `json:"created_by"`
}

func toNotice(n disclosure.Notice) DisclosureNotice {
	out := DisclosureNotice{ID: n.ID, Village: codeString(n.Division), Item: n.Item, Period: n.Period, Title: n.Title, Body: n.Body,
		Published: dayString(n.PublishedDay), Withdrawn: dayString(n.WithdrawnDay), Statement: n.Statement, CreatedBy: n.CreatedBy}
	if n.Statement != nil {
		out.Body = ""
	}
	return out
}

// NewDisclosureNotice is a notice as published. Under the pack's finance
// item it publishes the finance statement of the period instead (title
// and body are then computed).
type NewDisclosureNotice struct {
	Village string `json:"village" pattern:"^([0-9]{12}|[0-9]{15})$" example:"320205001001"`
	Item    string `json:"item" maxLength:"64" example:"affairs"`
	Period  string `json:"period,omitempty" maxLength:"16" doc:"Required for scheduled items, of the item's kind; not in the future" example:"2026-11"`
	Title   string `json:"title,omitempty" maxLength:"400"`
	Body    string `json:"body,omitempty" maxLength:"80000"`
}

// financeError translates disclosure's errors: invalid input is 422 with
// the first field and code (the message lists every problem), a village
// seen but not to be changed 403, a notice withdrawn already 409.
func financeError(err error) error {
	var es field.Errors
	switch {
	case err == nil:
		return nil
	case errors.As(err, &es) && len(es) > 0:
		parts := make([]string, len(es))
		for i, e := range es {
			parts[i] = e.Field + ": " + e.Code
			if e.Arg != "" {
				parts[i] += " (" + e.Arg + ")"
			}
		}
		return invalid(es[0].Field, es[0].Code, strings.Join(parts, "; "))
	case errors.Is(err, disclosure.ErrForbidden):
		return forbidden("not permitted to change this village's disclosure")
	case errors.Is(err, disclosure.ErrWithdrawn):
		return &Error{Status: http.StatusConflict, Code: "withdrawn", Message: "the notice was withdrawn already"}
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	}
	return err
}

// villageCode reads the village of a query or a body.
func villageCode(s string) (int64, error) {
	c, err := parseCode(s)
	if err != nil {
		return 0, invalid("village", CodeInvalid, err.Error())
	}
	return c, nil
}

type entriesIn struct {
	Village  string `query:"village" required:"true" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"Code of the village" example:"320205001001"`
	Year     int    `query:"year" minimum:"1990" maximum:"2200" doc:"Entries of this year (default: every year)"`
	Account  string `query:"account" maxLength:"64"`
	Category string `query:"category" maxLength:"64"`
	Kind     string `query:"kind" enum:"income,expense"`
	Limit    int    `query:"limit" default:"100" minimum:"1" maximum:"1000"`
	Offset   int    `query:"offset" minimum:"0" maximum:"1000000"`
}

type entriesOut struct{ Body FinanceEntryList }

type createEntryIn struct{ Body NewFinanceEntry }

type entryOut struct {
	Location string `header:"Location"`
	Body     FinanceEntry
}

type summaryIn struct {
	Village string `query:"village" required:"true" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"Code of the village" example:"320205001001"`
	Year    int    `query:"year" minimum:"1990" maximum:"2200" doc:"Default this year"`
}

type summaryOut struct{ Body FinanceSummary }

type budgetsIn struct{ Body FinanceBudgets }

type budgetsOut struct {
	Body struct {
		Changed int `json:"changed" doc:"Lines changed"`
	}
}

type assetsIn struct {
	Village string `query:"village" required:"true" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"Code of the village" example:"320205001001"`
	All     bool   `query:"all" doc:"Retired items too"`
}

type assetsOut struct {
	Body struct {
		Items []FinanceAsset `json:"items" nullable:"false"`
	}
}

type createAssetIn struct{ Body NewFinanceAsset }

type assetOut struct{ Body FinanceAsset }

type noticesIn struct {
	Village   string `query:"village" required:"true" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"Code of the village" example:"320205001001"`
	Item      string `query:"item" maxLength:"64"`
	Withdrawn bool   `query:"withdrawn" doc:"Withdrawn notices too"`
	Limit     int    `query:"limit" default:"100" minimum:"1" maximum:"1000"`
}

type noticesOut struct {
	Body struct {
		Items []DisclosureNotice `json:"items" nullable:"false"`
	}
}

type createNoticeIn struct{ Body NewDisclosureNotice }

type noticeOut struct {
	Location string `header:"Location"`
	Body     DisclosureNotice
}

type noticePath struct {
	ID int64 `path:"id" minimum:"1"`
}

type withdrawOut struct{ Body DisclosureNotice }

func (s *server) registerFinance(a huma.API) {
	tags := []string{"finance"}
	huma.Register(a, op("list-finance-entries", http.MethodGet, "/finance/entries", "A village's entries, newest first, with the filter's totals", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listEntries)
	create := op("create-finance-entry", http.MethodPost, "/finance/entries", "Enter income or expenditure in a village's accounts", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = maxBody
	create.Description = "Needs disclosure.manage at the village. Refused (422, nothing stored): an unknown account or category " +
		"(account_unknown, category_unknown), a category of another account (category_account), a day in the future (day_future), " +
		"an amount that is negative, zero, not a number or has more than two decimals (negative, zero, amount, decimals)."
	huma.Register(a, create, s.createEntry)
	huma.Register(a, op("get-finance-summary", http.MethodGet, "/finance/summary", "A village's budget against actual for a year", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.financeSummary)
	budgets := op("set-finance-budgets", http.MethodPut, "/finance/budgets", "Set budget lines of a village for a year", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	budgets.MaxBodyBytes = maxBody
	budgets.Description = "Needs disclosure.manage. Every line is checked first (the error's field is account/category or year); " +
		"the lines that change are stored together and audited."
	huma.Register(a, budgets, s.setBudgets)
	huma.Register(a, op("list-finance-assets", http.MethodGet, "/finance/assets", "A village's register of collective assets, funds and resources", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listAssets)
	asset := op("create-finance-asset", http.MethodPost, "/finance/assets", "Enter an asset, fund or resource in a village's register", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	asset.DefaultStatus = http.StatusCreated
	asset.MaxBodyBytes = maxBody
	huma.Register(a, asset, s.createAsset)

	ntags := []string{"notices"}
	huma.Register(a, op("list-notices", http.MethodGet, "/notices", "A village's notices and finance statements, newest first", ntags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listNotices)
	pub := op("publish-notice", http.MethodPost, "/notices", "Publish a notice (or a finance statement) on a village's public page", ntags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	pub.DefaultStatus = http.StatusCreated
	pub.MaxBodyBytes = 128 << 10
	pub.Description = "Needs disclosure.manage. Under the pack's finance item, publishes the period's finance statement, computed " +
		"now and stored as published (a later correction of an entry does not change it; a period already published is " +
		"period_published until that statement is withdrawn)."
	huma.Register(a, pub, s.publishNotice)
	huma.Register(a, op("withdraw-notice", http.MethodPost, "/notices/{id}/withdraw", "Take a notice off the public page (the record stays)", ntags,
		http.StatusForbidden, http.StatusNotFound, http.StatusConflict), s.withdrawNotice)
}

func (s *server) listEntries(ctx context.Context, in *entriesIn) (*entriesOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	v, err := villageCode(in.Village)
	if err != nil {
		return nil, err
	}
	f := disclosure.EntryFilter{Village: v, Account: in.Account, Category: in.Category, Kind: in.Kind, Offset: in.Offset, Limit: in.Limit}
	if in.Year > 0 {
		f.From, f.To = in.Year*10000+101, in.Year*10000+1231
	}
	page, err := s.Disclosure.Entries(ctx, access.From(ctx), f)
	if err != nil {
		return nil, financeError(err)
	}
	out := &entriesOut{Body: FinanceEntryList{Items: make([]FinanceEntry, 0, len(page.Entries)), More: page.More, Count: page.N,
		Income: yuanString(page.In), Expense: yuanString(page.Out), IncomeF: page.In, ExpenseF: page.Out}}
	for _, e := range page.Entries {
		out.Body.Items = append(out.Body.Items, toFinanceEntry(e))
	}
	return out, nil
}

func (s *server) createEntry(ctx context.Context, in *createEntryIn) (*entryOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	b := in.Body
	v, err := villageCode(b.Village)
	if err != nil {
		return nil, err
	}
	e, err := s.Disclosure.AddEntry(ctx, access.From(ctx), disclosure.EntryInput{Village: v, Account: b.Account, Category: b.Category,
		Day: b.Day, Amount: b.Amount, Summary: b.Summary, Voucher: b.Voucher})
	if err != nil {
		return nil, financeError(err)
	}
	return &entryOut{Location: Prefix + "/finance/entries?village=" + codeString(e.Division), Body: toFinanceEntry(e)}, nil
}

func (s *server) financeSummary(ctx context.Context, in *summaryIn) (*summaryOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	v, err := villageCode(in.Village)
	if err != nil {
		return nil, err
	}
	year := in.Year
	if year == 0 {
		year = s.Disclosure.Today() / 10000
	}
	r, err := s.Disclosure.Budget(ctx, access.From(ctx), v, year)
	if err != nil {
		return nil, financeError(err)
	}
	out := &summaryOut{Body: FinanceSummary{Village: codeString(r.Village), Year: r.Year, To: dayString(r.To), Lines: []FinanceBudgetLine{}}}
	for _, acc := range r.Accounts {
		for _, l := range acc.Income {
			out.Body.Lines = append(out.Body.Lines, toBudgetLine(acc.Account, l, false))
		}
		out.Body.Lines = append(out.Body.Lines, toBudgetLine(acc.Account, acc.In, true))
		for _, l := range acc.Expense {
			out.Body.Lines = append(out.Body.Lines, toBudgetLine(acc.Account, l, false))
		}
		out.Body.Lines = append(out.Body.Lines, toBudgetLine(acc.Account, acc.Out, true))
	}
	return out, nil
}

func (s *server) setBudgets(ctx context.Context, in *budgetsIn) (*budgetsOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	b := in.Body
	v, err := villageCode(b.Village)
	if err != nil {
		return nil, err
	}
	lines := map[string]string{}
	for _, l := range b.Lines {
		lines[disclosure.BudgetKey(l.Account, l.Category)] = l.Amount
	}
	n, err := s.Disclosure.SetBudgets(ctx, access.From(ctx), v, b.Year, lines)
	if err != nil {
		return nil, financeError(err)
	}
	out := &budgetsOut{}
	out.Body.Changed = n
	return out, nil
}

func (s *server) listAssets(ctx context.Context, in *assetsIn) (*assetsOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	v, err := villageCode(in.Village)
	if err != nil {
		return nil, err
	}
	as, err := s.Disclosure.Assets(ctx, access.From(ctx), v, in.All)
	if err != nil {
		return nil, financeError(err)
	}
	out := &assetsOut{}
	out.Body.Items = make([]FinanceAsset, 0, len(as))
	for _, x := range as {
		out.Body.Items = append(out.Body.Items, toFinanceAsset(x))
	}
	return out, nil
}

func (s *server) createAsset(ctx context.Context, in *createAssetIn) (*assetOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	b := in.Body
	v, err := villageCode(b.Village)
	if err != nil {
		return nil, err
	}
	x, err := s.Disclosure.AddAsset(ctx, access.From(ctx), disclosure.AssetInput{Village: v, Kind: b.Kind, Name: b.Name, Quantity: b.Quantity,
		Value: b.Value, Acquired: b.Acquired, Status: b.Status, Note: b.Note})
	if err != nil {
		return nil, financeError(err)
	}
	return &assetOut{Body: toFinanceAsset(x)}, nil
}

func (s *server) listNotices(ctx context.Context, in *noticesIn) (*noticesOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	v, err := villageCode(in.Village)
	if err != nil {
		return nil, err
	}
	ns, err := s.Disclosure.Notices(ctx, access.From(ctx), disclosure.NoticeFilter{Village: v, Item: in.Item, Withdrawn: in.Withdrawn, Limit: in.Limit})
	if err != nil {
		return nil, financeError(err)
	}
	out := &noticesOut{}
	out.Body.Items = make([]DisclosureNotice, 0, len(ns))
	for _, n := range ns {
		out.Body.Items = append(out.Body.Items, toNotice(n))
	}
	return out, nil
}

func (s *server) publishNotice(ctx context.Context, in *createNoticeIn) (*noticeOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	b := in.Body
	v, err := villageCode(b.Village)
	if err != nil {
		return nil, err
	}
	p := access.From(ctx)
	var n disclosure.Notice
	if it, ok := s.Disclosure.FinanceItem(v); ok && it.Key == strings.TrimSpace(b.Item) {
		n, err = s.Disclosure.PublishStatement(ctx, p, v, b.Period)
	} else {
		n, err = s.Disclosure.Publish(ctx, p, disclosure.NoticeInput{Village: v, Item: b.Item, Period: b.Period, Title: b.Title, Body: b.Body})
	}
	if err != nil {
		return nil, financeError(err)
	}
	return &noticeOut{Location: Prefix + "/notices?village=" + codeString(n.Division), Body: toNotice(n)}, nil
}

func (s *server) withdrawNotice(ctx context.Context, in *noticePath) (*withdrawOut, error) {
	if s.Disclosure == nil {
		return nil, notFound()
	}
	n, err := s.Disclosure.Withdraw(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, financeError(err)
	}
	return &withdrawOut{Body: toNotice(n)}, nil
}
