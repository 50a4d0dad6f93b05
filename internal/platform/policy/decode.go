package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file is the strict decoder every section goes through: it walks a
// yaml.Node tree against a Go struct and reports, with line and column,
// unknown fields, duplicate keys, missing required fields (struct tag
// `policy:"required"`) and values of the wrong type. Field names come from
// the `yaml` struct tag. Supported field types: structs, strings, integers,
// floats, bools, slices, maps with string or integer keys, pointers, and any
// type implementing nodeUnmarshaler. After a value decodes cleanly, a type
// implementing checkable validates itself (Text checks its zh-CN entry).

// nodeUnmarshaler is implemented (on the pointer) by types that decode
// themselves from a node; a non-empty result is the error message.
type nodeUnmarshaler interface {
	unmarshalNode(n *yaml.Node) string
}

// checkable is implemented by types that validate themselves once decoded.
type checkable interface {
	check(c *checker, path string)
}

type position struct{ line, col int }

func posOf(n *yaml.Node) position { return position{n.Line, n.Column} }

// checker decodes one file and collects its errors.
type checker struct {
	file string // file name used in errors
	dir  string // name of the pack directory
	errs []*Error
	pos  map[string]position // field path -> position of its key (or sequence item)
	bad  map[string]bool     // field paths whose value did not decode cleanly
}

func newChecker(file, dir string) *checker {
	return &checker{file: file, dir: dir, pos: map[string]position{}, bad: map[string]bool{}}
}

// at returns the position of path, or of its nearest recorded ancestor.
func (c *checker) at(path string) position {
	for p := path; ; p = parentPath(p) {
		if pos, ok := c.pos[p]; ok {
			return pos
		}
		if p == "" {
			return position{}
		}
	}
}

// valid reports whether path was present and decoded without error.
func (c *checker) valid(path string) bool {
	_, ok := c.pos[path]
	return ok && !c.bad[path]
}

func (c *checker) newError(path, format string, args ...any) *Error {
	pos := c.at(path)
	return &Error{File: c.file, Line: pos.line, Column: pos.col, Field: path, Msg: fmt.Sprintf(format, args...)}
}

// errorf reports an error at the recorded position of path.
func (c *checker) errorf(path, format string, args ...any) {
	c.errs = append(c.errs, c.newError(path, format, args...))
}

// errorAt reports an error at node n.
func (c *checker) errorAt(n *yaml.Node, path, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: n.Line, Column: n.Column, Field: path, Msg: fmt.Sprintf(format, args...)})
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return parent + "[" + strconv.Itoa(i) + "]" }

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse parses data as a single YAML document and returns its root node, or
// nil after reporting why it could not.
func (c *checker) parse(data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 is not supposed to panic, but a pack must never crash the
		// process that loads it.
		if r := recover(); r != nil {
			c.errs = append(c.errs, &Error{File: c.file, Msg: fmt.Sprintf("invalid YAML: %v", r)})
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.errs = append(c.errs, &Error{File: c.file, Line: 1, Column: 1, Msg: "empty file"})
		} else {
			c.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		c.errorAt(&extra, "", "a section file holds one YAML document; found another")
		return nil
	case !errors.Is(err, io.EOF):
		c.syntaxError(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		c.errs = append(c.errs, &Error{File: c.file, Line: 1, Column: 1, Msg: "empty file"})
		return nil
	}
	return doc.Content[0]
}

func (c *checker) syntaxError(err error) {
	e := &Error{File: c.file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLineErr.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	c.errs = append(c.errs, e)
}

// describe names the kind of a node for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch t := n.ShortTag(); t {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "nothing (null)"
		default:
			return "a " + strings.TrimPrefix(t, "!!")
		}
	}
	return "an unknown node"
}

// decodeRoot decodes the root node of a file into v (a pointer to a struct).
func (c *checker) decodeRoot(root *yaml.Node, v any) {
	c.pos[""] = posOf(root)
	c.decode(root, reflect.ValueOf(v).Elem(), "")
}

// decode decodes n into the addressable value v, recording positions and
// reporting errors under path. It reports whether n decoded cleanly.
func (c *checker) decode(n *yaml.Node, v reflect.Value, path string) (ok bool) {
	defer func() {
		if !ok {
			c.bad[path] = true
		} else if ch, is := v.Addr().Interface().(checkable); is {
			ch.check(c, path)
		}
	}()
	if n.Kind == yaml.AliasNode {
		c.errorAt(n, path, "anchors and aliases are not supported; write the value out")
		return false
	}
	if u, is := v.Addr().Interface().(nodeUnmarshaler); is {
		if msg := u.unmarshalNode(n); msg != "" {
			c.errorAt(n, path, "%s", msg)
			return false
		}
		return true
	}
	switch v.Kind() {
	case reflect.Struct:
		return c.decodeStruct(n, v, path)
	case reflect.Map:
		return c.decodeMap(n, v, path)
	case reflect.Slice:
		return c.decodeSlice(n, v, path)
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		ok := c.decode(n, nv.Elem(), path)
		v.Set(nv)
		return ok
	case reflect.String:
		return c.decodeScalar(n, v, path, "a string", "!!str")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return c.decodeScalar(n, v, path, "an integer", "!!int")
	case reflect.Float32, reflect.Float64:
		return c.decodeScalar(n, v, path, "a number", "!!int", "!!float")
	case reflect.Bool:
		return c.decodeScalar(n, v, path, "true or false", "!!bool")
	}
	panic(fmt.Sprintf("policy: section field %s has unsupported type %s", path, v.Type()))
}

func (c *checker) decodeScalar(n *yaml.Node, v reflect.Value, path, want string, tags ...string) bool {
	if n.Kind != yaml.ScalarNode || !slices.Contains(tags, n.ShortTag()) {
		hint := ""
		if want == "a string" && n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			hint = " (quote it)"
		}
		c.errorAt(n, path, "want %s, got %s%s", want, describe(n), hint)
		return false
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		c.errorAt(n, path, "%q is not %s in range", n.Value, want)
		return false
	}
	return true
}

// keyOf returns the text of a mapping key, reporting non-scalar keys.
func (c *checker) keyOf(k *yaml.Node, path string) (string, bool) {
	if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
		c.errorAt(k, path, "mapping keys must be plain words, got %s", describe(k))
		return "", false
	}
	return k.Value, true
}

type fieldInfo struct {
	name     string
	index    int
	required bool
}

func structFields(t reflect.Type) []fieldInfo {
	var fields []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields = append(fields, fieldInfo{name: name, index: i, required: f.Tag.Get("policy") == "required"})
	}
	return fields
}

func (c *checker) decodeStruct(n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind != yaml.MappingNode {
		c.errorAt(n, path, "want a mapping, got %s", describe(n))
		return false
	}
	fields := structFields(v.Type())
	ok := true
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, kok := c.keyOf(k, path)
		if !kok {
			ok = false
			continue
		}
		fp := joinPath(path, name)
		if seen[name] {
			c.errorAt(k, fp, "duplicate key")
			ok = false
			continue
		}
		seen[name] = true
		j := slices.IndexFunc(fields, func(f fieldInfo) bool { return f.name == name })
		if j < 0 {
			c.errorAt(k, fp, "unknown field")
			ok = false
			continue
		}
		c.pos[fp] = posOf(k)
		if !c.decode(val, v.Field(fields[j].index), fp) {
			ok = false
		}
	}
	for _, f := range fields {
		if f.required && !seen[f.name] {
			c.errorf(joinPath(path, f.name), "missing required field")
			ok = false
		}
	}
	return ok
}

func (c *checker) decodeMap(n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind != yaml.MappingNode {
		c.errorAt(n, path, "want a mapping, got %s", describe(n))
		return false
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	v.Set(m)
	ok := true
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, kok := c.keyOf(k, path)
		if !kok {
			ok = false
			continue
		}
		fp := joinPath(path, name)
		if seen[name] {
			c.errorAt(k, fp, "duplicate key")
			ok = false
			continue
		}
		seen[name] = true
		key := reflect.New(t.Key()).Elem()
		switch t.Key().Kind() {
		case reflect.String:
			key.SetString(name)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if !c.decodeScalar(k, key, fp, "an integer key", "!!int") {
				ok = false
				continue
			}
		default:
			panic(fmt.Sprintf("policy: section field %s has unsupported key type %s", path, t.Key()))
		}
		c.pos[fp] = posOf(k)
		elem := reflect.New(t.Elem()).Elem()
		if !c.decode(val, elem, fp) {
			ok = false
		}
		// Keep the entry even when its value is broken, so that checks on
		// the keys still see it.
		m.SetMapIndex(key, elem)
	}
	return ok
}

func (c *checker) decodeSlice(n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind != yaml.SequenceNode {
		c.errorAt(n, path, "want a list, got %s", describe(n))
		return false
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	ok := true
	for i, item := range n.Content {
		ip := indexPath(path, i)
		c.pos[ip] = posOf(item)
		if !c.decode(item, s.Index(i), ip) {
			ok = false
		}
	}
	v.Set(s)
	return ok
}
