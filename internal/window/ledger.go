package window

// The case ledger (办件台账): every case of a subtree accepted in a span of
// months, one row each, as an XLSX workbook written by a background job
// (internal/platform/jobs). Phones are the masked ones only; the export is
// audited with its row count.

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
)

// JobLedger is the job kind that writes the case ledger.
const JobLedger = "window.ledger"

// LedgerParams are a ledger job's settings.
type LedgerParams struct {
	Unit   int64  `json:"unit"`   // root of the subtree (15-digit code)
	From   int    `json:"from"`   // first month, YYYYMM
	To     int    `json:"to"`     // last month, YYYYMM
	Locale string `json:"locale"` // of the column headings and labels
}

// JobKinds are the window's background jobs, for the runner.
func (s *Service) JobKinds() []jobs.Kind {
	return []jobs.Kind{
		{Name: JobLedger, Title: "window.ledger.job", Fn: s.ledgerJob, ViewPerm: "window.view"},
	}
}

// CheckLedger validates ledger settings for p: window.view at the unit (else
// db.ErrNotFound, audited) and a valid span of months (else Errors).
func (s *Service) CheckLedger(ctx context.Context, p *access.Principal, lp LedgerParams) error {
	if !p.CanAt("window.view", lp.Unit) {
		if s.Access != nil && p != nil {
			s.Access.Deny(ctx, "case_ledger", strconv.FormatInt(lp.Unit, 10), lp.Unit)
		}
		return db.ErrNotFound
	}
	var es Errors
	if !ValidPeriod(lp.From) {
		es.Add("from", "period")
	}
	if !ValidPeriod(lp.To) || ValidPeriod(lp.From) && (lp.To < lp.From || periodsBetween(lp.From, lp.To) > MaxFigureMonths) {
		es.Add("to", "period")
	}
	if len(es) > 0 {
		return es
	}
	if lp.Unit != division.Root {
		if _, err := s.Divisions.Get(ctx, lp.Unit); err != nil {
			return err
		}
	}
	return nil
}

// LedgerFileName is the download name of a ledger, e.g.
// 办件台账-羊尖镇-202601-202611.xlsx.
func LedgerFileName(locale string, lp LedgerParams, unit string) string {
	return i18n.T(locale, "window.ledger.title") + "-" + unit + "-" + strconv.Itoa(lp.From) + "-" + strconv.Itoa(lp.To) + ".xlsx"
}

// ledgerColumns are the catalogue keys of the ledger's column headings.
var ledgerColumns = []string{"window.ledger.col.number", "window.ledger.col.item", "window.ledger.col.category",
	"window.ledger.col.channel", "window.ledger.col.applicant", "window.ledger.col.phone", "window.ledger.col.unit",
	"window.ledger.col.holder", "window.ledger.col.accepted", "window.ledger.col.time_limit", "window.ledger.col.deadline",
	"window.ledger.col.closed", "window.ledger.col.state", "window.ledger.col.on_time", "window.ledger.col.agency",
	"window.ledger.col.rating"}

// ledgerPage is the number of cases read per query (keyset pagination keeps
// every read short).
const ledgerPage = 2000

// Ledger writes the ledger of lp's subtree and months to w as XLSX and
// returns the rows written: every case accepted there in those months, in
// the order they were recorded. Applicants' phones are the masked ones; the
// export is audited. progress, if not nil, is called after every page.
func (s *Service) Ledger(ctx context.Context, p *access.Principal, lp LedgerParams, w io.Writer, progress func(done, total int64)) (int64, error) {
	if err := s.CheckLedger(ctx, p, lp); err != nil {
		return 0, err
	}
	loc := lp.Locale
	if !i18n.Valid(loc) {
		loc = i18n.Default
	}
	t := func(k string) string { return i18n.T(loc, k) }
	lo, hi := ids.Subtree(lp.Unit)
	if lp.Unit != division.Root {
		d, err := s.Divisions.Get(ctx, lp.Unit)
		if err != nil {
			return 0, err
		}
		lo, hi = d.Range()
	}
	dayLo, dayHi := lp.From*100+1, lp.To*100+31
	cond := "division >= ? AND division <= ? AND accepted_day >= ? AND accepted_day <= ?"
	var total int64
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM cases WHERE "+cond, lo, hi, dayLo, dayHi).Scan(&total); err != nil {
		return 0, err
	}
	lab, err := s.figureLabels(ctx, lp.Unit, lo, hi)
	if err != nil {
		return 0, err
	}
	names := map[int64]string{}
	unitName := func(code int64) string {
		n, ok := names[code]
		if !ok {
			if d, err := s.Divisions.Get(ctx, code); err == nil {
				n = d.Name
			} else {
				n = strconv.FormatInt(code, 10)
			}
			names[code] = n
		}
		return n
	}
	tw := tabular.NewXLSXWriter(w, t("window.ledger.title"))
	header := make([]string, len(ledgerColumns))
	for i, k := range ledgerColumns {
		header[i] = t(k)
	}
	if err := tw.WriteHeader(header); err != nil {
		return 0, err
	}
	today := s.Today()
	var n, last int64
	for {
		rows, err := s.DB.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE `+cond+` AND id > ? ORDER BY id LIMIT ?`,
			lo, hi, dayLo, dayHi, last, ledgerPage)
		if err != nil {
			return n, err
		}
		var page []Case
		for rows.Next() {
			c, err := scanCase(rows)
			if err != nil {
				rows.Close()
				return n, err
			}
			page = append(page, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			item := c.ItemName
			if nm, ok := lab.itemNames[c.ItemCode]; ok && nm.Get(loc) != "" {
				item = nm.Get(loc)
			}
			category := c.Category
			if nm, ok := lab.categoryNames[c.Category]; ok {
				category = nm.Get(loc)
			}
			holder := unitName(c.Holder)
			if c.HolderLevel == policy.LevelDepartment && c.Department != "" {
				holder = c.Department
			}
			onTime := ""
			switch {
			case c.State == StateCompleted && c.OnTime:
				onTime = t("window.ledger.yes")
			case c.State == StateCompleted:
				onTime = t("window.ledger.no")
			case c.Overdue(today):
				onTime = t("window.ledger.overdue")
			}
			agency := t("window.ledger.no")
			if c.Agency {
				agency = t("window.ledger.yes")
			}
			rating := ""
			if c.Rating >= RatingMin && c.Rating <= RatingMax {
				rating = t("window.ledger.rating." + strconv.Itoa(c.Rating))
			}
			n++
			if err := tw.Write([]any{c.Number, item, category, t("window.fig.channel." + c.Channel), c.Applicant, c.PhoneMasked,
				unitName(c.Division), holder, dayValue(c.AcceptedDay), c.TimeLimit, dayValue(c.Deadline), dayValue(c.ClosedDay),
				t("window.ledger.state." + c.State), onTime, agency, rating}); err != nil {
				return n, err
			}
		}
		last = page[len(page)-1].ID
		if progress != nil {
			progress(n, total)
		}
	}
	if err := tw.Close(); err != nil {
		return n, err
	}
	return n, s.Audit.Write(ctx, audit.Entry{Action: audit.Export, Entity: "case_ledger", EntityID: strconv.FormatInt(lp.Unit, 10),
		Division: lp.Unit, Changes: []audit.Change{{Field: "rows", After: n}, {Field: "from", After: lp.From}, {Field: "to", After: lp.To},
			{Field: "format", After: "xlsx"}}})
}

// dayValue is a YYYYMMDD day as a date cell (nil for 0).
func dayValue(day int) any {
	if day <= 0 {
		return nil
	}
	return time.Date(day/10000, time.Month(day/100%100), day%100, 0, 0, 0, 0, time.UTC)
}

func (s *Service) ledgerJob(ctx context.Context, run *jobs.Run) error {
	var lp LedgerParams
	if err := json.Unmarshal(run.Job.Params, &lp); err != nil {
		return err
	}
	if !i18n.Valid(lp.Locale) {
		lp.Locale = i18n.Default
	}
	p := access.From(ctx)
	unit := i18n.T(lp.Locale, "window.fig.country")
	if lp.Unit != division.Root {
		if d, err := s.Divisions.Get(ctx, lp.Unit); err == nil {
			unit = d.Name
		}
	}
	name := LedgerFileName(lp.Locale, lp, unit)
	f, err := os.Create(run.Path(name))
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := s.Ledger(ctx, p, lp, f, func(done, total int64) { run.Progress(done, total, "") })
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := run.AddFile(name, "window.ledger.file"); err != nil {
		return err
	}
	run.Progress(n, n, "")
	return run.SetResult(map[string]int64{"exported": n})
}
