package access

import (
	_ "embed"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

//go:embed roles.yaml
var rolesYAML []byte

// Role is a named set of permissions bindable at some division levels.
type Role struct {
	Name        string
	Levels      []int
	Permissions []string
}

// Allows reports whether the role grants perm.
func (r Role) Allows(perm string) bool { return slices.Contains(r.Permissions, perm) }

// BindableAt reports whether the role may be bound at a division level.
func (r Role) BindableAt(level int) bool { return slices.Contains(r.Levels, level) }

var (
	roles       = map[string]Role{}
	roleOrder   []string
	permissions []string
)

func init() {
	var f struct {
		Permissions []string `yaml:"permissions"`
		Roles       yaml.Node
	}
	if err := yaml.Unmarshal(rolesYAML, &f); err != nil {
		panic(fmt.Sprintf("roles.yaml: %v", err))
	}
	permissions = f.Permissions
	for i := 0; i+1 < len(f.Roles.Content); i += 2 {
		name := f.Roles.Content[i].Value
		var r struct {
			Levels      []int    `yaml:"levels"`
			Permissions []string `yaml:"permissions"`
		}
		if err := f.Roles.Content[i+1].Decode(&r); err != nil {
			panic(fmt.Sprintf("roles.yaml: role %s: %v", name, err))
		}
		for _, p := range r.Permissions {
			if !slices.Contains(permissions, p) {
				panic(fmt.Sprintf("roles.yaml: role %s: unknown permission %q", name, p))
			}
		}
		roles[name] = Role{Name: name, Levels: r.Levels, Permissions: r.Permissions}
		roleOrder = append(roleOrder, name)
	}
}

// Roles returns every role, in the order of roles.yaml (most powerful first).
func Roles() []Role {
	out := make([]Role, 0, len(roleOrder))
	for _, n := range roleOrder {
		out = append(out, roles[n])
	}
	return out
}

// LookupRole returns the named role.
func LookupRole(name string) (Role, bool) {
	r, ok := roles[name]
	return r, ok
}

// Permissions lists every permission.
func Permissions() []string { return slices.Clone(permissions) }
