package mediation

import (
	"context"
	"slices"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Figures are the counts of mediation over a subtree and a span of months,
// read from the facts (a parent's figure is the sum of its children's).
type Figures struct {
	From, To int // periods YYYYMM, inclusive
	// Disputes registered, and closed by each outcome, in the months.
	Opened, Settled, Failed, Referred, Withdrawn int64
	// SettledInVillage counts the settlements of village committees: small
	// matters settled without leaving the village (DG-16, XS-12).
	SettledInVillage int64
	// Running is how many disputes are being mediated now (whatever the months).
	Running int
	// SettledByType counts the settlements per dispute type key.
	SettledByType map[string]int64
}

// Concluded counts the disputes mediated to an end: settled, failed or
// referred (withdrawn ones were not mediated to an end).
func (f Figures) Concluded() int64 { return f.Settled + f.Failed + f.Referred }

// SettleRate is the share of concluded disputes that were settled (调解成功率);
// ok is false when none was concluded.
func (f Figures) SettleRate() (rate float64, ok bool) {
	if c := f.Concluded(); c > 0 {
		return float64(f.Settled) / float64(c), true
	}
	return 0, false
}

// VillageShare is the share of settlements made by village committees; ok
// is false when nothing was settled.
func (f Figures) VillageShare() (share float64, ok bool) {
	if f.Settled > 0 {
		return float64(f.SettledInVillage) / float64(f.Settled), true
	}
	return 0, false
}

// typeKeys are the dispute type keys of every pack, for the per-type metrics.
func (s *Service) typeKeys() []string {
	var out []string
	for _, pk := range s.Packs.Packs() {
		if pk.Grid == nil {
			continue
		}
		for _, t := range pk.Grid.DisputeTypes {
			if !slices.Contains(out, t.Key) {
				out = append(out, t.Key)
			}
		}
	}
	return out
}

// Figures returns the counts of the months from–to (YYYYMM) in the subtree
// of unit (0: all the principal sees), within the principal's
// mediation.view scope.
func (s *Service) Figures(ctx context.Context, p *access.Principal, unit int64, from, to int) (Figures, error) {
	f := Figures{From: from, To: to, SettledByType: map[string]int64{}}
	ranges := scope(p, unit)
	if len(ranges) == 0 {
		return f, nil
	}
	metrics := []string{MetricOpened, MetricSettled, MetricFailed, MetricReferred, MetricWithdrawn}
	byType := map[string]string{}
	for _, k := range s.typeKeys() {
		m := MetricByType(MetricSettled, k)
		byType[m] = k
		metrics = append(metrics, m)
	}
	for _, r := range ranges {
		err := facts.SumMany(ctx, s.DB, metrics, r.Lo, r.Hi, from, to, facts.ByDivision, func(metric string, division, v int64) {
			switch metric {
			case MetricOpened:
				f.Opened += v
			case MetricSettled:
				f.Settled += v
				if ids.Level(division) == 5 {
					f.SettledInVillage += v
				}
			case MetricFailed:
				f.Failed += v
			case MetricReferred:
				f.Referred += v
			case MetricWithdrawn:
				f.Withdrawn += v
			default:
				if k, ok := byType[metric]; ok {
					f.SettledByType[k] += v
				}
			}
		})
		if err != nil {
			return f, err
		}
	}
	w, args := rangeWhere(ranges)
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM disputes WHERE is_open = 1 AND `+w, args...).Scan(&f.Running)
	return f, err
}
