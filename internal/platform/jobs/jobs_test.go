package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

var alice = &access.Principal{UserID: 1, Username: "alice", Assignments: []access.Assignment{{ID: 1, Role: "village_staff", Division: 320205001001000}}}

// newRunner returns a runner with test timings and its job directory.
func newRunner(t *testing.T, d *db.DB) *Runner {
	t.Helper()
	r := New(d, filepath.Join(t.TempDir(), "jobs"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Poll = 10 * time.Millisecond
	r.ProgressEvery = 5 * time.Millisecond
	r.Heartbeat = 20 * time.Millisecond
	r.Lease = time.Second
	return r
}

// waitFor polls the job until cond holds (3 s at most).
func waitFor(t *testing.T, r *Runner, id int64, what string, cond func(Job) bool) Job {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		x, err := r.load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(x.Job) {
			return x.Job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: timed out waiting for %s; job is %+v", id, what, x.Job)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func status(s Status) func(Job) bool { return func(j Job) bool { return j.Status == s } }

func TestSubmitRunDone(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := newRunner(t, d)
		type params struct{ Sheet string }
		var sawPrincipal, sawActor atomic.Value
		r.Register(Kind{Name: "test.export", Title: "job.kind", Fn: func(ctx context.Context, run *Run) error {
			var p params
			if err := json.Unmarshal(run.Job.Params, &p); err != nil {
				return err
			}
			in, err := os.ReadFile(run.Input())
			if err != nil {
				return err
			}
			if p := access.From(ctx); p != nil {
				sawPrincipal.Store(fmt.Sprintf("%d %s %d", p.UserID, p.Username, len(p.Assignments)))
			}
			sawActor.Store(audit.ActorFrom(ctx))
			for i := int64(1); i <= 3; i++ {
				run.Progress(i, 3, "job.status.running")
			}
			if err := os.WriteFile(run.Path("台账.csv"), append([]byte(p.Sheet+":"), in...), 0o600); err != nil {
				return err
			}
			if err := run.AddFile("台账.csv", "job.files"); err != nil {
				return err
			}
			return run.SetResult(map[string]int64{"rows": 3, "skipped": 0})
		}})
		input := filepath.Join(t.TempDir(), "upload.csv")
		if err := os.WriteFile(input, []byte("a,b"), 0o600); err != nil {
			t.Fatal(err)
		}
		r.Start(ctx, 2)
		defer r.Stop()
		sctx := audit.WithActor(ctx, audit.Actor{ID: 1, Name: "alice", Client: "10.0.0.7"})
		id, err := r.Submit(sctx, alice, Spec{Kind: "test.export", Division: 320205001001000, Params: params{Sheet: "户籍"}, Input: input})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(input); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("input was not moved: %v", err)
		}
		j := waitFor(t, r, id, "done", func(j Job) bool { return !j.Status.Active() })
		if j.Status != Done || j.Error != "" {
			t.Fatalf("job ended %s (%q)", j.Status, j.Error)
		}
		if j.Done != 3 || j.Total != 3 || j.Message != "job.status.running" || j.Attempts != 1 || j.StartedAt == 0 || j.FinishedAt == 0 {
			t.Errorf("final state: %+v", j)
		}
		if string(j.Result) != `{"rows":3,"skipped":0}` {
			t.Errorf("result %s", j.Result)
		}
		if len(j.Files) != 1 || j.Files[0].Name != "台账.csv" || j.Files[0].Size != int64(len("户籍:a,b")) || j.Files[0].Label != "job.files" {
			t.Errorf("files %+v", j.Files)
		}
		if got := sawPrincipal.Load(); got != "1 alice 1" {
			t.Errorf("principal in the job's context: %v", got)
		}
		if a, _ := sawActor.Load().(audit.Actor); a.ID != 1 || a.Name != "alice" || a.Client != "10.0.0.7" {
			t.Errorf("audit actor %+v", a)
		}
		f, meta, err := r.Open(ctx, alice, id, "台账.csv")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "户籍:a,b" || meta.Size != int64(len(b)) {
			t.Errorf("download %q %+v", b, meta)
		}
		bob := &access.Principal{UserID: 2, Username: "bob"}
		if _, _, err := r.Open(ctx, bob, id, "台账.csv"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another user opened the file: %v", err)
		}
		if _, _, err := r.Open(ctx, alice, id, "../jobs.db"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unregistered name: %v", err)
		}
		if _, err := r.Get(ctx, bob, id); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another user sees the job: %v", err)
		}
		list, err := r.List(ctx, alice, 10)
		if err != nil || len(list) != 1 || list[0].ID != id {
			t.Errorf("list %v %v", list, err)
		}
		if list, _ := r.List(ctx, bob, 10); len(list) != 0 {
			t.Errorf("bob's list %v", list)
		}
		if _, err := r.Submit(ctx, alice, Spec{Kind: "nope"}); !errors.Is(err, ErrUnknownKind) {
			t.Errorf("unknown kind: %v", err)
		}

		// Purge removes old finished jobs with their files, and keeps recent ones.
		if n, err := r.Purge(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("purge of recent jobs: %d %v", n, err)
		}
		if _, err := d.Exec(ctx, "UPDATE jobs SET finished_at = ? WHERE id = ?", db.Now()-2*3600_000, id); err != nil {
			t.Fatal(err)
		}
		if n, err := r.Purge(ctx, time.Hour); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if _, err := os.Stat(r.jobDir(id)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("job directory left: %v", err)
		}
	})
}

func TestFailurePanicAndCancel(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := newRunner(t, d)
		r.Register(Kind{Name: "test.fail", Fn: func(ctx context.Context, run *Run) error {
			run.Progress(1, 0, "reading")
			return errors.New("第 3 行：身份证号无效")
		}})
		r.Register(Kind{Name: "test.panic", Fn: func(ctx context.Context, run *Run) error {
			var m map[string]int
			m["x"] = 1
			return nil
		}})
		started := make(chan int64, 4)
		r.Register(Kind{Name: "test.block", Fn: func(ctx context.Context, run *Run) error {
			started <- run.Job.ID
			<-ctx.Done()
			return ctx.Err()
		}})

		// cancel while still queued (no workers yet)
		qid, err := r.Submit(ctx, alice, Spec{Kind: "test.block"})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Cancel(ctx, &access.Principal{UserID: 2}, qid); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another user canceled: %v", err)
		}
		if err := r.Cancel(ctx, alice, qid); err != nil {
			t.Fatal(err)
		}
		if j, _ := r.Get(ctx, alice, qid); j.Status != Canceled || j.FinishedAt == 0 {
			t.Errorf("queued job after cancel: %s", j.Status)
		}

		r.Start(ctx, 2)
		defer r.Stop()
		fid, _ := r.Submit(ctx, alice, Spec{Kind: "test.fail"})
		pid, _ := r.Submit(ctx, alice, Spec{Kind: "test.panic"})
		j := waitFor(t, r, fid, "failed", status(Failed))
		if j.Error != "第 3 行：身份证号无效" || j.Message != "reading" || j.Done != 1 {
			t.Errorf("failed job: %+v", j)
		}
		j = waitFor(t, r, pid, "failed", status(Failed))
		if j.Error != ErrKeyPanic {
			t.Errorf("panicked job: %q", j.Error)
		}
		if err := r.Resume(ctx, alice, fid); !errors.Is(err, ErrNotResumable) {
			t.Errorf("resume of a non-resumable job: %v", err)
		}

		// cancel while running, in this process
		bid, _ := r.Submit(ctx, alice, Spec{Kind: "test.block"})
		<-started
		waitFor(t, r, bid, "running", status(Running))
		if err := r.Cancel(ctx, alice, bid); err != nil {
			t.Fatal(err)
		}
		waitFor(t, r, bid, "canceled", status(Canceled))

		// cancel from another instance sharing the database: seen at the next heartbeat
		other := newRunner(t, d)
		cid, _ := r.Submit(ctx, alice, Spec{Kind: "test.block"})
		<-started
		admin := &access.Principal{UserID: 9, Username: "root", Assignments: []access.Assignment{{Role: "system_admin", Division: 0}}}
		if err := other.Cancel(ctx, admin, cid); err != nil {
			t.Fatal(err)
		}
		waitFor(t, r, cid, "canceled", status(Canceled))
	})
}

func TestCheckpointFollowsTransaction(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := newRunner(t, d)
		stored := func(id int64) string {
			var s string
			if err := d.QueryRow(ctx, "SELECT checkpoint FROM jobs WHERE id = ?", id).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		boom := errors.New("boom")
		r.Register(Kind{Name: "test.batches", Resumable: true, Fn: func(ctx context.Context, run *Run) error {
			var cp struct{ Row int }
			if ok, err := run.Resume(&cp); ok || err != nil {
				return fmt.Errorf("fresh job resumed: %v %v", ok, err)
			}
			if err := run.Checkpoint(ctx, map[string]int{"Row": 100}); err != nil { // no transaction: at once
				return err
			}
			if got := stored(run.Job.ID); got != `{"Row":100}` {
				return fmt.Errorf("checkpoint outside a tx: %s", got)
			}
			// a batch that fails: its work and its checkpoint roll back together
			err := d.Tx(ctx, func(ctx context.Context) error {
				if _, err := d.Exec(ctx, "INSERT INTO settings (key, value) VALUES ('batch', '2')"); err != nil {
					return err
				}
				run.Progress(200, 1000, "")
				if err := run.Checkpoint(ctx, map[string]int{"Row": 200}); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				return fmt.Errorf("tx: %v", err)
			}
			if got := stored(run.Job.ID); got != `{"Row":100}` {
				return fmt.Errorf("rolled-back checkpoint moved: %s", got)
			}
			if ok, _ := run.Resume(&cp); !ok || cp.Row != 100 {
				return fmt.Errorf("resume after rollback: %v %d", ok, cp.Row)
			}
			// a batch that commits: both land
			if err := d.Tx(ctx, func(ctx context.Context) error {
				if _, err := d.Exec(ctx, "INSERT INTO settings (key, value) VALUES ('batch', '3')"); err != nil {
					return err
				}
				return run.Checkpoint(ctx, map[string]int{"Row": 300})
			}); err != nil {
				return err
			}
			if got := stored(run.Job.ID); got != `{"Row":300}` {
				return fmt.Errorf("committed checkpoint: %s", got)
			}
			if ok, _ := run.Resume(&cp); !ok || cp.Row != 300 {
				return fmt.Errorf("resume after commit: %v %d", ok, cp.Row)
			}
			return nil
		}})
		j, err := r.RunNow(ctx, nil, Spec{Kind: "test.batches"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != Done {
			t.Fatalf("status %s", j.Status)
		}
		var v string
		if err := d.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'batch'").Scan(&v); err != nil || v != "3" {
			t.Errorf("batch work: %q %v", v, err)
		}
	})
}

func TestRecovery(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := newRunner(t, d)
		type cp struct{ Next int }
		resumedFrom := make(chan int, 1)
		r.Register(Kind{Name: "test.import", Resumable: true, Fn: func(ctx context.Context, run *Run) error {
			var c cp
			ok, err := run.Resume(&c)
			if err != nil {
				return err
			}
			if !ok {
				c.Next = -1
			}
			resumedFrom <- c.Next
			if p := access.From(ctx); p == nil || p.UserID != 1 || len(p.Assignments) != 1 {
				return fmt.Errorf("principal %+v", p)
			}
			run.Progress(10, 10, "")
			return run.SetResult(map[string]int{"imported": 10 - c.Next})
		}})
		r.Register(Kind{Name: "test.export", Fn: func(ctx context.Context, run *Run) error {
			return errors.New("must not run again")
		}})
		snap, _ := json.Marshal(snapshot{Assignments: alice.Assignments})
		old := db.Now() - time.Hour.Milliseconds()
		crashed := func(kind string, attempts int, checkpoint string) int64 {
			id, err := d.InsertID(ctx, `INSERT INTO jobs (kind, status, user_id, username, principal, checkpoint, progress_done, attempts, claim,
				created_at, started_at, heartbeat_at) VALUES (?, 'running', 1, 'alice', ?, ?, 4, ?, 'dead-process', ?, ?, ?)`,
				kind, string(snap), checkpoint, attempts, old, old, old)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		resumable := crashed("test.import", 1, `{"Next":4}`)
		plain := crashed("test.export", 1, "")
		exhausted := crashed("test.import", 3, `{"Next":4}`)
		unknown := crashed("test.gone", 1, "")
		fresh, err := d.InsertID(ctx, `INSERT INTO jobs (kind, status, user_id, claim, created_at, started_at, heartbeat_at)
			VALUES ('test.import', 'running', 1, 'alive-elsewhere', ?, ?, ?)`, db.Now(), db.Now(), db.Now()+time.Hour.Milliseconds())
		if err != nil {
			t.Fatal(err)
		}

		// the dead process's runner, should it wake up: fenced off once the job is taken back
		zombie := &Run{Job: Job{ID: resumable}, r: r, claim: "dead-process", cancel: func(error) {}}

		r.Start(ctx, 1)
		defer r.Stop()
		j := waitFor(t, r, resumable, "done", status(Done))
		if from := <-resumedFrom; from != 4 {
			t.Errorf("resumed from %d, want the checkpoint 4", from)
		}
		if j.Attempts != 2 || string(j.Result) != `{"imported":6}` || len(j.Checkpoint) != 0 {
			t.Errorf("resumed job: %+v", j)
		}
		for _, c := range []struct {
			id  int64
			why string
		}{{plain, ErrKeyInterrupted}, {exhausted, ErrKeyInterrupted}, {unknown, ErrKeyUnknownKind}} {
			j := waitFor(t, r, c.id, "failed", status(Failed))
			if j.Error != c.why {
				t.Errorf("job %d (%s): error %q, want %q", c.id, j.Kind, j.Error, c.why)
			}
		}
		if j, _ := r.load(ctx, exhausted); len(j.Checkpoint) == 0 {
			t.Error("a failed job lost its checkpoint")
		}
		if j, _ := r.load(ctx, fresh); j.Status != Running {
			t.Errorf("a job with a fresh heartbeat was taken: %s", j.Status)
		}
		if err := zombie.Checkpoint(ctx, cp{Next: 9}); !errors.Is(err, ErrLost) {
			t.Errorf("zombie checkpoint: %v", err)
		}

		// a failed resumable job resumed by hand continues from its checkpoint
		if err := r.Resume(ctx, &access.Principal{UserID: 2}, exhausted); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("resume by another user: %v", err)
		}
		if err := r.Resume(ctx, alice, exhausted); err != nil {
			t.Fatal(err)
		}
		j = waitFor(t, r, exhausted, "done", status(Done))
		if from := <-resumedFrom; from != 4 || j.Attempts != 1 || j.Error != "" {
			t.Errorf("manual resume from %d: %+v", from, j)
		}
	})
}

func TestStopRequeuesResumable(t *testing.T) {
	t.Parallel()
	d := dbtest.SQLite(t)
	ctx := context.Background()
	r := newRunner(t, d)
	started := make(chan struct{}, 2)
	for _, resumable := range []bool{true, false} {
		r.Register(Kind{Name: fmt.Sprint("test.long.", resumable), Resumable: resumable, Fn: func(ctx context.Context, run *Run) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}})
	}
	r.Start(ctx, 2)
	a, _ := r.Submit(ctx, alice, Spec{Kind: "test.long.true"})
	b, _ := r.Submit(ctx, alice, Spec{Kind: "test.long.false"})
	<-started
	<-started
	r.Stop()
	if j, _ := r.Get(ctx, alice, a); j.Status != Queued || j.Attempts != 0 {
		t.Errorf("resumable job after shutdown: %s, %d attempts", j.Status, j.Attempts)
	}
	if j, _ := r.Get(ctx, alice, b); j.Status != Failed || j.Error != ErrKeyInterrupted {
		t.Errorf("other job after shutdown: %s %q", j.Status, j.Error)
	}
}

func TestRunNow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := newRunner(t, d)
		// the job waits for the first progress report to reach the caller,
		// so a loaded machine cannot finish it between two flushes
		seen := make(chan struct{}, 1)
		r.Register(Kind{Name: "test.cli", Fn: func(ctx context.Context, run *Run) error {
			if access.From(ctx) != nil {
				return errors.New("a CLI job has no principal")
			}
			if a := audit.ActorFrom(ctx); a.Name != "cli" || a.Client != "cli" {
				return fmt.Errorf("actor %+v", a)
			}
			b, err := os.ReadFile(run.Input())
			if err != nil {
				return err
			}
			for i := int64(1); i <= 5; i++ {
				run.Progress(i, 5, "")
				if i == 1 {
					select {
					case <-seen:
					case <-time.After(10 * time.Second):
					}
				}
				time.Sleep(3 * time.Millisecond)
			}
			return run.SetResult(map[string]int{"bytes": len(b)})
		}})
		input := filepath.Join(t.TempDir(), "居民.xlsx")
		if err := os.WriteFile(input, []byte("xlsx"), 0o600); err != nil {
			t.Fatal(err)
		}
		var calls []Job
		j, err := r.RunNow(ctx, nil, Spec{Kind: "test.cli", Input: input}, func(j Job) {
			calls = append(calls, j)
			select {
			case seen <- struct{}{}:
			default:
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != Done || j.UserID != 0 || j.Username != "cli" || j.Done != 5 || string(j.Result) != `{"bytes":4}` {
			t.Errorf("job %+v", j)
		}
		if len(calls) < 2 || calls[len(calls)-1].Status != Done {
			t.Errorf("progress calls: %d", len(calls))
		}
		if _, err := os.Stat(input); err != nil {
			t.Errorf("RunNow must leave the user's file: %v", err)
		}
		stored, _ := r.load(ctx, j.ID)
		if stored.Status != Done || stored.Done != 5 {
			t.Errorf("stored %+v", stored.Job)
		}

		// Ctrl-C
		r.Register(Kind{Name: "test.wait", Fn: func(ctx context.Context, run *Run) error {
			<-ctx.Done()
			return ctx.Err()
		}})
		cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		j, err = r.RunNow(cctx, nil, Spec{Kind: "test.wait"}, nil)
		if !errors.Is(err, context.DeadlineExceeded) || j.Status != Canceled {
			t.Errorf("interrupted RunNow: %s %v", j.Status, err)
		}
		if err := d.Tx(ctx, func(ctx context.Context) error {
			_, err := r.RunNow(ctx, nil, Spec{Kind: "test.cli"}, nil)
			return err
		}); err == nil || !strings.Contains(err.Error(), "transaction") {
			t.Errorf("RunNow inside a transaction: %v", err)
		}
	})
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a.csv": "a.csv", "../../etc/passwd": "passwd", `..\..\x.xlsx`: "x.xlsx", "": "_", "..": "_", "/": "_", "台账 2024.xlsx": "台账 2024.xlsx",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
