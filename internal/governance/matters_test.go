package governance_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	fx "github.com/shequ-platform/shequ/internal/fixture"
	gov "github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// sxInput is a residents' proposal at 澄江楼村 (Sha county) with the
// signatures SX-2's pack asks for.
func sxInput() gov.MatterInput {
	return gov.MatterInput{Village: fx.ShaxianVillage, Title: "硬化东巷道路", Description: "东巷长 300 米，雨天泥泞，居民联名提议硬化。",
		Proposer: policy.ProposerResidents, ProposerName: "罗忠诚", Signatures: 10, Budget: "120,000", GoalYear: 2026}
}

func TestMatterPropose(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.on(20260305)
		m, err := f.svc.Propose(f.ctx, f.villageStaffSX, sxInput())
		if err != nil {
			t.Fatal(err)
		}
		if want := "YS" + strconv.FormatInt(fx.ShaxianVillage/1000, 10) + "-2026-001"; m.Number != want {
			t.Errorf("number %s, want %s", m.Number, want)
		}
		if m.Procedure != "wuyi" || m.Stage != "discuss" || m.Status != gov.MatterOpen || m.Budget != 12000000 || m.ProposedDay != 20260305 {
			t.Errorf("matter %+v", m)
		}
		m2, err := f.svc.Propose(f.ctx, f.villageStaffSX, sxInput())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(m.Number, "-2026-001") || !strings.HasSuffix(m2.Number, "-2026-002") {
			t.Errorf("numbers %s %s", m.Number, m2.Number)
		}
		got, err := f.svc.MatterByNumber(f.ctx, f.villageStaffSX, m.Number)
		if err != nil || got.ID != m.ID || got.Title != "硬化东巷道路" {
			t.Fatalf("by number: %+v %v", got, err)
		}
		steps, err := f.svc.MatterSteps(f.ctx, f.villageStaffSX, m.ID)
		if err != nil || len(steps) != 1 || steps[0].Action != gov.ActPropose || steps[0].Stage != "propose" || !steps[0].Public {
			t.Errorf("steps %+v %v", steps, err)
		}
		if n := f.sum(gov.MetricMattersOpened, fx.ShaxianVillage); n != 2 {
			t.Errorf("opened %d", n)
		}
		if n := f.audits("matter", "create"); n != 2 {
			t.Errorf("audit %d", n)
		}

		// Field errors, all at once, nothing stored.
		bad := sxInput()
		bad.Title, bad.Description, bad.Signatures, bad.Budget, bad.GoalYear = "", strings.Repeat("长", gov.MaxMatterText+1), 9, "12元5角", 2030
		_, err = f.svc.Propose(f.ctx, f.villageStaffSX, bad)
		for _, want := range []string{"title:required", "description:too_long", "signatures:signatures", "budget:money", "goal_year:goal_year"} {
			wantFieldError(t, err, want)
		}
		bad = sxInput()
		bad.Proposer, bad.ProposerName = "supervision", ""
		wantFieldError(t, mustErr(f.svc.Propose(f.ctx, f.villageStaffSX, bad)), "proposer:proposer")
		bad = sxInput()
		bad.ProposerName = ""
		wantFieldError(t, mustErr(f.svc.Propose(f.ctx, f.villageStaffSX, bad)), "proposer_name:required")
		bad = sxInput()
		bad.Procedure = "shortcut"
		wantFieldError(t, mustErr(f.svc.Propose(f.ctx, f.villageStaffSX, bad)), "procedure:procedure_unknown")
		if n := f.count("SELECT count(*) FROM gov_matters"); n != 2 {
			t.Errorf("%d matters stored", n)
		}
		// A body proposes without signatures; its name defaults to the kind's label.
		body := sxInput()
		body.Proposer, body.ProposerName, body.Signatures = "party", "", 0
		mb, err := f.svc.Propose(f.ctx, f.villageStaffSX, body)
		if err != nil || mb.ProposerName != "社区党支部" {
			t.Errorf("body proposal: %+v %v", mb, err)
		}

		// Scope: another village's staff cannot propose here nor see the matter.
		if _, err := f.svc.Propose(f.ctx, f.villageStaffA, sxInput()); !errors.Is(err, gov.ErrForbidden) {
			t.Errorf("outside scope: %v", err)
		}
		if _, err := f.svc.MatterByNumber(f.ctx, f.villageStaffA, m.Number); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("outside scope read: %v", err)
		}
		if n := f.audits("matter", "denied"); n != 1 {
			t.Errorf("denied audited %d times", n)
		}
		if _, err := f.svc.MatterByNumber(f.ctx, f.admin, m.Number); err != nil {
			t.Errorf("admin: %v", err)
		}
		// Xishan's village: its own procedure (standard), its own numbering.
		xm, err := f.svc.Propose(f.ctx, f.villageStaffA, gov.MatterInput{Village: villageA, Title: "增设路灯", Description: "门楼路缺路灯。",
			Proposer: "committee"})
		if err != nil || xm.Procedure != "standard" || xm.Stage != "discuss" || !strings.HasSuffix(xm.Number, "-2026-001") {
			t.Errorf("xishan: %+v %v", xm, err)
		}
		list, err := f.svc.Matters(f.ctx, f.townStaffA, gov.MatterFilter{})
		if err != nil || len(list.Matters) != 1 || list.Matters[0].ID != xm.ID {
			t.Errorf("township A sees %+v %v", list.Matters, err)
		}
		list, err = f.svc.Matters(f.ctx, f.admin, gov.MatterFilter{Stage: "discuss", Status: gov.MatterOpen, GoalYear: 2026})
		if err != nil || len(list.Matters) != 3 || list.Matters[0].ID != mb.ID {
			t.Errorf("admin's goals at discuss, newest first: %d %v", len(list.Matters), err)
		}
		list, err = f.svc.Matters(f.ctx, f.admin, gov.MatterFilter{Q: "路灯"})
		if err != nil || len(list.Matters) != 1 {
			t.Errorf("search: %d %v", len(list.Matters), err)
		}
		list, err = f.svc.Matters(f.ctx, f.admin, gov.MatterFilter{Limit: 2})
		if err != nil || len(list.Matters) != 2 || !list.More {
			t.Errorf("page: %d %v %v", len(list.Matters), list.More, err)
		}
	})
}

func mustErr[T any](_ T, err error) error { return err }

// TestMatterShaxianEndToEnd takes a residents' proposal at 澄江楼村 through
// Sha county's 五议 with real meetings — the management committee
// discusses, the party branch reviews, the representatives' meeting
// resolves — then the 四步 implementation with photos and money, the
// residents' comments and ratings, and the close of the year-end
// evaluation; a shortcut on the way is refused with its reason.
func TestMatterShaxianEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.villageStaffSX
		v := fx.ShaxianVillage
		f.on(20260302)
		bs := f.sxBodies()
		f.on(20260305)
		m, err := f.svc.Propose(f.ctx, p, sxInput())
		if err != nil {
			t.Fatal(err)
		}

		// Shortcut: the representatives cannot take it up while the
		// management committee has not discussed it.
		_, _, err = f.mtMeeting(p, bs.representatives, m.ID, 9)
		pe := mtRefusal(t, err, gov.RefuseOutOfOrder)
		if pe.At != "discuss" || pe.Want != "resolve" {
			t.Errorf("refusal %+v", pe)
		}
		if got := gov.RefusalText("zh-CN", f.svc.Rules(v), pe); got != "该事项正处于“管委会商议”阶段，不是“居民代表会决议”阶段" {
			t.Errorf("reason %q", got)
		}
		// Implementation steps are out of order too.
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActAssign, Responsible: "管委会"})
		mtRefusal(t, err, gov.RefuseOutOfOrder)

		// 商议: a management committee meeting without quorum resolves nothing.
		if ms, err := f.svc.MattersAwaiting(f.ctx, p, v, "management"); err != nil || len(ms) != 1 || ms[0].ID != m.ID {
			t.Errorf("awaiting the management committee: %+v %v", ms, err)
		}
		if ms, _ := f.svc.MattersAwaiting(f.ctx, p, v, "representatives"); len(ms) != 0 {
			t.Errorf("awaiting the representatives: %+v", ms)
		}
		f.on(20260310)
		item, o, err := f.mtVote(p, bs.management, m.ID, 2, 0, 0, 0, "")
		if err != nil || o.Result != gov.ResultNoQuorum || item.Stage != "discuss" {
			t.Fatalf("no quorum: %+v %+v %v", item, o, err)
		}
		if got, _ := f.svc.Matter(f.ctx, p, m.ID); got.Stage != "discuss" {
			t.Errorf("no quorum moved it to %s", got.Stage)
		}
		f.on(20260312)
		if _, o, err = f.mtVote(p, bs.management, m.ID, 5, 4, 1, 0, "同意提交党支部审议。"); err != nil || o.Result != gov.ResultPassed {
			t.Fatalf("discuss: %+v %v", o, err)
		}
		// 审议
		f.on(20260315)
		if _, o, err = f.mtVote(p, bs.party, m.ID, 3, 3, 0, 0, ""); err != nil || o.Result != gov.ResultPassed {
			t.Fatalf("review: %+v %v", o, err)
		}
		if n := f.sum(gov.MetricMattersPassed, v); n != 0 {
			t.Errorf("passed counted before the resolution: %d", n)
		}
		// 决议: 8 of 9 present, 6 for.
		f.on(20260320)
		if _, o, err = f.mtVote(p, bs.representatives, m.ID, 8, 6, 1, 1, "同意硬化东巷道路，预算 12 万元。"); err != nil || o.Result != gov.ResultPassed {
			t.Fatalf("resolve: %+v %v", o, err)
		}
		m, _ = f.svc.Matter(f.ctx, p, m.ID)
		if m.Stage != "implement" || m.ResolvedDay != 20260320 || m.Status != gov.MatterOpen {
			t.Fatalf("after resolution %+v", m)
		}
		if n := f.sum(gov.MetricMattersPassed, v); n != 1 {
			t.Errorf("passed %d", n)
		}

		// 四步: implement before assign is refused; assign once.
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActImplement, Note: "开工", Percent: new(10)})
		mtRefusal(t, err, gov.RefuseNotAssigned)
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActAssign, Due: "2026-03-01"})
		wantFieldError(t, err, "responsible:required")
		wantFieldError(t, err, "due:due_past")
		if _, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActAssign, Responsible: "管委会 罗忠诚", Due: "2026-06-30",
			Note: "党支部交办管委会组织施工"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActAssign, Responsible: "别人"})
		mtRefusal(t, err, gov.RefuseAssigned)
		// Progress with photos and money; progress never goes back.
		f.on(20260410)
		if _, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActImplement, Note: "路基完成", Percent: new(40),
			Spent: "35,000.50", Photos: [][]byte{mtJPEG, mtJPEG}}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActImplement, Note: "倒退", Percent: new(30), Spent: "-5",
			Photos: [][]byte{[]byte("not a photo")}})
		for _, want := range []string{"percent:percent_back", "spent:money", "photos:photo_type"} {
			wantFieldError(t, err, want)
		}
		seven := make([][]byte, gov.MaxStepPhotos+1)
		for i := range seven {
			seven[i] = mtJPEG
		}
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActImplement, Note: "多图", Percent: new(50), Photos: seven})
		wantFieldError(t, err, "photos:too_many_photos")
		// Urge at a held representatives' meeting; a management meeting will not do.
		f.on(20260415)
		rm, _, _ := f.mtMeeting(p, bs.representatives, 0, 7)
		mm, _, _ := f.mtMeeting(p, bs.management, 0, 5)
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActUrge, Note: "督促加快进度", MeetingID: mm.ID})
		wantFieldError(t, err, "meeting_id:meeting_body")
		if _, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActUrge, Note: "督促加快进度", MeetingID: rm.ID}); err != nil {
			t.Fatal(err)
		}
		// Supervision: a resident's comment from the public page, a step by staff (not public).
		if err := f.svc.Rate(f.ctx, v, m.Number, "device-a", 0, "路面要压实"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Rate(f.ctx, v, m.Number, "device-a", 5, ""); !errorsAsRefusal(err, gov.RefuseOutOfOrder) {
			t.Errorf("a score before the evaluation: %v", err)
		}
		if _, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActSupervise, Note: "居民反映排水沟未清理",
			Private: true}); err != nil {
			t.Fatal(err)
		}
		// Complete: the final report moves it to the evaluation.
		f.on(20260620)
		m, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActComplete, Note: "道路硬化完工，验收合格", Spent: "80000",
			Photos: [][]byte{mtJPEG}})
		if err != nil {
			t.Fatal(err)
		}
		if m.Stage != "evaluate" || m.Progress != 100 || m.Spent != 11500050 {
			t.Errorf("after completion %+v", m)
		}
		// 评议: one scored rating per device and year.
		f.on(20261220)
		for dev, score := range map[string]int{"device-a": 5, "device-b": 4, "device-c": 3} {
			if err := f.svc.Rate(f.ctx, v, m.Number, dev, score, "满意"); err != nil {
				t.Fatalf("%s: %v", dev, err)
			}
		}
		if err := f.svc.Rate(f.ctx, v, m.Number, "device-a", 1, ""); !errors.Is(err, gov.ErrAlreadyRated) {
			t.Errorf("second rating: %v", err)
		}
		wantFieldError(t, f.svc.Rate(f.ctx, v, m.Number, "device-d", 6, ""), "score:score_range")
		if err := f.svc.Rate(f.ctx, villageA, m.Number, "device-d", 4, ""); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("rating through another village's page: %v", err)
		}
		if n := f.count("SELECT count(*) FROM gov_ratings WHERE device = 'device-a'"); n != 0 {
			t.Errorf("devices stored in clear: %d", n)
		}
		if f.sum(gov.MetricRatings, v) != 3 || f.sum(gov.MetricRatingSum, v) != 12 {
			t.Errorf("rating facts %d %d", f.sum(gov.MetricRatings, v), f.sum(gov.MetricRatingSum, v))
		}
		m, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActEvaluate, Note: "群众满意"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != gov.MatterDone || m.ClosedDay != 20261220 || m.RatingText() != "4.0" {
			t.Errorf("done %+v", m)
		}
		if f.sum(gov.MetricMattersDone, v) != 1 || f.sum(gov.MetricMattersReject, v) != 0 {
			t.Error("done facts")
		}
		if err := f.svc.Rate(f.ctx, v, m.Number, "device-e", 5, ""); !errorsAsRefusal(err, gov.RefuseClosed) {
			t.Errorf("rating a closed matter: %v", err)
		}

		// The history: every stage and step, with the meetings.
		steps, err := f.svc.MatterSteps(f.ctx, p, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, s := range steps {
			acts = append(acts, s.Stage+":"+s.Action)
		}
		want := []string{"propose:propose", "discuss:no_quorum", "discuss:pass", "review:pass", "resolve:pass", "implement:assign",
			"implement:implement", "implement:urge", "implement:supervise", "implement:complete", "evaluate:evaluate"}
		if !slices.Equal(acts, want) {
			t.Errorf("history %v", acts)
		}
		if s := steps[4]; s.Meeting == nil || s.Meeting.For != 6 || s.Meeting.Present != 8 || s.Meeting.Members != 9 || s.Note != "同意硬化东巷道路，预算 12 万元。" {
			t.Errorf("resolution step %+v %+v", s, s.Meeting)
		}
		if s := steps[6]; len(s.Photos) != 2 || s.Spent != 3500050 || s.Percent != 40 {
			t.Errorf("progress step %+v", s)
		}
		ph, data, err := f.svc.MatterPhoto(f.ctx, p, m.Number, steps[6].Photos[0].ID)
		if err != nil || ph.Mime != "image/jpeg" || string(data) != string(mtJPEG) {
			t.Errorf("photo %+v %v", ph, err)
		}

		// The public page: public steps only; photos of public steps only.
		pm, psteps, err := f.svc.PublicMatter(f.ctx, v, m.Number)
		if err != nil || pm.ID != m.ID || len(psteps) != len(steps)-1 {
			t.Fatalf("public %d steps of %d: %v", len(psteps), len(steps), err)
		}
		if _, _, err := f.svc.PublicMatter(f.ctx, villageA, m.Number); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("public through another village: %v", err)
		}
		mime, data, err := f.svc.PublicPhoto(f.ctx, v, steps[6].Photos[0].ID)
		if err != nil || mime != "image/jpeg" || len(data) != len(mtJPEG) {
			t.Errorf("public photo %s %v", mime, err)
		}
		if _, _, err := f.svc.PublicPhoto(f.ctx, villageA, steps[6].Photos[0].ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("public photo of another village: %v", err)
		}
		// Hiding the progress report hides its photos.
		if err := f.svc.SetStepPublic(f.ctx, p, m.Number, steps[6].ID, false); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.PublicPhoto(f.ctx, v, steps[6].Photos[0].ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("photo of a hidden step: %v", err)
		}
		mtRefusal(t, f.svc.SetStepPublic(f.ctx, p, m.Number, steps[4].ID, false), gov.RefuseStep)
		ms, err := f.svc.PublicMatters(f.ctx, v, 0)
		if err != nil || len(ms) != 1 {
			t.Errorf("public matters %d %v", len(ms), err)
		}
		goals, err := f.svc.GoalsFor(f.ctx, p, v, 2026)
		if err != nil || goals.Target != 32 || len(goals.Matters) != 1 || goals.Done != 1 || goals.Spent != 11500050 {
			t.Errorf("goals %+v %v", goals, err)
		}
		// Nothing moves a done matter.
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActWithdraw, Note: "撤回"})
		mtRefusal(t, err, gov.RefuseClosed)
		// Every change is audited.
		if n := f.count("SELECT count(*) FROM audit_log WHERE entity = 'matter'"); n < 15 {
			t.Errorf("%d audit entries", n)
		}
	})
}

func errorsAsRefusal(err error, code string) bool {
	var pe *gov.ProcedureError
	return errors.As(err, &pe) && pe.Code == code
}

// TestMatterRejected: the representatives vote it down; the matter ends
// with its reason published, counted as rejected, and nothing moves it.
func TestMatterRejected(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.villageStaffSX
		v := fx.ShaxianVillage
		f.on(20260302)
		bs := f.sxBodies()
		f.on(20260305)
		m, err := f.svc.Propose(f.ctx, p, sxInput())
		if err != nil {
			t.Fatal(err)
		}
		f.on(20260310)
		if _, _, err := f.mtVote(p, bs.management, m.ID, 5, 3, 2, 0, ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.mtVote(p, bs.party, m.ID, 3, 2, 1, 0, ""); err != nil {
			t.Fatal(err)
		}
		// 7 of 9 present, 3 for: not more than half of those present.
		if _, o, err := f.mtVote(p, bs.representatives, m.ID, 7, 3, 3, 1, ""); err != nil || o.Result != gov.ResultFailed {
			t.Fatalf("%+v %v", o, err)
		}
		m, _ = f.svc.Matter(f.ctx, p, m.ID)
		if m.Status != gov.MatterRejected || m.Stage != "resolve" || m.ClosedDay != 20260310 {
			t.Fatalf("rejected %+v", m)
		}
		want := i18n.T("zh-CN", "gov.matter.reason_failed", bs.representatives.Name, 7, 9, 3, 3, 1, 4)
		if m.Reason != want {
			t.Errorf("reason %q, want %q", m.Reason, want)
		}
		if f.sum(gov.MetricMattersReject, v) != 1 || f.sum(gov.MetricMattersPassed, v) != 0 {
			t.Error("facts")
		}
		pm, steps, err := f.svc.PublicMatter(f.ctx, v, m.Number)
		if err != nil || pm.Reason != want || steps[len(steps)-1].Action != gov.ActReject {
			t.Errorf("public %+v %v", pm, err)
		}
		_, err = f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActWithdraw, Note: "撤回"})
		mtRefusal(t, err, gov.RefuseClosed)
		_, _, err = f.mtMeeting(p, bs.representatives, m.ID, 9)
		mtRefusal(t, err, gov.RefuseClosed)

		// With a resolution text, that is the published reason.
		m2, _ := f.svc.Propose(f.ctx, p, sxInput())
		f.mtVote(p, bs.management, m2.ID, 5, 1, 4, 0, "预算过高，暂缓。")
		m2, _ = f.svc.Matter(f.ctx, p, m2.ID)
		if m2.Status != gov.MatterRejected || m2.Stage != "discuss" || m2.Reason != "预算过高，暂缓。" {
			t.Errorf("rejected at discussion %+v", m2)
		}
		// Withdrawn by staff with a reason.
		m3, _ := f.svc.Propose(f.ctx, p, sxInput())
		_, err = f.svc.ActOnMatter(f.ctx, p, m3.Number, gov.MatterAction{Kind: gov.ActWithdraw})
		wantFieldError(t, err, "note:required")
		if _, err = f.svc.ActOnMatter(f.ctx, f.countyStaff, m3.Number, gov.MatterAction{Kind: gov.ActWithdraw, Note: "x"}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("county staff of another county: %v", err)
		}
		m3, err = f.svc.ActOnMatter(f.ctx, p, m3.Number, gov.MatterAction{Kind: gov.ActWithdraw, Note: "与上级项目重复"})
		if err != nil || m3.Status != gov.MatterWithdrawn || m3.Reason != "与上级项目重复" {
			t.Errorf("withdrawn %+v %v", m3, err)
		}
		if f.sum(gov.MetricMattersReject, v) != 2 {
			t.Errorf("rejected %d", f.sum(gov.MetricMattersReject, v))
		}
		goals, _ := f.svc.Goals(f.ctx, v, 2026)
		if len(goals) != 2 {
			t.Errorf("goals without the withdrawn one: %d", len(goals))
		}
	})
}

// TestMatterVoteChecks: a vote on an item linked at a stage the matter
// has left is refused with the vote; a body that decides no stage is the
// wrong body.
func TestMatterVoteChecks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.villageStaffSX
		f.on(20260302)
		bs := f.sxBodies()
		sup := f.mtBody(p, fx.ShaxianVillage, "supervision", "杨金水", "张美英", "江月娥")
		f.on(20260305)
		m, _ := f.svc.Propose(f.ctx, p, sxInput())
		// Two management meetings take the matter up; the first passes it.
		_, first, err := f.mtMeeting(p, bs.management, m.ID, 5)
		if err != nil {
			t.Fatal(err)
		}
		_, second, err := f.mtMeeting(p, bs.management, m.ID, 5)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.RecordVote(f.ctx, p, first.ID, gov.VoteInput{Counted: true, For: 5}); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.RecordVote(f.ctx, p, second.ID, gov.VoteInput{Counted: true, For: 5})
		if pe := mtRefusal(t, err, gov.RefuseOutOfOrder); pe.At != "review" || pe.Want != "discuss" {
			t.Errorf("%+v", pe)
		}
		if got, _ := f.svc.Matter(f.ctx, p, m.ID); got.Stage != "review" {
			t.Errorf("stage %s", got.Stage)
		}
		if n := f.count("SELECT count(*) FROM gov_agenda WHERE id = ? AND result = 'pending'", second.ID); n != 1 {
			t.Error("the refused vote was half stored")
		}
		_, _, err = f.mtMeeting(p, sup, m.ID, 3)
		if pe := mtRefusal(t, err, gov.RefuseWrongBody); pe.Body != "party" {
			t.Errorf("%+v", pe)
		}
		// A matter of another village is not found from this village's meeting.
		xm, err := f.svc.Propose(f.ctx, f.villageStaffA, gov.MatterInput{Village: villageA, Title: "路灯", Description: "缺路灯",
			Proposer: "committee"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.mtMeeting(f.admin, bs.management, xm.ID, 5); err == nil {
			t.Error("another village's matter went on the agenda")
		}
	})
}

// TestMatterCatalogue: every key the matter pages build at run time is in
// both catalogues.
func TestMatterCatalogue(t *testing.T) {
	var keys []string
	for _, c := range gov.RefuseCodes {
		keys = append(keys, "gov.matter.refuse."+c)
	}
	keys = append(keys, "gov.matter.refuse.out_of_order_none", "gov.matter.reason_failed", "gov.matter.figures")
	for _, s := range gov.MatterStatuses {
		keys = append(keys, "gov.matter.status."+s)
	}
	for _, s := range []string{gov.MatterRejected, gov.MatterWithdrawn} {
		keys = append(keys, "gov.matter.reason."+s)
	}
	for _, k := range policy.StageKinds {
		keys = append(keys, "gov.stage."+k)
	}
	for _, a := range gov.MatterActions {
		keys = append(keys, "gov.step."+a)
	}
	for _, a := range gov.StaffActs() {
		keys = append(keys, "gov.matter.note."+a, "gov.matter.done."+a)
	}
	keys = append(keys, "gov.matter.done.propose", "gov.matter.done.public")
	for _, c := range []string{"done", "current", "todo", "failed", "stopped"} {
		keys = append(keys, "gov.matter.chip."+c)
	}
	for _, c := range []string{"required", "too_long", "village_level", "village_unknown", "no_procedure", "procedure_unknown",
		"proposer", "signatures", "signatures_range", "money", "goal_year", "date", "due_past", "percent_range", "percent_back",
		"meeting_unknown", "meeting_body", "meeting_not_held", "too_many_photos", "photo_size", "photo_type", "photos_not_here",
		"upload_too_large", "score_range"} {
		keys = append(keys, "gov.matter.error."+c)
	}
	for _, fld := range []string{"village", "procedure", "title", "description", "proposer", "proposer_name", "signatures", "budget",
		"goal_year", "responsible", "due", "percent", "spent", "photos", "meeting_id", "note", "score", "comment", "device"} {
		keys = append(keys, "gov.matter.field."+fld)
	}
	for _, k := range keys {
		for _, loc := range i18n.Locales() {
			if !i18n.Has(loc, k) {
				t.Errorf("%s: %s missing", loc, k)
			}
		}
	}
}

// TestMatterEveryPackEndToEnd runs each shipped pack's default procedure
// end to end at 门楼社区 (the fixture's village, under that pack's
// governance.yaml): proposed by the first proposer the pack lists, voted
// through every meeting stage by real meetings of the stage's body,
// implemented and evaluated.
func TestMatterEveryPackEndToEnd(t *testing.T) {
	adults := []string{"陈建国", "周秀英", "吴志强", "郑丽华", "王德明", "冯桂芳", "朱永康", "秦玉兰", "许国华", "何美玲"}
	for _, pack := range shippedPackNames {
		t.Run(pack, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				f := newFixtureWith(t, d, packGovernance(t, pack))
				p := f.villageStaffA
				g := f.svc.Rules(villageA)
				pr, _ := g.Procedure("")
				f.on(20260302)
				bodies := map[string]gov.Body{}
				for _, st := range pr.Stages {
					if st.Kind != policy.StageMeeting || bodies[st.Body].ID != 0 {
						continue
					}
					k, _ := g.Body(st.Body)
					n := 5
					if k.MaxMembers > 0 {
						n = min(n, k.MaxMembers)
					}
					n = max(n, k.MinMembers)
					bodies[st.Body] = f.mtBody(p, villageA, st.Body, adults[:n]...)
				}
				first := pr.Stages[0]
				f.on(20260305)
				m, err := f.svc.Propose(f.ctx, p, gov.MatterInput{Village: villageA, Title: "修缮活动室", Description: "活动室屋顶漏雨。",
					Proposer: first.Proposers[0], ProposerName: "陈建国", Signatures: first.Signatures})
				if err != nil {
					t.Fatal(err)
				}
				for day := 20260310; m.Open(); day++ {
					f.on(day)
					st, _, _ := pr.Stage(m.Stage)
					switch st.Kind {
					case policy.StageMeeting:
						b := bodies[st.Body]
						members, _ := f.svc.AllMembers(f.ctx, p, b.ID)
						if _, o, err := f.mtVote(p, b, m.ID, len(members), len(members), 0, 0, ""); err != nil || o.Result != gov.ResultPassed {
							t.Fatalf("%s by %s: %+v %v", st.Key, st.Body, o, err)
						}
					case policy.StageImplement:
						if _, err := f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActAssign, Responsible: "村委会"}); err != nil {
							t.Fatal(err)
						}
						if _, err := f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActComplete, Note: "完工"}); err != nil {
							t.Fatal(err)
						}
					case policy.StageEvaluate:
						if err := f.svc.Rate(f.ctx, villageA, m.Number, "dev", 5, ""); err != nil {
							t.Fatal(err)
						}
						if _, err := f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActEvaluate}); err != nil {
							t.Fatal(err)
						}
					}
					if m, err = f.svc.Matter(f.ctx, p, m.ID); err != nil {
						t.Fatal(err)
					}
				}
				if m.Status != gov.MatterDone || f.sum(gov.MetricMattersPassed, villageA) != 1 || f.sum(gov.MetricMattersDone, villageA) != 1 {
					t.Errorf("%s ended %+v", pr.Key, m)
				}
			})
		})
	}
}

// mtWeb serves the governance pages on the fixture.
type mtWeb struct {
	*fixture
	h http.Handler
}

func newMtWeb(t *testing.T) *mtWeb {
	t.Helper()
	f := newFixture(t, dbtest.SQLite(t))
	rd := web.NewRenderer(nil)
	if err := rd.Register(gov.Templates(), "templates/*.html", gov.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&gov.HTTP{S: f.svc, R: rd, PublicURL: "https://shequ.example.cn"}).Routes(mux)
	return &mtWeb{fixture: f, h: mux}
}

// serve answers one request as p (nil: anonymous) in lang (zh-CN when
// empty); body with its content type, or a form.
func (e *mtWeb) serve(p *access.Principal, method, target, ctype string, body io.Reader, lang string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, target, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if lang == "" {
		lang = "zh-CN"
	}
	req.Header.Set("Accept-Language", lang)
	ctx := context.Background()
	if p != nil {
		ctx = audit.WithActor(access.WithPrincipal(ctx, p), audit.Actor{ID: p.UserID, Name: p.Username})
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req.WithContext(ctx))
	return w
}

func (e *mtWeb) get(p *access.Principal, target string) (int, string) {
	w := e.serve(p, http.MethodGet, target, "", nil, "")
	return w.Code, w.Body.String()
}

func (e *mtWeb) post(p *access.Principal, target string, form url.Values) *httptest.ResponseRecorder {
	return e.serve(p, http.MethodPost, target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "")
}

// postPhotos posts a multipart form with photos.
func (e *mtWeb) postPhotos(p *access.Principal, target string, form url.Values, photos ...[]byte) *httptest.ResponseRecorder {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	for i, ph := range photos {
		fw, _ := mw.CreateFormFile("photos", "p"+strconv.Itoa(i)+".jpg")
		_, _ = fw.Write(ph)
	}
	_ = mw.Close()
	return e.serve(p, http.MethodPost, target, mw.FormDataContentType(), &buf, "")
}

// mtText is a page with tags removed and entities decoded.
func mtText(page string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, ""))
}

func TestMatterPages(t *testing.T) {
	e := newMtWeb(t)
	p := e.villageStaffSX
	v := fx.ShaxianVillage
	e.on(20260302)
	bs := e.sxBodies()
	e.on(20260305)

	code, page := e.get(p, "/governance/matters/new")
	if code != http.StatusOK || !strings.Contains(page, `name="proposer"`) || !strings.Contains(page, "居民联名提议") ||
		!strings.Contains(page, "至少需要 10 人签名") || !strings.Contains(page, "gov-matters.css") {
		t.Fatalf("new form %d\n%s", code, page)
	}
	// Errors at the fields, in Chinese, the values kept.
	w := e.post(p, "/governance/matters/new", url.Values{"op": {"create"}, "village": {strconv.FormatInt(v, 10)}, "proposer": {"residents"},
		"proposer_name": {"罗忠诚"}, "signatures": {"3"}, "description": {"说明"}, "budget": {"十万"}})
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", w.Code)
	}
	txt := mtText(w.Body.String())
	for _, want := range []string{"事项名称：必须填写", "居民联名提议至少需要 10 人签名", "金额格式不对", "罗忠诚"} {
		if !strings.Contains(txt+w.Body.String(), want) {
			t.Errorf("bad form lacks %q", want)
		}
	}
	w = e.post(p, "/governance/matters/new", url.Values{"op": {"create"}, "village": {strconv.FormatInt(v, 10)}, "proposer": {"residents"},
		"proposer_name": {"罗忠诚"}, "signatures": {"12"}, "title": {"硬化东巷道路"}, "description": {"说明"}, "budget": {"120000"},
		"goal_year": {"2026"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("propose: %d %s", w.Code, w.Body.String())
	}
	loc := w.Header().Get("Location")
	number := strings.TrimSuffix(strings.TrimPrefix(loc, "/governance/matters/"), "?done=propose")
	m, err := e.svc.MatterByNumber(e.ctx, p, number)
	if err != nil {
		t.Fatalf("%s: %v", loc, err)
	}
	path := "/governance/matters/" + number
	code, page = e.get(p, loc)
	if code != http.StatusOK || !strings.Contains(page, `id="stage-discuss" aria-current="step"`) && !strings.Contains(page, `gm-step-current" id="stage-discuss"`) ||
		!strings.Contains(page, `body_kind=management"`) || !strings.Contains(page, `id="new-meeting-link"`) || !strings.Contains(page, "议事事项已提出") ||
		!strings.Contains(page, `class="gov-tabs"`) {
		t.Fatalf("matter page %d\n%s", code, page)
	}
	if strings.Contains(page, `name="kind" value="assign"`) {
		t.Error("assign offered at the discussion")
	}
	code, page = e.get(p, "/governance/matters")
	if code != http.StatusOK || !strings.Contains(page, number) || !strings.Contains(page, `gm-chip gm-chip-current`) || !strings.Contains(page, "管委会商议") {
		t.Fatalf("list %d\n%s", code, page)
	}
	// Out of scope: not found; another village's list does not show it.
	if code, _ := e.get(e.villageStaffA, path); code != http.StatusNotFound {
		t.Errorf("other village: %d", code)
	}
	if _, page := e.get(e.townStaffA, "/governance/matters"); strings.Contains(page, number) {
		t.Error("township A lists Sha county's matter")
	}

	// Through the meetings to the implementation.
	e.on(20260310)
	e.mtVote(p, bs.management, m.ID, 5, 5, 0, 0, "")
	e.mtVote(p, bs.party, m.ID, 3, 3, 0, 0, "")
	e.mtVote(p, bs.representatives, m.ID, 9, 8, 1, 0, "同意")
	code, page = e.get(p, path)
	if code != http.StatusOK || !strings.Contains(page, `name="kind" value="assign"`) || strings.Contains(page, `name="kind" value="implement"`) ||
		!strings.Contains(mtText(page), "出席 9/9 人，赞成 8、反对 1、弃权 0（通过需赞成 5 票）") {
		t.Fatalf("implement stage page %d\n%s", code, mtText(page))
	}
	// A refusal: implement before assign (posted anyway), with its reason.
	w = e.postPhotos(p, path+"/act", url.Values{"kind": {"implement"}, "note": {"开工"}, "percent": {"10"}})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "事项还没有交办") {
		t.Fatalf("implement before assign: %d", w.Code)
	}
	if w = e.post(p, path+"/act", url.Values{"kind": {"assign"}, "responsible": {"管委会"}, "due": {"2026-06-30"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("assign: %d %s", w.Code, mtText(w.Body.String()))
	}
	w = e.postPhotos(p, path+"/act", url.Values{"kind": {"implement"}, "note": {"路基完成"}, "percent": {"abc"}, "spent": {"1000"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(mtText(w.Body.String()), "完成进度（%）：进度应在 0 到 100 之间") {
		t.Fatalf("bad percent: %d %s", w.Code, mtText(w.Body.String()))
	}
	if w = e.postPhotos(p, path+"/act", url.Values{"kind": {"implement"}, "note": {"路基完成"}, "percent": {"40"}, "spent": {"1,000.5"}}, mtJPEG); w.Code != http.StatusSeeOther {
		t.Fatalf("implement: %d %s", w.Code, mtText(w.Body.String()))
	}
	code, page = e.get(p, path)
	if strings.Contains(page, `name="kind" value="assign"`) || !strings.Contains(page, `name="kind" value="complete"`) {
		t.Error("assign offered twice, or complete not offered")
	}
	photo := regexp.MustCompile(`src="(` + regexp.QuoteMeta(path) + `/photos/\d+)"`).FindStringSubmatch(page)
	if code != http.StatusOK || photo == nil || !strings.Contains(page, `id="matter-progress">40%`) || !strings.Contains(mtText(page), "支出 1,000.50 元") {
		t.Fatalf("timeline %d\n%s", code, mtText(page))
	}
	rec := e.serve(p, http.MethodGet, photo[1], "", nil, "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/jpeg" || rec.Body.Len() != len(mtJPEG) {
		t.Fatalf("photo %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if code, _ := e.get(e.villageStaffA, photo[1]); code != http.StatusNotFound {
		t.Errorf("photo out of scope: %d", code)
	}
	// Hide the report from the portal.
	steps, _ := e.svc.MatterSteps(e.ctx, p, m.ID)
	last := steps[len(steps)-1]
	if w = e.post(p, path+"/steps/"+strconv.FormatInt(last.ID, 10)+"/public", url.Values{"public": {"0"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("hide: %d", w.Code)
	}
	if _, page = e.get(p, path); !strings.Contains(page, `id="private-`+strconv.FormatInt(last.ID, 10)+`"`) {
		t.Error("hidden step not marked")
	}
	// The viewer (county staff of another county) cannot act; Sha's own staff see goals.
	code, page = e.get(p, "/governance/goals?year=2026&village="+strconv.FormatInt(v, 10))
	if code != http.StatusOK || !strings.Contains(page, "目标 32 项，已列入 1 项，其中 0 项已完成") || !strings.Contains(page, number) {
		t.Fatalf("goals %d\n%s", code, mtText(page))
	}
	w = e.serve(p, http.MethodGet, "/governance/matters", "", nil, "en")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Matters") {
		t.Errorf("English list %d", w.Code)
	}
	if w := e.post(e.townStaffA, path+"/act", url.Values{"kind": {"withdraw"}, "note": {"x"}}); w.Code != http.StatusNotFound {
		t.Errorf("acting out of scope: %d", w.Code)
	}
}
