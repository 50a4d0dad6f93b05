package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
)

// parseCode reads a code that matched the pattern of the code parameters
// and fields: 6, 9, 12 or 15 digits, or "0" for the country.
func parseCode(s string) (int64, error) {
	if s == "0" {
		return division.Root, nil
	}
	return division.Parse(s)
}

// codeString writes a code for the API: 15 digits, or "0" for the country.
func codeString(c int64) string {
	if c == division.Root {
		return "0"
	}
	return division.Format(c)
}

// Division is one unit of the division tree.
type Division struct {
	Code       string  `json:"code" doc:"15-digit division code; \"0\" is the whole country" example:"320205001000000"`
	Name       string  `json:"name" doc:"Official name (empty for the country)" example:"东亭街道"`
	Level      int     `json:"level" minimum:"0" maximum:"6" doc:"0 country, 1 province, 2 prefecture, 3 county, 4 township, 5 village, 6 grid/group/building"`
	Parent     string  `json:"parent,omitempty" doc:"Code of the parent unit (\"0\" for provinces; absent for the country)"`
	Kind       string  `json:"kind" doc:"village or community at level 5; grid, group or building at level 6; empty otherwise"`
	UrbanRural int     `json:"urban_rural" doc:"Urban-rural classification code (111…220) of villages, else 0"`
	Retired    bool    `json:"retired" doc:"Retired units keep their code, which is never reused"`
	Counts     *Counts `json:"counts,omitempty" doc:"Active units in the subtree, from facts"`
}

// Counts are the active units of a subtree.
type Counts struct {
	Townships int64 `json:"townships"`
	Villages  int64 `json:"villages"`
	Grids     int64 `json:"grids"`
	Groups    int64 `json:"groups"`
	Buildings int64 `json:"buildings"`
}

func toCounts(c division.Counts) *Counts {
	return &Counts{Townships: c.Townships, Villages: c.Villages, Grids: c.Grids, Groups: c.Groups, Buildings: c.Buildings}
}

func toDivision(d division.Division) Division {
	out := Division{Code: codeString(d.Code), Name: d.Name, Level: d.Level, Kind: d.Kind, UrbanRural: d.UrbanRural, Retired: d.Retired}
	if d.Code != division.Root {
		out.Parent = codeString(d.Parent)
	}
	return out
}

// codePath is the {code} parameter. Inputs with more fields repeat its
// field: huma does not read parameters of embedded unexported structs.
type codePath struct {
	Code string `path:"code" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Division code: 6, 9, 12 or 15 digits (padded with zeros to 15), or 0 for the whole country" example:"320205001000000"`
}

type divisionOut struct {
	Body Division
}

// DivisionList is a list of units.
type DivisionList struct {
	Items []Division `json:"items" nullable:"false"`
}

type divisionsOut struct{ Body DivisionList }

// NewSub is a grid, villager group or building to create.
type NewSub struct {
	Kind string `json:"kind" enum:"grid,group,building" doc:"grid, villager group or building"`
	Name string `json:"name" maxLength:"200" doc:"Unique among the village's active units; at most 50 characters" example:"第一网格"`
}

// DivisionPatch changes a unit; absent fields stay as they are.
type DivisionPatch struct {
	Name    *string `json:"name,omitempty" maxLength:"200" doc:"New name"`
	Retired *bool   `json:"retired,omitempty" doc:"true retires a grid, group or building; false restores it"`
}

type subIn struct {
	Code string `path:"code" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Division code: 6, 9, 12 or 15 digits (padded with zeros to 15), or 0 for the whole country" example:"320205001000000"`
	Body NewSub
}

type createdDivisionOut struct {
	Location string `header:"Location"`
	Body     Division
}

type patchIn struct {
	Code string `path:"code" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Division code: 6, 9, 12 or 15 digits (padded with zeros to 15), or 0 for the whole country" example:"320205001000000"`
	Body DivisionPatch
}

func (s *server) registerDivisions(a huma.API) {
	tags := []string{"divisions"}
	huma.Register(a, op("get-division", http.MethodGet, "/divisions/{code}", "A unit with its counts", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getDivision)
	huma.Register(a, op("list-division-children", http.MethodGet, "/divisions/{code}/children", "The children of a unit, with their counts", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.children)
	huma.Register(a, op("search-divisions", http.MethodGet, "/divisions", "Search units by name or code prefix within the caller's scope", tags,
		http.StatusUnprocessableEntity), s.search)

	create := op("create-division-sub", http.MethodPost, "/divisions/{code}/subs", "Create a grid, villager group or building under a village", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = maxBody
	huma.Register(a, create, s.createSub)

	patch := op("update-division", http.MethodPatch, "/divisions/{code}", "Rename a unit, or retire or restore a grid, group or building", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	patch.MaxBodyBytes = maxBody
	huma.Register(a, patch, s.patchDivision)
}

// withCounts answers one unit with its subtree counts.
func (s *server) withCounts(ctx context.Context, d division.Division) (*divisionOut, error) {
	c, err := s.Divisions.Counts(ctx, d.Code)
	if err != nil {
		return nil, err
	}
	out := &divisionOut{Body: toDivision(d)}
	out.Body.Counts = toCounts(c)
	return out, nil
}

func (s *server) getDivision(ctx context.Context, in *codePath) (*divisionOut, error) {
	code, err := parseCode(in.Code)
	if err != nil {
		return nil, err
	}
	d, err := s.Divisions.View(ctx, access.From(ctx), code)
	if err != nil {
		return nil, err
	}
	return s.withCounts(ctx, d)
}

type childrenIn struct {
	Code           string `path:"code" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Division code: 6, 9, 12 or 15 digits (padded with zeros to 15), or 0 for the whole country" example:"320205001000000"`
	IncludeRetired bool   `query:"include_retired" doc:"Include retired grids, groups and buildings"`
}

func (s *server) children(ctx context.Context, in *childrenIn) (*divisionsOut, error) {
	code, err := parseCode(in.Code)
	if err != nil {
		return nil, err
	}
	p := access.From(ctx)
	u, err := s.Divisions.View(ctx, p, code)
	if err != nil {
		return nil, err
	}
	kids, err := s.Divisions.Store.Children(ctx, code, in.IncludeRetired)
	if err != nil {
		return nil, err
	}
	counts, err := s.Divisions.ChildCounts(ctx, u, kids)
	if err != nil {
		return nil, err
	}
	out := &divisionsOut{}
	out.Body.Items = []Division{}
	for _, k := range kids {
		if !p.CanAt("division.view", k.Code) {
			continue
		}
		d := toDivision(k)
		d.Counts = toCounts(counts[k.Code])
		out.Body.Items = append(out.Body.Items, d)
	}
	return out, nil
}

type searchIn struct {
	Q     string `query:"q" required:"true" minLength:"1" maxLength:"100" doc:"Part of a name, or the leading digits of a code"`
	Limit int    `query:"limit" default:"20" minimum:"1" maximum:"200"`
}

func (s *server) search(ctx context.Context, in *searchIn) (*divisionsOut, error) {
	got, err := s.Divisions.Search(ctx, access.From(ctx), in.Q, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &divisionsOut{}
	out.Body.Items = make([]Division, 0, len(got))
	for _, d := range got {
		out.Body.Items = append(out.Body.Items, toDivision(d))
	}
	return out, nil
}

func (s *server) createSub(ctx context.Context, in *subIn) (*createdDivisionOut, error) {
	code, err := parseCode(in.Code)
	if err != nil {
		return nil, err
	}
	d, err := s.Divisions.CreateSub(ctx, access.From(ctx), code, in.Body.Kind, in.Body.Name)
	if err != nil {
		return nil, err
	}
	o, err := s.withCounts(ctx, d)
	if err != nil {
		return nil, err
	}
	return &createdDivisionOut{Location: Prefix + "/divisions/" + o.Body.Code, Body: o.Body}, nil
}

// patchDivision applies a rename and a retire/restore in one transaction.
// Setting retired to the unit's current state is a no-op.
func (s *server) patchDivision(ctx context.Context, in *patchIn) (*divisionOut, error) {
	code, err := parseCode(in.Code)
	if err != nil {
		return nil, err
	}
	p := access.From(ctx)
	// Scope first, outside the transaction, so that a refusal's audit entry
	// is kept.
	cur, err := s.Divisions.View(ctx, p, code)
	if err != nil {
		return nil, err
	}
	if !p.CanAt("division.manage", code) {
		return nil, division.ErrForbidden
	}
	d := cur
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		var err error
		retire := in.Body.Retired
		if retire != nil && !*retire && d.Retired { // restore before renaming: a retired unit cannot be renamed
			if d, err = s.Divisions.SetRetired(ctx, p, code, false); err != nil {
				return err
			}
		}
		if in.Body.Name != nil {
			if d, err = s.Divisions.Rename(ctx, p, code, *in.Body.Name); err != nil {
				return err
			}
		}
		if retire != nil && *retire && !d.Retired {
			if d, err = s.Divisions.SetRetired(ctx, p, code, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.withCounts(ctx, d)
}
