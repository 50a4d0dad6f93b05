package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/facts"
)

// maxPeriod is the largest period YYYYMM.
const maxPeriod = 999912

type factsIn struct {
	Metric   string `path:"metric" maxLength:"64" pattern:"^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$" doc:"Metric name" example:"division.grids"`
	Division string `query:"division" required:"true" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"The subtree to sum over; it must lie inside the caller's division.view scope" example:"320205000000000"`
	From     int    `query:"from" minimum:"0" maximum:"999912" doc:"First period (YYYYMM), inclusive. Stock figures without a month (e.g. division.grids) have period 0 and count only when from is 0, the default."`
	To       int    `query:"to" minimum:"0" maximum:"999912" default:"999912" doc:"Last period (YYYYMM), inclusive"`
	By       string `query:"by" enum:"children" doc:"children: also give the figure of each child of the division"`
}

// FactItem is one child's figure.
type FactItem struct {
	Code    string `json:"code" example:"320205001000000"`
	Name    string `json:"name" example:"东亭街道"`
	Level   int    `json:"level"`
	Retired bool   `json:"retired"`
	Value   int64  `json:"value"`
}

// Facts is a figure over a subtree and a span of periods.
type Facts struct {
	Metric   string     `json:"metric"`
	Division string     `json:"division"`
	From     int        `json:"from"`
	To       int        `json:"to"`
	Total    int64      `json:"total" doc:"The metric summed over the division's subtree and the periods"`
	Items    []FactItem `json:"items,omitempty" doc:"With by=children: each child's figure, retired children included"`
}

type factsOut struct{ Body Facts }

func (s *server) registerFacts(a huma.API) {
	o := op("get-facts", http.MethodGet, "/facts/{metric}", "A figure summed over a subtree and a span of months, optionally per child", []string{"facts"},
		http.StatusNotFound, http.StatusUnprocessableEntity)
	huma.Register(a, o, s.getFacts)
}

func validPeriod(p int) bool { return p == 0 || p%100 >= 1 && p%100 <= 12 }

func (s *server) getFacts(ctx context.Context, in *factsIn) (*factsOut, error) {
	if !validPeriod(in.From) {
		return nil, invalid("from", CodeInvalid, "expected a period YYYYMM")
	}
	if !validPeriod(in.To) {
		return nil, invalid("to", CodeInvalid, "expected a period YYYYMM")
	}
	if in.To < in.From {
		return nil, invalid("to", CodeInvalid, "to is before from")
	}
	code, err := parseCode(in.Division)
	if err != nil {
		return nil, err
	}
	p := access.From(ctx)
	u, err := s.Divisions.View(ctx, p, code)
	if err != nil {
		return nil, err
	}
	lo, hi := u.Range()
	out := &factsOut{}
	b := &out.Body
	b.Metric, b.Division, b.From, b.To = in.Metric, codeString(code), in.From, in.To
	if b.Total, err = facts.Sum(ctx, s.DB, in.Metric, lo, hi, in.From, in.To); err != nil {
		return nil, err
	}
	if in.By != "children" {
		return out, nil
	}
	kids, err := s.Divisions.Store.Children(ctx, code, true)
	if err != nil {
		return nil, err
	}
	// One roll-up per level among the children (normally one level; the
	// townships of 东莞 hang under a level-2 parent), keyed by child code.
	byLevel := map[int]map[int64]int64{}
	b.Items = []FactItem{}
	for _, k := range kids {
		if !p.CanAt("division.view", k.Code) {
			continue
		}
		sums, ok := byLevel[k.Level]
		if !ok {
			if sums, err = facts.RollUp(ctx, s.DB, in.Metric, lo, hi, division.Span(k.Level), in.From, in.To); err != nil {
				return nil, err
			}
			byLevel[k.Level] = sums
		}
		klo, _ := k.Range()
		b.Items = append(b.Items, FactItem{Code: codeString(k.Code), Name: k.Name, Level: k.Level, Retired: k.Retired, Value: sums[klo]})
	}
	return out, nil
}
