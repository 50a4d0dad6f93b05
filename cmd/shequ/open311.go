package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/window"
)

const open311Usage = `usage:
  shequ open311 key add NAME [--division CODE]   issue an Open311 API key (printed once)
  shequ open311 key list                         list the Open311 clients and their keys' prefixes
  shequ open311 key revoke ID                    revoke a client's key`

// open311Keys manages the API keys of Open311 clients (apps and sites that
// submit residents' requests through /open311/v2).
func open311Keys(ctx context.Context, args []string) error {
	if len(args) < 2 || args[0] != "key" {
		return errors.New(open311Usage)
	}
	var div string
	cfg, pos, err := flags("open311 key "+args[1], args[2:], func(fs *flag.FlagSet) {
		fs.StringVar(&div, "division", "", "the subtree the client's requests may land in (6, 9, 12 or 15 digits; empty: anywhere)")
	})
	if err != nil {
		return err
	}
	var code int64
	if div != "" && div != "0" {
		if code, err = division.Parse(div); err != nil {
			return fmt.Errorf("--division: %w", err)
		}
	}
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = audit.WithActor(ctx, cliActor)
	s := a.Window
	switch args[1] {
	case "add":
		if len(pos) != 1 {
			return errors.New(open311Usage)
		}
		key, c, err := s.AddClient(ctx, nil, pos[0], code)
		var es window.Errors
		if errors.As(err, &es) {
			return fmt.Errorf("%s", es.Error())
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "issued an Open311 API key for %q (client %d); it is shown only now:\n", c.Name, c.ID)
		fmt.Println(key)
		return nil
	case "list":
		if len(pos) != 0 {
			return errors.New(open311Usage)
		}
		cs, err := s.Clients(ctx, nil)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tKEY\tDIVISION\tCREATED\tLAST USED\tSTATE")
		for _, c := range cs {
			d := "anywhere"
			if c.Division != 0 {
				d = division.Format12(c.Division)
			}
			state := "active"
			if c.Revoked() {
				state = "revoked " + stamp(c.RevokedAt)
			}
			fmt.Fprintf(w, "%d\t%s\t%s…\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.KeyPrefix, d, stamp(c.CreatedAt), stamp(c.LastUsedAt), state)
		}
		return w.Flush()
	case "revoke":
		if len(pos) != 1 {
			return errors.New(open311Usage)
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("%q is not a client id (see shequ open311 key list)", pos[0])
		}
		if err := s.RevokeClient(ctx, nil, id); errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("no Open311 client %d", id)
		} else if err != nil {
			return err
		}
		fmt.Printf("revoked the key of Open311 client %d\n", id)
		return nil
	}
	return errors.New(open311Usage)
}

// stamp writes unix milliseconds as local Chinese time ("—" for 0).
func stamp(ms int64) string {
	if ms == 0 {
		return "—"
	}
	return time.UnixMilli(ms).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
}
