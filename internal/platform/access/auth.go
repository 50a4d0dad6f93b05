package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
)

// dummyHash makes a login for an unknown user cost as much as a real one.
var dummyHash, _ = HashPassword("shequ-timing-equaliser")

// Login checks a username and password, honours lockout, and opens a
// session. It returns the session token (for the cookie). Every outcome is
// audited; failures say nothing about which part was wrong.
func (s *Service) Login(ctx context.Context, username, password, client string) (string, *Principal, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	ctx = audit.WithActor(ctx, audit.Actor{Name: username, Client: client})
	since := s.now().Add(-s.Cfg.LockoutWindow).UnixMilli()
	var failures int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM login_failures WHERE username = ? AND at >= ?", username, since).Scan(&failures); err != nil {
		return "", nil, err
	}
	var id int64
	var hash string
	var disabled int
	err := s.DB.QueryRow(ctx, "SELECT id, password_hash, disabled FROM users WHERE username = ?", username).Scan(&id, &hash, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(password, dummyHash)
		hash = ""
	} else if err != nil {
		return "", nil, err
	}
	if failures >= s.Cfg.LockoutFailures {
		_ = s.fail(ctx, username, client, id, "locked")
		return "", nil, ErrLocked
	}
	if hash == "" || !CheckPassword(password, hash) || disabled != 0 {
		_ = s.fail(ctx, username, client, id, "bad credentials")
		if failures+1 >= s.Cfg.LockoutFailures {
			return "", nil, ErrLocked
		}
		return "", nil, ErrInvalidLogin
	}
	token, sid := randomToken("")
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		now := s.now().UnixMilli()
		if _, err := s.DB.Exec(ctx, "INSERT INTO sessions (id, user_id, created_at, last_seen_at, client) VALUES (?, ?, ?, ?, ?)", sid, id, now, now, client); err != nil {
			return err
		}
		if _, err := s.DB.Exec(ctx, "DELETE FROM login_failures WHERE username = ?", username); err != nil {
			return err
		}
		ctx = audit.WithActor(ctx, audit.Actor{ID: id, Name: username, Client: client})
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Login, Entity: "user", EntityID: fmt.Sprint(id), Division: s.homeDivision(ctx, id)})
	})
	if err != nil {
		return "", nil, err
	}
	p, err := s.principal(ctx, id, sid)
	return token, p, err
}

func (s *Service) fail(ctx context.Context, username, client string, id int64, why string) error {
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.DB.Exec(ctx, "INSERT INTO login_failures (username, at, client) VALUES (?, ?, ?)", username, s.now().UnixMilli(), client); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.LoginFailed, Entity: "user", EntityID: fmt.Sprint(id), Division: s.homeDivision(ctx, id),
			Changes: []audit.Change{{Field: "reason", After: why}}})
	})
}

// PrincipalOf loads a user's principal outside any session, for work done
// on the user's behalf later (background jobs). A disabled user has none.
func (s *Service) PrincipalOf(ctx context.Context, userID int64) (*Principal, error) {
	return s.principal(ctx, userID, "")
}

func (s *Service) principal(ctx context.Context, userID int64, sessionID string) (*Principal, error) {
	var p Principal
	var mc, dis int
	err := s.DB.QueryRow(ctx, "SELECT id, username, display_name, locale, must_change, disabled FROM users WHERE id = ?", userID).
		Scan(&p.UserID, &p.Username, &p.DisplayName, &p.Locale, &mc, &dis)
	if err != nil {
		return nil, err
	}
	if dis != 0 {
		return nil, ErrNoSession
	}
	p.MustChange, p.SessionID = mc != 0, sessionID
	p.Assignments, err = s.loadAssignments(ctx, userID)
	return &p, err
}

// Session resolves a session cookie token, enforcing the idle timeout and
// the absolute lifetime, and touches the session (at most once a minute).
func (s *Service) Session(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNoSession
	}
	sid := hashToken(token)
	var userID, created, seen int64
	err := s.DB.QueryRow(ctx, "SELECT user_id, created_at, last_seen_at FROM sessions WHERE id = ?", sid).Scan(&userID, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	if now-seen > s.Cfg.IdleTimeout.Milliseconds() || now-created > s.Cfg.MaxSession.Milliseconds() {
		_, _ = s.DB.Exec(ctx, "DELETE FROM sessions WHERE id = ?", sid)
		return nil, ErrNoSession
	}
	if now-seen > 60_000 {
		if _, err := s.DB.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", now, sid); err != nil {
			return nil, err
		}
	}
	return s.principal(ctx, userID, sid)
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.DB.Exec(ctx, "DELETE FROM sessions WHERE id = ?", p.SessionID); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Logout, Entity: "user", EntityID: fmt.Sprint(p.UserID), Division: s.homeDivision(ctx, p.UserID)})
	})
}

// Token is an API token's metadata (the secret is shown once, at creation).
type Token struct {
	ID         int64
	Name       string
	CreatedAt  int64
	LastUsedAt int64
}

// CreateToken issues a personal API token for the user and returns the
// secret, which is stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, userID int64, name string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 50 {
		return "", Token{}, &Error{Code: "token.name_invalid", Field: "name"}
	}
	secret, hash := randomToken("shq_")
	var t Token
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		now := db.Now()
		id, err := s.DB.InsertID(ctx, "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)", userID, name, hash, now)
		if err != nil {
			return err
		}
		t = Token{ID: id, Name: name, CreatedAt: now}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "api_token", EntityID: fmt.Sprint(id), Division: s.homeDivision(ctx, userID),
			Changes: []audit.Change{{Field: "user_id", After: userID}, {Field: "name", After: name}}})
	})
	return secret, t, err
}

// Tokens lists a user's live tokens.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = ? AND revoked_at = 0 ORDER BY id", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.LastUsedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of the user's tokens.
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		res, err := s.DB.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at = 0", db.Now(), tokenID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return db.ErrNotFound
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: "api_token", EntityID: fmt.Sprint(tokenID), Division: s.homeDivision(ctx, userID)})
	})
}

// Bearer resolves an API token.
func (s *Service) Bearer(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, "shq_") || len(secret) > 100 {
		return nil, ErrNoSession
	}
	var id, userID, last int64
	err := s.DB.QueryRow(ctx, "SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = ? AND revoked_at = 0", hashToken(secret)).Scan(&id, &userID, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	if now := db.Now(); now-last > 60_000 {
		_, _ = s.DB.Exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", now, id)
	}
	p, err := s.principal(ctx, userID, "")
	if err == nil && p.MustChange {
		return nil, ErrNoSession // an account awaiting its first password change cannot use the API
	}
	return p, err
}

// Deny records a refused access (outside scope or without permission). The
// caller then answers exactly as for "not found".
func (s *Service) Deny(ctx context.Context, entity, id string, division int64) {
	_ = s.Audit.Write(ctx, audit.Entry{Action: audit.Denied, Entity: entity, EntityID: id, Division: division})
}

// homeDivision is where a user's own events (sign-ins, password and token
// changes) are filed in the audit log: the first of its role assignments, so
// the auditors of that subtree see them. 0 for unknown users.
func (s *Service) homeDivision(ctx context.Context, userID int64) int64 {
	var code int64
	if userID == 0 {
		return 0
	}
	_ = s.DB.QueryRow(ctx, "SELECT division FROM role_assignments WHERE user_id = ? ORDER BY division LIMIT 1", userID).Scan(&code)
	return code
}
