package window

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// defaultMaxLength bounds a text field without its own max_length.
const defaultMaxLength = 500

// parseDay reads a date field (2006-01-02, 2006/1/2 or 20060102) as YYYYMMDD.
func parseDay(s string) (int, bool) {
	for _, layout := range []string{"2006-01-02", "2006-1-2", "2006/01/02", "2006/1/2", "20060102"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.Year()*10000 + int(t.Month())*100 + t.Day(), true
		}
	}
	return 0, false
}

// checkFields validates the typed form values of an intake against the
// item's fields and returns them normalised (dates as 2006-01-02, numbers
// as written without spaces). Unknown keys are refused: a form that does not
// match the item is a client error, never silently dropped. residentOK tells
// whether a resident id may be linked (resident fields).
func checkFields(it policy.WindowItem, in map[string]string, residentOK func(id int64) bool) (map[string]string, Errors) {
	var es Errors
	out := map[string]string{}
	for k := range in {
		if !slices.ContainsFunc(it.Fields, func(f policy.WindowField) bool { return f.Key == k }) {
			es.Add("field."+k, "field_unknown", k)
		}
	}
	for _, f := range it.Fields {
		v := strings.TrimSpace(in[f.Key])
		name := "field." + f.Key
		if v == "" {
			if f.Required {
				es.Add(name, "required")
			}
			continue
		}
		switch f.Type {
		case policy.FieldText:
			max := f.MaxLength
			if max == 0 {
				max = defaultMaxLength
			}
			if utf8.RuneCountInString(v) > max {
				es.Add(name, "too_long", strconv.Itoa(max))
				continue
			}
		case policy.FieldNumber:
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				es.Add(name, "number")
				continue
			}
			if (f.Min != 0 || f.Max != 0) && (x < f.Min || x > f.Max) {
				es.Add(name, "number_range", strconv.FormatFloat(f.Min, 'f', -1, 64)+"–"+strconv.FormatFloat(f.Max, 'f', -1, 64))
				continue
			}
			v = strconv.FormatFloat(x, 'f', -1, 64)
		case policy.FieldDate:
			d, ok := parseDay(v)
			if !ok {
				es.Add(name, "date")
				continue
			}
			v = time.Date(d/10000, time.Month(d/100%100), d%100, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		case policy.FieldChoice:
			if !slices.ContainsFunc(f.Choices, func(c policy.WindowChoice) bool { return c.Key == v }) {
				es.Add(name, "choice")
				continue
			}
		case policy.FieldResident:
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 || residentOK == nil || !residentOK(id) {
				es.Add(name, "resident")
				continue
			}
		}
		out[f.Key] = v
	}
	return out, es
}

// checkMaterials refuses keys the item does not list and returns the
// required materials missing from received.
func checkMaterials(it policy.WindowItem, received []string) (missing []string, es Errors) {
	for _, k := range received {
		if !slices.ContainsFunc(it.Materials, func(m policy.WindowMaterial) bool { return m.Key == k }) {
			es.Add("materials", "material_unknown", k)
		}
	}
	for _, m := range it.Materials {
		if !m.Optional && !slices.Contains(received, m.Key) {
			missing = append(missing, m.Key)
		}
	}
	return missing, es
}
