package governance_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
)

// warnings are the codes of a body's warnings.
func (f *fixture) warnings(id int64) []string {
	f.t.Helper()
	st, err := f.svc.Status(f.ctx, f.villageStaffA, id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, w := range st.Warnings {
		out = append(out, w.Code)
	}
	return out
}

func (f *fixture) wantWarnings(id int64, want ...string) {
	f.t.Helper()
	got := f.warnings(id)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		f.t.Fatalf("warnings %q, want %q", got, want)
	}
}

func TestBodiesCreateAppointAndRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, testGovernance)
		p := f.villageStaffA
		b, err := f.svc.CreateBody(f.ctx, p, governance.BodyInput{Division: villageA, Kind: "committee", Name: "门楼社区居民委员会"})
		if err != nil {
			t.Fatal(err)
		}
		// the term runs the kind's five years from today
		if b.TermStart != 20260930 || b.TermEnd != 20310929 || b.County != county || b.CreatedBy != "villagea名" || !b.Current {
			t.Fatalf("body %+v", b)
		}
		if f.audits("gov_body", "create") != 1 {
			t.Fatal("no audit entry")
		}
		f.wantWarnings(b.ID, governance.WarnSizeSmall, governance.WarnNoChair, governance.WarnNonLocal)
		for _, s := range []seat{{"陈建国", "director"}, {"吴志强", "deputy"}} {
			if _, err := f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res(s.name).ID, Post: s.post}); err != nil {
				t.Fatal(err)
			}
		}
		// two men of three needed; a quarter of the residents are not
		// registered (10 % makes DG-2's rule apply); no woman
		f.wantWarnings(b.ID, governance.WarnSizeSmall, governance.WarnNonLocal, governance.WarnWomen)
		m, err := f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res("云丽娟").ID})
		if err != nil {
			t.Fatal(err)
		}
		// copied from the registry; the post defaults to the kind's last
		if m.Name != "云丽娟" || m.Gender != "F" || m.Residency != "non_registered" || m.Party || m.Post != "member" || m.SinceDay != 20260930 {
			t.Fatalf("member %+v", m)
		}
		f.wantWarnings(b.ID)
		st, _ := f.svc.Status(f.ctx, p, b.ID)
		if len(st.Members) != 3 {
			t.Fatalf("members %+v", st.Members)
		}
		// a member leaves: the size falls short again
		if _, err := f.svc.EndMember(f.ctx, p, m.ID, "2026-09-29"); err == nil {
			t.Fatal("a membership ended before it began")
		}
		if _, err := f.svc.EndMember(f.ctx, p, m.ID, "2026-09-30"); err != nil {
			t.Fatal(err)
		}
		f.on(20261001)
		f.wantWarnings(b.ID, governance.WarnSizeSmall, governance.WarnNonLocal, governance.WarnWomen)
		all, err := f.svc.AllMembers(f.ctx, p, b.ID)
		if err != nil || len(all) != 3 || all[2].UntilDay != 20260930 {
			t.Fatalf("all members %+v %v", all, err)
		}
		// the term runs out
		f.on(20311001)
		if !slices.Contains(f.warnings(b.ID), governance.WarnTermExpired) {
			t.Fatal("no term_expired warning")
		}
		st, _ = f.svc.Status(f.ctx, p, b.ID)
		for _, w := range st.Warnings {
			if len(w.Seeds) == 0 {
				t.Fatalf("warning without a seed: %+v", w)
			}
		}
	})
}

func TestBodiesCouncilChairedByPartySecretary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, testGovernance)
		p := f.villageStaffA
		council := f.newBody(villageA, "council", "门楼社区事务理事会", "2026-09-01",
			seat{"陈建国", "chair"}, seat{"周秀英", "member"}, seat{"郑丽华", "member"}, seat{"冯桂芳", "member"}, seat{"朱永康", "member"})
		// no party branch yet: the chair cannot be checked
		f.wantWarnings(council.ID, governance.WarnChairFromNone)
		st, _ := f.svc.Status(f.ctx, p, council.ID)
		if w := st.Warnings[0]; !slices.Contains(w.Seeds, "NH-2") || !strings.Contains(w.Text("zh-CN"), "书记") {
			t.Fatalf("warning %+v: %s", w, w.Text("zh-CN"))
		}
		f.newBody(villageA, "party", "门楼社区党支部", "2026-01-01", seat{"王德明", "secretary"}, seat{"秦玉兰", "deputy"}, seat{"曹明亮", "member"})
		f.wantWarnings(council.ID, governance.WarnChairFrom)
		// the secretary takes the chair
		for _, m := range st.Members {
			if m.Post == "chair" {
				if _, err := f.svc.EndMember(f.ctx, p, m.ID, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		f.on(20261001)
		f.wantWarnings(council.ID, governance.WarnNoChair, governance.WarnSizeSmall)
		if _, err := f.svc.AddMember(f.ctx, p, council.ID, governance.MemberInput{ResidentID: f.res("王德明").ID, Post: "chair"}); err != nil {
			t.Fatal(err)
		}
		f.wantWarnings(council.ID)
		// the council meets at least quarterly (NH-2): three months on, it is overdue
		f.on(20261202)
		f.wantWarnings(council.ID)
		f.on(20261203)
		f.wantWarnings(council.ID, governance.WarnCadence)
		st, _ = f.svc.Status(f.ctx, p, council.ID)
		if st.LastHeld != 0 || st.NextDue != 20261202 || !st.Overdue() {
			t.Fatalf("status %+v", st)
		}
		f.holdMeeting(council, 20261130, 4)
		f.wantWarnings(council.ID)
		st, _ = f.svc.Status(f.ctx, p, council.ID)
		if st.LastHeld != 20261130 || st.NextDue != 20270302 || st.Overdue() {
			t.Fatalf("status %+v", st)
		}
		f.on(20270303)
		f.wantWarnings(council.ID, governance.WarnCadence)
	})
}

func TestBodiesPartyFormDG2(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, testGovernance)
		p := f.villageStaffA
		b, err := f.svc.CreateBody(f.ctx, p, governance.BodyInput{Division: villageA, Kind: "party", Name: "门楼社区党支部", PartyMembers: 60})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []seat{{"王德明", "secretary"}, {"秦玉兰", "deputy"}, {"苏志刚", "member"}} {
			if _, err := f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res(s.name).ID, Post: s.post}); err != nil {
				t.Fatal(err)
			}
		}
		f.wantWarnings(b.ID, governance.WarnPartyForm)
		st, _ := f.svc.Status(f.ctx, p, b.ID)
		if txt := st.Warnings[0].Text("zh-CN"); !strings.Contains(txt, "党总支") || !strings.Contains(txt, "60") {
			t.Fatalf("message %q", txt)
		}
		if _, err := f.svc.UpdateBody(f.ctx, p, b.ID, governance.BodyUpdate{Name: "门楼社区党总支", TermEnd: "2031-09-29", PartyMembers: 60}); err != nil {
			t.Fatal(err)
		}
		f.wantWarnings(b.ID)
		if _, err := f.svc.UpdateBody(f.ctx, p, b.ID, governance.BodyUpdate{Name: "门楼社区党总支", TermEnd: "2031-09-29", PartyMembers: 40}); err != nil {
			t.Fatal(err)
		}
		f.wantWarnings(b.ID, governance.WarnPartyForm)
	})
}

func TestBodiesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, testGovernance)
		p := f.villageStaffA
		_, err := f.svc.CreateBody(f.ctx, p, governance.BodyInput{Division: villageA, Kind: "senate", Name: "元老院"})
		wantFieldError(t, err, "kind:kind_unknown")
		_, err = f.svc.CreateBody(f.ctx, p, governance.BodyInput{Division: villageA, Kind: "committee", Name: "x",
			TermStart: "2026-10-01", TermEnd: "2026-09-01"})
		wantFieldError(t, err, "term_end:term_order")
		_, err = f.svc.CreateBody(f.ctx, p, governance.BodyInput{Division: villageA, Kind: "committee", TermStart: "2026-13-01"})
		wantFieldError(t, err, "term_start:date_invalid")
		_, err = f.svc.CreateBody(f.ctx, f.townStaffA, governance.BodyInput{Division: townA, Kind: "committee"})
		wantFieldError(t, err, "division:unit_level")
		if n := f.count("SELECT COUNT(*) FROM gov_bodies"); n != 0 {
			t.Fatalf("%d bodies stored", n)
		}
		b := f.newBody(villageA, "management", "门楼社区管理委员会", "", seat{"陈建国", "director"})
		add := func(name, post string) error {
			_, err := f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res(name).ID, Post: post})
			return err
		}
		// a resident of another village (吼山社区) is refused even to staff who may see both
		_, err = f.svc.AddMember(f.ctx, f.admin, b.ID, governance.MemberInput{ResidentID: f.res("王五").ID})
		wantFieldError(t, err, "resident_id:resident_other_village")
		// village A's staff do not even see him
		wantFieldError(t, add("王五", "member"), "resident_id:resident_unknown")
		wantFieldError(t, add("陈建国", "member"), "resident_id:already_member")
		wantFieldError(t, add("周秀英", "secretary"), "post:post_unknown")
		wantFieldError(t, add("周秀英", "director"), "post:post_taken")
		_, err = f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: 0})
		wantFieldError(t, err, "resident_id:required")
		_, err = f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res("周秀英").ID, Since: "2020-01-01"})
		wantFieldError(t, err, "since:outside_term")
		if n := f.count("SELECT COUNT(*) FROM gov_members"); n != 1 {
			t.Fatalf("%d members stored", n)
		}
		if n := f.audits("gov_member", "create"); n != 1 {
			t.Fatalf("%d member audit entries", n)
		}
	})
}

func TestBodiesScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, testGovernance)
		b := f.newBody(villageA, "management", "门楼社区管理委员会", "", seat{"陈建国", "director"}, seat{"周秀英", "member"})
		for _, p := range []*access.Principal{f.villageStaffB, f.townStaffB} {
			if _, err := f.svc.GetBody(f.ctx, p, b.ID); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s sees another village's body: %v", p.Username, err)
			}
			if _, err := f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res("吴志强").ID}); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s appoints in another village: %v", p.Username, err)
			}
			if _, err := f.svc.Bodies(f.ctx, p, villageA, false); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s lists another village's bodies: %v", p.Username, err)
			}
		}
		if n := f.audits("gov_body", "denied"); n != 4 {
			t.Fatalf("%d denials audited", n)
		}
		if _, err := f.svc.CreateBody(f.ctx, f.villageStaffB, governance.BodyInput{Division: villageA, Kind: "committee"}); !errors.Is(err, governance.ErrForbidden) {
			t.Fatalf("create elsewhere: %v", err)
		}
		// the county and the viewer see, but do not change
		for _, p := range []*access.Principal{f.countyStaff, f.viewer, f.townStaffA} {
			if _, err := f.svc.GetBody(f.ctx, p, b.ID); err != nil {
				t.Fatalf("%s: %v", p.Username, err)
			}
		}
		for _, p := range []*access.Principal{f.countyStaff, f.viewer} {
			if _, err := f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res("吴志强").ID}); !errors.Is(err, governance.ErrForbidden) {
				t.Fatalf("%s appoints: %v", p.Username, err)
			}
		}
		if _, err := f.svc.AddMember(f.ctx, f.townStaffA, b.ID, governance.MemberInput{ResidentID: f.res("吴志强").ID}); err != nil {
			t.Fatalf("township staff appoint: %v", err)
		}
	})
}

func TestBodiesNewTermAndPublic(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, testGovernance)
		p := f.villageStaffA
		old := f.newBody(villageA, "management", "门楼社区管理委员会", "2023-10-01",
			seat{"陈建国", "director"}, seat{"周秀英", "member"}, seat{"吴志强", "member"})
		if old.TermEnd != 20260930 {
			t.Fatalf("term end %d", old.TermEnd)
		}
		f.on(20261008)
		nb, err := f.svc.NewTerm(f.ctx, p, old.ID, governance.TermInput{Start: "2026-10-08", Keep: true})
		if err != nil {
			t.Fatal(err)
		}
		if nb.TermStart != 20261008 || nb.TermEnd != 20291007 || len(nb.Members) != 3 || nb.Name != old.Name {
			t.Fatalf("new term %+v", nb)
		}
		got, _ := f.svc.GetBody(f.ctx, p, old.ID)
		if got.Current || got.TermEnd != 20261007 || len(got.Members) != 0 {
			t.Fatalf("old term %+v", got)
		}
		if _, err := f.svc.NewTerm(f.ctx, p, old.ID, governance.TermInput{}); err == nil {
			t.Fatal("an ended term renewed")
		}
		cur, err := f.svc.Bodies(f.ctx, p, villageA, false)
		if err != nil || len(cur) != 1 || cur[0].ID != nb.ID {
			t.Fatalf("current bodies %+v %v", cur, err)
		}
		all, _ := f.svc.Bodies(f.ctx, p, villageA, true)
		if len(all) != 2 {
			t.Fatalf("all bodies %d", len(all))
		}
		pub, err := f.svc.PublicBodies(f.ctx, villageA)
		if err != nil || len(pub) != 1 || len(pub[0].Members) != 3 {
			t.Fatalf("public %+v %v", pub, err)
		}
		for _, m := range pub[0].Members {
			if m.Name == "" || m.Post == "" || m.ResidentID != 0 || m.Gender != "" || m.Residency != "" {
				t.Fatalf("public member %+v", m)
			}
		}
		if pub, _ := f.svc.PublicBodies(f.ctx, villageB); len(pub) != 0 {
			t.Fatalf("village B %+v", pub)
		}
	})
}

func TestBodiesCatalogue(t *testing.T) {
	for _, loc := range i18n.Locales() {
		for _, k := range governance.BodyCatalogueKeys() {
			if !i18n.Has(loc, k) {
				t.Errorf("%s: missing catalogue key %q", loc, k)
			}
		}
	}
}

// TestBodiesShippedNanhaiCouncil checks NH-2 as the shipped nanhai-2009
// pack writes it (its governance.yaml laid over the fixture's county): the
// council's chair must be the party secretary, and it meets quarterly.
func TestBodiesShippedNanhaiCouncil(t *testing.T) {
	gov := packGovernance(t, "nanhai-2009")
	if gov == "" {
		t.Skip("nanhai-2009 has no governance.yaml")
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, gov)
		f.newBody(villageA, "party", "门楼社区党委", "2026-01-01", seat{"王德明", "secretary"})
		council := f.newBody(villageA, "council", "门楼社区事务理事会", "2026-09-01", seat{"陈建国", "chair"})
		if !slices.Contains(f.warnings(council.ID), governance.WarnChairFrom) {
			t.Fatalf("warnings %v", f.warnings(council.ID))
		}
		st, _ := f.svc.Status(f.ctx, f.villageStaffA, council.ID)
		if _, err := f.svc.EndMember(f.ctx, f.villageStaffA, st.Members[0].ID, "2026-09-30"); err != nil {
			t.Fatal(err)
		}
		f.on(20261001)
		if _, err := f.svc.AddMember(f.ctx, f.villageStaffA, council.ID, governance.MemberInput{ResidentID: f.res("王德明").ID, Post: "chair"}); err != nil {
			t.Fatal(err)
		}
		if w := f.warnings(council.ID); slices.Contains(w, governance.WarnChairFrom) || slices.Contains(w, governance.WarnChairFromNone) {
			t.Fatalf("warnings %v", w)
		}
		f.on(20261203) // more than a quarter after the term began, no meeting
		if !slices.Contains(f.warnings(council.ID), governance.WarnCadence) {
			t.Fatalf("warnings %v", f.warnings(council.ID))
		}
	})
}
