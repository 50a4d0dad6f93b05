package governance_test

import (
	"errors"
	"testing"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

// meetingFixture is the fixture on testGovernance with a representatives'
// meeting of 27 (quorum > 2/3, majority > 1/2 of those present, one
// proxy per member) and a meeting of it scheduled today (2026-09-30) with
// two items.
type meetingFixture struct {
	*fixture
	reps    governance.Body
	m       governance.Meeting
	members []governance.Member
	items   []governance.AgendaItem
}

func newMeetingFixture(t *testing.T, d *db.DB) *meetingFixture {
	t.Helper()
	f := &meetingFixture{fixture: newFixtureWith(t, d, testGovernance)}
	f.reps = f.representatives(27)
	p := f.villageStaffA
	var err error
	f.m, err = f.svc.Schedule(f.ctx, p, governance.MeetingInput{BodyID: f.reps.ID, Title: "2026年第三次居民代表会议", Day: "2026-09-30",
		Start: "19:30", Length: 90, Place: "门楼社区议事厅"})
	if err != nil {
		t.Fatal(err)
	}
	if !f.m.Public || f.m.State != governance.MeetingScheduled || f.m.BodyKind != "representatives" {
		t.Fatalf("meeting %+v", f.m)
	}
	for _, title := range []string{"门楼路东段路面硬化", "社区健身广场照明改造"} {
		a, err := f.svc.AddAgendaItem(f.ctx, p, f.m.ID, governance.AgendaInput{Title: title})
		if err != nil {
			t.Fatal(err)
		}
		f.items = append(f.items, a)
	}
	if f.members, err = f.svc.MeetingMembers(f.ctx, p, f.m.ID); err != nil || len(f.members) != 27 {
		t.Fatalf("members %d %v", len(f.members), err)
	}
	return f
}

// attendance is present for the first present members, absent for the
// rest, with proxies: member index → holder index.
func (f *meetingFixture) attendance(present int, proxies map[int]int) []governance.AttendanceInput {
	in := make([]governance.AttendanceInput, len(f.members))
	for i, m := range f.members {
		in[i] = governance.AttendanceInput{MemberID: m.ID, Status: governance.AttendAbsent}
		if i < present {
			in[i].Status = governance.AttendPresent
		}
		if h, ok := proxies[i]; ok {
			in[i].Status, in[i].ProxyID = governance.AttendProxy, f.members[h].ID
		}
	}
	return in
}

// rollCall votes choices in order for the given member indexes.
func (f *meetingFixture) rollCall(idx []int, choices ...string) []governance.MemberVote {
	out := make([]governance.MemberVote, len(idx))
	for i, k := range idx {
		out[i] = governance.MemberVote{MemberID: f.members[k].ID, Choice: choices[i%len(choices)]}
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestMeetingsAttendanceWithProxies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newMeetingFixture(t, d)
		p := f.villageStaffA
		// two proxies held by one member: over the limit of one
		_, err := f.svc.RecordAttendance(f.ctx, p, f.m.ID, f.attendance(18, map[int]int{20: 0, 21: 0}))
		wantFieldError(t, err, "attendance[21].proxy_id:proxy_over_limit")
		// a proxy held by an absent member
		_, err = f.svc.RecordAttendance(f.ctx, p, f.m.ID, f.attendance(18, map[int]int{20: 25}))
		wantFieldError(t, err, "attendance[20].proxy_id:proxy_not_present")
		// a member left out, a member twice, a member of no body
		in := f.attendance(18, nil)
		_, err = f.svc.RecordAttendance(f.ctx, p, f.m.ID, in[:26])
		wantFieldError(t, err, "attendance:member_missing")
		_, err = f.svc.RecordAttendance(f.ctx, p, f.m.ID, append(in, in[0]))
		wantFieldError(t, err, "attendance[27].member_id:member_twice")
		in[3].MemberID = 999999
		_, err = f.svc.RecordAttendance(f.ctx, p, f.m.ID, in)
		wantFieldError(t, err, "attendance[3].member_id:not_member")
		// nothing half-stored
		if n := f.count("SELECT COUNT(*) FROM gov_attendance"); n != 0 {
			t.Fatalf("%d attendance rows after refusals", n)
		}
		if got, _ := f.svc.GetMeeting(f.ctx, p, f.m.ID); got.State != governance.MeetingScheduled || got.Members != 0 {
			t.Fatalf("meeting %+v", got)
		}
		if f.sum(governance.MetricMeetings, villageA) != 0 {
			t.Fatal("counted a meeting not held")
		}
		// 18 in person and 2 by proxy of 27: more than two thirds
		m, err := f.svc.RecordAttendance(f.ctx, p, f.m.ID, f.attendance(18, map[int]int{20: 0, 21: 1}))
		if err != nil {
			t.Fatal(err)
		}
		if m.State != governance.MeetingHeld || m.Members != 27 || m.Present != 20 {
			t.Fatalf("meeting %+v", m)
		}
		if met, need, ok := f.svc.Quorum(m); !met || need != 19 || !ok {
			t.Fatalf("quorum %v %d %v", met, need, ok)
		}
		// recorded again (still before any vote): counted once
		if m, err = f.svc.RecordAttendance(f.ctx, p, f.m.ID, f.attendance(19, map[int]int{20: 0, 21: 1})); err != nil || m.Present != 21 {
			t.Fatalf("again: %+v %v", m, err)
		}
		if f.sum(governance.MetricMeetings, villageA) != 1 || f.sum(governance.MetricMeetings+".body.representatives", townA) != 1 {
			t.Fatal("meeting facts")
		}
		att, err := f.svc.Attendance(f.ctx, p, f.m.ID)
		if err != nil || len(att) != 27 || att[20].Status != governance.AttendProxy || att[20].ProxyID != f.members[0].ID || att[20].Name == "" {
			t.Fatalf("attendance %+v %v", att, err)
		}
		if n := f.audits("gov_meeting", "update"); n != 2 {
			t.Fatalf("%d attendance audit entries", n)
		}
	})
}

func TestMeetingsVotes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newMeetingFixture(t, d)
		p := f.villageStaffA
		// a vote before the attendance
		_, _, err := f.svc.RecordVote(f.ctx, p, f.items[0].ID, governance.VoteInput{Counted: true, For: 10})
		wantFieldError(t, err, "state:not_held")
		if _, err := f.svc.RecordAttendance(f.ctx, p, f.m.ID, f.attendance(18, map[int]int{20: 0, 21: 1})); err != nil {
			t.Fatal(err)
		}
		// roll call: the 18 present and the 2 represented (voted by 0 and 1)
		voters := append(seq(0, 18), 20, 21)
		votes := f.rollCall(voters, governance.For, governance.For, governance.Against, governance.Abstain)
		a, o, err := f.svc.RecordVote(f.ctx, p, f.items[0].ID, governance.VoteInput{Votes: votes, Resolution: "同意实施门楼路东段路面硬化。"})
		if err != nil {
			t.Fatal(err)
		}
		// of 20: 10 for, 5 against, 5 abstain — not more than half of 20
		if a.Result != governance.ResultFailed || a.For != 10 || a.Against != 5 || a.Abstain != 5 || o.NeedFor != 11 || o.Base != 20 ||
			o.NeedPresent != 19 || !o.Quorum || a.DecidedDay != 20260930 || a.Counted {
			t.Fatalf("item %+v outcome %+v", a, o)
		}
		vs, err := f.svc.Votes(f.ctx, p, a.ID)
		if err != nil || len(vs) != 20 {
			t.Fatalf("votes %d %v", len(vs), err)
		}
		proxies := 0
		for _, v := range vs {
			if v.ByProxy {
				proxies++
				if v.MemberID != f.members[20].ID && v.MemberID != f.members[21].ID {
					t.Fatalf("proxy vote %+v", v)
				}
			}
		}
		if proxies != 2 {
			t.Fatalf("%d proxy votes", proxies)
		}
		// the item is decided
		_, _, err = f.svc.RecordVote(f.ctx, p, a.ID, governance.VoteInput{Counted: true, For: 20})
		wantFieldError(t, err, "item:item_decided")

		auditsBefore := f.audits("gov_agenda", "update")
		second := f.items[1].ID
		// a member voting twice: refused by the votes' key, as a field error
		dup := f.rollCall([]int{0, 1, 2, 1}, governance.For)
		_, _, err = f.svc.RecordVote(f.ctx, p, second, governance.VoteInput{Votes: dup})
		wantFieldError(t, err, "votes[3].member_id:duplicate_vote")
		// an absent member votes
		_, _, err = f.svc.RecordVote(f.ctx, p, second, governance.VoteInput{Votes: f.rollCall([]int{0, 25}, governance.For)})
		wantFieldError(t, err, "votes[1].member_id:not_present")
		// more hands than members present
		_, _, err = f.svc.RecordVote(f.ctx, p, second, governance.VoteInput{Counted: true, For: 15, Against: 4, Abstain: 2})
		wantFieldError(t, err, "votes:votes_over_present")
		_, _, err = f.svc.RecordVote(f.ctx, p, second, governance.VoteInput{Votes: f.rollCall([]int{0}, "maybe")})
		wantFieldError(t, err, "votes[0].choice:choice_invalid")
		// nothing half-stored
		if n := f.count("SELECT COUNT(*) FROM gov_votes WHERE agenda_id = ?", second); n != 0 {
			t.Fatalf("%d votes stored after refusals", n)
		}
		if it, _ := f.svc.GetMeeting(f.ctx, p, f.m.ID); it.Agenda[1].Result != governance.ResultPending {
			t.Fatalf("item %+v", it.Agenda[1])
		}
		if n := f.audits("gov_agenda", "update"); n != auditsBefore {
			t.Fatalf("audit entries written for refused votes: %d → %d", auditsBefore, n)
		}
		// counted hands: 11 of 20 pass
		a, o, err = f.svc.RecordVote(f.ctx, p, second, governance.VoteInput{Counted: true, For: 11, Against: 6, Abstain: 3})
		if err != nil || a.Result != governance.ResultPassed || !a.Counted || o.NeedFor != 11 {
			t.Fatalf("item %+v %+v %v", a, o, err)
		}
		// the attendance is fixed once items are voted on
		_, err = f.svc.RecordAttendance(f.ctx, p, f.m.ID, f.attendance(27, nil))
		wantFieldError(t, err, "state:votes_recorded")
		if _, err := f.svc.SetResolution(f.ctx, p, second, "同意实施健身广场照明改造，预算三万元。"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetMinutes(f.ctx, p, f.m.ID, "应到27人，实到18人，委托2人。"); err != nil {
			t.Fatal(err)
		}
		if n := f.audits("gov_agenda", "update"); n != auditsBefore+2 {
			t.Fatalf("%d agenda audit entries", n)
		}
		// the public portal sees both decisions, newest first, and the meeting
		rs, err := f.svc.PublicResolutions(f.ctx, villageA, 10)
		if err != nil || len(rs) != 2 || rs[0].Meeting.BodyName != f.reps.Name || rs[1].Item.Resolution != "同意实施健身广场照明改造，预算三万元。" {
			t.Fatalf("resolutions %+v %v", rs, err)
		}
		ms, err := f.svc.PublicMeetings(f.ctx, villageA, 20260901, 20261031)
		if err != nil || len(ms) != 1 || ms[0].BodyName != f.reps.Name {
			t.Fatalf("public meetings %+v %v", ms, err)
		}
		if o, ok := f.svc.Outcome(ms[0], rs[1].Item); !ok || o.Result != governance.ResultPassed || o.NeedFor != 11 {
			t.Fatalf("outcome %+v", o)
		}
	})
}

func TestMeetingsNoQuorumResolvesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newMeetingFixture(t, d)
		p := f.villageStaffA
		// 18 of 27 is two thirds, not more
		m, err := f.svc.RecordAttendance(f.ctx, p, f.m.ID, f.attendance(18, nil))
		if err != nil {
			t.Fatal(err)
		}
		if met, need, _ := f.svc.Quorum(m); met || need != 19 {
			t.Fatalf("quorum %v %d", met, need)
		}
		a, o, err := f.svc.RecordVote(f.ctx, p, f.items[0].ID, governance.VoteInput{Counted: true, For: 18})
		if err != nil {
			t.Fatal(err)
		}
		if a.Result != governance.ResultNoQuorum || o.Quorum || a.For != 0 {
			t.Fatalf("item %+v outcome %+v", a, o)
		}
		_, _, err = f.svc.RecordVote(f.ctx, p, f.items[1].ID, governance.VoteInput{Counted: true, For: 18})
		wantFieldError(t, err, "meeting:no_quorum")
		if it, _ := f.svc.GetMeeting(f.ctx, p, f.m.ID); it.Agenda[1].Result != governance.ResultPending {
			t.Fatalf("item %+v", it.Agenda[1])
		}
		if rs, _ := f.svc.PublicResolutions(f.ctx, villageA, 10); len(rs) != 0 {
			t.Fatalf("resolutions %+v", rs)
		}
	})
}

func TestMeetingsScheduleAndBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, testGovernance)
		p := f.villageStaffA
		mgmt := f.newBody(villageA, "management", "门楼社区管理委员会", "2026-01-01",
			seat{"陈建国", "director"}, seat{"周秀英", "member"}, seat{"吴志强", "member"})
		_, err := f.svc.Schedule(f.ctx, p, governance.MeetingInput{BodyID: mgmt.ID, Day: "2026-10-08", Start: "25:00", Length: 2})
		wantFieldError(t, err, "start:time_invalid")
		wantFieldError(t, err, "length:length_range")
		_, err = f.svc.Schedule(f.ctx, p, governance.MeetingInput{BodyID: 424242, Day: "2026-10-08"})
		wantFieldError(t, err, "body_id:body_unknown")
		_, err = f.svc.Schedule(f.ctx, p, governance.MeetingInput{BodyID: mgmt.ID})
		wantFieldError(t, err, "day:required")
		m, err := f.svc.Schedule(f.ctx, p, governance.MeetingInput{BodyID: mgmt.ID, Day: "2026-10-08", Start: "9:00"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Title != "门楼社区管理委员会会议" || m.StartTime != "09:00" || m.MinutesLen != 120 || m.Public {
			t.Fatalf("meeting %+v", m)
		}
		// not yet: no attendance for a meeting ahead
		members, _ := f.svc.MeetingMembers(f.ctx, p, m.ID)
		in := make([]governance.AttendanceInput, len(members))
		for i, mb := range members {
			in[i] = governance.AttendanceInput{MemberID: mb.ID, Status: governance.AttendPresent}
		}
		_, err = f.svc.RecordAttendance(f.ctx, p, m.ID, in)
		wantFieldError(t, err, "day:not_yet")
		f.on(20261008)
		// the management committee takes no proxies
		in[2] = governance.AttendanceInput{MemberID: members[2].ID, Status: governance.AttendProxy, ProxyID: members[0].ID}
		_, err = f.svc.RecordAttendance(f.ctx, p, m.ID, in)
		wantFieldError(t, err, "attendance[2].status:proxy_not_allowed")
		if m, err = f.svc.Reschedule(f.ctx, p, m.ID, governance.MeetingInput{Title: "十月村务商议", Day: "2026-10-09", Start: "14:30",
			Length: 60, Place: "村委会"}); err != nil || m.Day != 20261009 {
			t.Fatalf("reschedule %+v %v", m, err)
		}
		if m, err = f.svc.Cancel(f.ctx, p, m.ID); err != nil || m.State != governance.MeetingCancelled {
			t.Fatalf("cancel %+v %v", m, err)
		}
		_, err = f.svc.Cancel(f.ctx, p, m.ID)
		wantFieldError(t, err, "state:not_scheduled")
		_, err = f.svc.AddAgendaItem(f.ctx, p, m.ID, governance.AgendaInput{Title: "x"})
		wantFieldError(t, err, "state:cancelled")
		if ms, _ := f.svc.PublicMeetings(f.ctx, villageA, 0, 0); len(ms) != 0 {
			t.Fatalf("a management meeting is public: %+v", ms)
		}
		if up, _ := f.svc.Upcoming(f.ctx, p, villageA, 10); len(up) != 0 {
			t.Fatalf("upcoming %+v", up)
		}
	})
}

func TestMeetingsScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newMeetingFixture(t, d)
		for _, p := range []*access.Principal{f.villageStaffB, f.townStaffB} {
			if _, err := f.svc.GetMeeting(f.ctx, p, f.m.ID); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s sees another village's meeting: %v", p.Username, err)
			}
			if _, err := f.svc.RecordAttendance(f.ctx, p, f.m.ID, f.attendance(27, nil)); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s records attendance elsewhere: %v", p.Username, err)
			}
			if _, _, err := f.svc.RecordVote(f.ctx, p, f.items[0].ID, governance.VoteInput{Counted: true}); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s votes elsewhere: %v", p.Username, err)
			}
			if ms, _, err := f.svc.Meetings(f.ctx, p, governance.MeetingFilter{}); err != nil || len(ms) != 0 {
				t.Fatalf("%s lists %d meetings: %v", p.Username, len(ms), err)
			}
		}
		if n := f.audits("gov_meeting", "denied"); n != 6 {
			t.Fatalf("%d denials audited", n)
		}
		if _, err := f.svc.GetMeeting(f.ctx, f.countyStaff, f.m.ID); err != nil {
			t.Fatalf("county: %v", err)
		}
		if _, err := f.svc.RecordAttendance(f.ctx, f.countyStaff, f.m.ID, f.attendance(27, nil)); !errors.Is(err, governance.ErrForbidden) {
			t.Fatalf("county records attendance: %v", err)
		}
		if _, err := f.svc.RecordAttendance(f.ctx, f.townStaffA, f.m.ID, f.attendance(27, nil)); err != nil {
			t.Fatalf("township: %v", err)
		}
	})
}
