// Package jobs runs durable background jobs: long imports and exports that
// report progress, write downloadable files, and survive a restart.
//
// A job is a row of the jobs table (migration 00003). Submit queues one;
// workers started with Start claim queued rows with a conditional UPDATE
// (status 'queued' -> 'running' with a fresh claim token), so several
// instances may share one PostgreSQL. A running job refreshes its heartbeat
// every few seconds; a job whose heartbeat is older than the lease (the
// process died, kill -9) is taken back by any instance: a resumable kind is
// queued again and continues from its last checkpoint, anything else fails
// with job.error.interrupted.
//
// Every write of a run is fenced by its claim token: a runner that lost its
// job (it stalled past the lease and someone else took it over) can no longer
// move the job's progress, checkpoint or status, and a Checkpoint inside a
// transaction then fails, rolling back that batch's work.
//
// Job files live under dir/<job id>/: the input given at Submit (moved
// there) and the artifacts a job registers with AddFile.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Status is where a job is in its life.
type Status string

// The statuses. Queued and Running are active; the others are final.
const (
	Queued   Status = "queued"
	Running  Status = "running"
	Done     Status = "done"
	Failed   Status = "failed"
	Canceled Status = "canceled"
)

// Active reports whether the job is still queued or running.
func (s Status) Active() bool { return s == Queued || s == Running }

// Catalogue keys the runner writes into Job.Error.
const (
	ErrKeyInterrupted = "job.error.interrupted" // the process stopped while the job ran
	ErrKeyPanic       = "job.error.panic"       // the job's Func panicked
	ErrKeyUnknownKind = "job.error.unknown_kind"
	ErrKeyAccount     = "job.error.account" // the submitter's account is disabled or gone
)

// File is a downloadable artifact of a job.
type File struct {
	Name  string `json:"name"`  // file name inside the job's directory
	Label string `json:"label"` // i18n key shown as the link text
	Size  int64  `json:"size"`
}

// Job is a job's stored state.
type Job struct {
	ID       int64
	Kind     string
	Status   Status
	Division int64 // scope the job works on (15-digit code, 0 = whole deployment)
	UserID   int64 // 0 for the CLI and the system
	Username string
	Params   json.RawMessage
	Done     int64 // progress; Total 0 = unknown
	Total    int64
	Message  string // last progress message (i18n key or plain text)
	Error    string // why it failed (i18n key or plain text, shown to the owner)
	Result   json.RawMessage
	// Checkpoint is the last committed checkpoint (see Run.Checkpoint).
	Checkpoint                                    json.RawMessage
	Files                                         []File
	Attempts                                      int // times a worker started it since it was submitted or resumed
	CreatedAt, StartedAt, FinishedAt, HeartbeatAt int64
}

// Func does a job's work. ctx is canceled when the job is canceled or the
// runner stops; a Func that returns (any error) after that ends Canceled
// (or, on shutdown, queued again if its kind is resumable). ctx carries the
// submitter as audit actor and, for jobs submitted by a user, the
// principal (access.From); it carries no principal for CLI/system jobs.
type Func func(ctx context.Context, r *Run) error

// Kind is a type of job, registered at start-up.
type Kind struct {
	Name  string // stored in jobs.kind, e.g. "registry.import"
	Title string // i18n key of the job list and page title
	Fn    Func
	// Resumable kinds checkpoint their progress (Run.Checkpoint) and continue
	// from it (Run.Resume) after a crash or a manual resume.
	Resumable bool
	// ViewPerm, when set, lets whoever holds it over the job's division see
	// the job page (not download its files); otherwise only the owner and a
	// system administrator over the division see it.
	ViewPerm string
}

// Spec is what Submit and RunNow need.
type Spec struct {
	Kind     string
	Division int64
	Params   any    // JSON-encoded into Job.Params
	Input    string // a file to move into the job's directory (optional)
}

// Errors of the runner. Lookups of jobs that do not exist or that the
// principal may not see return db.ErrNotFound.
var (
	ErrUnknownKind  = errors.New("jobs: unknown kind")
	ErrNotResumable = errors.New("jobs: not a failed resumable job")
	// ErrLost is returned by Checkpoint when the run no longer holds its job
	// (it was taken over after its lease expired, or removed).
	ErrLost = errors.New("jobs: the run lost its job")

	errCanceled = errors.New("jobs: canceled")
)

// Runner runs jobs. Create it with New, Register the kinds, then Start.
// The exported fields may be changed before Start.
type Runner struct {
	// Poll is how often idle workers look for queued jobs (default 500 ms);
	// a Submit in this process wakes them at once.
	Poll time.Duration
	// Lease is how old a running job's heartbeat may get before another
	// worker takes it back (default 30 s).
	Lease time.Duration
	// Heartbeat is how often a running job refreshes its heartbeat and
	// looks for a cancellation from another instance (default 3 s).
	Heartbeat time.Duration
	// ProgressEvery is the least time between two progress writes (default 300 ms).
	ProgressEvery time.Duration
	// MaxAttempts bounds how often a resumable job is started again after
	// an interruption before it fails (default 3).
	MaxAttempts int
	// Principal, if set, loads the submitter's principal afresh when a job
	// starts (so a disabled account or a removed role takes effect); an
	// error fails the job with job.error.account. When nil, the job runs
	// with a snapshot of the principal taken at Submit.
	Principal func(ctx context.Context, userID int64) (*access.Principal, error)

	d   *db.DB
	dir string
	log *slog.Logger

	mu     sync.Mutex
	kinds  map[string]Kind
	runs   map[int64]*Run
	stop   context.CancelFunc
	wakeCh chan struct{}
	wg     sync.WaitGroup
}

// New returns a runner keeping job files under dir (the data directory's
// "jobs" folder).
func New(d *db.DB, dir string, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.Default()
	}
	return &Runner{
		Poll: 500 * time.Millisecond, Lease: 30 * time.Second, Heartbeat: 3 * time.Second,
		ProgressEvery: 300 * time.Millisecond, MaxAttempts: 3,
		d: d, dir: dir, log: log,
		kinds: map[string]Kind{}, runs: map[int64]*Run{}, wakeCh: make(chan struct{}, 1),
	}
}

// Register adds a kind. It panics on an empty or duplicate name or a nil
// Fn: kinds are registered at start-up by code.
func (r *Runner) Register(k Kind) {
	if k.Name == "" || k.Fn == nil {
		panic("jobs: Register: a kind needs a Name and a Fn")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[k.Name]; dup {
		panic("jobs: Register: kind " + k.Name + " registered twice")
	}
	r.kinds[k.Name] = k
}

func (r *Runner) kind(name string) (Kind, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.kinds[name]
	return k, ok
}

func (r *Runner) kindNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// row is a stored job with the columns that stay inside the package.
type row struct {
	Job
	client    string
	principal string
	input     string
}

const selectCols = `id, kind, status, division, user_id, username, client, principal, params, input_name,
	progress_done, progress_total, message, error_text, result, checkpoint, files, attempts,
	created_at, started_at, finished_at, heartbeat_at`

func scanRow(sc interface{ Scan(...any) error }) (row, error) {
	var x row
	var status, params, result, cp, files string
	err := sc.Scan(&x.ID, &x.Kind, &status, &x.Division, &x.UserID, &x.Username, &x.client, &x.principal, &params, &x.input,
		&x.Done, &x.Total, &x.Message, &x.Error, &result, &cp, &files, &x.Attempts,
		&x.CreatedAt, &x.StartedAt, &x.FinishedAt, &x.HeartbeatAt)
	if err != nil {
		return x, err
	}
	x.Status = Status(status)
	x.Params, x.Result, x.Checkpoint = raw(params), raw(result), raw(cp)
	if files != "" {
		if err := json.Unmarshal([]byte(files), &x.Files); err != nil {
			return x, fmt.Errorf("jobs: job %d files: %w", x.ID, err)
		}
	}
	return x, nil
}

func raw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func (r *Runner) load(ctx context.Context, id int64) (row, error) {
	x, err := scanRow(r.d.QueryRow(ctx, "SELECT "+selectCols+" FROM jobs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return x, db.ErrNotFound
	}
	return x, err
}

// snapshot is what a job keeps of its submitter for running without a
// Principal loader.
type snapshot struct {
	DisplayName string              `json:"display_name,omitempty"`
	Locale      string              `json:"locale,omitempty"`
	Assignments []access.Assignment `json:"assignments,omitempty"`
}

// newRow builds the row of a new job.
func (r *Runner) newRow(ctx context.Context, p *access.Principal, s Spec, anonymous string) (row, error) {
	x := row{Job: Job{Kind: s.Kind, Division: s.Division, Username: anonymous, CreatedAt: db.Now()}}
	x.client = audit.ActorFrom(ctx).Client
	if p != nil {
		x.UserID, x.Username = p.UserID, p.Username
		b, err := json.Marshal(snapshot{DisplayName: p.DisplayName, Locale: p.Locale, Assignments: p.Assignments})
		if err != nil {
			return x, err
		}
		x.principal = string(b)
	}
	if s.Params != nil {
		b, err := json.Marshal(s.Params)
		if err != nil {
			return x, fmt.Errorf("jobs: params: %w", err)
		}
		x.Params = b
	}
	if s.Input != "" {
		x.input = cleanName(s.Input)
	}
	return x, nil
}

// create inserts the row and places the input file, in one transaction:
// no worker can see the job before its input is in place.
func (r *Runner) create(ctx context.Context, x *row, s Spec, status Status, claim string, move bool) error {
	return r.d.Tx(ctx, func(ctx context.Context) error {
		var started, beat int64
		attempts := 0
		if status == Running {
			started, beat, attempts = x.CreatedAt, x.CreatedAt, 1
		}
		id, err := r.d.InsertID(ctx, `INSERT INTO jobs (kind, status, division, user_id, username, client, principal, params, input_name,
			attempts, claim, created_at, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			x.Kind, string(status), x.Division, x.UserID, x.Username, x.client, x.principal, string(x.Params), x.input,
			attempts, claim, x.CreatedAt, started, beat)
		if err != nil {
			return err
		}
		x.ID, x.Status, x.Attempts, x.StartedAt, x.HeartbeatAt = id, status, attempts, started, beat
		dir := r.jobDir(id)
		// a directory already there belongs to an id handed out before by a
		// transaction that rolled back (SQLite reuses ids): it is stale
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if s.Input == "" {
			return nil
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		dst := filepath.Join(dir, x.input)
		if move {
			err = moveFile(s.Input, dst)
		} else {
			err = copyFile(s.Input, dst)
		}
		if err != nil {
			_ = os.RemoveAll(dir)
			return fmt.Errorf("jobs: input: %w", err)
		}
		return nil
	})
}

// Submit queues a job for the workers and returns its id. p is the
// submitter (nil: the system). If ctx carries a transaction the job joins
// it and workers are woken after it commits; s.Input is moved into the job
// directory at once (a rollback leaves it there, unused).
func (r *Runner) Submit(ctx context.Context, p *access.Principal, s Spec) (int64, error) {
	if _, ok := r.kind(s.Kind); !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownKind, s.Kind)
	}
	x, err := r.newRow(ctx, p, s, "system")
	if err != nil {
		return 0, err
	}
	if err := r.create(ctx, &x, s, Queued, "", true); err != nil {
		return 0, err
	}
	db.AfterCommit(ctx, r.wake)
	return x.ID, nil
}

// RunNow creates a job and runs it in the calling goroutine, for the CLI:
// p may be nil (user 0, username "cli"). progress, if not nil, receives a
// copy of the job after each progress write (from another goroutine) and
// once at the end. s.Input is copied, not moved, so the user's file stays
// where it is. Canceling ctx (Ctrl-C) cancels the job. The returned error
// is the Func's error (or ctx's after a cancel); the Job is the final state.
// RunNow must not be called inside a transaction.
func (r *Runner) RunNow(ctx context.Context, p *access.Principal, s Spec, progress func(Job)) (Job, error) {
	if db.InTx(ctx) {
		return Job{}, errors.New("jobs: RunNow inside a transaction")
	}
	k, ok := r.kind(s.Kind)
	if !ok {
		return Job{}, fmt.Errorf("%w %q", ErrUnknownKind, s.Kind)
	}
	if p == nil {
		a := audit.ActorFrom(ctx)
		if a.Client == "" {
			a.Client = "cli"
		}
		if a.Name == "system" {
			a.Name = "cli"
		}
		ctx = audit.WithActor(ctx, a)
	}
	x, err := r.newRow(ctx, p, s, "cli")
	if err != nil {
		return Job{}, err
	}
	claim := newToken()
	if err := r.create(ctx, &x, s, Running, claim, false); err != nil {
		return Job{}, err
	}
	return r.execute(ctx, k, x, claim, progress, false)
}

// Start launches workers (at least one) and the recovery of interrupted
// jobs, and returns. Stop ends them.
func (r *Runner) Start(ctx context.Context, workers int) {
	r.mu.Lock()
	if r.stop != nil {
		r.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	r.stop = cancel
	r.mu.Unlock()
	workers = max(workers, 1)
	r.wg.Add(workers + 1)
	go func() {
		defer r.wg.Done()
		r.recoveryLoop(ctx)
	}()
	for range workers {
		go func() {
			defer r.wg.Done()
			r.worker(ctx)
		}()
	}
}

// Stop cancels the running jobs' contexts and waits for the workers. A
// running job of a resumable kind goes back to the queue; others fail with
// job.error.interrupted.
func (r *Runner) Stop() {
	r.mu.Lock()
	stop := r.stop
	r.stop = nil
	r.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	r.wg.Wait()
}

func (r *Runner) wake() {
	select {
	case r.wakeCh <- struct{}{}:
	default:
	}
}

func (r *Runner) worker(ctx context.Context) {
	t := time.NewTicker(r.Poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			x, claim, ok, err := r.claim(ctx)
			if err != nil {
				if ctx.Err() == nil {
					r.log.Error("jobs: claim", "err", err)
				}
				break
			}
			if !ok {
				break
			}
			r.wake() // another worker may find the next one
			k, _ := r.kind(x.Kind)
			_, _ = r.execute(ctx, k, x, claim, nil, true)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wakeCh:
		case <-t.C:
		}
	}
}

// claim takes the oldest queued job of a registered kind, if any.
func (r *Runner) claim(ctx context.Context) (row, string, bool, error) {
	names := r.kindNames()
	if len(names) == 0 {
		return row{}, "", false, nil
	}
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	for range 5 {
		var id int64
		err := r.d.QueryRow(ctx, "SELECT id FROM jobs WHERE status = 'queued' AND kind IN ("+db.Placeholders(len(names))+") ORDER BY id LIMIT 1", args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return row{}, "", false, nil
		}
		if err != nil {
			return row{}, "", false, err
		}
		claim, now := newToken(), db.Now()
		res, err := r.d.Exec(ctx, `UPDATE jobs SET status = 'running', claim = ?, attempts = attempts + 1, cancel_requested = 0,
			started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END, heartbeat_at = ?, finished_at = 0
			WHERE id = ? AND status = 'queued'`, claim, now, now, id)
		if err != nil {
			return row{}, "", false, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue // another worker was quicker
		}
		x, err := r.load(ctx, id)
		return x, claim, err == nil, err
	}
	return row{}, "", false, nil
}

func (r *Runner) recoveryLoop(ctx context.Context) {
	every := max(r.Lease/2, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := r.recoverStale(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("jobs: recovery", "err", err)
		} else if n > 0 {
			r.wake()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recoverStale takes back running jobs whose heartbeat is older than the
// lease: resumable kinds with attempts left go back to the queue, the rest
// fail. It returns how many were queued again.
func (r *Runner) recoverStale(ctx context.Context) (int, error) {
	cutoff := db.Now() - r.Lease.Milliseconds()
	rows, err := r.d.Query(ctx, "SELECT id, kind, attempts FROM jobs WHERE status = 'running' AND heartbeat_at < ?", cutoff)
	if err != nil {
		return 0, err
	}
	type stale struct {
		id       int64
		kind     string
		attempts int
	}
	var found []stale
	for rows.Next() {
		var s stale
		if err := rows.Scan(&s.id, &s.kind, &s.attempts); err != nil {
			rows.Close()
			return 0, err
		}
		found = append(found, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	requeued := 0
	for _, s := range found {
		r.mu.Lock()
		_, local := r.runs[s.id] // alive here, its heartbeat only delayed (a long SQLite transaction)
		r.mu.Unlock()
		if local {
			continue
		}
		k, known := r.kind(s.kind)
		var res sql.Result
		switch {
		case known && k.Resumable && s.attempts < r.MaxAttempts:
			res, err = r.d.Exec(ctx, `UPDATE jobs SET status = 'queued', claim = '', heartbeat_at = 0
				WHERE id = ? AND status = 'running' AND heartbeat_at < ?`, s.id, cutoff)
			if n, _ := rowsAffected(res, err); n == 1 {
				requeued++
				r.log.Warn("jobs: interrupted job queued again", "job", s.id, "kind", s.kind, "attempts", s.attempts)
			}
		default:
			why := ErrKeyInterrupted
			if !known {
				why = ErrKeyUnknownKind
			}
			res, err = r.d.Exec(ctx, `UPDATE jobs SET status = 'failed', claim = '', error_text = ?, finished_at = ?
				WHERE id = ? AND status = 'running' AND heartbeat_at < ?`, why, db.Now(), s.id, cutoff)
			if n, _ := rowsAffected(res, err); n == 1 {
				r.log.Warn("jobs: interrupted job failed", "job", s.id, "kind", s.kind, "attempts", s.attempts)
			}
		}
		if err != nil {
			return requeued, err
		}
	}
	return requeued, nil
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// execute runs one claimed job to its end. worker tells a worker's run
// (where a canceled parent means shutdown) from RunNow's.
func (r *Runner) execute(parent context.Context, k Kind, x row, claim string, progress func(Job), worker bool) (Job, error) {
	run := &Run{Job: x.Job, r: r, claim: claim, input: x.input}
	jctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	run.cancel = cancel
	r.mu.Lock()
	r.runs[x.ID] = run
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.runs, x.ID)
		r.mu.Unlock()
	}()
	log := r.log.With("job", x.ID, "kind", x.Kind)

	fctx, err := r.jobContext(jctx, x)
	if err != nil {
		log.Warn("jobs: cannot act for the submitter", "user", x.UserID, "err", err)
		return r.end(parent, run, Failed, ErrKeyAccount, progress, err)
	}
	if k.Fn == nil { // claimed while registered, so only a RunNow race could get here
		return r.end(parent, run, Failed, ErrKeyUnknownKind, progress, ErrUnknownKind)
	}

	stop, flushed := make(chan struct{}), make(chan struct{})
	go run.flusher(stop, flushed, progress)
	panicked := false
	func() {
		defer func() {
			if v := recover(); v != nil {
				panicked = true
				err = fmt.Errorf("jobs: panic: %v", v)
				log.Error("jobs: job panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			}
		}()
		err = k.Fn(fctx, run)
	}()
	close(stop)
	<-flushed

	cause := context.Cause(jctx)
	switch {
	case run.lost.Load():
		log.Warn("jobs: run lost its job to another worker; its outcome is dropped", "err", err)
		return run.snapshot(), ErrLost
	case panicked:
		return r.end(parent, run, Failed, ErrKeyPanic, progress, err)
	case err == nil:
		return r.end(parent, run, Done, "", progress, nil)
	case errors.Is(cause, errCanceled):
		return r.end(parent, run, Canceled, "", progress, context.Canceled)
	case parent.Err() != nil && worker:
		if k.Resumable {
			return r.requeue(parent, run)
		}
		return r.end(parent, run, Failed, ErrKeyInterrupted, progress, err)
	case parent.Err() != nil:
		return r.end(parent, run, Canceled, "", progress, err)
	default:
		log.Info("jobs: job failed", "err", err)
		return r.end(parent, run, Failed, err.Error(), progress, err)
	}
}

// jobContext puts the submitter into the job's context.
func (r *Runner) jobContext(ctx context.Context, x row) (context.Context, error) {
	client := x.client
	if client == "" {
		client = "job"
	}
	if x.UserID == 0 {
		// the operator at a terminal (RunNow): no account, the role
		// assignments the CLI gave at submit time
		ctx = audit.WithActor(ctx, audit.Actor{Name: x.Username, Client: client})
		var s snapshot
		if x.principal != "" && json.Unmarshal([]byte(x.principal), &s) == nil && len(s.Assignments) > 0 {
			ctx = access.WithPrincipal(ctx, &access.Principal{Username: x.Username, Assignments: s.Assignments})
		}
		return ctx, nil
	}
	ctx = audit.WithActor(ctx, audit.Actor{ID: x.UserID, Name: x.Username, Client: client})
	var p *access.Principal
	if r.Principal != nil {
		var err error
		if p, err = r.Principal(ctx, x.UserID); err != nil {
			return ctx, err
		}
		if p == nil {
			return ctx, errors.New("no principal")
		}
	} else {
		var s snapshot
		if x.principal != "" {
			if err := json.Unmarshal([]byte(x.principal), &s); err != nil {
				return ctx, err
			}
		}
		p = &access.Principal{UserID: x.UserID, Username: x.Username, DisplayName: s.DisplayName, Locale: s.Locale, Assignments: s.Assignments}
	}
	return access.WithPrincipal(ctx, p), nil
}

// finalCtx is for the writes after a run: they must happen even when the
// run ended because its context was canceled.
func finalCtx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
}

// end writes the final state of a run.
func (r *Runner) end(parent context.Context, run *Run, st Status, why string, progress func(Job), ret error) (Job, error) {
	ctx, cancel := finalCtx(parent)
	defer cancel()
	run.mu.Lock()
	run.Job.Status, run.Job.Error = st, why
	now := db.Now()
	run.Job.FinishedAt, run.Job.HeartbeatAt = now, now
	if st != Failed {
		run.Job.Checkpoint = nil // only a failed job may be resumed
	}
	j := run.Job
	files := filesJSON(j.Files)
	run.mu.Unlock()
	res, err := r.d.Exec(ctx, `UPDATE jobs SET status = ?, progress_done = ?, progress_total = ?, message = ?, error_text = ?,
		result = ?, files = ?, checkpoint = ?, finished_at = ?, heartbeat_at = ?, claim = '', cancel_requested = 0
		WHERE id = ? AND claim = ?`, string(st), j.Done, j.Total, j.Message, why, string(j.Result), files, string(j.Checkpoint),
		now, now, j.ID, run.claim)
	if n, err2 := rowsAffected(res, err); err2 != nil {
		r.log.Error("jobs: record the end of a job", "job", j.ID, "status", st, "err", err2)
		ret = errors.Join(ret, err2)
	} else if n == 0 {
		r.log.Warn("jobs: job taken over before it ended; outcome dropped", "job", j.ID, "status", st)
		ret = errors.Join(ret, ErrLost)
	}
	j = run.snapshot()
	if progress != nil {
		progress(j)
	}
	return j, ret
}

// requeue hands a resumable job interrupted by a shutdown back to the
// queue; the interruption does not count as an attempt.
func (r *Runner) requeue(parent context.Context, run *Run) (Job, error) {
	ctx, cancel := finalCtx(parent)
	defer cancel()
	run.mu.Lock()
	run.Job.Status = Queued
	j := run.Job
	files := filesJSON(j.Files)
	run.mu.Unlock()
	_, err := r.d.Exec(ctx, `UPDATE jobs SET status = 'queued', claim = '', heartbeat_at = 0,
		attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
		progress_done = ?, progress_total = ?, message = ?, result = ?, files = ?
		WHERE id = ? AND claim = ?`, j.Done, j.Total, j.Message, string(j.Result), files, j.ID, run.claim)
	if err != nil {
		r.log.Error("jobs: queue an interrupted job again", "job", j.ID, "err", err)
	} else {
		r.log.Info("jobs: job interrupted by shutdown, queued again", "job", j.ID)
	}
	return run.snapshot(), errors.Join(context.Canceled, err)
}

func filesJSON(fs []File) string {
	if len(fs) == 0 {
		return ""
	}
	b, _ := json.Marshal(fs)
	return string(b)
}

// canView: the owner, a system administrator over the job's division, or
// whoever holds the kind's ViewPerm there.
func (r *Runner) canView(p *access.Principal, j Job) bool {
	if r.canControl(p, j) {
		return true
	}
	k, ok := r.kind(j.Kind)
	return ok && k.ViewPerm != "" && p.CanAt(k.ViewPerm, j.Division)
}

// canControl (cancel, resume): the owner or a system administrator over
// the job's division.
func (r *Runner) canControl(p *access.Principal, j Job) bool {
	if p == nil {
		return false
	}
	if p.UserID != 0 && p.UserID == j.UserID {
		return true
	}
	for _, a := range p.Assignments {
		if a.Role == "system_admin" && ids.Contains(a.Division, j.Division) {
			return true
		}
	}
	return false
}

// Get returns a job the principal may see (see Kind.ViewPerm), else
// db.ErrNotFound.
func (r *Runner) Get(ctx context.Context, p *access.Principal, id int64) (Job, error) {
	x, err := r.load(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if !r.canView(p, x.Job) {
		return Job{}, db.ErrNotFound
	}
	return x.Job, nil
}

// List returns the principal's own jobs, newest first (limit <= 0: 50).
func (r *Runner) List(ctx context.Context, p *access.Principal, limit int) ([]Job, error) {
	if p == nil || p.UserID == 0 {
		return nil, nil
	}
	if limit <= 0 {
		limit = 50
	}
	rows, err := r.d.Query(ctx, "SELECT "+selectCols+" FROM jobs WHERE user_id = ? ORDER BY id DESC LIMIT ?", p.UserID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		x, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x.Job)
	}
	return out, rows.Err()
}

// Cancel cancels a queued job at once, and asks a running one to stop (at
// once in this process, within a heartbeat in another). A finished job is
// left as it is. Only the owner or a system administrator over the job's
// division may cancel; for anyone else the job is db.ErrNotFound.
func (r *Runner) Cancel(ctx context.Context, p *access.Principal, id int64) error {
	x, err := r.load(ctx, id)
	if err != nil {
		return err
	}
	if !r.canControl(p, x.Job) {
		return db.ErrNotFound
	}
	res, err := r.d.Exec(ctx, "UPDATE jobs SET status = 'canceled', finished_at = ?, checkpoint = '' WHERE id = ? AND status = 'queued'", db.Now(), id)
	if n, err := rowsAffected(res, err); err != nil || n == 1 {
		return err
	}
	if _, err := r.d.Exec(ctx, "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'", id); err != nil {
		return err
	}
	db.AfterCommit(ctx, func() {
		r.mu.Lock()
		run := r.runs[id]
		r.mu.Unlock()
		if run != nil {
			run.cancel(errCanceled)
		}
	})
	return nil
}

// Resume puts a failed job of a resumable kind back in the queue, keeping
// its checkpoint, with its attempts counted afresh.
func (r *Runner) Resume(ctx context.Context, p *access.Principal, id int64) error {
	x, err := r.load(ctx, id)
	if err != nil {
		return err
	}
	if !r.canControl(p, x.Job) {
		return db.ErrNotFound
	}
	if k, ok := r.kind(x.Kind); !ok || !k.Resumable || x.Status != Failed {
		return ErrNotResumable
	}
	res, err := r.d.Exec(ctx, `UPDATE jobs SET status = 'queued', error_text = '', finished_at = 0, attempts = 0,
		cancel_requested = 0, claim = '', heartbeat_at = 0 WHERE id = ? AND status = 'failed'`, id)
	if n, err := rowsAffected(res, err); err != nil {
		return err
	} else if n == 0 {
		return ErrNotResumable
	}
	db.AfterCommit(ctx, r.wake)
	return nil
}

// Open opens a registered file of a job for download. Only the job's owner
// may; for anyone else (or an unknown name) it is db.ErrNotFound.
func (r *Runner) Open(ctx context.Context, p *access.Principal, id int64, name string) (*os.File, File, error) {
	x, err := r.load(ctx, id)
	if err != nil {
		return nil, File{}, err
	}
	if p == nil || p.UserID == 0 || p.UserID != x.UserID {
		return nil, File{}, db.ErrNotFound
	}
	i := slices.IndexFunc(x.Files, func(f File) bool { return f.Name == name })
	if i < 0 || cleanName(name) != name {
		return nil, File{}, db.ErrNotFound
	}
	f, err := os.Open(filepath.Join(r.jobDir(id), name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, File{}, db.ErrNotFound
	}
	if err != nil {
		return nil, File{}, err
	}
	return f, x.Files[i], nil
}

// Purge deletes the rows and files of jobs that finished more than
// olderThan ago, and job directories without a row that old. It returns the
// number of rows deleted.
func (r *Runner) Purge(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := db.Now() - olderThan.Milliseconds()
	rows, err := r.d.Query(ctx, "SELECT id FROM jobs WHERE status IN ('done', 'failed', 'canceled') AND finished_at < ?", cutoff)
	if err != nil {
		return 0, err
	}
	var old []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		old = append(old, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range old {
		if err := os.RemoveAll(r.jobDir(id)); err != nil {
			return n, err
		}
		res, err := r.d.Exec(ctx, "DELETE FROM jobs WHERE id = ? AND status IN ('done', 'failed', 'canceled')", id)
		if k, err := rowsAffected(res, err); err != nil {
			return n, err
		} else {
			n += int(k)
		}
	}
	// directories left by jobs whose row is gone (a rolled-back Submit)
	entries, err := os.ReadDir(r.dir)
	if errors.Is(err, os.ErrNotExist) {
		return n, nil
	}
	if err != nil {
		return n, err
	}
	for _, e := range entries {
		id, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || !e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.ModTime().UnixMilli() >= cutoff {
			continue
		}
		var one int
		err = r.d.QueryRow(ctx, "SELECT 1 FROM jobs WHERE id = ?", id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			_ = os.RemoveAll(filepath.Join(r.dir, e.Name()))
		} else if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *Runner) jobDir(id int64) string { return filepath.Join(r.dir, strconv.FormatInt(id, 10)) }

// cleanName reduces a name to a plain file name (no directories).
func cleanName(name string) string {
	name = filepath.Base(filepath.Clean("/" + strings.ReplaceAll(name, "\\", "/")))
	if name == "/" || name == "." || name == ".." || name == "" {
		return "_"
	}
	return name
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	// another file system: copy, then remove the original
	if err := copyFile(src, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}

// Run is a running job, handed to its Func.
type Run struct {
	// Job is the job as it was when this run started (Params, Division,
	// UserID, Checkpoint, …); Progress, SetResult and AddFile update it.
	Job Job

	r      *Runner
	claim  string
	input  string
	cancel context.CancelCauseFunc
	lost   atomic.Bool

	mu    sync.Mutex
	dirty bool
}

// snapshot copies the run's job.
func (run *Run) snapshot() Job {
	run.mu.Lock()
	defer run.mu.Unlock()
	j := run.Job
	j.Files = slices.Clone(j.Files)
	return j
}

// Progress records how far the job is (total 0 = unknown) and what it is
// doing (an i18n key or plain text). It only updates memory; the runner
// writes it at most every ProgressEvery, outside any transaction, and at
// the end. Safe to call inside a transaction and from several goroutines.
func (run *Run) Progress(done, total int64, message string) {
	run.mu.Lock()
	run.Job.Done, run.Job.Total, run.Job.Message = done, total, message
	run.dirty = true
	run.mu.Unlock()
}

// Checkpoint stores v (JSON) as the job's checkpoint. With a transaction in
// ctx it is written in that transaction, so it commits or rolls back with
// the batch of work it records; without one it is written at once. Call it
// at the end of a batch: on PostgreSQL it locks the job row until commit.
// It returns ErrLost (and cancels the run) when the job was taken over.
func (run *Run) Checkpoint(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("jobs: checkpoint: %w", err)
	}
	res, err := run.r.d.Exec(ctx, "UPDATE jobs SET checkpoint = ?, heartbeat_at = ? WHERE id = ? AND claim = ? AND status = 'running'",
		string(b), db.Now(), run.Job.ID, run.claim)
	n, err := rowsAffected(res, err)
	if err != nil {
		return fmt.Errorf("jobs: checkpoint: %w", err)
	}
	if n == 0 {
		run.lose()
		return ErrLost
	}
	db.AfterCommit(ctx, func() {
		run.mu.Lock()
		run.Job.Checkpoint = b
		run.mu.Unlock()
	})
	return nil
}

// Resume decodes the job's last committed checkpoint into v. It reports
// false (and leaves v alone) when there is none: a fresh start.
func (run *Run) Resume(v any) (bool, error) {
	run.mu.Lock()
	cp := run.Job.Checkpoint
	run.mu.Unlock()
	if len(cp) == 0 || string(cp) == "null" {
		return false, nil
	}
	if err := json.Unmarshal(cp, v); err != nil {
		return false, fmt.Errorf("jobs: resume: %w", err)
	}
	return true, nil
}

// Path returns the absolute path of an artifact of this job,
// <dir>/<job id>/<name>, creating the directory. name is reduced to a plain
// file name.
func (run *Run) Path(name string) string {
	dir := run.r.jobDir(run.Job.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		run.r.log.Error("jobs: job directory", "job", run.Job.ID, "err", err)
	}
	p := filepath.Join(dir, cleanName(name))
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// AddFile registers a file written at Path(name) as a download of the job,
// with label (an i18n key) as its link text. Registering a name again
// replaces the entry (a resumed job rewriting its output).
func (run *Run) AddFile(name, label string) error {
	name = cleanName(name)
	st, err := os.Stat(filepath.Join(run.r.jobDir(run.Job.ID), name))
	if err != nil {
		return fmt.Errorf("jobs: add file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("jobs: add file: %s is not a regular file", name)
	}
	f := File{Name: name, Label: label, Size: st.Size()}
	run.mu.Lock()
	defer run.mu.Unlock()
	run.Job.Files = slices.Clone(run.Job.Files)
	if i := slices.IndexFunc(run.Job.Files, func(x File) bool { return x.Name == name }); i >= 0 {
		run.Job.Files[i] = f
	} else {
		run.Job.Files = append(run.Job.Files, f)
	}
	run.dirty = true
	return nil
}

// SetResult stores v (JSON) as the job's result, shown on the job page: a
// JSON object's number and string members become rows labelled with the
// i18n keys "job.result.<member>", in the object's order.
func (run *Run) SetResult(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("jobs: result: %w", err)
	}
	run.mu.Lock()
	run.Job.Result = b
	run.dirty = true
	run.mu.Unlock()
	return nil
}

// Input returns the path of the input file given at Submit ("" if none).
func (run *Run) Input() string {
	if run.input == "" {
		return ""
	}
	p := filepath.Join(run.r.jobDir(run.Job.ID), run.input)
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func (run *Run) lose() {
	run.lost.Store(true)
	run.cancel(ErrLost)
}

// flusher writes progress (at most every ProgressEvery) and the heartbeat,
// and watches for a cancellation requested through the database.
func (run *Run) flusher(stop <-chan struct{}, done chan<- struct{}, progress func(Job)) {
	defer close(done)
	r := run.r
	t := time.NewTicker(max(r.ProgressEvery, time.Millisecond))
	defer t.Stop()
	lastBeat := time.Now()
	check := true
	for {
		if check {
			run.checkCancel()
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
		run.mu.Lock()
		dirty := run.dirty
		run.dirty = false
		run.mu.Unlock()
		beat := time.Since(lastBeat) >= r.Heartbeat
		if dirty || beat {
			if err := run.flush(); err != nil {
				if errors.Is(err, ErrLost) {
					return
				}
				r.log.Warn("jobs: progress write", "job", run.Job.ID, "err", err)
				run.mu.Lock()
				run.dirty = run.dirty || dirty
				run.mu.Unlock()
			} else {
				lastBeat = time.Now()
			}
		}
		if dirty && progress != nil {
			progress(run.snapshot())
		}
		check = beat
	}
}

func (run *Run) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j := run.snapshot()
	res, err := run.r.d.Exec(ctx, `UPDATE jobs SET progress_done = ?, progress_total = ?, message = ?, result = ?, files = ?, heartbeat_at = ?
		WHERE id = ? AND claim = ? AND status = 'running'`, j.Done, j.Total, j.Message, string(j.Result), filesJSON(j.Files), db.Now(), j.ID, run.claim)
	n, err := rowsAffected(res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		run.lose()
		return ErrLost
	}
	return nil
}

func (run *Run) checkCancel() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var c int
	err := run.r.d.QueryRow(ctx, "SELECT cancel_requested FROM jobs WHERE id = ?", run.Job.ID).Scan(&c)
	if err == nil && c != 0 {
		run.cancel(errCanceled)
	}
}
