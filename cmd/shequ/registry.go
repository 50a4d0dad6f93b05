package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/app"
	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/registry"
)

// cliPrincipal acts for the operator at a terminal: the whole deployment,
// as the system administrator (the CLI runs with the data directory's and
// the database's own rights).
func cliPrincipal() *access.Principal {
	return &access.Principal{Username: "cli", Assignments: []access.Assignment{{Role: "system_admin"}}}
}

// progressLine prints a job's progress on one terminal line.
func progressLine(label string) func(j jobs.Job) {
	last := time.Time{}
	return func(j jobs.Job) {
		if time.Since(last) < 500*time.Millisecond && j.Status.Active() {
			return
		}
		last = time.Now()
		if j.Total > 0 {
			fmt.Fprintf(os.Stderr, "\r%s %d/%d (%d%%)   ", label, j.Done, j.Total, j.Done*100/j.Total)
		} else {
			fmt.Fprintf(os.Stderr, "\r%s %d   ", label, j.Done)
		}
	}
}

func importResidents(ctx context.Context, args []string) error {
	var code, mode string
	var dry bool
	cfg, pos, err := flags("import residents", args, func(fs *flag.FlagSet) {
		fs.StringVar(&code, "division", "", "the unit rows must fall in, and the village of rows that name none (12 or 15 digits)")
		fs.StringVar(&mode, "mode", registry.ModeValidRows, "valid-rows (import the valid rows, report the others) or all-or-nothing")
		fs.BoolVar(&dry, "dry-run", false, "check every row and report, import nothing")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: shequ import residents FILE [--division CODE] [--mode valid-rows|all-or-nothing] [--dry-run]")
	}
	params := registry.ImportParams{Mode: mode, DryRun: dry, FileName: filepath.Base(pos[0]), Locale: "zh-CN"}
	if code != "" {
		if params.Division, err = division.Parse(code); err != nil {
			return fmt.Errorf("--division: %w", err)
		}
	}
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	j, err := a.Jobs.RunNow(ctx, cliPrincipal(), jobs.Spec{Kind: registry.JobImport, Division: params.Division, Params: params, Input: pos[0]},
		progressLine("imported rows"))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	if j.Status != jobs.Done {
		return fmt.Errorf("import job %d %s: %s", j.ID, j.Status, j.Error)
	}
	fmt.Printf("import job %d done in %s: %s\n", j.ID, time.Since(start).Round(time.Millisecond), string(j.Result))
	for _, f := range j.Files {
		fmt.Printf("error report: %s\n", filepath.Join(cfg.Data, "jobs", fmt.Sprint(j.ID), f.Name))
	}
	return nil
}

func exportLedger(ctx context.Context, args []string) error {
	var code, format, out string
	var full bool
	cfg, pos, err := flags("export", args, func(fs *flag.FlagSet) {
		fs.StringVar(&code, "division", "", "the unit whose subtree is exported (default: the whole deployment)")
		fs.StringVar(&format, "format", "xlsx", "xlsx or csv")
		fs.StringVar(&out, "o", "", "output file (default: the ledger's name in the current directory)")
		fs.BoolVar(&full, "full", false, "full ID numbers and phones instead of masked ones (audited)")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: shequ export LEDGER [--division CODE] [--format xlsx|csv] [-o FILE] [--full]; ledgers: %s", strings.Join(registry.Ledgers, ", "))
	}
	ep := registry.ExportParams{Ledger: pos[0], Format: format, Full: full, Locale: "zh-CN"}
	if code != "" {
		if ep.Division, err = division.Parse(code); err != nil {
			return fmt.Errorf("--division: %w", err)
		}
	}
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Registry.CheckExport(ctx, cliPrincipal(), ep); err != nil {
		return err
	}
	if out == "" {
		out = registry.ExportFileName(ep.Locale, ep, code)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	n, err := a.Registry.Export(ctx, cliPrincipal(), ep, f, func(done, total int64) {
		fmt.Fprintf(os.Stderr, "\rexported %d/%d   ", done, total)
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("%d rows written to %s in %s\n", n, out, time.Since(start).Round(time.Millisecond))
	return f.Sync()
}

// keysRotate adds a new SM4 key, re-encrypts every ID number and phone
// with it, then drops the old keys from the file. The file is written
// first (old and new keys) so an interrupted rotation can run again.
func keysRotate(ctx context.Context, args []string) error {
	cfg, _, err := flags("keys rotate", args, nil)
	if err != nil {
		return err
	}
	if os.Getenv(pii.EnvKeys) != "" {
		return fmt.Errorf("the keys come from %s: rotate them where that variable is managed (write a key file with 'shequ keys rotate --key-file F' and load it from there)", pii.EnvKeys)
	}
	path := cfg.KeyFile()
	old, created, err := pii.Load(path)
	if err != nil {
		return err
	}
	if created {
		return fmt.Errorf("%s did not exist; a new one was created, there is nothing to rotate", path)
	}
	next, err := old.Rotated()
	if err != nil {
		return err
	}
	if err := pii.Write(path, next); err != nil {
		return err
	}
	fmt.Printf("new key version %d written to %s\n", next.Current, path)
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	// each holder of personal data re-encrypts what is not under the
	// current key; a failure stops before the old keys are dropped
	steps := []struct {
		what string
		fn   func(context.Context, func(int64)) (int64, error)
	}{
		{"residents", a.Registry.Reencrypt},
		{"service-window cases and attachments", a.Window.Reencrypt},
		{"incidents and their photos", a.Grid.Reencrypt},
		{"special-group follow-ups", a.Grid.ReencryptFollowups},
		{"dispute parties", a.Mediation.Reencrypt},
	}
	var done []string
	for _, st := range steps {
		n, err := st.fn(ctx, func(n int64) { fmt.Fprintf(os.Stderr, "\rre-encrypted %d %s   ", n, st.what) })
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return fmt.Errorf("re-encryption of %s stopped after %d (run 'shequ keys rotate' again to finish): %w", st.what, n, err)
		}
		done = append(done, fmt.Sprintf("%d %s", n, st.what))
	}
	fmt.Printf("Re-encrypted with key version %d: %s; old keys removed from %s.\nRestart running servers so they load the new key file.\n",
		a.Keys.Current(), strings.Join(done, ", "), path)
	return nil
}

// demoResidents generates n residents (deterministic for the seed) into
// the demo county's villages and imports them like a clerk's file.
func demoResidents(ctx context.Context, a *app.App, data string, n int, seed int64) error {
	var have int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM residents").Scan(&have); err != nil {
		return err
	}
	if have > 0 {
		fmt.Printf("The registry already holds %d residents; none generated.\n", have)
		return nil
	}
	villages, err := demo.DemoVillages(ctx, a.Divisions, demo.County)
	if err != nil {
		return err
	}
	dir := filepath.Join(data, "uploads")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "demo-residents-*.csv")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hh, err := demo.WriteResidentsCSV(w, demo.ResidentOptions{N: n, Seed: seed, Today: time.Now(), Villages: villages})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	fmt.Printf("Generating %d residents in %d households (seed %d) …\n", n, hh, seed)
	params := registry.ImportParams{Division: demo.County, Mode: registry.ModeValidRows, FileName: "demo.csv", Locale: "zh-CN"}
	j, err := a.Jobs.RunNow(ctx, cliPrincipal(), jobs.Spec{Kind: registry.JobImport, Division: demo.County, Params: params, Input: f.Name()},
		progressLine("imported rows"))
	fmt.Fprintln(os.Stderr)
	os.Remove(f.Name()) // the job keeps its own copy
	if err != nil {
		return err
	}
	if j.Status != jobs.Done {
		return fmt.Errorf("demo residents: job %s: %s", j.Status, j.Error)
	}
	fmt.Printf("Demo residents imported: %s\n", j.Result)
	return nil
}
