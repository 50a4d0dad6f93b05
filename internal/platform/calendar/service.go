package calendar

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
)

// Permission is what editing the calendar takes.
const Permission = "calendar.manage"

// RefreshEvery is how old a cached snapshot may grow before Calendar reads
// the table again, so that an edit made on another app instance sharing the
// database is seen within it. A change made through this Service is seen at
// once.
const RefreshEvery = time.Minute

// Audit entities.
const (
	EntityDay  = "calendar_day"  // one date; EntityID 2006-01-02
	EntityYear = "calendar_year" // a whole year imported or seeded; EntityID 2006
)

// ErrForbidden: the principal lacks calendar.manage (HTTP 403).
var ErrForbidden = errors.New("calendar: not permitted")

// Service keeps the calendar in the database (table calendar_days) and
// hands out cached snapshots.
type Service struct {
	DB    *db.DB
	Audit *audit.Log

	now func() time.Time

	gen      atomic.Int64 // bumped after every local change
	mu       sync.Mutex   // guards the cache; held while (re)loading
	cached   *Calendar
	cacheGen int64
	loadedAt time.Time
}

// New returns the calendar service; every change, and every refused
// attempt, is written to a.
func New(d *db.DB, a *audit.Log) *Service {
	return &Service{DB: d, Audit: a, now: time.Now}
}

// today is the current date in China.
func (s *Service) today() int { return dateOf(s.now().In(china)) }

// invalidate makes the next Calendar call read the table.
func (s *Service) invalidate() { s.gen.Add(1) }

// Calendar returns the current snapshot: cached, read again after a change
// made through this Service and otherwise at most once every RefreshEvery.
// Inside a transaction it still reads committed data only, so a snapshot
// never holds rows that may yet roll back.
func (s *Service) Calendar(ctx context.Context) (*Calendar, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gen := s.gen.Load()
	if s.cached != nil && s.cacheGen == gen && s.now().Sub(s.loadedAt) < RefreshEvery {
		return s.cached, nil
	}
	if db.InTx(ctx) {
		ctx = outsideTx{ctx}
	}
	days, err := s.load(ctx, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("calendar: load: %w", err)
	}
	s.cached, s.cacheGen, s.loadedAt = NewCalendar(days), gen, s.now()
	return s.cached, nil
}

// outsideTx keeps a context's deadline and cancellation but none of its
// values, so that queries made with it do not join its transaction.
type outsideTx struct{ context.Context }

func (outsideTx) Value(any) any { return nil }

// load reads the days with lo <= day <= hi (all of them when hi is 0), in date order.
func (s *Service) load(ctx context.Context, lo, hi int) ([]Day, error) {
	q, args := "SELECT day, kind, name FROM calendar_days", []any(nil)
	if hi != 0 {
		q, args = q+" WHERE day >= ? AND day <= ?", []any{lo, hi}
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY day", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var d Day
		if err := rows.Scan(&d.Date, &d.Kind, &d.Name); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func yearRange(year int) (lo, hi int) { return year*10000 + 101, year*10000 + 1231 }

// Seed inserts the shipped days (Shipped) of every year that has no row
// yet, so a new deployment starts with the official calendar while an
// administrator's edits of a year are never overwritten. It is idempotent,
// safe when several instances start at once, and meant to run at start.
func (s *Service) Seed(ctx context.Context) error {
	byYear := map[int][]Day{}
	var years []int
	for _, d := range Shipped() {
		y := d.Date / 10000
		if _, ok := byYear[y]; !ok {
			years = append(years, y)
		}
		byYear[y] = append(byYear[y], d)
	}
	for _, y := range years {
		err := s.DB.Tx(ctx, func(ctx context.Context) error {
			lo, hi := yearRange(y)
			var n int
			if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM calendar_days WHERE day >= ? AND day <= ?", lo, hi).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			at, added := db.Now(), int64(0)
			for _, d := range byYear[y] {
				// another instance seeding at the same moment wins the row
				res, err := s.DB.Exec(ctx, `INSERT INTO calendar_days (day, kind, name, updated_at, updated_by) VALUES (?,?,?,?,?)
					ON CONFLICT (day) DO NOTHING`, d.Date, d.Kind, d.Name, at, "system")
				if err != nil {
					return err
				}
				k, err := res.RowsAffected()
				if err != nil {
					return err
				}
				added += k
			}
			if added == 0 {
				return nil
			}
			db.AfterCommit(ctx, s.invalidate)
			return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: EntityYear, EntityID: strconv.Itoa(y),
				Changes: []audit.Change{{Field: "source", After: "shipped"}, {Field: "days", After: added}}})
		})
		if err != nil {
			return fmt.Errorf("calendar: seed %d: %w", y, err)
		}
	}
	return nil
}

// allow checks that p may edit the calendar; a refusal is audited.
func (s *Service) allow(ctx context.Context, p *access.Principal, entity, id string) error {
	if p != nil && p.Can(Permission) {
		return nil
	}
	_ = s.Audit.Write(ctx, audit.Entry{Action: audit.Denied, Entity: entity, EntityID: id})
	return ErrForbidden
}

// get returns the stored day.
func (s *Service) get(ctx context.Context, day int) (Day, bool, error) {
	d := Day{Date: day}
	err := s.DB.QueryRow(ctx, "SELECT kind, name FROM calendar_days WHERE day = ?", day).Scan(&d.Kind, &d.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return Day{}, false, nil
	}
	return d, err == nil, err
}

// Set enters or changes one day. It needs calendar.manage (else
// ErrForbidden) and a valid day (else a *FieldError): a real date, kind
// holiday on any day or workday on a Saturday or Sunday, a name of at most
// MaxNameLen characters. The change is audited.
func (s *Service) Set(ctx context.Context, p *access.Principal, d Day) error {
	if err := s.allow(ctx, p, EntityDay, dayID(d.Date)); err != nil {
		return err
	}
	d, fe := check(d)
	if fe != nil {
		return fe
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		before, existed, err := s.get(ctx, d.Date)
		if err != nil {
			return err
		}
		if existed && before == d {
			return nil
		}
		if _, err := s.DB.Exec(ctx, `INSERT INTO calendar_days (day, kind, name, updated_at, updated_by) VALUES (?,?,?,?,?)
			ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name,
				updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			d.Date, d.Kind, d.Name, db.Now(), p.Username); err != nil {
			return err
		}
		e := audit.Entry{Action: audit.Create, Entity: EntityDay, EntityID: dayID(d.Date)}
		if existed {
			e.Action = audit.Update
			if before.Kind != d.Kind {
				e.Changes = append(e.Changes, audit.Change{Field: "kind", Before: before.Kind, After: d.Kind})
			}
			if before.Name != d.Name {
				e.Changes = append(e.Changes, audit.Change{Field: "name", Before: before.Name, After: d.Name})
			}
		} else {
			e.Changes = []audit.Change{{Field: "kind", After: d.Kind}, {Field: "name", After: d.Name}}
		}
		db.AfterCommit(ctx, s.invalidate)
		return s.Audit.Write(ctx, e)
	})
}

// Delete removes the entry of one day, which then follows the weekly
// rhythm again. It needs calendar.manage (else ErrForbidden); a day not
// entered is db.ErrNotFound. The last entered day of a year cannot be
// deleted (a *FieldError, ReasonLastDay): the year would no longer be Known
// and Seed would restore the shipped days; import a corrected year instead.
// The change is audited.
func (s *Service) Delete(ctx context.Context, p *access.Principal, day int) error {
	if err := s.allow(ctx, p, EntityDay, dayID(day)); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		before, existed, err := s.get(ctx, day)
		if err != nil {
			return err
		}
		if !existed {
			return db.ErrNotFound
		}
		lo, hi := yearRange(day / 10000)
		var n int
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM calendar_days WHERE day >= ? AND day <= ?", lo, hi).Scan(&n); err != nil {
			return err
		}
		if n <= 1 {
			return &FieldError{Field: FieldDate, Reason: ReasonLastDay, Value: formatDate(day), Year: day / 10000}
		}
		if _, err := s.DB.Exec(ctx, "DELETE FROM calendar_days WHERE day = ?", day); err != nil {
			return err
		}
		db.AfterCommit(ctx, s.invalidate)
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: EntityDay, EntityID: dayID(day),
			Changes: []audit.Change{{Field: "kind", Before: before.Kind}, {Field: "name", Before: before.Name}}})
	})
}

// ImportYear replaces the entered days of year with days, in one
// transaction: the way to enter a new year's notice, or to correct one. It
// needs calendar.manage (else ErrForbidden). Every day must be valid as for
// Set, lie in year and appear once, and there must be at least one (else a
// *FieldError naming the first bad day). The audit entry lists every date
// whose entry changed.
func (s *Service) ImportYear(ctx context.Context, p *access.Principal, year int, days []Day) error {
	if err := s.allow(ctx, p, EntityYear, strconv.Itoa(year)); err != nil {
		return err
	}
	if year < MinYear || year > MaxYear {
		return &FieldError{Field: FieldYear, Reason: ReasonYear, Value: strconv.Itoa(year)}
	}
	if len(days) == 0 {
		return &FieldError{Reason: ReasonEmpty}
	}
	if len(days) > MaxRows {
		return &FieldError{Reason: ReasonTooMany}
	}
	clean := make(map[int]Day, len(days))
	for _, d := range days {
		d, fe := check(d)
		if fe != nil {
			return fe
		}
		if d.Date/10000 != year {
			return &FieldError{Field: FieldDate, Reason: ReasonOtherYear, Value: formatDate(d.Date), Year: year}
		}
		if _, dup := clean[d.Date]; dup {
			return &FieldError{Field: FieldDate, Reason: ReasonDuplicate, Value: formatDate(d.Date)}
		}
		clean[d.Date] = d
	}
	lo, hi := yearRange(year)
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		old, err := s.load(ctx, lo, hi)
		if err != nil {
			return err
		}
		var changes []audit.Change
		before := make(map[int]Day, len(old))
		for _, d := range old {
			before[d.Date] = d
			if _, kept := clean[d.Date]; !kept {
				changes = append(changes, audit.Change{Field: formatDate(d.Date), Before: describe(d)})
			}
		}
		dates := slices.Sorted(maps.Keys(clean))
		for _, date := range dates {
			d := clean[date]
			if b, ok := before[d.Date]; !ok {
				changes = append(changes, audit.Change{Field: formatDate(d.Date), After: describe(d)})
			} else if b != d {
				changes = append(changes, audit.Change{Field: formatDate(d.Date), Before: describe(b), After: describe(d)})
			}
		}
		if len(changes) == 0 {
			return nil
		}
		if _, err := s.DB.Exec(ctx, "DELETE FROM calendar_days WHERE day >= ? AND day <= ?", lo, hi); err != nil {
			return err
		}
		at := db.Now()
		for _, date := range dates {
			d := clean[date]
			if _, err := s.DB.Exec(ctx, "INSERT INTO calendar_days (day, kind, name, updated_at, updated_by) VALUES (?,?,?,?,?)",
				d.Date, d.Kind, d.Name, at, p.Username); err != nil {
				return err
			}
		}
		action := audit.Update
		if len(old) == 0 {
			action = audit.Create
		}
		db.AfterCommit(ctx, s.invalidate)
		return s.Audit.Write(ctx, audit.Entry{Action: action, Entity: EntityYear, EntityID: strconv.Itoa(year), Changes: changes})
	})
}

// describe is a day's entry as the audit log shows it: "holiday 国庆节".
func describe(d Day) string {
	if d.Name == "" {
		return d.Kind
	}
	return d.Kind + " " + d.Name
}

// dayID is the audit entity id of a date.
func dayID(day int) string {
	if validDate(day) {
		return formatDate(day)
	}
	return strconv.Itoa(day)
}
