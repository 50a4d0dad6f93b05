package open311_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/open311"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/window"
)

var keyRE = regexp.MustCompile(`^o311_[a-z2-7]{32}$`)

func TestClients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := f.ctx
		village := &access.Principal{UserID: 3, Username: "village", Assignments: []access.Assignment{{Role: "village_staff", Division: villageA}}}
		entries := f.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'open311_client'`)

		key, c, err := f.svc.AddClient(ctx, f.townA, "  东亭便民  ", villageC)
		if err != nil {
			t.Fatal(err)
		}
		if !keyRE.MatchString(key) || c.KeyPrefix != key[:8] || c.Name != "东亭便民" || c.Division != villageC || c.CreatedBy != "townA" {
			t.Fatalf("key %q client %+v", key, c)
		}
		// only the hash is stored
		var hash string
		if err := d.QueryRow(ctx, `SELECT key_hash FROM open311_clients WHERE id = ?`, c.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if len(hash) != 64 || strings.Contains(hash, key[5:]) || f.count(`SELECT COUNT(*) FROM open311_clients WHERE key_hash = ? OR key_prefix = ?`, key, key) != 0 {
			t.Fatalf("stored %q", hash)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'open311_client'`); n != entries+1 {
			t.Fatalf("audit entries %d, want %d", n, entries+1)
		}

		// permissions and input
		if _, _, err := f.svc.AddClient(ctx, village, "村里的应用", villageA); !errors.Is(err, window.ErrForbidden) {
			t.Errorf("village staff (no window.manage): %v", err)
		}
		if _, _, err := f.svc.AddClient(ctx, f.townA, "别处", villageB); !errors.Is(err, window.ErrForbidden) {
			t.Errorf("outside the township: %v", err)
		}
		if _, _, err := f.svc.AddClient(ctx, f.townA, "全国", 0); !errors.Is(err, window.ErrForbidden) {
			t.Errorf("anywhere by township staff: %v", err)
		}
		for _, c := range []struct {
			name  string
			div   int64
			field string
			code  string
		}{
			{"", townA, "name", "required"},
			{strings.Repeat("长", 51), townA, "name", "too_long"},
			{"东亭便民", townA, "name", "name_taken"},
			{"无此单位", townA + 9_000, "division", "unit_unknown"},
		} {
			_, _, err := f.svc.AddClient(ctx, f.townA, c.name, c.div)
			var es window.Errors
			if !errors.As(err, &es) || es.For(c.field) == nil || es.For(c.field).Code != c.code {
				t.Errorf("%q at %d: %v, want %s:%s", c.name, c.div, err, c.field, c.code)
			}
		}

		// listing is scoped
		names := func(p *access.Principal) []string {
			cs, err := f.svc.Clients(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				out = append(out, c.Name)
			}
			return out
		}
		if got := strings.Join(names(f.townA), ","); got != "东亭便民,东亭街道小程序" {
			t.Errorf("townA sees %s", got)
		}
		if got := names(f.admin); len(got) != 4 {
			t.Errorf("admin sees %v", got)
		}
		if got := names(nil); len(got) != 4 {
			t.Errorf("CLI sees %v", got)
		}
		if got := names(village); len(got) != 0 {
			t.Errorf("village staff sees %v", got)
		}

		// the key works; its use is recorded at most once a minute
		got, err := f.svc.ClientByKey(ctx, key)
		if err != nil || got.ID != c.ID || got.LastUsedAt == 0 {
			t.Fatalf("ClientByKey: %+v %v", got, err)
		}
		lastUsed := func(set int64) int64 {
			t.Helper()
			if _, err := d.Exec(ctx, `UPDATE open311_clients SET last_used_at = ? WHERE id = ?`, set, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.ClientByKey(ctx, key); err != nil {
				t.Fatal(err)
			}
			var v int64
			if err := d.QueryRow(ctx, `SELECT last_used_at FROM open311_clients WHERE id = ?`, c.ID).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		if recent := db.Now() - 30_000; lastUsed(recent) != recent {
			t.Error("last use written again within a minute")
		}
		if old := db.Now() - 61_000; lastUsed(old) <= old {
			t.Error("last use not written after a minute")
		}
		for _, bad := range []string{"", "o311_", key + "x", strings.ToUpper(key), "shq_" + key[5:]} {
			if _, err := f.svc.ClientByKey(ctx, bad); !errors.Is(err, window.ErrNoClient) {
				t.Errorf("key %q: %v", bad, err)
			}
		}

		// revoking needs window.manage where the client is
		if err := f.svc.RevokeClient(ctx, village, c.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("village staff revokes: %v", err)
		}
		if err := f.svc.RevokeClient(ctx, f.townA, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeClient(ctx, f.townA, c.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if got, err := f.svc.ClientByKey(ctx, key); !errors.Is(err, window.ErrClientRevoked) || got.ID != c.ID {
			t.Fatalf("revoked key: %+v %v", got, err)
		}
		if err := f.svc.RevokeClient(ctx, f.townA, 9999); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown client: %v", err)
		}
	})
}

func TestClientsPage(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	rd := web.NewRenderer(nil)
	if err := rd.Register(open311.Templates(), "templates/*.html", nil); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&open311.ClientsHTTP{S: f.svc, R: rd}).Routes(mux)
	do := func(p *access.Principal, method, path string, form url.Values) *httptest.ResponseRecorder {
		t.Helper()
		var req *http.Request
		if form != nil {
			req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(method, path, nil)
		}
		if p != nil {
			req = req.WithContext(access.WithPrincipal(f.ctx, p))
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w
	}
	w := do(f.townA, "GET", "/window/open311", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "东亭街道小程序") || strings.Contains(w.Body.String(), "随手拍") ||
		!strings.Contains(w.Body.String(), `value="320205001000"`) {
		t.Fatalf("page %d: %s", w.Code, w.Body)
	}
	// issue a key: shown once
	w = do(f.townA, "POST", "/window/open311", url.Values{"name": {"街道公众号"}, "division": {"320205001001"}})
	key := regexp.MustCompile(`o311_[a-z2-7]{32}`).FindString(w.Body.String())
	if w.Code != 200 || key == "" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("add %d: %s", w.Code, w.Body)
	}
	c, err := f.svc.ClientByKey(f.ctx, key)
	if err != nil || c.Name != "街道公众号" || c.Division != villageA {
		t.Fatalf("issued client %+v %v", c, err)
	}
	if w := do(f.townA, "GET", "/window/open311", nil); strings.Contains(w.Body.String(), key) || !strings.Contains(w.Body.String(), key[:8]) {
		t.Fatal("the key is shown again, or its prefix is not")
	}
	// errors re-show the form
	for _, form := range []url.Values{{"name": {""}}, {"name": {"街道公众号"}}, {"name": {"x"}, "division": {"12"}},
		{"name": {"y"}, "division": {"320205002001"}}} {
		w = do(f.townA, "POST", "/window/open311", form)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `class="field-error"`) ||
			regexp.MustCompile(`o311_[a-z2-7]{32}`).MatchString(w.Body.String()) {
			t.Errorf("%v: %d %s", form, w.Code, w.Body)
		}
	}
	// revoke
	w = do(f.townA, "POST", "/window/open311/"+strconv.FormatInt(c.ID, 10)+"/revoke", url.Values{})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("revoke %d", w.Code)
	}
	if _, err := f.svc.ClientByKey(f.ctx, key); !errors.Is(err, window.ErrClientRevoked) {
		t.Fatalf("after revoke: %v", err)
	}
	// outsiders
	village := &access.Principal{UserID: 3, Username: "village", Assignments: []access.Assignment{{Role: "village_staff", Division: villageA}}}
	for _, p := range []*access.Principal{nil, village} {
		if w := do(p, "GET", "/window/open311", nil); w.Code != 404 {
			t.Errorf("%v: GET %d", p, w.Code)
		}
		if w := do(p, "POST", "/window/open311/"+strconv.FormatInt(c.ID, 10)+"/revoke", url.Values{}); w.Code != 404 {
			t.Errorf("%v: revoke %d", p, w.Code)
		}
	}
	townB := &access.Principal{UserID: 4, Username: "townB", Assignments: []access.Assignment{{Role: "township_staff", Division: townB}}}
	if w := do(townB, "POST", "/window/open311/"+strconv.FormatInt(c.ID, 10)+"/revoke", url.Values{}); w.Code != 404 {
		t.Errorf("other township revokes: %d", w.Code)
	}
}
