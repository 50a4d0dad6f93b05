package open311

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/window"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the staff page of the Open311 clients, for the renderer.
func Templates() embed.FS { return templates }

// ClientsHTTP is the staff page that issues and revokes Open311 API keys
// (mount behind login): GET /window/open311 lists the clients the user
// manages with a form to add one; POST /window/open311 adds one and shows its
// key once; POST /window/open311/{id}/revoke revokes one.
type ClientsHTTP struct {
	S *window.Service
	R *web.Renderer
}

// Routes registers the page.
func (h *ClientsHTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /window/open311", h.page)
	mux.HandleFunc("POST /window/open311", h.add)
	mux.HandleFunc("POST /window/open311/{id}/revoke", h.revoke)
}

type clientRow struct {
	window.Client
	DivisionName string
	DivisionCode string
}

type unitOption struct{ Code, Name string }

type clientsView struct {
	Clients   []clientRow
	Units     []unitOption
	Discovery string
	// the form, re-shown after an error
	Name, Division string
	NameError      string
	DivisionError  string
	// the client just added, with its key (shown only now)
	Key   string
	Added *window.Client
}

// manager returns the signed-in principal holding window.manage somewhere,
// or answers 404.
func (h *ClientsHTTP) manager(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can("window.manage") {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, false
	}
	return p, true
}

func (h *ClientsHTTP) view(r *http.Request, p *access.Principal) (clientsView, error) {
	ctx := r.Context()
	v := clientsView{Discovery: "/open311/discovery.json"}
	cs, err := h.S.Clients(ctx, p)
	if err != nil {
		return v, err
	}
	names := map[int64]string{0: i18n.T(i18n.Negotiate(r), "open311.clients.anywhere")}
	name := func(code int64) string {
		if n, ok := names[code]; ok {
			return n
		}
		n := strconv.FormatInt(code/1000, 10)
		if d, err := h.S.Divisions.Get(ctx, code); err == nil {
			n = d.Name
		}
		names[code] = n
		return n
	}
	for _, c := range cs {
		row := clientRow{Client: c, DivisionName: name(c.Division)}
		if c.Division != 0 {
			row.DivisionCode = division.Format12(c.Division)
		}
		v.Clients = append(v.Clients, row)
	}
	for _, root := range p.Roots("window.manage") {
		o := unitOption{Name: name(root)}
		if root != 0 {
			o.Code = division.Format12(root)
		}
		v.Units = append(v.Units, o)
	}
	return v, nil
}

func (h *ClientsHTTP) page(w http.ResponseWriter, r *http.Request) {
	p, ok := h.manager(w, r)
	if !ok {
		return
	}
	v, err := h.view(r, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(v.Units) > 0 {
		v.Division = v.Units[0].Code
	}
	h.R.Page(w, r, http.StatusOK, "open311_clients", v)
}

func (h *ClientsHTTP) add(w http.ResponseWriter, r *http.Request) {
	p, ok := h.manager(w, r)
	if !ok {
		return
	}
	loc := i18n.Negotiate(r)
	name := strings.TrimSpace(r.PostFormValue("name"))
	divS := strings.TrimSpace(r.PostFormValue("division"))
	var code int64
	var divErr string
	if divS != "" && divS != "0" {
		var err error
		if code, err = division.Parse(divS); err != nil {
			divErr = i18n.T(loc, "open311.clients.error.division_code")
		}
	}
	var key string
	var added window.Client
	var nameErr string
	if divErr == "" {
		var err error
		key, added, err = h.S.AddClient(r.Context(), p, name, code)
		var es window.Errors
		switch {
		case errors.Is(err, window.ErrForbidden):
			divErr = i18n.T(loc, "open311.clients.error.division_scope")
		case errors.As(err, &es):
			for _, e := range es {
				switch e.Field {
				case "name":
					nameErr = nameText(loc, e.Code)
				case "division":
					divErr = i18n.T(loc, "open311.clients.error.division_unknown")
				}
			}
		case err != nil:
			h.fail(w, r, err)
			return
		}
	}
	v, err := h.view(r, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if nameErr != "" || divErr != "" {
		v.Name, v.Division, v.NameError, v.DivisionError = name, divS, nameErr, divErr
		h.R.Page(w, r, http.StatusUnprocessableEntity, "open311_clients", v)
		return
	}
	v.Key, v.Added = key, &added
	if len(v.Units) > 0 {
		v.Division = v.Units[0].Code
	}
	w.Header().Set("Cache-Control", "no-store") // the key is in this page
	h.R.Page(w, r, http.StatusOK, "open311_clients", v)
}

func nameText(loc, code string) string {
	switch code {
	case "required":
		return i18n.T(loc, "open311.clients.error.name_required")
	case "name_taken":
		return i18n.T(loc, "open311.clients.error.name_taken")
	}
	return i18n.T(loc, "open311.clients.error.name_long")
}

func (h *ClientsHTTP) revoke(w http.ResponseWriter, r *http.Request) {
	p, ok := h.manager(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if err := h.S.RevokeClient(r.Context(), p, id); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/window/open311", http.StatusSeeOther)
}

func (h *ClientsHTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, db.ErrNotFound):
		h.R.Error(w, r, http.StatusNotFound, "")
	case errors.Is(err, window.ErrForbidden):
		h.R.Error(w, r, http.StatusForbidden, "")
	default:
		slog.ErrorContext(r.Context(), "open311: clients page", "path", r.URL.Path, "err", err)
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}
