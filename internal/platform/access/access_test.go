package access

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

const (
	xishan  = int64(320205000000000)
	town1   = int64(320205001000000)
	town2   = int64(320205002000000)
	village = int64(320205001004000)
)

func TestScopeRanges(t *testing.T) {
	p := &Principal{Assignments: []Assignment{{Role: "township_staff", Division: town1}, {Role: "viewer", Division: xishan}, {Role: "village_staff", Division: village}}}
	if !p.CanAt("division.view", town2+5000) || p.CanAt("division.manage", town2) || !p.CanAt("division.manage", village+3) {
		t.Fatal("CanAt")
	}
	// village range is inside the township range and is dropped
	if rs := p.Ranges("division.manage"); len(rs) != 1 || rs[0] != (Range{town1, town1 + 999_999}) {
		t.Fatalf("ranges %+v", rs)
	}
	cond, args := p.Where("user.manage", "d")
	if cond != "((d >= ? AND d <= ?))" || len(args) != 2 {
		t.Fatal(cond, args)
	}
	if c, _ := (&Principal{}).Where("user.view", "d"); c != "1 = 0" {
		t.Fatal(c)
	}
	if !p.Grants("village_staff", village) || p.Grants("township_staff", town2) || p.Grants("system_admin", town1) || p.Grants("village_staff", town1) {
		t.Fatal("Grants")
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, want := range map[string]string{
		"short":            "password.too_short",
		"zhangsan1990":     "password.contains_username",
		"1234567890":       "password.too_common",
		"aaaaaaaaaaaa":     "password.too_common",
		"Woaini1314520":    "password.too_common",
		"lan-tian-bai-yun": "",
	} {
		if got := PasswordProblem("zhangsan", pw); got != want {
			t.Errorf("%q: %q, want %q", pw, got, want)
		}
	}
}

func TestLoginLockoutSessionsTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d, &audit.Log{DB: d}, Config{IdleTimeout: 30 * time.Minute})
		clock := time.Now()
		s.now = func() time.Time { return clock }
		admin, err := s.CreateUser(ctx, nil, NewUser{Username: "admin", Password: "first-run-pw-1", Role: "system_admin", Division: 0, MustChange: true})
		if err != nil {
			t.Fatal(err)
		}
		tok, p, err := s.Login(ctx, "Admin", "first-run-pw-1", "10.0.0.1")
		if err != nil || !p.MustChange || !p.Can("user.manage") {
			t.Fatalf("login: %v %+v", err, p)
		}
		// the admin creates a township account; the township cannot create a county role
		town, err := s.CreateUser(ctx, p, NewUser{Username: "town1", Password: "lan-tian-bai-yun", Role: "township_staff", Division: town1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, p, NewUser{Username: "town1", Password: "lan-tian-bai-yun", Role: "township_staff", Division: town1}); err == nil {
			t.Fatal("duplicate username accepted")
		}
		_, tp, err := s.Login(ctx, "town1", "lan-tian-bai-yun", "10.0.0.2")
		if err != nil {
			t.Fatal(err)
		}
		var e *Error
		if _, err := s.CreateUser(ctx, tp, NewUser{Username: "county2", Password: "lan-tian-bai-yun", Role: "county_staff", Division: xishan}); !errors.As(err, &e) || e.Code != "user.role_not_grantable" {
			t.Fatalf("escalation: %v", err)
		}
		if _, err := s.CreateUser(ctx, tp, NewUser{Username: "village2", Password: "lan-tian-bai-yun", Role: "village_staff", Division: 320205002001000}); !errors.As(err, &e) {
			t.Fatalf("sibling township village accepted: %v", err)
		}
		// the township sees itself but not the admin (assigned at the root)
		if _, err := s.UserFor(ctx, tp, admin.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("township sees admin: %v", err)
		}
		if us, _ := s.ListUsers(ctx, tp, "", 0); len(us) != 1 || us[0].ID != town.ID {
			t.Fatalf("township lists %+v", us)
		}
		// session: valid, then idle-expired
		if _, err := s.Session(ctx, tok); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(31 * time.Minute)
		if _, err := s.Session(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("idle session alive: %v", err)
		}
		if _, err := s.Session(ctx, "forged"); !errors.Is(err, ErrNoSession) {
			t.Fatal("forged token accepted")
		}
		// lockout after 5 failures in the window, even with the right password
		for i := 0; i < 4; i++ {
			if _, _, err := s.Login(ctx, "town1", "wrong-password", "x"); !errors.Is(err, ErrInvalidLogin) {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		if _, _, err := s.Login(ctx, "town1", "wrong-password", "x"); !errors.Is(err, ErrLocked) {
			t.Fatalf("5th failure: %v", err)
		}
		if _, _, err := s.Login(ctx, "town1", "lan-tian-bai-yun", "x"); !errors.Is(err, ErrLocked) {
			t.Fatalf("locked account logged in: %v", err)
		}
		clock = clock.Add(16 * time.Minute)
		if _, _, err := s.Login(ctx, "town1", "lan-tian-bai-yun", "x"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
		if _, _, err := s.Login(ctx, "nobody", "whatever-pw", "x"); !errors.Is(err, ErrInvalidLogin) {
			t.Fatal(err)
		}
		// tokens
		secret, _, err := s.CreateToken(ctx, town.ID, "script")
		if err != nil {
			t.Fatal(err)
		}
		bp, err := s.Bearer(ctx, secret)
		if err != nil || bp.Username != "town1" {
			t.Fatalf("bearer: %v", err)
		}
		ts, _ := s.Tokens(ctx, town.ID)
		if err := s.RevokeToken(ctx, town.ID, ts[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Bearer(ctx, secret); !errors.Is(err, ErrNoSession) {
			t.Fatal("revoked token accepted")
		}
		// every login, failure and creation is in an unbroken audit chain
		res, err := (&audit.Log{DB: d}).Verify(ctx)
		if err != nil || res.BrokenAt != 0 || res.Checked < 15 {
			t.Fatalf("audit %+v %v", res, err)
		}
		fails, _ := (&audit.Log{DB: d}).List(ctx, audit.Filter{Action: audit.LoginFailed})
		if len(fails) != 7 {
			t.Fatalf("failed logins audited: %d", len(fails))
		}
	})
}

func TestOwnEventsFiledAtHomeDivision(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	al := &audit.Log{DB: d}
	s := New(d, al, Config{})
	if _, err := s.CreateUser(ctx, nil, NewUser{Username: "town1", Password: "lan-tian-bai-yun", Role: "township_staff", Division: town1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Login(ctx, "town1", "wrong-password", "x"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, _, err := s.Login(ctx, "town1", "lan-tian-bai-yun", "x"); err != nil {
		t.Fatal(err)
	}
	// a township auditor filtering by its own range sees both
	got, _ := al.List(ctx, audit.Filter{Lo: town1, Hi: town1 + 999_999, Actor: "town1"})
	if len(got) != 2 || got[0].Action != audit.Login || got[1].Action != audit.LoginFailed {
		t.Fatalf("own events: %+v", got)
	}
}
