package disclosure

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// checkPeriod reads the period a publication covers for a scheduled item:
// required, of the item's kind (a monthly item takes 2026-11), not starting
// after today.
func checkPeriod(es *field.Errors, it policy.DisclosureItem, s string, today int) string {
	if !slices.Contains(policy.Cadences, it.Every) {
		return "" // an event item: no period
	}
	s = strings.TrimSpace(s)
	if s == "" {
		es.Add("period", "required")
		return ""
	}
	p, ok := ParsePeriod(s)
	switch {
	case !ok:
		es.Add("period", "period")
	case p.Every != it.Every:
		es.Add("period", "period_kind", PeriodOf(it.Every, today).Key())
	case p.From() > today:
		es.Add("period", "period_future")
	}
	return p.Key()
}

// Publish publishes a notice on a village's portal under an item of the
// pack's disclosure schedule: disclosure.manage at the village.
// field.Errors on item (required, item_unknown, item_finance: statements
// are published with PublishStatement), period (required for scheduled
// items, of the item's kind, not in the future), title and body; nothing
// is stored then. The notice, its fact and its audit entry commit together.
func (s *Service) Publish(ctx context.Context, p *access.Principal, in NoticeInput) (Notice, error) {
	v, err := s.manageable(ctx, p, "pub_notice", in.Village)
	if err != nil {
		return Notice{}, err
	}
	now := s.now()
	today := calendar.DayOf(now)
	n := Notice{County: ids.County(v), Division: v, Item: strings.TrimSpace(in.Item), Title: strings.TrimSpace(in.Title),
		Body: strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n")), PublishedDay: today, CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p)}
	var es field.Errors
	it, ok := s.Item(v, n.Item)
	switch {
	case n.Item == "":
		es.Add("item", "required")
	case !ok:
		es.Add("item", "item_unknown")
	case it.Source == policy.SourceFinance:
		es.Add("item", "item_finance")
	default:
		n.Period = checkPeriod(&es, it, in.Period, today)
	}
	checkText(&es, "title", n.Title, MaxTitleRunes, true)
	checkText(&es, "body", n.Body, MaxBodyRunes, true)
	if err := es.Err(); err != nil {
		return Notice{}, err
	}
	if err := s.insertNotice(ctx, &n); err != nil {
		return Notice{}, err
	}
	return n, nil
}

// insertNotice stores a publication with its fact and audit entry.
func (s *Service) insertNotice(ctx context.Context, n *Notice) error {
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		if err := s.st.insertNotice(ctx, n); err != nil {
			return err
		}
		if err := facts.Add(ctx, s.DB, n.Division, n.PublishedDay/100, MetricNotices, 1); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "pub_notice", EntityID: strconv.FormatInt(n.ID, 10),
			Division: n.Division, Changes: []audit.Change{{Field: "item", After: n.Item}, {Field: "period", After: n.Period},
				{Field: "title", After: n.Title}}})
	})
}

// Statement computes the finance statement of a village for a period as it
// would be published now (a preview): governance.view at the village;
// field.Errors on period.
func (s *Service) Statement(ctx context.Context, p *access.Principal, village int64, period string) (Statement, error) {
	v, err := s.viewable(ctx, p, "pub_notice", village)
	if err != nil {
		return Statement{}, err
	}
	pe, ok := ParsePeriod(period)
	if !ok {
		return Statement{}, field.Errors{{Field: "period", Code: "period"}}
	}
	return s.statement(ctx, v, pe)
}

// statement sums a village's entries over a period by account and
// category (from the facts: periods are whole months), with the pack's
// labels of the day.
func (s *Service) statement(ctx context.Context, v int64, pe Period) (Statement, error) {
	st := Statement{Period: pe.Key(), From: pe.From(), To: pe.To()}
	f := s.Finance(v)
	sums, err := s.sums(ctx, v, f, st.From/100, st.To/100)
	if err != nil {
		return st, err
	}
	for _, a := range f.Accounts {
		sa := StatementAccount{Key: a.Key, Label: a.Label}
		for _, c := range f.Categories {
			if c.Account != a.Key {
				continue
			}
			cs := sums[BudgetKey(a.Key, c.Key)]
			l := StatementLine{Key: c.Key, Label: c.Label, Amount: cs.Amount, N: cs.N}
			if c.Kind == policy.Income {
				sa.Income, sa.In = append(sa.Income, l), sa.In+l.Amount
			} else {
				sa.Expense, sa.Out = append(sa.Expense, l), sa.Out+l.Amount
			}
		}
		// entries of categories the pack no longer lists
		if other := sums[BudgetKey(a.Key, policy.Income)].Amount - sa.In; other != 0 {
			sa.Income, sa.In = append(sa.Income, StatementLine{Label: otherLabel(), Amount: other}), sa.In+other
		}
		if other := sums[BudgetKey(a.Key, policy.Expense)].Amount - sa.Out; other != 0 {
			sa.Expense, sa.Out = append(sa.Expense, StatementLine{Label: otherLabel(), Amount: other}), sa.Out+other
		}
		st.Accounts = append(st.Accounts, sa)
	}
	return st, nil
}

// PublishStatement publishes a village's finance statement for a period
// (2026-11, 2026-Q4, 2026-H2 or 2026) under the pack's finance item: the
// income and expenditure of each account by category, computed now and
// stored as published, so a later correction of an entry changes the
// ledger and not what was published. disclosure.manage at the village;
// field.Errors on period (period, period_future, period_published: the
// period's statement is on the portal already — withdraw it first to
// publish a correction) and item (no_finance_item).
func (s *Service) PublishStatement(ctx context.Context, p *access.Principal, village int64, period string) (Notice, error) {
	v, err := s.manageable(ctx, p, "pub_notice", village)
	if err != nil {
		return Notice{}, err
	}
	now := s.now()
	today := calendar.DayOf(now)
	var es field.Errors
	it, ok := s.FinanceItem(v)
	if !ok {
		es.Add("item", "no_finance_item")
	}
	pe, pok := ParsePeriod(period)
	switch {
	case strings.TrimSpace(period) == "":
		es.Add("period", "required")
	case !pok:
		es.Add("period", "period")
	case pe.From() > today:
		es.Add("period", "period_future")
	}
	if err := es.Err(); err != nil {
		return Notice{}, err
	}
	d, err := s.Divisions.Get(ctx, v)
	if err != nil {
		return Notice{}, err
	}
	n := Notice{County: ids.County(v), Division: v, Item: it.Key, Period: pe.Key(), PublishedDay: today,
		Title: d.Name + pe.Label("zh-CN") + "财务收支公开", CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p)}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		dup, err := s.st.notices(ctx, NoticeFilter{Village: v, Item: it.Key, Period: n.Period, Limit: 1}, false)
		if err != nil {
			return err
		}
		if len(dup) > 0 {
			return field.Errors{{Field: "period", Code: "period_published", Arg: calendar.FormatDay(dup[0].PublishedDay)}}
		}
		st, err := s.statement(ctx, v, pe)
		if err != nil {
			return err
		}
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		n.Body, n.Statement = string(b), &st
		return s.insertNotice(ctx, &n)
	})
	if err != nil {
		return Notice{}, err
	}
	return n, nil
}

// Withdraw takes a notice or statement off the portal: the record stays,
// with the day it was withdrawn. disclosure.manage at its village;
// ErrWithdrawn when it was withdrawn already.
func (s *Service) Withdraw(ctx context.Context, p *access.Principal, id int64) (Notice, error) {
	var out Notice
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		n, err := s.st.lockNotice(ctx, id)
		if err != nil {
			return err
		}
		if !p.CanAt(PermView, n.Division) {
			s.deny(ctx, "pub_notice", n.ID, n.Division)
			return db.ErrNotFound
		}
		if !p.CanAt(PermManage, n.Division) {
			return ErrForbidden
		}
		if n.Withdrawn() {
			return ErrWithdrawn
		}
		n.WithdrawnDay = s.Today()
		if err := s.st.withdrawNotice(ctx, n.ID, n.WithdrawnDay); err != nil {
			return err
		}
		if err := facts.Add(ctx, s.DB, n.Division, n.WithdrawnDay/100, MetricWithdrawn, 1); err != nil {
			return err
		}
		out = n
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "pub_notice", EntityID: strconv.FormatInt(n.ID, 10),
			Division: n.Division, Changes: []audit.Change{{Field: "withdrawn_day", After: n.WithdrawnDay}}})
	})
	if err != nil {
		return Notice{}, err
	}
	return out, s.decode(&out)
}

// Notice returns a notice the principal may read (governance.view at its
// village), with its statement decoded.
func (s *Service) Notice(ctx context.Context, p *access.Principal, id int64) (Notice, error) {
	n, err := s.st.notice(ctx, id)
	if err != nil {
		return n, err
	}
	if !p.CanAt(PermView, n.Division) {
		s.deny(ctx, "pub_notice", n.ID, n.Division)
		return Notice{}, db.ErrNotFound
	}
	return n, s.decode(&n)
}

// Notices lists a village's notices and statements, newest first, without
// their bodies (withdrawn ones too when f.Withdrawn): governance.view.
func (s *Service) Notices(ctx context.Context, p *access.Principal, f NoticeFilter) ([]Notice, error) {
	v, err := s.viewable(ctx, p, "pub_notice", f.Village)
	if err != nil {
		return nil, err
	}
	f.Village = v
	return s.st.notices(ctx, f, false)
}

// PublicNotice returns a notice on a village's portal (not withdrawn), for
// anyone; anything else is db.ErrNotFound.
func (s *Service) PublicNotice(ctx context.Context, village, id int64) (Notice, error) {
	n, err := s.st.notice(ctx, id)
	if err != nil {
		return n, err
	}
	if n.Division != village || n.Withdrawn() {
		return Notice{}, db.ErrNotFound
	}
	return n, s.decode(&n)
}

// decode fills a statement's Statement from its body (a notice whose body
// is not a statement's JSON keeps it as text).
func (s *Service) decode(n *Notice) error {
	it, ok := s.Item(n.Division, n.Item)
	if !ok && !strings.HasPrefix(n.Body, "{") || ok && it.Source != policy.SourceFinance {
		return nil
	}
	var st Statement
	if err := json.Unmarshal([]byte(n.Body), &st); err == nil && st.Period != "" {
		n.Statement = &st
	}
	return nil
}

// ItemLabel names a disclosure item of the village's pack in locale (the
// key itself when the pack no longer has it).
func (s *Service) ItemLabel(village int64, key, locale string) string {
	if it, ok := s.Item(village, key); ok {
		return it.Label.Get(locale)
	}
	return key
}
