package app_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/shequ-platform/shequ/internal/app"
	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/registry"
)

// The governance journey (issue 6) in Sha county, bound by the
// shaxian-2012 pack and its 五议 procedure (SX-2): 澄江楼村
// (fx.ShaxianVillage) with about thirty residents, its party branch (3),
// management committee (5) and representatives' meeting (9), and a
// village clerk's account.

// gjClerk is the village clerk's account at 澄江楼村.
const gjClerk = "sxclerk"

// gjPortal is 澄江楼村's public portal: its 12-digit statistical code.
var gjPortal = "/public/" + division.Format12(fx.ShaxianVillage)

var (
	gjMeetingPath = regexp.MustCompile(`/governance/meetings/(\d+)`)
	gjMatterPath  = regexp.MustCompile(`/governance/matters/([^/?#]+)`)
	gjDay         = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
)

// gjVillager is a resident the journey registers.
type gjVillager struct {
	name, gender, birth string
	party               bool
}

// gjVillagers live in 澄江楼村: 30 adults, 15 women, 6 party members.
var gjVillagers = []gjVillager{
	{"罗忠诚", "男", "1966-02-11", true}, {"邓秀珍", "女", "1970-05-20", true}, {"黄永福", "男", "1962-08-03", true},
	{"林春梅", "女", "1978-11-17", false}, {"肖文斌", "男", "1983-04-09", false}, {"江月娥", "女", "1959-07-27", false},
	{"游建新", "男", "1975-10-05", true}, {"张美英", "女", "1988-01-22", false}, {"杨金水", "男", "1954-03-30", false},
	{"卢小红", "女", "1993-12-12", false}, {"陈德贵", "男", "1961-06-18", false}, {"吴桂兰", "女", "1964-09-02", false},
	{"郑发明", "男", "1972-03-15", true}, {"黄丽萍", "女", "1980-12-08", false}, {"李长生", "男", "1957-01-26", false},
	{"王秀琴", "女", "1969-04-30", false}, {"刘国平", "男", "1977-07-07", false}, {"周玉英", "女", "1985-10-19", false},
	{"苏建华", "男", "1990-02-28", false}, {"范春花", "女", "1958-05-05", true}, {"魏志远", "男", "1982-08-21", false},
	{"蔡淑芬", "女", "1973-11-11", false}, {"朱福生", "男", "1951-12-24", false}, {"余小燕", "女", "1995-06-06", false},
	{"何木林", "男", "1967-09-09", false}, {"谢冬梅", "女", "1979-01-13", false}, {"廖金城", "男", "1986-03-03", false},
	{"曾兰香", "女", "1963-07-17", false}, {"池永强", "男", "1974-04-04", false}, {"姚春燕", "女", "1991-10-10", false},
}

// gjSetUp imports Sha county into a fresh app, registers the villagers,
// creates the three bodies of 五议 with their members through the
// service, and the clerk's account. It returns the bodies by kind.
func gjSetUp(t *testing.T, a *app.App) map[string]governance.Body {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "setup", Client: "test"})
	if _, err := a.DivisionService.Import(ctx, strings.NewReader(fx.ShaxianCSV), division.ImportOptions{}); err != nil {
		t.Fatalf("import Sha county: %v", err)
	}
	if g := a.Governance.Rules(fx.ShaxianVillage); g == nil {
		t.Fatal("澄江楼村 has no governance rules (shaxian-2012 should bind 350427)")
	}
	admin := &access.Principal{UserID: 1, Username: "setup", DisplayName: "setup", Locale: "zh-CN",
		Assignments: []access.Assignment{{ID: 1, Role: "system_admin"}}}
	ids := map[string]int64{}
	for _, v := range gjVillagers {
		r, err := a.Registry.Register(ctx, admin, registry.ResidentInput{Division: fx.ShaxianVillage, Name: v.name, Gender: v.gender,
			Birth: v.birth, Residency: registry.Registered, PartyMember: v.party, Since: "2010-01-01"})
		if err != nil {
			t.Fatalf("register %s: %v", v.name, err)
		}
		ids[v.name] = r.ID
	}
	seats := map[string][]string{
		"party":           {"罗忠诚", "邓秀珍", "游建新"},
		"management":      {"黄永福", "林春梅", "肖文斌", "郑发明", "黄丽萍"},
		"representatives": {"江月娥", "杨金水", "张美英", "卢小红", "陈德贵", "吴桂兰", "李长生", "王秀琴", "刘国平"},
	}
	bodies := map[string]governance.Body{}
	for _, kind := range []string{"party", "management", "representatives"} {
		b, err := a.Governance.CreateBody(ctx, admin, governance.BodyInput{Division: fx.ShaxianVillage, Kind: kind, TermStart: "2025-01-01"})
		if err != nil {
			t.Fatalf("body %s: %v", kind, err)
		}
		k, _ := a.Governance.BodyKind(b)
		for i, n := range seats[kind] {
			post := ""
			if i == 0 {
				post = k.ChairPost()
			}
			if _, err := a.Governance.AddMember(ctx, admin, b.ID, governance.MemberInput{ResidentID: ids[n], Post: post, Since: "2025-01-01"}); err != nil {
				t.Fatalf("%s of %s: %v", n, kind, err)
			}
		}
		bodies[kind] = b
	}
	if _, err := a.Access.CreateUser(ctx, nil, access.NewUser{Username: gjClerk, DisplayName: "澄江楼村文书", Password: demoPassword,
		Role: "village_staff", Division: fx.ShaxianVillage}); err != nil {
		t.Fatalf("clerk account: %v", err)
	}
	return bodies
}

// gjPhoto writes a small real PNG of the paved lane (a gradient).
func gjPhoto(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(120 + x%40), uint8(120 + y%40), uint8((x + y) % 256), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "lane.png")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// gjSchedule schedules a meeting of body today in the UI and returns its id.
func gjSchedule(t *testing.T, ctx context.Context, base string, body int64, title string) int64 {
	t.Helper()
	must(t, ctx, "schedule "+title,
		chromedp.Navigate(fmt.Sprintf("%s/governance/meetings/new?body=%d", base, body)),
		chromedp.WaitVisible("#schedule"),
		chromedp.SendKeys("#f-title", title),
		chromedp.SendKeys("#f-place", "村部会议室"),
		chromedp.Click("#schedule"),
		chromedp.WaitVisible("#attendance-form"),
	)
	m := gjMeetingPath.FindStringSubmatch(location(t, ctx))
	if m == nil {
		t.Fatalf("not on a meeting page after scheduling: %s", location(t, ctx))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// gjAttend records the attendance on the meeting page: everyone present
// but the members at the indexes absent.
func gjAttend(t *testing.T, ctx context.Context, absent ...int) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible("#record-attendance")}
	for _, i := range absent {
		steps = append(steps, chromedp.Click(fmt.Sprintf(`input[name="attendance[%d].status"][value="absent"]`, i)))
	}
	steps = append(steps, chromedp.Click("#record-attendance"), chromedp.WaitVisible("#attendance-list"))
	must(t, ctx, "record the attendance", steps...)
}

// gjAddItem fills the add-item form on the meeting page with a title and a
// matter, and submits it.
func gjAddItem(t *testing.T, ctx context.Context, title string, matter int64, wait string) {
	t.Helper()
	must(t, ctx, "add an agenda item",
		chromedp.WaitVisible("#add-item"),
		chromedp.Click("#add-item summary"),
		chromedp.WaitVisible("#a-title"),
		chromedp.SendKeys("#a-title", title),
		chromedp.SetValue("#a-matter", strconv.FormatInt(matter, 10)),
		chromedp.Click("#add-item-btn"),
		chromedp.WaitVisible(wait),
	)
}

// gjItem is the newest agenda item of a meeting.
func gjItem(t *testing.T, a *app.App, meeting int64) int64 {
	t.Helper()
	var id int64
	if err := a.DB.QueryRow(context.Background(), `SELECT COALESCE(MAX(id), 0) FROM gov_agenda WHERE meeting_id = ?`, meeting).Scan(&id); err != nil || id == 0 {
		t.Fatalf("no agenda item on meeting %d: %v", meeting, err)
	}
	return id
}

// gjVoteCounted records a counted vote on an item of the meeting page with
// its resolution, and waits for the result.
func gjVoteCounted(t *testing.T, ctx context.Context, item int64, yes, no, abstain int, resolution, result string) {
	t.Helper()
	it := fmt.Sprintf("#item-%d", item)
	must(t, ctx, "counted vote",
		chromedp.Click(it+" .gov-vote summary"),
		chromedp.WaitVisible(fmt.Sprintf("#c%d-for", item)),
		chromedp.Click(it+` input[name="mode"][value="counted"]`),
		chromedp.SendKeys(fmt.Sprintf("#c%d-for", item), strconv.Itoa(yes)),
		chromedp.SendKeys(fmt.Sprintf("#c%d-against", item), strconv.Itoa(no)),
		chromedp.SendKeys(fmt.Sprintf("#c%d-abstain", item), strconv.Itoa(abstain)),
		chromedp.SendKeys(fmt.Sprintf("#r%d", item), resolution),
		chromedp.Click(fmt.Sprintf("#vote-%d", item)),
		chromedp.WaitVisible(it+" .gov-result-"+result),
	)
}

// gjStage opens the matter page and checks the stepper: the stage current
// and those before it done.
func gjStage(t *testing.T, ctx context.Context, base, number, current string, done ...string) {
	t.Helper()
	must(t, ctx, "matter page at "+current,
		chromedp.Navigate(base+"/governance/matters/"+number),
		chromedp.WaitVisible("#stepper"),
		chromedp.WaitVisible("#stage-"+current+".gm-step-current"),
	)
	for _, k := range done {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#stage-`+k+`.gm-step-done").length`))
		if err != nil || n != 1 {
			t.Fatalf("stage %s not done on the stepper (%v):\n%s", k, err, text(t, ctx, "#stepper"))
		}
	}
}

// gjAct opens an action's panel on the matter page, runs the steps that
// fill it, submits it and waits for the confirmation.
func gjAct(t *testing.T, ctx context.Context, base, number, kind string, fill ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/governance/matters/" + number),
		chromedp.WaitVisible("#stepper"),
		chromedp.SetAttributeValue("#act-"+kind, "open", ""),
		chromedp.WaitVisible("#submit-" + kind),
	}
	steps = append(steps, fill...)
	steps = append(steps, chromedp.Click("#submit-"+kind), chromedp.WaitVisible("#matter-flash"))
	must(t, ctx, kind, steps...)
}

// gjPoll waits (up to 10 s) until the expression is true on the page.
func gjPoll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](expr)); err != nil {
		t.Fatalf("%s: %v (at %s)\n%s", what, err, location(t, ctx), text(t, ctx, "body"))
	}
}

// TestGovernanceJourney is issue 6's journey in Chromium, in Sha county
// under its 五议 procedure: the village clerk proposes paving a lane for
// the residents (too few signatures refused at the field first); a
// shortcut straight to the representatives' meeting is refused with the
// procedure's reason; the management committee discusses it, the party
// branch reviews it and the representatives' meeting resolves it, each
// vote checked for quorum and majority by the system; the resolution and
// the matter's stage appear on the village's public portal for someone
// without an account; the clerk records its implementation (assigned, a
// progress report with a photo and money spent, urged at the
// representatives' meeting, completed); a resident rates it at year end
// from the portal (once per phone); the clerk closes the evaluation.
func TestGovernanceJourney(t *testing.T) {
	a, srv := newApp(t, dbtest.SQLite(t).Path(), false)
	base := srv.URL
	bodies := gjSetUp(t, a)
	photo := gjPhoto(t)
	ctx := browser(t, 1280, 900)
	regLogin(t, ctx, base, gjClerk, demoPassword)

	// 1. the clerk proposes the residents' matter; 6 signatures are too few
	// (the pack asks for 10) and nothing is stored
	const title = "硬化村东组入户道路"
	must(t, ctx, "propose with too few signatures",
		chromedp.Navigate(base+"/governance/matters/new"),
		chromedp.WaitVisible("#propose"),
		chromedp.SendKeys("#f-title", title),
		chromedp.SendKeys("#f-description", "村东组12户入户道路为泥土路，雨天泥泞，老人孩子出行不便。提议硬化道路约600米，宽3米。"),
		chromedp.SetValue("#f-proposer", "residents"),
		chromedp.SendKeys("#f-proposer-name", "村东组 林春梅等"),
		chromedp.SendKeys("#f-signatures", "6"),
		chromedp.SendKeys("#f-budget", "80000"),
		chromedp.Click("#propose"),
		chromedp.WaitVisible("#form-errors"),
	)
	if msg := text(t, ctx, "#f-signatures ~ .field-error"); !strings.Contains(msg, "至少需要 10 人签名") {
		t.Fatalf("no message at the signatures field:\n%s", text(t, ctx, "main"))
	}
	if n := regCount(t, a, "SELECT COUNT(*) FROM gov_matters"); n != 0 {
		t.Fatalf("%d matters stored from a refused proposal", n)
	}
	must(t, ctx, "propose with enough signatures",
		chromedp.SetValue("#f-signatures", "23"),
		chromedp.Click("#propose"),
		chromedp.WaitVisible("#matter-flash"),
	)
	m := gjMatterPath.FindStringSubmatch(location(t, ctx))
	if m == nil {
		t.Fatalf("not on the matter page: %s", location(t, ctx))
	}
	number := m[1]
	var matterID int64
	if err := a.DB.QueryRow(context.Background(), `SELECT id FROM gov_matters WHERE number = ?`, number).Scan(&matterID); err != nil {
		t.Fatalf("matter %s: %v", number, err)
	}
	if p := text(t, ctx, "main"); !strings.Contains(p, title) || !strings.Contains(p, "23") {
		t.Fatalf("matter page after the proposal:\n%s", p)
	}
	gjStage(t, ctx, base, number, "discuss", "propose")

	// 2. a shortcut: straight to the representatives' meeting; the form
	// offers the matter among the other open ones, the procedure refuses it
	reps := gjSchedule(t, ctx, base, bodies["representatives"].ID, "第四季度居民代表会议")
	gjAttend(t, ctx, 8)
	// the add-item panel is folded: its options are read as text content
	opt, err := chromedp.Run(ctx, chromedp.TextContent(`#a-matter optgroup:last-of-type`))
	if err != nil || !strings.Contains(opt, title) {
		t.Fatalf("the add-item form does not offer the matter among the other open ones (%v):\n%s", err, opt)
	}
	gjAddItem(t, ctx, "审议："+title, matterID, "#form-errors")
	if msg := text(t, ctx, "#form-errors"); !strings.Contains(msg, "不能在此表决") || !strings.Contains(msg, "商议") {
		t.Fatalf("the shortcut is not refused with the procedure's reason:\n%s", msg)
	}
	if n := regCount(t, a, "SELECT COUNT(*) FROM gov_agenda WHERE meeting_id = ?", reps); n != 0 {
		t.Fatalf("%d agenda items stored from a refused shortcut", n)
	}

	// 3. discuss: the management committee (5 members, all present)
	mgmt := gjSchedule(t, ctx, base, bodies["management"].ID, "管委会商议会议")
	gjAttend(t, ctx)
	gjAddItem(t, ctx, "商议："+title, matterID, ".gov-agenda li")
	item := gjItem(t, a, mgmt)
	gjVoteCounted(t, ctx, item, 5, 0, 0, "同意提交党支部审议。", "passed")
	// the meeting links its matter
	must(t, ctx, "the agenda item's matter link",
		chromedp.Click(fmt.Sprintf("#item-%d a[href^=\"/governance/matters/\"]", item)),
		chromedp.WaitVisible("#stepper"),
	)
	gjStage(t, ctx, base, number, "review", "propose", "discuss")

	// 4. review: the party branch (3 members, all present)
	party := gjSchedule(t, ctx, base, bodies["party"].ID, "党支部审议会议")
	gjAttend(t, ctx)
	gjAddItem(t, ctx, "审议："+title, matterID, ".gov-agenda li")
	gjVoteCounted(t, ctx, gjItem(t, a, party), 3, 0, 0, "同意提交居民代表会议决议。", "passed")
	gjStage(t, ctx, base, number, "resolve", "propose", "discuss", "review")

	// 5. resolve: back on the representatives' meeting (8 of 9 present, the
	// quorum ≥ 2/3 met); a roll call: 6 for, 1 against, 1 abstaining
	const resolution = "同意硬化村东组入户道路约600米，预算8万元，由管委会组织实施，年底前完工。"
	must(t, ctx, "the representatives' meeting again",
		chromedp.Navigate(fmt.Sprintf("%s/governance/meetings/%d", base, reps)),
		chromedp.WaitVisible("#quorum"),
	)
	if q := text(t, ctx, "#quorum"); !strings.Contains(q, "8") || !strings.Contains(q, "9") {
		t.Fatalf("quorum line: %s", q)
	}
	gjAddItem(t, ctx, "决议："+title, matterID, ".gov-agenda li")
	item = gjItem(t, a, reps)
	it := fmt.Sprintf("#item-%d", item)
	choices := []string{"for", "for", "against", "for", "for", "abstain", "for", "for"}
	steps := []chromedp.Action[chromedp.Void]{chromedp.Click(it + " .gov-vote summary"), chromedp.WaitVisible(fmt.Sprintf("#v%d-0", item))}
	for i, c := range choices {
		steps = append(steps, chromedp.SetValue(fmt.Sprintf("#v%d-%d", item, i), c))
	}
	steps = append(steps, chromedp.SendKeys(fmt.Sprintf("#r%d", item), resolution),
		chromedp.Click(fmt.Sprintf("#vote-%d", item)), chromedp.WaitVisible(it+" .gov-result-passed"))
	must(t, ctx, "roll call", steps...)
	if f := text(t, ctx, it); !strings.Contains(f, "6") || !strings.Contains(f, resolution) {
		t.Fatalf("the item after the vote:\n%s", f)
	}
	shot(t, ctx, "gov-meeting")
	gjStage(t, ctx, base, number, "implement", "propose", "discuss", "review", "resolve")
	var votes int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM gov_votes WHERE agenda_id = ?`, item).Scan(&votes); err != nil || votes != 8 {
		t.Fatalf("%d roll-call votes stored, want 8 (%v)", votes, err)
	}

	// 6. the portal, in a fresh browser context without login: the
	// resolution and the matter at its stage, and the matter's own page
	anon, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(anon, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		// the portal may be cached a minute; a resident coming back later
		// would not see a stale page, the test comes back within seconds
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	})); err != nil {
		t.Fatalf("anonymous browser context: %v", err)
	}
	must(t, anon, "the public portal",
		chromedp.Navigate(base+gjPortal),
		chromedp.WaitVisible("#resolutions"),
		chromedp.WaitVisible("#matters"),
	)
	if r := text(t, anon, "#resolutions"); !strings.Contains(r, resolution) || !strings.Contains(r, "决议："+title) {
		t.Fatalf("the portal's resolutions:\n%s", r)
	}
	if ms := text(t, anon, "#matters"); !strings.Contains(ms, title) || !strings.Contains(ms, "组织实施") {
		t.Fatalf("the portal's matters:\n%s", ms)
	}
	if b := text(t, anon, "body"); strings.Contains(b, gjClerk) || strings.Contains(b, "退出") {
		t.Fatalf("the portal shows a signed-in page:\n%s", b)
	}
	shot(t, anon, "public-portal")
	must(t, anon, "the matter's public page",
		chromedp.Click(`#matters a[href*="/matters/`+number+`"]`),
		chromedp.WaitVisible(".pub-stepper"),
	)
	if p := text(t, anon, "main, body"); !strings.Contains(p, title) || !strings.Contains(p, number) {
		t.Fatalf("the matter's public page:\n%s", p)
	}
	if cur := text(t, anon, `.pub-stepper [aria-current="step"]`); !strings.Contains(cur, "实施") {
		t.Fatalf("the public stepper's current stage: %q", cur)
	}

	// 7. implementation, staff again: assign, a progress report with a
	// photo and money spent, urged at the representatives' meeting, done
	gjAct(t, ctx, base, number, "assign",
		chromedp.SendKeys("#assign-responsible", "管委会主任 黄永福"),
		chromedp.SetValue("#assign-due", calendar.FormatDay(calendar.AddDays(a.Governance.Today(), 40))),
		chromedp.SendKeys("#assign-note", "党支部交办管委会组织施工，村东组推选两名群众监督员。"),
	)
	if r := text(t, ctx, "#matter-responsible"); !strings.Contains(r, "黄永福") {
		t.Fatalf("responsible: %s", r)
	}
	gjAct(t, ctx, base, number, "implement",
		chromedp.SetValue("#implement-percent", "60"),
		chromedp.SendKeys("#implement-spent", "36500"),
		chromedp.SendKeys("#implement-note", "路基平整完成，已浇筑混凝土路面约360米。"),
		chromedp.SetUploadFiles("#implement-photos", []string{photo}),
	)
	must(t, ctx, "the progress photo", chromedp.WaitVisible("#timeline img.gm-photo"))
	if p := text(t, ctx, "#matter-progress"); p != "60%" {
		t.Fatalf("progress: %q", p)
	}
	gjAct(t, ctx, base, number, "urge",
		chromedp.SetValue("#urge-meeting", strconv.FormatInt(reps, 10)),
		chromedp.SendKeys("#urge-note", "代表会议听取进度汇报，督促雨季前完工。"),
	)
	gjAct(t, ctx, base, number, "complete",
		chromedp.SendKeys("#complete-spent", "41200"),
		chromedp.SendKeys("#complete-note", "道路全线硬化完工，经村东组群众代表验收。"),
	)
	gjStage(t, ctx, base, number, "evaluate", "propose", "discuss", "review", "resolve", "implement")
	if tl := text(t, ctx, "#timeline"); !strings.Contains(tl, "第四季度居民代表会议") || !strings.Contains(tl, "36,500") && !strings.Contains(tl, "36500") {
		t.Fatalf("the implementation timeline:\n%s", tl)
	}
	shot(t, ctx, "gov-matter")

	// 8. the year-end rating from the portal (the progress photo is shown
	// there too); a second from the same browser is refused politely
	must(t, anon, "rate the matter",
		chromedp.Navigate(base+gjPortal+"/matters/"+number),
		chromedp.WaitVisible("#rate form"),
		chromedp.Click(`#rate input[name="score"][value="5"]`),
		chromedp.SendKeys("#r-comment", "路修好了，下雨天出门不再踩泥。"),
		chromedp.Click(`#rate button[type="submit"]`),
		chromedp.WaitVisible("#rated"),
	)
	gjPoll(t, anon, "the progress photo on the public page", `[...document.querySelectorAll(".pub-photos img")].some(i => i.complete && i.naturalWidth === 320)`)
	if p := text(t, anon, "#rated"); !strings.Contains(p, "谢谢") {
		t.Fatalf("no thanks after rating: %q", p)
	}
	must(t, anon, "rate again",
		chromedp.Navigate(base+gjPortal+"/matters/"+number),
		chromedp.WaitVisible("#rate form"),
		chromedp.Click(`#rate input[name="score"][value="1"]`),
		chromedp.Click(`#rate button[type="submit"]`),
		chromedp.WaitVisible("#rate-error"),
	)
	if p := text(t, anon, "#rate-error"); !strings.Contains(p, "已经评过分") {
		t.Fatalf("second rating: %q", p)
	}
	if n := regCount(t, a, "SELECT COUNT(*) FROM gov_ratings WHERE matter_id = ?", matterID); n != 1 {
		t.Fatalf("%d ratings stored, want 1", n)
	}
	must(t, anon, "the portal on a phone",
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(base+gjPortal),
		chromedp.WaitVisible("#matters"),
	)
	shot(t, anon, "public-portal-phone")
	if overflow, err := chromedp.Run(anon, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth + 1")); err != nil || overflow {
		t.Fatalf("the portal scrolls sideways on a 360-px phone (%v)", err)
	}

	// 9. the clerk closes the evaluation: the matter is done, and the
	// stepper shows every stage done with its day
	must(t, ctx, "the rating on the staff page",
		chromedp.Navigate(base+"/governance/matters/"+number),
		chromedp.WaitVisible("#rating"),
	)
	gjAct(t, ctx, base, number, "evaluate",
		chromedp.SendKeys("#evaluate-note", "年终评议：群众满意。"),
	)
	if s := text(t, ctx, "#matter-status"); !strings.Contains(s, "已办结") {
		t.Fatalf("status after the evaluation: %q", s)
	}
	for _, k := range []string{"propose", "discuss", "review", "resolve", "implement", "evaluate"} {
		sel := "#stage-" + k
		cls, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, "class"))
		if err != nil || !strings.Contains(cls.Value, "gm-step-done") {
			t.Fatalf("stage %s: class %q (%v)", k, cls.Value, err)
		}
		if s := text(t, ctx, sel+" .gm-step-head"); !gjDay.MatchString(s) {
			t.Fatalf("stage %s shows no day: %q", k, s)
		}
	}

	// the record: done, one audit entry per step of the matter
	var status string
	var spent int64
	if err := a.DB.QueryRow(context.Background(), `SELECT status, spent FROM gov_matters WHERE id = ?`, matterID).Scan(&status, &spent); err != nil {
		t.Fatal(err)
	}
	if status != governance.MatterDone || spent == 0 {
		t.Fatalf("matter %s: status %s, spent %d", number, status, spent)
	}
	audits := regCount(t, a, `SELECT COUNT(*) FROM audit_log WHERE entity = 'matter' AND entity_id = ?`, strconv.FormatInt(matterID, 10))
	if audits < 9 { // propose, 3 votes, assign, implement, urge, complete, evaluate
		t.Fatalf("%d audit entries for the matter, want at least 9", audits)
	}
	// the facts the figures read: one matter opened, passed, done; three
	// meetings held with a vote, one rating of 5
	for metric, want := range map[string]int{governance.MetricMattersOpened: 1, governance.MetricMattersPassed: 1,
		governance.MetricMattersDone: 1, governance.MetricRatings: 1, governance.MetricRatingSum: 5} {
		if got := regCount(t, a, `SELECT COALESCE(SUM(value), 0) FROM facts WHERE metric = ?`, metric); got != want {
			t.Errorf("fact %s = %d, want %d", metric, got, want)
		}
	}
}
