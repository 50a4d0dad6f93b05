package window

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

type catalogueData struct {
	Unit      int64
	UnitName  string
	Units     []unitOption
	Catalogue *Catalogue
	Groups    []catGroup
	CanManage bool
	Locale    string
	Flash     string
}

type unitOption struct {
	Code int64
	Name string
}

type catGroup struct {
	Key, Label string
	Items      []Item
}

// catalogueUnit picks the unit whose catalogue a page shows: ?unit= when the
// principal sees it, else the principal's first window.view root.
func (h *HTTP) catalogueUnit(r *http.Request, p *access.Principal, raw string) int64 {
	if u, err := strconv.ParseInt(raw, 10, 64); err == nil && u > 0 && p.CanAt("window.view", u) {
		return u
	}
	if roots := p.Roots("window.view"); len(roots) > 0 {
		return roots[0]
	}
	return 0
}

// catalogue lists the items a unit's window handles, grouped by category,
// with where each definition comes from (the pack or an admin's change).
func (h *HTTP) catalogue(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	d := catalogueData{Locale: i18n.Negotiate(r), Flash: r.URL.Query().Get("done")}
	d.Unit = h.catalogueUnit(r, p, r.URL.Query().Get("unit"))
	d.UnitName = h.unitName(r.Context(), d.Unit)
	d.CanManage = p.CanAt("window.manage", d.Unit)
	for _, a := range ancestors(d.Unit) {
		if a > 0 && p.CanAt("window.view", a) {
			d.Units = append(d.Units, unitOption{a, h.unitName(r.Context(), a)})
		}
	}
	if kids, err := h.S.Divisions.Children(r.Context(), d.Unit, false); err == nil {
		for _, k := range kids {
			if k.Level <= 5 {
				d.Units = append(d.Units, unitOption{k.Code, k.Name})
			}
		}
	}
	cat, err := h.S.Catalogue(r.Context(), d.Unit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Catalogue = cat
	for _, c := range cat.Categories {
		g := catGroup{Key: c.Key, Label: c.Label.Get(d.Locale)}
		for _, it := range cat.Items {
			if it.Category == c.Key {
				g.Items = append(g.Items, it)
			}
		}
		d.Groups = append(d.Groups, g)
	}
	h.R.Page(w, r, http.StatusOK, "window_catalogue.html", d)
}

type itemFormData struct {
	Unit       int64
	UnitName   string
	Code       string
	New        bool
	Item       Item
	Categories []policy.WindowCategory
	Levels     []string
	Values     map[string]string
	Errors     map[string]string
	Locale     string
}

func (d *itemFormData) V(k string) string { return d.Values[k] }
func (d *itemFormData) E(k string) string { return d.Errors[k] }

// materialsText writes materials one per line: key: label (optional).
func materialsText(ms []policy.WindowMaterial) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s: %s", m.Key, m.Label[policy.DefaultLocale])
		if m.Optional {
			b.WriteString("（选交）")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func parseMaterials(s string, old []policy.WindowMaterial) ([]policy.WindowMaterial, bool) {
	var out []policy.WindowMaterial
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, label, ok := strings.Cut(line, ":")
		if !ok {
			k, label, ok = strings.Cut(line, "：")
		}
		if !ok {
			return nil, false
		}
		label = strings.TrimSpace(label)
		m := policy.WindowMaterial{Key: strings.TrimSpace(k)}
		for _, suffix := range []string{"(optional)", "（选交）", "(选交)"} {
			if strings.HasSuffix(label, suffix) {
				m.Optional, label = true, strings.TrimSpace(strings.TrimSuffix(label, suffix))
			}
		}
		m.Label = policy.Text{policy.DefaultLocale: label}
		for _, o := range old { // keep the other locales of an unchanged label
			if o.Key == m.Key && o.Label[policy.DefaultLocale] == label {
				m.Label = o.Label
			}
		}
		out = append(out, m)
	}
	return out, true
}

func (h *HTTP) itemPage(w http.ResponseWriter, r *http.Request) (*access.Principal, *itemFormData, bool) {
	p, ok := h.viewer(w, r)
	if !ok {
		return nil, nil, false
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	unit := h.catalogueUnit(r, p, q.Get("unit"))
	if !p.CanAt("window.manage", unit) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return nil, nil, false
	}
	cat, err := h.S.Catalogue(r.Context(), unit)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	d := &itemFormData{Unit: unit, UnitName: h.unitName(r.Context(), unit), Code: r.PathValue("code"), Categories: cat.Categories,
		Levels: []string{policy.LevelVillage, policy.LevelTownship, policy.LevelCounty, policy.LevelDepartment},
		Values: map[string]string{}, Errors: map[string]string{}, Locale: i18n.Negotiate(r)}
	d.New = d.Code == "new"
	if !d.New {
		found := false
		for _, it := range cat.Items {
			if it.Code == d.Code {
				d.Item, found = it, true
			}
		}
		if !found {
			h.R.Error(w, r, http.StatusNotFound, "")
			return nil, nil, false
		}
	}
	it := d.Item
	fields := ""
	if len(it.Fields) > 0 {
		if b, err := yaml.Marshal(it.Fields); err == nil {
			fields = string(b)
		}
	}
	d.Values = map[string]string{"code": it.Code, "name": it.Name[policy.DefaultLocale], "name_en": it.Name["en"],
		"category": it.Category, "level": it.Level, "department": it.Department[policy.DefaultLocale],
		"time_limit": strconv.Itoa(it.TimeLimit), "agency": boolStr(it.Agency), "online": boolStr(it.Online),
		"description": it.Description[policy.DefaultLocale], "materials": materialsText(it.Materials), "fields": fields}
	if d.New {
		d.Values["time_limit"], d.Values["level"] = "5", policy.LevelVillage
	}
	return p, d, true
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return ""
}

func (h *HTTP) itemForm(w http.ResponseWriter, r *http.Request) {
	if _, d, ok := h.itemPage(w, r); ok {
		h.R.Page(w, r, http.StatusOK, "window_item.html", d)
	}
}

func (h *HTTP) saveItem(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	p, d, ok := h.itemPage(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	back := "/window/catalogue?unit=" + strconv.FormatInt(d.Unit, 10)
	switch f.Get("op") {
	case "disable", "enable":
		if err := h.S.SetItemDisabled(r.Context(), p, d.Unit, d.Code, f.Get("op") == "disable"); err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, back+"&done="+url.QueryEscape(f.Get("op")), http.StatusSeeOther)
		return
	case "reset":
		if err := h.S.ResetItem(r.Context(), p, d.Unit, d.Code); err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, back+"&done=reset", http.StatusSeeOther)
		return
	}
	for k := range d.Values {
		d.Values[k] = f.Get(k)
	}
	it := d.Item.WindowItem
	if d.New {
		it = policy.WindowItem{}
		it.Code = strings.ToUpper(strings.TrimSpace(f.Get("code")))
	}
	it.Name = withLocale(it.Name, policy.DefaultLocale, f.Get("name"))
	it.Name = withLocale(it.Name, "en", f.Get("name_en"))
	it.Description = withLocale(it.Description, policy.DefaultLocale, f.Get("description"))
	it.Category, it.Level = f.Get("category"), f.Get("level")
	it.Department = nil
	if it.Level == policy.LevelDepartment {
		it.Department = withLocale(d.Item.Department, policy.DefaultLocale, f.Get("department"))
	}
	it.Agency, it.Online = f.Get("agency") == "1", f.Get("online") == "1"
	tl, err := strconv.Atoi(strings.TrimSpace(f.Get("time_limit")))
	if err != nil {
		tl = 0
	}
	it.TimeLimit = tl
	var ok2 bool
	if it.Materials, ok2 = parseMaterials(f.Get("materials"), d.Item.Materials); !ok2 {
		d.Errors["materials"] = i18n.T(d.Locale, "window.error.materials_format")
	}
	it.Fields = nil
	if s := strings.TrimSpace(f.Get("fields")); s != "" {
		dec := yaml.NewDecoder(strings.NewReader(s))
		dec.KnownFields(true) // a misspelt key is an error, not silently dropped
		if err := dec.Decode(&it.Fields); err != nil {
			d.Errors["fields"] = i18n.T(d.Locale, "window.error.fields_format", err.Error())
		} else if e := checkFieldDefs(it.Fields); e != "" {
			d.Errors["fields"] = i18n.T(d.Locale, "window.error.fields_format", e)
		}
	}
	if len(d.Errors) == 0 {
		err = h.S.SaveItem(r.Context(), p, d.Unit, it)
		var es Errors
		switch {
		case errors.As(err, &es):
			for _, e := range es {
				d.Errors[e.Field] = errorText(d.Locale, e)
			}
		case err != nil:
			h.fail(w, r, err)
			return
		default:
			http.Redirect(w, r, back+"&done=saved", http.StatusSeeOther)
			return
		}
	}
	h.R.Page(w, r, http.StatusUnprocessableEntity, "window_item.html", d)
}

func withLocale(t policy.Text, loc, v string) policy.Text {
	out := policy.Text{}
	for k, x := range t {
		out[k] = x
	}
	v = strings.TrimSpace(v)
	if v == "" {
		delete(out, loc)
	} else {
		out[loc] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// checkFieldDefs checks an admin's form fields (the pack loader's rules).
func checkFieldDefs(fs []policy.WindowField) string {
	seen := map[string]bool{}
	for i, f := range fs {
		at := "#" + strconv.Itoa(i+1) + " "
		if !keyRE.MatchString(f.Key) || seen[f.Key] {
			return at + "key"
		}
		seen[f.Key] = true
		if f.Label[policy.DefaultLocale] == "" {
			return at + "label"
		}
		switch f.Type {
		case policy.FieldText, policy.FieldNumber, policy.FieldDate, policy.FieldResident:
			if len(f.Choices) > 0 {
				return at + "choices"
			}
		case policy.FieldChoice:
			if len(f.Choices) < 2 {
				return at + "choices"
			}
		default:
			return at + "type"
		}
		if f.Min > f.Max {
			return at + "min/max"
		}
	}
	return ""
}
