package demo

// Demo incidents (网格事件): a few months of problems grid workers reported
// in the demo county's grids, each moved through its life — register,
// dispatch, handle, the on-the-spot check, close, the evaluation, with the
// detours real incidents take (rejected reports and duplicates, returns,
// suspensions, extensions, rework, escalation of overdue ones) — so the grid
// desk, the map, the incident pages and the figures ("xx % settled in the
// village", DG-16, XS-12) have something to show.
//
// Like the demo cases (cases.go), everything goes through grid.Service with
// its clock moved to the moment of each step (Service.SetClock), so numbers,
// deadlines, steps, audit entries and facts are what months of real use
// would have left. Grid workers are in-memory principals bound to their
// grids, except the demo's own `grid` account, which reports in its grid
// under its own name; village and township staff likewise, except where
// the demo's `village` and `town` accounts are the staff. The same
// options, the same registry and the same day give the same incidents.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// IncidentOptions control GenerateIncidents.
type IncidentOptions struct {
	N    int   // incidents to report
	Seed int64 // same options, same registry, same day: same incidents
	// Today is the day the demo is built: incidents are reported on the
	// working days of the Months months before it, and no step happens
	// after it, so the recent ones are still open in every state.
	Today  time.Time
	Months int   // default 4
	County int64 // default County (锡山区)
}

// IncidentStats counts what GenerateIncidents (or the incidents found on
// patrols, GeneratePatrols) left.
type IncidentStats struct {
	Incidents int // reported
	ByStaff   int // reported at a desk (a resident's call) rather than by a grid worker
	// Final states on Today.
	Reported, Registered, Dispatched, Handled, Verified, Suspended, Closed, Rejected int
	Duplicates                                                                       int // rejected as duplicates of an earlier open incident
	ClosedVillage                                                                    int // closed by the village itself
	OnTime                                                                           int // closed, handled within the time limit
	Overdue                                                                          int // dispatched and past the deadline on Today
	Escalated                                                                        int // passed up to the township when overdue
	Extended                                                                         int
	Returned                                                                         int // sent back by the township or a department as not theirs
	Reworked                                                                         int // failed the on-the-spot check once
	Resumed                                                                          int // suspended, then resumed
	Rated                                                                            int
}

// VillageShare is the share of closed incidents closed in the village, in
// per cent (0 when none is closed).
func (s IncidentStats) VillageShare() float64 {
	if s.Closed == 0 {
		return 0
	}
	return float64(s.ClosedVillage) * 100 / float64(s.Closed)
}

// Add adds o's counts to s (the incidents of GenerateIncidents and those
// found on patrols, say).
func (s *IncidentStats) Add(o IncidentStats) {
	s.Incidents += o.Incidents
	s.ByStaff += o.ByStaff
	s.Reported += o.Reported
	s.Registered += o.Registered
	s.Dispatched += o.Dispatched
	s.Handled += o.Handled
	s.Verified += o.Verified
	s.Suspended += o.Suspended
	s.Closed += o.Closed
	s.Rejected += o.Rejected
	s.Duplicates += o.Duplicates
	s.ClosedVillage += o.ClosedVillage
	s.OnTime += o.OnTime
	s.Overdue += o.Overdue
	s.Escalated += o.Escalated
	s.Extended += o.Extended
	s.Returned += o.Returned
	s.Reworked += o.Reworked
	s.Resumed += o.Resumed
	s.Rated += o.Rated
}

// Kinds of incident the demo tells apart, found from a category's name
// (every shipped pack names its categories alike): what is written about
// it, how often it happens, how it is dealt with.
const (
	kindRubbish   = "rubbish"
	kindDrain     = "drain"
	kindManhole   = "manhole"
	kindLight     = "light"
	kindRoad      = "road"
	kindTree      = "tree"
	kindFlypost   = "flypost"
	kindVending   = "vending"
	kindBuilding  = "building"
	kindFireLane  = "fire_lane"
	kindRental    = "rental"
	kindNeighbour = "neighbour"
	kindWage      = "wage"
	kindHelp      = "help"
	kindOther     = "other"
)

// kindWords find a category's kind in its zh-CN name, first match wins.
var kindWords = []struct{ kind, words string }{
	{kindRubbish, "垃圾"}, {kindDrain, "排水 下水 污水 化粪"}, {kindManhole, "井盖 窨井"}, {kindLight, "路灯 照明"},
	{kindRoad, "道路 路面"}, {kindTree, "树 绿化"}, {kindFlypost, "广告 乱贴 涂"}, {kindVending, "占道 摊"},
	{kindBuilding, "搭建 违建"}, {kindFireLane, "消防"}, {kindRental, "出租"}, {kindNeighbour, "邻里"},
	{kindWage, "劳资 工资"}, {kindHelp, "困难 求助 帮扶"},
}

func kindOf(c policy.IncidentCategory) string {
	name := c.Name.Get("zh-CN")
	for _, k := range kindWords {
		for _, w := range strings.Fields(k.words) {
			if strings.Contains(name, w) {
				return k.kind
			}
		}
	}
	return kindOther
}

// kindWeights are how often each kind is reported in a village (rural) and
// a community (urban), per mille-ish: rubbish, drains, lights and
// flyposting are the daily bread; illegal building and wage disputes rare.
var kindWeights = map[string][2]int{
	kindRubbish: {240, 200}, kindDrain: {140, 110}, kindLight: {120, 110}, kindFlypost: {110, 170},
	kindManhole: {50, 60}, kindRoad: {50, 35}, kindTree: {45, 30}, kindVending: {35, 80},
	kindFireLane: {30, 80}, kindRental: {30, 35}, kindNeighbour: {45, 40}, kindHelp: {40, 30},
	kindBuilding: {18, 8}, kindWage: {8, 6}, kindOther: {20, 20},
}

// household kinds concern one household (it is named on the incident).
var householdKinds = map[string]bool{kindRental: true, kindNeighbour: true, kindHelp: true}

// What people write.
var (
	descriptions = map[string][]string{
		kindRubbish: {"%s有生活垃圾堆放，未及时清运，已有异味", "%s垃圾桶满溢，周边散落垃圾", "%s路边有人倾倒建筑垃圾约两立方米",
			"%s河边漂浮垃圾较多，需要打捞", "%s绿化带内白色垃圾较多"},
		kindDrain: {"%s雨水口被落叶杂物堵塞，下雨后路面积水", "%s排水沟淤塞，污水漫到路面", "%s化粪池满溢，污水外流，气味较大",
			"%s下水道堵塞，几户人家排水不畅"},
		kindManhole:  {"%s窨井盖破损，存在安全隐患", "%s雨水井盖缺失，已临时放置警示物", "%s井盖松动，车辆经过有异响"},
		kindLight:    {"%s路灯不亮已有三天，晚上出行不便", "%s有两盏路灯夜间不亮", "%s路灯白天常亮", "%s路灯灯杆倾斜，灯罩脱落"},
		kindRoad:     {"%s路面坑洼破损，电动车通行危险", "%s路面开裂塌陷约三平方米", "%s人行道地砖松动破损多块"},
		kindTree:     {"%s行道树被风吹倒，挡住半幅道路", "%s有一棵枯死的树木，有倒伏危险", "%s树枝压到电线，需要修剪"},
		kindFlypost:  {"%s墙面和电线杆上贴满小广告", "%s楼道内有乱涂乱画的办证电话", "%s公交站台被贴满开锁、疏通小广告"},
		kindVending:  {"%s有流动摊贩占道经营，影响通行", "%s商铺出店经营，货物占用人行道", "%s早市摊位占用机动车道"},
		kindBuilding: {"%s有住户在院内新建彩钢棚，疑似违法搭建", "%s有住户在屋顶加盖房屋", "%s有人在河道管理范围内搭建简易房"},
		kindFireLane: {"%s消防通道被私家车长期占用", "%s楼道内堆放杂物和电动车，堵塞安全出口", "%s有人在楼道内给电动车充电，存在火灾隐患"},
		kindRental:   {"%s出租房内私拉电线给电动车充电", "%s出租屋群租，人员较多，缺少消防器材", "%s出租屋内使用液化气罐，无安全防护"},
		kindNeighbour: {"%s住户与邻居因宅基地边界发生争执", "%s住户反映楼上漏水，双方协商未果", "%s住户与邻居因噪音问题多次发生口角",
			"%s住户与邻居因排水沟走向产生矛盾"},
		kindWage:  {"%s附近一家小厂拖欠十余名工人工资", "%s外来务工人员反映包工头拖欠工钱两个月"},
		kindHelp:  {"%s独居老人行动不便，生活困难，需要帮扶", "%s一户家庭主要劳动力患病住院，生活困难", "%s残疾人家庭房屋漏雨，需要帮助维修"},
		kindOther: {"%s发现问题，需要处置"},
	}
	handleNotes = map[string][]string{
		kindRubbish:   {"已通知保洁员清运完毕", "垃圾已清理，周边已冲洗干净"},
		kindDrain:     {"已组织人员疏通，排水恢复正常", "已清掏淤泥，恢复通畅"},
		kindManhole:   {"已更换新井盖", "已安装井盖并加固"},
		kindLight:     {"已更换灯具，路灯恢复照明", "已修复线路，路灯正常"},
		kindRoad:      {"已修补路面", "已对坑洼处铺设沥青修复"},
		kindTree:      {"已清理倒伏树木，道路恢复通行", "已修剪树枝，隐患消除"},
		kindFlypost:   {"已清除小广告并粉刷墙面", "已铲除小广告"},
		kindVending:   {"已劝离摊贩，恢复通行", "已告知店主规范经营，货物已收回店内"},
		kindBuilding:  {"已责令当事人自行拆除，现场已拆除", "已下达整改通知，违建已拆除"},
		kindFireLane:  {"已联系车主挪车，通道畅通", "已清理楼道杂物，安全出口畅通"},
		kindRental:    {"已督促房东整改，私拉电线已拆除", "已配备灭火器，隐患消除"},
		kindNeighbour: {"经村调委会调解，双方达成一致", "已上门调解，双方和解"},
		kindWage:      {"经协调，企业已支付拖欠工资", "已督促用人单位结清工资"},
		kindHelp:      {"已为其申请临时救助并上门慰问", "已联系志愿者定期上门帮扶"},
		kindOther:     {"已处置完毕"},
	}
	placesRural = []string{"村口", "桥头", "河边", "%d组路口", "%d组", "村委会门口", "村道边", "老年活动室旁", "公交站台", "农贸市场旁"}
	placesUrban = []string{"小区%d幢楼下", "%d幢北侧", "小区大门口", "菜场门口", "小区停车场", "沿街商铺前", "公交站台", "健身广场"}
	nearWords   = []string{"门口", "附近", "东侧", "西侧", "南面", "北面", "旁"}

	incidentRejects = []string{"经核实不属于网格事件受理范围，已告知当事人向有关部门反映", "现场核实情况不属实",
		"当事人已自行处理完毕，无需立案", "属小区物业内部事务，已引导通过物业解决"}
	reworkNotes     = []string{"现场核查仍未处理到位，请重新处置", "核查发现问题反复，需彻底整改"}
	suspendNotes    = []string{"需等待产权单位确认维修责任", "雨天无法施工，待天晴后处置", "需采购配件，暂缓处置", "当事人外出，待返回后处理"}
	extendNotes     = []string{"需协调多个部门，申请延期", "工程量较大，申请延长处置时限", "配件需从厂家订购，申请延期"}
	incidentReturns = []string{"经核实属村（社区）自治范围，退回村处理", "不属于本单位职责，退回重新派遣"}
	escalateNotes   = []string{"超期未处置，提级督办", "村级无力处置，已超期，提交镇（街道）处理"}
	rateNotes       = []string{"", "", "", "处理及时", "很满意", "网格员认真负责", "处理速度有点慢"}
)

// unitHouses is one grid (or a village without grids) and its households.
type unitHouses struct {
	code, village int64
	urban         bool
	households    []registry.HouseholdRow
	placed        []int // indices of households with a point
}

// record is an incident reported earlier, for duplicates.
type record struct {
	number   string
	category string
	unit     int64
	pos      *geo.Point
	address  string
	open     [2]int // [from, to) as day*10000+minute; to 0: open on Today
}

// gridGen holds what GenerateIncidents and GeneratePatrols work with.
type gridGen struct {
	svc    *grid.Service
	seed   uint64
	r      *rand.Rand
	cal    *calendar.Calendar
	today  int
	nowMin int
	days   []int // the working days of the months before today

	units    []*unitHouses                   // grids (and villages without grids), in code order
	weights  weights                         // units by households
	names    map[int64]string                // village → short name
	workers  map[int64]*access.Principal     // unit → its grid worker
	village  map[int64]*access.Principal     // village → its staff
	town     map[int64]*access.Principal     // township → its staff
	depts    map[string]*access.Principal    // county department → its staff
	cats     map[*policy.Grid][]categoryPick // per pack
	catW     map[*policy.Grid][2]weights     // per pack: rural, urban
	people   *generator                      // names of handlers and workers
	records  map[int64][]record              // village → incidents reported so far
	stats    IncidentStats
	system   *access.Principal
	nextUser int64
}

type categoryPick struct {
	cat  policy.IncidentCategory
	kind string
}

// newGridGen prepares a generator over the county's grids: their
// households (with points), their workers, the staff of every unit.
func newGridGen(ctx context.Context, svc *grid.Service, acc *access.Service, seed int64, stream uint64, today time.Time, months int, county int64) (*gridGen, error) {
	cal, err := svc.Days(ctx)
	if err != nil {
		return nil, err
	}
	t := today.In(china)
	g := &gridGen{svc: svc, seed: uint64(seed), r: rand.New(rand.NewPCG(uint64(seed), stream)), cal: cal, today: dayOf(t), nowMin: t.Hour()*60 + t.Minute(),
		names: map[int64]string{}, workers: map[int64]*access.Principal{},
		village: map[int64]*access.Principal{}, town: map[int64]*access.Principal{}, depts: map[string]*access.Principal{},
		cats: map[*policy.Grid][]categoryPick{}, catW: map[*policy.Grid][2]weights{}, records: map[int64][]record{},
		system: &access.Principal{Username: "demo", DisplayName: "演示数据", Assignments: []access.Assignment{{Role: "system_admin"}}}}
	villages, err := DemoVillages(ctx, svc.Divisions, county)
	if err != nil {
		return nil, err
	}
	if len(villages) == 0 {
		return nil, fmt.Errorf("demo: county %d has no villages (build the demo first)", county)
	}
	if g.people, err = newGenerator(ResidentOptions{Seed: seed, Today: today, Villages: villages}); err != nil {
		return nil, err
	}
	first := dayOf(t.AddDate(0, -months, 0))
	for d := cal.AddWorkingDays(addDays(first, -1), 1); d <= g.today; d = cal.AddWorkingDays(d, 1) {
		g.days = append(g.days, d)
	}
	if len(g.days) == 0 {
		return nil, errors.New("demo: no working day in the months before today")
	}

	// the demo's own accounts, where they are the worker or the staff
	own := map[string]*access.Principal{}
	for _, n := range []string{"grid", "village", "town"} {
		if u, err := acc.UserByName(ctx, n); err == nil && !u.Disabled {
			if p, err := acc.PrincipalOf(ctx, u.ID); err == nil && len(p.Assignments) > 0 {
				own[n] = p
			}
		}
	}
	towns := map[int64]string{}
	g.nextUser = 1_000_000
	for _, v := range villages {
		g.names[v.Code] = shortVillageName(v.Name)
		towns[division.Truncate(v.Code, division.LevelTownship)] = v.Township
		codes := slices.Clone(v.Grids)
		slices.Sort(codes)
		if len(codes) == 0 {
			codes = []int64{v.Code}
		}
		for _, c := range codes {
			u := &unitHouses{code: c, village: v.Code, urban: v.Urban}
			g.units = append(g.units, u)
			if p := own["grid"]; p != nil && p.Assignments[0].Division == c {
				g.workers[c] = p
			} else if c != v.Code {
				g.workers[c] = g.fake("grid", c, "grid_worker", "网格员"+g.workerName(c))
			}
		}
		if p := own["village"]; p != nil && p.Assignments[0].Division == v.Code {
			g.village[v.Code] = p
		} else {
			g.village[v.Code] = g.fake("village", v.Code, "village_staff", g.names[v.Code]+"网格工作站")
		}
		if g.workers[v.Code] == nil && len(v.Grids) == 0 {
			g.workers[v.Code] = g.village[v.Code] // no grids: the village reports itself
		}
	}
	for _, t := range slices.Sorted(maps.Keys(towns)) {
		if p := own["town"]; p != nil && p.Assignments[0].Division == t {
			g.town[t] = p
		} else {
			g.town[t] = g.fake("town", t, "township_staff", towns[t]+"网格化服务管理中心")
		}
	}
	slices.SortFunc(g.units, func(a, b *unitHouses) int { return cmp.Compare(a.code, b.code) })

	// the households of every unit, with their points
	for _, u := range g.units {
		rows, err := householdsOf(ctx, svc.Registry, g.system, u.code, map[int64]bool{})
		if err != nil {
			return nil, err
		}
		if u.code == u.village {
			rows = slices.DeleteFunc(rows, func(h registry.HouseholdRow) bool { return h.Grid != 0 })
		}
		u.households = rows
		for i, h := range rows {
			if h.Lat != nil && h.Lon != nil {
				u.placed = append(u.placed, i)
			}
		}
		w := 2 + len(rows)
		if p := own["grid"]; p != nil && g.workers[u.code] == p {
			w = 5*w + 10 // the worker people log in as: a busy one
		}
		g.weights.add(w)
	}
	return g, nil
}

// fake is an in-memory principal acting for a unit in the demo (no account
// behind it; its user id is made up and stable).
func (g *gridGen) fake(prefix string, unit int64, role, name string) *access.Principal {
	g.nextUser++
	return &access.Principal{UserID: g.nextUser, Username: prefix + "-" + strconv.FormatInt(unit, 10), DisplayName: name,
		Assignments: []access.Assignment{{Role: role, Division: unit}}}
}

// personName is a name as the resident generator makes them.
func (g *gridGen) personName() string { return g.nameFrom(g.r) }

func (g *gridGen) nameFrom(r *rand.Rand) string {
	w := g.people
	sur := w.d.surnames[w.d.surnameW.pick(r)]
	cohort := w.d.given[1+r.IntN(2)][r.IntN(2)] // born 1960–1999
	return sur + pick(r, cohort.names)
}

// workerName is the name of the grid worker of unit: the same in every
// generator (incidents, patrols) for the same seed.
func (g *gridGen) workerName(unit int64) string {
	return g.nameFrom(rand.New(rand.NewPCG(g.seed, mix(uint64(unit)))))
}

// dept is the staff of a county department.
func (g *gridGen) dept(county int64, name string) *access.Principal {
	if p, ok := g.depts[name]; ok {
		return p
	}
	p := g.fake("dept", county, "county_staff", name)
	g.depts[name] = p
	return p
}

// categories returns the categories of the pack governing unit, with their
// kinds and weights.
func (g *gridGen) categories(unit int64) ([]categoryPick, [2]weights, error) {
	rules := g.svc.Rules(unit)
	if rules == nil || len(rules.Categories) == 0 {
		return nil, [2]weights{}, fmt.Errorf("demo: unit %d has no incident categories (is a pack with grid.yaml bound to it?)", unit)
	}
	if cs, ok := g.cats[rules]; ok {
		return cs, g.catW[rules], nil
	}
	var cs []categoryPick
	var w [2]weights
	for _, c := range rules.Categories {
		k := kindOf(c)
		cs = append(cs, categoryPick{c, k})
		w[0].add(kindWeights[k][0])
		w[1].add(kindWeights[k][1])
	}
	g.cats[rules], g.catW[rules] = cs, w
	return cs, w, nil
}

// at moves the service's clock to day at minute past midnight.
func (g *gridGen) at(day, minute int) {
	t := timeOf(day, minute)
	g.svc.SetClock(func() time.Time { return t })
}

// future reports whether day at minute is after the moment of Today.
func (g *gridGen) future(day, minute int) bool {
	return day > g.today || day == g.today && minute > g.nowMin
}

// later is a moment in office hours n working days after day (n 0: the
// same day, a little after minute, or the next working morning when the
// office has closed).
func (g *gridGen) later(day, minute, n int) (int, int) {
	if n <= 0 {
		if m := minute + 10 + g.r.IntN(150); m <= 17*60+20 {
			return day, m
		}
		return g.cal.AddWorkingDays(day, 1), 8*60 + 30 + g.r.IntN(90)
	}
	return g.cal.AddWorkingDays(day, n), 8*60 + 30 + g.r.IntN(8*60+30)
}

// place is where in the village something is, in words.
func (g *gridGen) place(urban bool) string {
	ps := placesRural
	if urban {
		ps = placesUrban
	}
	p := pick(g.r, ps)
	if strings.Contains(p, "%d") {
		p = fmt.Sprintf(p, 1+g.r.IntN(15))
	}
	return p
}

// what is a report of a kind at unit: the description, the address, the
// position and the household (when one is concerned and known).
func (g *gridGen) what(u *unitHouses, kind string, house int) (desc, addr string, pos *geo.Point, household int64) {
	place := g.place(u.urban)
	named := house >= 0 // the household is where it is
	if house < 0 && len(u.placed) > 0 {
		house = pick(g.r, u.placed) // the worker's phone knows where it is: near some house
		named = g.r.IntN(100) < 85
	}
	addr = g.names[u.village] + place
	if house >= 0 {
		h := u.households[house]
		if named {
			addr = h.Address + pick(g.r, nearWords)
		}
		if h.Lat != nil && h.Lon != nil {
			metres := 80.0
			if householdKinds[kind] {
				metres = 8
			}
			p := near(geo.Point{Lat: *h.Lat, Lon: *h.Lon}, g.r.Uint64(), metres)
			pos = &p
		}
		if householdKinds[kind] && named {
			household, place = h.ID, h.HouseNo
			if place == "" {
				place = "一户居民家"
			}
		}
	}
	desc = fmt.Sprintf(pick(g.r, descriptions[kind]), place)
	return desc, addr, pos, household
}

// GenerateIncidents reports o.N incidents in the grids of the demo county
// and moves each through its life up to o.Today, all through svc (see the
// top of this file). acc finds the demo accounts (Build). The households
// should have points (PlaceHouseholds) for incidents to have positions.
// The service's clock is set back to time.Now when it returns: do not serve
// while it runs.
func GenerateIncidents(ctx context.Context, svc *grid.Service, acc *access.Service, o IncidentOptions) (IncidentStats, error) {
	if o.N <= 0 {
		return IncidentStats{}, nil
	}
	if o.Today.IsZero() {
		return IncidentStats{}, errors.New("demo: IncidentOptions.Today is required")
	}
	if o.Months <= 0 {
		o.Months = 4
	}
	if o.County == 0 {
		o.County = County
	}
	defer svc.SetClock(nil)
	ctx = audit.WithActor(ctx, audit.Actor{Name: "demo", Client: "cli"})
	g, err := newGridGen(ctx, svc, acc, o.Seed, 0x5348455155494e43, o.Today, o.Months, o.County) // "SHEQUINC"
	if err != nil {
		return IncidentStats{}, err
	}
	type slot struct {
		day, minute int
		unit        *unitHouses
	}
	slots := make([]slot, o.N)
	for i := range slots {
		s := slot{g.days[g.r.IntN(len(g.days))], 7*60 + 50 + g.r.IntN(10*60), g.units[g.weights.pick(g.r)]}
		if g.future(s.day, s.minute) {
			s.minute = max(7*60+50, g.nowMin-g.r.IntN(60)) // not later today than now
			if g.future(s.day, s.minute) && len(g.days) > 1 {
				s.day = g.days[len(g.days)-2]
			}
		}
		slots[i] = s
	}
	sort.SliceStable(slots, func(i, j int) bool {
		if slots[i].day != slots[j].day {
			return slots[i].day < slots[j].day
		}
		return slots[i].minute < slots[j].minute
	})
	// a few dozen incidents a transaction: the same steps, far fewer commits
	for len(slots) > 0 {
		chunk := slots[:min(batchSize/8, len(slots))]
		slots = slots[len(chunk):]
		err := svc.DB.Tx(ctx, func(ctx context.Context) error {
			for _, s := range chunk {
				if err := g.incident(ctx, s.unit, s.day, s.minute); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return g.stats, err
		}
	}
	return g.stats, nil
}

// batchSize is about how many changes the generators commit at once: every
// change is still its own service call, with its own steps, audit entry and
// facts, but SQLite commits a few hundred of them together much faster than
// one by one.
const batchSize = 400

// incident reports one incident at unit on day and moves it on.
func (g *gridGen) incident(ctx context.Context, u *unitHouses, day, minute int) error {
	cats, cw, err := g.categories(u.code)
	if err != nil {
		return err
	}
	// now and then a second report of an earlier incident nearby that is
	// still open
	var dup *record
	if g.r.IntN(100) < 4 {
		moment := day*10000 + minute
		rs := g.records[u.village]
		for i := len(rs) - 1; i >= 0 && dup == nil; i-- {
			if r := &rs[i]; r.unit == u.code && r.open[0] < moment && (r.open[1] == 0 || r.open[1] > moment) {
				dup = r
			}
		}
	}
	var c categoryPick
	if dup != nil {
		i := slices.IndexFunc(cats, func(x categoryPick) bool { return x.cat.Code == dup.category })
		if i < 0 {
			dup = nil
		} else {
			c = cats[i]
		}
	}
	if dup == nil {
		w := cw[0]
		if u.urban {
			w = cw[1]
		}
		c = cats[w.pick(g.r)]
		if m := day / 100 % 100; m >= 6 && m <= 9 && c.kind != kindDrain && g.r.IntN(100) < 12 {
			// the rainy season (梅雨, typhoons): more blocked drains
			if i := slices.IndexFunc(cats, func(x categoryPick) bool { return x.kind == kindDrain }); i >= 0 {
				c = cats[i]
			}
		}
	}
	desc, addr, pos, household := g.what(u, c.kind, -1)
	rep := grid.Report{Division: u.code, Category: c.cat.Code, Description: desc, Address: addr, HouseholdID: household, Source: grid.SourceWorker}
	p := g.workers[u.code]
	if g.r.IntN(100) < 9 || p == nil {
		// a resident called the village office
		p, rep.Source = g.village[u.village], grid.SourceStaff
		rep.Description = "群众来电反映：" + rep.Description
		g.stats.ByStaff++
	} else {
		rep.ClientKey = "demo-" + strconv.FormatUint(g.r.Uint64(), 36) // the phone's draft key
	}
	if dup != nil {
		rep.Address, rep.HouseholdID, pos = dup.address, 0, nil
		if dup.pos != nil {
			pt := near(*dup.pos, g.r.Uint64(), 20)
			pos = &pt
		}
	}
	if pos != nil {
		rep.Lat, rep.Lon = &pos.Lat, &pos.Lon
	}
	g.at(day, minute)
	in, err := g.svc.ReportIncident(ctx, p, rep)
	if err != nil {
		return fmt.Errorf("demo: report %s at %d: %w", rep.Category, u.code, err)
	}
	return g.life(ctx, u, in, c.kind, day, minute, dup)
}

// walk is one incident on its way: where it is and when.
type walk struct {
	g           *gridGen
	ctx         context.Context
	in          grid.Incident
	day, minute int
}

// next moves the clock n working days on (see later); false when that is
// after Today's moment (nothing more happens to the incident).
func (w *walk) next(n int) bool {
	d, m := w.g.later(w.day, w.minute, n)
	if w.g.future(d, m) {
		return false
	}
	w.day, w.minute = d, m
	w.g.at(d, m)
	return true
}

// until moves the clock to the working day day (the same moment of the
// day, or later when day is today); false when that is after Today.
func (w *walk) until(day int) bool {
	if day <= w.day {
		return w.next(0)
	}
	m := 8*60 + 30 + w.g.r.IntN(8*60+30)
	if w.g.future(day, m) {
		return false
	}
	w.day, w.minute = day, m
	w.g.at(day, m)
	return true
}

func (w *walk) do(p *access.Principal, a grid.Action) error {
	in, err := w.g.svc.Do(w.ctx, p, w.in.ID, a)
	if err != nil {
		return fmt.Errorf("demo: %s %s: %w", a.Kind, w.in.Number, err)
	}
	w.in = in
	return nil
}

// holder is who acts for the unit holding the incident.
func (g *gridGen) holder(in grid.Incident) *access.Principal {
	switch in.HolderLevel {
	case grid.LevelTownship:
		if p := g.town[in.Holder]; p != nil {
			return p
		}
	case grid.LevelDepartment:
		return g.dept(in.Holder, in.Department)
	default:
		if p := g.village[in.Holder]; p != nil {
			return p
		}
	}
	return g.system
}

// life moves an incident reported at day, minute through its life until it
// ends or Today comes, and counts where it ends.
func (g *gridGen) life(ctx context.Context, u *unitHouses, in grid.Incident, kind string, day, minute int, dup *record) error {
	g.stats.Incidents++
	w := &walk{g: g, ctx: ctx, in: in, day: day, minute: minute}
	rec := record{number: in.Number, category: in.Category, unit: u.code, address: in.Address, open: [2]int{day*10000 + minute, 0}}
	if in.Lat != nil && in.Lon != nil {
		rec.pos = &geo.Point{Lat: *in.Lat, Lon: *in.Lon}
	}
	err := g.run(w, kind, dup)
	if err != nil {
		return err
	}
	if !w.in.Open() {
		rec.open[1] = w.day*10000 + w.minute
	}
	if w.in.State != grid.StateRejected {
		g.records[u.village] = append(g.records[u.village], rec)
	}
	g.count(w.in)
	return nil
}

// count tallies the incident's state on Today.
func (g *gridGen) count(in grid.Incident) {
	st := &g.stats
	switch in.State {
	case grid.StateReported:
		st.Reported++
	case grid.StateRegistered:
		st.Registered++
	case grid.StateDispatched:
		st.Dispatched++
		if in.Overdue(g.today) {
			st.Overdue++
		}
	case grid.StateHandled:
		st.Handled++
	case grid.StateVerified:
		st.Verified++
	case grid.StateSuspended:
		st.Suspended++
	case grid.StateRejected:
		st.Rejected++
	case grid.StateClosed:
		st.Closed++
		if in.ClosedLevel == grid.LevelVillage {
			st.ClosedVillage++
		}
		if in.OnTime {
			st.OnTime++
		}
		if in.Rating != 0 {
			st.Rated++
		}
	}
}

// run is the incident's life; it returns nil when the incident stops,
// whether closed or still open on Today.
func (g *gridGen) run(w *walk, kind string, dup *record) error {
	in := &w.in
	staff := g.village[in.Village()]
	worker := g.workers[in.Division]
	if worker == nil {
		worker = staff
	}

	// register (or reject) at the village, mostly the same day
	if !w.next(g.r.IntN(100) / 70) {
		return nil
	}
	switch {
	case dup != nil:
		g.stats.Duplicates++
		return w.do(staff, grid.Action{Kind: grid.ActReject, DuplicateOf: dup.number, Note: "重复上报，已并入" + dup.number + "处理"})
	case g.r.IntN(100) < 3:
		return w.do(staff, grid.Action{Kind: grid.ActReject, Note: pick(g.r, incidentRejects)})
	}
	if err := w.do(staff, grid.Action{Kind: grid.ActRegister}); err != nil {
		return err
	}

	// dispatch: small matters stay in the village
	cat, _ := g.svc.Rules(in.Division).Category(in.Category)
	level := cat.Level
	switch x := g.r.IntN(100); level {
	case grid.LevelTownship:
		if x < 78 {
			level = grid.LevelVillage // the village sees to it itself
		}
	case grid.LevelDepartment:
		if x < 25 {
			level = grid.LevelVillage
		}
	}
	if !w.next(g.r.IntN(100) / 80) {
		return nil
	}
	dispatch := func(level string) error {
		a := grid.Action{Kind: grid.ActDispatch, Level: level}
		if level == grid.LevelVillage && g.r.IntN(100) < 60 {
			a.HandlerName = g.personName()
		}
		if level == grid.LevelVillage && cat.Level != grid.LevelVillage {
			a.Days = max(1, min(cat.TimeLimit, 5))
		}
		return w.do(staff, a)
	}
	if err := dispatch(level); err != nil {
		return err
	}

	// a few come back: not the township's or the department's job
	if in.HolderLevel != grid.LevelVillage && g.r.IntN(100) < 6 {
		if !w.next(g.r.IntN(2)) {
			return nil
		}
		if err := w.do(g.holder(*in), grid.Action{Kind: grid.ActReturn, Note: pick(g.r, incidentReturns)}); err != nil {
			return err
		}
		g.stats.Returned++
		if !w.next(g.r.IntN(2)) {
			return nil
		}
		if err := dispatch(grid.LevelVillage); err != nil {
			return err
		}
	}

	// handling: most within the time limit, some late, a few stuck
	limit := max(in.TimeLimit, 1)
	start := w.day
	switch x := g.r.IntN(100); {
	case x < 3 && g.cal.WorkingDaysBetween(start, g.today) < 20:
		// a few stuck: suspended for a long time, or simply not done
		if x < 2 && w.next(g.r.IntN(2)) {
			return w.do(g.holder(*in), grid.Action{Kind: grid.ActSuspend, Note: pick(g.r, suspendNotes)})
		}
		return nil
	case x < 7:
		// suspended for a while (some for weeks), then resumed
		if !w.next(g.r.IntN(max(1, limit))) {
			return nil
		}
		if err := w.do(g.holder(*in), grid.Action{Kind: grid.ActSuspend, Note: pick(g.r, suspendNotes)}); err != nil {
			return err
		}
		wait := 2 + g.r.IntN(9)
		if g.r.IntN(4) == 0 {
			wait = 10 + g.r.IntN(30)
		}
		if !w.next(wait) {
			return nil
		}
		if err := w.do(g.holder(*in), grid.Action{Kind: grid.ActResume, Note: "条件具备，恢复处置"}); err != nil {
			return err
		}
		g.stats.Resumed++
		if !w.next(g.r.IntN(limit/2 + 1)) {
			return nil
		}
	case x < 11:
		// more time asked for before the deadline
		if !w.next(g.r.IntN(limit)) {
			return nil
		}
		ext := 2 + g.r.IntN(4)
		if err := w.do(staff, grid.Action{Kind: grid.ActExtend, Days: ext, Note: pick(g.r, extendNotes)}); err != nil {
			return err
		}
		g.stats.Extended++
		if !w.until(g.cal.AddWorkingDays(start, limit+g.r.IntN(ext+1))) {
			return nil
		}
	case x < 24:
		// late: past the deadline; an overdue village matter is often
		// taken up by the township
		late := 1 + g.r.IntN(4)
		if in.HolderLevel == grid.LevelVillage && late >= 2 && g.r.IntN(100) < 45 {
			if !w.until(g.cal.AddWorkingDays(in.Deadline, 1)) {
				return nil
			}
			up := g.town[division.Truncate(in.Village(), division.LevelTownship)]
			if err := w.do(up, grid.Action{Kind: grid.ActEscalate, Note: pick(g.r, escalateNotes)}); err != nil {
				return err
			}
			g.stats.Escalated++
			if !w.next(g.r.IntN(limit + 1)) {
				return nil
			}
			break
		}
		if !w.until(g.cal.AddWorkingDays(in.Deadline, late)) {
			return nil
		}
	default:
		n := g.r.IntN(limit + 1)
		if n > limit/2 && g.r.IntN(2) == 0 {
			n = g.r.IntN(limit/2 + 1) // most are done early
		}
		if !w.until(g.cal.AddWorkingDays(start, n)) {
			return nil
		}
	}
	note := pick(g.r, handleNotes[kind])
	if err := w.do(g.holder(*in), grid.Action{Kind: grid.ActHandle, Note: note}); err != nil {
		return err
	}

	// the on-the-spot check by the grid worker; a few fail once
	if !w.next(g.r.IntN(100) / 75) {
		return nil
	}
	if g.r.IntN(100) < 8 {
		if err := w.do(worker, grid.Action{Kind: grid.ActRework, Note: pick(g.r, reworkNotes)}); err != nil {
			return err
		}
		g.stats.Reworked++
		if !w.next(1 + g.r.IntN(2)) {
			return nil
		}
		if err := w.do(g.holder(*in), grid.Action{Kind: grid.ActHandle, Note: "已按核查意见重新处置：" + pick(g.r, handleNotes[kind])}); err != nil {
			return err
		}
		if !w.next(g.r.IntN(2)) {
			return nil
		}
	}
	if err := w.do(worker, grid.Action{Kind: grid.ActVerify, Note: "现场核查，已处置到位"}); err != nil {
		return err
	}

	// closed by the village
	if !w.next(g.r.IntN(100) / 70) {
		return nil
	}
	if err := w.do(staff, grid.Action{Kind: grid.ActClose, Note: "处置到位，予以结案"}); err != nil {
		return err
	}

	// the reporter's evaluation, asked on a return visit, mostly good
	if g.r.IntN(100) >= 60 {
		return nil
	}
	if !w.next(g.r.IntN(3)) {
		return nil
	}
	rating := 5
	switch x := g.r.IntN(100); {
	case x < 2:
		rating = 1
	case x < 5:
		rating = 2
	case x < 13:
		rating = 3
	case x < 38:
		rating = 4
	}
	if !in.OnTime && rating > 3 && g.r.IntN(2) == 0 {
		rating--
	}
	comment := pick(g.r, rateNotes)
	if rating <= 3 && comment != "" {
		comment = "处理速度有点慢"
	}
	return w.do(worker, grid.Action{Kind: grid.ActEvaluate, Rating: rating, Note: comment})
}
