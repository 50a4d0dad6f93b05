package policy

import (
	"regexp"
	"strconv"
)

// Registry is a pack's registry.yaml: the resident tags of the jurisdiction
// (elderly living alone, subsistence allowance 低保, …). Tags marked
// restricted are the special groups of DG-17, visible only with the
// resident.special permission.
type Registry struct {
	Tags []Tag
}

// Tag is one resident tag.
type Tag struct {
	Key        string `yaml:"key" policy:"required"`
	Label      Text   `yaml:"label" policy:"required"`
	Restricted bool   `yaml:"restricted"`
	// Grades, when present, are the grades the tag carries (disability
	// grades 一级 … 四级).
	Grades []string `yaml:"grades"`
	Seeds  []string `yaml:"seeds"`
}

// Tag returns the tag with key, if the pack defines it.
func (r *Registry) Tag(key string) (Tag, bool) {
	if r == nil {
		return Tag{}, false
	}
	for _, t := range r.Tags {
		if t.Key == key {
			return t, true
		}
	}
	return Tag{}, false
}

type registryFile struct {
	Tags []Tag `yaml:"tags" policy:"required"`
}

var tagKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

func applyRegistry(c *checker, p *Pack, f *registryFile) {
	seen := map[string]bool{}
	for i, t := range f.Tags {
		path := "tags[" + strconv.Itoa(i) + "]"
		if c.valid(path+".key") && !tagKeyRE.MatchString(t.Key) {
			c.errorf(path+".key", "%q must be lower-case letters, digits and _ (2–40)", t.Key)
		}
		if seen[t.Key] {
			c.errorf(path+".key", "tag %q is defined twice", t.Key)
		}
		seen[t.Key] = true
		for j, s := range t.Seeds {
			if !knownSeedIDs[s] {
				c.errorf(path+".seeds["+strconv.Itoa(j)+"]", "unknown seed rule id %q", s)
			}
		}
	}
	p.Registry = &Registry{Tags: f.Tags}
}
