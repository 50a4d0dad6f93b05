package policy

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const packFileName = "pack.yaml"

// packFile is the schema of pack.yaml.
type packFile struct {
	Name   string          `yaml:"name" policy:"required"`
	Title  Text            `yaml:"title" policy:"required"`
	Source string          `yaml:"source" policy:"required"`
	Year   int             `yaml:"year" policy:"required"`
	Bind   []divisionRoot  `yaml:"bind" policy:"required"`
	Seeds  []string        `yaml:"seeds"`
	Levels map[string]Text `yaml:"levels" policy:"required"`
	Roles  map[string]Text `yaml:"roles" policy:"required"`
}

// levelKeys are the division levels a pack may name, top down. Each is
// optional: a jurisdiction may lack a level (Dongguan has no county).
var levelKeys = []string{"province", "prefecture", "county", "township", "village", "grid"}

// roleKeys are the platform's fixed role keys (internal/platform/access/roles.yaml).
var roleKeys = []string{"system_admin", "county_staff", "township_staff", "village_staff", "grid_worker", "special_groups_officer", "viewer"}

// requiredRoleKeys are the roles every pack must label; roles added later
// (special_groups_officer, with the registry) may be labelled, else the
// platform's catalogue names them.
var requiredRoleKeys = []string{"system_admin", "county_staff", "township_staff", "village_staff", "grid_worker", "viewer"}

var (
	seedIDPattern = regexp.MustCompile(`^(NH|DG|XS|SX|NT)-\d+$`)
	localePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

// minYear and maxYear bound a pack's year (sanity check against typos).
const minYear, maxYear = 1949, 2100

func applyPack(c *checker, p *Pack, f *packFile) {
	p.Name, p.Title, p.Source, p.Year = f.Name, f.Title, f.Source, f.Year
	p.Seeds, p.Levels, p.Roles = f.Seeds, f.Levels, f.Roles

	if c.valid("name") && f.Name != c.dir {
		c.errorf("name", "%q does not match its directory %q", f.Name, c.dir)
	}
	if c.valid("source") && strings.TrimSpace(f.Source) == "" {
		c.errorf("source", "must not be empty")
	}
	if c.valid("year") && (f.Year < minYear || f.Year > maxYear) {
		c.errorf("year", "%d is not a plausible year (%d-%d)", f.Year, minYear, maxYear)
	}

	if f.Bind != nil && len(f.Bind) == 0 {
		c.errorf("bind", "must list at least one division code")
	}
	for i, root := range f.Bind {
		if root == 0 {
			continue // malformed; reported by the decoder
		}
		if j := slices.Index(f.Bind[:i], root); j >= 0 {
			c.errorf(indexPath("bind", i), "division %d is listed twice (also bind[%d])", int64(root), j)
			continue
		}
		p.Bind = append(p.Bind, int64(root))
		p.bindFields = append(p.bindFields, indexPath("bind", i))
	}

	for i, id := range f.Seeds {
		field := indexPath("seeds", i)
		switch {
		case !c.valid(field):
		case !seedIDPattern.MatchString(id):
			c.errorf(field, "%q is not a seed rule id (want NH-1, DG-15, …)", id)
		case !knownSeedIDs[id]:
			c.errorf(field, "%s is not a rule in shared/seeds/README.md", id)
		case slices.Contains(f.Seeds[:i], id):
			c.errorf(field, "%s is listed twice", id)
		}
	}

	for key := range f.Levels {
		if !slices.Contains(levelKeys, key) {
			c.errorf(joinPath("levels", key), "unknown level (want one of %s)", strings.Join(levelKeys, ", "))
		}
	}
	if f.Levels != nil && len(f.Levels) == 0 {
		c.errorf("levels", "must name at least one level")
	}
	for key := range f.Roles {
		if !slices.Contains(roleKeys, key) {
			c.errorf(joinPath("roles", key), "unknown role (want one of %s)", strings.Join(roleKeys, ", "))
		}
	}
	if f.Roles != nil {
		for _, key := range requiredRoleKeys {
			if _, ok := f.Roles[key]; !ok {
				c.errorf(joinPath("roles", key), "missing role label")
			}
		}
	}
}

// check makes every Text carry a non-empty zh-CN entry, well-formed locale
// keys and non-empty values.
func (t *Text) check(c *checker, path string) {
	for locale, s := range *t {
		field := joinPath(path, locale)
		if !localePattern.MatchString(locale) {
			c.errorf(field, "%q is not a locale tag (want zh-CN, en, …)", locale)
		} else if strings.TrimSpace(s) == "" {
			c.errorf(field, "empty text")
		}
	}
	if _, ok := (*t)[DefaultLocale]; !ok {
		c.errorf(joinPath(path, DefaultLocale), "missing %s text", DefaultLocale)
	}
}

// divisionRoot is a bind entry: a division code of 6, 9, 12 or 15 digits
// (county, township, village or grid prefix of the 15-digit code), written as
// a YAML integer or string, normalised to the 15-digit subtree root.
type divisionRoot int64

func (d *divisionRoot) unmarshalNode(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!str") {
		return "want a division code, got " + describe(n)
	}
	root, msg := parseDivisionRoot(n.Value)
	if msg != "" {
		return msg
	}
	*d = divisionRoot(root)
	return ""
}

// parseDivisionRoot normalises a 6/9/12/15-digit division code to its
// 15-digit root (code × 10^(15-len)).
func parseDivisionRoot(s string) (int64, string) {
	switch len(s) {
	case 6, 9, 12, 15:
	default:
		return 0, strconv.Quote(s) + " is not a division code (want 6, 9, 12 or 15 digits)"
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, strconv.Quote(s) + " is not a division code (digits only)"
		}
	}
	if s[:2] < "11" {
		return 0, strconv.Quote(s) + " is not a division code (no province " + s[:2] + ")"
	}
	code, err := strconv.ParseInt(s+strings.Repeat("0", 15-len(s)), 10, 64)
	if err != nil { // unreachable: 15 digits fit in int64
		return 0, strconv.Quote(s) + " is not a division code"
	}
	return code, ""
}
