package policy

import (
	"slices"
	"strings"
)

// Grid is a pack's grid.yaml: what grid governance (DG-9, DG-11, DG-16,
// DG-17, SX-9, XS-12) needs as data — the incident categories in the shape
// of the national digital city-management standard GB/T 30428 (groups of
// components 部件 and events 事件, each category with the level that
// normally handles it and its time limit in working days), the radius within
// which a new report of the same category is suggested as a duplicate, the
// names the jurisdiction gives the incident states, the kinds of
// neighbourhood chiefs (巷长、栋长、楼长), the dispute types of mediation and
// the monthly patrol coverage target.
type Grid struct {
	Groups     []IncidentGroup
	Categories []IncidentCategory
	// DuplicateMeters is the radius of the duplicate suggestion (default 50).
	DuplicateMeters int
	// States renames incident states for the jurisdiction (state → label);
	// states not listed keep the platform's names.
	States map[string]Text
	Chiefs []GridKey
	// DisputeTypes are the kinds of disputes mediation records.
	DisputeTypes []GridKey
	// PatrolTarget is the share of a grid's households a grid worker should
	// visit each month (0–1; 0: no target).
	PatrolTarget float64
}

// Incident kinds of GB/T 30428: components (部件: public facilities) and
// events (事件: happenings).
const (
	IncidentComponent = "component"
	IncidentEvent     = "event"
)

// IncidentGroup is a major class (大类) of incident categories.
type IncidentGroup struct {
	Key   string   `yaml:"key" policy:"required" json:"key"`
	Label Text     `yaml:"label" policy:"required" json:"label"`
	Kind  string   `yaml:"kind" policy:"required" json:"kind"`
	Seeds []string `yaml:"seeds" json:"seeds,omitempty"`
}

// IncidentCategory is a category (小类) of incidents.
type IncidentCategory struct {
	// Code is unique within the pack and distinct from the window's item
	// codes (both are Open311 service codes): upper-case letters, digits and
	// '-' (2–32).
	Code  string `yaml:"code" policy:"required" json:"code"`
	Name  Text   `yaml:"name" policy:"required" json:"name"`
	Group string `yaml:"group" policy:"required" json:"group"`
	// Description is shown to residents (Open311 description).
	Description Text `yaml:"description" json:"description,omitempty"`
	// Level is where the category is normally handled: village, township or
	// department (a county department, named by Department).
	Level      string `yaml:"level" policy:"required" json:"level"`
	Department Text   `yaml:"department" json:"department,omitempty"`
	// TimeLimit is the time from dispatch to handling in working days (1–60).
	TimeLimit int `yaml:"time_limit" policy:"required" json:"time_limit"`
	// Online tells whether residents may report it through Open311.
	Online bool     `yaml:"online" json:"online"`
	Seeds  []string `yaml:"seeds" json:"seeds,omitempty"`
}

// GridKey is a keyed label (a chief kind, a dispute type).
type GridKey struct {
	Key   string   `yaml:"key" policy:"required" json:"key"`
	Label Text     `yaml:"label" policy:"required" json:"label"`
	Seeds []string `yaml:"seeds" json:"seeds,omitempty"`
}

// IncidentStates are the incident states a pack may rename (the mechanism,
// internal/grid, defines their order and rules).
var IncidentStates = []string{"reported", "registered", "dispatched", "handled", "suspended", "verified", "closed", "rejected"}

// Category returns the incident category with code.
func (g *Grid) Category(code string) (IncidentCategory, bool) {
	if g == nil {
		return IncidentCategory{}, false
	}
	for _, c := range g.Categories {
		if c.Code == code {
			return c, true
		}
	}
	return IncidentCategory{}, false
}

// Group returns the group with key.
func (g *Grid) Group(key string) (IncidentGroup, bool) {
	if g == nil {
		return IncidentGroup{}, false
	}
	for _, gr := range g.Groups {
		if gr.Key == key {
			return gr, true
		}
	}
	return IncidentGroup{}, false
}

// DisputeType returns the dispute type with key.
func (g *Grid) DisputeType(key string) (GridKey, bool) {
	if g == nil {
		return GridKey{}, false
	}
	for _, t := range g.DisputeTypes {
		if t.Key == key {
			return t, true
		}
	}
	return GridKey{}, false
}

// Chief returns the chief kind with key.
func (g *Grid) Chief(key string) (GridKey, bool) {
	if g == nil {
		return GridKey{}, false
	}
	for _, t := range g.Chiefs {
		if t.Key == key {
			return t, true
		}
	}
	return GridKey{}, false
}

// StateLabel returns the pack's name for an incident state in locale, or ""
// when the pack keeps the platform's.
func (g *Grid) StateLabel(state, locale string) string {
	if g == nil {
		return ""
	}
	if t, ok := g.States[state]; ok {
		return t.Get(locale)
	}
	return ""
}

type gridFile struct {
	Groups          []IncidentGroup    `yaml:"groups" policy:"required"`
	Categories      []IncidentCategory `yaml:"categories" policy:"required"`
	DuplicateMeters int                `yaml:"duplicate_meters"`
	States          map[string]Text    `yaml:"states"`
	Chiefs          []GridKey          `yaml:"chiefs"`
	DisputeTypes    []GridKey          `yaml:"dispute_types" policy:"required"`
	PatrolTarget    float64            `yaml:"patrol_target"`
}

// Bounds of grid.yaml's numbers.
const (
	maxIncidentTimeLimit = 60
	maxDuplicateMeters   = 1000
)

var incidentLevels = []string{LevelVillage, LevelTownship, LevelDepartment}

// applyGrid checks what the decoder cannot: keys, codes and their uniqueness
// (also against the window's item codes), group references and kinds,
// levels, departments, time limits, state names and bounds.
func applyGrid(c *checker, p *Pack, f *gridFile) {
	groups := map[string]int{}
	for i, g := range f.Groups {
		path := indexPath("groups", i)
		checkWindowKey(c, "groups", i, "key", g.Key, "group", groups)
		if c.valid(path+".kind") && g.Kind != IncidentComponent && g.Kind != IncidentEvent {
			c.errorf(path+".kind", "%q is not a kind (want component or event)", g.Kind)
		}
		checkWindowSeeds(c, path, g.Seeds)
	}
	codes := map[string]int{}
	used := map[string]bool{}
	for i, cat := range f.Categories {
		path := indexPath("categories", i)
		if c.valid(path + ".code") {
			switch j, dup := codes[cat.Code]; {
			case !itemCodeRE.MatchString(cat.Code):
				c.errorf(path+".code", "%q must be upper-case letters, digits and - (2–32, starting with a letter)", cat.Code)
			case dup:
				c.errorf(path+".code", "category %q is defined twice (also categories[%d])", cat.Code, j)
			default:
				codes[cat.Code] = i
				if _, clash := p.Window.Item(cat.Code); clash {
					c.errorf(path+".code", "%q is also a window item code (both are Open311 service codes)", cat.Code)
				}
			}
		}
		if c.valid(path + ".group") {
			used[cat.Group] = true
			if _, ok := groups[cat.Group]; !ok {
				c.errorf(path+".group", "%q is not a group of this file", cat.Group)
			}
		}
		if c.valid(path+".level") && !slices.Contains(incidentLevels, cat.Level) {
			c.errorf(path+".level", "%q is not a level (want one of %s)", cat.Level, strings.Join(incidentLevels, ", "))
		}
		_, hasDept := c.pos[path+".department"]
		switch {
		case cat.Level == LevelDepartment && !hasDept:
			c.errorf(path+".department", "required when level is department")
		case cat.Level != LevelDepartment && hasDept && c.valid(path+".level"):
			c.errorf(path+".department", "only categories with level department name a department (level is %s)", cat.Level)
		}
		if c.valid(path+".time_limit") && (cat.TimeLimit < 1 || cat.TimeLimit > maxIncidentTimeLimit) {
			c.errorf(path+".time_limit", "%d working days is out of range (1–%d)", cat.TimeLimit, maxIncidentTimeLimit)
		}
		checkWindowSeeds(c, path, cat.Seeds)
	}
	for i, g := range f.Groups {
		if j, ok := groups[g.Key]; ok && j == i && !used[g.Key] {
			c.errorf(indexPath("groups", i)+".key", "group %q has no categories", g.Key)
		}
	}
	if c.valid("duplicate_meters") && (f.DuplicateMeters < 0 || f.DuplicateMeters > maxDuplicateMeters) {
		c.errorf("duplicate_meters", "%d is out of range (0–%d; 0 means 50)", f.DuplicateMeters, maxDuplicateMeters)
	}
	for state := range f.States {
		if !slices.Contains(IncidentStates, state) {
			c.errorf("states."+state, "%q is not an incident state (want one of %s)", state, strings.Join(IncidentStates, ", "))
		}
	}
	chiefs := map[string]int{}
	for i, k := range f.Chiefs {
		checkWindowKey(c, "chiefs", i, "key", k.Key, "chief kind", chiefs)
		checkWindowSeeds(c, indexPath("chiefs", i), k.Seeds)
	}
	types := map[string]int{}
	for i, k := range f.DisputeTypes {
		checkWindowKey(c, "dispute_types", i, "key", k.Key, "dispute type", types)
		checkWindowSeeds(c, indexPath("dispute_types", i), k.Seeds)
	}
	if c.valid("patrol_target") && (f.PatrolTarget < 0 || f.PatrolTarget > 1) {
		c.errorf("patrol_target", "%g is out of range (0–1, a share of households)", f.PatrolTarget)
	}
	meters := f.DuplicateMeters
	if meters == 0 {
		meters = 50
	}
	p.Grid = &Grid{Groups: f.Groups, Categories: f.Categories, DuplicateMeters: meters, States: f.States,
		Chiefs: f.Chiefs, DisputeTypes: f.DisputeTypes, PatrolTarget: f.PatrolTarget}
}
