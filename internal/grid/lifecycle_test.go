package grid_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/registry"
)

// incLifecycle is the incident cycle as GB/T 30428 draws it, written out here
// independently of the package's table: the states each action may start
// from.
var incLifecycle = map[string][]string{
	grid.ActRegister: {grid.StateReported},
	grid.ActReject:   {grid.StateReported},
	grid.ActDispatch: {grid.StateRegistered},
	grid.ActHandle:   {grid.StateDispatched},
	grid.ActVerify:   {grid.StateHandled},
	grid.ActRework:   {grid.StateHandled},
	grid.ActClose:    {grid.StateVerified},
	grid.ActEvaluate: {grid.StateClosed},
	grid.ActExtend:   {grid.StateDispatched},
	grid.ActSuspend:  {grid.StateRegistered, grid.StateDispatched},
	grid.ActResume:   {grid.StateSuspended},
	grid.ActReturn:   {grid.StateDispatched},
	grid.ActEscalate: {grid.StateDispatched},
	grid.ActNote:     grid.States,
}

// incValidAction is the action kind with input Do accepts.
func incValidAction(kind string) grid.Action {
	a := grid.Action{Kind: kind, Note: "已到现场查看"}
	switch kind {
	case grid.ActExtend:
		a.Days = 2
	case grid.ActEvaluate:
		a.Rating = 5
	}
	return a
}

// incPath is the actions that lead a fresh report to each state.
var incPath = map[string][]string{
	grid.StateReported:   nil,
	grid.StateRegistered: {grid.ActRegister},
	grid.StateDispatched: {grid.ActRegister, grid.ActDispatch},
	grid.StateHandled:    {grid.ActRegister, grid.ActDispatch, grid.ActHandle},
	grid.StateVerified:   {grid.ActRegister, grid.ActDispatch, grid.ActHandle, grid.ActVerify},
	grid.StateClosed:     {grid.ActRegister, grid.ActDispatch, grid.ActHandle, grid.ActVerify, grid.ActClose},
	grid.StateRejected:   {grid.ActReject},
	grid.StateSuspended:  {grid.ActRegister, grid.ActSuspend},
}

// incReach reports a blocked drain in grid A1 (its worker) and takes it to
// state as the administrator.
func (f *fixture) incReach(state string) grid.Incident {
	f.t.Helper()
	in := f.report(f.workerA1, f.gridA1, catDrain)
	for _, kind := range incPath[state] {
		in = f.do(f.admin, in.ID, incValidAction(kind))
	}
	if in.State != state {
		f.t.Fatalf("reached %s, want %s", in.State, state)
	}
	return in
}

// incSnapshot is everything an action may change: the incident, its history,
// its photos, the facts and the audit log.
type incSnapshot struct {
	in                   grid.Incident
	lat, lon             float64
	steps, photos, audit int
	factSum, factRows    int
}

func (f *fixture) incSnapshot(id int64) incSnapshot {
	f.t.Helper()
	in, err := f.svc.Get(f.ctx, f.admin, id)
	if err != nil {
		f.t.Fatal(err)
	}
	var lat, lon float64
	if in.Lat != nil {
		lat, lon = *in.Lat, *in.Lon
	}
	in.Lat, in.Lon = nil, nil
	return incSnapshot{in: in, lat: lat, lon: lon,
		steps:    f.count(`SELECT count(*) FROM incident_steps WHERE incident_id = ?`, id),
		photos:   f.count(`SELECT count(*) FROM incident_photos WHERE incident_id = ?`, id),
		audit:    f.count(`SELECT count(*) FROM audit_log WHERE entity = 'incident'`),
		factSum:  f.count(`SELECT COALESCE(SUM(value), 0) FROM facts WHERE metric LIKE 'grid.%'`),
		factRows: f.count(`SELECT count(*) FROM facts WHERE metric LIKE 'grid.%'`),
	}
}

func TestIncidentLifecycleTransitions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, state := range grid.States {
			held := f.incReach(state) // illegal actions are tried on this one
			for _, kind := range grid.Actions {
				want := slices.Contains(incLifecycle[kind], state)
				if got := grid.Allowed(kind, state); got != want {
					t.Errorf("Allowed(%s, %s) = %v, want %v", kind, state, got, want)
				}
				if !want {
					before := f.incSnapshot(held.ID)
					a := incValidAction(kind)
					a.Photos = [][]byte{jpeg}
					_, err := f.svc.Do(f.ctx, f.admin, held.ID, a)
					var te *grid.TransitionError
					if !errors.As(err, &te) || te.Action != kind || te.State != state {
						t.Errorf("%s in %s: %v, want a TransitionError", kind, state, err)
					}
					if after := f.incSnapshot(held.ID); after != before {
						t.Errorf("%s in %s stored something:\n%+v\n%+v", kind, state, before, after)
					}
					continue
				}
				in := f.incReach(state)
				got, err := f.svc.Do(f.ctx, f.admin, in.ID, incValidAction(kind))
				var te *grid.TransitionError
				switch {
				case errors.As(err, &te):
					t.Errorf("%s in %s refused as a transition: %v", kind, state, err)
				case kind == grid.ActEscalate:
					wantFieldError(t, err, "note:escalate_not_overdue") // legal, but not due yet
				case kind == grid.ActReturn:
					wantFieldError(t, err, "note:return_at_village") // held by the village already
				case err != nil:
					t.Errorf("%s in %s: %v", kind, state, err)
				case kind != grid.ActNote && kind != grid.ActEvaluate && kind != grid.ActExtend && got.State == state:
					t.Errorf("%s in %s left the state unchanged", kind, state)
				}
			}
		}
		// an action the platform does not know
		in := f.incReach(grid.StateReported)
		_, err := f.svc.Do(f.ctx, f.admin, in.ID, grid.Action{Kind: "fly"})
		var te *grid.TransitionError
		if !errors.As(err, &te) {
			t.Fatalf("unknown action: %v", err)
		}
		// Can agrees with Allowed and the permissions
		for _, state := range grid.States {
			in := f.incReach(state)
			for _, kind := range grid.Actions {
				if got, want := f.svc.Can(f.admin, kind, in), slices.Contains(incLifecycle[kind], state); got != want {
					t.Errorf("admin Can(%s) in %s = %v", kind, state, got)
				}
				if f.svc.Can(f.viewer, kind, in) {
					t.Errorf("a viewer may %s in %s", kind, state)
				}
				if f.svc.Can(f.workerB1, kind, in) {
					t.Errorf("another village's worker may %s in %s", kind, state)
				}
			}
			if f.svc.Can(f.admin, grid.ActReport, in) {
				t.Error("report is not an action on an incident")
			}
		}
	})
}

func incDay(t *testing.T, in grid.Incident, want int) {
	t.Helper()
	if in.Deadline != want {
		t.Fatalf("deadline %d, want %d", in.Deadline, want)
	}
}

func TestIncidentTimeLimitsOnTheWorkingDayCalendar(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// 2026-09-30 (Wed), before the National Day holiday (10-01 … 10-07);
		// 10-10 (Sat) is a make-up working day.
		register := func() grid.Incident {
			in := f.report(f.workerA1, f.gridA1, catDrain)
			return f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActRegister})
		}
		in := register()
		in = f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActDispatch})
		if in.HolderLevel != grid.LevelVillage || in.Holder != villageA || in.TimeLimit != 2 || in.DispatchedDay != 20260930 {
			t.Fatalf("dispatch by the category's defaults: %+v", in)
		}
		incDay(t, in, 20261009) // Thu 10-08 and Fri 10-09
		three := f.do(f.villageStaff, register().ID, grid.Action{Kind: grid.ActDispatch, Days: 3})
		incDay(t, three, 20261010) // the make-up Saturday
		for _, n := range []int{-1, 61} {
			_, err := f.svc.Do(f.ctx, f.villageStaff, register().ID, grid.Action{Kind: grid.ActDispatch, Days: n})
			wantFieldError(t, err, "days:days_range")
		}
		_, err := f.svc.Do(f.ctx, f.villageStaff, register().ID, grid.Action{Kind: grid.ActDispatch, Level: "province"})
		wantFieldError(t, err, "level:level_unknown")

		// extension: from the deadline, on working days, with a reason
		_, err = f.svc.Do(f.ctx, f.villageStaff, three.ID, grid.Action{Kind: grid.ActExtend, Days: 2})
		wantFieldError(t, err, "note:reason_required")
		for _, n := range []int{0, 31} {
			_, err = f.svc.Do(f.ctx, f.villageStaff, three.ID, grid.Action{Kind: grid.ActExtend, Days: n, Note: "需采购配件"})
			wantFieldError(t, err, "days:days_range")
		}
		ext := f.do(f.villageStaff, three.ID, grid.Action{Kind: grid.ActExtend, Days: 2, Note: "需采购配件"})
		incDay(t, ext, 20261013) // Mon 10-12, Tue 10-13
		if ext.ExtendedDays != 2 || ext.State != grid.StateDispatched {
			t.Fatalf("extended %+v", ext)
		}

		// suspension: the clock stands still; resuming moves the deadline by
		// the working days waited
		sus := f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActSuspend, Note: "等待业主回乡"})
		if sus.State != grid.StateSuspended || sus.ResumeState != grid.StateDispatched || sus.PausedDay != 20260930 {
			t.Fatalf("suspended %+v", sus)
		}
		f.now = time.Date(2026, 10, 12, 9, 0, 0, 0, china) // Mon; waited 10-08, 10-09, 10-10, 10-12
		if sus.Overdue(20261012) {
			t.Fatal("a suspended incident is overdue")
		}
		res := f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActResume})
		if res.State != grid.StateDispatched || res.PausedDays != 4 || res.PausedDay != 0 {
			t.Fatalf("resumed %+v", res)
		}
		incDay(t, res, 20261014) // 10-09 + 4 working days: 10-10, 10-12, 10-13, 10-14

		// a registered incident suspended and resumed has no clock to move
		reg := register()
		f.do(f.villageStaff, reg.ID, grid.Action{Kind: grid.ActSuspend, Note: "待核实"})
		reg = f.do(f.villageStaff, reg.ID, grid.Action{Kind: grid.ActResume})
		if reg.State != grid.StateRegistered || reg.Deadline != 0 {
			t.Fatalf("resumed registered %+v", reg)
		}
	})
}

func TestIncidentEscalationReturnReworkCloseEvaluate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		in := f.report(f.workerA1, f.gridA1, catDrain)
		in = f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActRegister})
		in = f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActDispatch}) // due 10-09

		// escalation only when overdue, and up one level at a time
		_, err := f.svc.Do(f.ctx, f.townStaffA, in.ID, grid.Action{Kind: grid.ActEscalate})
		wantFieldError(t, err, "note:escalate_not_overdue")
		f.now = time.Date(2026, 10, 9, 17, 0, 0, 0, china) // the last day: not overdue yet
		_, err = f.svc.Do(f.ctx, f.townStaffA, in.ID, grid.Action{Kind: grid.ActEscalate})
		wantFieldError(t, err, "note:escalate_not_overdue")
		f.now = time.Date(2026, 10, 10, 9, 0, 0, 0, china)
		if !in.Overdue(20261010) {
			t.Fatal("not overdue on 10-10")
		}
		// a grid worker cannot escalate; the village (holder) and the
		// township (the unit above) can
		if _, err := f.svc.Do(f.ctx, f.workerA1, in.ID, grid.Action{Kind: grid.ActEscalate}); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("worker escalates: %v", err)
		}
		up := f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActEscalate, Note: "村里无力处置"})
		if up.Holder != townA || up.HolderLevel != grid.LevelTownship || up.Escalations != 1 || up.State != grid.StateDispatched {
			t.Fatalf("escalated %+v", up)
		}
		incDay(t, up, 20261013) // 2 working days from Sat 10-10: Mon 10-12, Tue 10-13
		if f.sum(grid.MetricEscalated, county) != 1 {
			t.Fatal("escalation not counted")
		}
		// now the village staff cannot handle it: the township holds it
		if _, err := f.svc.Do(f.ctx, f.villageStaff, in.ID, grid.Action{Kind: grid.ActHandle, Note: "已疏通"}); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("village handles a township-held incident: %v", err)
		}
		f.now = time.Date(2026, 10, 14, 9, 0, 0, 0, china)
		top := f.do(f.townStaffA, in.ID, grid.Action{Kind: grid.ActEscalate, Department: "锡山区住房和城乡建设局"})
		if top.Holder != county || top.HolderLevel != grid.LevelDepartment || top.Department != "锡山区住房和城乡建设局" || top.Escalations != 2 {
			t.Fatalf("escalated to the county %+v", top)
		}
		f.now = time.Date(2026, 10, 30, 9, 0, 0, 0, china)
		_, err = f.svc.Do(f.ctx, f.countyStaff, in.ID, grid.Action{Kind: grid.ActEscalate})
		wantFieldError(t, err, "note:escalate_top")
		// handled after an escalation is never on time
		_, err = f.svc.Do(f.ctx, f.countyStaff, in.ID, grid.Action{Kind: grid.ActHandle})
		wantFieldError(t, err, "note:reason_required")
		done := f.do(f.countyStaff, in.ID, grid.Action{Kind: grid.ActHandle, Note: "已更换排水管", Photos: [][]byte{jpeg}})
		if done.OnTime || done.HandledDay != 20261030 || done.State != grid.StateHandled {
			t.Fatalf("handled %+v", done)
		}

		// rework: the on-the-spot check fails, back to the handling unit
		_, err = f.svc.Do(f.ctx, f.workerA1, in.ID, grid.Action{Kind: grid.ActRework})
		wantFieldError(t, err, "note:reason_required")
		back := f.do(f.workerA1, in.ID, grid.Action{Kind: grid.ActRework, Note: "仍有积水"})
		if back.State != grid.StateDispatched || back.HandledDay != 0 || back.Holder != county {
			t.Fatalf("rework %+v", back)
		}
		f.do(f.countyStaff, in.ID, grid.Action{Kind: grid.ActHandle, Note: "已彻底疏通"})
		f.do(f.workerA1, in.ID, grid.Action{Kind: grid.ActVerify, Photos: [][]byte{jpeg}})
		// closing belongs to the village or above, not to the grid worker
		if _, err := f.svc.Do(f.ctx, f.workerA1, in.ID, grid.Action{Kind: grid.ActClose}); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("worker closes: %v", err)
		}
		closed := f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActClose})
		if closed.ClosedLevel != grid.LevelDepartment || closed.State != grid.StateClosed {
			t.Fatalf("closed %+v", closed)
		}
		if f.sum(grid.MetricClosed, county) != 1 || f.sum(grid.MetricClosedVillage, county) != 0 || f.sum(grid.MetricClosedOnTime, county) != 0 ||
			f.sum("grid.closed.level.department", county) != 1 {
			t.Fatal("a department's close counted as the village's")
		}

		// return: a township sends back what is not its job; the village
		// cannot return what it holds itself
		f.now = time.Date(2026, 9, 30, 10, 0, 0, 0, china)
		cov := f.report(f.workerA2, f.gridA2, catCover) // township, 1 working day
		f.do(f.villageStaff, cov.ID, grid.Action{Kind: grid.ActRegister})
		cov = f.do(f.villageStaff, cov.ID, grid.Action{Kind: grid.ActDispatch})
		if cov.Holder != townA || cov.HolderLevel != grid.LevelTownship {
			t.Fatalf("category level: %+v", cov)
		}
		_, err = f.svc.Do(f.ctx, f.townStaffA, cov.ID, grid.Action{Kind: grid.ActReturn})
		wantFieldError(t, err, "note:reason_required")
		ret := f.do(f.townStaffA, cov.ID, grid.Action{Kind: grid.ActReturn, Note: "属小区物业维修范围"})
		if ret.State != grid.StateRegistered || ret.Holder != villageA || ret.HolderLevel != grid.LevelVillage || ret.Deadline != 0 || ret.DispatchedDay != 0 {
			t.Fatalf("returned %+v", ret)
		}
		cov = f.do(f.villageStaff, cov.ID, grid.Action{Kind: grid.ActDispatch, Level: grid.LevelVillage})
		_, err = f.svc.Do(f.ctx, f.villageStaff, cov.ID, grid.Action{Kind: grid.ActReturn, Note: "不归我们"})
		wantFieldError(t, err, "note:return_at_village")

		// closed by the village, on time: counted as settled in the village
		f.do(f.villageStaff, cov.ID, grid.Action{Kind: grid.ActHandle, Note: "已盖好井盖"})
		f.do(f.workerA2, cov.ID, grid.Action{Kind: grid.ActVerify})
		cov = f.do(f.villageStaff, cov.ID, grid.Action{Kind: grid.ActClose})
		if !cov.OnTime || cov.ClosedLevel != grid.LevelVillage {
			t.Fatalf("closed in the village %+v", cov)
		}
		if f.sum(grid.MetricClosed, county) != 2 || f.sum(grid.MetricClosedVillage, county) != 1 || f.sum(grid.MetricClosedOnTime, county) != 1 ||
			f.sum(grid.MetricClosedVillage, f.gridA2) != 1 || f.sum(grid.MetricClosedVillage, f.gridA1) != 0 {
			t.Fatal("the village's close not counted at its grid")
		}

		// the rating: once, 1 to 5, by the reporter's side
		for _, r := range []int{0, 6} {
			_, err = f.svc.Do(f.ctx, f.workerA2, cov.ID, grid.Action{Kind: grid.ActEvaluate, Rating: r})
			wantFieldError(t, err, "rating:rating_range")
		}
		rated := f.do(f.workerA2, cov.ID, grid.Action{Kind: grid.ActEvaluate, Rating: 4, Note: "处理及时"})
		if rated.Rating != 4 || rated.RatingComment != "处理及时" {
			t.Fatalf("rated %+v", rated)
		}
		_, err = f.svc.Do(f.ctx, f.workerA2, cov.ID, grid.Action{Kind: grid.ActEvaluate, Rating: 5})
		wantFieldError(t, err, "rating:rated_already")
		if f.sum(grid.MetricRated, county) != 1 || f.sum(grid.MetricRatingSum, county) != 4 {
			t.Fatal("the rating counted twice")
		}

		// rejection: a reason, or the incident it duplicates (same village)
		dup := f.report(f.workerA1, f.gridA1, catDrain)
		_, err = f.svc.Do(f.ctx, f.villageStaff, dup.ID, grid.Action{Kind: grid.ActReject})
		wantFieldError(t, err, "note:reason_required")
		other := f.report(f.workerB1, f.gridB1, catDrain)
		for _, n := range []string{"SJ000000000000-20260930-0001", other.Number, dup.Number} {
			_, err = f.svc.Do(f.ctx, f.villageStaff, dup.ID, grid.Action{Kind: grid.ActReject, DuplicateOf: n})
			wantFieldError(t, err, "duplicate_of:duplicate_unknown")
		}
		rej := f.do(f.villageStaff, dup.ID, grid.Action{Kind: grid.ActReject, DuplicateOf: in.Number})
		if rej.State != grid.StateRejected || rej.DuplicateOf != in.ID || rej.Reason != in.Number || rej.ClosedDay == 0 {
			t.Fatalf("rejected %+v", rej)
		}
	})
}

func TestIncidentPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		in := f.report(f.workerA1, f.gridA1, catDrain)
		// outside the scope: not found, whether the incident exists or not
		for _, p := range []*access.Principal{f.workerA2, f.workerB1, f.villageStaffB, f.townStaffB} {
			if _, err := f.svc.Get(f.ctx, p, in.ID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s sees another grid's incident: %v", p.Username, err)
			}
			if _, err := f.svc.ByNumber(f.ctx, p, in.Number); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s finds another grid's incident by number: %v", p.Username, err)
			}
			if _, err := f.svc.Do(f.ctx, p, in.ID, grid.Action{Kind: grid.ActNote, Note: "看看"}); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s acts on another grid's incident: %v", p.Username, err)
			}
		}
		if _, err := f.svc.Get(f.ctx, f.admin, 999999); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		// in scope but without the permission the action needs
		for _, c := range []struct {
			p    *access.Principal
			kind string
		}{{f.viewer, grid.ActRegister}, {f.workerA1, grid.ActRegister}, {f.officer, grid.ActRegister}, {f.viewer, grid.ActNote}} {
			if _, err := f.svc.Do(f.ctx, c.p, in.ID, incValidAction(c.kind)); !errors.Is(err, grid.ErrForbidden) {
				t.Errorf("%s may %s: %v", c.p.Username, c.kind, err)
			}
		}
		// the worker of the grid adds a note; the village registers
		f.do(f.workerA1, in.ID, grid.Action{Kind: grid.ActNote, Photos: [][]byte{jpeg}})
		f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActRegister})
		// reporting needs grid.report where it happens
		if _, err := f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA2, Category: catDrain}); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("worker reports in another grid: %v", err)
		}
		if _, err := f.svc.ReportIncident(f.ctx, f.viewer, grid.Report{Division: f.gridA1, Category: catDrain}); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("viewer reports: %v", err)
		}
		if _, err := f.svc.ReportIncident(f.ctx, f.villageStaff, grid.Report{Division: villageA, Category: catDrain, Source: grid.SourceResident}); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("staff reports as a resident: %v", err)
		}
		// lists stay in scope too
		if _, _, err := f.svc.List(f.ctx, f.workerA1, grid.Filter{Unit: villageA}); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("worker lists the village: %v", err)
		}
		list, _, err := f.svc.List(f.ctx, f.workerA2, grid.Filter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("worker A2 lists %d (%v)", len(list), err)
		}
		list, _, err = f.svc.List(f.ctx, f.workerA1, grid.Filter{View: grid.ViewAll})
		if err != nil || len(list) != 1 || list[0].ID != in.ID {
			t.Fatalf("worker A1 lists %v (%v)", list, err)
		}
	})
}

func TestIncidentReportRefusesBadInputAndStoresNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// a geocoded household in Beijing, and one in the county: the county
		// check compares a position with the households near it
		if _, err := f.divs.Import(f.ctx, strings.NewReader(incBeijingCSV), division.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		var bjHousehold int64
		for _, h := range []registry.HouseholdInput{
			{Division: incBeijingVillage, Address: "多福巷 1 号", Lat: "39.9160", Lon: "116.4040"},
			{Division: f.gridA1, Address: "门楼社区 8 栋", Lat: "31.5880", Lon: "120.3600"},
		} {
			hh, err := f.reg.CreateHousehold(f.ctx, f.admin, h)
			if err != nil {
				t.Fatal(err)
			}
			if h.Division == incBeijingVillage {
				bjHousehold = hh.ID
			}
		}
		fl := func(v float64) *float64 { return &v }
		seven := make([][]byte, grid.MaxPhotos+1)
		for i := range seven {
			seven[i] = jpeg
		}
		cases := []struct {
			name string
			r    func(r *grid.Report)
			want string
		}{
			{"no category", func(r *grid.Report) { r.Category = "" }, "category:required"},
			{"unknown category", func(r *grid.Report) { r.Category = "XS-SJ-ZZ99" }, "category:category_unknown"},
			{"too many photos", func(r *grid.Report) { r.Photos = seven }, "photos:too_many_photos"},
			{"not a photo", func(r *grid.Report) { r.Photos = [][]byte{jpeg, []byte("%PDF-1.7 not a photo")} }, "photos:photo_type"},
			{"photo too large", func(r *grid.Report) {
				r.Photos = [][]byte{append(bytes.Clone(jpeg), make([]byte, grid.MaxPhoto)...)}
			}, "photos:photo_size"},
			{"in Beijing", func(r *grid.Report) { r.Lat, r.Lon = fl(39.9165), fl(116.4045) }, "position:position_outside_county"},
			{"half a position", func(r *grid.Report) { r.Lat = fl(31.58) }, "position:position_invalid"},
			{"outside China", func(r *grid.Report) { r.Lat, r.Lon = fl(0), fl(0) }, "position:position_invalid"},
			{"description too long", func(r *grid.Report) { r.Description = strings.Repeat("水", 2001) }, "description:too_long"},
			{"a county", func(r *grid.Report) { r.Division = county }, "division:division_level"},
			{"unknown source", func(r *grid.Report) { r.Source = "pigeon" }, "source:source_unknown"},
			{"household of another village", func(r *grid.Report) { r.HouseholdID = bjHousehold }, "household:household_unknown"},
		}
		before := f.incSnapshotAll()
		for _, tc := range cases {
			r := grid.Report{Division: f.gridA1, Category: catDrain, Description: "积水"}
			tc.r(&r)
			_, err := f.svc.ReportIncident(f.ctx, f.admin, r)
			if err == nil {
				t.Errorf("%s: accepted", tc.name)
				continue
			}
			wantFieldError(t, err, tc.want)
		}
		if after := f.incSnapshotAll(); after != before {
			t.Fatalf("refused reports stored something: %+v → %+v", before, after)
		}
		// the photo-type error names the photo
		_, err := f.svc.ReportIncident(f.ctx, f.admin, grid.Report{Division: f.gridA1, Category: catDrain, Photos: [][]byte{jpeg, []byte("GIF89a")}})
		var es grid.Errors
		if !errors.As(err, &es) || es.For("photos") == nil || es.For("photos").Arg != "2" {
			t.Fatalf("photo number: %v", err)
		}

		// a position in the county, near its household, is fine
		in, err := f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA1, Category: catDrain, Lat: fl(31.5885), Lon: fl(120.3605),
			Photos: [][]byte{jpeg}, ClientKey: "draft-1"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(in.Number, "SJ320205001001-20260930-") || in.Source != grid.SourceWorker || in.Holder != villageA || in.ReporterID != f.workerA1.UserID {
			t.Fatalf("reported %+v", in)
		}
		// the same draft sent again is stored once
		again, err := f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA1, Category: catDrain, Lat: fl(31.5885), Lon: fl(120.3605),
			Photos: [][]byte{jpeg}, ClientKey: "draft-1"})
		if err != nil || again.ID != in.ID || again.Number != in.Number {
			t.Fatalf("retry: %+v %v", again, err)
		}
		if n := f.count(`SELECT count(*) FROM incidents WHERE client_key = 'draft-1'`); n != 1 {
			t.Fatalf("%d incidents for one draft", n)
		}
		if n := f.count(`SELECT count(*) FROM incident_photos WHERE incident_id = ?`, in.ID); n != 1 {
			t.Fatalf("%d photos for one draft", n)
		}
		if f.sum(grid.MetricReported, county) != 1 {
			t.Fatal("the retry counted twice")
		}
		// another reporter may use the same key
		other, err := f.svc.ReportIncident(f.ctx, f.villageStaff, grid.Report{Division: f.gridA1, Category: catDrain, ClientKey: "draft-1", Source: grid.SourceStaff})
		if err != nil || other.ID == in.ID {
			t.Fatalf("another reporter's draft: %+v %v", other, err)
		}
		_, err = f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA1, Category: catDrain, ClientKey: strings.Repeat("k", 65)})
		wantFieldError(t, err, "client_key:too_long")

		// a report with a too-long note on an action stores nothing either
		snap := f.incSnapshot(in.ID)
		_, err = f.svc.Do(f.ctx, f.villageStaff, in.ID, grid.Action{Kind: grid.ActNote, Note: strings.Repeat("说", 2001)})
		wantFieldError(t, err, "note:too_long")
		_, err = f.svc.Do(f.ctx, f.villageStaff, in.ID, grid.Action{Kind: grid.ActNote, Note: "x", Photos: seven})
		wantFieldError(t, err, "photos:too_many_photos")
		if after := f.incSnapshot(in.ID); after != snap {
			t.Fatalf("a refused note stored something:\n%+v\n%+v", snap, after)
		}
	})
}

// incSnapshotAll counts the rows a report writes.
func (f *fixture) incSnapshotAll() [4]int {
	return [4]int{f.count(`SELECT count(*) FROM incidents`), f.count(`SELECT count(*) FROM incident_steps`),
		f.count(`SELECT count(*) FROM incident_photos`), f.count(`SELECT COALESCE(SUM(value), 0) FROM facts WHERE metric LIKE 'grid.%'`)}
}

// Beijing, for a position outside the county.
const incBeijingCSV = `code,name,level,parent_code,urban_rural_code
110000000000,北京市,1,,
110100000000,市辖区,2,110000000000,
110101000000,东城区,3,110100000000,
110101001000,东华门街道,4,110101000000,
110101001001,多福巷社区居委会,5,110101001000,111
`

const incBeijingVillage = int64(110101001001) * 1000

// TestIncidentFactsRollUp: every unit's figure is the sum of its children's, for
// every metric the incidents move.
func TestIncidentFactsRollUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		incScenario(f)
		metrics := []string{grid.MetricReported, grid.MetricRegistered, grid.MetricRejected, grid.MetricClosed, grid.MetricClosedVillage,
			grid.MetricClosedOnTime, grid.MetricEscalated, grid.MetricRated, grid.MetricRatingSum, "grid.reported.source.worker",
			"grid.reported.source.staff", "grid.closed.level.village", "grid.closed.level.township"}
		own := func(metric string, code int64) int64 {
			v, err := facts.Sum(f.ctx, d, metric, code, code, 0, 999999)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for _, m := range metrics {
			if f.sum(m, county) != f.sum(m, townA)+f.sum(m, townB) {
				t.Errorf("%s: county %d ≠ townships %d + %d", m, f.sum(m, county), f.sum(m, townA), f.sum(m, townB))
			}
			if f.sum(m, townA) != f.sum(m, villageA)+f.sum(m, villageC) {
				t.Errorf("%s: township A ≠ its villages", m)
			}
			if f.sum(m, villageA) != f.sum(m, f.gridA1)+f.sum(m, f.gridA2)+own(m, villageA) {
				t.Errorf("%s: village A ≠ its grids and itself", m)
			}
		}
		if f.sum(grid.MetricReported, county) != 7 || f.sum(grid.MetricClosed, county) != 4 || f.sum(grid.MetricClosedVillage, county) != 3 ||
			f.sum(grid.MetricClosedOnTime, county) != 1 || f.sum(grid.MetricEscalated, county) != 1 || own(grid.MetricReported, villageA) != 1 {
			t.Fatalf("incScenario: reported %d closed %d in village %d", f.sum(grid.MetricReported, county), f.sum(grid.MetricClosed, county),
				f.sum(grid.MetricClosedVillage, county))
		}
	})
}

// incScenario is two months of incidents across the jurisdiction, reported
// on 2026-09-30: seven reported (one by staff at village A itself), five
// registered, one rejected; in September one closed by its village on time;
// on 10-12 three more closed late — two by their villages, one by the
// township (rated 3) — and one escalated from the village to the township.
// One road stays reported.
func incScenario(f *fixture) {
	f.t.Helper()
	f.now = time.Date(2026, 9, 30, 10, 0, 0, 0, china)
	dispatch := func(in grid.Incident, level string) {
		f.do(f.admin, in.ID, grid.Action{Kind: grid.ActRegister})
		f.do(f.admin, in.ID, grid.Action{Kind: grid.ActDispatch, Level: level})
	}
	finish := func(in grid.Incident, handler *access.Principal) {
		f.do(handler, in.ID, grid.Action{Kind: grid.ActHandle, Note: "已处置"})
		f.do(f.admin, in.ID, grid.Action{Kind: grid.ActVerify})
		f.do(f.admin, in.ID, grid.Action{Kind: grid.ActClose})
	}
	a1 := f.report(f.workerA1, f.gridA1, catDrain)
	a2 := f.report(f.workerA2, f.gridA2, catRubbish)
	b1 := f.report(f.workerB1, f.gridB1, catDrain)
	staff, err := f.svc.ReportIncident(f.ctx, f.villageStaff, grid.Report{Division: villageA, Category: catRubbish, Source: grid.SourceStaff})
	if err != nil {
		f.t.Fatal(err)
	}
	cover := f.report(f.workerA1, f.gridA1, catCover)
	f.report(f.workerA2, f.gridA2, catRoad) // stays reported
	rej := f.report(f.workerB1, f.gridB1, catRubbish)
	f.do(f.villageStaffB, rej.ID, grid.Action{Kind: grid.ActReject, Note: "不属于网格事件"})
	for _, in := range []grid.Incident{a1, b1, staff, a2} {
		dispatch(in, grid.LevelVillage)
	}
	dispatch(cover, grid.LevelTownship)
	finish(a1, f.villageStaff)

	f.now = time.Date(2026, 10, 12, 10, 0, 0, 0, china) // every deadline has passed
	finish(b1, f.villageStaffB)
	finish(staff, f.villageStaff)
	finish(cover, f.townStaffA)
	f.do(f.workerA1, cover.ID, grid.Action{Kind: grid.ActEvaluate, Rating: 3})
	f.do(f.townStaffA, a2.ID, grid.Action{Kind: grid.ActEscalate, Note: "超期未处置"})
}
