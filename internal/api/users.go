package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// china is the offset every timestamp of the API is written in.
var china = time.FixedZone("CST", 8*3600)

func timeString(ms int64) string { return time.UnixMilli(ms).In(china).Format(time.RFC3339) }

// Assignment is a role bound to a division subtree.
type Assignment struct {
	ID           int64    `json:"id"`
	Role         string   `json:"role" example:"township_staff"`
	Division     string   `json:"division" doc:"15-digit code of the subtree's root; \"0\" is the whole country" example:"320205001000000"`
	DivisionName string   `json:"division_name" example:"东亭街道"`
	Permissions  []string `json:"permissions,omitempty" doc:"What the role allows in that subtree (GET /me only)"`
}

// Me is the caller.
type Me struct {
	ID          int64        `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Locale      string       `json:"locale"`
	Assignments []Assignment `json:"assignments" nullable:"false"`
}

// User is an account.
type User struct {
	ID          int64        `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	MustChange  bool         `json:"must_change" doc:"The owner must change the password at the next login"`
	Disabled    bool         `json:"disabled"`
	CreatedAt   string       `json:"created_at" format:"date-time"`
	Assignments []Assignment `json:"assignments" nullable:"false"`
}

type meOut struct{ Body Me }

// UserList is a list of accounts.
type UserList struct {
	Items []User `json:"items" nullable:"false"`
}

type usersOut struct{ Body UserList }

type userOut struct{ Body User }

type usersIn struct {
	Q     string `query:"q" maxLength:"100" doc:"Part of a username or display name"`
	Limit int    `query:"limit" default:"100" minimum:"1" maximum:"500"`
}

// NewUser is an account to create, with its first role assignment.
type NewUser struct {
	Username    string `json:"username" maxLength:"100" doc:"3-32 of a-z 0-9 . _ -" example:"wang.fang"`
	DisplayName string `json:"display_name,omitempty" maxLength:"200" doc:"At most 50 characters" example:"王芳"`
	Password    string `json:"password" maxLength:"256" doc:"Initial password (at least 10 characters, not common); the owner must change it at the first login"`
	Role        string `json:"role" maxLength:"64" doc:"A role of roles.yaml the caller may grant at the division" example:"village_staff"`
	Division    string `json:"division" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Code of the subtree the role is bound to" example:"320205001004000"`
}

type createUserIn struct{ Body NewUser }

func (s *server) registerMe(a huma.API) {
	huma.Register(a, op("get-me", http.MethodGet, "/me", "The caller: account, role assignments and their permissions", []string{"account"}), s.me)
}

func (s *server) registerUsers(a huma.API) {
	tags := []string{"users"}
	huma.Register(a, op("list-users", http.MethodGet, "/users", "Accounts with a role assignment inside the caller's user.view scope", tags,
		http.StatusForbidden, http.StatusUnprocessableEntity), s.listUsers)
	create := op("create-user", http.MethodPost, "/users", "Create an account with one role assignment", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = maxBody
	create.Description = "The caller needs user.manage at the division and every permission of the role there " +
		"(nobody hands out more than they hold): otherwise 422 role_not_grantable. The new account must change " +
		"its password at the first login and cannot use the API until then."
	huma.Register(a, create, s.createUser)
}

// names looks up division names, once per code.
type names struct {
	s    *server
	seen map[int64]string
}

func (n *names) get(ctx context.Context, code int64) string {
	if code == 0 {
		return ""
	}
	if v, ok := n.seen[code]; ok {
		return v
	}
	v := ""
	if d, err := n.s.Divisions.Store.Get(ctx, code); err == nil {
		v = d.Name
	}
	n.seen[code] = v
	return v
}

func (s *server) names() *names { return &names{s: s, seen: map[int64]string{}} }

func (s *server) toUser(ctx context.Context, n *names, u access.User) User {
	out := User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, MustChange: u.MustChange, Disabled: u.Disabled,
		CreatedAt: timeString(u.CreatedAt), Assignments: []Assignment{}}
	for _, a := range u.Assignments {
		out.Assignments = append(out.Assignments, Assignment{ID: a.ID, Role: a.Role, Division: codeString(a.Division), DivisionName: n.get(ctx, a.Division)})
	}
	return out
}

func (s *server) me(ctx context.Context, _ *struct{}) (*meOut, error) {
	p := access.From(ctx)
	n := s.names()
	out := &meOut{Body: Me{ID: p.UserID, Username: p.Username, DisplayName: p.DisplayName, Locale: p.Locale, Assignments: []Assignment{}}}
	for _, a := range p.Assignments {
		perms := []string{}
		if r, ok := access.LookupRole(a.Role); ok {
			perms = append(perms, r.Permissions...)
		}
		out.Body.Assignments = append(out.Body.Assignments, Assignment{ID: a.ID, Role: a.Role, Division: codeString(a.Division),
			DivisionName: n.get(ctx, a.Division), Permissions: perms})
	}
	return out, nil
}

func (s *server) listUsers(ctx context.Context, in *usersIn) (*usersOut, error) {
	p := access.From(ctx)
	if !p.Can("user.view") {
		return nil, forbidden("needs the user.view permission")
	}
	us, err := s.Access.ListUsers(ctx, p, in.Q, in.Limit)
	if err != nil {
		return nil, err
	}
	n := s.names()
	out := &usersOut{}
	out.Body.Items = make([]User, 0, len(us))
	for _, u := range us {
		out.Body.Items = append(out.Body.Items, s.toUser(ctx, n, u))
	}
	return out, nil
}

func (s *server) createUser(ctx context.Context, in *createUserIn) (*userOut, error) {
	p := access.From(ctx)
	if !p.Can("user.manage") {
		return nil, forbidden("needs the user.manage permission")
	}
	b := in.Body
	code, err := parseCode(b.Division)
	if err != nil {
		return nil, err
	}
	// Refuse what the caller may not grant before looking the division up,
	// so that an answer never tells whether a unit outside the caller's
	// scope exists. Unknown roles and wrong levels are CreateUser's to report.
	if r, ok := access.LookupRole(b.Role); ok && r.BindableAt(ids.Level(code)) {
		if !p.Grants(b.Role, code) {
			return nil, &access.Error{Code: "user.role_not_grantable", Field: "role"}
		}
		if code != 0 {
			d, err := s.Divisions.Store.Get(ctx, code)
			if errors.Is(err, db.ErrNotFound) {
				return nil, &access.Error{Code: "user.division_unknown", Field: "division"}
			}
			if err != nil {
				return nil, err
			}
			if d.Retired {
				return nil, &access.Error{Code: "user.division_retired", Field: "division"}
			}
		}
	}
	u, err := s.Access.CreateUser(ctx, p, access.NewUser{Username: b.Username, DisplayName: b.DisplayName, Password: b.Password,
		MustChange: true, Role: b.Role, Division: code})
	if err != nil {
		return nil, err
	}
	return &userOut{Body: s.toUser(ctx, s.names(), u)}, nil
}
