package demo

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/window"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// casesToday is when the test's demo is built: a Monday afternoon.
var casesToday = time.Date(2026, 6, 15, 15, 30, 0, 0, china)

// caseWorld builds the demo jurisdiction on d with residents residents
// imported as `shequ demo --residents` does, and the window service.
func caseWorld(t *testing.T, d *db.DB, residents int) (*window.Service, *access.Service) {
	t.Helper()
	return caseWorldIn(t, d, residents, 0)
}

// caseWorldIn is caseWorld with the residents in the first n villages only
// (0: all).
func caseWorldIn(t *testing.T, d *db.DB, residents, n int) (*window.Service, *access.Service) {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "test", Client: "cli"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if _, err := Build(ctx, divs, acc, Options{Password: "demo-test-password-1", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(pii.Generate())
	if err != nil {
		t.Fatal(err)
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	if residents > 0 {
		villages, err := DemoVillages(ctx, divs.Store, County)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			villages = villages[:n]
		}
		path := filepath.Join(t.TempDir(), "residents.csv")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		if _, err := WriteResidentsCSV(w, ResidentOptions{N: residents, Seed: 1, Today: casesToday, Villages: villages}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		runner := jobs.New(d, t.TempDir(), nil)
		for _, k := range reg.JobKinds() {
			runner.Register(k)
		}
		cli := &access.Principal{Username: "cli", Assignments: []access.Assignment{{Role: "system_admin"}}}
		params := registry.ImportParams{Division: County, Mode: registry.ModeValidRows, FileName: "demo.csv", Locale: "zh-CN"}
		j, err := runner.RunNow(ctx, cli, jobs.Spec{Kind: registry.JobImport, Division: County, Params: params, Input: path}, nil)
		if err != nil || j.Status != jobs.Done {
			t.Fatalf("residents: %+v %v", j, err)
		}
	}
	cal := calendar.NewCalendar(calendar.Shipped())
	days := func(context.Context) (window.Calendar, error) { return cal, nil }
	return window.NewService(d, al, acc, keys, divs.Store, packs, reg, days, t.TempDir()), acc
}

func caseCount(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestGenerateCases(t *testing.T) {
	d := dbtest.SQLite(t)
	svc, acc := caseWorld(t, d, 800)
	ctx := context.Background()
	const n = 400
	st, err := GenerateCases(ctx, svc, acc, CaseOptions{N: n, Seed: 7, Today: casesToday})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", st)
	if svc.Today() != time.Now().In(china).Year()*10000+int(time.Now().In(china).Month())*100+time.Now().In(china).Day() {
		t.Error("the service's clock was left on the demo's last step")
	}
	if st.Cases != n {
		t.Fatalf("%d cases recorded, want %d", st.Cases, n)
	}
	// every state, and every kind of life a case has
	for what, v := range map[string]int{"submitted": st.Submitted, "completed": st.Completed, "open": st.Open, "overdue": st.Overdue, "waiting": st.Waiting,
		"rejected": st.Rejected, "transferred": st.Transferred, "agency": st.Agency, "rated": st.Rated, "late": st.Completed - st.OnTime} {
		if v == 0 {
			t.Errorf("no %s cases: %+v", what, st)
		}
	}
	if st.OnTime*100 < st.Completed*80 {
		t.Errorf("only %d of %d completed on time", st.OnTime, st.Completed)
	}
	if st.Overdue*100 > st.Cases*8 {
		t.Errorf("%d overdue of %d: implausibly many", st.Overdue, st.Cases)
	}
	// the table agrees with the stats
	for state, want := range map[string]int{window.StateCompleted: st.Completed, window.StateRejected: st.Rejected,
		window.StateSupplement: st.Waiting, window.StateSubmitted: st.Submitted} {
		if got := caseCount(t, d, "SELECT COUNT(*) FROM cases WHERE state = ?", state); got != want {
			t.Errorf("%s: %d in the table, stats %d", state, got, want)
		}
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM cases WHERE state IN ('accepted', 'handling')"); got != st.Open {
		t.Errorf("open: %d in the table, stats %d", got, st.Open)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM cases WHERE state = 'handling'"); got == 0 {
		t.Error("no case assigned to a handler")
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM cases WHERE holder_level IN ('township', 'county', 'department') AND division <> holder"); got == 0 {
		t.Error("no case handled above the window that took it in")
	}
	// the applicants are the registry's residents (online requests name theirs)
	if res := caseCount(t, d, "SELECT COUNT(*) FROM cases WHERE resident_id > 0"); res*100 < n*60 {
		t.Errorf("only %d of %d applicants from the registry", res, n)
	}
	// spread over the six months before today, on the village and township windows
	first := caseCount(t, d, "SELECT MIN(submitted_at) FROM cases")
	last := caseCount(t, d, "SELECT MAX(submitted_at) FROM cases")
	if time.UnixMilli(int64(first)).Before(casesToday.AddDate(0, -6, -1)) || time.UnixMilli(int64(last)).After(casesToday) ||
		time.UnixMilli(int64(last)).Before(casesToday.AddDate(0, 0, -7)) {
		t.Errorf("submitted from %v to %v", time.UnixMilli(int64(first)), time.UnixMilli(int64(last)))
	}
	if got := caseCount(t, d, "SELECT COUNT(DISTINCT accepted_day / 100) FROM cases WHERE accepted_day > 0"); got < 6 {
		t.Errorf("cases in %d months", got)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM cases WHERE division % 1000000 = 0"); got == 0 || got > n/3 {
		t.Errorf("%d cases at township windows", got)
	}
	if got := caseCount(t, d, "SELECT COUNT(DISTINCT division) FROM cases"); got < 60 {
		t.Errorf("cases at %d windows only", got)
	}
	if got := caseCount(t, d, "SELECT COUNT(DISTINCT channel) FROM cases"); got != 3 {
		t.Errorf("%d channels", got)
	}

	// the facts are what the cases say
	admin := &access.Principal{Username: "t", Assignments: []access.Assignment{{Role: "system_admin"}}}
	svc.SetClock(func() time.Time { return casesToday })
	from := casesToday.AddDate(0, -7, 0)
	fs, err := svc.Figures(ctx, admin, County, from.Year()*100+int(from.Month()), 202606)
	if err != nil {
		t.Fatal(err)
	}
	tot := fs.Totals
	if tot.Completed != int64(st.Completed) || tot.OnTime != int64(st.OnTime) || tot.Rejected != int64(st.Rejected) ||
		tot.Rated != int64(st.Rated) || tot.OpenOverdue != int64(st.Overdue) || tot.Agency != int64(st.Agency) {
		t.Errorf("figures %+v, stats %+v", tot, st)
	}
	if acc := caseCount(t, d, "SELECT COUNT(*) FROM cases WHERE accepted_day > 0"); tot.Accepted != int64(acc) {
		t.Errorf("accepted: facts %d, table %d", tot.Accepted, acc)
	}
	if tot.AvgRating.Value() < 4 || tot.Satisfaction.Value() < 0.75 {
		t.Errorf("ratings not mostly good: average %s, satisfied %s", tot.AvgRating.Mean(), tot.Satisfaction.Percent())
	}
	if len(fs.Children) != 9 {
		t.Errorf("%d townships", len(fs.Children))
	}
	// the steps tell the story: a case's number, then its transfer and completion, each at its time
	var steps int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM case_steps WHERE action = 'transfer' AND actor <> ''").Scan(&steps); err != nil || steps < st.Transferred {
		t.Errorf("%d transfer steps for %d transferred cases (%v)", steps, st.Transferred, err)
	}
	if bad := caseCount(t, d, "SELECT COUNT(*) FROM case_steps s JOIN cases c ON c.id = s.case_id WHERE s.at < c.submitted_at"); bad != 0 {
		t.Errorf("%d steps before their case was submitted", bad)
	}
}

// Same seed, same registry, same day: the same cases.
func TestGenerateCasesDeterministic(t *testing.T) {
	numbers := func() string {
		d := dbtest.SQLite(t)
		svc, acc := caseWorld(t, d, 0)
		st, err := GenerateCases(context.Background(), svc, acc, CaseOptions{N: 60, Seed: 3, Today: casesToday})
		if err != nil {
			t.Fatal(err)
		}
		if st.Walkins == 0 {
			t.Fatal("an empty registry: walk-ins expected")
		}
		rows, err := d.Query(context.Background(), "SELECT number, item_code, applicant_name, state, rating FROM cases ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var num, item, name, state string
			var rating int
			if err := rows.Scan(&num, &item, &name, &state, &rating); err != nil {
				t.Fatal(err)
			}
			b.WriteString(num + " " + item + " " + name + " " + state + " " + string(rune('0'+rating)) + "\n")
		}
		return b.String()
	}
	a, b := numbers(), numbers()
	if a != b || strings.Count(a, "\n") != 60 {
		t.Fatalf("two runs differ:\n%s\n---\n%s", a, b)
	}
}
