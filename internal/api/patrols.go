package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/registry"
)

// PatrolVisit is one patrol visit (走访) of a household by a grid worker
// (DG-9).
type PatrolVisit struct {
	ID          int64            `json:"id" example:"42"`
	Division    string           `json:"division" doc:"15-digit code of the household's grid, else its village, at the visit (the figures count there)" example:"320205001001001"`
	HouseholdID int64            `json:"household_id"`
	Household   *PatrolHousehold `json:"household,omitempty" doc:"The household, when the caller may see it (resident.view where it lives)"`
	WorkerID    int64            `json:"worker_id" doc:"The account that visited"`
	WorkerName  string           `json:"worker_name"`
	Day         string           `json:"day" format:"date" doc:"Day of the visit (China)"`
	At          string           `json:"at" format:"date-time" doc:"RFC 3339, China time (+08:00)"`
	Note        string           `json:"note,omitempty" doc:"What was found"`
	Problem     bool             `json:"problem" doc:"Something was found that needs an incident"`
	Incident    string           `json:"incident,omitempty" doc:"The number of the incident reported from the visit, when the caller sees it" example:"SJ320205001001-20260930-0007"`
	Lat         *float64         `json:"lat,omitempty" doc:"Where the worker stood (WGS-84)"`
	Lon         *float64         `json:"lon,omitempty" doc:"WGS-84"`
	First       *bool            `json:"first,omitempty" doc:"Only in the answer of the POST: the household's first visit of the month, which counts it as visited in the coverage"`
}

// PatrolHousehold is the household of a visit.
type PatrolHousehold struct {
	Number  string `json:"number,omitempty" doc:"Household number (户号)"`
	Address string `json:"address,omitempty"`
	HouseNo string `json:"house_no,omitempty" example:"8号"`
}

// toVisit converts a visit; households are those the caller may see (by
// id) and incident lookups are made only where the caller holds grid.view.
func (s *server) toVisit(ctx context.Context, v grid.Visit, households map[int64]registry.HouseholdRow) PatrolVisit {
	out := PatrolVisit{ID: v.ID, Division: codeString(v.Division), HouseholdID: v.HouseholdID, WorkerID: v.WorkerID,
		WorkerName: v.WorkerName, Day: dayString(v.Day), At: timeString(v.At), Note: v.Note, Problem: v.Problem, Lat: v.Lat, Lon: v.Lon}
	if hr, ok := households[v.HouseholdID]; ok {
		out.Household = &PatrolHousehold{Number: hr.Number, Address: hr.Address, HouseNo: hr.HouseNo}
	}
	if p := access.From(ctx); v.IncidentID != 0 && p.CanAt("grid.view", v.Division) {
		if in, err := s.Grid.Get(ctx, p, v.IncidentID); err == nil {
			out.Incident = in.Number
		}
	}
	return out
}

// visibleHouseholds returns the households of the visits the caller may
// see, by id.
func (s *server) visibleHouseholds(ctx context.Context, visits []grid.Visit) (map[int64]registry.HouseholdRow, error) {
	if len(visits) == 0 {
		return nil, nil
	}
	list := make([]int64, len(visits))
	for i, v := range visits {
		list[i] = v.HouseholdID
	}
	return s.Grid.Registry.HouseholdsByID(ctx, access.From(ctx), list)
}

// patrolField names the request property behind a grid field error of a
// visit.
func patrolField(field string) string {
	switch field {
	case "household":
		return "household_id"
	case "position":
		return "lat"
	}
	return field
}

// gridError translates the errors of the grid's patrol and follow-up calls:
// invalid input is 422 with the first field (named by name) and code, the
// message listing every problem; a unit or record the caller may see but
// not act on is 403; what it may not see is 404.
func gridError(err error, name func(string) string) error {
	var es grid.Errors
	switch {
	case err == nil:
		return nil
	case errors.As(err, &es) && len(es) > 0:
		parts := make([]string, len(es))
		for i, e := range es {
			parts[i] = name(e.Field) + ": " + e.Code
			if e.Arg != "" {
				parts[i] += " (" + e.Arg + ")"
			}
		}
		return invalid(name(es[0].Field), es[0].Code, strings.Join(parts, "; "))
	case errors.Is(err, grid.ErrForbidden):
		return forbidden("not permitted to do this here")
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	}
	return err
}

// parseMonth reads a month parameter (2006-01, checked by its pattern) as
// YYYYMM; "" is 0.
func parseMonth(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return 0, err
	}
	return t.Year()*100 + int(t.Month()), nil
}

// monthString writes YYYYMM as 2006-01.
func monthString(m int) string {
	return strconv.Itoa(m/100) + "-" + strconv.Itoa(100 + m%100)[1:]
}

// unitParam reads an optional unit parameter ("" is 0) for an operation
// whose service reads 0 as the caller's scope of perm: "0" (the whole
// country, division.Root) is only for those holding perm there, anyone else
// gets 404 rather than its own scope.
func unitParam(ctx context.Context, s, perm string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	code, err := parseCode(s)
	if err != nil {
		return 0, invalid("unit", CodeInvalid, err.Error())
	}
	if code == division.Root && !access.From(ctx).CanAt(perm, division.Root) {
		return 0, notFound()
	}
	return code, nil
}

// NewPatrolVisit is a visit logged by a grid worker at a household's door.
type NewPatrolVisit struct {
	HouseholdID int64    `json:"household_id,omitempty" minimum:"0" doc:"Required: the household visited (absent: patrol_household_required). The caller needs grid.report where it lives; a household it may not see is patrol_household_unknown"`
	Note        string   `json:"note,omitempty" maxLength:"8000" doc:"What was found (at most 2000 characters)"`
	Problem     bool     `json:"problem,omitempty" doc:"Something was found that needs an incident: report it with POST /incidents, source patrol and this visit's id as patrol_id"`
	Lat         *float64 `json:"lat,omitempty" minimum:"-90" maximum:"90" doc:"Where the worker stands"`
	Lon         *float64 `json:"lon,omitempty" minimum:"-180" maximum:"180"`
	Coords      string   `json:"coords,omitempty" enum:"wgs84,cgcs2000,gcj02,bd09" default:"wgs84" doc:"The system lat and lon are given in; stored as WGS-84"`
}

type createVisitIn struct{ Body NewPatrolVisit }

type createdVisitOut struct {
	Location string `header:"Location"`
	Body     PatrolVisit
}

type visitPath struct {
	ID int64 `path:"id" minimum:"1" doc:"Visit id"`
}

type visitOut struct{ Body PatrolVisit }

type visitsIn struct {
	Unit    string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Only visits of households in this subtree (inside the caller's grid.view scope); default: the caller's whole grid.view scope, or with mine every own visit"`
	Month   string `query:"month" pattern:"^[0-9]{4}-(0[1-9]|1[0-2])$" doc:"Only visits of this month (YYYY-MM); default: every month" example:"2026-09"`
	Mine    bool   `query:"mine" doc:"Only the caller's own visits"`
	Problem bool   `query:"problem" doc:"Only visits that found a problem"`
	Limit   int    `query:"limit" default:"50" minimum:"1" maximum:"200"`
	Offset  int    `query:"offset" minimum:"0" maximum:"1000000"`
}

// PatrolVisitList is one page of visits, newest first.
type PatrolVisitList struct {
	Items []PatrolVisit `json:"items" nullable:"false"`
	More  bool          `json:"more" doc:"More visits follow: ask again with offset + limit"`
}

type visitsOut struct{ Body PatrolVisitList }

type coverageIn struct {
	Unit  string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"The unit (inside the caller's grid.view scope; default its first)"`
	Month string `query:"month" pattern:"^[0-9]{4}-(0[1-9]|1[0-2])$" doc:"The month (YYYY-MM); default this month" example:"2026-09"`
}

// PatrolCoverage is the share of a unit's households visited in a month:
// one row per grid of a village or grid (the village's households in no
// grid last), or per child unit of a township or above, and their total.
type PatrolCoverage struct {
	Unit  string              `json:"unit" example:"320205001001000"`
	Month string              `json:"month" example:"2026-09"`
	Rows  []PatrolCoverageRow `json:"rows" nullable:"false"`
	Total PatrolCoverageRow   `json:"total" doc:"The unit: the sum of the rows, against the unit's target"`
}

// PatrolCoverageRow is one unit's patrol figures of a month.
type PatrolCoverageRow struct {
	Unit       string  `json:"unit" example:"320205001001001"`
	Name       string  `json:"name,omitempty" example:"第一网格"`
	Ungridded  bool    `json:"ungridded,omitempty" doc:"The row is the village's households that belong to no grid (unit is the village)"`
	Households int64   `json:"households" doc:"The unit's current households (someone lives there), counted now"`
	Visited    int64   `json:"visited" doc:"Households visited at least once in the month"`
	Visits     int64   `json:"visits"`
	Problems   int64   `json:"problems" doc:"Visits that found a problem"`
	Share      float64 `json:"share" minimum:"0" doc:"visited / households, 0–1 rounded to 4 decimals (0 without households)" example:"0.875"`
	Target     float64 `json:"target,omitempty" minimum:"0" maximum:"1" doc:"The policy pack's monthly target share, 0–1; absent when the pack sets none" example:"1"`
	Met        bool    `json:"met" doc:"The share reached the target (never without a target or households)"`
}

type coverageOut struct{ Body PatrolCoverage }

func toCoverageRow(r grid.CoverageRow) PatrolCoverageRow {
	return PatrolCoverageRow{Unit: codeString(r.Unit), Name: r.Name, Ungridded: r.Ungridded, Households: r.Households,
		Visited: r.Visited, Visits: r.Visits, Problems: r.Problems, Share: math.Round(r.Share()*1e4) / 1e4, Target: r.Target, Met: r.Met()}
}

func (s *server) registerPatrols(a huma.API) {
	tags := []string{"patrols"}
	create := op("log-patrol-visit", http.MethodPost, "/patrols", "Log a patrol visit of a household", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.Description = "The caller needs grid.report where the household lives (403 where it sees the household but may not " +
		"report). Every problem of the input is checked at once; the first is the error's field and code (household_id " +
		"patrol_household_unknown, note patrol_note_too_long, lat position_invalid or position_outside_county) and the message " +
		"lists them all. The first visit of a household in a month counts it as visited (first is true)."
	huma.Register(a, create, s.logVisit)
	huma.Register(a, op("list-patrol-visits", http.MethodGet, "/patrols", "Patrol visits in the caller's grid.view scope, or its own", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listVisits)
	huma.Register(a, op("get-patrol-coverage", http.MethodGet, "/patrols/coverage", "The share of a unit's households visited in a month", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.coverage)
	huma.Register(a, op("get-patrol-visit", http.MethodGet, "/patrols/{id}", "A visit: the caller's own, or one where it holds grid.view", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getVisit)
}

func (s *server) logVisit(ctx context.Context, in *createVisitIn) (*createdVisitOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	b := in.Body
	if (b.Lat == nil) != (b.Lon == nil) {
		return nil, invalid("lat", "position_invalid", "give both lat and lon, or neither")
	}
	lat, lon := b.Lat, b.Lon
	if lat != nil {
		sys, err := geo.ParseSystem(b.Coords)
		if err != nil {
			return nil, invalid("coords", CodeInvalid, err.Error())
		}
		pt, err := geo.ToWGS84(sys, *lat, *lon)
		if err != nil {
			return nil, invalid("lat", "position_invalid", err.Error())
		}
		lat, lon = &pt.Lat, &pt.Lon
	}
	p := access.From(ctx)
	v, err := s.Grid.LogVisit(ctx, p, grid.Visit{HouseholdID: b.HouseholdID, Note: b.Note, Problem: b.Problem, Lat: lat, Lon: lon})
	if err != nil {
		return nil, gridError(err, patrolField)
	}
	hs, err := s.visibleHouseholds(ctx, []grid.Visit{v})
	if err != nil {
		return nil, err
	}
	out := s.toVisit(ctx, v, hs)
	first := v.First
	out.First = &first
	return &createdVisitOut{Location: Prefix + "/patrols/" + strconv.FormatInt(v.ID, 10), Body: out}, nil
}

func (s *server) getVisit(ctx context.Context, in *visitPath) (*visitOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	v, err := s.Grid.Visit(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, gridError(err, patrolField)
	}
	hs, err := s.visibleHouseholds(ctx, []grid.Visit{v})
	if err != nil {
		return nil, err
	}
	return &visitOut{Body: s.toVisit(ctx, v, hs)}, nil
}

func (s *server) listVisits(ctx context.Context, in *visitsIn) (*visitsOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	month, err := parseMonth(in.Month)
	if err != nil {
		return nil, invalid("month", CodeInvalid, err.Error())
	}
	unit, err := unitParam(ctx, in.Unit, "grid.view")
	if err != nil {
		return nil, err
	}
	visits, more, err := s.Grid.Visits(ctx, access.From(ctx), grid.VisitFilter{Unit: unit, Mine: in.Mine, Month: month,
		Problem: in.Problem, Offset: in.Offset, Limit: in.Limit})
	if err != nil {
		return nil, gridError(err, patrolField)
	}
	hs, err := s.visibleHouseholds(ctx, visits)
	if err != nil {
		return nil, err
	}
	out := &visitsOut{Body: PatrolVisitList{Items: make([]PatrolVisit, 0, len(visits)), More: more}}
	for _, v := range visits {
		out.Body.Items = append(out.Body.Items, s.toVisit(ctx, v, hs))
	}
	return out, nil
}

func (s *server) coverage(ctx context.Context, in *coverageIn) (*coverageOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	month, err := parseMonth(in.Month)
	if err != nil {
		return nil, invalid("month", CodeInvalid, err.Error())
	}
	unit, err := unitParam(ctx, in.Unit, "grid.view")
	if err != nil {
		return nil, err
	}
	c, err := s.Grid.Coverage(ctx, access.From(ctx), unit, month)
	if err != nil {
		return nil, gridError(err, patrolField)
	}
	out := PatrolCoverage{Unit: codeString(c.Unit), Month: monthString(c.Month), Rows: make([]PatrolCoverageRow, 0, len(c.Rows)),
		Total: toCoverageRow(c.Total)}
	for _, r := range c.Rows {
		out.Rows = append(out.Rows, toCoverageRow(r))
	}
	if c.Unit != division.Root {
		if d, err := s.Grid.Divisions.Get(ctx, c.Unit); err == nil {
			out.Total.Name = d.Name
		}
	}
	return &coverageOut{Body: out}, nil
}
