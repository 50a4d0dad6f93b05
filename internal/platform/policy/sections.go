package policy

import (
	"reflect"

	"gopkg.in/yaml.v3"
)

// A section is one YAML file of a pack, decoded strictly into its own struct
// and then validated and stored into the Pack by its apply function.
//
// To add a section (say window.yaml):
//  1. declare its struct with `yaml` tags (and `policy:"required"` on
//     required fields) and a field on Pack to hold the result;
//  2. add one line to sections below:
//     newSection("window.yaml", applyWindow)
//     where applyWindow(c *checker, p *Pack, w *windowFile) checks what the
//     decoder cannot (cross-field rules, known keys) with c.errorf and sets
//     p.Window.
//
// Unknown fields, wrong types, duplicate keys, missing required fields and
// Text values without zh-CN are reported by the decoder; apply runs even when
// the file had errors, so it must tolerate zero values (c.valid(path) tells
// whether a field decoded cleanly).
type section struct {
	file   string
	decode func(c *checker, root *yaml.Node, p *Pack)
}

// sections lists the known section files; pack.yaml comes first and is the
// only required one (a directory is a pack iff it holds pack.yaml).
var sections = []section{
	newSection(packFileName, applyPack),
	newSection("registry.yaml", applyRegistry),
	newSection("window.yaml", applyWindow),
	newSection("grid.yaml", applyGrid),
	newSection("governance.yaml", applyGovernance),
}

func newSection[T any](file string, apply func(c *checker, p *Pack, v *T)) section {
	// Fail at start-up, not on the first pack, if T has a field type the
	// decoder does not handle.
	mustDecodable(reflect.TypeFor[T](), file, map[reflect.Type]bool{})
	return section{file: file, decode: func(c *checker, root *yaml.Node, p *Pack) {
		v := new(T)
		c.decodeRoot(root, v)
		apply(c, p, v)
	}}
}

func sectionByFile(file string) *section {
	for i := range sections {
		if sections[i].file == file {
			return &sections[i]
		}
	}
	return nil
}

func sectionFiles() []string {
	files := make([]string, len(sections))
	for i, s := range sections {
		files[i] = s.file
	}
	return files
}

var (
	nodeUnmarshalerType = reflect.TypeFor[nodeUnmarshaler]()
)

// mustDecodable panics if t (or a type inside it) cannot be decoded by
// checker.decode.
func mustDecodable(t reflect.Type, where string, seen map[reflect.Type]bool) {
	if seen[t] || reflect.PointerTo(t).Implements(nodeUnmarshalerType) {
		return
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Struct:
		for _, f := range structFields(t) {
			mustDecodable(t.Field(f.index).Type, where+"."+f.name, seen)
		}
		return
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		default:
			panic("policy: " + where + ": unsupported map key type " + t.Key().String())
		}
		mustDecodable(t.Elem(), where+"[key]", seen)
		return
	case reflect.Slice, reflect.Pointer:
		mustDecodable(t.Elem(), where+"[]", seen)
		return
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return
	}
	panic("policy: " + where + ": unsupported type " + t.String())
}
