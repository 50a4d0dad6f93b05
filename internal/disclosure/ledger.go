package disclosure

// The finance ledgers (台账) as XLSX workbooks: the entries of a year
// (收支明细账), the budget against actual of a year (预决算对比表) and the
// register of collective assets (三资台账). A village's ledgers are small
// (a few thousand rows), so they are written straight to the response; each
// export is audited with its row count.

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
)

// Ledger kinds (the {kind} of the download's path).
const (
	LedgerEntries = "entries"
	LedgerBudget  = "budget"
	LedgerAssets  = "assets"
)

// Ledgers lists the ledger kinds.
var Ledgers = []string{LedgerEntries, LedgerBudget, LedgerAssets}

// LedgerFileName is the download name of a ledger, e.g.
// 收支明细账-门楼社区居委会-2026.xlsx.
func LedgerFileName(locale, kind, village string, year int) string {
	name := i18n.T(locale, "fin.ledger."+kind) + "-" + village
	if kind != LedgerAssets {
		name += "-" + strconv.Itoa(year)
	}
	return name + ".xlsx"
}

// yuan is an amount in fen as a number of yuan for a spreadsheet cell.
func yuan(fen int64) float64 { return float64(fen) / 100 }

// dayCell is a YYYYMMDD day as a date cell (nil for 0).
func dayCell(day int) any {
	if day <= 0 {
		return nil
	}
	return time.Date(day/10000, time.Month(day/100%100), day%100, 0, 0, 0, 0, time.UTC)
}

// Ledger writes one of a village's ledgers (kind LedgerEntries or
// LedgerBudget for a year, LedgerAssets as it is now) to w as XLSX, in
// locale, and returns the rows written: governance.view at the village.
func (s *Service) Ledger(ctx context.Context, p *access.Principal, village int64, kind string, year int, locale string, w io.Writer) (int, error) {
	v, err := s.viewable(ctx, p, "fin_ledger", village)
	if err != nil {
		return 0, err
	}
	if !i18n.Valid(locale) {
		locale = i18n.Default
	}
	t := func(k string) string { return i18n.T(locale, k) }
	tw := tabular.NewXLSXWriter(w, t("fin.ledger."+kind))
	var n int
	switch kind {
	case LedgerEntries:
		n, err = s.entriesLedger(ctx, tw, v, year, locale)
	case LedgerBudget:
		n, err = s.budgetLedger(ctx, tw, v, year, locale)
	case LedgerAssets:
		n, err = s.assetsLedger(ctx, tw, v, locale)
	default:
		return 0, db.ErrNotFound
	}
	if err != nil {
		return n, err
	}
	if err := tw.Close(); err != nil {
		return n, err
	}
	return n, s.Audit.Write(ctx, audit.Entry{Action: audit.Export, Entity: "fin_ledger", EntityID: kind + "/" + strconv.FormatInt(v, 10),
		Division: v, Changes: []audit.Change{{Field: "rows", After: n}, {Field: "year", After: year}, {Field: "format", After: "xlsx"}}})
}

func (s *Service) entriesLedger(ctx context.Context, tw tabular.Writer, v int64, year int, loc string) (int, error) {
	t := func(k string) string { return i18n.T(loc, k) }
	if err := tw.WriteHeader([]string{t("fin.col.day"), t("fin.col.voucher"), t("fin.col.account"), t("fin.col.category"),
		t("fin.col.summary"), t("fin.col.income"), t("fin.col.expense"), t("fin.col.by")}); err != nil {
		return 0, err
	}
	es, err := s.st.entries(ctx, EntryFilter{Village: v, From: year*10000 + 101, To: year*10000 + 1231}, true)
	if err != nil {
		return 0, err
	}
	var in, out int64
	for _, e := range es {
		var inc, exp any
		if e.Kind == policy.Income {
			inc, in = yuan(e.Amount), in+e.Amount
		} else {
			exp, out = yuan(e.Amount), out+e.Amount
		}
		if err := tw.Write([]any{dayCell(e.Day), e.Voucher, s.AccountLabel(v, e.Account, loc), s.CategoryLabel(v, e.Category, loc),
			e.Summary, inc, exp, e.CreatedBy}); err != nil {
			return 0, err
		}
	}
	if err := tw.Write([]any{nil, nil, nil, nil, t("fin.total"), yuan(in), yuan(out), nil}); err != nil {
		return 0, err
	}
	return len(es), nil
}

func (s *Service) budgetLedger(ctx context.Context, tw tabular.Writer, v int64, year int, loc string) (int, error) {
	t := func(k string) string { return i18n.T(loc, k) }
	if err := tw.WriteHeader([]string{t("fin.col.account"), t("fin.col.kind"), t("fin.col.category"), t("fin.col.budget"),
		t("fin.col.actual"), t("fin.col.diff"), t("fin.col.share")}); err != nil {
		return 0, err
	}
	r, err := s.budgetReport(ctx, v, year)
	if err != nil {
		return 0, err
	}
	n := 0
	line := func(acc string, l BudgetLine, label string) error {
		var share any
		if sh, ok := l.Share(); ok {
			share = float64(int(sh*1000+0.5)) / 10 // percent, one decimal
		}
		n++
		return tw.Write([]any{acc, t("fin.kind." + l.Kind), label, yuan(l.Budget), yuan(l.Actual), yuan(l.Diff()), share})
	}
	for _, a := range r.Accounts {
		acc := a.Label.Get(loc)
		for _, group := range [][]BudgetLine{a.Income, a.Expense} {
			for _, l := range group {
				if err := line(acc, l, l.Label.Get(loc)); err != nil {
					return n, err
				}
			}
		}
		if err := line(acc, a.In, t("fin.total_in")); err != nil {
			return n, err
		}
		if err := line(acc, a.Out, t("fin.total_out")); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Service) assetsLedger(ctx context.Context, tw tabular.Writer, v int64, loc string) (int, error) {
	t := func(k string) string { return i18n.T(loc, k) }
	if err := tw.WriteHeader([]string{t("fin.col.asset_kind"), t("fin.col.name"), t("fin.col.quantity"), t("fin.col.value"),
		t("fin.col.acquired"), t("fin.col.status"), t("fin.col.note"), t("fin.col.retired")}); err != nil {
		return 0, err
	}
	as, err := s.st.assets(ctx, v, true)
	if err != nil {
		return 0, err
	}
	for _, a := range as {
		if err := tw.Write([]any{s.AssetKindLabel(v, a.Kind, loc), a.Name, a.Quantity, yuan(a.Value), dayCell(a.AcquiredDay),
			a.Status, a.Note, dayCell(a.RetiredDay)}); err != nil {
			return 0, err
		}
	}
	return len(as), nil
}
