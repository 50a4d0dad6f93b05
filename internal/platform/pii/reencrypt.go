package pii

import (
	"context"
	"fmt"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// Reencrypt rewrites, in table, every ciphertext of cols not written with
// the current key version (after `shequ keys rotate`), a thousand rows per
// transaction, walking the integer primary key id; it can be interrupted and
// run again. It returns the number of rows rewritten. Table and column names
// are the caller's constants, never user input.
func Reencrypt(ctx context.Context, d *db.DB, k *Keys, table string, cols []string, progress func(n int64)) (int64, error) {
	cur := k.Current()
	var n, last int64
	for {
		type rec struct {
			id  int64
			cts []string
		}
		var page []rec
		rows, err := d.Query(ctx, "SELECT id, "+strings.Join(cols, ", ")+" FROM "+table+" WHERE id > ? ORDER BY id LIMIT 1000", last)
		if err != nil {
			return n, err
		}
		for rows.Next() {
			r := rec{cts: make([]string, len(cols))}
			dest := []any{&r.id}
			for i := range r.cts {
				dest = append(dest, &r.cts[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return n, err
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
		last = page[len(page)-1].id
		set := strings.Join(cols, " = ?, ") + " = ?"
		err = d.Tx(ctx, func(ctx context.Context) error {
			for _, r := range page {
				changed := false
				for i, ct := range r.cts {
					if ct == "" || Version(ct) == cur {
						continue
					}
					plain, err := k.Decrypt(ct)
					if err != nil {
						return fmt.Errorf("%s %d: %w", table, r.id, err)
					}
					if r.cts[i], err = k.Encrypt(plain); err != nil {
						return err
					}
					changed = true
				}
				if !changed {
					continue
				}
				args := make([]any, 0, len(cols)+1)
				for _, ct := range r.cts {
					args = append(args, ct)
				}
				if _, err := d.Exec(ctx, "UPDATE "+table+" SET "+set+" WHERE id = ?", append(args, r.id)...); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		if progress != nil {
			progress(n)
		}
	}
}
