package disclosure_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/window"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// TestBenchPortal measures the public page of a village with a year of
// activity, GET /public/{code}, through the real handler (the renderer with
// disclosure's templates, the security headers; no gzip, so the render is
// measured, not the compression) on the demo county 锡山区 (120 villages and
// communities), every one of them filled by bulk inserts with a year of
// the same activity: bodies and members, ~50 public meetings with decided
// agenda items, ~60 matters at every stage with their steps (32 of them the
// year's goals), monthly and quarterly notices, a statement per month,
// ~2,000 finance entries with their budget, an asset register, a counted
// election, documents with versions, and the window's and the grid's
// facts. Beside it, in the same run, the raw baselines: GET /healthz
// through the same middleware and one division read by primary key. Run by
// scripts/bench-portal.sh; prints BENCH lines. Env: SHEQU_BENCH_PORTAL=1,
// SHEQU_BENCH_QUERIES=200, SHEQU_BENCH_DB=sqlite|postgres,
// SHEQU_BENCH_DIR, SHEQU_BENCH_ENTRIES=2000 (entries per village).
func TestBenchPortal(t *testing.T) {
	if os.Getenv("SHEQU_BENCH_PORTAL") == "" {
		t.Skip("set SHEQU_BENCH_PORTAL (scripts/bench-portal.sh does)")
	}
	q := envInt("SHEQU_BENCH_QUERIES", 200)
	entries := envInt("SHEQU_BENCH_ENTRIES", 2000)
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "bench", Client: "bench"})
	d, kind := dbtest.BenchDB(ctx, t, "shequ_bench_portal")
	defer d.Close()
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if err := demo.ImportDivisions(ctx, divs); err != nil {
		t.Fatal(err)
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(fx.Keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	gov := governance.NewService(d, al, acc, keys, divs.Store, packs, reg, t.TempDir())
	svc := disclosure.NewService(d, al, acc, divs.Store, packs, gov)
	clock := func() time.Time { return benchPortalToday }
	gov.SetClock(clock)
	svc.SetClock(clock)

	lo, hi := ids.Subtree(demo.County)
	villages, err := divs.Store.InRange(ctx, lo, hi, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	towns, err := divs.Store.Children(ctx, demo.Township, false)
	if err != nil || len(towns) == 0 {
		t.Fatalf("the demo township's villages: %v", err)
	}
	target := towns[0]
	start := time.Now()
	fill := newPortalFill(ctx, t, d, packs.For(target.Code).Governance, entries)
	for i, v := range villages {
		fill.village(v.Code, uint64(i+1))
	}
	fill.flush()
	if kind == "postgres" { // the ids were chosen here: move the sequences past them
		for tb := range fill.nextID {
			if _, err := d.Exec(ctx, "SELECT setval(pg_get_serial_sequence('"+tb+"', 'id'), (SELECT MAX(id) FROM "+tb+"))"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// the statements through the service, as staff publish them
	staff := &access.Principal{UserID: 1, Username: "bench", Assignments: []access.Assignment{{Role: "township_staff", Division: demo.County}}}
	for _, v := range villages {
		for m := 1; m <= 10; m++ {
			if _, err := svc.PublishStatement(ctx, staff, v.Code, fmt.Sprintf("2026-%02d", m)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if kind == "postgres" {
		for _, tb := range []string{"fin_entries", "fin_budgets", "fin_assets", "pub_notices", "gov_bodies", "gov_members", "gov_meetings",
			"gov_agenda", "gov_matters", "gov_matter_steps", "gov_elections", "gov_candidates", "gov_documents", "gov_document_versions", "facts"} {
			if _, err := d.Exec(ctx, "ANALYZE "+tb); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%s: %d villages filled in %s", kind, len(villages), time.Since(start).Round(time.Millisecond))

	rd := web.NewRenderer(nil)
	if err := rd.Register(disclosure.Templates(), "templates/*.html", disclosure.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&disclosure.PublicHTTP{S: svc, R: rd, PublicURL: "https://shequ.example.cn"}).Routes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	h := web.Chain(mux, web.SecurityHeaders)
	code := disclosure.PortalCode(target.Code)
	var size int
	get := func(path string) func() error {
		return func() error {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Accept-Language", "zh-CN")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				return fmt.Errorf("GET %s: %d", path, w.Code)
			}
			size = w.Body.Len()
			return nil
		}
	}
	var n struct{ entries, meetings, matters, steps, notices, members int }
	for _, c := range []struct {
		dst *int
		q   string
	}{
		{&n.entries, "SELECT COUNT(*) FROM fin_entries WHERE division = ?"},
		{&n.meetings, "SELECT COUNT(*) FROM gov_meetings WHERE division = ?"},
		{&n.matters, "SELECT COUNT(*) FROM gov_matters WHERE division = ?"},
		{&n.steps, "SELECT COUNT(*) FROM gov_matter_steps s JOIN gov_matters m ON m.id = s.matter_id WHERE m.division = ?"},
		{&n.notices, "SELECT COUNT(*) FROM pub_notices WHERE division = ?"},
		{&n.members, "SELECT COUNT(*) FROM gov_members mb JOIN gov_bodies b ON b.id = mb.body_id WHERE b.division = ?"},
	} {
		if err := d.QueryRow(ctx, c.q, target.Code).Scan(c.dst); err != nil {
			t.Fatal(err)
		}
	}
	var total int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM fin_entries").Scan(&total); err != nil {
		t.Fatal(err)
	}
	measure := func(what string, fn func() error) {
		size = 0
		p50, p95, worst := dbtest.Times(t, q, fn)
		dbtest.Report("db", kind, "what", what, "villages", len(villages), "entries", n.entries, "entries_all", total,
			"meetings", n.meetings, "matters", n.matters, "steps", n.steps, "notices", n.notices, "members", n.members,
			"bytes", size, "p50_ms", fmt.Sprintf("%.2f", p50), "p95_ms", fmt.Sprintf("%.2f", p95), "max_ms", fmt.Sprintf("%.2f", worst), "queries", q)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	pk := func() error {
		var name string
		return d.QueryRow(ctx, "SELECT name FROM divisions WHERE code = ?", villages[rnd.IntN(len(villages))].Code).Scan(&name)
	}
	// the very first view after the fill: the progress reports' days are not
	// remembered yet (gov.go), so every matter under implementation is read
	first := time.Now()
	if err := get("/public/" + code)(); err != nil {
		t.Fatal(err)
	}
	ms := fmt.Sprintf("%.2f", float64(time.Since(first).Microseconds())/1000)
	dbtest.Report("db", kind, "what", "portal_first", "villages", len(villages), "entries", n.entries, "entries_all", total,
		"bytes", size, "p50_ms", ms, "p95_ms", ms, "max_ms", ms, "queries", 1)
	measure("baseline_pk", pk)
	measure("baseline_healthz", get("/healthz"))
	measure("portal", get("/public/"+code))
	measure("board", get("/public/"+code+"/board"))
	measure("kiosk_matters", get("/public/"+code+"/kiosk/matters"))
	measure("matter", get("/public/"+code+"/matters/"+fill.sampleMatter[target.Code]))
	measure("calendar", get("/public/"+code+"/calendar.ics"))
	measure("baseline_healthz_end", get("/healthz"))
	measure("baseline_pk_end", pk)
}

var benchPortalToday = time.Date(2026, 11, 23, 10, 0, 0, 0, china)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// portalFill writes a year of a village's activity with bulk inserts, as
// the services would have stored it.
type portalFill struct {
	ctx     context.Context
	t       *testing.T
	d       *db.DB
	g       *policy.Governance
	entries int
	now     int64
	nextID  map[string]int64
	rows    map[string][][]any
	cols    map[string][]string
	// facts as the services would have counted them, summed before the
	// bulk insert (one row per metric, division and month)
	facts map[factKey]int64
	// sampleMatter is a matter number of each village (for the matter page).
	sampleMatter map[int64]string
}

func newPortalFill(ctx context.Context, t *testing.T, d *db.DB, g *policy.Governance, entries int) *portalFill {
	if g == nil || len(g.Finance.Categories) == 0 || len(g.Procedures) == 0 {
		t.Fatal("the demo county's pack has no governance rules")
	}
	return &portalFill{ctx: ctx, t: t, d: d, g: g, entries: entries, now: benchPortalToday.UnixMilli(), nextID: map[string]int64{},
		rows: map[string][][]any{}, cols: map[string][]string{}, sampleMatter: map[int64]string{}, facts: map[factKey]int64{}}
}

// add queues a row of table (its id, when the table has one, chosen here so
// rows can refer to each other before they are written).
func (f *portalFill) add(table, cols string, vals ...any) {
	if _, ok := f.cols[table]; !ok {
		cs := strings.Split(cols, ",")
		for i := range cs {
			cs[i] = strings.TrimSpace(cs[i])
		}
		f.cols[table] = cs
	}
	f.rows[table] = append(f.rows[table], vals)
	if len(f.rows[table]) >= 5000 {
		f.write(table)
	}
}

func (f *portalFill) id(table string) int64 {
	f.nextID[table]++
	return f.nextID[table]
}

func (f *portalFill) write(table string) {
	if err := dbtest.Insert(f.ctx, f.d, table, f.cols[table], f.rows[table]); err != nil {
		f.t.Fatalf("%s: %v", table, err)
	}
	f.rows[table] = f.rows[table][:0]
}

type factKey struct {
	division int64
	period   int
	metric   string
}

// flush writes what is queued, parents first.
func (f *portalFill) flush() {
	for k, n := range f.facts {
		f.add("facts", "division, period, metric, value", k.division, k.period, k.metric, n)
	}
	clear(f.facts)
	for _, tb := range []string{"gov_bodies", "gov_members", "gov_meetings", "gov_agenda", "gov_matters", "gov_matter_steps", "gov_elections",
		"gov_candidates", "gov_documents", "gov_document_versions", "pub_notices", "fin_entries", "fin_budgets", "fin_assets", "facts"} {
		if len(f.rows[tb]) > 0 {
			f.write(tb)
		}
	}
}

// dayBack is the day n days before the bench's day.
func dayBack(n int) int {
	t := benchPortalToday.AddDate(0, 0, -n)
	return t.Year()*10000 + int(t.Month())*100 + t.Day()
}

var benchNames = []string{"王建国", "李秀英", "张伟", "刘芳", "陈志强", "杨丽华", "赵明", "黄桂英", "周杰", "吴敏", "徐磊", "孙静",
	"胡斌", "朱红梅", "高峰", "林燕", "何勇", "郭玉兰", "马超", "罗慧"}

func (f *portalFill) village(v int64, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 11))
	county := ids.County(v)
	name := func() string { return benchNames[rnd.IntN(len(benchNames))] + strconv.Itoa(rnd.IntN(90)+10) }
	bodyCols := "id, county, division, kind, name, term_start, created_at, updated_at"
	memberCols := "id, body_id, resident_id, name, gender, residency, post, since_day, created_at"
	bodies := map[string]int64{}
	for _, b := range f.g.Bodies {
		if b.Key == "group" || b.Key == "assembly" {
			continue
		}
		id := f.id("gov_bodies")
		bodies[b.Key] = id
		f.add("gov_bodies", bodyCols, id, county, v, b.Key, b.Label.Get("zh-CN"), 20240101, f.now, f.now)
		size := 5
		if b.Key == "representatives" {
			size = 35
		}
		for i := range size {
			post := b.Posts[len(b.Posts)-1].Key
			if i == 0 {
				post = b.ChairPost()
			}
			f.add("gov_members", memberCols, f.id("gov_members"), id, int64(seed*1000)+int64(i), name(), "F", "registered", post, 20240101, f.now)
		}
	}
	// ~50 public meetings over the year, three decided items each, and
	// next month's scheduled ones
	meetingCols := "id, county, division, body_id, title, day, start_time, place, state, public, members, present, created_at, updated_at"
	agendaCols := "id, meeting_id, seq, title, result, votes_for, votes_against, votes_abstain, counted, resolution, decided_day"
	pub := []string{"representatives", "committee", "supervision"}
	for i := range 50 {
		kind := pub[i%len(pub)]
		day := dayBack(7*i + 3)
		state := "held"
		mid := f.id("gov_meetings")
		f.add("gov_meetings", meetingCols, mid, county, v, bodies[kind], fmt.Sprintf("第%d次会议", 50-i), day, "19:30", "村委会议室", state, 1, 35, 30, f.now, f.now)
		for s := 1; s <= 3; s++ {
			f.add("gov_agenda", agendaCols, f.id("gov_agenda"), mid, s, fmt.Sprintf("议题%d-%d：村内道路、环境与公共设施事项", 50-i, s),
				[]string{"passed", "passed", "passed", "failed"}[rnd.IntN(4)], 20+rnd.IntN(10), rnd.IntN(4), rnd.IntN(3), 1,
				"经表决，同意按方案实施，所需经费从村集体经济收入中列支。", day)
		}
	}
	for i := range 4 {
		f.add("gov_meetings", meetingCols, f.id("gov_meetings"), county, v, bodies[pub[i%3]], fmt.Sprintf("计划会议%d", i+1),
			dayBack(-7*(i+1)), "19:30", "村委会议室", "scheduled", 1, 0, 0, f.now, f.now)
	}
	// ~60 matters at every stage with their steps; 32 are the year's goals
	pr := f.g.Procedures[0]
	matterCols := `id, number, county, division, procedure_key, stage, status, title, description, proposer, proposer_name, signatures,
		budget, spent, progress, goal_year, responsible, due_day, proposed_day, resolved_day, closed_day, created_at, updated_at`
	stepCols := "id, matter_id, stage, action, note, percent, spent, public, day, actor, created_at"
	for i := range 60 {
		id := f.id("gov_matters")
		number := fmt.Sprintf("YS%d-2026-%03d", v/1000, i+1)
		if i == 0 {
			f.sampleMatter[v] = number
		}
		si := rnd.IntN(len(pr.Stages))
		st := pr.Stages[si]
		status := "open"
		proposed := dayBack(20 + rnd.IntN(330))
		resolved, closed, progress, responsible, due := 0, 0, 0, "", 0
		if st.Kind == policy.StageImplement || st.Kind == policy.StageEvaluate {
			resolved = proposed + 0
			progress, responsible, due = rnd.IntN(100), "村委会", dayBack(-30)
		}
		if rnd.IntN(6) == 0 {
			status, closed, si = "done", dayBack(rnd.IntN(20)), len(pr.Stages)-1
			st = pr.Stages[si]
			progress = 100
		}
		goal := 0
		if i < 32 {
			goal = 2026
		}
		f.add("gov_matters", matterCols, id, number, county, v, pr.Key, st.Key, status, fmt.Sprintf("民生实事%d：修缮村道与排水设施", i+1),
			"群众反映雨天积水严重，提议修缮。", "residents", name(), 10+rnd.IntN(30), int64(1+rnd.IntN(50))*1000000, int64(progress)*5000,
			progress, goal, responsible, due, proposed, resolved, closed, f.now, f.now)
		day := proposed
		for k := 0; k <= si; k++ {
			action := "pass"
			if k == 0 {
				action = "propose"
			}
			f.add("gov_matter_steps", stepCols, f.id("gov_matter_steps"), id, pr.Stages[k].Key, action, "按程序办理。", 0, 0, 1, day, "村委会", f.now)
			if pr.Stages[k].Kind == policy.StageImplement {
				for _, a := range []string{"assign", "implement", "implement", "urge"} {
					day += 5
					f.add("gov_matter_steps", stepCols, f.id("gov_matter_steps"), id, pr.Stages[k].Key, a, "施工进展顺利。", progress, 200000, 1, day, "村委会", f.now)
				}
			}
			day += 10
		}
	}
	// a counted election and two documents
	eid := f.id("gov_elections")
	f.add("gov_elections", "id, county, division, body_kind, title, day, seats, state, voters, voted, ballots, created_at, updated_at",
		eid, county, v, "committee", "第十二届村(居)民委员会选举", 20260520, 7, "counted", 1800, 1750, 1750, f.now, f.now)
	for i := range 9 {
		f.add("gov_candidates", "id, election_id, resident_id, name, gender, residency, votes, elected",
			f.id("gov_candidates"), eid, int64(seed*1000)+int64(500+i), name(), "M", "registered", 1700-150*i, boolInt(i < 7))
	}
	for k, title := range []string{"自治章程", "村规民约"} {
		did := f.id("gov_documents")
		f.add("gov_documents", "id, county, division, kind, title, created_at", did, county, v, []string{"charter", "village_rules"}[k], title, f.now)
		for ver := 1; ver <= 2; ver++ {
			f.add("gov_document_versions", "id, document_id, version, body, meeting_id, agenda_id, adopted_day, created_at",
				f.id("gov_document_versions"), did, ver, strings.Repeat("第一条 本章程依据法律制定。\n", 80), 1, 1, 20250101+ver*10000, f.now)
		}
	}
	// notices: monthly affairs, quarterly, and others
	noticeCols := "id, county, division, item, period, title, body, published_day, withdrawn_day, created_at, created_by"
	for m := 1; m <= 11; m++ {
		f.add("pub_notices", noticeCols, f.id("pub_notices"), county, v, "affairs", fmt.Sprintf("2026-Q%d", (m-1)/3+1),
			fmt.Sprintf("2026年%d月村务公开", m), strings.Repeat("本月村务事项如下。", 30), 20260000+m*100+5, 0, f.now, "村委会")
		f.add("pub_notices", noticeCols, f.id("pub_notices"), county, v, "progress", fmt.Sprintf("2026-%02d", m),
			fmt.Sprintf("2026年%d月实施进度", m), strings.Repeat("各项工程进展顺利。", 30), 20260000+m*100+6, 0, f.now, "村委会")
	}
	// ~2,000 finance entries over the year, the budget, the assets
	entryCols := "id, county, division, account, category, kind, day, amount, summary, voucher, created_at, created_by"
	cats := f.g.Finance.Categories
	for i := range f.entries {
		c := cats[rnd.IntN(len(cats))]
		e := disclosure.Entry{Division: v, Account: c.Account, Category: c.Key, Kind: c.Kind, Day: dayBack(rnd.IntN(326)),
			Amount: int64(1 + rnd.IntN(2000000))}
		f.add("fin_entries", entryCols, f.id("fin_entries"), county, v, e.Account, e.Category, e.Kind, e.Day, e.Amount, "日常收支",
			fmt.Sprintf("记-%04d", i+1), f.now, "会计")
		for _, x := range disclosure.EntryFacts(e) {
			f.facts[factKey{x.Division, x.Period, x.Metric}] += x.N
		}
	}
	for _, c := range cats {
		f.add("fin_budgets", "division, year, account, category, amount, updated_at", v, 2026, c.Account, c.Key, int64(50+rnd.IntN(500))*1000000, f.now)
	}
	for i := range 30 {
		k := f.g.Finance.AssetKinds[i%len(f.g.Finance.AssetKinds)]
		f.add("fin_assets", "id, county, division, kind, name, quantity, value, acquired_day, status, created_at, updated_at",
			f.id("fin_assets"), county, v, k.Key, fmt.Sprintf("集体%s%d", k.Label.Get("zh-CN"), i+1), "100 平方米", int64(rnd.IntN(100000000)),
			20100101, "自用", f.now, f.now)
	}
	// the window's and the grid's facts, month by month
	for m := 1; m <= 11; m++ {
		for _, x := range []struct {
			metric string
			n      int
		}{{window.MetricAccepted, 80}, {window.MetricCompleted, 75}, {window.MetricOnTime, 70}, {grid.MetricReported, 40},
			{grid.MetricClosed, 36}, {grid.MetricClosedVillage, 30}} {
			f.facts[factKey{v, 202600 + m, x.metric}] += int64(x.n + rnd.IntN(10))
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
