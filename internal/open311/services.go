package open311

import (
	"context"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// Discovery is the service discovery document
// (http://wiki.open311.org/Service_Discovery).
type Discovery struct {
	XMLName    xml.Name   `json:"-" xml:"discovery"`
	Changeset  string     `json:"changeset" xml:"changeset"`
	Contact    string     `json:"contact" xml:"contact"`
	KeyService string     `json:"key_service" xml:"key_service"`
	Endpoints  []Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

// Endpoint is one API endpoint in service discovery.
type Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

// Service is one entry of the service list: a service item residents may
// apply for online.
type Service struct {
	Code        string  `json:"service_code" xml:"service_code"`
	Name        string  `json:"service_name" xml:"service_name"`
	Description *string `json:"description" xml:"description,omitempty"`
	Metadata    bool    `json:"metadata" xml:"metadata"`
	Type        string  `json:"type" xml:"type"`
	Keywords    *string `json:"keywords" xml:"keywords,omitempty"`
	Group       *string `json:"group" xml:"group,omitempty"`
}

type xmlServices struct {
	XMLName  xml.Name  `xml:"services"`
	Services []Service `xml:"service"`
}

// Definition is a service definition: the item's form fields as attributes.
type Definition struct {
	XMLName    xml.Name    `json:"-" xml:"service_definition"`
	Code       string      `json:"service_code" xml:"service_code"`
	Attributes []Attribute `json:"attributes" xml:"attributes>attribute"`
}

// Attribute is one field of an item's form.
type Attribute struct {
	Variable            bool    `json:"variable" xml:"variable"`
	Code                string  `json:"code" xml:"code"`
	Datatype            string  `json:"datatype" xml:"datatype"`
	Required            bool    `json:"required" xml:"required"`
	DatatypeDescription *string `json:"datatype_description" xml:"datatype_description"`
	Order               int     `json:"order" xml:"order"`
	Description         string  `json:"description" xml:"description"`
	Values              []Value `json:"values,omitempty" xml:"-"`
	// XMLValues carries Values in the XML form (<values><value>…), absent
	// when there are none.
	XMLValues *XMLValues `json:"-" xml:"values,omitempty"`
}

// XMLValues wraps the values of an attribute in XML.
type XMLValues struct {
	Values []Value `xml:"value"`
}

// Value is one choice of a singlevaluelist attribute.
type Value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// baseURL is the server's public root, without a trailing slash.
func (h *HTTP) baseURL(r *http.Request) string {
	return web.BaseURL(r, strings.TrimRight(h.BaseURL, "/"), h.TrustProxy)
}

func (h *HTTP) discovery(w http.ResponseWriter, r *http.Request) {
	name, format, ok := h.parse(w, r)
	if !ok {
		return
	}
	loc := locale(r)
	if name != "discovery" {
		h.fail(w, r, format, http.StatusNotFound, i18n.T(loc, "open311.error.not_found"))
		return
	}
	contact := h.Contact
	if contact == "" {
		contact = i18n.T(loc, "open311.discovery.contact")
	}
	d := Discovery{Changeset: h.changeset, Contact: contact, KeyService: i18n.T(loc, "open311.discovery.key_service"),
		Endpoints: []Endpoint{{Specification: Specification, URL: h.baseURL(r) + V2, Changeset: h.changeset, Type: "production",
			Formats: []string{"text/xml", "application/json"}}}}
	w.Header().Set("Cache-Control", "public, max-age=300")
	h.send(w, r, format, http.StatusOK, d, d)
}

// list serves GET services and GET requests.
func (h *HTTP) list(w http.ResponseWriter, r *http.Request) {
	name, format, ok := h.parse(w, r)
	if !ok {
		return
	}
	switch name {
	case "services":
		h.services(w, r, format)
	case "requests":
		h.requests(w, r, format)
	default:
		h.fail(w, r, format, http.StatusNotFound, i18n.T(locale(r), "open311.error.not_found"))
	}
}

// offer is one service item offered through Open311, with the label of its
// category.
type offer struct {
	item  policy.WindowItem
	group string
}

// submittable reports whether an item can be applied for through Open311:
// it is marked online, and none of its required fields is a resident (a
// link to the registry, which only staff can make).
func submittable(it policy.WindowItem) bool {
	if !it.Online {
		return false
	}
	for _, f := range it.Fields {
		if f.Type == policy.FieldResident && f.Required {
			return false
		}
	}
	return true
}

// exposed lists the fields an Open311 client fills in (resident fields are
// left to staff).
func exposed(it policy.WindowItem) []policy.WindowField {
	var out []policy.WindowField
	for _, f := range it.Fields {
		if f.Type != policy.FieldResident {
			out = append(out, f)
		}
	}
	return out
}

// offers lists the items offered at unit: its catalogue (with admins'
// changes); with no unit (0), the packs' catalogues together, each code
// once.
func (h *HTTP) offers(ctx context.Context, unit int64, loc string) ([]offer, error) {
	var out []offer
	if unit != 0 {
		cat, err := h.S.Catalogue(ctx, unit)
		if err != nil {
			return nil, err
		}
		for _, it := range cat.Enabled() {
			if submittable(it.WindowItem) {
				out = append(out, offer{item: it.WindowItem, group: cat.CategoryLabel(it.Category, loc)})
			}
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, pk := range h.S.Packs.Packs() {
		if pk.Window == nil {
			continue
		}
		for _, it := range pk.Window.Items {
			if seen[it.Code] || !submittable(it) {
				continue
			}
			seen[it.Code] = true
			group := it.Category
			if c, ok := pk.Window.Category(it.Category); ok {
				group = c.Label.Get(loc)
			}
			out = append(out, offer{item: it, group: group})
		}
	}
	return out, nil
}

func toService(o offer, loc string) Service {
	it := o.item
	var kw []string
	for _, k := range []string{o.group, it.Category, it.Department.Get(loc)} {
		if k != "" && !containsString(kw, k) {
			kw = append(kw, k)
		}
	}
	return Service{Code: it.Code, Name: it.Name.Get(loc), Description: strPtr(it.Description.Get(loc)),
		Metadata: len(exposed(it)) > 0, Type: "realtime", Keywords: strPtr(strings.Join(kw, ", ")), Group: strPtr(o.group)}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (h *HTTP) services(w http.ResponseWriter, r *http.Request, format string) {
	loc := locale(r)
	unit, status, msg := h.jurisdiction(r.Context(), loc, r.Form.Get("jurisdiction_id"))
	if status != 0 {
		h.failStatus(w, r, format, status, msg)
		return
	}
	offers, err := h.offers(r.Context(), unit, loc)
	if err != nil {
		h.internal(w, r, format, err)
		return
	}
	out := make([]Service, 0, len(offers))
	for _, o := range offers {
		out = append(out, toService(o, loc))
	}
	out = append(out, h.incidentServices(unit, loc)...)
	h.send(w, r, format, http.StatusOK, out, xmlServices{Services: out})
}

// find returns the item offered with code at unit (0: in any pack).
func (h *HTTP) find(ctx context.Context, unit int64, code, loc string) (offer, bool, error) {
	offers, err := h.offers(ctx, unit, loc)
	if err != nil {
		return offer{}, false, err
	}
	for _, o := range offers {
		if o.item.Code == code {
			return o, true, nil
		}
	}
	return offer{}, false, nil
}

func (h *HTTP) definition(w http.ResponseWriter, r *http.Request) {
	code, format, ok := h.parse(w, r)
	if !ok {
		return
	}
	loc := locale(r)
	unit, status, msg := h.jurisdiction(r.Context(), loc, r.Form.Get("jurisdiction_id"))
	if status != 0 {
		h.failStatus(w, r, format, status, msg)
		return
	}
	if h.incidentCategory(unit, code) {
		d := Definition{Code: code, Attributes: []Attribute{}}
		h.send(w, r, format, http.StatusOK, d, d)
		return
	}
	o, found, err := h.find(r.Context(), unit, code, loc)
	if err != nil {
		h.internal(w, r, format, err)
		return
	}
	if !found {
		h.fail(w, r, format, http.StatusNotFound, i18n.T(loc, "open311.error.service_code_unknown", code))
		return
	}
	d := Definition{Code: o.item.Code, Attributes: attributes(o.item, loc)}
	h.send(w, r, format, http.StatusOK, d, d)
}

// attributes turns an item's fields into service attributes: text becomes
// string (up to 100 characters) or text, number number, date datetime, and
// choice singlevaluelist with its choices as values.
func attributes(it policy.WindowItem, loc string) []Attribute {
	out := []Attribute{}
	for i, f := range exposed(it) {
		a := Attribute{Variable: true, Code: f.Key, Required: f.Required, Order: i + 1, Description: f.Label.Get(loc)}
		var dd string
		switch f.Type {
		case policy.FieldText:
			max := f.MaxLength
			if max == 0 {
				max = 500
			}
			a.Datatype = "text"
			if max <= 100 {
				a.Datatype = "string"
			}
			dd = i18n.T(loc, "open311.datatype.text", max)
		case policy.FieldNumber:
			a.Datatype = "number"
			if f.Min != 0 || f.Max != 0 {
				dd = i18n.T(loc, "open311.datatype.number_range", strconv.FormatFloat(f.Min, 'f', -1, 64), strconv.FormatFloat(f.Max, 'f', -1, 64))
			} else {
				dd = i18n.T(loc, "open311.datatype.number")
			}
		case policy.FieldDate:
			a.Datatype = "datetime"
			dd = i18n.T(loc, "open311.datatype.date")
		case policy.FieldChoice:
			a.Datatype = "singlevaluelist"
			dd = i18n.T(loc, "open311.datatype.choice")
			for _, c := range f.Choices {
				a.Values = append(a.Values, Value{Key: c.Key, Name: c.Label.Get(loc)})
			}
			a.XMLValues = &XMLValues{Values: a.Values}
		default:
			continue
		}
		if hint := f.Hint.Get(loc); hint != "" {
			dd += " " + hint
		}
		a.DatatypeDescription = strPtr(dd)
		out = append(out, a)
	}
	return out
}

// itemFields returns the exposed fields of an item by key.
func itemFields(it policy.WindowItem) map[string]policy.WindowField {
	m := map[string]policy.WindowField{}
	for _, f := range exposed(it) {
		m[f.Key] = f
	}
	return m
}
