package policy

import (
	"regexp"
	"slices"
	"strings"
)

// Window is a pack's window.yaml: the catalogue of service items the one-stop
// service window handles (NH-6, NT-3, SX-6, XS-6) — grouped in categories,
// each with its handling level, time limit in working days, required
// materials, whether agency (代办) is allowed, and the typed form fields the
// intake form renders and validates. Admins may override items for their
// subtree in the database; the pack is the starting catalogue.
type Window struct {
	Categories []WindowCategory
	Items      []WindowItem
}

// WindowCategory is one category of service items (NH-6's eight, NT-3's ten).
type WindowCategory struct {
	Key   string   `yaml:"key" policy:"required" json:"key"`
	Label Text     `yaml:"label" policy:"required" json:"label"`
	Seeds []string `yaml:"seeds" json:"seeds,omitempty"`
}

// Handling levels of a service item: where the matter is decided.
const (
	LevelVillage    = "village"
	LevelTownship   = "township"
	LevelCounty     = "county"
	LevelDepartment = "department"
)

// Field types of an item's intake form.
const (
	FieldText     = "text"
	FieldNumber   = "number"
	FieldDate     = "date"
	FieldChoice   = "choice"
	FieldResident = "resident"
)

// WindowItem is one service item (服务事项).
type WindowItem struct {
	// Code is unique within the pack: upper-case letters, digits and '-'
	// (2–32), e.g. "NH-MZ-001". It is the Open311 service_code.
	Code     string `yaml:"code" policy:"required" json:"code"`
	Name     Text   `yaml:"name" policy:"required" json:"name"`
	Category string `yaml:"category" policy:"required" json:"category"`
	// Description is shown to residents (Open311 description).
	Description Text `yaml:"description" json:"description,omitempty"`
	// Level is where the matter is decided: village, township, county or
	// department; a village window accepts it and transfers it up.
	Level string `yaml:"level" policy:"required" json:"level"`
	// Department names the county department when Level is department
	// (required then, and only then). Where the jurisdiction has no county
	// level (Dongguan) it is a city department; it may also be the public
	// body that decides, such as a water or power utility.
	Department Text `yaml:"department" json:"department,omitempty"`
	// TimeLimit is the promised time in working days (1–365).
	TimeLimit int  `yaml:"time_limit" policy:"required" json:"time_limit"`
	Agency    bool `yaml:"agency" json:"agency"`
	// Online tells whether residents may apply through Open311.
	Online    bool             `yaml:"online" json:"online"`
	Materials []WindowMaterial `yaml:"materials" json:"materials,omitempty"`
	Fields    []WindowField    `yaml:"fields" json:"fields,omitempty"`
	Seeds     []string         `yaml:"seeds" json:"seeds,omitempty"`
}

// WindowMaterial is one document the applicant brings.
type WindowMaterial struct {
	Key      string `yaml:"key" policy:"required" json:"key"`
	Label    Text   `yaml:"label" policy:"required" json:"label"`
	Optional bool   `yaml:"optional" json:"optional,omitempty"`
}

// WindowField is one typed field of an item's intake form.
type WindowField struct {
	Key      string `yaml:"key" policy:"required" json:"key"`
	Label    Text   `yaml:"label" policy:"required" json:"label"`
	Type     string `yaml:"type" policy:"required" json:"type"`
	Required bool   `yaml:"required" json:"required,omitempty"`
	// Choices are the values of a choice field (key → label).
	Choices []WindowChoice `yaml:"choices" json:"choices,omitempty"`
	// Min and Max bound a number field (both zero: unbounded). Min must not
	// exceed Max, so a lower bound alone is written with an upper one.
	Min float64 `yaml:"min" json:"min,omitempty"`
	Max float64 `yaml:"max" json:"max,omitempty"`
	// MaxLength bounds a text field (0: 500).
	MaxLength int  `yaml:"max_length" json:"max_length,omitempty"`
	Hint      Text `yaml:"hint" json:"hint,omitempty"`
}

// WindowChoice is one value of a choice field.
type WindowChoice struct {
	Key   string `yaml:"key" policy:"required" json:"key"`
	Label Text   `yaml:"label" policy:"required" json:"label"`
}

// Item returns the item with code, if the pack defines it.
func (w *Window) Item(code string) (WindowItem, bool) {
	if w == nil {
		return WindowItem{}, false
	}
	for _, it := range w.Items {
		if it.Code == code {
			return it, true
		}
	}
	return WindowItem{}, false
}

// Category returns the category with key, if the pack defines it.
func (w *Window) Category(key string) (WindowCategory, bool) {
	if w == nil {
		return WindowCategory{}, false
	}
	for _, c := range w.Categories {
		if c.Key == key {
			return c, true
		}
	}
	return WindowCategory{}, false
}

type windowFile struct {
	Categories []WindowCategory `yaml:"categories" policy:"required"`
	Items      []WindowItem     `yaml:"items" policy:"required"`
}

var (
	// windowKeyRE is the form of category, material, field and choice keys.
	windowKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)
	// itemCodeRE is the form of item codes.
	itemCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9-]{1,31}$`)
)

// windowLevels and fieldTypes are the allowed values of WindowItem.Level and
// WindowField.Type.
var (
	windowLevels = []string{LevelVillage, LevelTownship, LevelCounty, LevelDepartment}
	fieldTypes   = []string{FieldText, FieldNumber, FieldDate, FieldChoice, FieldResident}
)

// Bounds of an item's time limit (working days) and of a text field's
// max_length.
const (
	maxTimeLimit = 365
	maxMaxLength = 2000
)

// applyWindow checks what the decoder cannot: key and code forms and
// uniqueness, category references, levels, departments, time limits, field
// types, choices, bounds and seed ids. Fields that did not decode are left to
// the decoder's errors.
func applyWindow(c *checker, p *Pack, f *windowFile) {
	// categories holds every declared key, even a malformed one, so that a
	// bad key is reported once and not again on each item that uses it.
	categories := map[string]int{} // key -> index of its first definition
	for i, cat := range f.Categories {
		path := indexPath("categories", i)
		checkWindowKey(c, "categories", i, "key", cat.Key, "category", categories)
		checkWindowSeeds(c, path, cat.Seeds)
	}

	codes := map[string]int{} // code -> index
	used := map[string]bool{} // categories with at least one item
	for i, it := range f.Items {
		path := indexPath("items", i)
		if c.valid(path + ".code") {
			if !itemCodeRE.MatchString(it.Code) {
				c.errorf(path+".code", "%q must be upper-case letters, digits and - (2–32, starting with a letter)", it.Code)
			}
			if j, dup := codes[it.Code]; dup {
				c.errorf(path+".code", "item %q is defined twice (also items[%d])", it.Code, j)
			} else {
				codes[it.Code] = i
			}
		}
		if c.valid(path + ".category") {
			used[it.Category] = true
			if _, ok := categories[it.Category]; !ok {
				c.errorf(path+".category", "%q is not a category of this file", it.Category)
			}
		}
		if c.valid(path+".level") && !slices.Contains(windowLevels, it.Level) {
			c.errorf(path+".level", "%q is not a level (want one of %s)", it.Level, strings.Join(windowLevels, ", "))
		}
		_, hasDept := c.pos[path+".department"]
		switch {
		case it.Level == LevelDepartment && !hasDept:
			c.errorf(path+".department", "required when level is department")
		case it.Level != LevelDepartment && hasDept && c.valid(path+".level"):
			c.errorf(path+".department", "only items with level department name a department (level is %s)", it.Level)
		}
		if c.valid(path+".time_limit") && (it.TimeLimit < 1 || it.TimeLimit > maxTimeLimit) {
			c.errorf(path+".time_limit", "%d working days is out of range (1–%d)", it.TimeLimit, maxTimeLimit)
		}

		materials := map[string]int{}
		for j, m := range it.Materials {
			checkWindowKey(c, path+".materials", j, "key", m.Key, "material", materials)
		}
		fields := map[string]int{}
		for j, fd := range it.Fields {
			checkWindowField(c, path+".fields", j, fd, fields)
		}
		if it.Online {
			for j, fd := range it.Fields {
				if fd.Type == FieldResident && fd.Required {
					c.errorf(path+".online", "an online item cannot require a resident field (fields[%d] %q): Open311 clients cannot name a resident", j, fd.Key)
				}
			}
		}
		checkWindowSeeds(c, path, it.Seeds)
	}

	for i, cat := range f.Categories {
		path := indexPath("categories", i)
		if j, ok := categories[cat.Key]; ok && j == i && !used[cat.Key] {
			c.errorf(path+".key", "category %q has no items", cat.Key)
		}
	}

	p.Window = &Window{Categories: f.Categories, Items: f.Items}
}

// checkWindowKey checks the key of list[i] (a category, material, field or
// choice; the key's field is named field): its form, and that it is unique
// among seen (key -> index of its first definition in list), which it
// updates.
func checkWindowKey(c *checker, list string, i int, field, key, what string, seen map[string]int) {
	path := indexPath(list, i) + "." + field
	if !c.valid(path) {
		return
	}
	if !windowKeyRE.MatchString(key) {
		c.errorf(path, "%q must be lower-case letters, digits and _ (2–40, starting with a letter)", key)
	}
	if j, dup := seen[key]; dup {
		c.errorf(path, "%s %q is defined twice (also %s)", what, key, indexPath(list, j))
		return
	}
	seen[key] = i
}

// checkWindowField checks list[i], one intake-form field, whose key must be
// unique among seen.
func checkWindowField(c *checker, list string, i int, f WindowField, seen map[string]int) {
	path := indexPath(list, i)
	checkWindowKey(c, list, i, "key", f.Key, "field", seen)
	typed := c.valid(path + ".type")
	if typed && !slices.Contains(fieldTypes, f.Type) {
		c.errorf(path+".type", "%q is not a field type (want one of %s)", f.Type, strings.Join(fieldTypes, ", "))
		typed = false
	}
	if !typed {
		return // the rules below depend on the type
	}

	if f.Type == FieldChoice {
		if validIfSet(c, path+".choices") && len(f.Choices) < 2 {
			c.errorf(path+".choices", "a choice field needs at least 2 choices, has %d", len(f.Choices))
		}
		choices := map[string]int{}
		for j, ch := range f.Choices {
			checkWindowKey(c, path+".choices", j, "key", ch.Key, "choice", choices)
		}
	} else if f.Choices != nil {
		c.errorf(path+".choices", "only choice fields have choices (type is %s)", f.Type)
	}

	if f.Type == FieldNumber {
		if validIfSet(c, path+".min") && validIfSet(c, path+".max") && f.Min > f.Max {
			c.errorf(path+".min", "min %g is greater than max %g (give both bounds; both 0 means unbounded)", f.Min, f.Max)
		}
	} else {
		for _, k := range []string{"min", "max"} {
			if _, set := c.pos[path+"."+k]; set {
				c.errorf(path+"."+k, "only number fields have %s (type is %s)", k, f.Type)
			}
		}
	}

	if _, set := c.pos[path+".max_length"]; set {
		switch {
		case f.Type != FieldText:
			c.errorf(path+".max_length", "only text fields have max_length (type is %s)", f.Type)
		case c.valid(path+".max_length") && (f.MaxLength < 0 || f.MaxLength > maxMaxLength):
			c.errorf(path+".max_length", "%d is out of range (0–%d; 0 means 500)", f.MaxLength, maxMaxLength)
		}
	}
}

// validIfSet reports whether path is absent or decoded cleanly.
func validIfSet(c *checker, path string) bool {
	_, set := c.pos[path]
	return !set || c.valid(path)
}

// checkWindowSeeds checks the seeds list of a category or item at path.
func checkWindowSeeds(c *checker, path string, seeds []string) {
	for j, s := range seeds {
		field := indexPath(path+".seeds", j)
		if c.valid(field) && !knownSeedIDs[s] {
			c.errorf(field, "unknown seed rule id %q", s)
		}
	}
}
