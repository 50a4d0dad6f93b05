// Package access authenticates people and programs and bounds everything
// they do by scope: users with argon2id passwords, roles defined as data
// (roles.yaml), each role assignment bound to one division subtree,
// server-side sessions with an idle timeout, lockout after repeated failures,
// and per-user API tokens.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Config holds the security settings.
type Config struct {
	IdleTimeout     time.Duration // default 30 min
	MaxSession      time.Duration // absolute session lifetime, default 12 h
	LockoutFailures int           // default 5
	LockoutWindow   time.Duration // default 15 min
}

func (c *Config) defaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.MaxSession <= 0 {
		c.MaxSession = 12 * time.Hour
	}
	if c.LockoutFailures <= 0 {
		c.LockoutFailures = 5
	}
	if c.LockoutWindow <= 0 {
		c.LockoutWindow = 15 * time.Minute
	}
}

// Service is the access layer.
type Service struct {
	DB    *db.DB
	Audit *audit.Log
	Cfg   Config
	now   func() time.Time
}

// New returns a Service with defaults filled in.
func New(d *db.DB, a *audit.Log, cfg Config) *Service {
	cfg.defaults()
	return &Service{DB: d, Audit: a, Cfg: cfg, now: time.Now}
}

// Errors with stable codes; UIs translate Code through the catalogue.
type Error struct {
	Code  string // i18n key, e.g. "login.invalid"
	Field string
}

func (e *Error) Error() string { return e.Code }

var (
	ErrInvalidLogin = &Error{Code: "login.invalid"}
	ErrLocked       = &Error{Code: "login.locked"}
	ErrNoSession    = errors.New("no valid session")
)

// User is an account.
type User struct {
	ID          int64
	Username    string
	DisplayName string
	MustChange  bool
	Disabled    bool
	Locale      string
	CreatedAt   int64
	Assignments []Assignment
}

// NewUser is what creating an account needs.
type NewUser struct {
	Username    string
	DisplayName string
	Password    string
	MustChange  bool
	Role        string
	Division    int64
}

func validUsername(s string) bool {
	if n := utf8.RuneCountInString(s); n < 3 || n > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// CreateUser creates an account with one role assignment, in one
// transaction with its audit entry. by is nil for the system (CLI, demo,
// first run); otherwise by must be allowed to grant the role there.
func (s *Service) CreateUser(ctx context.Context, by *Principal, nu NewUser) (User, error) {
	nu.Username = strings.ToLower(strings.TrimSpace(nu.Username))
	nu.DisplayName = strings.TrimSpace(nu.DisplayName)
	if !validUsername(nu.Username) {
		return User{}, &Error{Code: "user.username_invalid", Field: "username"}
	}
	if utf8.RuneCountInString(nu.DisplayName) > 50 {
		return User{}, &Error{Code: "user.display_name_too_long", Field: "display_name"}
	}
	if p := PasswordProblem(nu.Username, nu.Password); p != "" && by != nil {
		return User{}, &Error{Code: p, Field: "password"}
	}
	role, ok := LookupRole(nu.Role)
	if !ok {
		return User{}, &Error{Code: "user.role_unknown", Field: "role"}
	}
	if !role.BindableAt(ids.Level(nu.Division)) {
		return User{}, &Error{Code: "user.role_level", Field: "division"}
	}
	if by != nil && !by.Grants(nu.Role, nu.Division) {
		return User{}, &Error{Code: "user.role_not_grantable", Field: "role"}
	}
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		var exists int
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE username = ?", nu.Username).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return &Error{Code: "user.username_taken", Field: "username"}
		}
		now := db.Now()
		id, err := s.DB.InsertID(ctx, `INSERT INTO users (username, display_name, password_hash, must_change, locale, created_at, password_changed_at)
			VALUES (?, ?, ?, ?, 'zh-CN', ?, ?)`, nu.Username, nu.DisplayName, hash, b2i(nu.MustChange), now, now)
		if err != nil {
			return err
		}
		u = User{ID: id, Username: nu.Username, DisplayName: nu.DisplayName, MustChange: nu.MustChange, Locale: "zh-CN", CreatedAt: now}
		if err := s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "user", EntityID: fmt.Sprint(id), Division: nu.Division,
			Changes: []audit.Change{{Field: "username", After: nu.Username}, {Field: "display_name", After: nu.DisplayName}}}); err != nil {
			return err
		}
		a, err := s.assign(ctx, id, nu.Role, nu.Division)
		u.Assignments = []Assignment{a}
		return err
	})
	return u, err
}

func (s *Service) assign(ctx context.Context, userID int64, role string, division int64) (Assignment, error) {
	var n int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM role_assignments WHERE user_id = ? AND role = ? AND division = ?", userID, role, division).Scan(&n); err != nil {
		return Assignment{}, err
	}
	if n > 0 {
		return Assignment{}, &Error{Code: "user.role_duplicate", Field: "role"}
	}
	id, err := s.DB.InsertID(ctx, "INSERT INTO role_assignments (user_id, role, division, created_at) VALUES (?, ?, ?, ?)", userID, role, division, db.Now())
	if err != nil {
		return Assignment{}, err
	}
	return Assignment{ID: id, Role: role, Division: division}, s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "role_assignment",
		EntityID: fmt.Sprint(id), Division: division, Changes: []audit.Change{{Field: "user_id", After: userID}, {Field: "role", After: role}}})
}

// Assign adds a role assignment to a user the principal may manage.
func (s *Service) Assign(ctx context.Context, by *Principal, userID int64, role string, division int64) (Assignment, error) {
	if _, ok := LookupRole(role); !ok {
		return Assignment{}, &Error{Code: "user.role_unknown", Field: "role"}
	}
	if r, _ := LookupRole(role); !r.BindableAt(ids.Level(division)) {
		return Assignment{}, &Error{Code: "user.role_level", Field: "division"}
	}
	if !by.Grants(role, division) {
		return Assignment{}, &Error{Code: "user.role_not_grantable", Field: "role"}
	}
	var a Assignment
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.UserFor(ctx, by, userID); err != nil {
			return err
		}
		var err error
		a, err = s.assign(ctx, userID, role, division)
		return err
	})
	return a, err
}

// Unassign removes a role assignment the principal could have granted.
func (s *Service) Unassign(ctx context.Context, by *Principal, userID, assignmentID int64) error {
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		var role string
		var div int64
		err := s.DB.QueryRow(ctx, "SELECT role, division FROM role_assignments WHERE id = ? AND user_id = ?", assignmentID, userID).Scan(&role, &div)
		if errors.Is(err, sql.ErrNoRows) || err == nil && !by.Grants(role, div) {
			return db.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := s.DB.Exec(ctx, "DELETE FROM role_assignments WHERE id = ?", assignmentID); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: "role_assignment", EntityID: fmt.Sprint(assignmentID),
			Division: div, Changes: []audit.Change{{Field: "user_id", Before: userID}, {Field: "role", Before: role}}})
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Service) loadAssignments(ctx context.Context, userID int64) ([]Assignment, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, role, division FROM role_assignments WHERE user_id = ? ORDER BY division, role", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		if err := rows.Scan(&a.ID, &a.Role, &a.Division); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const userCols = "id, username, display_name, must_change, disabled, locale, created_at"

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var mc, dis int
	err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &mc, &dis, &u.Locale, &u.CreatedAt)
	u.MustChange, u.Disabled = mc != 0, dis != 0
	return u, err
}

// UserFor returns a user the principal may see (one with at least one
// assignment inside the principal's user.view ranges); anything else is
// db.ErrNotFound.
func (s *Service) UserFor(ctx context.Context, by *Principal, id int64) (User, error) {
	cond, args := by.Where("user.view", "ra.division")
	u, err := scanUser(s.DB.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = ? AND EXISTS (SELECT 1 FROM role_assignments ra WHERE ra.user_id = users.id AND "+cond+")",
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, db.ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	u.Assignments, err = s.loadAssignments(ctx, id)
	return u, err
}

// ListUsers returns the users visible to the principal, by username.
func (s *Service) ListUsers(ctx context.Context, by *Principal, q string, limit int) ([]User, error) {
	cond, args := by.Where("user.view", "ra.division")
	query := "SELECT " + userCols + " FROM users WHERE EXISTS (SELECT 1 FROM role_assignments ra WHERE ra.user_id = users.id AND " + cond + ")"
	if q = strings.TrimSpace(q); q != "" {
		query += " AND (username LIKE ? OR display_name LIKE ?)"
		args = append(args, "%"+q+"%", "%"+q+"%")
	}
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	query += fmt.Sprintf(" ORDER BY username LIMIT %d", limit)
	return s.queryUsers(ctx, query, args...)
}

// queryUsers runs a SELECT of userCols and loads each user's assignments.
func (s *Service) queryUsers(ctx context.Context, query string, args ...any) ([]User, error) {
	rows, err := s.DB.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Assignments, err = s.loadAssignments(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UserByName returns an account by username (system use: CLI, first run).
func (s *Service) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.DB.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE username = ?", strings.ToLower(username)))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, db.ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	u.Assignments, err = s.loadAssignments(ctx, u.ID)
	return u, err
}

// AllUsers lists every account (CLI).
func (s *Service) AllUsers(ctx context.Context) ([]User, error) {
	return s.queryUsers(ctx, "SELECT "+userCols+" FROM users ORDER BY username")
}

// SetPassword sets a user's password. With checkPolicy the policy applies;
// mustChange forces another change at next login (used by admins' resets).
func (s *Service) SetPassword(ctx context.Context, userID int64, username, pw string, checkPolicy, mustChange bool) error {
	if checkPolicy {
		if p := PasswordProblem(username, pw); p != "" {
			return &Error{Code: p, Field: "password"}
		}
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		res, err := s.DB.Exec(ctx, "UPDATE users SET password_hash = ?, must_change = ?, password_changed_at = ? WHERE id = ?", hash, b2i(mustChange), db.Now(), userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return db.ErrNotFound
		}
		if _, err := s.DB.Exec(ctx, "DELETE FROM login_failures WHERE username = ?", username); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "user", EntityID: fmt.Sprint(userID), Division: s.homeDivision(ctx, userID),
			Changes: []audit.Change{{Field: "password", Before: "***", After: "***"}}})
	})
}

// ChangeOwnPassword checks the current password and sets a new one, ending
// the user's other sessions.
func (s *Service) ChangeOwnPassword(ctx context.Context, p *Principal, current, next string) error {
	var hash string
	if err := s.DB.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", p.UserID).Scan(&hash); err != nil {
		return err
	}
	if !CheckPassword(current, hash) {
		return &Error{Code: "password.current_wrong", Field: "current"}
	}
	if current == next {
		return &Error{Code: "password.same_as_old", Field: "password"}
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		if err := s.SetPassword(ctx, p.UserID, p.Username, next, true, false); err != nil {
			return err
		}
		_, err := s.DB.Exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND id <> ?", p.UserID, p.SessionID)
		return err
	})
}

// CountUsers returns the number of accounts (first-run detection).
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, err
}

// RandomPassword returns a random password that satisfies the policy.
func RandomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b) // 16 characters
}

func randomToken(prefix string) (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// ResetPassword sets a new password on an account the principal manages;
// the owner must change it at next login, and the account's sessions end.
func (s *Service) ResetPassword(ctx context.Context, by *Principal, userID int64, pw string) error {
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		u, err := s.UserFor(ctx, by, userID)
		if err != nil {
			return err
		}
		for _, a := range u.Assignments {
			if !by.Grants(a.Role, a.Division) {
				return &Error{Code: "user.not_manageable", Field: "password"}
			}
		}
		if err := s.SetPassword(ctx, userID, u.Username, pw, true, true); err != nil {
			return err
		}
		_, err = s.DB.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
		return err
	})
}
