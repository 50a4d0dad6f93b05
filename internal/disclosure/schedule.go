package disclosure

import (
	"context"
	"slices"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// The disclosure schedule (DG-8: 定期公开): every item of the pack with a
// cadence (month, quarter, half year, year) must be published for each of
// its periods. Compliance looks back over the last twelve months up to the
// current period; a period is due at its end, so the running period counts
// only once it has been published. What counts as published for a period
// depends on the item's source:
//
//	notices, finance   a notice (or statement) of the item on the portal
//	                   whose period covers it (a quarterly statement covers
//	                   each of its months)
//	resolutions        a resolution of a public body decided in the period
//	matters            a public matter proposed, resolved or closed in it
//	progress           an implementation step of a public matter in it
//
// A notice published by hand under any item counts for it too.

// ComplianceMonths is how far back compliance looks.
const ComplianceMonths = 12

// PeriodStatus is one period of a scheduled item.
type PeriodStatus struct {
	Period Period
	// Published is the day of the first publication for the period (0:
	// none yet).
	Published int
	// Current marks the running period: due at its end.
	Current bool
}

// Due reports whether the period counts: it has ended, or it is running
// and published already.
func (ps PeriodStatus) Due() bool { return !ps.Current || ps.Published != 0 }

// Missing reports an ended period without a publication.
func (ps PeriodStatus) Missing() bool { return !ps.Current && ps.Published == 0 }

// ItemCompliance is one scheduled item's periods, oldest first.
type ItemCompliance struct {
	Item      policy.DisclosureItem
	Periods   []PeriodStatus
	Done, Due int
}

// Compliance is a village's schedule compliance on a day.
type Compliance struct {
	Village   int64
	Today     int
	Items     []ItemCompliance
	Done, Due int // over every item
}

// Share is Done / Due; ok is false when nothing is due.
func (c Compliance) Share() (float64, bool) {
	if c.Due == 0 {
		return 0, false
	}
	return float64(c.Done) / float64(c.Due), true
}

// SharePct is Share as a percentage ("—" when nothing is due).
func (c Compliance) SharePct() string { return percent(c.Share()) }

// Share is Done / Due of one item; ok is false when nothing is due.
func (ic ItemCompliance) Share() (float64, bool) {
	if ic.Due == 0 {
		return 0, false
	}
	return float64(ic.Done) / float64(ic.Due), true
}

// SharePct is Share as a percentage ("—" when nothing is due).
func (ic ItemCompliance) SharePct() string { return percent(ic.Share()) }

// Compliance returns a village's schedule compliance today:
// governance.view at the village.
func (s *Service) Compliance(ctx context.Context, p *access.Principal, village int64) (Compliance, error) {
	v, err := s.viewable(ctx, p, "pub_notice", village)
	if err != nil {
		return Compliance{}, err
	}
	return s.compliance(ctx, v, s.Today(), nil)
}

// windowStart is the first day compliance looks at: the first day of the
// month eleven months before today's.
func windowStart(today int) int {
	y, m := today/10000, today/100%100-(ComplianceMonths-1)
	for m < 1 {
		y, m = y-1, m+12
	}
	return y*10000 + m*100 + 1
}

// compliance is Compliance without the scope check (the portal's, which
// passes the governance lists it reads itself; nil: read them here).
func (s *Service) compliance(ctx context.Context, v int64, today int, g *govReads) (Compliance, error) {
	c := Compliance{Village: v, Today: today}
	if g == nil {
		g = s.reads(v)
	}
	rules := s.Rules(v)
	if rules == nil {
		return c, nil
	}
	start := windowStart(today)
	var items []policy.DisclosureItem
	for _, it := range rules.Disclosure {
		if slices.Contains(policy.Cadences, it.Every) {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return c, nil
	}
	// publications by hand: a year back more than the window, for yearly
	// and half-yearly items published late
	pub, err := s.st.published(ctx, v, start-10000)
	if err != nil {
		return c, err
	}
	type pubAt struct {
		p   Period
		day int
	}
	byItem := map[string][]pubAt{}
	for k, day := range pub {
		item, period := splitKey(k)
		if pe, ok := ParsePeriod(period); ok {
			byItem[item] = append(byItem[item], pubAt{pe, day})
		}
	}
	activity := map[string][]int{} // source → days of governance records
	for _, it := range items {
		switch it.Source {
		case policy.SourceResolutions, policy.SourceMatters, policy.SourceProgress:
			if _, done := activity[it.Source]; done {
				continue
			}
			days, err := s.govActivity(ctx, g, it.Source, start-10000)
			if err != nil {
				return c, err
			}
			slices.Sort(days)
			activity[it.Source] = days
		}
	}
	cur := func(every string) Period { return PeriodOf(every, today) }
	for _, it := range items {
		ic := ItemCompliance{Item: it}
		last := cur(it.Every)
		for pe := PeriodOf(it.Every, start); pe.From() <= last.From(); pe = pe.Next() {
			ps := PeriodStatus{Period: pe, Current: pe == last}
			for _, pa := range byItem[it.Key] {
				if pa.p.Covers(pe) && (ps.Published == 0 || pa.day < ps.Published) {
					ps.Published = pa.day
				}
			}
			days := activity[it.Source]
			if i, _ := slices.BinarySearch(days, pe.From()); i < len(days) && days[i] <= pe.To() && (ps.Published == 0 || days[i] < ps.Published) {
				ps.Published = days[i]
			}
			if ps.Due() {
				ic.Due++
				if ps.Published != 0 {
					ic.Done++
				}
			}
			ic.Periods = append(ic.Periods, ps)
		}
		c.Items = append(c.Items, ic)
		c.Done += ic.Done
		c.Due += ic.Due
	}
	return c, nil
}

func splitKey(k string) (string, string) {
	for i := 0; i < len(k); i++ {
		if k[i] == '/' {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

// VillageCompliance is one village's line of a roll-up.
type VillageCompliance struct {
	Village   division.Division
	Done, Due int
}

// Share is Done / Due; ok is false when nothing is due.
func (vc VillageCompliance) Share() (float64, bool) {
	if vc.Due == 0 {
		return 0, false
	}
	return float64(vc.Done) / float64(vc.Due), true
}

// SharePct is Share as a percentage ("—" when nothing is due).
func (vc VillageCompliance) SharePct() string { return percent(vc.Share()) }

// MaxRollUp bounds the villages of a roll-up (a township has tens; a
// county a few hundred).
const MaxRollUp = 500

// RollUp is the schedule compliance of each village under unit (a
// township or county) for staff there: governance.view at unit, else
// db.ErrNotFound.
func (s *Service) RollUp(ctx context.Context, p *access.Principal, unit int64) ([]VillageCompliance, error) {
	if !p.CanAt(PermView, unit) {
		s.deny(ctx, "pub_notice", 0, unit)
		return nil, db.ErrNotFound
	}
	lo, hi := ids.Subtree(unit)
	vs, err := s.Divisions.InRange(ctx, lo, hi, 5, 5)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	var out []VillageCompliance
	for _, d := range vs {
		if d.Retired {
			continue
		}
		if len(out) >= MaxRollUp {
			break
		}
		c, err := s.compliance(ctx, d.Code, today, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, VillageCompliance{Village: d, Done: c.Done, Due: c.Due})
	}
	return out, nil
}
