package window

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Catalogue is the service catalogue a unit sees: the categories of the pack
// bound to it and its items, with admins' overrides along its ancestors
// applied (the most specific override of a code wins; a disabled one hides
// the item below it).
type Catalogue struct {
	Pack       string
	Categories []policy.WindowCategory
	Items      []Item
}

// Item returns the enabled item with code.
func (c *Catalogue) Item(code string) (Item, bool) {
	for _, it := range c.Items {
		if it.Code == code && !it.Disabled {
			return it, true
		}
	}
	return Item{}, false
}

// Enabled returns the items that are not disabled, in catalogue order.
func (c *Catalogue) Enabled() []Item {
	var out []Item
	for _, it := range c.Items {
		if !it.Disabled {
			out = append(out, it)
		}
	}
	return out
}

// CategoryLabel returns the category's label in locale (the key if unknown).
func (c *Catalogue) CategoryLabel(key, locale string) string {
	for _, k := range c.Categories {
		if k.Key == key {
			return k.Label.Get(locale)
		}
	}
	return key
}

// ancestors returns the codes of the units whose subtree holds code, from
// the root (0) down to code itself.
func ancestors(code int64) []int64 {
	out := []int64{0}
	for lvl := 1; lvl <= ids.Level(code); lvl++ {
		a := code - code%ids.Span(lvl)
		if a != out[len(out)-1] {
			out = append(out, a)
		}
	}
	return out
}

// Catalogue returns the catalogue of unit.
func (s *Service) Catalogue(ctx context.Context, unit int64) (*Catalogue, error) {
	c := &Catalogue{}
	if pk := s.Packs.For(unit); pk != nil {
		c.Pack = pk.Name
		if pk.Window != nil {
			c.Categories = pk.Window.Categories
			for _, it := range pk.Window.Items {
				c.Items = append(c.Items, Item{WindowItem: it, Pack: pk.Name})
			}
		}
	}
	anc := ancestors(unit)
	rows, err := s.DB.Query(ctx, `SELECT division, code, definition, disabled FROM service_items
		WHERE division IN (`+db.Placeholders(len(anc))+`) ORDER BY division, code`, int64sAny(anc)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var div int64
		var code, def string
		var disabled int
		if err := rows.Scan(&div, &code, &def, &disabled); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(c.Items, func(it Item) bool { return it.Code == code })
		it := Item{Pack: c.Pack, Division: div, Disabled: disabled != 0}
		if def != "" {
			if err := json.Unmarshal([]byte(def), &it.WindowItem); err != nil {
				return nil, err
			}
		} else if i >= 0 {
			it.WindowItem = c.Items[i].WindowItem
		} else {
			continue // disabling an item this unit does not have
		}
		it.Code = code
		if i >= 0 {
			c.Items[i] = it
		} else {
			c.Items = append(c.Items, it)
		}
	}
	return c, rows.Err()
}

func int64sAny(v []int64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

var (
	itemCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9-]{1,31}$`)
	keyRE      = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)
)

// checkItem validates an admin's item definition against the rules the
// pack loader applies to window.yaml.
func checkItem(cat *Catalogue, it policy.WindowItem) Errors {
	var es Errors
	if !itemCodeRE.MatchString(it.Code) {
		es.Add("code", "item_code")
	}
	if strings.TrimSpace(it.Name[policy.DefaultLocale]) == "" {
		es.Add("name", "required")
	}
	if !slices.ContainsFunc(cat.Categories, func(c policy.WindowCategory) bool { return c.Key == it.Category }) {
		es.Add("category", "category_unknown")
	}
	switch it.Level {
	case policy.LevelVillage, policy.LevelTownship, policy.LevelCounty:
	case policy.LevelDepartment:
		if strings.TrimSpace(it.Department[policy.DefaultLocale]) == "" {
			es.Add("department", "required")
		}
	default:
		es.Add("level", "level_unknown")
	}
	if it.TimeLimit < 1 || it.TimeLimit > 365 {
		es.Add("time_limit", "time_limit_range")
	}
	for _, f := range it.Fields {
		if it.Online && f.Type == policy.FieldResident && f.Required {
			es.Add("online", "online_resident") // Open311 clients cannot name a resident
		}
	}
	seen := map[string]bool{}
	for i, m := range it.Materials {
		if !keyRE.MatchString(m.Key) || seen[m.Key] {
			es.Add("materials", "material_key", strconv.Itoa(i+1))
		}
		seen[m.Key] = true
		if strings.TrimSpace(m.Label[policy.DefaultLocale]) == "" {
			es.Add("materials", "required")
		}
	}
	return es
}

// SaveItem stores an admin's definition of an item for the subtree of unit
// (window.manage there): a changed pack item or a new local one.
func (s *Service) SaveItem(ctx context.Context, p *access.Principal, unit int64, it policy.WindowItem) error {
	if !p.CanAt("window.manage", unit) {
		return ErrForbidden
	}
	cat, err := s.Catalogue(ctx, unit)
	if err != nil {
		return err
	}
	if es := checkItem(cat, it); len(es) > 0 {
		return es
	}
	def, err := json.Marshal(it)
	if err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.DB.Exec(ctx, `INSERT INTO service_items (division, code, definition, disabled, updated_at, updated_by)
			VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (division, code) DO UPDATE SET definition = excluded.definition,
			disabled = 0, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			unit, it.Code, string(def), db.Now(), audit.ActorFrom(ctx).Name); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "service_item", EntityID: it.Code, Division: unit,
			Changes: []audit.Change{{Field: "definition", After: string(def)}}})
	})
}

// SetItemDisabled hides (or shows again) an item in the subtree of unit.
func (s *Service) SetItemDisabled(ctx context.Context, p *access.Principal, unit int64, code string, disabled bool) error {
	if !p.CanAt("window.manage", unit) {
		return ErrForbidden
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.DB.Exec(ctx, `INSERT INTO service_items (division, code, definition, disabled, updated_at, updated_by)
			VALUES (?, ?, '', ?, ?, ?) ON CONFLICT (division, code) DO UPDATE SET disabled = excluded.disabled,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			unit, code, b2i(disabled), db.Now(), audit.ActorFrom(ctx).Name); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "service_item", EntityID: code, Division: unit,
			Changes: []audit.Change{{Field: "disabled", After: disabled}}})
	})
}

// ResetItem removes the override of code at unit (the definition above it
// applies again).
func (s *Service) ResetItem(ctx context.Context, p *access.Principal, unit int64, code string) error {
	if !p.CanAt("window.manage", unit) {
		return ErrForbidden
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.DB.Exec(ctx, `DELETE FROM service_items WHERE division = ? AND code = ?`, unit, code); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: "service_item", EntityID: code, Division: unit})
	})
}
