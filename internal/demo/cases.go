package demo

// Demo cases (办件) of the service window: a few months of matters taken in
// at the windows of the demo county's villages and townships, in every
// state, so the desk, the case pages, the dashboard and the ledger have
// something to show.
//
// Everything goes through window.Service — intake, transfer, assignment,
// completion, the applicant's rating — with the service's clock moved to
// the moment of each step (Service.SetClock), so case numbers, deadlines,
// steps and the facts the dashboards read are what months of real use
// would have left. The applicants are residents of the registry (`shequ
// demo --residents N`), each at a window of the village or township where
// they live, or made-up walk-ins when the registry is empty. The catalogue
// is the one of the unit's policy pack. The same options, the same
// registry and the same day give the same cases.

import (
	"context"
	"errors"
	"fmt"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/window"
)

// CaseOptions control GenerateCases.
type CaseOptions struct {
	N    int   // cases to take in
	Seed int64 // same options, same registry, same day: same cases
	// Today is the day the demo is built: cases are taken in on the working
	// days of the Months months before it, and no step happens after it,
	// so the recent ones are still open (some overdue).
	Today  time.Time
	Months int   // default 6
	County int64 // default County (锡山区)
}

// CaseStats counts what GenerateCases left.
type CaseStats struct {
	Cases       int // recorded (numbers issued)
	Accepted    int
	Completed   int
	OnTime      int
	Open        int // accepted or handled, not yet completed
	Overdue     int // open and past the deadline on Today
	Waiting     int // waiting for materials (补正)
	Submitted   int // online or phone requests not yet accepted
	Rejected    int // 不予受理
	Transferred int // passed up to the township, the county or a department
	Returned    int // passed back down
	Agency      int // 代办
	Rated       int
	Walkins     int // applicants who are not in the registry
}

var china = time.FixedZone("CST", 8*3600)

func dayOf(t time.Time) int { return calendar.DayOf(t) }

func timeOf(day, minute int) time.Time {
	return time.Date(day/10000, time.Month(day/100%100), day%100, minute/60, minute%60, 0, 0, china)
}

// addDays is day (YYYYMMDD) plus n calendar days.
func addDays(day, n int) int { return dayOf(timeOf(day, 12*60).AddDate(0, 0, n)) }

// applicant is who brings a matter.
type applicant struct {
	resident int64 // 0 for a walk-in
	name     string
	phone    string // whole number: its last four digits rate the case
	village  int64
}

// caseGen holds what GenerateCases works with.
type caseGen struct {
	svc      *window.Service
	r        *rand.Rand
	cal      window.Calendar
	today    int
	clock    time.Time
	names    map[int64]string // unit → name
	town     map[int64]string // township code → name
	cats     map[int64]*window.Catalogue
	people   map[int64][]applicant // village → residents with a phone
	staff    []*access.Principal   // demo accounts, most specific scope first
	system   *access.Principal     // acts where no demo account does
	walkin   *generator            // names and phones of walk-ins
	stats    CaseStats
	villages []int64 // in code order
	nowMin   int     // minute of the day of Today: nothing happens after it
}

// Reasons and notes the staff write.
var (
	rejectReasons = []string{"不属于本窗口受理范围，已告知向有关部门申请", "申请人不符合申请条件", "同一事项已在办理中，不重复受理"}
	missingNotes  = []string{"缺少身份证复印件", "证明材料未盖章，请补充", "户口簿复印件不清晰，请重新提供"}
	denyReasons   = []string{"经核查不符合条件", "材料与实际情况不符"}
	returnNotes   = []string{"请村(社区)核实家庭情况后再报", "材料不全，退回补充"}
	ratingNotes   = []string{"", "", "", "办事效率高，态度好", "一次就办好了", "工作人员很耐心", "等的时间有点长"}
	sampleText    = map[string][]string{
		"appliance":   {"洗衣机", "电视机", "空调", "冰箱", "热水器", "电饭煲"},
		"course":      {"电工", "育婴员", "中式烹调", "电子商务", "叉车驾驶"},
		"desired_job": {"保洁", "仓库管理", "驾驶员", "保安", "纺织挡车工", "超市理货"},
		"destination": {"南京", "上海", "合肥", "北京", "郑州", "成都"},
		"facts":       {"与邻居因排水沟堵塞产生纠纷，多次协商未果。", "房屋漏水影响楼下住户，双方对维修费用有争议。", "土地承包边界不清，与邻户发生争执。"},
		"fault":       {"无法开机", "漏水", "制冷效果差", "有异响", "显示故障代码"},
		"goods":       {"复合肥 10 袋", "稻种 20 公斤", "农药 5 瓶"},
		"question":    {"养老保险怎么续缴？", "孩子入学需要准备哪些材料？", "医保异地报销怎么办理？", "房屋出租需要登记吗？"},
		"reason":      {"家庭成员患病住院，医疗费用负担重。", "主要劳动力失业，家庭收入下降。", "因意外事故导致家庭生活困难。"},
		"request":     {"出租一间房", "找一名钟点工", "求购二手电动车", "寻找附近的装修队"},
		"topic":       {"社会保险", "子女入学", "医疗保险", "房屋租赁", "就业政策"},
	}
)

// GenerateCases takes in o.N cases at the windows of the demo county and
// moves each through its life up to o.Today, all through svc (see the top
// of this file). acc finds the demo accounts (Build) that act at each
// unit; where none does, a system administrator acts. The service's clock
// is set back to time.Now when it returns: do not serve while it runs.
func GenerateCases(ctx context.Context, svc *window.Service, acc *access.Service, o CaseOptions) (CaseStats, error) {
	if o.N <= 0 {
		return CaseStats{}, nil
	}
	if o.Today.IsZero() {
		return CaseStats{}, errors.New("demo: CaseOptions.Today is required")
	}
	if o.Months <= 0 {
		o.Months = 6
	}
	if o.County == 0 {
		o.County = County
	}
	defer svc.SetClock(nil)
	ctx = audit.WithActor(ctx, audit.Actor{Name: "demo", Client: "cli"})
	cal, err := svc.Days(ctx)
	if err != nil {
		return CaseStats{}, err
	}
	g := &caseGen{svc: svc, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x53484551554341)), // "SHEQUCA"
		cal: cal, today: dayOf(o.Today), names: map[int64]string{}, town: map[int64]string{},
		cats: map[int64]*window.Catalogue{}, people: map[int64][]applicant{},
		system: &access.Principal{Username: "demo", DisplayName: "演示数据", Assignments: []access.Assignment{{Role: "system_admin"}}}}
	villages, err := DemoVillages(ctx, svc.Divisions, o.County)
	if err != nil {
		return CaseStats{}, err
	}
	if len(villages) == 0 {
		return CaseStats{}, fmt.Errorf("demo: county %d has no villages (build the demo first)", o.County)
	}
	t := o.Today.In(china)
	g.nowMin = t.Hour()*60 + t.Minute()
	for _, v := range villages {
		g.villages = append(g.villages, v.Code)
		g.names[v.Code] = v.Name
		g.town[division.Truncate(v.Code, division.LevelTownship)] = v.Township
	}
	for t, n := range g.town {
		g.names[t] = n
	}
	for _, n := range []string{"village", "town", "county", "admin"} {
		if u, err := acc.UserByName(ctx, n); err == nil && !u.Disabled {
			if p, err := acc.PrincipalOf(ctx, u.ID); err == nil {
				g.staff = append(g.staff, p)
			}
		}
	}
	if err := g.loadPeople(ctx, o.County); err != nil {
		return CaseStats{}, err
	}
	if g.walkin, err = newGenerator(ResidentOptions{N: 0, Seed: o.Seed, Today: o.Today, Villages: villages}); err != nil {
		return CaseStats{}, err
	}

	// the intake moments: working days of the months before today, office hours
	first := dayOf(o.Today.In(china).AddDate(0, -o.Months, 0))
	var days []int
	for d := cal.AddWorkingDays(addDays(first, -1), 1); d <= g.today; d = cal.AddWorkingDays(d, 1) {
		days = append(days, d)
	}
	if len(days) == 0 {
		return CaseStats{}, errors.New("demo: no working day in the months before today")
	}
	type slot struct{ day, minute int }
	slots := make([]slot, o.N)
	for i := range slots {
		slots[i] = slot{days[g.r.IntN(len(days))], 8*60 + 30 + g.r.IntN(8*60+30)}
		if g.future(slots[i].day, slots[i].minute) && len(days) > 1 {
			slots[i].day = days[len(days)-2] // not later today than now
		}
	}
	sort.Slice(slots, func(i, j int) bool {
		if slots[i].day != slots[j].day {
			return slots[i].day < slots[j].day
		}
		return slots[i].minute < slots[j].minute
	})
	for _, s := range slots {
		unit := g.villages[g.r.IntN(len(g.villages))]
		if g.r.IntN(100) < 15 { // the township's own service centre
			unit = division.Truncate(unit, division.LevelTownship)
		}
		if err := g.one(ctx, unit, s.day, s.minute); err != nil {
			return g.stats, err
		}
	}
	return g.stats, nil
}

// loadPeople gathers the residents with a phone, village by village, from
// the registry.
func (g *caseGen) loadPeople(ctx context.Context, county int64) error {
	lo, hi := division.Range(county, division.LevelCounty)
	return g.svc.Registry.Reachable(ctx, lo, hi, func(id, div int64) {
		v := division.Truncate(div, division.LevelVillage)
		g.people[v] = append(g.people[v], applicant{resident: id, village: v})
	})
}

// at moves the service's clock to day at minute past midnight.
func (g *caseGen) at(day, minute int) {
	g.clock = timeOf(day, minute)
	t := g.clock
	g.svc.SetClock(func() time.Time { return t })
}

// actor is the demo account that does perm at unit (the most specific).
func (g *caseGen) actor(perm string, unit int64) *access.Principal {
	for _, p := range g.staff {
		if p.CanAt(perm, unit) {
			return p
		}
	}
	return g.system
}

func (g *caseGen) catalogue(ctx context.Context, unit int64) (*window.Catalogue, error) {
	if c, ok := g.cats[unit]; ok {
		return c, nil
	}
	c, err := g.svc.Catalogue(ctx, unit)
	if err != nil {
		return nil, err
	}
	g.cats[unit] = c
	return c, nil
}

// pick returns one of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// applicantAt finds someone living under unit (a village, or a township's
// villages), a registered resident when there is one.
func (g *caseGen) applicantAt(ctx context.Context, p *access.Principal, unit int64) (applicant, error) {
	pool := g.people[unit]
	if division.LevelOf(unit) == division.LevelTownship {
		// someone from one of the township's villages
		lo, hi := division.Range(unit, division.LevelTownship)
		var vs []int64
		for _, v := range g.villages {
			if v >= lo && v <= hi && len(g.people[v]) > 0 {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			pool = g.people[pick(g.r, vs)]
		}
	}
	if len(pool) > 0 {
		a := pick(g.r, pool)
		r, enc, err := g.svc.Registry.Contact(ctx, p, a.resident)
		if err == nil && enc != "" {
			if ph, err := g.svc.Keys.Decrypt(enc); err == nil {
				a.name, a.phone = r.Name, ph
				return a, nil
			}
		}
	}
	// a walk-in: a name and a mobile number as the resident generator makes them
	g.stats.Walkins++
	var b [11]byte
	copy(b[:3], mobilePrefixes[mobileW.pick(g.r)].p)
	putDigits(b[3:], g.r.IntN(1e8))
	return applicant{name: g.walkinName(), phone: string(b[:]), village: unit}, nil
}

// fill writes the form of it as the clerk would: every required field, a
// value of the right kind; ok is false when the item needs a resident and
// there is none to name.
func (g *caseGen) fill(it window.Item, a applicant, day int) (map[string]string, []string, bool) {
	fields := map[string]string{}
	for _, f := range it.Fields {
		if !f.Required && g.r.IntN(3) > 0 {
			continue
		}
		var v string
		switch f.Type {
		case policy.FieldChoice:
			if len(f.Choices) == 0 {
				continue
			}
			v = pick(g.r, f.Choices).Key
		case policy.FieldNumber:
			lo, hi := int(f.Min), int(f.Max)
			if f.Min == 0 && f.Max == 0 {
				lo, hi = 1, 10
			}
			if hi > lo+20 && f.Max >= 1000 {
				hi = lo + (hi-lo)/100 // amounts and incomes: the low end
			}
			if float64(lo) < f.Min {
				lo++
			}
			v = strconv.Itoa(lo + g.r.IntN(max(1, hi-lo+1)))
		case policy.FieldDate:
			d := addDays(day, g.r.IntN(15))
			v = fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
		case policy.FieldResident:
			if a.resident == 0 {
				if !f.Required {
					continue
				}
				return nil, nil, false
			}
			v = strconv.FormatInt(a.resident, 10)
		default:
			switch {
			case strings.Contains(f.Key, "address"):
				v = shortVillageName(g.names[a.village]) + strconv.Itoa(1+g.r.IntN(12)) + "组" + strconv.Itoa(1+g.r.IntN(60)) + "号"
			case f.Key == "other_party":
				v = g.walkinName()
			default:
				if xs := sampleText[f.Key]; len(xs) > 0 {
					v = pick(g.r, xs)
				} else {
					v = f.Label.Get(policy.DefaultLocale)
				}
			}
			max := f.MaxLength
			if max == 0 {
				max = 500
			}
			if utf8.RuneCountInString(v) > max {
				v = string([]rune(v)[:max])
			}
		}
		fields[f.Key] = v
	}
	var mats []string
	for _, m := range it.Materials {
		if !m.Optional || g.r.IntN(2) == 0 {
			mats = append(mats, m.Key)
		}
	}
	return fields, mats, true
}

// walkinName is a name as the resident generator makes them.
func (g *caseGen) walkinName() string {
	w := g.walkin
	sur := w.d.surnames[w.d.surnameW.pick(g.r)]
	cohort := w.d.given[1+g.r.IntN(len(w.d.given)-1)][g.r.IntN(2)]
	return sur + pick(g.r, cohort.names)
}

// future reports whether day at minute is after the moment of Today.
func (g *caseGen) future(day, minute int) bool {
	return day > g.today || day == g.today && minute > g.nowMin
}

// chooseItem picks an item for a window: village windows mostly get the
// village's own services, township centres the matters decided higher up.
func (g *caseGen) chooseItem(cat *window.Catalogue, unit int64, channel string) (window.Item, bool) {
	var w weights
	items := cat.Enabled()
	village := division.LevelOf(unit) == division.LevelVillage
	for _, it := range items {
		x := 0
		switch it.Level {
		case policy.LevelVillage:
			x = 6
			if !village {
				x = 1
			}
		case policy.LevelTownship:
			x = 3
			if !village {
				x = 6
			}
		default:
			x = 2
			if !village {
				x = 3
			}
		}
		if channel == window.ChannelOnline && !it.Online {
			x = 0
		}
		w.add(x)
	}
	if len(items) == 0 || w.cum[len(w.cum)-1] == 0 {
		return window.Item{}, false
	}
	return items[w.pick(g.r)], true
}

// later is the moment n working days after day, in office hours (n 0: the
// same day, a little later than minute).
func (g *caseGen) later(day, minute, n int) (int, int) {
	if n <= 0 {
		return day, min(minute+10+g.r.IntN(120), 17*60+20)
	}
	return g.cal.AddWorkingDays(day, n), 8*60 + 40 + g.r.IntN(8*60)
}

// one takes in one matter at unit on day and moves it on until today.
func (g *caseGen) one(ctx context.Context, unit int64, day, minute int) error {
	cat, err := g.catalogue(ctx, unit)
	if err != nil {
		return err
	}
	channel := window.ChannelWindow
	switch x := g.r.IntN(100); {
	case x < 18:
		channel = window.ChannelPhone
	case x < 28:
		channel = window.ChannelOnline
	}
	it, ok := g.chooseItem(cat, unit, channel)
	if !ok {
		channel = window.ChannelWindow
		if it, ok = g.chooseItem(cat, unit, channel); !ok {
			return fmt.Errorf("demo: unit %d has no service items (is a pack with window.yaml bound to it?)", unit)
		}
	}
	clerk := g.actor("window.intake", unit)
	g.at(day, minute)
	a, err := g.applicantAt(ctx, clerk, unit)
	if err != nil {
		return err
	}
	if channel == window.ChannelOnline {
		a.resident = 0 // an online request names the applicant, it does not link the registry
	}
	fields, mats, ok := g.fill(it, a, day)
	for tries := 0; !ok && tries < 5; tries++ {
		if it, ok = g.chooseItem(cat, unit, channel); ok {
			fields, mats, ok = g.fill(it, a, day)
		}
	}
	if !ok {
		return nil // nothing this walk-in can apply for here
	}
	in := window.Intake{Unit: unit, ItemCode: it.Code, Channel: channel, ResidentID: a.resident, Name: a.name, Fields: fields, Materials: mats}
	if a.resident == 0 {
		in.Phone = a.phone
	}
	var c window.Case
	decision := window.DecideAccept
	switch x := g.r.IntN(100); {
	case x < 3:
		decision, in.Note = window.DecideReject, pick(g.r, rejectReasons)
	case x < 10 && len(it.Materials) > 0 && channel == window.ChannelWindow:
		decision, in.Note, in.Materials = window.DecideSupplement, pick(g.r, missingNotes), nil
	case x < 40 && channel == window.ChannelPhone:
		decision = window.DecideSubmit // the call is noted; the matter is accepted when the papers come in
	}
	if channel == window.ChannelWindow && it.Agency && division.LevelOf(unit) == division.LevelVillage && g.r.IntN(100) < 30 {
		in.Agency = true
	}
	in.Decision = decision
	if channel == window.ChannelOnline {
		in.Name, in.Phone = a.name, a.phone
		c, err = g.svc.IntakeOnline(ctx, in)
	} else {
		c, err = g.svc.Intake(ctx, clerk, in)
	}
	if err != nil {
		return fmt.Errorf("demo: intake of %s at %d: %w", it.Code, unit, err)
	}
	g.stats.Cases++

	// online requests and missing materials: accepted (or not) a few days later
	switch c.State {
	case window.StateRejected:
		g.stats.Rejected++
		return nil
	case window.StateSubmitted:
		d, m := g.later(day, minute, 1+g.r.IntN(8)) // requests wait in the queue a few days
		if g.future(d, m) {
			g.stats.Submitted++
			return nil
		}
		g.at(d, m)
		act := window.Action{Kind: window.ActAccept, Materials: allMaterials(it)}
		if g.r.IntN(100) < 5 {
			act = window.Action{Kind: window.ActReject, Note: pick(g.r, rejectReasons)}
		}
		if c, err = g.svc.Do(ctx, g.actor("window.intake", unit), c.ID, act); err != nil {
			return fmt.Errorf("demo: accept %s: %w", c.Number, err)
		}
		if c.State == window.StateRejected {
			g.stats.Rejected++
			return nil
		}
		day, minute = d, m
	case window.StateSupplement:
		d, m := g.later(day, minute, 1+g.r.IntN(6))
		if g.future(d, m) || g.r.IntN(100) < 8 {
			g.stats.Waiting++
			return nil
		}
		g.at(d, m)
		if c, err = g.svc.Do(ctx, g.actor("window.intake", unit), c.ID, window.Action{Kind: window.ActResume, Materials: allMaterials(it)}); err != nil {
			return fmt.Errorf("demo: resume %s: %w", c.Number, err)
		}
		day, minute = d, m
	}
	g.stats.Accepted++
	if c.Agency {
		g.stats.Agency++
	}

	// up to where the matter is decided
	steps := 0
	switch it.Level {
	case policy.LevelTownship:
		steps = 1
	case policy.LevelCounty:
		steps = 2
	}
	if division.LevelOf(unit) == division.LevelTownship && steps > 0 {
		steps--
	}
	toDept := it.Level == policy.LevelDepartment
	moved := false
	for i := 0; i < steps || toDept; i++ {
		d, m := g.later(day, minute, g.r.IntN(2))
		if g.future(d, m) {
			return g.open(c)
		}
		g.at(d, m)
		act := window.Action{Kind: window.ActTransfer, ToDepartment: toDept, Note: "转" + map[bool]string{true: "县级部门", false: "上级"}[toDept] + "办理"}
		if c, err = g.svc.Do(ctx, g.actor("window.handle", c.Holder), c.ID, act); err != nil {
			return fmt.Errorf("demo: transfer %s: %w", c.Number, err)
		}
		moved, toDept, day, minute = true, false, d, m
	}
	if moved {
		g.stats.Transferred++
	}

	// a few come back down for more facts, and go up again
	if moved && g.r.IntN(100) < 4 {
		d, m := g.later(day, minute, 1+g.r.IntN(2))
		if g.future(d, m) {
			return g.open(c)
		}
		g.at(d, m)
		if c, err = g.svc.Do(ctx, g.actor("window.handle", c.Holder), c.ID, window.Action{Kind: window.ActReturn, Note: pick(g.r, returnNotes)}); err != nil {
			return fmt.Errorf("demo: return %s: %w", c.Number, err)
		}
		g.stats.Returned++
		d, m = g.later(d, m, 1+g.r.IntN(3))
		if g.future(d, m) {
			return g.open(c)
		}
		g.at(d, m)
		act := window.Action{Kind: window.ActTransfer, ToDepartment: it.Level == policy.LevelDepartment, Note: "已补充，再次报送"}
		if c, err = g.svc.Do(ctx, g.actor("window.handle", c.Holder), c.ID, act); err != nil {
			return fmt.Errorf("demo: transfer %s again: %w", c.Number, err)
		}
		day, minute = d, m
	}

	// a handler takes it, where a demo account handles cases
	if p := g.actor("window.handle", c.Holder); !admin(p) && c.HolderLevel != policy.LevelDepartment && g.r.IntN(100) < 70 {
		d, m := g.later(day, minute, g.r.IntN(2))
		if g.future(d, m) {
			return g.open(c)
		}
		g.at(d, m)
		if c, err = g.svc.Do(ctx, p, c.ID, window.Action{Kind: window.ActAssign}); err != nil {
			return fmt.Errorf("demo: assign %s: %w", c.Number, err)
		}
		day, minute = d, m
	}

	// completion: most within the time limit, some late, a few stuck
	limit := max(c.TimeLimit, 1)
	var n int
	switch x := g.r.IntN(100); {
	case x < 2:
		return g.open(c) // stuck: still open, overdue once its deadline passes
	case x < 12:
		n = limit + 1 + g.r.IntN(4)
	default:
		n = g.r.IntN(limit + 1)
		if n > limit/2 && g.r.IntN(2) == 0 {
			n = g.r.IntN(limit/2 + 1) // most are done early
		}
	}
	d, m := g.later(c.AcceptedDay, minute, n)
	if d < day || d == day && m < minute {
		d, m = g.later(day, minute, 0)
	}
	if g.future(d, m) {
		return g.open(c)
	}
	g.at(d, m)
	act := window.Action{Kind: window.ActComplete, Outcome: window.OutcomeApproved, Note: "已办结"}
	if g.r.IntN(100) < 5 {
		act.Outcome, act.Note = window.OutcomeDenied, pick(g.r, denyReasons)
	}
	if c, err = g.svc.Do(ctx, g.actor("window.handle", c.Holder), c.ID, act); err != nil {
		return fmt.Errorf("demo: complete %s: %w", c.Number, err)
	}
	g.stats.Completed++
	if c.OnTime {
		g.stats.OnTime++
	}

	// the applicant rates it, mostly well
	if g.r.IntN(100) >= 55 || a.phone == "" {
		return nil
	}
	rd, rm := g.later(d, m, g.r.IntN(3))
	if g.future(rd, rm) {
		return nil
	}
	g.at(rd, rm)
	level := 5
	switch x := g.r.IntN(100); {
	case x < 2:
		level = 1
	case x < 5:
		level = 2
	case x < 14:
		level = 3
	case x < 38:
		level = 4
	}
	if !c.OnTime && level > 3 && g.r.IntN(2) == 0 {
		level--
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, a.phone)
	if len(digits) < 4 {
		return nil
	}
	if _, err := g.svc.Rate(ctx, c.Number, digits[len(digits)-4:], level, pick(g.r, ratingNotes)); err != nil {
		return fmt.Errorf("demo: rate %s: %w", c.Number, err)
	}
	g.stats.Rated++
	return nil
}

// admin reports whether p is a system administrator (who does not take
// cases as a handler).
func admin(p *access.Principal) bool {
	return slices.ContainsFunc(p.Assignments, func(a access.Assignment) bool { return a.Role == "system_admin" })
}

// open counts a case left running on today.
func (g *caseGen) open(c window.Case) error {
	g.stats.Open++
	if c.Overdue(g.today) {
		g.stats.Overdue++
	}
	return nil
}

func allMaterials(it window.Item) []string {
	out := []string{}
	for _, m := range it.Materials {
		out = append(out, m.Key)
	}
	return out
}
