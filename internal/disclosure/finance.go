package disclosure

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Fact metrics, counted at the village in the month of the entry or the
// publication, so a township's or a county's figure is a range sum. The
// budget against actual and the statements read the per-category metrics
// (a year is a few hundred facts rows, not thousands of entries).
const (
	MetricIncome    = "fin.income"    // income entered, in fen
	MetricExpense   = "fin.expense"   // expenditure entered, in fen
	MetricEntries   = "fin.entries"   // entries
	MetricNotices   = "pub.notices"   // notices and statements published
	MetricWithdrawn = "pub.withdrawn" // notices and statements withdrawn
)

// MetricAmount is the amount entered under one category of an account
// (fen): fin.amount.<account>.<category>.
func MetricAmount(account, category string) string { return "fin.amount." + account + "." + category }

// MetricCount is the number of entries of one category of an account.
func MetricCount(account, category string) string { return "fin.n." + account + "." + category }

// MetricAccount is the amount entered under an account by kind (income or
// expense): fin.account.<account>.<kind>. It holds the entries of
// categories a pack may since have dropped, which the reports show as
// "other".
func MetricAccount(account, kind string) string { return "fin.account." + account + "." + kind }

// entryDeltas are the facts an entry counts.
func entryDeltas(e Entry) []facts.Delta {
	metric := MetricIncome
	if e.Kind == policy.Expense {
		metric = MetricExpense
	}
	per := e.Day / 100
	return []facts.Delta{
		{Division: e.Division, Period: per, Metric: metric, N: e.Amount},
		{Division: e.Division, Period: per, Metric: MetricEntries, N: 1},
		{Division: e.Division, Period: per, Metric: MetricAmount(e.Account, e.Category), N: e.Amount},
		{Division: e.Division, Period: per, Metric: MetricCount(e.Account, e.Category), N: 1},
		{Division: e.Division, Period: per, Metric: MetricAccount(e.Account, e.Kind), N: e.Amount},
	}
}

// EntryFacts are the facts rows an entry counts (for bulk loads that write
// entries without the service, such as the benchmarks).
func EntryFacts(e Entry) []facts.Delta { return entryDeltas(e) }

// BudgetYears bounds the years a budget may be kept for: this many years
// back, and the next year.
const BudgetYears = 5

// checkText checks a free text: required (when need) and at most max
// characters.
func checkText(es *field.Errors, name, v string, max int, need bool) {
	switch {
	case v == "" && need:
		es.Add(name, "required")
	case runes(v) > max:
		es.Add(name, "too_long", strconv.Itoa(max))
	}
}

// checkDay reads a day typed in a form: empty is today (or 0 when
// optional); not in the future.
func checkDay(es *field.Errors, name, s string, today int, optional bool) int {
	if strings.TrimSpace(s) == "" {
		if optional {
			return 0
		}
		return today
	}
	day, ok := calendar.ParseDay(s)
	switch {
	case !ok:
		es.Add(name, "date")
	case day > today:
		es.Add(name, "day_future")
	}
	return day
}

// checkCategory checks an account and a category of the pack's finance
// rules, adding their problems to es; it returns the category.
func checkCategory(es *field.Errors, f policy.FinanceRules, account, category string) policy.FinanceCategory {
	if len(f.Accounts) == 0 {
		es.Add("account", "no_accounts")
		return policy.FinanceCategory{}
	}
	known := false
	for _, a := range f.Accounts {
		known = known || a.Key == account
	}
	switch {
	case account == "":
		es.Add("account", "required")
	case !known:
		es.Add("account", "account_unknown")
	}
	c, ok := f.Category(category)
	switch {
	case category == "":
		es.Add("category", "required")
	case !ok:
		es.Add("category", "category_unknown")
	case known && c.Account != account:
		es.Add("category", "category_account")
	}
	return c
}

// AddEntry records an entry in a village's accounts: the principal needs
// disclosure.manage there. Every problem of the input is returned at once
// as field.Errors (fields account, category, day, amount, summary, voucher)
// and nothing is stored then: an unknown account or category, a category of
// another account, a day in the future, an amount that is not positive or
// has more than two decimals. The entry, its facts and its audit entry
// commit together.
func (s *Service) AddEntry(ctx context.Context, p *access.Principal, in EntryInput) (Entry, error) {
	v, err := s.manageable(ctx, p, "fin_entry", in.Village)
	if err != nil {
		return Entry{}, err
	}
	var es field.Errors
	now := s.now()
	today := calendar.DayOf(now)
	e := Entry{County: ids.County(v), Division: v, Account: strings.TrimSpace(in.Account), Category: strings.TrimSpace(in.Category),
		Summary: strings.TrimSpace(in.Summary), Voucher: strings.TrimSpace(in.Voucher), CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p)}
	c := checkCategory(&es, s.Finance(v), e.Account, e.Category)
	e.Kind = c.Kind
	e.Day = checkDay(&es, "day", in.Day, today, false)
	var code string
	if e.Amount, code = ParseYuan(in.Amount); code != "" {
		es.Add("amount", code)
	}
	checkText(&es, "summary", e.Summary, MaxSummaryRunes, true)
	checkText(&es, "voucher", e.Voucher, MaxVoucherRunes, false)
	if err := es.Err(); err != nil {
		return Entry{}, err
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		if err := s.st.insertEntry(ctx, &e); err != nil {
			return err
		}
		if err := facts.AddAll(ctx, s.DB, entryDeltas(e)); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "fin_entry", EntityID: strconv.FormatInt(e.ID, 10),
			Division: v, Changes: []audit.Change{{Field: "account", After: e.Account}, {Field: "category", After: e.Category},
				{Field: "day", After: e.Day}, {Field: "amount", After: e.Amount}, {Field: "voucher", After: e.Voucher}}})
	})
	if err != nil {
		return Entry{}, err
	}
	return e, nil
}

// EntryPage is a page of a village's entries with the totals of every
// entry the filter chooses.
type EntryPage struct {
	Entries []Entry
	In, Out int64 // income and expenditure of the whole filter, fen
	N       int   // entries of the whole filter
	More    bool  // more entries follow the page
}

// Entries lists a village's entries the principal may read
// (governance.view there), newest first, with the filter's totals.
func (s *Service) Entries(ctx context.Context, p *access.Principal, f EntryFilter) (EntryPage, error) {
	v, err := s.viewable(ctx, p, "fin_entry", f.Village)
	if err != nil {
		return EntryPage{}, err
	}
	f.Village = v
	var out EntryPage
	if out.In, out.Out, out.N, err = s.st.entryTotals(ctx, f); err != nil {
		return out, err
	}
	limit := f.Limit
	if limit > 0 {
		f.Limit = limit + 1
	}
	if out.Entries, err = s.st.entries(ctx, f, false); err != nil {
		return out, err
	}
	if limit > 0 && len(out.Entries) > limit {
		out.Entries, out.More = out.Entries[:limit], true
	}
	return out, nil
}

// SetBudget keeps the budget of one category of an account for a year
// (amount in yuan; empty or 0 removes the line): disclosure.manage at the
// village; field.Errors on year, account, category, amount.
func (s *Service) SetBudget(ctx context.Context, p *access.Principal, village int64, year int, account, category, amount string) (Budget, error) {
	v, err := s.manageable(ctx, p, "fin_budget", village)
	if err != nil {
		return Budget{}, err
	}
	var es field.Errors
	b := Budget{Division: v, Year: year, Account: strings.TrimSpace(account), Category: strings.TrimSpace(category)}
	thisYear := s.Today() / 10000
	if year < thisYear-BudgetYears || year > thisYear+1 {
		es.Add("year", "year_range", strconv.Itoa(thisYear-BudgetYears)+"–"+strconv.Itoa(thisYear+1))
	}
	checkCategory(&es, s.Finance(v), b.Account, b.Category)
	if a := strings.TrimSpace(amount); a != "" && strings.Trim(a, "0.") != "" {
		var code string
		if b.Amount, code = ParseYuan(a); code != "" {
			es.Add("amount", code)
		}
	}
	if err := es.Err(); err != nil {
		return Budget{}, err
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		before, err := s.st.budgets(ctx, v, year)
		if err != nil {
			return err
		}
		if err := s.st.setBudget(ctx, b, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "fin_budget",
			EntityID: strconv.FormatInt(v, 10) + "/" + strconv.Itoa(year) + "/" + b.Account + "/" + b.Category, Division: v,
			Changes: []audit.Change{{Field: "amount", Before: before[b.Account+"/"+b.Category], After: b.Amount}}})
	})
	if err != nil {
		return Budget{}, err
	}
	return b, nil
}

// BudgetKey names a budget line in SetBudgets: "account/category".
func BudgetKey(account, category string) string { return account + "/" + category }

// SetBudgets keeps a year's budget of several categories at once, as the
// budget form sends it: amounts (yuan; empty or 0 removes the line) by
// BudgetKey. Every problem is returned at once as field.Errors whose field
// is the line's key (or year), and nothing is stored then; the lines that
// change and their audit entries commit together. It returns the number of
// lines changed.
func (s *Service) SetBudgets(ctx context.Context, p *access.Principal, village int64, year int, amounts map[string]string) (int, error) {
	v, err := s.manageable(ctx, p, "fin_budget", village)
	if err != nil {
		return 0, err
	}
	var es field.Errors
	thisYear := s.Today() / 10000
	if year < thisYear-BudgetYears || year > thisYear+1 {
		es.Add("year", "year_range", strconv.Itoa(thisYear-BudgetYears)+"–"+strconv.Itoa(thisYear+1))
	}
	f := s.Finance(v)
	keys := make([]string, 0, len(amounts))
	for k := range amounts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := map[string]int64{}
	for _, k := range keys {
		acc, cat, _ := strings.Cut(k, "/")
		var ces field.Errors
		checkCategory(&ces, f, acc, cat)
		if len(ces) > 0 {
			es.Add(k, ces[0].Code)
			continue
		}
		var fen int64
		if a := strings.TrimSpace(amounts[k]); a != "" && strings.Trim(a, "0.") != "" {
			var code string
			if fen, code = ParseYuan(a); code != "" {
				es.Add(k, code)
				continue
			}
		}
		want[k] = fen
	}
	if err := es.Err(); err != nil {
		return 0, err
	}
	changed := 0
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		before, err := s.st.budgets(ctx, v, year)
		if err != nil {
			return err
		}
		at := s.now().UnixMilli()
		for _, k := range keys {
			if before[k] == want[k] {
				continue
			}
			acc, cat, _ := strings.Cut(k, "/")
			if err := s.st.setBudget(ctx, Budget{Division: v, Year: year, Account: acc, Category: cat, Amount: want[k]}, at); err != nil {
				return err
			}
			changed++
			if err := s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "fin_budget",
				EntityID: strconv.FormatInt(v, 10) + "/" + strconv.Itoa(year) + "/" + k, Division: v,
				Changes: []audit.Change{{Field: "amount", Before: before[k], After: want[k]}}}); err != nil {
				return err
			}
		}
		return nil
	})
	return changed, err
}

// BudgetLine is one category's budget against its actual.
type BudgetLine struct {
	Category string
	Label    policy.Text
	Kind     string
	Budget   int64 // fen
	Actual   int64 // fen: the sum of the year's entries
	N        int   // entries
}

// Diff is actual less budget (fen).
func (l BudgetLine) Diff() int64 { return l.Actual - l.Budget }

// Share is the actual as a share of the budget; ok is false without a
// budget.
func (l BudgetLine) Share() (float64, bool) {
	if l.Budget <= 0 {
		return 0, false
	}
	return float64(l.Actual) / float64(l.Budget), true
}

// SharePct is Share as a percentage ("—" without a budget).
func (l BudgetLine) SharePct() string { return percent(l.Share()) }

// AccountReport is one account's budget against actual.
type AccountReport struct {
	Account string
	Label   policy.Text
	Income  []BudgetLine
	Expense []BudgetLine
	// Totals of income and expenditure.
	In, Out BudgetLine
}

// Balance is the account's actual income less its actual expenditure.
func (a AccountReport) Balance() int64 { return a.In.Actual - a.Out.Actual }

// BudgetReport is a village's budget against actual for a year (决算对比).
type BudgetReport struct {
	Village  int64
	Year     int
	To       int // the last day counted (today in the current year)
	Accounts []AccountReport
}

// Budget returns a village's budget against actual for a year: every
// category of the pack's accounts (and any category still holding entries
// the pack no longer lists), its budget, the sum of its entries over the
// year, the difference and the share. governance.view at the village.
func (s *Service) Budget(ctx context.Context, p *access.Principal, village int64, year int) (BudgetReport, error) {
	v, err := s.viewable(ctx, p, "fin_budget", village)
	if err != nil {
		return BudgetReport{}, err
	}
	return s.budgetReport(ctx, v, year)
}

// budgetReport is Budget without the scope check (the portal's summary).
func (s *Service) budgetReport(ctx context.Context, v int64, year int) (BudgetReport, error) {
	r := BudgetReport{Village: v, Year: year, To: min(year*10000+1231, s.Today())}
	budgets, err := s.st.budgets(ctx, v, year)
	if err != nil {
		return r, err
	}
	f := s.Finance(v)
	actual, err := s.sums(ctx, v, f, year*100+1, year*100+12)
	if err != nil {
		return r, err
	}
	seen := map[string]bool{}
	for _, a := range f.Accounts {
		ar := AccountReport{Account: a.Key, Label: a.Label}
		listed := map[string]int64{}
		for _, c := range f.Categories {
			if c.Account != a.Key {
				continue
			}
			k := BudgetKey(a.Key, c.Key)
			seen[k] = true
			listed[c.Kind] += actual[k].Amount
			ar.add(BudgetLine{Category: c.Key, Label: c.Label, Kind: c.Kind, Budget: budgets[k], Actual: actual[k].Amount, N: actual[k].N})
		}
		// entries of categories the pack no longer lists
		for _, kind := range []string{policy.Income, policy.Expense} {
			if other := actual[BudgetKey(a.Key, kind)].Amount - listed[kind]; other != 0 {
				ar.add(BudgetLine{Category: "", Label: otherLabel(), Kind: kind, Actual: other})
			}
		}
		r.Accounts = append(r.Accounts, ar)
	}
	// budgets of categories the pack no longer lists (their entries are in
	// the "other" lines above)
	for k, amount := range budgets {
		if seen[k] {
			continue
		}
		acc, cat, _ := strings.Cut(k, "/")
		for i := range r.Accounts {
			if r.Accounts[i].Account == acc {
				r.Accounts[i].add(BudgetLine{Category: cat, Label: policy.Text{"zh-CN": cat}, Kind: policy.Expense, Budget: amount})
			}
		}
	}
	return r, nil
}

// otherLabel names the line of the entries of categories a pack no longer
// lists.
func otherLabel() policy.Text {
	out := policy.Text{}
	for _, loc := range i18n.Locales() {
		out[loc] = i18n.T(loc, "fin.other")
	}
	return out
}

// sums reads a village's entries summed by category (keys account/category,
// from the facts) and by account and kind (keys account/income,
// account/expense) over the months [from, to] (YYYYMM).
func (s *Service) sums(ctx context.Context, v int64, f policy.FinanceRules, from, to int) (map[string]catSum, error) {
	var metrics []string
	key := map[string]string{}
	count := map[string]bool{}
	for _, c := range f.Categories {
		k := BudgetKey(c.Account, c.Key)
		metrics = append(metrics, MetricAmount(c.Account, c.Key), MetricCount(c.Account, c.Key))
		key[MetricAmount(c.Account, c.Key)], key[MetricCount(c.Account, c.Key)] = k, k
		count[MetricCount(c.Account, c.Key)] = true
	}
	for _, a := range f.Accounts {
		for _, kind := range []string{policy.Income, policy.Expense} {
			m := MetricAccount(a.Key, kind)
			metrics = append(metrics, m)
			key[m] = BudgetKey(a.Key, kind)
		}
	}
	out := map[string]catSum{}
	if len(metrics) == 0 {
		return out, nil
	}
	lo, hi := ids.Subtree(v)
	err := facts.SumMany(ctx, s.DB, metrics, lo, hi, from, to, facts.ByMetric, func(metric string, _, n int64) {
		cs := out[key[metric]]
		if count[metric] {
			cs.N += int(n)
		} else {
			cs.Amount += n
		}
		out[key[metric]] = cs
	})
	return out, err
}

func (a *AccountReport) add(l BudgetLine) {
	t := &a.Out
	if l.Kind == policy.Income {
		a.Income = append(a.Income, l)
		t = &a.In
	} else {
		a.Expense = append(a.Expense, l)
	}
	t.Kind = l.Kind
	t.Budget += l.Budget
	t.Actual += l.Actual
	t.N += l.N
}

// ---- the asset register ----

// checkAsset checks an asset's input against the pack, adding problems to
// es, and fills a.
func (s *Service) checkAsset(es *field.Errors, a *Asset, in AssetInput, today int) {
	a.Kind, a.Name = strings.TrimSpace(in.Kind), strings.TrimSpace(in.Name)
	a.Quantity, a.Status, a.Note = strings.TrimSpace(in.Quantity), strings.TrimSpace(in.Status), strings.TrimSpace(in.Note)
	kinds := s.Finance(a.Division).AssetKinds
	known := false
	for _, k := range kinds {
		known = known || k.Key == a.Kind
	}
	switch {
	case len(kinds) == 0:
		es.Add("kind", "no_asset_kinds")
	case a.Kind == "":
		es.Add("kind", "required")
	case !known:
		es.Add("kind", "asset_kind_unknown")
	}
	checkText(es, "name", a.Name, MaxNameRunes, true)
	checkText(es, "quantity", a.Quantity, MaxQuantityRunes, false)
	checkText(es, "status", a.Status, MaxStatusRunes, false)
	checkText(es, "note", a.Note, MaxNoteRunes, false)
	a.Value = 0
	if v := strings.TrimSpace(in.Value); v != "" && strings.Trim(v, "0.") != "" {
		var code string
		if a.Value, code = ParseYuan(v); code != "" {
			es.Add("value", code)
		}
	}
	a.AcquiredDay = checkDay(es, "acquired", in.Acquired, today, true)
}

// AddAsset enters an asset, fund or resource in a village's register
// (disclosure.manage there); field.Errors on kind, name, quantity, value,
// acquired, status, note.
func (s *Service) AddAsset(ctx context.Context, p *access.Principal, in AssetInput) (Asset, error) {
	v, err := s.manageable(ctx, p, "fin_asset", in.Village)
	if err != nil {
		return Asset{}, err
	}
	now := s.now()
	a := Asset{County: ids.County(v), Division: v, CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli()}
	var es field.Errors
	s.checkAsset(&es, &a, in, calendar.DayOf(now))
	if err := es.Err(); err != nil {
		return Asset{}, err
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		if err := s.st.insertAsset(ctx, &a); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "fin_asset", EntityID: strconv.FormatInt(a.ID, 10),
			Division: v, Changes: []audit.Change{{Field: "kind", After: a.Kind}, {Field: "name", After: a.Name},
				{Field: "value", After: a.Value}, {Field: "status", After: a.Status}}})
	})
	if err != nil {
		return Asset{}, err
	}
	return a, nil
}

// Asset returns an asset of the register the principal may read.
func (s *Service) Asset(ctx context.Context, p *access.Principal, id int64) (Asset, error) {
	a, err := s.st.asset(ctx, id)
	if err != nil {
		return a, err
	}
	if !p.CanAt(PermView, a.Division) {
		s.deny(ctx, "fin_asset", a.ID, a.Division)
		return Asset{}, db.ErrNotFound
	}
	return a, nil
}

// UpdateAsset changes an asset of the register (its kind, name, quantity,
// value, acquisition, status, note); retire true takes it off the register
// on the day retired (empty: today) and false puts a retired one back.
// disclosure.manage at its village.
func (s *Service) UpdateAsset(ctx context.Context, p *access.Principal, id int64, in AssetInput, retire bool, retired string) (Asset, error) {
	var out Asset
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		a, err := s.st.asset(ctx, id)
		if err != nil {
			return err
		}
		if !p.CanAt(PermView, a.Division) {
			s.deny(ctx, "fin_asset", a.ID, a.Division)
			return db.ErrNotFound
		}
		if !p.CanAt(PermManage, a.Division) {
			return ErrForbidden
		}
		before := a
		now := s.now()
		today := calendar.DayOf(now)
		var es field.Errors
		s.checkAsset(&es, &a, in, today)
		switch {
		case retire:
			a.RetiredDay = checkDay(&es, "retired", retired, today, false)
			if a.AcquiredDay > 0 && a.RetiredDay > 0 && a.RetiredDay < a.AcquiredDay {
				es.Add("retired", "retired_before_acquired")
			}
		default:
			a.RetiredDay = 0
		}
		if err := es.Err(); err != nil {
			return err
		}
		a.UpdatedAt = now.UnixMilli()
		if err := s.st.updateAsset(ctx, a); err != nil {
			return err
		}
		var changes []audit.Change
		chg := func(f string, b, a any) audit.Change { return audit.Change{Field: f, Before: b, After: a} }
		for _, c := range []audit.Change{chg("kind", before.Kind, a.Kind), chg("name", before.Name, a.Name),
			chg("quantity", before.Quantity, a.Quantity), chg("value", before.Value, a.Value),
			chg("acquired", before.AcquiredDay, a.AcquiredDay), chg("status", before.Status, a.Status),
			chg("note", before.Note, a.Note), chg("retired", before.RetiredDay, a.RetiredDay)} {
			if c.Before != c.After {
				changes = append(changes, c)
			}
		}
		out = a
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "fin_asset", EntityID: strconv.FormatInt(a.ID, 10),
			Division: a.Division, Changes: changes})
	})
	return out, err
}

// Assets lists a village's register (retired items too when all):
// governance.view at the village.
func (s *Service) Assets(ctx context.Context, p *access.Principal, village int64, all bool) ([]Asset, error) {
	v, err := s.viewable(ctx, p, "fin_asset", village)
	if err != nil {
		return nil, err
	}
	return s.st.assets(ctx, v, all)
}

// AssetKindLabel names an asset kind of the village's pack in locale (the
// key itself when the pack no longer has it).
func (s *Service) AssetKindLabel(village int64, key, locale string) string {
	for _, k := range s.Finance(village).AssetKinds {
		if k.Key == key {
			return k.Label.Get(locale)
		}
	}
	return key
}

// AccountLabel names an account of the village's pack.
func (s *Service) AccountLabel(village int64, key, locale string) string {
	for _, a := range s.Finance(village).Accounts {
		if a.Key == key {
			return a.Label.Get(locale)
		}
	}
	return key
}

// CategoryLabel names a finance category of the village's pack.
func (s *Service) CategoryLabel(village int64, key, locale string) string {
	if c, ok := s.Finance(village).Category(key); ok {
		return c.Label.Get(locale)
	}
	return key
}

// isNotFound reports a record that is not there (or not visible).
func isNotFound(err error) bool { return errors.Is(err, db.ErrNotFound) }
