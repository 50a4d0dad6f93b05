package registry

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
)

// The standard ledgers (台账) a registry exports.
const (
	LedgerRegistered = "registered" // 户籍人口台账
	LedgerMigrant    = "migrant"    // 流动人口台账
	LedgerTagged     = "tagged"     // 重点人群台账
	LedgerHouseholds = "households" // 户信息表
)

// Ledgers lists them in menu order.
var Ledgers = []string{LedgerRegistered, LedgerMigrant, LedgerTagged, LedgerHouseholds}

// ExportParams are an export job's settings.
type ExportParams struct {
	Ledger   string `json:"ledger"`
	Division int64  `json:"division"`
	Format   string `json:"format"` // csv or xlsx
	Full     bool   `json:"full"`   // full ID numbers and phones (needs resident.reveal; audited)
	Locale   string `json:"locale"`
}

// ExportFileName is the download name of a ledger, e.g. 户籍人口台账-门楼社区居委会.xlsx.
func ExportFileName(locale string, p ExportParams, unit string) string {
	return i18n.T(locale, "registry.ledger."+p.Ledger) + "-" + unit + "." + p.Format
}

// CheckExport validates export settings for p: the ledger and format exist,
// p may export at the division and, for full numbers, reveal there.
func (s *Service) CheckExport(ctx context.Context, p *access.Principal, ep ExportParams) error {
	if !slices.Contains(Ledgers, ep.Ledger) {
		return Errors{{Field: "ledger", Code: "invalid"}}
	}
	if ep.Format != "csv" && ep.Format != "xlsx" {
		return Errors{{Field: "format", Code: "invalid"}}
	}
	if err := s.scope(ctx, p, "resident.export", ep.Division, "export", 0); err != nil {
		return err
	}
	if ep.Full && !p.CanAt("resident.reveal", ep.Division) {
		return ErrForbidden
	}
	return nil
}

// Export writes a ledger of p's subtree to w and returns the rows written.
// Personal data is masked unless ep.Full (checked by CheckExport); the
// export itself is audited with its row count, and a full export as a
// reveal. progress is called every few thousand rows.
func (s *Service) Export(ctx context.Context, p *access.Principal, ep ExportParams, w io.Writer, progress func(done, total int64)) (int64, error) {
	if err := s.CheckExport(ctx, p, ep); err != nil {
		return 0, err
	}
	loc := ep.Locale
	if !i18n.Valid(loc) {
		loc = i18n.Default
	}
	var tw tabular.Writer
	if ep.Format == "xlsx" {
		tw = tabular.NewXLSXWriter(w, i18n.T(loc, "registry.ledger."+ep.Ledger))
	} else {
		tw = tabular.NewCSVWriter(w)
	}
	names, err := s.unitNames(ctx, ep.Division)
	if err != nil {
		return 0, err
	}
	lo, hi := ids.Subtree(ep.Division)
	var n int64
	if ep.Ledger == LedgerHouseholds {
		n, err = s.exportHouseholds(ctx, tw, loc, names, lo, hi, progress)
	} else {
		n, err = s.exportResidents(ctx, p, tw, loc, ep, names, lo, hi, progress)
	}
	if err != nil {
		return n, err
	}
	if err := tw.Close(); err != nil {
		return n, err
	}
	action := "export"
	if ep.Full {
		action = "reveal"
	}
	return n, s.Audit.Write(ctx, audit.Entry{Action: action, Entity: "ledger", EntityID: ep.Ledger, Division: ep.Division,
		Changes: []audit.Change{{Field: "rows", After: n}, {Field: "format", After: ep.Format}, {Field: "full", After: ep.Full}}})
}

// unitNames maps the villages and grids of a subtree to their names.
func (s *Service) unitNames(ctx context.Context, code int64) (map[int64]string, error) {
	lo, hi := ids.Subtree(code)
	us, err := s.Divisions.InRange(ctx, lo, hi, 5, 6)
	out := make(map[int64]string, len(us))
	for _, u := range us {
		out[u.Code] = u.Name
	}
	return out, err
}

func (s *Service) count(ctx context.Context, q string, args ...any) int64 {
	var n int64
	_ = s.DB.QueryRow(ctx, q, args...).Scan(&n)
	return n
}

// ledgerPage is the number of rows read per query (keyset pagination keeps
// every read short, so an export never holds a snapshot for minutes).
const ledgerPage = 2000

func (s *Service) exportResidents(ctx context.Context, p *access.Principal, tw tabular.Writer, loc string, ep ExportParams,
	names map[int64]string, lo, hi int64, progress func(done, total int64)) (int64, error) {
	t := func(k string) string { return i18n.T(loc, k) }
	cond := "r.division BETWEEN ? AND ? AND r.status = 'present'"
	args := []any{lo, hi}
	switch ep.Ledger {
	case LedgerRegistered:
		cond += " AND r.residency = 'registered'"
	case LedgerMigrant:
		cond += " AND r.residency = 'migrant'"
	case LedgerTagged:
		cond += " AND EXISTS (SELECT 1 FROM resident_tags t WHERE t.resident_id = r.id)"
	}
	total := s.count(ctx, "SELECT COUNT(*) FROM residents r WHERE "+cond, args...)
	header := []string{t("registry.export.seq"), t("registry.field.name"), t("registry.field.gender"), t("registry.field.birth"),
		t("registry.field.age"), t("registry.field.ethnicity"), t("registry.field.id_number"), t("registry.field.phone"),
		t("registry.field.residency"), t("registry.field.relation"), t("registry.export.household_no"), t("registry.export.village"),
		t("registry.export.grid"), t("registry.export.address"), t("registry.field.party_member"), t("registry.field.education"),
		t("registry.field.employment"), t("registry.export.tags"), t("registry.export.since")}
	if err := tw.WriteHeader(header); err != nil {
		return 0, err
	}
	today := s.today()
	var n, last int64
	for {
		q := `SELECT r.id, r.division, r.name, r.gender, r.birth, r.ethnicity, r.id_enc, r.id_masked, r.phone_enc, r.phone_masked,
			r.residency, r.relation, r.party_member, r.education, r.employment, r.since,
			COALESCE(h.number, ''), COALESCE(h.village, 0), COALESCE(h.address, ''), COALESCE(h.house_no, '')
			FROM residents r LEFT JOIN households h ON h.id = r.household_id
			WHERE ` + cond + ` AND r.id > ? ORDER BY r.id LIMIT ?`
		rows, err := s.DB.Query(ctx, q, append(append([]any{}, args...), last, ledgerPage)...)
		if err != nil {
			return n, err
		}
		type rec struct {
			r                        Resident
			idEnc, phoneEnc          string
			number, address, houseNo string
			village                  int64
			party                    int
		}
		var page []rec
		for rows.Next() {
			var x rec
			if err := rows.Scan(&x.r.ID, &x.r.Division, &x.r.Name, &x.r.Gender, &x.r.Birth, &x.r.Ethnicity, &x.idEnc, &x.r.IDMasked,
				&x.phoneEnc, &x.r.PhoneMasked, &x.r.Residency, &x.r.Relation, &x.party, &x.r.Education, &x.r.Employment, &x.r.Since,
				&x.number, &x.village, &x.address, &x.houseNo); err != nil {
				rows.Close()
				return n, err
			}
			page = append(page, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		idsOf := make([]any, len(page))
		for i, x := range page {
			idsOf[i] = x.r.ID
		}
		tags, err := s.tagsOf(ctx, p, idsOf)
		if err != nil {
			return n, err
		}
		for _, x := range page {
			r := x.r
			idv, phv := r.IDMasked, r.PhoneMasked
			if ep.Full {
				if idv, err = s.Keys.Decrypt(x.idEnc); err != nil {
					return n, err
				}
				if phv, err = s.Keys.Decrypt(x.phoneEnc); err != nil {
					return n, err
				}
			}
			village, grid := r.Division, int64(0)
			if ids.Level(r.Division) > 5 {
				village, grid = x.village, r.Division
			}
			party := t("registry.party.no")
			if x.party != 0 {
				party = t("registry.party.yes")
			}
			n++
			if err := tw.Write([]any{n, r.Name, t("registry.gender." + strings.ToLower(r.Gender)), FormatDate(r.Birth), r.AgeOn(today), r.Ethnicity, idv, phv,
				t("registry.residency." + r.Residency), labelOr(t, "registry.relation.", r.Relation), x.number, names[village], names[grid],
				x.address + x.houseNo, party, labelOr(t, "registry.education.", r.Education), labelOr(t, "registry.employment.", r.Employment),
				s.tagText(loc, r.Division, tags[r.ID]), FormatDate(r.Since)}); err != nil {
				return n, err
			}
		}
		last = page[len(page)-1].r.ID
		if progress != nil {
			progress(n, total)
		}
	}
	return n, nil
}

func labelOr(t func(string) string, prefix, key string) string {
	if key == "" {
		return ""
	}
	return t(prefix + key)
}

// tagsOf reads the tags of many residents, leaving out restricted ones p
// may not see.
func (s *Service) tagsOf(ctx context.Context, p *access.Principal, residentIDs []any) (map[int64][]TagValue, error) {
	rows, err := s.DB.Query(ctx, "SELECT t.resident_id, t.tag, t.grade, t.since, r.division FROM resident_tags t JOIN residents r ON r.id = t.resident_id WHERE t.resident_id IN ("+
		db.Placeholders(len(residentIDs))+") ORDER BY t.resident_id, t.tag", residentIDs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]TagValue{}
	for rows.Next() {
		var id, div int64
		var t TagValue
		if err := rows.Scan(&id, &t.Tag, &t.Grade, &t.Since, &div); err != nil {
			return nil, err
		}
		if def, ok := s.registryOf(div).Tag(t.Tag); ok && def.Restricted && !p.CanAt("resident.special", div) {
			continue
		}
		out[id] = append(out[id], t)
	}
	return out, rows.Err()
}

// tagText writes tags as a clerk would: 残疾人(二级);低保对象.
func (s *Service) tagText(loc string, division int64, tags []TagValue) string {
	parts := make([]string, 0, len(tags))
	reg := s.registryOf(division)
	for _, t := range tags {
		label := t.Tag
		if def, ok := reg.Tag(t.Tag); ok {
			label = def.Label.Get(loc)
		}
		if t.Grade != "" {
			label += "(" + t.Grade + ")"
		}
		parts = append(parts, label)
	}
	return strings.Join(parts, ";")
}

func (s *Service) exportHouseholds(ctx context.Context, tw tabular.Writer, loc string, names map[int64]string, lo, hi int64, progress func(done, total int64)) (int64, error) {
	t := func(k string) string { return i18n.T(loc, k) }
	cond := "h.village BETWEEN ? AND ?"
	total := s.count(ctx, "SELECT COUNT(*) FROM households h WHERE "+cond, lo, hi)
	if err := tw.WriteHeader([]string{t("registry.export.seq"), t("registry.export.household_no"), t("registry.export.household_kind"),
		t("registry.export.village"), t("registry.export.grid"), t("registry.export.address"), t("registry.export.head"),
		t("registry.export.members"), t("registry.export.lat"), t("registry.export.lon")}); err != nil {
		return 0, err
	}
	var n, last int64
	for {
		rows, err := s.DB.Query(ctx, `SELECT h.id, h.number, h.kind, h.village, h.grid, h.address, h.house_no, h.lat, h.lon,
			COALESCE((SELECT r.name FROM residents r WHERE r.household_id = h.id AND r.relation = 'head' AND r.status = 'present' ORDER BY r.id LIMIT 1), ''),
			(SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id AND r.status = 'present')
			FROM households h WHERE `+cond+` AND h.id > ? ORDER BY h.id LIMIT ?`, lo, hi, last, ledgerPage)
		if err != nil {
			return n, err
		}
		k := 0
		for rows.Next() {
			var h Household
			var lat, lon *float64
			var head string
			var members int
			if err := rows.Scan(&h.ID, &h.Number, &h.Kind, &h.Village, &h.Grid, &h.Address, &h.HouseNo, &lat, &lon, &head, &members); err != nil {
				rows.Close()
				return n, err
			}
			n++
			k++
			last = h.ID
			if err := tw.Write([]any{n, h.Number, t("registry.household_kind." + h.Kind), names[h.Village], names[h.Grid],
				h.Place(), head, members, ptrOrNil(lat), ptrOrNil(lon)}); err != nil {
				rows.Close()
				return n, err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		if k == 0 {
			break
		}
		if progress != nil {
			progress(n, total)
		}
	}
	return n, nil
}

func ptrOrNil(f *float64) any {
	if f == nil {
		return nil
	}
	return fmt.Sprintf("%.6f", *f)
}
