package registry

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
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
	return s.searchAddress(ctx, p, q, offset, limit)
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

// ---- address search ----
//
// Every household has rows in household_keys (key, village, household_id):
// one per character position of its normalised address (normAddress), the
// next addrKeyLen characters from there (fewer at the end). An address
// contains a text of up to addrKeyLen characters exactly when one of its
// keys starts with it, so a substring search is a prefix range of the index,
// as name search is: a B-tree seek on both databases, the same results, no
// trigram extension (PostgreSQL's pg_trgm ignores CJK characters in a C-locale
// database). A longer text is looked up by its first and last addrKeyLen
// characters and every candidate is then checked whole. The keys are written
// in the transaction of every change of a household's address (the store's
// insert and update, and each import batch); migration 00010 built them for
// the households that existed before.
//
// Why not character bigrams intersected: the 62,119 distinct addresses of
// the benchmark's 200,000 residents hold only 471 distinct bigrams, so each
// posting list is long (社区, 幢1, 0室 …) and intersecting them cost as much
// as the LIKE scan (p50 12 ms against 10 ms in a SQLite prototype over the
// same addresses), while a 12-character key is one short range (0.02 ms),
// for a larger index (31 MB against 19 MB of bigrams; 8-character keys,
// 29 MB, needed the check for most queries and took 0.04 ms).

// addrKeyLen is the length in characters of an address key: 183 of 200
// sampled queries (village, group or building, house: 严家桥村12组34号) fit
// in one key and need no check after the index.
const addrKeyLen = 12

// addrCandidates bounds the households one address query reads from the
// index. A text found in more households of the scope (社区, 号, a single
// character) is answered from the first addrCandidates of them in key
// order: the text that follows the match (东湖塘社区10幢…, 东湖塘社区11幢…).
var addrCandidates = 1000

// normAddress is the form of an address the index holds and queries are
// matched against: full-width ASCII forms (１２号, Ｂ幢) as ASCII, Latin
// letters in lower case, white space removed (东湖塘社区 29幢 = 东湖塘社区29幢).
// Migration 00010 computes the same in SQL; keep the two in step.
func normAddress(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == 0xA0 || r == 0x3000:
			continue
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// addressKeys are the index keys of an address, without repeats.
func addressKeys(address string) []string {
	rs := []rune(normAddress(address))
	out := make([]string, 0, len(rs))
	seen := make(map[string]bool, len(rs))
	for i := range rs {
		k := string(rs[i:min(i+addrKeyLen, len(rs))])
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// addrEntry is a household whose address keys are to be written.
type addrEntry struct {
	id, village int64
	address     string
	fresh       bool // inserted in this transaction: it has no keys yet
}

// indexAddresses brings the address keys of the households es up to date in
// the transaction in ctx: keys of new households are inserted, those of
// existing ones replaced when their address (as normalised) changed.
func (s store) indexAddresses(ctx context.Context, es []addrEntry) error {
	if len(es) == 0 {
		return nil
	}
	// the last entry of a household wins
	at := make(map[int64]int, len(es))
	for i, e := range es {
		if j, ok := at[e.id]; ok {
			e.fresh = e.fresh && es[j].fresh
		}
		at[e.id] = i
		es[i] = e
	}
	var old []any
	for id, i := range at {
		if !es[i].fresh {
			old = append(old, id)
		}
	}
	have := map[int64][]string{}
	for start := 0; start < len(old); start += 500 {
		part := old[start:min(start+500, len(old))]
		rows, err := s.db.Query(ctx, "SELECT household_id, key FROM household_keys WHERE household_id IN ("+db.Placeholders(len(part))+")", part...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var k string
			if err := rows.Scan(&id, &k); err != nil {
				rows.Close()
				return err
			}
			have[id] = append(have[id], k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	var stale []any
	var keys []string
	var villages, households []int64
	for i, e := range es {
		if at[e.id] != i {
			continue
		}
		ks := addressKeys(e.address)
		if h := have[e.id]; len(h) > 0 {
			slices.Sort(h)
			if sorted := slices.Sorted(slices.Values(ks)); slices.Equal(h, sorted) {
				continue
			}
			stale = append(stale, e.id)
		}
		for _, k := range ks {
			keys, villages, households = append(keys, k), append(villages, e.village), append(households, e.id)
		}
	}
	for start := 0; start < len(stale); start += 500 {
		part := stale[start:min(start+500, len(stale))]
		if _, err := s.db.Exec(ctx, "DELETE FROM household_keys WHERE household_id IN ("+db.Placeholders(len(part))+")", part...); err != nil {
			return err
		}
	}
	if len(keys) == 0 {
		return nil
	}
	if s.db.Dialect == db.Postgres {
		// one statement text whatever the number of keys: pgx prepares and
		// caches every distinct text on every connection, and a multi-row
		// VALUES of each length (thousands of parameters) is another entry —
		// they grew the import's client by 70 MiB at 200,000 residents
		_, err := s.db.Exec(ctx, `INSERT INTO household_keys (key, village, household_id)
			SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[]) ON CONFLICT DO NOTHING`, keys, villages, households)
		return err
	}
	rows := make([][]any, len(keys))
	for i := range keys {
		rows[i] = []any{keys[i], villages[i], households[i]}
	}
	return insertRows(ctx, s.db, "household_keys", []string{"key", "village", "household_id"}, rows, ignoreDuplicates)
}

// villageScope is the condition on household_keys.village that holds for
// every household with a resident p may view: a grid's residents live in
// households of its village, so a range starting at a grid starts at its
// village instead. The residents themselves are then bounded exactly.
func villageScope(p *access.Principal) (string, []any) {
	rs := p.Ranges("resident.view")
	if len(rs) == 0 {
		return "1 = 0", nil
	}
	parts := make([]string, len(rs))
	args := make([]any, 0, 2*len(rs))
	for i, r := range rs {
		lo := r.Lo
		if ids.Level(lo) == 6 {
			lo -= lo % ids.Span(5)
		}
		parts[i] = "(k.village >= ? AND k.village <= ?)"
		args = append(args, lo, r.Hi)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// searchAddress finds the residents of the households of p's scope whose
// address contains q (as normalised), ranked as searchWhere ranks.
func (s *Service) searchAddress(ctx context.Context, p *access.Principal, q string, offset, limit int) (SearchResult, error) {
	nq := normAddress(q)
	rq := []rune(nq)
	if len(rq) == 0 {
		return SearchResult{Kind: "address"}, nil
	}
	windows := []string{string(rq[:min(len(rq), addrKeyLen)])}
	if len(rq) > addrKeyLen {
		windows = append(windows, string(rq[len(rq)-addrKeyLen:]))
	}
	var cands []int64
	complete := false
	for i, w := range windows {
		hs, all, err := s.addressPostings(ctx, p, w)
		if err != nil {
			return SearchResult{}, err
		}
		if i == 0 || (all && (!complete || len(hs) < len(cands))) {
			cands, complete = hs, all
		}
		if complete && len(cands) <= 50 {
			break // few enough to check: the other window would cost more than it saves
		}
	}
	if len(rq) > addrKeyLen && len(cands) > 0 {
		// the index matched a part of the text: check the whole
		var err error
		if cands, err = s.addressContains(ctx, cands, nq); err != nil {
			return SearchResult{}, err
		}
	}
	if len(cands) == 0 {
		return SearchResult{Kind: "address"}, nil
	}
	scope, args := p.Where("resident.view", "r.division")
	hargs := make([]any, 0, len(cands)+len(args))
	for _, id := range cands {
		hargs = append(hargs, id)
	}
	return s.searchWhere(ctx, "address", "r.household_id IN ("+db.Placeholders(len(cands))+") AND "+scope, append(hargs, args...), offset, limit)
}

// addressPostings reads the households of p's scope with an address key
// starting with w, in key order, at most addrCandidates of them; all
// reports whether that is every one.
func (s *Service) addressPostings(ctx context.Context, p *access.Principal, w string) (hs []int64, all bool, err error) {
	scope, sargs := villageScope(p)
	cond, args := "k.key >= ?", []any{w}
	if ub := pinyin.UpperBound(w); ub != "" {
		cond, args = cond+" AND k.key < ?", append(args, ub)
	}
	args = append(append(args, sargs...), addrCandidates+1)
	rows, err := s.DB.Query(ctx, "SELECT k.household_id FROM household_keys k WHERE "+cond+" AND "+scope+
		" ORDER BY k.key, k.village, k.household_id LIMIT ?", args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	seen := map[int64]bool{}
	n := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, err
		}
		if n++; n > addrCandidates {
			break
		}
		if !seen[id] {
			seen[id] = true
			hs = append(hs, id)
		}
	}
	return hs, n <= addrCandidates, rows.Err()
}

// addressContains keeps the households whose normalised address contains
// nq, in the order given.
func (s *Service) addressContains(ctx context.Context, hs []int64, nq string) ([]int64, error) {
	args := make([]any, len(hs))
	for i, id := range hs {
		args[i] = id
	}
	rows, err := s.DB.Query(ctx, "SELECT id, address FROM households WHERE id IN ("+db.Placeholders(len(hs))+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ok := map[int64]bool{}
	for rows.Next() {
		var id int64
		var a string
		if err := rows.Scan(&id, &a); err != nil {
			return nil, err
		}
		ok[id] = strings.Contains(normAddress(a), nq)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(hs, func(id int64) bool { return !ok[id] }), nil
}
