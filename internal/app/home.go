package app

import (
	"net/http"
	"strconv"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// scopeName names where the principal works: the name of its first scope
// root, with "+N" when it holds several.
func (a *App) scopeName(r *http.Request, p *access.Principal) string {
	roots := p.Roots("division.view")
	if len(roots) == 0 {
		return ""
	}
	name := i18n.T(i18n.Negotiate(r), "scope.country")
	if roots[0] != 0 {
		d, err := a.Divisions.Get(r.Context(), roots[0])
		if err != nil {
			return ""
		}
		name = d.Name
	}
	if len(roots) > 1 {
		name += " +" + strconv.Itoa(len(roots)-1)
	}
	return name
}

type homeScope struct {
	Division division.Division
	Role     string
	Counts   division.Counts
}

type homeData struct {
	Scopes []homeScope
}

// home is the start page: each scope the user holds with its unit counts
// (from facts) and a link into the tree.
func (a *App) home(rd interface {
	Page(http.ResponseWriter, *http.Request, int, string, any)
}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := access.From(r.Context())
		var d homeData
		for _, as := range p.Assignments {
			hs := homeScope{Role: as.Role, Division: division.Division{Code: as.Division, Level: ids.Level(as.Division)}}
			if as.Division != 0 {
				if dv, err := a.Divisions.Get(r.Context(), as.Division); err == nil {
					hs.Division = dv
				}
			}
			hs.Counts, _ = a.DivisionService.Counts(r.Context(), as.Division)
			d.Scopes = append(d.Scopes, hs)
		}
		rd.Page(w, r, http.StatusOK, "home", d)
	}
}
