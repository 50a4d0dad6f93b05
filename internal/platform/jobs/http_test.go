package jobs

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// server serves the job pages with the principal named by the X-User header.
func server(t *testing.T, r *Runner) http.Handler {
	t.Helper()
	rd := web.NewRenderer(func(r *http.Request) web.Shell { return web.Shell{Locale: "zh-CN", LoggedIn: true} })
	if err := rd.Register(Templates(), "templates/*.html", nil); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&HTTP{R: r, Rd: rd}).Routes(mux)
	users := map[string]*access.Principal{
		"alice": alice,
		"bob":   {UserID: 2, Username: "bob", Assignments: []access.Assignment{{Role: "village_staff", Division: 320205001001000}}},
		"root":  {UserID: 3, Username: "root", Assignments: []access.Assignment{{Role: "system_admin", Division: 0}}},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mux.ServeHTTP(w, req.WithContext(access.WithPrincipal(req.Context(), users[req.Header.Get("X-User")])))
	})
}

func do(h http.Handler, method, path, user string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("X-User", user)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := newRunner(t, d)
		r.Register(Kind{Name: "test.ledger", Title: "job.files", Resumable: true, Fn: func(ctx context.Context, run *Run) error {
			run.Progress(7, 7, "")
			if err := os.WriteFile(run.Path("居民台账 2024.xlsx"), []byte("PK\x03\x04"), 0o600); err != nil {
				return err
			}
			if err := run.AddFile("居民台账 2024.xlsx", "job.files"); err != nil {
				return err
			}
			return run.SetResult(map[string]int64{"households": 3, "residents": 7})
		}})
		j, err := r.RunNow(ctx, alice, Spec{Kind: "test.ledger", Division: 320205001001000}, nil)
		if err != nil {
			t.Fatal(err)
		}
		id := "/jobs/" + itoa(j.ID)
		h := server(t, r)

		w := do(h, "GET", id, "alice")
		body := w.Body.String()
		if w.Code != 200 {
			t.Fatalf("owner: %d", w.Code)
		}
		for _, want := range []string{i18n.T("zh-CN", "job.status.done"), `value="100"`, "job.result.households", ">3<", ">7<",
			`href="/jobs/` + itoa(j.ID) + `/files/%E5%B1%85%E6%B0%91%E5%8F%B0%E8%B4%A6%202024.xlsx"`} {
			if !strings.Contains(body, want) {
				t.Errorf("job page lacks %q", want)
			}
		}
		if strings.Contains(body, `hx-trigger="every 1s"`) || strings.Contains(body, "/cancel") || strings.Contains(body, "/resume") {
			t.Error("a finished job's page polls or offers cancel/resume")
		}

		// other users: 404 for the page, the fragment, the file and the actions
		for _, p := range []string{id, id + "/progress", id + "/files/居民台账 2024.xlsx"} {
			if w := do(h, "GET", strings.ReplaceAll(p, " ", "%20"), "bob"); w.Code != 404 {
				t.Errorf("bob GET %s: %d", p, w.Code)
			}
		}
		for _, p := range []string{id + "/cancel", id + "/resume"} {
			if w := do(h, "POST", p, "bob"); w.Code != 404 {
				t.Errorf("bob POST %s: %d", p, w.Code)
			}
		}
		for _, p := range []string{"/jobs/999999", "/jobs/x", id + "/files/nope.xlsx"} {
			if w := do(h, "GET", p, "alice"); w.Code != 404 {
				t.Errorf("alice GET %s: %d", p, w.Code)
			}
		}
		// a system administrator sees the page, but only the owner downloads
		if w := do(h, "GET", id, "root"); w.Code != 200 || strings.Contains(w.Body.String(), "/files/") {
			t.Errorf("admin page: %d", w.Code)
		}
		if w := do(h, "GET", id+"/files/%E5%B1%85%E6%B0%91%E5%8F%B0%E8%B4%A6%202024.xlsx", "root"); w.Code != 404 {
			t.Errorf("admin download: %d", w.Code)
		}

		// the download
		w = do(h, "GET", id+"/files/%E5%B1%85%E6%B0%91%E5%8F%B0%E8%B4%A6%202024.xlsx", "alice")
		if w.Code != 200 {
			t.Fatalf("download: %d", w.Code)
		}
		if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename="____ 2024.xlsx"; filename*=UTF-8''%E5%B1%85%E6%B0%91%E5%8F%B0%E8%B4%A6%202024.xlsx` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if ct := w.Header().Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") {
			t.Errorf("Content-Type %q", ct)
		}
		if b, _ := io.ReadAll(w.Body); string(b) != "PK\x03\x04" || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("body %q, cache %q", b, w.Header().Get("Cache-Control"))
		}

		// the list
		w = do(h, "GET", "/jobs", "alice")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `href="`+id+`"`) {
			t.Errorf("list: %d", w.Code)
		}
		if w := do(h, "GET", "/jobs", "bob"); w.Code != 200 || strings.Contains(w.Body.String(), `href="`+id+`"`) {
			t.Errorf("bob's list: %d", w.Code)
		}

		// a queued job polls; its fragment says so; canceling redirects back
		qid, err := r.Submit(ctx, alice, Spec{Kind: "test.ledger"})
		if err != nil {
			t.Fatal(err)
		}
		q := "/jobs/" + itoa(qid)
		w = do(h, "GET", q, "alice")
		if !strings.Contains(w.Body.String(), `hx-get="`+q+`/progress" hx-trigger="every 1s" hx-swap="outerHTML"`) ||
			!strings.Contains(w.Body.String(), `action="`+q+`/cancel"`) {
			t.Errorf("queued job page does not poll or offer cancel:\n%s", w.Body.String())
		}
		w = do(h, "GET", q+"/progress", "alice", "HX-Request", "true")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `id="job-progress"`) || strings.Contains(w.Body.String(), "<html") ||
			w.Header().Get("HX-Refresh") != "" {
			t.Errorf("fragment: %d %q", w.Code, w.Body.String())
		}
		if w := do(h, "POST", q+"/cancel", "alice"); w.Code != http.StatusSeeOther || w.Header().Get("Location") != q {
			t.Errorf("cancel: %d %s", w.Code, w.Header().Get("Location"))
		}
		w = do(h, "GET", q+"/progress", "alice", "HX-Request", "true")
		if w.Header().Get("HX-Refresh") != "true" || strings.Contains(w.Body.String(), "hx-trigger") {
			t.Errorf("finished fragment keeps polling: %q", w.Body.String())
		}

		// a failed resumable job offers Resume
		if _, err := d.Exec(ctx, "UPDATE jobs SET status = 'failed', error_text = ? WHERE id = ?", ErrKeyInterrupted, qid); err != nil {
			t.Fatal(err)
		}
		w = do(h, "GET", q, "alice")
		if !strings.Contains(w.Body.String(), `action="`+q+`/resume"`) || !strings.Contains(w.Body.String(), i18n.T("zh-CN", ErrKeyInterrupted)) {
			t.Errorf("failed job page:\n%s", w.Body.String())
		}
		if w := do(h, "POST", q+"/resume", "alice"); w.Code != http.StatusSeeOther {
			t.Errorf("resume: %d", w.Code)
		}
		if j, _ := r.Get(ctx, alice, qid); j.Status != Queued {
			t.Errorf("after resume: %s", j.Status)
		}
	})
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	keys := []string{ErrKeyInterrupted, ErrKeyPanic, ErrKeyUnknownKind, ErrKeyAccount}
	for _, s := range []Status{Queued, Running, Done, Failed, Canceled} {
		keys = append(keys, "job.status."+string(s))
	}
	for _, loc := range i18n.Locales() {
		for _, k := range keys {
			if !i18n.Has(loc, k) {
				t.Errorf("%s: missing %q", loc, k)
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
