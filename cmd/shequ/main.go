// Command shequ is the whole Shequ platform in one binary: the web server,
// the demo, and the administration commands.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/shequ-platform/shequ/internal/app"
	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `shequ — a platform for governing and serving communities (社区治理与服务平台)

Usage:
  shequ serve     [flags]                      run the web server
  shequ demo      [--addr A] [--data DIR] [--residents N] [--cases N] [--incidents N] [--seed S]
                                               build the 锡山区 demo jurisdiction (first time) and serve it
  shequ migrate   [flags]                      bring the database schema up to date
  shequ user add NAME --role ROLE --division CODE [--display-name N]
  shequ user passwd NAME                       set a new one-time password (printed)
  shequ user list
  shequ user token NAME --name LABEL           issue an API token (printed once)
  shequ divisions import FILE [--dry-run]      import statistical division codes (CSV, optionally .gz)
  shequ import residents FILE [--division CODE] [--mode valid-rows|all-or-nothing] [--dry-run]
                                               import households and residents from XLSX or CSV
  shequ export LEDGER [--division CODE] [--format xlsx|csv] [-o FILE] [--full]
                                               export a ledger: registered, migrant, tagged, households
  shequ keys rotate                            new SM4 key for personal data; re-encrypt everything
  shequ policy check DIR                       validate a policy pack directory
  shequ open311 key add|list|revoke …          Open311 API keys (add NAME [--division CODE], list, revoke ID)
  shequ audit verify                           check the audit log's hash chain
  shequ version

Every command takes --data and --db (and SHEQU_DATA, SHEQU_DB); run 'shequ serve -h' for all settings.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	app.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1], os.Args[2:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shequ:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	switch cmd {
	case "serve":
		return serve(ctx, args)
	case "demo":
		return runDemo(ctx, args)
	case "migrate":
		return migrate(ctx, args)
	case "user":
		return user(ctx, args)
	case "divisions":
		if len(args) < 1 || args[0] != "import" {
			return errors.New("usage: shequ divisions import FILE [--dry-run]")
		}
		return importDivisions(ctx, args[1:])
	case "import":
		if len(args) < 1 || args[0] != "residents" {
			return errors.New("usage: shequ import residents FILE [--division CODE] [--mode valid-rows|all-or-nothing] [--dry-run]")
		}
		return importResidents(ctx, args[1:])
	case "export":
		return exportLedger(ctx, args)
	case "keys":
		if len(args) < 1 || args[0] != "rotate" {
			return errors.New("usage: shequ keys rotate")
		}
		return keysRotate(ctx, args[1:])
	case "policy":
		if len(args) != 2 || args[0] != "check" {
			return errors.New("usage: shequ policy check DIR")
		}
		return policyCheck(args[1])
	case "open311":
		return open311Keys(ctx, args)
	case "audit":
		if len(args) < 1 || args[0] != "verify" {
			return errors.New("usage: shequ audit verify")
		}
		return auditVerify(ctx, args[1:])
	case "version", "--version", "-v":
		fmt.Println("shequ", version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

// flags parses the common settings plus a command's own flags. Flags may
// come before or after positional arguments.
func flags(name string, args []string, extra func(fs *flag.FlagSet)) (app.Config, []string, error) {
	var cfg app.Config
	fs := flag.NewFlagSet("shequ "+name, flag.ContinueOnError)
	cfg.Bind(fs)
	if extra != nil {
		extra(fs)
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return cfg, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return cfg, pos, nil
}

// openDB opens the database alone (no migrations, no policy packs), for
// commands that work below the application.
func openDB(ctx context.Context, name string, args []string) (*db.DB, error) {
	cfg, _, err := flags(name, args, nil)
	if err != nil {
		return nil, err
	}
	return db.Open(ctx, cfg.DSN())
}

func open(ctx context.Context, cfg app.Config) (*app.App, error) {
	return app.Open(ctx, cfg, app.NewLogger(cfg))
}

func serve(ctx context.Context, args []string) error {
	cfg, _, err := flags("serve", args, nil)
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if pw, created, err := a.EnsureAdmin(ctx); err != nil {
		return err
	} else if created {
		fmt.Printf("\nFirst run: created the account 'admin' with the one-time password\n\n    %s\n\nIt is shown only now and must be changed at the first login.\n\n", pw)
	}
	return a.Serve(ctx, func(addr string) {
		a.Log.Info("shequ listening", "url", "http://"+addr+"/", "db", string(a.DB.Dialect), "version", version)
	})
}

func runDemo(ctx context.Context, args []string) error {
	var residents, cases, incidents int
	var seed int64
	cfg, _, err := flags("demo", args, func(fs *flag.FlagSet) {
		fs.IntVar(&residents, "residents", 0, "residents to generate in the demo jurisdiction (added to those already there)")
		fs.IntVar(&cases, "cases", 0, "service-window cases to generate over the last six months (when there are none yet)")
		fs.IntVar(&incidents, "incidents", 0, "grid incidents to generate over the last four months, with the grid workers' patrol visits (when there are none yet)")
		fs.Int64Var(&seed, "seed", 1, "random seed: the same seed builds the same demo")
	})
	if err != nil {
		return err
	}
	if cfg.Data == "./shequ-data" && os.Getenv(app.EnvName("data")) == "" {
		cfg.Data = "./shequ-demo"
	}
	password := os.Getenv("SHEQU_DEMO_PASSWORD")
	if password == "" {
		password = "shequ-demo"
	}
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if !demo.Built(ctx, a.DB) {
		if n, err := a.Access.CountUsers(ctx); err != nil {
			return err
		} else if n > 0 {
			return fmt.Errorf("%s already holds a platform that is not a demo; give --data a fresh directory", cfg.Data)
		}
		fmt.Println("Building the demo jurisdiction 锡山区 (320205) …")
		if _, err := demo.Build(ctx, a.DivisionService, a.Access, demo.Options{Password: password, Seed: seed}); err != nil {
			return err
		}
	}
	if residents > 0 {
		if err := demoResidents(ctx, a, cfg.Data, residents, seed); err != nil {
			return err
		}
	}
	if cases > 0 {
		if err := demoCases(ctx, a, cases, seed); err != nil {
			return err
		}
	}
	if residents > 0 || incidents > 0 {
		if err := demoPlaces(ctx, a, seed); err != nil {
			return err
		}
	}
	if incidents > 0 {
		if err := demoGrid(ctx, a, incidents, seed); err != nil {
			return err
		}
		if err := demoDisputes(ctx, a, max(1, incidents/30), seed); err != nil {
			return err
		}
	}
	if err := demoGovernance(ctx, a, seed); err != nil {
		return err
	}
	return a.Serve(ctx, func(addr string) {
		abs, _ := filepath.Abs(cfg.Data)
		fmt.Printf("\nShequ demo is running: http://%s/\nData directory: %s\n\nLogins (password: %s):\n", addr, abs, password)
		w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
		for _, acc := range demo.Accounts(ctx, a.Access, a.Divisions) {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", acc.Username, acc.Role, acc.DivisionName)
		}
		w.Flush()
		fmt.Println("\nPress Ctrl-C to stop.")
	})
}

// demoCases takes in n service-window cases over the last six months at the
// demo county's windows (internal/demo/cases.go), unless there are cases.
func demoCases(ctx context.Context, a *app.App, n int, seed int64) error {
	var have int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM cases").Scan(&have); err != nil {
		return err
	}
	if have > 0 {
		fmt.Printf("The window already holds %d cases; none generated.\n", have)
		return nil
	}
	fmt.Printf("Generating %d service-window cases (seed %d) …\n", n, seed)
	st, err := demo.GenerateCases(ctx, a.Window, a.Access, demo.CaseOptions{N: n, Seed: seed, Today: time.Now()})
	if err != nil {
		return err
	}
	fmt.Printf("Demo cases: %d taken in, %d completed (%d on time), %d open (%d overdue), %d waiting for materials, %d rated.\n",
		st.Cases, st.Completed, st.OnTime, st.Open, st.Overdue, st.Waiting, st.Rated)
	return nil
}

// demoPlaces gives the demo's households without a point one on the map
// (internal/demo/points.go).
func demoPlaces(ctx context.Context, a *app.App, seed int64) error {
	villages, err := demo.DemoVillages(ctx, a.Divisions, demo.County)
	if err != nil {
		return err
	}
	st, err := demo.PlaceHouseholds(ctx, a.Registry, villages, demo.PlaceOptions{Seed: seed})
	if err != nil {
		return err
	}
	if st.Placed > 0 {
		fmt.Printf("Demo households placed on the map: %d of %d.\n", st.Placed, st.Households)
	}
	return nil
}

// demoGrid fills grid governance, unless it holds incidents already: the
// grid workers' patrol visits over the last four months (the problems they
// find become incidents), then n incidents (internal/demo/patrols.go,
// incidents.go).
func demoGrid(ctx context.Context, a *app.App, n int, seed int64) error {
	var have int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM incidents").Scan(&have); err != nil {
		return err
	}
	if have > 0 {
		fmt.Printf("Grid governance already holds %d incidents; none generated.\n", have)
		return nil
	}
	today := time.Now()
	fmt.Printf("Generating patrol visits and %d grid incidents (seed %d) …\n", n, seed)
	ps, err := demo.GeneratePatrols(ctx, a.Grid, a.Access, demo.PatrolOptions{Seed: seed, Today: today})
	if err != nil {
		return err
	}
	fmt.Printf("Demo patrols: %d visits, %.0f%% of a grid's households a month, %d problems found and reported.\n",
		ps.Visits, ps.Coverage, ps.Problems)
	st, err := demo.GenerateIncidents(ctx, a.Grid, a.Access, demo.IncidentOptions{N: n, Seed: seed, Today: today})
	if err != nil {
		return err
	}
	st.Add(ps.Incidents)
	fmt.Printf("Demo incidents: %d reported, %d closed (%.1f%% in the village, %d on time), %d open (%d overdue), %d escalated, %d rejected, %d rated.\n",
		st.Incidents, st.Closed, st.VillageShare(), st.OnTime, st.Incidents-st.Closed-st.Rejected, st.Overdue, st.Escalated, st.Rejected, st.Rated)
	return nil
}

// demoDisputes registers n disputes at the demo county's mediation
// committees (internal/demo/mediation.go), unless there are disputes.
func demoDisputes(ctx context.Context, a *app.App, n int, seed int64) error {
	var have int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM disputes").Scan(&have); err != nil {
		return err
	}
	if have > 0 {
		fmt.Printf("Mediation already holds %d disputes; none generated.\n", have)
		return nil
	}
	st, err := demo.GenerateDisputes(ctx, a.Mediation, a.Access, demo.DisputeOptions{N: n, Seed: seed, Today: time.Now()})
	if err != nil {
		return err
	}
	fmt.Printf("Demo disputes: %s.\n", st)
	return nil
}

// demoGovernance gives every demo village with residents a year of
// self-governance and disclosure (internal/demo/governance.go): bodies,
// meetings, matters, an election, documents, accounts and publications.
// Villages that already have bodies are left alone.
func demoGovernance(ctx context.Context, a *app.App, seed int64) error {
	var have int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM gov_bodies").Scan(&have); err != nil {
		return err
	}
	if have > 0 {
		return nil
	}
	fmt.Println("Generating a year of self-governance and disclosure in every village with residents …")
	st, err := demo.GenerateGovernance(ctx, a.Governance, a.Disclosure, a.Registry, demo.GovernanceOptions{Seed: seed, Today: time.Now()})
	if err != nil {
		return err
	}
	if st.Villages > 0 {
		fmt.Printf("Demo self-governance: %s.\n", st)
	}
	return nil
}

func migrate(ctx context.Context, args []string) error {
	d, err := openDB(ctx, "migrate", args)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	cur, _, err := d.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("schema at version %d (%s)\n", cur, d.Dialect)
	return nil
}

var cliActor = audit.Actor{Name: "cli", Client: "cli"}

func user(ctx context.Context, args []string) error {
	if len(args) < 1 {
		return errors.New("usage: shequ user add|passwd|list|token …")
	}
	var role, division_, display, tokenName string
	cfg, pos, err := flags("user "+args[0], args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "role: system_admin, county_staff, township_staff, village_staff, grid_worker, viewer")
		fs.StringVar(&division_, "division", "0", "division code the role is bound to (6, 9, 12 or 15 digits; 0 = whole country)")
		fs.StringVar(&display, "display-name", "", "display name")
		fs.StringVar(&tokenName, "name", "", "token label")
	})
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = audit.WithActor(ctx, cliActor)
	switch args[0] {
	case "list":
		us, err := a.Access.AllUsers(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "USERNAME\tNAME\tROLES\tSTATE")
		for _, u := range us {
			var roles []string
			for _, as := range u.Assignments {
				roles = append(roles, fmt.Sprintf("%s@%s", as.Role, division.Format(as.Division)))
			}
			state := "active"
			if u.Disabled {
				state = "disabled"
			} else if u.MustChange {
				state = "must change password"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, strings.Join(roles, ", "), state)
		}
		return w.Flush()
	case "add":
		if len(pos) != 1 || role == "" {
			return errors.New("usage: shequ user add NAME --role ROLE --division CODE [--display-name N]")
		}
		code := int64(0)
		if division_ != "0" {
			if code, err = division.Parse(division_); err != nil {
				return err
			}
			if _, err := a.Divisions.Get(ctx, code); err != nil {
				return fmt.Errorf("division %s does not exist (import divisions first)", division_)
			}
		}
		pw := access.RandomPassword()
		if _, err := a.Access.CreateUser(ctx, nil, access.NewUser{Username: pos[0], DisplayName: display, Password: pw, MustChange: true, Role: role, Division: code}); err != nil {
			return describe(err)
		}
		fmt.Printf("created %s; one-time password (change at first login):\n%s\n", pos[0], pw)
		return nil
	case "passwd":
		if len(pos) != 1 {
			return errors.New("usage: shequ user passwd NAME")
		}
		u, err := a.Access.UserByName(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("no user %q", pos[0])
		}
		pw := access.RandomPassword()
		if err := a.Access.SetPassword(ctx, u.ID, u.Username, pw, false, true); err != nil {
			return err
		}
		fmt.Printf("new one-time password for %s (change at next login):\n%s\n", u.Username, pw)
		return nil
	case "token":
		if len(pos) != 1 || tokenName == "" {
			return errors.New("usage: shequ user token NAME --name LABEL")
		}
		u, err := a.Access.UserByName(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("no user %q", pos[0])
		}
		secret, _, err := a.Access.CreateToken(ctx, u.ID, tokenName)
		if err != nil {
			return describe(err)
		}
		fmt.Println(secret)
		return nil
	}
	return fmt.Errorf("unknown user command %q", args[0])
}

// describe turns a coded access error into an English sentence for the CLI.
func describe(err error) error {
	var e *access.Error
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %s", e.Field, strings.ReplaceAll(e.Code, "_", " "))
	}
	return err
}

func importDivisions(ctx context.Context, args []string) error {
	var dry bool
	cfg, pos, err := flags("divisions import", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&dry, "dry-run", false, "validate only, write nothing")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: shequ divisions import FILE [--dry-run]")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = audit.WithActor(ctx, cliActor)
	res, err := a.DivisionService.Import(ctx, bufio.NewReaderSize(f, 1<<20), division.ImportOptions{DryRun: dry, OnProgress: func(n int) {
		fmt.Fprintf(os.Stderr, "\r%d rows written", n)
	}})
	fmt.Fprintln(os.Stderr)
	for _, w := range res.Warnings {
		fmt.Fprintln(os.Stderr, "warning:", w.String())
	}
	if errors.Is(err, division.ErrInvalid) {
		for _, e := range res.Errors {
			fmt.Fprintln(os.Stderr, e.String())
		}
		if res.ErrorCount > len(res.Errors) {
			fmt.Fprintf(os.Stderr, "… and %d more\n", res.ErrorCount-len(res.Errors))
		}
		return fmt.Errorf("%d invalid rows: nothing was imported (the import is all or nothing)", res.ErrorCount)
	}
	if err != nil {
		return err
	}
	verb := "imported"
	if dry {
		verb = "dry run, would import"
	}
	fmt.Printf("%s %d rows: %d new, %d updated, %d unchanged\n", verb, res.Rows, res.Inserted, res.Updated, res.Unchanged)
	return nil
}

func policyCheck(dir string) error {
	set, err := app.LoadPacks(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return errors.New("the policy packs are invalid")
	}
	for _, p := range set.Packs() {
		fmt.Printf("ok  %s  (%s, binds %d subtree(s), cites %d seed rules)\n", p.Name, p.Title.Get("zh-CN"), len(p.Bind), len(p.Seeds))
	}
	return nil
}

func auditVerify(ctx context.Context, args []string) error {
	d, err := openDB(ctx, "audit verify", args)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := (&audit.Log{DB: d}).Verify(ctx)
	if err != nil {
		return err
	}
	if res.BrokenAt != 0 {
		return fmt.Errorf("audit chain broken at entry %d: %s (%d entries verified before it)", res.BrokenAt, res.Reason, res.Checked)
	}
	fmt.Printf("audit chain intact: %d entries verified\n", res.Checked)
	return nil
}
