package disclosure

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// store is disclosure's SQL (tables fin_entries, fin_budgets, fin_assets,
// pub_notices); it joins the transaction in the context.
type store struct{ db *db.DB }

// ---- entries ----

const entryColumns = `id, county, division, account, category, kind, day, amount, summary, voucher, created_at, created_by`

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	err := sc.Scan(&e.ID, &e.County, &e.Division, &e.Account, &e.Category, &e.Kind, &e.Day, &e.Amount, &e.Summary, &e.Voucher,
		&e.CreatedAt, &e.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return e, db.ErrNotFound
	}
	return e, err
}

func (s store) insertEntry(ctx context.Context, e *Entry) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO fin_entries (county, division, account, category, kind, day, amount, summary,
		voucher, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		e.County, e.Division, e.Account, e.Category, e.Kind, e.Day, e.Amount, e.Summary, e.Voucher, e.CreatedAt, e.CreatedBy)
	e.ID = id
	return err
}

// EntryFilter chooses the entries of a village's ledger.
type EntryFilter struct {
	Village  int64
	From, To int    // days (YYYYMMDD), inclusive; 0: unbounded
	Account  string // "": every account
	Category string
	Kind     string // policy.Income, policy.Expense or ""
	Offset   int
	Limit    int // 0: every entry
}

func (f EntryFilter) where() (string, []any) {
	conds := []string{"division = ?"}
	args := []any{f.Village}
	if f.From > 0 {
		conds, args = append(conds, "day >= ?"), append(args, f.From)
	}
	if f.To > 0 {
		conds, args = append(conds, "day <= ?"), append(args, f.To)
	}
	for _, c := range []struct{ col, v string }{{"account", f.Account}, {"category", f.Category}, {"kind", f.Kind}} {
		if c.v != "" {
			conds, args = append(conds, c.col+" = ?"), append(args, c.v)
		}
	}
	return strings.Join(conds, " AND "), args
}

// entries lists a village's entries, newest day first (oldest first when
// asc, for the ledger).
func (s store) entries(ctx context.Context, f EntryFilter, asc bool) ([]Entry, error) {
	where, args := f.where()
	order := " ORDER BY day DESC, id DESC"
	if asc {
		order = " ORDER BY day, id"
	}
	q := `SELECT ` + entryColumns + ` FROM fin_entries WHERE ` + where + order
	if f.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// entryTotals sums the entries of a filter (without its paging) by kind.
func (s store) entryTotals(ctx context.Context, f EntryFilter) (in, out int64, n int, err error) {
	where, args := f.where()
	rows, err := s.db.Query(ctx, `SELECT kind, COALESCE(SUM(amount), 0), COUNT(*) FROM fin_entries WHERE `+where+` GROUP BY kind`, args...)
	if err != nil {
		return 0, 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var sum int64
		var c int
		if err := rows.Scan(&kind, &sum, &c); err != nil {
			return 0, 0, 0, err
		}
		n += c
		if kind == "income" {
			in += sum
		} else {
			out += sum
		}
	}
	return in, out, n, rows.Err()
}

// catSum is the sum and count of a category's entries.
type catSum struct {
	Amount int64
	N      int
}

// ---- budgets ----

func (s store) budgets(ctx context.Context, village int64, year int) (map[string]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT account, category, amount FROM fin_budgets WHERE division = ? AND year = ?`, village, year)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var a, c string
		var v int64
		if err := rows.Scan(&a, &c, &v); err != nil {
			return nil, err
		}
		out[a+"/"+c] = v
	}
	return out, rows.Err()
}

// setBudget stores a budget line (amount 0 removes it).
func (s store) setBudget(ctx context.Context, b Budget, at int64) error {
	if b.Amount == 0 {
		_, err := s.db.Exec(ctx, `DELETE FROM fin_budgets WHERE division = ? AND year = ? AND account = ? AND category = ?`,
			b.Division, b.Year, b.Account, b.Category)
		return err
	}
	_, err := s.db.Exec(ctx, `INSERT INTO fin_budgets (division, year, account, category, amount, updated_at) VALUES (?,?,?,?,?,?)
		ON CONFLICT (division, year, account, category) DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at`,
		b.Division, b.Year, b.Account, b.Category, b.Amount, at)
	return err
}

// ---- assets ----

const assetColumns = `id, county, division, kind, name, quantity, value, acquired_day, status, note, retired_day, created_at, updated_at`

func scanAsset(sc interface{ Scan(...any) error }) (Asset, error) {
	var a Asset
	err := sc.Scan(&a.ID, &a.County, &a.Division, &a.Kind, &a.Name, &a.Quantity, &a.Value, &a.AcquiredDay, &a.Status, &a.Note,
		&a.RetiredDay, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return a, db.ErrNotFound
	}
	return a, err
}

func (s store) asset(ctx context.Context, id int64) (Asset, error) {
	return scanAsset(s.db.QueryRow(ctx, `SELECT `+assetColumns+` FROM fin_assets WHERE id = ?`, id))
}

func (s store) insertAsset(ctx context.Context, a *Asset) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO fin_assets (county, division, kind, name, quantity, value, acquired_day, status,
		note, retired_day, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.County, a.Division, a.Kind, a.Name, a.Quantity, a.Value, a.AcquiredDay, a.Status, a.Note, a.RetiredDay, a.CreatedAt, a.UpdatedAt)
	a.ID = id
	return err
}

func (s store) updateAsset(ctx context.Context, a Asset) error {
	_, err := s.db.Exec(ctx, `UPDATE fin_assets SET kind = ?, name = ?, quantity = ?, value = ?, acquired_day = ?, status = ?,
		note = ?, retired_day = ?, updated_at = ? WHERE id = ?`,
		a.Kind, a.Name, a.Quantity, a.Value, a.AcquiredDay, a.Status, a.Note, a.RetiredDay, a.UpdatedAt, a.ID)
	return err
}

// assets lists a village's register by kind and name (retired ones too
// when all).
func (s store) assets(ctx context.Context, village int64, all bool) ([]Asset, error) {
	q := `SELECT ` + assetColumns + ` FROM fin_assets WHERE division = ?`
	if !all {
		q += " AND retired_day = 0"
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY kind, retired_day, name, id", village)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Asset
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ---- notices ----

const noticeColumns = `id, county, division, item, period, title, body, published_day, withdrawn_day, created_at, created_by`

func scanNotice(sc interface{ Scan(...any) error }) (Notice, error) {
	var n Notice
	err := sc.Scan(&n.ID, &n.County, &n.Division, &n.Item, &n.Period, &n.Title, &n.Body, &n.PublishedDay, &n.WithdrawnDay,
		&n.CreatedAt, &n.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return n, db.ErrNotFound
	}
	return n, err
}

func (s store) notice(ctx context.Context, id int64) (Notice, error) {
	return scanNotice(s.db.QueryRow(ctx, `SELECT `+noticeColumns+` FROM pub_notices WHERE id = ?`, id))
}

// lockNotice reads a notice inside a transaction, locking its row on
// PostgreSQL (SQLite's single writer serialises already).
func (s store) lockNotice(ctx context.Context, id int64) (Notice, error) {
	q := `SELECT ` + noticeColumns + ` FROM pub_notices WHERE id = ?`
	if s.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanNotice(s.db.QueryRow(ctx, q, id))
}

func (s store) insertNotice(ctx context.Context, n *Notice) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO pub_notices (county, division, item, period, title, body, published_day,
		withdrawn_day, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		n.County, n.Division, n.Item, n.Period, n.Title, n.Body, n.PublishedDay, n.WithdrawnDay, n.CreatedAt, n.CreatedBy)
	n.ID = id
	return err
}

func (s store) withdrawNotice(ctx context.Context, id int64, day int) error {
	_, err := s.db.Exec(ctx, `UPDATE pub_notices SET withdrawn_day = ? WHERE id = ?`, day, id)
	return err
}

// NoticeFilter chooses a village's notices.
type NoticeFilter struct {
	Village   int64
	Item      string // "": every item
	NotItem   string // leave this item out ("": none)
	Period    string // "": every period
	Since     int    // published on or after this day (0: any)
	Withdrawn bool   // include withdrawn notices
	Limit     int    // 0: all
}

// notices lists a village's notices, newest first. Bodies are left out
// unless bodies (the portal's lists show titles).
func (s store) notices(ctx context.Context, f NoticeFilter, bodies bool) ([]Notice, error) {
	conds := []string{"division = ?"}
	args := []any{f.Village}
	if f.Item != "" {
		conds, args = append(conds, "item = ?"), append(args, f.Item)
	}
	if f.NotItem != "" {
		conds, args = append(conds, "item <> ?"), append(args, f.NotItem)
	}
	if f.Period != "" {
		conds, args = append(conds, "period = ?"), append(args, f.Period)
	}
	if f.Since > 0 {
		conds, args = append(conds, "published_day >= ?"), append(args, f.Since)
	}
	if !f.Withdrawn {
		conds = append(conds, "withdrawn_day = 0")
	}
	cols := noticeColumns
	if !bodies {
		cols = strings.Replace(cols, "body,", "'',", 1)
	}
	q := `SELECT ` + cols + ` FROM pub_notices WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY published_day DESC, id DESC`
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// published is when each (item, period) of a village was first published
// among the notices on the portal published on or after since:
// "item/period" → day.
func (s store) published(ctx context.Context, village int64, since int) (map[string]int, error) {
	rows, err := s.db.Query(ctx, `SELECT item, period, MIN(published_day) FROM pub_notices
		WHERE division = ? AND withdrawn_day = 0 AND period <> '' AND published_day >= ? GROUP BY item, period`, village, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var item, period string
		var day int
		if err := rows.Scan(&item, &period, &day); err != nil {
			return nil, err
		}
		out[item+"/"+period] = day
	}
	return out, rows.Err()
}
