package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
)

// Tracker is what an import reports to and resumes from: the job runner's
// Run (jobs.Run) in the product, a stub in tests.
type Tracker interface {
	Progress(done, total int64, message string)
	Checkpoint(ctx context.Context, v any) error
	Resume(v any) (bool, error)
}

// ImportBatch is the number of rows committed together.
const ImportBatch = 5000

// ErrMissingColumns: the file lacks a required column (姓名).
type ErrMissingColumns struct{ Fields []string }

func (e *ErrMissingColumns) Error() string {
	return "missing columns: " + strings.Join(e.Fields, ", ")
}

// Import phases, as checkpoints name them.
const (
	phaseValidate = "validate"
	phaseWrite    = "write"
)

// RunImport imports a file of residents as job jobID for p (who needs
// resident.import where each row lands).
//
//   - valid-rows: rows are checked and written batch by batch; each batch
//     commits its residents, its refused rows and the checkpoint together,
//     so a crash loses nothing and the job resumes after the last batch.
//   - all-or-nothing: a first pass checks every row (read only, committing
//     refused rows and the checkpoint); with any refused row nothing is
//     written. Otherwise a second pass writes the whole file in one
//     transaction: a crash rolls it back entirely, and the job resumes at
//     the start of that pass.
//   - a dry run is the first pass alone, in either mode.
func (s *Service) RunImport(ctx context.Context, p *access.Principal, jobID int64, path string, params ImportParams, t Tracker) (ImportResult, error) {
	if params.Mode == "" {
		params.Mode = ModeValidRows
	}
	if params.Mode != ModeValidRows && params.Mode != ModeAllOrNothing {
		return ImportResult{}, fmt.Errorf("unknown import mode %q", params.Mode)
	}
	var cp ImportCheckpoint
	resumed, err := t.Resume(&cp)
	if err != nil {
		return ImportResult{}, err
	}
	if !resumed || cp.Phase == "" {
		cp = ImportCheckpoint{Phase: phaseWrite}
		if params.DryRun || params.Mode == ModeAllOrNothing {
			cp.Phase = phaseValidate
		}
	}
	total := countRows(path)
	ctx = withUnitCache(ctx)
	im := &importer{s: s, p: p, jobID: jobID, hh: map[householdKey]int64{}}
	if cp.Phase == phaseValidate {
		if err := s.importPass(ctx, im, path, params, &cp, t, total, false, false); err != nil {
			return ImportResult{}, err
		}
		if cp.Failed > 0 || params.DryRun {
			t.Progress(int64(cp.Rows), int64(cp.Rows), "")
			return ImportResult{Rows: cp.Rows, Failed: cp.Failed}, nil
		}
		cp = ImportCheckpoint{Phase: phaseWrite}
		if err := t.Checkpoint(ctx, cp); err != nil {
			return ImportResult{}, err
		}
	}
	single := params.Mode == ModeAllOrNothing
	if single {
		cp = ImportCheckpoint{Phase: phaseWrite} // the pass is one transaction: start over
	}
	err = s.importPass(ctx, im, path, params, &cp, t, total, true, single)
	var refused *refusedError
	if errors.As(err, &refused) {
		// all-or-nothing found a refused row while writing: nothing written
		return ImportResult{Rows: refused.rows, Failed: refused.failed}, nil
	}
	if err != nil {
		return ImportResult{}, err
	}
	t.Progress(int64(cp.Rows), int64(cp.Rows), "")
	return ImportResult{Rows: cp.Rows, Created: cp.Created, Updated: cp.Updated, Unchanged: cp.Same, Failed: cp.Failed, Imported: true}, nil
}

// refusedError ends an all-or-nothing write pass that met a refused row.
type refusedError struct{ rows, failed int }

func (e *refusedError) Error() string { return "rows refused" }

// importPass reads the file from the checkpoint on and applies it batch by
// batch (write) or only checks it. single runs the whole pass in one
// transaction.
func (s *Service) importPass(ctx context.Context, im *importer, path string, params ImportParams, cp *ImportCheckpoint, t Tracker, total int64, write, single bool) error {
	rd, err := tabular.Open(path)
	if err != nil {
		return err
	}
	defer rd.Close()
	m, problems := tabular.MapHeader(rd.Header(), ImportFields)
	var missing []string
	for _, pr := range problems {
		if pr.Kind == tabular.MissingField {
			missing = append(missing, pr.Field)
		}
	}
	if len(missing) > 0 {
		return &ErrMissingColumns{Fields: missing}
	}
	im.group = grouping(m)
	rr := s.newRowReader(im.p, m, params)
	batch := make([]importRow, 0, ImportBatch)
	eof := false
	next := func(ctx context.Context) error {
		batch = batch[:0]
		for len(batch) < ImportBatch {
			cells, line, err := rd.Next()
			if err == io.EOF {
				eof = true
				return nil
			}
			if err != nil && !tabular.IsRowError(err) {
				return err
			}
			if line <= cp.Line {
				continue // done before a resume
			}
			row := rr.parse(ctx, line, cells)
			if err != nil {
				row.errs = append(Errors{{Field: "row", Code: rowErrCode(err)}}, row.errs...)
			}
			batch = append(batch, row)
		}
		return nil
	}
	step := func(ctx context.Context) error {
		if err := next(ctx); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		res, err := im.apply(ctx, batch, write)
		if err != nil {
			return err
		}
		if single && res.Failed > 0 {
			return &refusedError{rows: cp.Rows + len(batch), failed: cp.Failed + res.Failed}
		}
		cp.Line = batch[len(batch)-1].line
		cp.Rows += len(batch)
		cp.Created += res.Created
		cp.Updated += res.Updated
		cp.Same += res.Unchanged
		cp.Failed += res.Failed
		if err := s.saveRowErrors(ctx, im.jobID, batch); err != nil {
			return err
		}
		if write && res.Created+res.Updated > 0 {
			if err := s.auditBatch(ctx, im.jobID, params.Division, batch[0].line, cp.Line, res.Created, res.Updated); err != nil {
				return err
			}
		}
		if !single {
			// a single-transaction pass restarts from its beginning, so
			// its checkpoints would serve nothing (and on PostgreSQL would
			// hold the job's row locked until the end)
			if err := t.Checkpoint(ctx, *cp); err != nil {
				return err
			}
		}
		t.Progress(int64(cp.Rows), total, "")
		return nil
	}
	if single {
		start := *cp
		err := s.DB.Tx(ctx, func(ctx context.Context) error {
			for !eof {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := step(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		var refused *refusedError
		if errors.As(err, &refused) {
			// keep the refused rows of the failing batch for the report
			*cp = start
			if err := s.DB.Tx(ctx, func(ctx context.Context) error { return s.saveRowErrors(ctx, im.jobID, batch) }); err != nil {
				return err
			}
		}
		return err
	}
	for !eof {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.DB.Tx(ctx, step); err != nil {
			return err
		}
	}
	return nil
}

// countRows estimates the data rows of a file for the progress bar: the
// line count of a CSV less its header (a quoted cell with line breaks makes
// it an overestimate), 0 (unknown) for XLSX.
func countRows(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	var n int64
	first := true
	for {
		k, err := f.Read(buf)
		if first && k >= 4 && bytes.Equal(buf[:4], []byte("PK\x03\x04")) {
			return 0
		}
		first = false
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err != nil {
			break
		}
	}
	return max(0, n-1)
}
