package window

// Open311 clients (the apps and sites that submit residents' requests through
// the GeoReport v2 API of package open311) with their API keys, and the
// read-only queries Open311 publishes: only cases that came in through it.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Client is an Open311 client: one app or site with its API key. Only the
// SHA-256 of the key is stored, with its first characters to recognise it.
type Client struct {
	ID         int64
	Name       string
	KeyPrefix  string // the key's first 8 characters, e.g. "o311_k3q"
	Division   int64  // the subtree its requests may land in (0: anywhere)
	CreatedAt  int64  // unix ms
	RevokedAt  int64  // unix ms, 0 while the key is valid
	LastUsedAt int64  // unix ms, updated at most once a minute
	CreatedBy  string
}

// Revoked reports whether the client's key has been revoked.
func (c Client) Revoked() bool { return c.RevokedAt != 0 }

// ClientKeyPrefix starts every Open311 API key.
const ClientKeyPrefix = "o311_"

var (
	// ErrNoClient: the API key is missing, malformed or unknown.
	ErrNoClient = errors.New("window: unknown Open311 API key")
	// ErrClientRevoked: the API key was revoked.
	ErrClientRevoked = errors.New("window: Open311 API key revoked")
)

// keyEncoding writes the random part of a key: lower-case base32, no padding.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newClientKey returns a fresh key ("o311_" + 32 base32 characters, 160
// random bits) and the hex SHA-256 that is stored.
func newClientKey() (key, hash string) {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	key = ClientKeyPrefix + keyEncoding.EncodeToString(b)
	return key, hashClientKey(key)
}

func hashClientKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

const clientColumns = `id, name, key_prefix, division, created_at, revoked_at, last_used_at, created_by`

func scanClient(sc interface{ Scan(...any) error }) (Client, error) {
	var c Client
	err := sc.Scan(&c.ID, &c.Name, &c.KeyPrefix, &c.Division, &c.CreatedAt, &c.RevokedAt, &c.LastUsedAt, &c.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.ErrNotFound
	}
	return c, err
}

// AddClient registers an Open311 client and returns its API key, which is
// shown only now: the database keeps its SHA-256. The principal needs
// window.manage at division (nil is the operator at the CLI, who may do
// anything); division 0 lets the client's requests land anywhere. Bad input
// is Errors (name: required, too_long, name_taken; division: unit_unknown).
func (s *Service) AddClient(ctx context.Context, p *access.Principal, name string, division int64) (string, Client, error) {
	if p != nil && !p.CanAt("window.manage", division) {
		return "", Client{}, ErrForbidden
	}
	name = strings.TrimSpace(name)
	var es Errors
	switch {
	case name == "":
		es.Add("name", "required")
	case utf8.RuneCountInString(name) > 50 || !utf8.ValidString(name):
		es.Add("name", "too_long", "50")
	}
	if division < 0 || division > ids.Max {
		es.Add("division", "unit_unknown")
	} else if division != 0 {
		if d, err := s.Divisions.Get(ctx, division); errors.Is(err, db.ErrNotFound) || err == nil && d.Retired {
			es.Add("division", "unit_unknown")
		} else if err != nil {
			return "", Client{}, err
		}
	}
	if len(es) > 0 {
		return "", Client{}, es
	}
	key, hash := newClientKey()
	c := Client{Name: name, KeyPrefix: key[:8], Division: division, CreatedAt: s.now().UnixMilli(), CreatedBy: audit.ActorFrom(ctx).Name}
	if p != nil {
		c.CreatedBy = p.Username
	}
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		var n int
		if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM open311_clients WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return Errors{{Field: "name", Code: "name_taken"}}
		}
		id, err := s.DB.InsertID(ctx, `INSERT INTO open311_clients (name, key_hash, key_prefix, division, created_at, created_by, revoked_at, last_used_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, 0)`, c.Name, hash, c.KeyPrefix, c.Division, c.CreatedAt, c.CreatedBy)
		if err != nil {
			return err
		}
		c.ID = id
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "open311_client", EntityID: strconv.FormatInt(id, 10),
			Division: division, Changes: []audit.Change{{Field: "name", After: name}, {Field: "division", After: division},
				{Field: "key_prefix", After: c.KeyPrefix}}})
	})
	if err != nil {
		return "", Client{}, err
	}
	return key, c, nil
}

// Clients lists the Open311 clients whose division lies where the principal
// holds window.manage (nil: all), revoked ones included, newest first.
func (s *Service) Clients(ctx context.Context, p *access.Principal) ([]Client, error) {
	where, args := "1 = 1", []any(nil)
	if p != nil {
		where, args = p.Where("window.manage", "division")
	}
	rows, err := s.DB.Query(ctx, `SELECT `+clientColumns+` FROM open311_clients WHERE `+where+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Client returns one client the principal manages (nil: any); anything else
// is db.ErrNotFound.
func (s *Service) Client(ctx context.Context, p *access.Principal, id int64) (Client, error) {
	c, err := scanClient(s.DB.QueryRow(ctx, `SELECT `+clientColumns+` FROM open311_clients WHERE id = ?`, id))
	if err != nil {
		return c, err
	}
	if p != nil && !p.CanAt("window.manage", c.Division) {
		if s.Access != nil {
			s.Access.Deny(ctx, "open311_client", strconv.FormatInt(id, 10), c.Division)
		}
		return Client{}, db.ErrNotFound
	}
	return c, nil
}

// RevokeClient revokes a client's key at once; its cases stay. Revoking a
// revoked key changes nothing. The principal needs window.manage at the
// client's division (nil: the CLI).
func (s *Service) RevokeClient(ctx context.Context, p *access.Principal, id int64) error {
	c, err := s.Client(ctx, p, id)
	if err != nil {
		return err
	}
	if c.Revoked() {
		return nil
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		res, err := s.DB.Exec(ctx, `UPDATE open311_clients SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, s.now().UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // revoked meanwhile
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: "open311_client", EntityID: strconv.FormatInt(id, 10),
			Division: c.Division, Changes: []audit.Change{{Field: "name", Before: c.Name}, {Field: "key_prefix", Before: c.KeyPrefix}}})
	})
}

// ClientByKey resolves an API key: the lookup is by the key's SHA-256 (the
// key itself never reaches the database, and the stored hash is compared in
// constant time). An unknown key is ErrNoClient; a revoked one returns the
// client with ErrClientRevoked. The client's last use is recorded at most
// once a minute.
func (s *Service) ClientByKey(ctx context.Context, key string) (Client, error) {
	key = strings.TrimSpace(key)
	if !strings.HasPrefix(key, ClientKeyPrefix) || len(key) > 100 {
		return Client{}, ErrNoClient
	}
	want := hashClientKey(key)
	var stored string
	row := s.DB.QueryRow(ctx, `SELECT `+clientColumns+`, key_hash FROM open311_clients WHERE key_hash = ?`, want)
	var c Client
	err := row.Scan(&c.ID, &c.Name, &c.KeyPrefix, &c.Division, &c.CreatedAt, &c.RevokedAt, &c.LastUsedAt, &c.CreatedBy, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return Client{}, ErrNoClient
	}
	if err != nil {
		return Client{}, err
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(want)) != 1 {
		return Client{}, ErrNoClient
	}
	if c.Revoked() {
		return c, ErrClientRevoked
	}
	if now := s.now().UnixMilli(); now-c.LastUsedAt >= 60_000 {
		if _, err := s.DB.Exec(ctx, `UPDATE open311_clients SET last_used_at = ? WHERE id = ? AND last_used_at < ?`,
			now, c.ID, now-60_000); err != nil {
			return Client{}, err
		}
		c.LastUsedAt = now
	}
	return c, nil
}

// Online cases: what Open311 publishes. Window cases carry residents'
// private matters, so only cases submitted through an Open311 client (channel
// online with a client) are ever read here.

// OnlineFilter selects Open311 cases.
type OnlineFilter struct {
	Numbers  []string // case numbers; when given, the other conditions are ignored
	Items    []string // service codes (empty: all)
	From, To int64    // submitted between (unix ms, inclusive)
	Status   []string // "open", "closed" (empty: both)
	Lo, Hi   int64    // accepting unit within [Lo, Hi] (both 0: anywhere)
	Limit    int      // at most this many, newest first (default and maximum 1000)
}

const onlineOnly = `channel = 'online' AND client_id <> 0`

// OnlineCases returns the Open311 cases f selects, newest first.
func (s *Service) OnlineCases(ctx context.Context, f OnlineFilter) ([]Case, error) {
	where := []string{onlineOnly}
	var args []any
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	if len(f.Numbers) > 0 {
		where = append(where, "number IN ("+db.Placeholders(len(f.Numbers))+")")
		for _, n := range f.Numbers {
			args = append(args, n)
		}
	} else {
		where = append(where, "submitted_at >= ?", "submitted_at <= ?")
		args = append(args, f.From, f.To)
		if len(f.Items) > 0 {
			where = append(where, "item_code IN ("+db.Placeholders(len(f.Items))+")")
			for _, it := range f.Items {
				args = append(args, it)
			}
		}
		open, closed := false, false
		for _, st := range f.Status {
			open = open || st == "open"
			closed = closed || st == "closed"
		}
		if open != closed {
			where = append(where, "is_open = ?")
			args = append(args, b2i(open))
		}
		if f.Lo != 0 || f.Hi != 0 {
			where = append(where, "division >= ?", "division <= ?")
			args = append(args, f.Lo, f.Hi)
		}
	}
	args = append(args, limit)
	rows, err := s.DB.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE `+strings.Join(where, " AND ")+
		` ORDER BY submitted_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// OnlineCase returns the Open311 case with number (db.ErrNotFound for any
// other case).
func (s *Service) OnlineCase(ctx context.Context, number string) (Case, error) {
	return scanCase(s.DB.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE number = ? AND `+onlineOnly, strings.TrimSpace(number)))
}

// OnlineCaseByToken returns the Open311 case submitted with token.
func (s *Service) OnlineCaseByToken(ctx context.Context, token string) (Case, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Case{}, db.ErrNotFound
	}
	return scanCase(s.DB.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE token = ? AND `+onlineOnly, token))
}
