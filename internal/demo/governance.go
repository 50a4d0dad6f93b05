package demo

// Demo self-governance and disclosure: for every village of the demo county
// with enough residents, its bodies (party organisation, committee,
// representatives' meeting, supervision committee, villagers' meeting, and
// whatever else its pack names) drawn from the registry; a year of their
// meetings with attendance and votes; matters at every stage of the pack's
// procedure — proposed, discussed, resolved, rejected, being implemented
// with progress reports and money spent, urged, completed, rated and
// evaluated; a committee election with its roll, proxies and count; the
// charter and village rules adopted at a meeting; and a year of accounts
// with a budget, collective assets, monthly statements and notices — so
// the staff pages and the public portal of every village are alive.
//
// Like the other demo generators, everything goes through the services
// with their clocks moved to the day of each step (SetClock), so numbers,
// audit entries and facts are what a year of real use would have left.
// The same options, the same registry and the same day give the same data.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// GovernanceOptions control GenerateGovernance.
type GovernanceOptions struct {
	Seed int64
	// Today is the day the demo is built; the year before it is filled.
	Today time.Time
	// Villages are the villages to fill (default: every village of County
	// with at least 30 residents).
	Villages []int64
	County   int64 // default County (锡山区)
	// Matters is the number of matters proposed per village over the year
	// (default 8).
	Matters int
}

// GovernanceStats counts what GenerateGovernance left.
type GovernanceStats struct {
	Villages, Bodies, Members, Meetings, Votes  int
	Matters, Rejected, Implementing, Done       int
	Elections, Documents, Entries, Publications int
}

func (s GovernanceStats) String() string {
	return fmt.Sprintf("%d villages, %d bodies with %d members, %d meetings with %d votes, %d matters (%d rejected, %d being implemented, %d done), %d elections, %d documents, %d finance entries, %d publications",
		s.Villages, s.Bodies, s.Members, s.Meetings, s.Votes, s.Matters, s.Rejected, s.Implementing, s.Done, s.Elections, s.Documents, s.Entries, s.Publications)
}

// demo matters: what villages propose (title, budget in yuan).
var demoMatters = []struct {
	title  string
	budget int
}{
	{"硬化村东组入户道路", 186000}, {"安装村内主干道路灯", 92000}, {"改造村民广场健身器材", 45000},
	{"疏浚村前河道", 130000}, {"建设垃圾分类投放点", 38000}, {"修缮老年活动室", 56000},
	{"新建村级停车场", 210000}, {"改造自来水管网", 164000}, {"增设农村公交候车亭", 24000},
	{"建设村史馆", 88000}, {"整治村内违章搭建", 15000}, {"开展留守儿童暑期托管", 12000},
	{"修建农田灌溉泵站", 142000}, {"更新村委会办公电脑", 18000}, {"建设村级卫生室", 96000},
	{"绿化村口道路两侧", 33000},
}

// GenerateGovernance fills the villages' self-governance and disclosure.
// It skips a village whose pack has no governance.yaml or that already has
// bodies.
func GenerateGovernance(ctx context.Context, gov *governance.Service, disc *disclosure.Service, reg *registry.Service, opt GovernanceOptions) (GovernanceStats, error) {
	var st GovernanceStats
	if opt.County == 0 {
		opt.County = County
	}
	if opt.Matters <= 0 {
		opt.Matters = 8
	}
	if opt.Today.IsZero() {
		opt.Today = time.Now()
	}
	system := &access.Principal{Username: "demo", DisplayName: "演示数据", Assignments: []access.Assignment{{Role: "system_admin"}}}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "演示数据", Client: "demo"})
	defer gov.SetClock(nil)
	defer disc.SetClock(nil)
	villages := opt.Villages
	if villages == nil {
		people := map[int64][]int64{}
		err := reg.Reachable(ctx, opt.County, opt.County+999_999_999, func(id, div int64) {
			if v, ok := governance.VillageOf(div); ok {
				people[v] = append(people[v], id)
			}
		})
		if err != nil {
			return st, err
		}
		for v, ids := range people {
			if len(ids) >= 30 {
				villages = append(villages, v)
			}
		}
		slices.Sort(villages)
	}
	today := calendar.DayOf(opt.Today)
	for _, v := range villages {
		rules := gov.Rules(v)
		if rules == nil {
			continue
		}
		have, err := gov.Bodies(ctx, system, v, true)
		if err != nil {
			return st, err
		}
		if len(have) > 0 {
			continue
		}
		g := &govGen{gov: gov, disc: disc, reg: reg, p: system, rules: rules, village: v, today: today,
			r: rand.New(rand.NewPCG(uint64(opt.Seed), uint64(v))), st: &st, nMatters: opt.Matters}
		if err := g.run(ctx); err != nil {
			return st, fmt.Errorf("demo governance of %d: %w", v, err)
		}
	}
	return st, nil
}

// govGen fills one village.
type govGen struct {
	gov      *governance.Service
	disc     *disclosure.Service
	reg      *registry.Service
	p        *access.Principal
	rules    *policy.Governance
	village  int64
	today    int
	r        *rand.Rand
	st       *GovernanceStats
	nMatters int

	titles  []int // the order this village takes demoMatters in
	adults  []registry.Resident
	bodies  map[string]governance.Body // by kind
	matters []*demoMatter
}

// demoMatter is a matter and what the generator plans for it.
type demoMatter struct {
	m        governance.Matter
	proposed int  // day
	reject   bool // voted down at its first meeting stage
	done     int  // day the implementation completes (0: still running on today)
	reports  int  // progress reports made
}

// at moves both services' clocks to 10:00 of day.
func (g *govGen) at(day int) {
	t := time.Date(day/10000, time.Month(day/100%100), day%100, 10, 0, 0, 0, calendar.China)
	now := func() time.Time { return t }
	g.gov.SetClock(now)
	g.disc.SetClock(now)
}

func fmtDay(day int) string { return calendar.FormatDay(day) }

func (g *govGen) run(ctx context.Context) error {
	start := calendar.AddDays(g.today, -365)
	if err := g.people(ctx, start); err != nil || len(g.adults) < 20 {
		return err
	}
	g.st.Villages++
	g.titles = g.r.Perm(len(demoMatters))
	g.at(start)
	if err := g.makeBodies(ctx, start); err != nil {
		return err
	}
	if err := g.finance(ctx, start); err != nil {
		return err
	}
	// Matters are proposed over the year, one in five to be voted down;
	// the late ones are still on their way on today.
	for i := 0; i < g.nMatters; i++ {
		day := calendar.AddDays(start, 10+i*300/g.nMatters+g.r.IntN(10))
		switch g.nMatters - i { // the last three: at the first stages and being implemented on today
		case 1:
			day = calendar.AddDays(g.today, -6)
		case 2:
			day = calendar.AddDays(g.today, -30)
		case 3:
			day = calendar.AddDays(g.today, -100)
		}
		dm := &demoMatter{proposed: day, reject: i%5 == 2}
		g.matters = append(g.matters, dm)
	}
	// The year, day by day: proposals, meetings by each body's cadence,
	// implementation, the election, the documents, the statements.
	election := calendar.AddDays(start, 75)
	docs := calendar.AddDays(start, 40)
	for calendar.Weekday(docs) >= 5 {
		docs = calendar.AddDays(docs, 1)
	}
	for day := start; day <= g.today; day = calendar.AddDays(day, 1) {
		g.at(day)
		for _, dm := range g.matters {
			if dm.proposed == day {
				if err := g.propose(ctx, dm, day); err != nil {
					return err
				}
			}
		}
		if calendar.Weekday(day) < 5 {
			if err := g.meetingsOn(ctx, day, start, docs); err != nil {
				return err
			}
			if err := g.implementOn(ctx, day); err != nil {
				return err
			}
		}
		if day == election {
			if err := g.election(ctx, day); err != nil {
				return err
			}
		}
		if day%100 == 5 { // the month's statement, on the 5th of the next month
			if err := g.publish(ctx, day); err != nil {
				return err
			}
		}
	}
	// The next meeting of each body is on the calendar.
	g.at(g.today)
	for i, k := range g.rules.Bodies {
		b, ok := g.bodies[k.Key]
		if !ok || cadence(k) == 0 {
			continue
		}
		day := calendar.AddDays(g.today, 3+i*4)
		for calendar.Weekday(day) >= 5 {
			day = calendar.AddDays(day, 1)
		}
		if _, err := g.gov.Schedule(ctx, g.p, governance.MeetingInput{BodyID: b.ID, Day: fmtDay(day), Start: "19:30", Length: 90,
			Place: "村委会会议室"}); err != nil {
			return err
		}
	}
	for _, dm := range g.matters {
		switch {
		case dm.m.ID == 0:
		case dm.m.Status == governance.MatterRejected:
			g.st.Rejected++
		case dm.m.Status == governance.MatterDone:
			g.st.Done++
		case dm.done == 0 && dm.reports > 0:
			g.st.Implementing++
		}
	}
	return nil
}

// people reads the village's adults (present on start).
func (g *govGen) people(ctx context.Context, start int) error {
	var ids []int64
	if err := g.reg.Reachable(ctx, g.village, g.village+999, func(id, _ int64) { ids = append(ids, id) }); err != nil {
		return err
	}
	for _, id := range ids {
		r, err := g.reg.Get(ctx, g.p, id)
		if err != nil {
			return err
		}
		if r.Status == registry.Present && r.Residency != registry.Migrant && r.AgeOn(start) >= 18 && r.AgeOn(start) < 80 {
			g.adults = append(g.adults, r)
		}
	}
	g.r.Shuffle(len(g.adults), func(i, j int) { g.adults[i], g.adults[j] = g.adults[j], g.adults[i] })
	return nil
}

// size is how many members the demo gives a body of kind k.
func (g *govGen) size(k policy.BodyKind) int {
	n := 5
	switch k.Key {
	case policy.BodyParty:
		n = 3 + g.r.IntN(3)
	case policy.BodyRepresentatives:
		n = min(27, len(g.adults)/3)
	case "assembly":
		n = min(60, len(g.adults)*2/3)
	case "supervision":
		n = 3
	case "group":
		return 0 // villager groups are not demo bodies
	}
	if k.MinMembers > 0 {
		n = max(n, k.MinMembers)
	}
	if k.MaxMembers > 0 {
		n = min(n, k.MaxMembers)
	}
	return min(n, len(g.adults))
}

func (g *govGen) makeBodies(ctx context.Context, start int) error {
	g.bodies = map[string]governance.Body{}
	termStart := calendar.AddDays(start, -400)
	used := map[int64]int{} // resident → bodies they sit on (cadres sit on two at most)
	for _, k := range g.rules.Bodies {
		n := g.size(k)
		if n == 0 {
			continue
		}
		in := governance.BodyInput{Division: g.village, Kind: k.Key, TermStart: fmtDay(termStart)}
		if k.Key == policy.BodyParty {
			in.PartyMembers = 20 + g.r.IntN(40)
		}
		b, err := g.gov.CreateBody(ctx, g.p, in)
		if err != nil {
			return err
		}
		g.st.Bodies++
		// Party members for the party organisation; anyone else elsewhere,
		// preferring those not yet on two bodies.
		picked := 0
		for pass := 0; pass < 3 && picked < n; pass++ {
			for _, r := range g.adults {
				if picked >= n {
					break
				}
				if used[r.ID] > pass || (k.Key == policy.BodyParty && !r.PartyMember && pass == 0) {
					continue
				}
				post := k.Posts[len(k.Posts)-1].Key
				switch {
				case picked == 0:
					post = k.ChairPost()
				case picked == 1 && len(k.Posts) > 2:
					post = k.Posts[1].Key
				}
				if _, err := g.gov.AddMember(ctx, g.p, b.ID, governance.MemberInput{ResidentID: r.ID, Post: post}); err != nil {
					var fe interface{ Error() string }
					if errors.As(err, &fe) && pass < 2 {
						continue // e.g. already a member: try the next one
					}
					return err
				}
				used[r.ID]++
				picked++
				g.st.Members++
			}
		}
		g.bodies[k.Key] = b
	}
	return nil
}

// cadence is the demo's meeting rhythm for a body kind in days.
func cadence(k policy.BodyKind) int {
	switch {
	case k.Key == "assembly":
		return 0 // meets for the documents only
	case k.Cadence == policy.EveryMonth:
		return 30
	case k.Cadence == policy.EveryQuarter || k.Cadence == "":
		return 45
	case k.Cadence == policy.EveryHalfYear:
		return 90
	}
	return 120
}

func (g *govGen) meetingsOn(ctx context.Context, day, start, docs int) error {
	for _, k := range g.rules.Bodies {
		b, ok := g.bodies[k.Key]
		if !ok {
			continue
		}
		c := cadence(k)
		meet := c > 0 && calendar.DaysBetween(start, day)%c == 7 && calendar.Weekday(day) < 5
		if k.Key == "assembly" && day == docs {
			meet = true
		}
		if !meet {
			continue
		}
		if err := g.meeting(ctx, k, b, day, day == docs && k.Key == "assembly"); err != nil {
			return err
		}
	}
	return nil
}

// meeting holds one meeting of b on day: attendance, the matters at its
// stage, a routine report, and for the villagers' meeting the documents.
func (g *govGen) meeting(ctx context.Context, k policy.BodyKind, b governance.Body, day int, documents bool) error {
	m, err := g.gov.Schedule(ctx, g.p, governance.MeetingInput{BodyID: b.ID, Day: fmtDay(day), Start: "19:30", Length: 90,
		Place: "村委会会议室"})
	if err != nil {
		return err
	}
	g.st.Meetings++
	members, err := g.gov.MeetingMembers(ctx, g.p, m.ID)
	if err != nil {
		return err
	}
	var att []governance.AttendanceInput
	present := 0
	// About one in ten stays away, never so many that the quorum fails
	// (the demo's meetings all resolve; the tests cover the rest).
	absent, canMiss := 0, len(members)-k.Quorum.Need(len(members))-1
	for _, mem := range members {
		status := "present"
		if g.r.IntN(10) == 0 && absent < canMiss {
			status = "absent"
			absent++
		} else {
			present++
		}
		att = append(att, governance.AttendanceInput{MemberID: mem.ID, Status: status})
	}
	if _, err := g.gov.RecordAttendance(ctx, g.p, m.ID, att); err != nil {
		return err
	}
	var items []governance.AgendaItem
	for _, dm := range g.matters {
		if dm.m.ID == 0 || dm.m.Status != governance.MatterOpen {
			continue
		}
		if _, err := g.gov.AddAgendaItem(ctx, g.p, m.ID, governance.AgendaInput{Title: dm.m.Title, MatterID: dm.m.ID}); err != nil {
			continue // not at a stage this body decides
		}
	}
	if documents {
		for _, d := range g.rules.Documents {
			if d.AdoptedBy == k.Key {
				if _, err := g.gov.AddAgendaItem(ctx, g.p, m.ID, governance.AgendaInput{Title: "审议《" + d.Label.Get("zh-CN") + "》"}); err != nil {
					return err
				}
			}
		}
	} else {
		if _, err := g.gov.AddAgendaItem(ctx, g.p, m.ID, governance.AgendaInput{Title: "通报近期村(居)务工作"}); err != nil {
			return err
		}
	}
	full, err := g.gov.GetMeeting(ctx, g.p, m.ID)
	if err != nil {
		return err
	}
	items = full.Agenda
	for _, it := range items {
		in := governance.VoteInput{Counted: true, For: present}
		var dm *demoMatter
		for _, x := range g.matters {
			if x.m.ID != 0 && x.m.ID == it.MatterID {
				dm = x
			}
		}
		if dm != nil && dm.reject {
			against := present/2 + 1
			in.For, in.Against = present-against, against
			in.Resolution = "经表决，" + dm.m.Title + "事项未获通过。"
		} else {
			abstain := g.r.IntN(2)
			in.For, in.Abstain = present-abstain, abstain
			in.Resolution = "经表决，同意" + it.Title + "。"
		}
		if _, _, err := g.gov.RecordVote(ctx, g.p, it.ID, in); err != nil {
			return err
		}
		g.st.Votes++
		if dm != nil {
			if dm.m, err = g.gov.Matter(ctx, g.p, dm.m.ID); err != nil {
				return err
			}
		}
		if documents && it.MatterID == 0 {
			if err := g.adopt(ctx, it, day); err != nil {
				return err
			}
		}
	}
	_, err = g.gov.SetMinutes(ctx, g.p, m.ID, "会议由"+members[0].Name+"主持，应到"+strconv.Itoa(len(members))+"人，实到"+
		strconv.Itoa(present)+"人。会议逐项审议了议程所列事项，表决结果见决议。")
	return err
}

// adopt records the document an assembly item adopted.
func (g *govGen) adopt(ctx context.Context, it governance.AgendaItem, day int) error {
	for _, d := range g.rules.Documents {
		if it.Title != "审议《"+d.Label.Get("zh-CN")+"》" {
			continue
		}
		text := "第一条 为推进村(居)民自治，依据《中华人民共和国村民委员会组织法》，结合本村实际，制定本" + d.Label.Get("zh-CN") +
			"。\n第二条 本村重大事项实行民主决策，由村(居)民代表会议讨论决定。\n第三条 村务、财务按规定定期公开，接受村(居)民监督。"
		_, err := g.gov.CreateDocument(ctx, g.p, governance.DocumentInput{Village: g.village, Kind: d.Key, Title: d.Label.Get("zh-CN"),
			Version: governance.VersionInput{Text: text, Note: "经" + fmtDay(day) + "会议表决通过", AgendaID: it.ID}})
		if err != nil {
			return err
		}
		g.st.Documents++
	}
	return nil
}

func (g *govGen) propose(ctx context.Context, dm *demoMatter, day int) error {
	pr, ok := g.rules.Procedure("")
	if !ok || len(pr.Stages) == 0 {
		return nil
	}
	x := demoMatters[g.titles[len(g.proposedTitles())%len(g.titles)]]
	in := governance.MatterInput{Village: g.village, Title: x.title, Budget: strconv.Itoa(x.budget),
		Description: "村民反映" + x.title + "的需求较为迫切，建议列入本年度议事事项。"}
	st := pr.Stages[0]
	if slices.Contains(st.Proposers, policy.ProposerResidents) {
		in.Proposer, in.ProposerName, in.Signatures = policy.ProposerResidents, g.adults[g.r.IntN(len(g.adults))].Name+"等村民", st.Signatures+g.r.IntN(20)
	} else {
		in.Proposer = st.Proposers[0]
	}
	if g.r.IntN(2) == 0 {
		in.GoalYear = day / 10000
	}
	m, err := g.gov.Propose(ctx, g.p, in)
	if err != nil {
		return err
	}
	dm.m = m
	g.st.Matters++
	return nil
}

// proposedTitles are the matters proposed so far.
func (g *govGen) proposedTitles() []string {
	var out []string
	for _, dm := range g.matters {
		if dm.m.ID != 0 {
			out = append(out, dm.m.Title)
		}
	}
	return out
}

// implementOn takes the implementation steps due on day.
func (g *govGen) implementOn(ctx context.Context, day int) error {
	for _, dm := range g.matters {
		if dm.m.ID == 0 || dm.m.Status != governance.MatterOpen {
			continue
		}
		pr, _ := g.rules.Procedure(dm.m.Procedure)
		stage, _, _ := pr.Stage(dm.m.Stage)
		switch stage.Kind {
		case policy.StageImplement:
			if err := g.implement(ctx, dm, day); err != nil {
				return err
			}
		case policy.StageEvaluate:
			if dm.done != 0 && calendar.DaysBetween(dm.done, day) == 45 {
				if err := g.evaluate(ctx, dm); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (g *govGen) act(ctx context.Context, dm *demoMatter, a governance.MatterAction) error {
	m, err := g.gov.ActOnMatter(ctx, g.p, dm.m.Number, a)
	if err != nil {
		return fmt.Errorf("%s %s: %w", dm.m.Number, a.Kind, err)
	}
	dm.m = m
	return nil
}

func (g *govGen) implement(ctx context.Context, dm *demoMatter, day int) error {
	switch {
	case dm.m.Responsible == "":
		if g.r.IntN(3) != 0 {
			return nil // assigned within a few days of the resolution
		}
		return g.act(ctx, dm, governance.MatterAction{Kind: governance.ActAssign, Responsible: "村(居)委会 " + g.adults[0].Name,
			Due: fmtDay(calendar.AddDays(day, 90)), Note: "由村(居)委会负责组织实施，按期完成。"})
	case g.r.IntN(15) != 0:
		return nil // a report every three weeks or so
	}
	pct := min(100, dm.m.Progress+20+g.r.IntN(25))
	spent := dm.m.Budget / 100 * int64(pct-dm.m.Progress) / 100
	if pct < 100 || dm.reports < 3 {
		pct = min(pct, 90)
		dm.reports++
		if err := g.act(ctx, dm, governance.MatterAction{Kind: governance.ActImplement, Percent: &pct,
			Spent: strconv.FormatInt(spent, 10), Note: "工程按计划推进，已完成" + strconv.Itoa(pct) + "%。"}); err != nil {
			return err
		}
		if dm.reports == 2 {
			ms, err := g.gov.UrgeMeetings(ctx, g.p, dm.m)
			if err == nil && len(ms) > 0 {
				return g.act(ctx, dm, governance.MatterAction{Kind: governance.ActUrge, MeetingID: ms[0].ID,
					Note: "代表会议听取实施情况汇报，督促按期完工、严格控制支出。"})
			}
		}
		return nil
	}
	dm.done = day
	return g.act(ctx, dm, governance.MatterAction{Kind: governance.ActComplete, Note: "工程已完工，经村(居)务监督委员会验收合格。"})
}

// evaluate collects residents' ratings from the portal and closes the
// evaluation.
func (g *govGen) evaluate(ctx context.Context, dm *demoMatter) error {
	for i := 0; i < 5+g.r.IntN(10); i++ {
		score := 3 + g.r.IntN(3)
		if err := g.gov.Rate(ctx, g.village, dm.m.Number, fmt.Sprintf("demo-%d-%d", dm.m.ID, i), score, ""); err != nil {
			return err
		}
	}
	return g.act(ctx, dm, governance.MatterAction{Kind: governance.ActEvaluate, Note: "年终评议完成。"})
}

// election runs the committee's election on day (its roll built two weeks
// before).
func (g *govGen) election(ctx context.Context, day int) error {
	k, ok := g.rules.Body(policy.BodyCommittee)
	if !ok {
		return nil
	}
	g.at(calendar.AddDays(day, -14))
	e, err := g.gov.CreateElection(ctx, g.p, governance.ElectionInput{Village: g.village, BodyKind: k.Key,
		Title: "第十二届" + k.Label.Get("zh-CN") + "换届选举", Day: fmtDay(day), Seats: 5})
	if err != nil {
		return err
	}
	if _, err := g.gov.BuildRoll(ctx, g.p, e.ID); err != nil {
		return err
	}
	voters, err := g.gov.Voters(ctx, g.p, e.ID, governance.VoterFilter{Limit: 500})
	if err != nil {
		return err
	}
	if len(voters.Voters) < 10 {
		return nil
	}
	for i := 0; i < 7; i++ {
		in := governance.CandidateInput{ResidentID: voters.Voters[i*len(voters.Voters)/7].ResidentID}
		if _, err := g.gov.AddCandidate(ctx, g.p, e.ID, in); err != nil {
			return err
		}
	}
	limit := g.rules.Elections.ProxyLimit
	if limit > 0 {
		_ = g.gov.SetProxy(ctx, g.p, e.ID, voters.Voters[len(voters.Voters)-1].ResidentID, voters.Voters[1].ResidentID)
	}
	g.at(day)
	voted := 0
	for _, v := range voters.Voters {
		if g.r.IntN(30) == 0 || v.TrusteeID != 0 {
			continue
		}
		n, err := g.gov.MarkVoted(ctx, g.p, e.ID, v.ResidentID)
		if err != nil {
			continue // voted already as a trustee's truster
		}
		voted += n
	}
	e, err = g.gov.GetElection(ctx, g.p, e.ID)
	if err != nil {
		return err
	}
	// Votes fall off by candidate, all distinct (no tie at the last seat);
	// reserved seats' candidates are the roll's, as any other.
	votes := map[int64]int{}
	ballots := e.Voted
	invalid := ballots / 50
	valid := ballots - invalid
	left := valid * e.Seats
	for i, c := range e.Candidates {
		n := min(valid*(95-i*9)/100, left)
		votes[c.ID] = max(n, 0)
		left -= votes[c.ID]
	}
	if _, err := g.gov.Count(ctx, g.p, e.ID, governance.CountInput{Ballots: ballots, Invalid: invalid, Votes: votes}); err != nil {
		return err
	}
	g.st.Elections++
	return nil
}

// finance enters the year's budget and assets on start and a year of
// entries.
func (g *govGen) finance(ctx context.Context, start int) error {
	f := g.rules.Finance
	if len(f.Categories) == 0 {
		return nil
	}
	year := start / 10000
	amounts := map[string]string{}
	for _, c := range f.Categories {
		amounts[disclosure.BudgetKey(c.Account, c.Key)] = strconv.Itoa((5 + g.r.IntN(40)) * 10000)
	}
	if _, err := g.disc.SetBudgets(ctx, g.p, g.village, year, amounts); err != nil {
		return err
	}
	if _, err := g.disc.SetBudgets(ctx, g.p, g.village, year+1, amounts); err != nil {
		return err
	}
	assets := []struct{ kind, name, qty string }{
		{"asset", "村委会办公楼", "860 m²"}, {"asset", "村民活动中心", "420 m²"}, {"fund", "村集体银行存款", ""},
		{"resource", "集体耕地(发包)", "320 亩"}, {"resource", "集体林地", "85 亩"}, {"asset", "标准厂房(出租)", "2400 m²"},
	}
	for _, a := range assets {
		if !slices.ContainsFunc(f.AssetKinds, func(k policy.GovKey) bool { return k.Key == a.kind }) {
			continue
		}
		in := disclosure.AssetInput{Village: g.village, Kind: a.kind, Name: a.name, Quantity: a.qty,
			Value: strconv.Itoa((20 + g.r.IntN(300)) * 10000), Status: "在用"}
		if _, err := g.disc.AddAsset(ctx, g.p, in); err != nil {
			return err
		}
	}
	// Entries: a few a month, each on a working day.
	for day := start; day <= g.today; day = calendar.AddDays(day, 1) {
		if calendar.Weekday(day) >= 5 || g.r.IntN(4) != 0 {
			continue
		}
		c := f.Categories[g.r.IntN(len(f.Categories))]
		amount := (2 + g.r.IntN(200)) * 100
		if c.Kind == policy.Income {
			amount *= 3
		}
		g.at(day)
		if _, err := g.disc.AddEntry(ctx, g.p, disclosure.EntryInput{Village: g.village, Account: c.Account, Category: c.Key,
			Day: fmtDay(day), Amount: strconv.Itoa(amount) + "." + strconv.Itoa(g.r.IntN(10)) + "0",
			Summary: c.Label.Get("zh-CN"), Voucher: "记-" + strconv.Itoa(day%10000)}); err != nil {
			return err
		}
		g.st.Entries++
	}
	g.at(start)
	return nil
}

// publish publishes last month's statement and, each quarter, a notice of
// the village's affairs.
func (g *govGen) publish(ctx context.Context, day int) error {
	prev := calendar.AddDays(day, -10)
	if item, ok := g.disc.FinanceItem(g.village); ok {
		period := disclosure.PeriodOf(item.Every, prev)
		if _, err := g.disc.PublishStatement(ctx, g.p, g.village, period.Key()); err == nil {
			g.st.Publications++
		}
	}
	if day/100%100%3 != 1 {
		return nil
	}
	for _, it := range g.rules.Disclosure {
		if it.Source != policy.SourceNotices || it.Every == policy.EveryEvent {
			continue
		}
		if it.Every == policy.EveryYear && day/100%100 != 1 {
			continue
		}
		period := disclosure.PeriodOf(it.Every, prev)
		_, err := g.disc.Publish(ctx, g.p, disclosure.NoticeInput{Village: g.village, Item: it.Key, Period: period.Key(),
			Title: it.Label.Get("zh-CN") + "（" + period.Key() + "）",
			Body:  "根据村务公开制度，现将" + period.Key() + "有关事项公布如下，接受全体村(居)民监督。如有疑问，请向村(居)务监督委员会反映。"})
		if err == nil {
			g.st.Publications++
		}
	}
	return nil
}
