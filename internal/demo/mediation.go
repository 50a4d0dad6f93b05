package demo

// Demo disputes (人民调解): a few months of disputes brought to the
// mediation committees of the demo county's villages and townships, each
// with its sessions and its end — most settled with an agreement (SX-9's
// communities report 53 settled), some not, a few referred to a court or a
// department or withdrawn — and the follow-up visits after a settlement, so
// the mediation list, the dispute pages, the printable agreements and the
// figures ("settled in the village", DG-16, XS-12) have something to show.
//
// Like the demo cases (cases.go), everything goes through
// mediation.Service with its clock moved to the moment of each step
// (Service.SetClock), so numbers, audit entries and facts are what months
// of real use would have left. The parties are residents of the registry
// where there are some (`shequ demo --residents N`), else made-up outsiders;
// the demo accounts act where they may, a system administrator elsewhere.
// The same options, the same registry and the same day give the same
// disputes.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

// DisputeOptions control GenerateDisputes.
type DisputeOptions struct {
	N    int   // disputes to register
	Seed int64 // same options, same registry, same day: same disputes
	// Today is the day the demo is built: disputes are registered on the
	// weekdays of the Months months before it, and no step happens after
	// it, so the recent ones are still being mediated.
	Today  time.Time
	Months int   // default 6
	County int64 // default County (锡山区)
}

// DisputeStats counts what GenerateDisputes left.
type DisputeStats struct {
	Disputes  int // registered
	Township  int // registered at a township's committee rather than a village's
	Open      int // still being mediated on Today
	Settled   int
	Failed    int
	Referred  int
	Withdrawn int
	Sessions  int
	Visits    int
	Breached  int // visits that found the agreement not kept
	Outsiders int // parties who are not in the registry
}

// disputeGen holds what GenerateDisputes works with.
type disputeGen struct {
	svc       *mediation.Service
	r         *rand.Rand
	today     int
	nowMin    int
	staff     []*access.Principal
	system    *access.Principal
	walkin    *generator
	people    map[int64][]int64  // village → residents
	mediators map[int64][]string // unit → its mediators
	names     map[int64]string   // unit → name
	villages  []int64            // with dispute types, in code order
	towns     map[int64]bool     // townships with dispute types
	stats     DisputeStats
}

// What mediators write, by dispute type ("other" for a type the demo does
// not know).
var disputeTexts = map[string]struct {
	summary, terms, performance []string
}{
	"neighbour": {
		summary: []string{"两家因院墙外排水沟堵塞、雨水倒灌发生争执，多次协商未果。", "楼上住户装修噪音影响楼下老人休息，双方多次争吵。",
			"一方在公共通道堆放杂物，影响邻居通行，双方发生口角。"},
		terms:       []string{"一、被申请人于十日内疏通排水沟并清理淤泥；\n二、今后排水沟由双方共同维护。", "一、被申请人装修施工限于每日8时至12时、14时至18时；\n二、被申请人向申请人赔礼道歉。", "一、被申请人于三日内清理通道杂物；\n二、双方今后互谅互让，和睦相处。"},
		performance: []string{"被申请人于协议签订之日起十日内履行完毕，村调委会负责督促。", "自协议签订之日起执行。"},
	},
	"family": {
		summary:     []string{"赡养纠纷：老人年迈多病，三名子女对赡养费分担意见不一。", "夫妻因家庭琐事长期不和，女方回娘家居住，要求分割共同财产。"},
		terms:       []string{"一、三名子女每人每月支付赡养费600元；\n二、老人医疗费用凭票据由三人平均分担；\n三、老人由长子照料，其他子女每月至少探望一次。", "一、双方同意和好，共同抚养子女；\n二、家庭收支由双方共同商量。"},
		performance: []string{"赡养费于每月5日前转入老人账户，首期于协议签订当月履行。", "自协议签订之日起履行。"},
	},
	"land": {
		summary:     []string{"两户承包地相邻，因田埂边界不清发生争执。", "宅基地翻建时一方越界约半米，另一方要求拆除。"},
		terms:       []string{"一、以村委会存档的承包地确权图为准重新确定边界；\n二、由村委会埋设界桩，费用双方各半。", "一、申请人在原址翻建，不得越过确权界线；\n二、已越界部分于一个月内拆除。"},
		performance: []string{"于协议签订之日起十五日内由村委会现场确界并埋设界桩。", "一个月内拆除完毕，村调委会现场验收。"},
	},
	"labour": {
		summary:     []string{"申请人在被申请人的装修队务工三个月，被拖欠工资8600元。", "工人在厂内受轻伤，与厂方就误工费、医疗费协商未果。"},
		terms:       []string{"被申请人支付申请人拖欠工资8600元。", "厂方一次性支付医疗费、误工费合计12000元，双方再无其他争议。"},
		performance: []string{"被申请人于2026年春节前分两次付清，每次4300元。", "厂方于协议签订之日起七日内一次性付清。"},
	},
	"property": {
		summary:     []string{"业主以电梯经常故障为由拒交物业费，物业公司要求补交一年物业费。", "小区停车位分配引发业主与物业公司矛盾。"},
		terms:       []string{"一、物业公司于一个月内完成电梯大修；\n二、业主补交物业费，物业公司减免两个月费用。", "一、停车位按业主登记先后顺序分配；\n二、物业公司公示分配结果。"},
		performance: []string{"电梯修复验收后十日内，业主一次性补交物业费。", "物业公司于十五日内公示并执行。"},
	},
	"damages": {
		summary:     []string{"被申请人饲养的狗咬伤申请人，双方就医疗费赔偿发生争议。", "电动车与行人碰撞，行人受伤住院，双方对赔偿金额有分歧。"},
		terms:       []string{"被申请人赔偿申请人医疗费、误工费共计3200元。", "被申请人赔偿医疗费、护理费、误工费等共计9500元，申请人不再追究。"},
		performance: []string{"被申请人于协议签订时当场支付。", "被申请人于协议签订之日起十日内付清。"},
	},
	"other": {
		summary:     []string{"双方因借款归还问题发生纠纷。", "因合伙经营小店散伙后财物分配发生争执。"},
		terms:       []string{"被申请人归还借款20000元。", "店内剩余货物及设备折价8000元，由申请人取得，申请人支付被申请人4000元。"},
		performance: []string{"分四个月归还，每月5000元，于每月月底前付清。", "于协议签订之日起五日内付清。"},
	},
}

var (
	disputeSessionNotes = []string{"分别听取双方陈述，调解员释法说理，双方情绪有所缓和。", "组织双方面对面协商，双方各让一步，初步形成调解意见。",
		"邀请村民小组长、老党员参与调解，现场查看，核实情况。", "双方对赔偿金额仍有分歧，约定下次继续调解。"}
	disputeVillagePlaces  = []string{"村委会调解室", "纠纷现场", "当事人家中"}
	disputeTownshipPlaces = []string{"镇人民调解委员会调解室", "司法所调解室"}
	disputeFailReasons    = []string{"双方分歧较大，经多次调解未能达成协议，已告知当事人可依法向人民法院起诉。",
		"被申请人拒绝调解，已告知申请人可通过诉讼途径解决。"}
	disputeReferTargets  = []string{"锡山区人民法院", "区劳动人事争议仲裁委员会", "区市场监督管理局", "镇综合执法局"}
	disputeReferReasons  = []string{"涉及权属确认，需通过诉讼解决。", "属于劳动争议，依法移交仲裁。", "涉及行政处理事项，移交主管部门。"}
	disputeWithdrawNotes = []string{"双方已自行和解，申请人撤回调解申请。", "申请人决定直接向法院起诉，撤回调解申请。"}
	disputeVisitNotes    = []string{"回访双方，协议已按约履行，双方关系融洽。", "电话回访，申请人表示款项已收到。", "现场回访，整改已完成。"}
	disputeBreachNotes   = []string{"回访发现被申请人尚未按约付款，已督促其履行。", "整改未完成，已约定一周内完成。"}
)

// GenerateDisputes registers o.N disputes at the mediation committees of the
// demo county's villages and townships and moves each through its life up to
// o.Today, all through svc (see the top of this file). acc finds the demo
// accounts (Build) that act at each unit; where none does, a system
// administrator acts. Units whose policy pack has no dispute types are left
// out (an error when that is every unit). The service's clock is set back
// to time.Now when it returns: do not serve while it runs.
func GenerateDisputes(ctx context.Context, svc *mediation.Service, acc *access.Service, o DisputeOptions) (DisputeStats, error) {
	if o.N <= 0 {
		return DisputeStats{}, nil
	}
	if o.Today.IsZero() {
		return DisputeStats{}, errors.New("demo: DisputeOptions.Today is required")
	}
	if o.Months <= 0 {
		o.Months = 6
	}
	if o.County == 0 {
		o.County = County
	}
	defer svc.SetClock(nil)
	ctx = audit.WithActor(ctx, audit.Actor{Name: "demo", Client: "cli"})
	g := &disputeGen{svc: svc, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x5348455155544a)), // "SHEQUTJ"
		today: dayOf(o.Today), people: map[int64][]int64{}, mediators: map[int64][]string{}, names: map[int64]string{},
		towns:  map[int64]bool{},
		system: &access.Principal{Username: "demo", DisplayName: "演示数据", Assignments: []access.Assignment{{Role: "system_admin"}}}}
	t := o.Today.In(china)
	g.nowMin = t.Hour()*60 + t.Minute()
	villages, err := DemoVillages(ctx, svc.Divisions, o.County)
	if err != nil {
		return DisputeStats{}, err
	}
	if len(villages) == 0 {
		return DisputeStats{}, fmt.Errorf("demo: county %d has no villages (build the demo first)", o.County)
	}
	for _, v := range villages {
		town := division.Truncate(v.Code, division.LevelTownship)
		g.names[v.Code], g.names[town] = v.Name, v.Township
		if len(svc.Types(v.Code)) > 0 {
			g.villages = append(g.villages, v.Code)
		}
		if len(svc.Types(town)) > 0 {
			g.towns[town] = true
		}
	}
	if len(g.villages) == 0 {
		return DisputeStats{}, fmt.Errorf("demo: no policy pack of county %d defines dispute types (grid.yaml)", o.County)
	}
	for _, n := range []string{"village", "town", "county", "admin"} {
		if u, err := acc.UserByName(ctx, n); err == nil && !u.Disabled {
			if p, err := acc.PrincipalOf(ctx, u.ID); err == nil {
				g.staff = append(g.staff, p)
			}
		}
	}
	lo, hi := division.Range(o.County, division.LevelCounty)
	if err := svc.Registry.Reachable(ctx, lo, hi, func(id, div int64) {
		v := division.Truncate(div, division.LevelVillage)
		g.people[v] = append(g.people[v], id)
	}); err != nil {
		return DisputeStats{}, err
	}
	if g.walkin, err = newGenerator(ResidentOptions{N: 0, Seed: o.Seed, Today: o.Today, Villages: villages}); err != nil {
		return DisputeStats{}, err
	}

	// the registration moments: weekdays of the months before today, office hours
	first := dayOf(t.AddDate(0, -o.Months, 0))
	var days []int
	for d := first; d <= g.today; d = addDays(d, 1) {
		if wd := timeOf(d, 0).Weekday(); wd != time.Saturday && wd != time.Sunday {
			days = append(days, d)
		}
	}
	if len(days) == 0 {
		return DisputeStats{}, errors.New("demo: no weekday in the months before today")
	}
	type slot struct{ day, minute int }
	slots := make([]slot, o.N)
	for i := range slots {
		slots[i] = slot{days[g.r.IntN(len(days))], 8*60 + 30 + g.r.IntN(8*60)}
		if g.future(slots[i].day, slots[i].minute) {
			slots[i].minute = min(g.nowMin, slots[i].minute) // not later today than now
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
		if town := division.Truncate(unit, division.LevelTownship); g.towns[town] && g.r.IntN(100) < 15 {
			unit = town // brought to the township's committee (司法所)
		}
		if err := g.one(ctx, unit, s.day, s.minute); err != nil {
			return g.stats, err
		}
	}
	return g.stats, nil
}

// at moves the service's clock to day at minute past midnight.
func (g *disputeGen) at(day, minute int) {
	t := timeOf(day, minute)
	g.svc.SetClock(func() time.Time { return t })
}

// future reports whether day at minute is after the moment of Today.
func (g *disputeGen) future(day, minute int) bool {
	return day > g.today || day == g.today && minute > g.nowMin
}

// later is a moment 1 to n days after day, in office hours.
func (g *disputeGen) later(day, n int) (int, int) {
	return addDays(day, 1+g.r.IntN(max(n, 1))), 8*60 + 30 + g.r.IntN(8*60)
}

// actor is the demo account that manages mediation at unit (the most specific).
func (g *disputeGen) actor(unit int64) *access.Principal {
	for _, p := range g.staff {
		if p.CanAt(mediation.PermManage, unit) {
			return p
		}
	}
	return g.system
}

// name is a made-up name as the resident generator makes them.
func (g *disputeGen) name() string {
	w := g.walkin
	sur := w.d.surnames[w.d.surnameW.pick(g.r)]
	cohort := w.d.given[1+g.r.IntN(len(w.d.given)-1)][g.r.IntN(2)]
	return sur + pick(g.r, cohort.names)
}

// mediatorsOf are a unit's two or three mediators, the same every time.
func (g *disputeGen) mediatorsOf(unit int64) []string {
	if m, ok := g.mediators[unit]; ok {
		return m
	}
	m := []string{g.name(), g.name()}
	if division.LevelOf(unit) == division.LevelTownship || g.r.IntN(2) == 0 {
		m = append(m, g.name())
	}
	g.mediators[unit] = m
	return m
}

// outsider is a party not in the registry: a name, a mobile number, and
// sometimes an ID number.
func (g *disputeGen) outsider(side string) mediation.PartyInput {
	g.stats.Outsiders++
	var b [11]byte
	copy(b[:3], mobilePrefixes[mobileW.pick(g.r)].p)
	putDigits(b[3:], g.r.IntN(1e8))
	p := mediation.PartyInput{Side: side, Name: g.name(), Phone: string(b[:])}
	if g.r.IntN(100) < 40 {
		birth := addDays(19600101, g.r.IntN(40*365))
		id := fmt.Sprintf("320205%08d%03d", birth, g.r.IntN(1000))
		p.IDNumber = id + string(idnum.CheckDigit(id))
	}
	return p
}

// parties are an applicant and a respondent, residents of the unit's
// villages where there are some, now and then a third party.
func (g *disputeGen) parties(unit int64) []mediation.PartyInput {
	var pool []int64
	if division.LevelOf(unit) == division.LevelTownship {
		lo, hi := division.Range(unit, division.LevelTownship)
		for v, ids := range g.people {
			if v >= lo && v <= hi {
				pool = append(pool, ids...)
			}
		}
		sort.Slice(pool, func(i, j int) bool { return pool[i] < pool[j] })
	} else {
		pool = g.people[unit]
	}
	used := map[int64]bool{}
	one := func(side string, residentShare int) mediation.PartyInput {
		if len(pool) > 1 && g.r.IntN(100) < residentShare {
			for tries := 0; tries < 5; tries++ {
				id := pool[g.r.IntN(len(pool))]
				if !used[id] {
					used[id] = true
					return mediation.PartyInput{Side: side, ResidentID: id}
				}
			}
		}
		return g.outsider(side)
	}
	out := []mediation.PartyInput{one(mediation.SideApplicant, 90), one(mediation.SideRespondent, 70)}
	if g.r.IntN(100) < 10 {
		out = append(out, one(mediation.SideOther, 50))
	}
	return out
}

// one registers a dispute at unit on day and moves it on until today.
func (g *disputeGen) one(ctx context.Context, unit int64, day, minute int) error {
	types := g.svc.Types(unit)
	typ := types[g.r.IntN(len(types))].Key
	texts, ok := disputeTexts[typ]
	if !ok {
		texts = disputeTexts["other"]
	}
	p := g.actor(unit)
	g.at(day, minute)
	mediators := g.mediatorsOf(unit)
	d, err := g.svc.Register(ctx, p, mediation.Input{Unit: unit, Type: typ, Summary: pick(g.r, texts.summary),
		Mediators: mediators[:2+g.r.IntN(len(mediators)-1)], Parties: g.parties(unit)})
	if err != nil {
		return fmt.Errorf("demo: dispute at %d: %w", unit, err)
	}
	g.stats.Disputes++
	township := division.LevelOf(unit) == division.LevelTownship
	if township {
		g.stats.Township++
	}
	open := func() error { g.stats.Open++; return nil }

	// withdrawn before anything happened
	if g.r.IntN(100) < 4 {
		dd, mm := g.later(day, 10)
		if g.future(dd, mm) {
			return open()
		}
		g.at(dd, mm)
		if _, err := g.svc.Do(ctx, p, d.ID, mediation.Action{Kind: mediation.ActWithdraw, Note: pick(g.r, disputeWithdrawNotes)}); err != nil {
			return fmt.Errorf("demo: withdraw %s: %w", d.Number, err)
		}
		g.stats.Withdrawn++
		return nil
	}

	// one to three sessions, a few days apart
	places := disputeVillagePlaces
	if township {
		places = disputeTownshipPlaces
	}
	n := 1 + g.r.IntN(3)
	for i := 0; i < n; i++ {
		dd, mm := day, min(minute+30+g.r.IntN(90), 17*60+30)
		if i > 0 || g.r.IntN(2) == 0 {
			dd, mm = g.later(day, 7)
		}
		if g.future(dd, mm) {
			return open()
		}
		g.at(dd, mm)
		if _, err := g.svc.Do(ctx, p, d.ID, mediation.Action{Kind: mediation.ActSession, Place: pick(g.r, places),
			Note: pick(g.r, disputeSessionNotes)}); err != nil {
			return fmt.Errorf("demo: session of %s: %w", d.Number, err)
		}
		g.stats.Sessions++
		day, minute = dd, mm
	}

	// the end: most settle
	end := mediation.Action{Kind: mediation.ActSettle, Outcome: "经调解，双方自愿达成如下协议。", Agreement: pick(g.r, texts.terms),
		Performance: pick(g.r, texts.performance)}
	switch x := g.r.IntN(100); {
	case x < 10:
		end = mediation.Action{Kind: mediation.ActFail, Note: pick(g.r, disputeFailReasons)}
	case x < 17:
		end = mediation.Action{Kind: mediation.ActRefer, ReferredTo: pick(g.r, disputeReferTargets), Note: pick(g.r, disputeReferReasons)}
	case x < 20:
		end = mediation.Action{Kind: mediation.ActWithdraw, Note: pick(g.r, disputeWithdrawNotes)}
	}
	dd, mm := day, min(minute+20, 17*60+40)
	if g.r.IntN(3) == 0 {
		dd, mm = g.later(day, 5)
	}
	if g.future(dd, mm) || g.r.IntN(100) < 3 { // a few drag on
		return open()
	}
	g.at(dd, mm)
	if _, err := g.svc.Do(ctx, p, d.ID, end); err != nil {
		return fmt.Errorf("demo: %s %s: %w", end.Kind, d.Number, err)
	}
	switch end.Kind {
	case mediation.ActFail:
		g.stats.Failed++
		return nil
	case mediation.ActRefer:
		g.stats.Referred++
		return nil
	case mediation.ActWithdraw:
		g.stats.Withdrawn++
		return nil
	}
	g.stats.Settled++

	// follow-up visits: most within a month, a second one for some
	for i := 0; i < 2; i++ {
		if i == 1 && g.r.IntN(100) < 60 {
			break
		}
		vd, vm := g.later(dd, 30)
		if g.future(vd, vm) {
			break
		}
		g.at(vd, vm)
		holding := g.r.IntN(100) < 92
		note := pick(g.r, disputeVisitNotes)
		if !holding {
			note = pick(g.r, disputeBreachNotes)
			g.stats.Breached++
		}
		if _, err := g.svc.Do(ctx, p, d.ID, mediation.Action{Kind: mediation.ActVisit, Holding: &holding, Note: note}); err != nil {
			return fmt.Errorf("demo: visit %s: %w", d.Number, err)
		}
		g.stats.Visits++
		dd = vd
	}
	return nil
}

// String is the stats in one line, for the demo command's output.
func (s DisputeStats) String() string {
	return strings.Join([]string{
		"disputes " + strconv.Itoa(s.Disputes), "open " + strconv.Itoa(s.Open), "settled " + strconv.Itoa(s.Settled),
		"failed " + strconv.Itoa(s.Failed), "referred " + strconv.Itoa(s.Referred), "withdrawn " + strconv.Itoa(s.Withdrawn),
		"sessions " + strconv.Itoa(s.Sessions), "visits " + strconv.Itoa(s.Visits),
	}, ", ")
}
