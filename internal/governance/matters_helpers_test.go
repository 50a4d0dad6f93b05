package governance_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// shippedPackNames are the five packs Shequ ships, each with its procedure
// variant: Sha county's 五议, Dongguan's five steps, Nantong's majority
// rule, Nanhai's council, Xishan's (the test jurisdiction's).
var shippedPackNames = []string{"shaxian-2012", "dongguan-2016", "nantong-2011", "nanhai-2009", "xishan-2008"}

var (
	matterPacksOnce sync.Once
	matterPacksSet  *policy.Set
	matterPacksErr  error
)

// matterPacks loads the shipped packs once: policy.Load(policypacks.FS).
func matterPacks(t testing.TB) *policy.Set {
	t.Helper()
	matterPacksOnce.Do(func() { matterPacksSet, matterPacksErr = policy.Load(policypacks.FS) })
	if matterPacksErr != nil {
		t.Fatal(matterPacksErr)
	}
	return matterPacksSet
}

// matterRules returns the governance rules of a shipped pack.
func matterRules(t testing.TB, pack string) *policy.Governance {
	t.Helper()
	p := matterPacks(t).Get(pack)
	if p == nil || p.Governance == nil {
		t.Fatalf("pack %s has no governance.yaml", pack)
	}
	return p.Governance
}

// mtDay writes a YYYYMMDD day as 2006-01-02.
func mtDay(day int) string {
	return fmt.Sprintf("%04d-%02d-%02d", day/10000, day/100%100, day%100)
}

// mtBody creates a current body of kind at village with the named
// residents as members (the first in the kind's first post, the chair).
func (f *fixture) mtBody(p *access.Principal, village int64, kind string, names ...string) governance.Body {
	f.t.Helper()
	b, err := f.svc.CreateBody(f.ctx, p, governance.BodyInput{Division: village, Kind: kind, TermStart: "2025-01-01"})
	if err != nil {
		f.t.Fatalf("body %s: %v", kind, err)
	}
	k, _ := f.svc.BodyKind(b)
	for i, n := range names {
		post := ""
		if i == 0 {
			post = k.ChairPost()
		}
		if _, err := f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res(n).ID, Post: post, Since: "2025-01-01"}); err != nil {
			f.t.Fatalf("member %s of %s: %v", n, kind, err)
		}
	}
	return b
}

// mtMeeting holds a meeting of body on the clock's day with the matter on
// its agenda, the first present members present and the others absent. It
// returns the meeting and the agenda item (the error of adding the item,
// if any, with a zero item).
func (f *fixture) mtMeeting(p *access.Principal, b governance.Body, matterID int64, present int) (governance.Meeting, governance.AgendaItem, error) {
	f.t.Helper()
	m, err := f.svc.Schedule(f.ctx, p, governance.MeetingInput{BodyID: b.ID, Title: b.Name + "会议", Day: mtDay(f.today())})
	if err != nil {
		f.t.Fatalf("schedule: %v", err)
	}
	var item governance.AgendaItem
	if matterID != 0 {
		if item, err = f.svc.AddAgendaItem(f.ctx, p, m.ID, governance.AgendaInput{Title: "议事事项", MatterID: matterID}); err != nil {
			return m, governance.AgendaItem{}, err
		}
	}
	members, err := f.svc.MeetingMembers(f.ctx, p, m.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	var att []governance.AttendanceInput
	for i, mb := range members {
		st := governance.AttendPresent
		if i >= present {
			st = governance.AttendAbsent
		}
		att = append(att, governance.AttendanceInput{MemberID: mb.ID, Status: st})
	}
	if m, err = f.svc.RecordAttendance(f.ctx, p, m.ID, att); err != nil {
		f.t.Fatalf("attendance: %v", err)
	}
	return m, item, nil
}

// mtVote holds a meeting of body with the matter on its agenda and records
// a counted vote on it.
func (f *fixture) mtVote(p *access.Principal, b governance.Body, matterID int64, present, yes, no, abstain int, resolution string) (governance.AgendaItem, governance.Outcome, error) {
	f.t.Helper()
	_, item, err := f.mtMeeting(p, b, matterID, present)
	if err != nil {
		return item, governance.Outcome{}, err
	}
	return f.svc.RecordVote(f.ctx, p, item.ID, governance.VoteInput{Counted: true, For: yes, Against: no, Abstain: abstain, Resolution: resolution})
}

// mtRefusal asserts err is a refusal of the procedure with code.
func mtRefusal(t *testing.T, err error, code string) *governance.ProcedureError {
	t.Helper()
	var pe *governance.ProcedureError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("want refusal %s, got %v", code, err)
	}
	return pe
}

// mtJPEG is a tiny valid JPEG (the sniffer needs the magic bytes only).
var mtJPEG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, make([]byte, 64)...)

// sx is the Sha county village of the fixture and its bodies: the
// management committee (5), the party branch (3) and the representatives
// (9) of 澄江楼村.
type sxBodies struct {
	management, party, representatives governance.Body
}

func (f *fixture) sxBodies() sxBodies {
	f.t.Helper()
	p := f.villageStaffSX
	v := fx.ShaxianVillage
	return sxBodies{
		management:      f.mtBody(p, v, "management", "罗忠诚", "邓秀珍", "黄永福", "林春梅", "肖文斌"),
		party:           f.mtBody(p, v, "party", "罗忠诚", "邓秀珍", "游建新"),
		representatives: f.mtBody(p, v, "representatives", "江月娥", "游建新", "张美英", "杨金水", "卢小红", "林春梅", "肖文斌", "邓秀珍", "黄永福"),
	}
}

// sxResolved proposes a matter at 澄江楼村 on the clock's day and votes it
// through the three meetings of 五议: it waits at its implement stage.
func (f *fixture) sxResolved(bs sxBodies) governance.Matter {
	f.t.Helper()
	p := f.villageStaffSX
	m, err := f.svc.Propose(f.ctx, p, governance.MatterInput{Village: fx.ShaxianVillage, Title: "修缮文化室", Description: "屋顶漏雨",
		Proposer: "party", GoalYear: f.today() / 10000})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, b := range []governance.Body{bs.management, bs.party, bs.representatives} {
		members, _ := f.svc.AllMembers(f.ctx, p, b.ID)
		if _, o, err := f.mtVote(p, b, m.ID, len(members), len(members), 0, 0, ""); err != nil || o.Result != governance.ResultPassed {
			f.t.Fatalf("%s: %+v %v", b.Kind, o, err)
		}
	}
	if m, err = f.svc.Matter(f.ctx, p, m.ID); err != nil || m.Stage != "implement" {
		f.t.Fatalf("not resolved: %+v %v", m, err)
	}
	return m
}
