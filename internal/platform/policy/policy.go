// Package policy loads policy packs: one jurisdiction's standards, names and
// procedures, kept as data under policy/<pack>/*.yaml and bound to division
// subtrees (see docs/policy-packs.md).
//
// The package is the mechanism; the packs are data. A pack is a directory
// holding pack.yaml plus optional section files. Each section file is decoded
// strictly into its own struct (see sections.go); every problem is reported
// as an *Error naming the file, line, column and field.
package policy

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultLocale is the locale every Text must carry and the one Get falls
// back to.
const DefaultLocale = "zh-CN"

// Text is a short text in several locales, keyed by locale tag ("zh-CN",
// "en"). Every Text in a pack carries a zh-CN entry.
type Text map[string]string

// Get returns the text for locale, falling back to its base language ("en"
// for "en-GB") and then to zh-CN.
func (t Text) Get(locale string) string {
	if s := t[locale]; s != "" {
		return s
	}
	if i := strings.IndexByte(locale, '-'); i > 0 {
		if s := t[locale[:i]]; s != "" {
			return s
		}
	}
	return t[DefaultLocale]
}

// Pack is one loaded, validated policy pack.
type Pack struct {
	Name   string // equals the directory name
	Source string // seed document the pack encodes (file name in shared/seeds)
	Year   int    // year of the source document
	Title  Text
	// Bind lists the 15-digit roots of the division subtrees the pack applies
	// to (statistical code × 1000, trailing zero groups mark the level).
	Bind []int64
	// Seeds lists the seed rule ids (NH-2, SX-1, …) the pack encodes.
	Seeds []string
	// Levels maps level keys (province … grid) to this jurisdiction's names.
	// A level the jurisdiction does not have (Dongguan's county) is absent.
	Levels map[string]Text
	// Roles maps the platform's fixed role keys to this jurisdiction's labels;
	// all six are present.
	Roles map[string]Text
	// Registry holds the resident tags (registry.yaml); nil when the pack
	// has none.
	Registry *Registry
	// Window holds the service-window catalogue (window.yaml); nil when the
	// pack has none.
	Window *Window
	// Grid holds the incident categories, chiefs, dispute types and patrol
	// target of grid governance (grid.yaml); nil when the pack has none.
	Grid *Grid
	// Governance holds the bodies, procedures, election rules, documents,
	// finance accounts and disclosure schedule of self-governance
	// (governance.yaml); nil when the pack has none.
	Governance *Governance
	// Dir is where the pack was loaded from: the directory's path inside the
	// fs.FS given to Load, or the OS path for LoadDir.
	Dir string

	bindFields []string // field path in pack.yaml of each Bind entry ("bind[2]")
}

// Set is an immutable collection of validated packs.
type Set struct {
	packs  []*Pack
	byName map[string]*Pack
	byRoot map[int64]*Pack
}

// Packs returns the packs sorted by name.
func (s *Set) Packs() []*Pack {
	if s == nil {
		return nil
	}
	return slices.Clone(s.packs)
}

// Get returns the pack with the given name, or nil.
func (s *Set) Get(name string) *Pack {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

// levelSpans are the sizes of the subtrees rooted at grid, village, township,
// county, prefecture and province level, most specific first.
var levelSpans = [...]int64{1, 1e3, 1e6, 1e9, 1e11, 1e13}

// For returns the pack bound to the most specific ancestor-or-self of the
// 15-digit division code, or nil if no pack covers it (or the code is not a
// 15-digit code).
func (s *Set) For(division int64) *Pack {
	if s == nil || division < 1e14 || division >= 1e15 {
		return nil
	}
	// Roots covering a code are its truncations at level boundaries; they
	// nest, and the finer the truncation the more specific the root.
	for _, span := range levelSpans {
		if p := s.byRoot[division/span*span]; p != nil {
			return p
		}
	}
	return nil
}

// LoadDir loads the packs in the subdirectories of dir. File names in errors
// are OS paths under dir.
func LoadDir(dir string) (*Set, error) {
	return load(os.DirFS(dir), dir)
}

// Load loads every pack in fsys: each top-level directory holding pack.yaml
// is a pack. On any problem it returns a nil Set and all errors joined
// (errors.Join of *Error values, sorted by file, line and column).
func Load(fsys fs.FS) (*Set, error) {
	return load(fsys, "")
}

// loaded is a pack with the checker that holds its pack.yaml positions.
type loaded struct {
	pack *Pack
	c    *checker // checker of pack.yaml
}

func load(fsys fs.FS, prefix string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	display := func(p string) string {
		if prefix == "" {
			return p
		}
		return filepath.Join(prefix, filepath.FromSlash(p))
	}
	var errs []*Error
	var packs []loaded
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		files, err := fs.ReadDir(fsys, name)
		if err != nil {
			errs = append(errs, &Error{File: display(name), Msg: err.Error()})
			continue
		}
		present := map[string]bool{}
		for _, f := range files {
			if f.IsDir() {
				continue
			}
			switch path.Ext(f.Name()) {
			case ".yaml":
				present[f.Name()] = true
			case ".yml":
				errs = append(errs, &Error{File: display(path.Join(name, f.Name())), Msg: "section files use the .yaml extension"})
			}
		}
		if !present[packFileName] {
			if len(present) > 0 {
				errs = append(errs, &Error{File: display(name), Msg: "directory has section files but no " + packFileName})
			}
			continue
		}
		for f := range present {
			if sectionByFile(f) == nil {
				errs = append(errs, &Error{File: display(path.Join(name, f)), Msg: "unknown section file (known: " + strings.Join(sectionFiles(), ", ") + ")"})
			}
		}
		p := &Pack{Dir: display(name)}
		l := loaded{pack: p}
		for _, sec := range sections {
			if !present[sec.file] {
				continue // pack.yaml is present; other sections are optional
			}
			file := path.Join(name, sec.file)
			c := newChecker(display(file), name)
			if data, err := fs.ReadFile(fsys, file); err != nil {
				c.errs = append(c.errs, &Error{File: c.file, Msg: err.Error()})
			} else if root := c.parse(data); root != nil {
				sec.decode(c, root, p)
			}
			if sec.file == packFileName {
				l.c = c
			}
			errs = append(errs, c.errs...)
		}
		packs = append(packs, l)
	}
	slices.SortFunc(packs, func(a, b loaded) int { return cmp.Compare(a.pack.Dir, b.pack.Dir) })

	s := &Set{byName: map[string]*Pack{}, byRoot: map[int64]*Pack{}}
	rootAt := map[int64]string{} // root -> "file:line:col" of its first binding
	for _, l := range packs {
		p := l.pack
		s.packs = append(s.packs, p)
		s.byName[p.Name] = p
		for i, root := range p.Bind {
			field := p.bindFields[i]
			if other := s.byRoot[root]; other != nil {
				if other != p { // duplicates inside one pack are reported by applyPack
					errs = append(errs, l.c.newError(field, "division %d is already bound by pack %s (%s)", root, other.Name, rootAt[root]))
				}
				continue
			}
			s.byRoot[root] = p
			pos := l.c.at(field)
			rootAt[root] = (&Error{File: l.c.file, Line: pos.line, Column: pos.col}).location()
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = e
		}
		return nil, errors.Join(joined...)
	}
	return s, nil
}
