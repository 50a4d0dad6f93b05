package governance_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	fx "github.com/shequ-platform/shequ/internal/fixture"
	gov "github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

// charterText is a charter's first version.
const charterText = `第一条 为了保障居民依法自治，制定本章程。
第二条 居民会议由本社区十八周岁以上的居民组成。
第三条 居民委员会每届任期五年。`

func TestDocumentVersions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "") // charter and covenant, adopted by the representatives; charter due 2017-04-30
		first := f.item(adopting{village: villageA, body: "representatives", day: 20170420})
		doc, err := f.svc.CreateDocument(f.ctx, f.villageStaffA, gov.DocumentInput{Village: villageA, Kind: "charter", Title: "门楼社区居民自治章程",
			Version: gov.VersionInput{Text: charterText, Note: "首次制定", AgendaID: first}})
		if err != nil {
			t.Fatal(err)
		}
		if doc.Current.Version != 1 || doc.Current.AdoptedDay != 20170420 || doc.Current.MeetingID == 0 || doc.CreatedBy != "villagea名" {
			t.Fatalf("document %+v", doc)
		}
		second := f.item(adopting{village: villageA, body: "representatives", day: 20250310})
		newer := strings.Replace(charterText, "每届任期五年", "每届任期五年，可以连选连任", 1) + "\n第四条 本章程自通过之日起施行。"
		v, err := f.svc.AddVersion(f.ctx, f.villageStaffA, doc.ID, gov.VersionInput{Text: newer, Note: "依法修订任期条款", AgendaID: second})
		if err != nil {
			t.Fatal(err)
		}
		if v.Version != 2 || v.AdoptedDay != 20250310 {
			t.Fatalf("version %+v", v)
		}
		got, err := f.svc.GetDocument(f.ctx, f.viewer, doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Versions) != 2 || got.Current.Version != 2 || got.Current.Text != newer {
			t.Fatalf("versions %+v", got.Versions)
		}
		v1 := got.Versions[0]
		if v1.MeetingTitle != "第三次居民代表会议" || v1.ItemTitle != "审议修订居民自治章程" || v1.Result != gov.ResultPassed ||
			v1.For != 19 || v1.Against != 1 || v1.Abstain != 1 || v1.Members != 27 || v1.Present != 21 || v1.BodyName == "" {
			t.Errorf("version 1's meeting %+v", v1)
		}
		// an older resolution cannot adopt a newer version
		old := f.item(adopting{village: villageA, body: "representatives", day: 20200101})
		_, err = f.svc.AddVersion(f.ctx, f.villageStaffA, doc.ID, gov.VersionInput{Text: "x", AgendaID: old})
		wantFieldError(t, err, "agenda_id:"+gov.AdoptionBefore)
		// the public read: the current version with its text
		pub, err := f.svc.PublicDocuments(f.ctx, villageA)
		if err != nil || len(pub) != 1 || pub[0].Current.Version != 2 || pub[0].Current.Text != newer || pub[0].Current.MeetingTitle == "" {
			t.Errorf("public %+v %v", pub, err)
		}
		if n := f.audits("gov_document", "create") + f.audits("gov_document", "update"); n != 2 {
			t.Errorf("audit entries %d", n)
		}
	})
}

func TestDocumentAdoptionRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "")
		create := func(agenda int64) error {
			_, err := f.svc.CreateDocument(f.ctx, f.villageStaffA, gov.DocumentInput{Village: villageA, Kind: "charter", Title: "章程",
				Version: gov.VersionInput{Text: charterText, AgendaID: agenda}})
			return err
		}
		cases := []struct {
			name string
			item int64
			want string
		}{
			{"no adopting meeting", 0, gov.AdoptionMissing},
			{"an item that does not exist", 99999, gov.AdoptionMissing},
			{"a failed vote", f.item(adopting{village: villageA, body: "representatives", result: gov.ResultFailed}), gov.AdoptionNotPassed},
			{"no quorum", f.item(adopting{village: villageA, body: "representatives", result: gov.ResultNoQuorum}), gov.AdoptionNotPassed},
			{"not voted yet", f.item(adopting{village: villageA, body: "representatives", result: gov.ResultPending}), gov.AdoptionNotPassed},
			{"the wrong body", f.item(adopting{village: villageA, body: "management"}), gov.AdoptionWrongBody},
			{"a meeting not held", f.item(adopting{village: villageA, body: "representatives", state: gov.MeetingScheduled}), gov.AdoptionNotHeld},
			{"a cancelled meeting", f.item(adopting{village: villageA, body: "representatives", state: gov.MeetingCancelled}), gov.AdoptionNotHeld},
			{"another village's meeting", f.item(adopting{village: villageC, body: "representatives"}), gov.AdoptionOtherVillage},
			{"an item about another document", f.item(adopting{village: villageA, body: "representatives", document: 4242}), gov.AdoptionOtherDocument},
		}
		for _, c := range cases {
			err := create(c.item)
			if got := fieldErrors(t, err); !slices.Contains(got, "agenda_id:"+c.want) {
				t.Errorf("%s: errors %q, want agenda_id:%s", c.name, got, c.want)
			}
		}
		// wrong body names the body kind the pack wants
		err := create(f.item(adopting{village: villageA, body: "management"}))
		if arg := fieldArg(t, err, "agenda_id", gov.AdoptionWrongBody); arg != "representatives" {
			t.Errorf("wrong body names %q", arg)
		}
		// nothing half-stored
		if n := f.count("SELECT COUNT(*) FROM gov_documents") + f.count("SELECT COUNT(*) FROM gov_document_versions"); n != 0 {
			t.Fatalf("%d rows stored after refusals", n)
		}
		// every problem at once
		_, err = f.svc.CreateDocument(f.ctx, f.villageStaffA, gov.DocumentInput{Village: villageA, Kind: "nope"})
		codes := fieldErrors(t, err)
		for _, want := range []string{"kind:kind_unknown", "title:required", "text:required", "agenda_id:" + gov.AdoptionMissing} {
			if !slices.Contains(codes, want) {
				t.Errorf("errors %q lack %s", codes, want)
			}
		}
		// a resolution adopts one version only
		ok := f.item(adopting{village: villageA, body: "representatives"})
		if err := create(ok); err != nil {
			t.Fatal(err)
		}
		wantFieldError(t, create(ok), "agenda_id:"+gov.AdoptionUsed)
	})
}

func TestDocumentDeadlineState(t *testing.T) {
	const deadline = 20170430
	for _, c := range []struct {
		first, today int
		want         string
	}{
		{20170430, 20260101, gov.DeadlineMet}, {20170101, 20170201, gov.DeadlineMet},
		{20170501, 20260101, gov.DeadlineLate},
		{0, 20170430, gov.DeadlineDue}, {0, 20170501, gov.DeadlineOverdue},
	} {
		if got := gov.DeadlineState(deadline, c.first, c.today); got != c.want {
			t.Errorf("first %d on %d: %q, want %q", c.first, c.today, got, c.want)
		}
	}
	if got := gov.DeadlineState(0, 0, 20260101); got != gov.DeadlineNone {
		t.Errorf("no deadline: %q", got)
	}
}

func TestDocumentStatus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "") // charter due 2017-04-30; covenant without a deadline
		late := f.item(adopting{village: villageA, body: "representatives", day: 20170515})
		if _, err := f.svc.CreateDocument(f.ctx, f.villageStaffA, gov.DocumentInput{Village: villageA, Kind: "charter", Title: "章程",
			Version: gov.VersionInput{Text: charterText, AgendaID: late}}); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.DocumentStatus(f.ctx, f.villageStaffA, villageA)
		if err != nil || len(st) != 2 {
			t.Fatalf("status %+v %v", st, err)
		}
		if c := st[0]; c.Kind.Key != "charter" || c.Documents != 1 || c.State != gov.DeadlineLate || c.FirstAdopted != 20170515 || !c.TargetMet() {
			t.Errorf("charter %+v", c)
		}
		if c := st[1]; c.Kind.Key != "covenant" || c.Documents != 0 || c.State != gov.DeadlineNone || c.TargetMet() {
			t.Errorf("covenant %+v", c)
		}
		// the township sees village C overdue, village A late
		rows, err := f.svc.DocumentOverview(f.ctx, f.townStaffA, townA, 0)
		if err != nil || len(rows) != 2 {
			t.Fatalf("overview %+v %v", rows, err)
		}
		states := map[int64]string{}
		for _, r := range rows {
			states[r.Village] = r.Kinds[0].State
		}
		if states[villageA] != gov.DeadlineLate || states[villageC] != gov.DeadlineOverdue {
			t.Errorf("overview states %v", states)
		}
		// scope
		_, err = f.svc.DocumentStatus(f.ctx, f.villageStaffB, villageA)
		wantNotFound(t, err)
		_, err = f.svc.Documents(f.ctx, f.villageStaffB, villageA)
		wantNotFound(t, err)
	})
}

// TestDocumentTarget runs Sha county's pack (SX-4: 15 regulations,
// adopted by the representatives' meeting) at 澄江楼村.
func TestDocumentTarget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if f.svc.Rules(fx.ShaxianVillage) == nil {
			t.Skip("shaxian-2012 has no governance.yaml")
		}
		for i := range 3 {
			item := f.item(adopting{village: fx.ShaxianVillage, body: "representatives", day: 20130301 + i})
			if _, err := f.svc.CreateDocument(f.ctx, f.villageStaffSX, gov.DocumentInput{Village: fx.ShaxianVillage, Kind: "regulation",
				Title: "社区工作制度 " + strconv.Itoa(i+1), Version: gov.VersionInput{Text: "第一条 …", AgendaID: item}}); err != nil {
				t.Fatal(err)
			}
		}
		st, err := f.svc.DocumentStatus(f.ctx, f.villageStaffSX, fx.ShaxianVillage)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(st, func(k gov.DocumentKindStatus) bool { return k.Kind.Key == "regulation" })
		if i < 0 || st[i].Target != 15 || st[i].Documents != 3 || st[i].TargetMet() {
			t.Fatalf("regulations %+v", st)
		}
	})
}

func TestDocumentScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "")
		item := f.item(adopting{village: villageA, body: "representatives"})
		in := gov.DocumentInput{Village: villageA, Kind: "charter", Title: "章程", Version: gov.VersionInput{Text: charterText, AgendaID: item}}
		_, err := f.svc.CreateDocument(f.ctx, f.viewer, in)
		wantForbidden(t, err)
		_, err = f.svc.CreateDocument(f.ctx, f.villageStaffB, in)
		wantNotFound(t, err)
		doc, err := f.svc.CreateDocument(f.ctx, f.villageStaffA, in)
		if err != nil {
			t.Fatal(err)
		}
		denied := f.audits("gov_document", "denied")
		_, err = f.svc.GetDocument(f.ctx, f.villageStaffB, doc.ID)
		wantNotFound(t, err)
		_, err = f.svc.AddVersion(f.ctx, f.villageStaffB, doc.ID, gov.VersionInput{Text: "x", AgendaID: item})
		wantNotFound(t, err)
		if got := f.audits("gov_document", "denied"); got != denied+2 {
			t.Errorf("denials %d, want %d", got, denied+2)
		}
		_, err = f.svc.AddVersion(f.ctx, f.viewer, doc.ID, gov.VersionInput{Text: "x", AgendaID: item})
		wantForbidden(t, err)
	})
}

func TestDocumentDiff(t *testing.T) {
	a := "一\n二\n三\n四"
	b := "一\n二点五\n三\n四\n五\n"
	var got []string
	for _, l := range gov.Diff(a, b) {
		got = append(got, []string{" ", "+", "-"}[l.Op]+l.Text)
	}
	want := []string{" 一", "-二", "+二点五", " 三", " 四", "+五"}
	if !slices.Equal(got, want) {
		t.Errorf("diff %q, want %q", got, want)
	}
	if d := gov.Diff("", "甲"); len(d) != 1 || !d[0].Added() {
		t.Errorf("from nothing: %+v", d)
	}
	if d := gov.Diff("甲\r\n乙", "甲\n乙"); len(d) != 2 || d[0].Op != gov.DiffSame || d[1].Op != gov.DiffSame {
		t.Errorf("line ends: %+v", d)
	}
}

func TestDocumentPages(t *testing.T) {
	f := newFixtureWith(t, dbtest.SQLite(t), "")
	w := newElWeb(t, f)
	item := f.item(adopting{village: villageA, body: "representatives", day: 20170420})
	failed := f.item(adopting{village: villageA, body: "representatives", result: gov.ResultFailed})
	// the chooser, then the form with the resolutions to cite
	code, page := w.get(f.villageStaffA, "/governance/documents/new?village="+strconv.FormatInt(villageA, 10)+"&kind=charter")
	if code != http.StatusOK || !strings.Contains(page, `value="`+strconv.FormatInt(item, 10)+`"`) || strings.Contains(page, `value="`+strconv.FormatInt(failed, 10)+`"`) {
		t.Fatalf("new form %d: %s", code, elPageText(page))
	}
	// refused without a resolution: the reason at the field
	form := url.Values{"village": {strconv.FormatInt(villageA, 10)}, "kind": {"charter"}, "title": {"门楼社区居民自治章程"}, "text": {charterText}}
	r := w.post(f.villageStaffA, "/governance/documents/new", form)
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(elPageText(r.Body.String()), "缺少通过该版本的会议决议") {
		t.Fatalf("refusal %d: %s", r.Code, elPageText(r.Body.String()))
	}
	form.Set("agenda_id", strconv.FormatInt(item, 10))
	r = w.post(f.villageStaffA, "/governance/documents/new", form)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("create %d: %s", r.Code, elPageText(r.Body.String()))
	}
	loc := r.Header().Get("Location")
	code, page = w.get(f.villageStaffA, loc)
	if code != http.StatusOK || !strings.Contains(page, "第三次居民代表会议") || !strings.Contains(elPageText(page), "赞成 19，反对 1，弃权 1") {
		t.Fatalf("document page %d: %s", code, elPageText(page))
	}
	code, page = w.get(f.villageStaffA, "/governance/documents?village="+strconv.FormatInt(villageA, 10))
	if code != http.StatusOK || !strings.Contains(page, "门楼社区居民自治章程") || !strings.Contains(page, "gd-state-met") {
		t.Fatalf("list %d: %s", code, elPageText(page))
	}
	code, page = w.get(f.townStaffA, "/governance/documents")
	if code != http.StatusOK || !strings.Contains(page, "document-overview") || !strings.Contains(page, "gd-state-overdue") {
		t.Fatalf("overview %d: %s", code, elPageText(page))
	}
	// a second version and its diff
	second := f.item(adopting{village: villageA, body: "representatives", day: 20250310})
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/governance/documents/")
	r = w.post(f.villageStaffA, "/governance/documents/"+id+"/versions", url.Values{"text": {charterText + "\n第四条 新增。"},
		"agenda_id": {strconv.FormatInt(second, 10)}, "note": {"增加第四条"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("version %d: %s", r.Code, elPageText(r.Body.String()))
	}
	code, page = w.get(f.villageStaffA, r.Header().Get("Location"))
	if code != http.StatusOK || !strings.Contains(page, `class="gd-add"`) || !strings.Contains(page, "第四条 新增。") {
		t.Fatalf("diff %d: %s", code, elPageText(page))
	}
	if code, _ := w.get(f.villageStaffB, "/governance/documents/"+id); code != http.StatusNotFound {
		t.Errorf("village B sees the document: %d", code)
	}
}

// TestDocumentAdoptedAtAMeeting adopts a charter at a meeting recorded
// through the meetings part (attendance, a counted vote), not written into
// the tables: what the pages do.
func TestDocumentAdoptedAtAMeeting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "")
		p := f.villageStaffA
		b, err := f.svc.CreateBody(f.ctx, p, gov.BodyInput{Division: villageA, Kind: "representatives", TermStart: "2025-01-01"})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"陈建国", "周秀英", "吴志强"} {
			if _, err := f.svc.AddMember(f.ctx, p, b.ID, gov.MemberInput{ResidentID: f.res(n).ID, Since: "2025-01-01"}); err != nil {
				t.Fatal(err)
			}
		}
		m, err := f.svc.Schedule(f.ctx, p, gov.MeetingInput{BodyID: b.ID, Title: "居民代表会议", Day: "2026-09-30"})
		if err != nil {
			t.Fatal(err)
		}
		item, err := f.svc.AddAgendaItem(f.ctx, p, m.ID, gov.AgendaInput{Title: "审议居民自治章程"})
		if err != nil {
			t.Fatal(err)
		}
		in := gov.DocumentInput{Village: villageA, Kind: "charter", Title: "章程", Version: gov.VersionInput{Text: charterText, AgendaID: item.ID}}
		_, err = f.svc.CreateDocument(f.ctx, p, in)
		wantFieldError(t, err, "agenda_id:"+gov.AdoptionNotHeld) // scheduled, not held
		ms, err := f.svc.MeetingMembers(f.ctx, p, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		var att []gov.AttendanceInput
		for _, mb := range ms {
			att = append(att, gov.AttendanceInput{MemberID: mb.ID, Status: gov.AttendPresent})
		}
		if _, err := f.svc.RecordAttendance(f.ctx, p, m.ID, att); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateDocument(f.ctx, p, in)
		wantFieldError(t, err, "agenda_id:"+gov.AdoptionNotPassed) // held, not voted yet
		if _, _, err := f.svc.RecordVote(f.ctx, p, item.ID, gov.VoteInput{Counted: true, For: 3}); err != nil {
			t.Fatal(err)
		}
		opts, err := f.svc.AdoptionOptions(f.ctx, p, villageA, "charter", 0)
		if err != nil || len(opts) != 1 || opts[0].AgendaID != item.ID || opts[0].For != 3 {
			t.Fatalf("options %+v %v", opts, err)
		}
		doc, err := f.svc.CreateDocument(f.ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Current.MeetingID != m.ID || doc.Current.AdoptedDay != 20260930 {
			t.Errorf("version %+v", doc.Current)
		}
		if opts, _ := f.svc.AdoptionOptions(f.ctx, p, villageA, "charter", 0); len(opts) != 0 {
			t.Errorf("a used resolution is offered again: %+v", opts)
		}
	})
}
