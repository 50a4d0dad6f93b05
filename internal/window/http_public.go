package window

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

type publicData struct {
	Number, Tail string
	Error        string
	Found        bool
	Case         Case
	ItemName     string
	HolderName   string
	Steps        []stepView
	Overdue      bool
	Today        int
	CanRate      bool
	Rated        bool
	Errors       map[string]string
	Levels       []int
}

// statusForm is the look-up form; the QR code on a receipt lands here with
// the number filled in.
func (h *PublicHTTP) statusForm(w http.ResponseWriter, r *http.Request) {
	h.R.Page(w, r, http.StatusOK, "window_public.html", &publicData{Number: strings.TrimSpace(r.URL.Query().Get("n"))})
}

func (h *PublicHTTP) lookup(r *http.Request) (*publicData, int) {
	loc := i18n.Negotiate(r)
	d := &publicData{Number: strings.TrimSpace(r.PostFormValue("n")), Tail: strings.TrimSpace(r.PostFormValue("tail")),
		Errors: map[string]string{}, Levels: []int{5, 4, 3, 2, 1}}
	c, steps, err := h.S.Lookup(r.Context(), d.Number, d.Tail)
	switch {
	case errors.Is(err, ErrTooManyTries):
		d.Error = i18n.T(loc, "window.public.too_many")
		return d, http.StatusTooManyRequests
	case errors.Is(err, ErrNoMatch):
		d.Error = i18n.T(loc, "window.public.no_match")
		return d, http.StatusNotFound
	case err != nil:
		d.Error = i18n.T(loc, "error.title.500")
		return d, http.StatusInternalServerError
	}
	d.Found, d.Case, d.Today = true, c, h.S.Today()
	d.Overdue = c.Overdue(d.Today)
	d.ItemName = c.ItemName
	if cat, err := h.S.Catalogue(r.Context(), c.Division); err == nil {
		for _, it := range cat.Items {
			if it.Code == c.ItemCode {
				d.ItemName = it.Name.Get(loc)
			}
		}
	}
	name := func(code int64) string {
		if dv, err := h.S.Divisions.Get(r.Context(), code); err == nil {
			return dv.Name
		}
		return ""
	}
	d.HolderName = name(c.Holder)
	if c.HolderLevel == policy.LevelDepartment && c.Department != "" {
		d.HolderName = c.Department
	}
	names := map[int64]string{}
	for _, st := range steps {
		if st.Action == ActNote {
			continue // staff notes are internal
		}
		n, ok := names[st.Holder]
		if !ok {
			n = name(st.Holder)
			names[st.Holder] = n
		}
		st.Actor, st.Note = "", publicNote(st)
		d.Steps = append(d.Steps, stepView{Step: st, HolderName: n})
	}
	d.CanRate = c.State == StateCompleted && c.Rating == 0
	return d, http.StatusOK
}

// publicNote is what the applicant sees of a step's note: the reason of a
// rejection, the missing materials, the result; not internal remarks.
func publicNote(st Step) string {
	switch st.Action {
	case ActReject, ActSupplement, ActComplete:
		return st.Note
	}
	return ""
}

func (h *PublicHTTP) status(w http.ResponseWriter, r *http.Request) {
	d, code := h.lookup(r)
	h.R.Page(w, r, code, "window_public.html", d)
}

func (h *PublicHTTP) rate(w http.ResponseWriter, r *http.Request) {
	loc := i18n.Negotiate(r)
	level, _ := strconv.Atoi(r.PostFormValue("rating"))
	_, err := h.S.Rate(r.Context(), strings.TrimSpace(r.PostFormValue("n")), strings.TrimSpace(r.PostFormValue("tail")), level, r.PostFormValue("comment"))
	d, code := h.lookup(r)
	var es Errors
	var te *TransitionError
	switch {
	case err == nil:
		d.Rated = true
	case errors.As(err, &es):
		for _, e := range es {
			d.Errors[e.Field] = errorText(loc, e)
		}
		code = http.StatusUnprocessableEntity
	case errors.As(err, &te):
		d.Errors["rating"] = i18n.T(loc, "window.public.rated_already")
		code = http.StatusConflict
	case code == http.StatusOK:
		code = http.StatusInternalServerError
		d.Error = i18n.T(loc, "error.title.500")
	}
	h.R.Page(w, r, code, "window_public.html", d)
}
