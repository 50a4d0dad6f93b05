package facts_test

import (
	"context"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
)

// spans of the 15-digit code levels: county, township, village, grid.
var spans = []int64{1_000_000_000, 1_000_000, 1_000, 1}

const county = int64(320205) * 1_000_000_000

// TestConcurrentRollUp writes facts from many goroutines at grid level and
// checks that no increment is lost and that every parent equals the sum of
// its children at every level.
func TestConcurrentRollUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var grids []int64
		for tw := int64(1); tw <= 3; tw++ {
			for v := int64(1); v <= 4; v++ {
				for g := int64(1); g <= 3; g++ {
					grids = append(grids, county+tw*1_000_000+v*1_000+g)
				}
			}
		}
		var total atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func(seed int64) {
				defer wg.Done()
				rnd := rand.New(rand.NewSource(seed))
				for i := 0; i < 40; i++ {
					g := grids[rnd.Intn(len(grids))]
					delta := int64(rnd.Intn(5) + 1)
					err := d.Tx(ctx, func(ctx context.Context) error {
						return facts.Add(ctx, d, g, 202611, "test.count", delta)
					})
					if err != nil {
						t.Error(err)
						return
					}
					total.Add(delta)
				}
			}(int64(w))
		}
		wg.Wait()
		all, err := facts.Sum(ctx, d, "test.count", county, county+spans[0]-1, 202611, 202611)
		if err != nil || all != total.Load() {
			t.Fatalf("county total %d, written %d (%v)", all, total.Load(), err)
		}
		// every node at every level equals the sum of its children
		var check func(lo int64, level int)
		check = func(lo int64, level int) {
			if level+1 >= len(spans) {
				return
			}
			parent, _ := facts.Sum(ctx, d, "test.count", lo, lo+spans[level]-1, 202611, 202611)
			kids, err := facts.RollUp(ctx, d, "test.count", lo, lo+spans[level]-1, spans[level+1], 202611, 202611)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for k, v := range kids {
				child, _ := facts.Sum(ctx, d, "test.count", k, k+spans[level+1]-1, 202611, 202611)
				if child != v {
					t.Fatalf("child %d: roll-up %d, sum %d", k, v, child)
				}
				sum += v
				check(k, level+1)
			}
			if sum != parent {
				t.Fatalf("node %d level %d: parent %d != sum of children %d", lo, level, parent, sum)
			}
		}
		check(county, 0)
	})
}

func TestRollbackLeavesNoFact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_ = d.Tx(ctx, func(ctx context.Context) error {
			if err := facts.Add(ctx, d, county+1, facts.Timeless, "x", 5); err != nil {
				t.Fatal(err)
			}
			return context.Canceled
		})
		if v, _ := facts.Sum(ctx, d, "x", 0, county*10, 0, 999999); v != 0 {
			t.Fatalf("rolled-back fact visible: %d", v)
		}
		if err := facts.Add(ctx, d, county+1, 202601, "x", 2); err != nil {
			t.Fatal(err)
		}
		if err := facts.Add(ctx, d, county+1, 202602, "x", 3); err != nil {
			t.Fatal(err)
		}
		s, err := facts.Series(ctx, d, "x", county, county+10, 202601, 202612)
		if err != nil || s[202601] != 2 || s[202602] != 3 {
			t.Fatalf("series %v %v", s, err)
		}
	})
}

func TestPeriodInChinaTime(t *testing.T) {
	// 2026-01-31 17:00 UTC is already February 1st in Beijing.
	if p := facts.Period(time.Date(2026, 1, 31, 17, 0, 0, 0, time.UTC)); p != 202602 {
		t.Fatal(p)
	}
}

// TestAddAll applies several increments in one statement, summing those of
// the same counter, on top of existing values.
func TestAddAll(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := county + 1_001_000
		err := d.Tx(ctx, func(ctx context.Context) error {
			if err := facts.Add(ctx, d, v, 202611, "m.a", 5); err != nil {
				return err
			}
			return facts.AddAll(ctx, d, []facts.Delta{
				{Division: v, Period: 202611, Metric: "m.a", N: 1}, {Division: v, Period: 202611, Metric: "m.b", N: 2},
				{Division: v, Period: 202611, Metric: "m.a", N: 3}, {Division: v, Period: 202612, Metric: "m.a", N: 0}})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			metric string
			want   int64
		}{{"m.a", 9}, {"m.b", 2}} {
			if got, _ := facts.Sum(ctx, d, c.metric, county, county+999_999_999, 0, 999999); got != c.want {
				t.Fatalf("%s = %d, want %d", c.metric, got, c.want)
			}
		}
		if err := facts.AddAll(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		if err := facts.SumMany(ctx, d, []string{"m.a", "m.b"}, county, county+999_999_999, 0, 999999, facts.ByMetric,
			func(m string, _, v int64) { got[m] = v }); err != nil || got["m.a"] != 9 || got["m.b"] != 2 {
			t.Fatalf("SumMany %v %v", got, err)
		}
	})
}
