package registry

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
	"github.com/shequ-platform/shequ/internal/registry/pinyin"
)

// Hit is one search result.
type Hit struct {
	Resident
	Address string // the household's address, when it has one
}

// SearchResult is one page of hits.
type SearchResult struct {
	Hits []Hit
	More bool   // another page follows
	Kind string // how the query was read: name, id, phone, tail, address
}

// candidates bounds how many index entries one query reads, whatever the
// prefix: the first candidates keys in key order (an exact key sorts first
// among those sharing its prefix, so exact matches lead).
const candidates = 500

var (
	digitsRE = regexp.MustCompile(`^[0-9xX]+$`)
	splitRE  = regexp.MustCompile(`^(.*?)[\s,，]*([0-9]{3,5}[xX]|[0-9]{4,6})$`) // the tail: 4–6 characters, X last
)

// Search finds residents inside the principal's resident.view scope by name
// or part of it, full pinyin, initials, whole ID number, the last 4–6
// characters of the ID number after a name, a whole phone or its last 4
// digits, or an address. Results are ranked and paginated.
func (s *Service) Search(ctx context.Context, p *access.Principal, q string, offset, limit int) (SearchResult, error) {
	q = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, q))
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	offset = max(offset, 0)
	scope, args := p.Where("resident.view", "r.division")
	compact := strings.NewReplacer(" ", "", "-", "").Replace(q)
	switch {
	case q == "":
		return SearchResult{}, nil
	case digitsRE.MatchString(compact) && (len(compact) == 18 || len(compact) == 15):
		id, err := idnum.Parse(compact, s.now().In(china)) // today in China, as Register checks it
		if err != nil {
			return SearchResult{Kind: "id"}, nil
		}
		return s.searchWhere(ctx, "id", "r.id_lookup = ? AND "+scope, append([]any{s.Keys.Lookup(id.Number)}, args...), offset, limit)
	case digitsRE.MatchString(compact) && len(compact) >= 7:
		ph, err := idnum.NormalizePhone(q)
		if err != nil {
			return SearchResult{Kind: "phone"}, nil
		}
		return s.searchWhere(ctx, "phone", "r.phone_lookup = ? AND "+scope, append([]any{s.Keys.Lookup("ph:" + strings.ReplaceAll(ph, "-", ""))}, args...), offset, limit)
	case digitsRE.MatchString(compact) && len(compact) == 4:
		return s.searchWhere(ctx, "tail", "r.phone_tail4 = ? AND "+scope, append([]any{s.Keys.Lookup("p4:" + compact)}, args...), offset, limit)
	}
	if m := splitRE.FindStringSubmatch(q); m != nil && strings.TrimSpace(m[1]) != "" && !digitsRE.MatchString(strings.TrimSpace(m[1])) {
		// a name followed by the last 4–6 characters of the ID number (or 4 of the phone)
		tail := strings.ToUpper(m[2])
		var cond string
		var targs []any
		switch len(tail) {
		case 4:
			cond, targs = "(r.id_tail4 = ? OR r.phone_tail4 = ?)", []any{s.Keys.Lookup("t4:" + tail), s.Keys.Lookup("p4:" + tail)}
		case 6:
			cond, targs = "r.id_tail6 = ?", []any{s.Keys.Lookup("t6:" + tail)}
		default: // 5 characters: only the last 4 are indexed (as a keyed hash)
			cond, targs = "r.id_tail4 = ?", []any{s.Keys.Lookup("t4:" + tail[len(tail)-4:])}
		}
		return s.searchName(ctx, p, strings.TrimSpace(m[1]), cond, targs, offset, limit)
	}
	res, err := s.searchName(ctx, p, q, "", nil, offset, limit)
	if err != nil || len(res.Hits) > 0 || !looksLikeAddress(q) {
		return res, err
	}
	if offset > 0 {
		// a later page: of the address search only if the name finds nobody
		if first, err := s.searchName(ctx, p, q, "", nil, 0, 1); err != nil || len(first.Hits) > 0 {
			return res, err
		}
	}
	// an address: households of the scope whose address contains the text,
	// Latin letters in any case (B幢, b幢) on both databases: SQLite's LIKE
	// ignores ASCII case, PostgreSQL's does not
	like := "%" + strings.NewReplacer("\\", "\\\\", "%", "\\%", "_", "\\_").Replace(q) + "%"
	op := "LIKE"
	if s.DB.Dialect == db.Postgres {
		op = "ILIKE"
	}
	return s.searchWhere(ctx, "address", `r.household_id IN (SELECT h.id FROM households h WHERE h.address `+op+` ? ESCAPE '\')
		AND `+scope, append([]any{like}, args...), offset, limit)
}

// looksLikeAddress: text with a digit or an address word (路 号 村 组 巷 …).
func looksLikeAddress(q string) bool {
	for _, r := range q {
		if unicode.IsDigit(r) || strings.ContainsRune("路街道巷弄号村组栋幢楼室单元区镇乡里苑园", r) {
			return true
		}
	}
	return false
}

func (s *Service) searchName(ctx context.Context, p *access.Principal, q, extra string, extraArgs []any, offset, limit int) (SearchResult, error) {
	prefix, ok := pinyin.QueryPrefix(q)
	if !ok {
		return SearchResult{Kind: "name"}, nil
	}
	scope, args := p.Where("resident.view", "k.division")
	// walk the key index in order inside the scope, stop after a bounded
	// number of entries, then rank residents by their smallest key
	query := `SELECT resident_id, MIN(key) FROM (SELECT k.key, k.resident_id FROM resident_keys k
		WHERE k.key >= ? AND k.key < ? AND ` + scope + ` ORDER BY k.key LIMIT ?) t
		GROUP BY resident_id ORDER BY MIN(key), resident_id LIMIT ?`
	qargs := append([]any{prefix, pinyin.UpperBound(prefix)}, args...)
	qargs = append(qargs, 4*candidates, candidates)
	rows, err := s.DB.Query(ctx, query, qargs...)
	if err != nil {
		return SearchResult{}, err
	}
	type cand struct {
		id  int64
		key string
	}
	var cs []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.key); err != nil {
			rows.Close()
			return SearchResult{}, err
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(cs) == 0 {
		return SearchResult{Kind: "name"}, err
	}
	idsArgs := make([]any, len(cs))
	rank := map[int64]int{}
	for i, c := range cs {
		idsArgs[i] = c.id
		rank[c.id] = i
		if c.key == prefix {
			rank[c.id] = i - len(cs) // exact key first
		}
	}
	where := "r.id IN (" + db.Placeholders(len(cs)) + ")"
	if extra != "" {
		where += " AND " + extra
		idsArgs = append(idsArgs, extraArgs...)
	}
	hits, err := s.load(ctx, where, idsArgs)
	if err != nil {
		return SearchResult{}, err
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if (a.Status == Present) != (b.Status == Present) {
			return a.Status == Present
		}
		if rank[a.ID] != rank[b.ID] {
			return rank[a.ID] < rank[b.ID]
		}
		return len(a.Name) < len(b.Name)
	})
	return page(hits, "name", offset, limit), nil
}

func page(hits []Hit, kind string, offset, limit int) SearchResult {
	res := SearchResult{Kind: kind}
	if offset < len(hits) {
		end := min(offset+limit, len(hits))
		res.Hits, res.More = hits[offset:end], end < len(hits)
	}
	return res
}

func (s *Service) searchWhere(ctx context.Context, kind, where string, args []any, offset, limit int) (SearchResult, error) {
	hits, err := s.load(ctx, where+" ORDER BY CASE r.status WHEN 'present' THEN 0 ELSE 1 END, r.name, r.id LIMIT "+strconv.Itoa(limit+1)+" OFFSET "+strconv.Itoa(max(offset, 0)), args)
	if err != nil {
		return SearchResult{}, err
	}
	res := SearchResult{Kind: kind, Hits: hits}
	if len(hits) > limit {
		res.Hits, res.More = hits[:limit], true
	}
	return res, nil
}

func (s *Service) load(ctx context.Context, where string, args []any) ([]Hit, error) {
	cols := "r." + strings.ReplaceAll(residentCols, ", ", ", r.")
	rows, err := s.DB.Query(ctx, "SELECT "+cols+", COALESCE(h.address, '') FROM residents r LEFT JOIN households h ON h.id = r.household_id WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		var party int
		r := &h.Resident
		if err := rows.Scan(&r.ID, &r.County, &r.Division, &r.HouseholdID, &r.Relation, &r.Name, &r.Gender, &r.Birth, &r.Ethnicity,
			&r.IDMasked, &r.PhoneMasked, &r.Residency, &r.Status, &party, &r.Education, &r.Employment, &r.Since, &r.CreatedAt, &r.UpdatedAt, &h.Address); err != nil {
			return nil, err
		}
		r.PartyMember = party != 0
		out = append(out, h)
	}
	return out, rows.Err()
}
