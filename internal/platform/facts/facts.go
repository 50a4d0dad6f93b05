// Package facts keeps Shequ's figures as small counters — (division, period,
// metric) → value — incremented in the same transaction as the change that
// causes them. A figure for any subtree is a sum over a numeric range of
// division codes, so a parent always equals the sum of its children and a
// county dashboard reads a few hundred rows instead of scanning every record.
package facts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// Timeless is the period of stock figures that have no month (e.g. the number
// of grids under a village).
const Timeless = 0

var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// Period is the month of t in China time as YYYYMM.
func Period(t time.Time) int {
	t = t.In(shanghai)
	return t.Year()*100 + int(t.Month())
}

// Add increments metric at division for period by delta, inside the context's
// transaction (the caller's change and the fact commit or fail together).
func Add(ctx context.Context, d *db.DB, division int64, period int, metric string, delta int64) error {
	if delta == 0 {
		return nil
	}
	_, err := d.Exec(ctx, `INSERT INTO facts (division, period, metric, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (metric, division, period) DO UPDATE SET value = facts.value + excluded.value`,
		division, period, metric, delta)
	return err
}

// Sum returns the metric summed over divisions in [lo, hi] and periods in
// [from, to] (inclusive).
func Sum(ctx context.Context, d *db.DB, metric string, lo, hi int64, from, to int) (int64, error) {
	var v int64
	err := d.QueryRow(ctx, `SELECT COALESCE(SUM(value), 0) FROM facts
		WHERE metric = ? AND division >= ? AND division <= ? AND period >= ? AND period <= ?`,
		metric, lo, hi, from, to).Scan(&v)
	return v, err
}

// RollUp returns the metric over [lo, hi] and [from, to] grouped by the unit
// of size span that contains each division (span is the subtree span of the
// children's level, e.g. 10^6 for townships): key = division / span * span.
func RollUp(ctx context.Context, d *db.DB, metric string, lo, hi, span int64, from, to int) (map[int64]int64, error) {
	rows, err := d.Query(ctx, `SELECT (division / ?) * ?, SUM(value) FROM facts
		WHERE metric = ? AND division >= ? AND division <= ? AND period >= ? AND period <= ?
		GROUP BY 1`, span, span, metric, lo, hi, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var k, v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Series returns the metric over [lo, hi] month by month in [from, to].
func Series(ctx context.Context, d *db.DB, metric string, lo, hi int64, from, to int) (map[int]int64, error) {
	rows, err := d.Query(ctx, `SELECT period, SUM(value) FROM facts
		WHERE metric = ? AND division >= ? AND division <= ? AND period >= ? AND period <= ?
		GROUP BY period`, metric, lo, hi, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]int64{}
	for rows.Next() {
		var p int
		var v int64
		if err := rows.Scan(&p, &v); err != nil {
			return nil, err
		}
		out[p] = v
	}
	return out, rows.Err()
}

// Delta is one increment for AddAll.
type Delta struct {
	Division int64
	Period   int
	Metric   string
	N        int64
}

// AddAll applies several increments in one statement inside the context's
// transaction (a change that moves several counters pays one round trip).
// Increments of the same counter are summed first.
func AddAll(ctx context.Context, d *db.DB, deltas []Delta) error {
	type key struct {
		division int64
		period   int
		metric   string
	}
	sum := map[key]int64{}
	var order []key
	for _, x := range deltas {
		k := key{x.Division, x.Period, x.Metric}
		if _, seen := sum[k]; !seen {
			order = append(order, k)
		}
		sum[k] += x.N
	}
	var rows []string
	var args []any
	for _, k := range order {
		if sum[k] == 0 {
			continue
		}
		rows = append(rows, "(?, ?, ?, ?)")
		args = append(args, k.division, k.period, k.metric, sum[k])
	}
	if len(rows) == 0 {
		return nil
	}
	_, err := d.Exec(ctx, `INSERT INTO facts (division, period, metric, value) VALUES `+strings.Join(rows, ", ")+`
		ON CONFLICT (metric, division, period) DO UPDATE SET value = facts.value + excluded.value`, args...)
	return err
}

// How SumMany groups its sums.
const (
	ByMetric   = iota // one sum per metric (key 0)
	ByDivision        // per metric and division: the order of the facts' key, streamed without a sort
	ByPeriod          // per metric and month
)

// SumMany is Sum, RollUp and Series for many metrics in one read over the
// divisions [lo, hi] and periods [from, to]: each gets a metric, its key
// (the division or the period as by says, 0 for ByMetric) and the sum. A
// dashboard reads each facts row once this way. Grouping by division rather
// than by child unit lets the database stream in key order; callers roll
// divisions up to the units they show.
func SumMany(ctx context.Context, d *db.DB, metrics []string, lo, hi int64, from, to int, by int,
	each func(metric string, key, v int64)) error {
	if len(metrics) == 0 {
		return nil
	}
	keyCol, group := "0", "metric"
	switch by {
	case ByDivision:
		keyCol, group = "division", "metric, division"
	case ByPeriod:
		keyCol, group = "period", "metric, period"
	}
	args := make([]any, 0, len(metrics)+4)
	for _, m := range metrics {
		args = append(args, m)
	}
	args = append(args, lo, hi, from, to)
	rows, err := d.Query(ctx, `SELECT metric, `+keyCol+`, SUM(value) FROM facts
		WHERE metric IN (`+db.Placeholders(len(metrics))+`) AND division >= ? AND division <= ? AND period >= ? AND period <= ?
		GROUP BY `+group, args...)
	if err != nil {
		return fmt.Errorf("facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var metric string
		var key, v int64
		if err := rows.Scan(&metric, &key, &v); err != nil {
			return err
		}
		each(metric, key, v)
	}
	return rows.Err()
}
