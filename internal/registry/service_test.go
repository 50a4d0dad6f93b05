package registry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/registry"
)

// TestRegisterValidation: every invalid field is reported with its stable
// code, all at once, and nothing is written.
func TestRegisterValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		male1990 := regID("320205", "19900101", "123") // 17th digit 3: male
		base := func() registry.ResidentInput {
			ri := regIn("张三丰", "", "", regVillageA)
			ri.IDNumber = male1990
			return ri
		}
		badCheck := male1990[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", male1990[17])+1)%11])
		for name, tc := range map[string]struct {
			mut  func(*registry.ResidentInput)
			want []string
		}{
			"bad check digit":        {func(ri *registry.ResidentInput) { ri.IDNumber = badCheck }, []string{"id_number:checksum"}},
			"ID born in the future":  {func(ri *registry.ResidentInput) { ri.IDNumber = regID("320205", "20990101", "123") }, []string{"id_number:future"}},
			"ID not a real date":     {func(ri *registry.ResidentInput) { ri.IDNumber = regID("320205", "19900230", "123") }, []string{"id_number:date"}},
			"unknown area code":      {func(ri *registry.ResidentInput) { ri.IDNumber = regID("990205", "19900101", "123") }, []string{"id_number:area"}},
			"ID too short":           {func(ri *registry.ResidentInput) { ri.IDNumber = male1990[:16] }, []string{"id_number:length"}},
			"ID with letters":        {func(ri *registry.ResidentInput) { ri.IDNumber = "32020519900101A23X" }, []string{"id_number:chars"}},
			"gender mismatch typed":  {func(ri *registry.ResidentInput) { ri.Gender = "女" }, []string{"gender:gender_mismatch"}},
			"gender mismatch F":      {func(ri *registry.ResidentInput) { ri.Gender = "F" }, []string{"gender:gender_mismatch"}},
			"birth mismatch typed":   {func(ri *registry.ResidentInput) { ri.Birth = "1990/1/2" }, []string{"birth:birth_mismatch"}},
			"typed birth in future":  {func(ri *registry.ResidentInput) { ri.IDNumber, ri.Gender, ri.Birth = "", "男", "2099-01-01" }, []string{"birth:date_invalid"}},
			"typed birth not a date": {func(ri *registry.ResidentInput) { ri.IDNumber, ri.Gender, ri.Birth = "", "男", "1990-13-01" }, []string{"birth:date_invalid"}},
			"no birth, no ID":        {func(ri *registry.ResidentInput) { ri.IDNumber, ri.Gender = "", "男" }, []string{"birth:required"}},
			"no gender, no ID":       {func(ri *registry.ResidentInput) { ri.IDNumber, ri.Birth = "", "1990-01-01" }, []string{"gender:required"}},
			"bad gender":             {func(ri *registry.ResidentInput) { ri.Gender = "X" }, []string{"gender:invalid"}},
			"bad phone":              {func(ri *registry.ResidentInput) { ri.Phone = "12345" }, []string{"phone:phone_invalid"}},
			"phone with letters":     {func(ri *registry.ResidentInput) { ri.Phone = "138abc45678" }, []string{"phone:phone_invalid"}},
			"name with digits":       {func(ri *registry.ResidentInput) { ri.Name = "张3丰" }, []string{"name:name_invalid"}},
			"name one character":     {func(ri *registry.ResidentInput) { ri.Name = "张" }, []string{"name:name_length"}},
			"name empty":             {func(ri *registry.ResidentInput) { ri.Name = "  " }, []string{"name:name_length"}},
			"no residency":           {func(ri *registry.ResidentInput) { ri.Residency = "" }, []string{"residency:required"}},
			"bad residency":          {func(ri *registry.ResidentInput) { ri.Residency = "tourist" }, []string{"residency:invalid"}},
			"bad relation":           {func(ri *registry.ResidentInput) { ri.Relation = "cousin" }, []string{"relation:invalid"}},
			"bad ethnicity":          {func(ri *registry.ResidentInput) { ri.Ethnicity = "火星族" }, []string{"ethnicity:invalid"}},
			"unknown tag":            {func(ri *registry.ResidentInput) { ri.Tags = map[string]string{"vip": ""} }, []string{"tags:tag_unknown"}},
			"bad grade":              {func(ri *registry.ResidentInput) { ri.Tags = map[string]string{"disabled": "五级"} }, []string{"tags:tag_grade_invalid"}},
			"grade on ungraded tag":  {func(ri *registry.ResidentInput) { ri.Tags = map[string]string{"dibao": "一级"} }, []string{"tags:tag_grade_invalid"}},
			"since in the future":    {func(ri *registry.ResidentInput) { ri.Since = "2099-01-01" }, []string{"since:date_invalid"}},
			"since before birth":     {func(ri *registry.ResidentInput) { ri.Since = "1989-12-31" }, []string{"since:date_invalid"}},
			"bad event":              {func(ri *registry.ResidentInput) { ri.Event = "death" }, []string{"event:invalid"}},
			"township, not village":  {func(ri *registry.ResidentInput) { ri.Division = regTownA }, []string{"division:division_not_village"}},
			"unknown village":        {func(ri *registry.ResidentInput) { ri.Division = regVillageA + 999 }, []string{"division:division_unknown"}},
			"everything at once": {func(ri *registry.ResidentInput) {
				ri.Name, ri.IDNumber, ri.Phone, ri.Gender, ri.Birth = "张3", badCheck, "12345", "男", "1990-01-01"
			}, []string{"name:name_invalid", "id_number:checksum", "phone:phone_invalid"}},
		} {
			ri := base()
			tc.mut(&ri)
			r, err := f.svc.Register(f.ctx, f.county, ri)
			if err == nil {
				t.Errorf("%s: registered %+v", name, r)
				continue
			}
			var es registry.Errors
			if !errors.As(err, &es) {
				t.Errorf("%s: %T %v, want registry.Errors", name, err, err)
				continue
			}
			got := regFieldErrors(t, err)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s: errors %q, want %q", name, got, w)
				}
			}
			if r.ID != 0 {
				t.Errorf("%s: returned id %d", name, r.ID)
			}
		}
		// The "everything at once" case reports exactly one error per bad field.
		ri := base()
		ri.Name, ri.Phone = "张3", "12345"
		_, err := f.svc.Register(f.ctx, f.county, ri)
		if got := regFieldErrors(t, err); len(got) != 2 {
			t.Fatalf("two bad fields gave %q", got)
		}
		// Errors carry field and code for the UI.
		var fe *registry.FieldError
		if es := (registry.Errors{{Field: "phone", Code: "phone_invalid"}}); !errors.As(error(es[0]), &fe) || fe.Error() != "phone: phone_invalid" {
			t.Fatalf("FieldError %v", fe)
		}
		// Nothing was written by any refused registration.
		for _, table := range []string{"residents", "person_ids", "residencies", "resident_events", "resident_keys", "resident_tags"} {
			if n := f.count("SELECT COUNT(*) FROM " + table); n != 0 {
				t.Fatalf("%s holds %d rows after refused registrations", table, n)
			}
		}
		if v := f.sum(registry.MetricPopulation, regCounty); v != 0 {
			t.Fatalf("population fact %d after refused registrations", v)
		}

		// The valid base registers; typed values that agree with the number
		// are accepted in any of their forms.
		ri = base()
		ri.Gender, ri.Birth, ri.Phone = "男", "1990年1月1日", "138 1234 5678"
		r := f.register(f.county, ri)
		if r.Gender != "M" || r.Birth != 19900101 || r.Name != "张三丰" || r.Residency != registry.Registered || r.Ethnicity != "汉族" ||
			r.Status != registry.Present || r.Division != regVillageA || r.County != regCounty || r.Since != registry.Today() {
			t.Fatalf("registered %+v", r)
		}
		// Without an ID number, gender and birth come from the form.
		r2 := f.register(f.county, regIn("李四", "女", "1985-07-09", regVillageA))
		if r2.Gender != "F" || r2.Birth != 19850709 || r2.IDMasked != "" {
			t.Fatalf("registered without ID: %+v", r2)
		}
	})
}

// TestRegisterOnePersonPerID: an ID number belongs to one record across the
// whole deployment, whatever the township, the form it is typed in (15
// digits, lower-case x, spaces) or the resident's status.
func TestRegisterOnePersonPerID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		// A 15-digit legacy number: 320205 YYMMDD SSS, upgraded to 18 digits.
		legacy := "320205850312" + "271"
		upgraded := regID("320205", "19850312", "271")
		ri := regIn("王小二", "", "", regVillageA)
		ri.IDNumber = legacy
		r := f.register(f.townA, ri)
		if r.Birth != 19850312 || r.Gender != "M" {
			t.Fatalf("legacy number: birth %d gender %s", r.Birth, r.Gender)
		}
		if got, err := f.svc.Reveal(f.ctx, f.townA, r.ID, "id_number"); err != nil || got != upgraded {
			t.Fatalf("legacy number stored as %q (%v), want upgraded %q", got, err, upgraded)
		}
		if r.IDMasked != upgraded[:6]+"********"+upgraded[14:] {
			t.Fatalf("masked %q", r.IDMasked)
		}

		// The same person again, in another township, typed as 18 digits:
		// refused with id_registered, and no second record.
		for _, again := range []string{upgraded, legacy, " " + upgraded[:6] + " " + upgraded[6:14] + " " + upgraded[14:] + " "} {
			ri2 := regIn("王小二", "", "", regVillageB)
			ri2.IDNumber = again
			_, err := f.svc.Register(f.ctx, f.admin, ri2)
			if got := regFieldErrors(t, err); !slices.Equal(got, []string{"id_number:id_registered"}) {
				t.Fatalf("second registration of %q: %q", again, got)
			}
		}
		// Also when the clerk of the other township cannot see the first
		// record: the number is still taken.
		ri3 := regIn("王晓二", "", "", regVillageB)
		ri3.IDNumber = upgraded
		_, err := f.svc.Register(f.ctx, f.townB, ri3)
		regWantFieldError(t, err, "id_number:id_registered")
		if n := f.count("SELECT COUNT(*) FROM residents"); n != 1 {
			t.Fatalf("%d resident rows, want 1", n)
		}
		if n := f.count("SELECT COUNT(*) FROM person_ids"); n != 1 {
			t.Fatalf("%d person_ids rows, want 1", n)
		}

		// Lower-case x is accepted and stored upper-case; the upper-case form
		// is then the same person.
		withX := regIDEnding("320205", "19920515", false, 'X')
		rx := regIn("李娜", "", "", regVillageA)
		rx.IDNumber = strings.ToLower(withX)
		x := f.register(f.townA, rx)
		if got, _ := f.svc.Reveal(f.ctx, f.townA, x.ID, "id_number"); got != withX {
			t.Fatalf("lower-case x stored as %q, want %q", got, withX)
		}
		if x.Gender != "F" || x.IDMasked != withX[:6]+"********"+withX[14:] || !strings.HasSuffix(x.IDMasked, "X") {
			t.Fatalf("resident %+v", x)
		}
		rx.IDNumber = withX
		_, err = f.svc.Register(f.ctx, f.townA, rx)
		regWantFieldError(t, err, "id_number:id_registered")

		// A resident who moved out keeps the number: registering it again is
		// refused too (one record per person, history kept).
		if _, err := f.svc.Move(f.ctx, f.townA, x.ID, registry.MoveInput{Kind: registry.EventMoveOut}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Register(f.ctx, f.townA, rx)
		regWantFieldError(t, err, "id_number:id_registered")

		// Update cannot take another person's number either.
		other := f.register(f.townA, regIn("赵明", "男", "1970-02-03", regVillageA))
		up := regIn("赵明", "", "", regVillageA)
		up.IDNumber = upgraded
		_, err = f.svc.Update(f.ctx, f.townA, other.ID, up)
		regWantFieldError(t, err, "id_number:id_registered")
		// but may give a resident without a number a free one, which then
		// counts as taken.
		free := regID("320205", "19700203", "111")
		up.IDNumber = free
		if _, err := f.svc.Update(f.ctx, f.townA, other.ID, up); err != nil {
			t.Fatal(err)
		}
		dup := regIn("赵明", "", "", regVillageB)
		dup.IDNumber = free
		_, err = f.svc.Register(f.ctx, f.admin, dup)
		regWantFieldError(t, err, "id_number:id_registered")
	})
}

// TestGetMasksAndReveal: screens get masked ID numbers and phones; the full
// value needs resident.reveal at the resident's division and every reveal
// is audited.
func TestGetMasksAndReveal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		idX := regIDEnding("320205", "19900101", true, 'X')
		ri := regIn("张三丰", "男", "", regVillageA)
		ri.IDNumber, ri.Phone = idX, "+86 138-1234-5678"
		r := f.register(f.townA, ri)

		got, err := f.svc.Get(f.ctx, f.village, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := idX[:6] + "********" + idX[14:]; got.IDMasked != want {
			t.Fatalf("IDMasked %q, want %q", got.IDMasked, want)
		}
		if !strings.HasPrefix(got.IDMasked, "320205********") || len(got.IDMasked) != 18 {
			t.Fatalf("IDMasked %q", got.IDMasked)
		}
		if got.PhoneMasked != "138****5678" {
			t.Fatalf("PhoneMasked %q", got.PhoneMasked)
		}
		if s := fmt.Sprintf("%+v", got); strings.Contains(s, idX) || strings.Contains(s, "13812345678") {
			t.Fatalf("Get leaks personal data: %s", s)
		}

		// A landline is masked keeping its area code and last 4 digits.
		ll := regIn("李四", "女", "1980-05-05", regVillageA)
		ll.Phone = "(0510) 8823 1234"
		lr := f.register(f.townA, ll)
		if lr.PhoneMasked != "0510-****1234" {
			t.Fatalf("landline masked %q", lr.PhoneMasked)
		}

		// village_staff sees the resident but may not reveal.
		if _, err := f.svc.Reveal(f.ctx, f.village, r.ID, "id_number"); !errors.Is(err, registry.ErrForbidden) {
			t.Fatalf("reveal without resident.reveal: %v", err)
		}
		// Another township does not even see it.
		if _, err := f.svc.Reveal(f.ctx, f.townB, r.ID, "id_number"); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("reveal outside scope: %v", err)
		}
		if rs := f.auditOf("resident", r.ID, audit.Reveal); len(rs) != 0 {
			t.Fatalf("refused reveals were audited as reveals: %+v", rs)
		}
		if rs := f.auditOf("resident", r.ID, audit.Denied); len(rs) != 1 || rs[0].Division != regVillageA {
			t.Fatalf("reveal outside scope: denied entries %+v", rs)
		}

		plain, err := f.svc.Reveal(f.ctx, f.townA, r.ID, "id_number")
		if err != nil || plain != idX {
			t.Fatalf("Reveal id_number = %q, %v", plain, err)
		}
		phone, err := f.svc.Reveal(f.ctx, f.townA, r.ID, "phone")
		if err != nil || phone != "13812345678" {
			t.Fatalf("Reveal phone = %q, %v", phone, err)
		}
		rs := f.auditOf("resident", r.ID, audit.Reveal)
		if len(rs) != 2 {
			t.Fatalf("%d reveal entries, want 2", len(rs))
		}
		// newest first: the phone, then the ID number
		for i, field := range []string{"phone", "id_number"} {
			e := rs[i]
			if e.Actor != "clerk" || e.ActorID != 7 || e.Division != regVillageA || !strings.Contains(e.Changes, `"`+field+`"`) {
				t.Fatalf("reveal entry %d: %+v", i, e)
			}
			if strings.Contains(e.Changes, idX) || strings.Contains(e.Changes, "13812345678") {
				t.Fatalf("the audit log holds the revealed value: %s", e.Changes)
			}
		}
		// The audit chain stays intact.
		if v, err := f.audit.Verify(f.ctx); err != nil || v.BrokenAt != 0 {
			t.Fatalf("audit chain: %+v %v", v, err)
		}

		if _, err := f.svc.Reveal(f.ctx, f.townA, r.ID, "name"); err == nil {
			t.Fatal("revealed an unknown field")
		}
		if _, err := f.svc.Reveal(f.ctx, f.townA, r.ID+1000, "id_number"); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("reveal of a missing resident: %v", err)
		}
		// A resident without a phone reveals an empty phone.
		noPhone := f.register(f.townA, regIn("赵明", "男", "1970-02-03", regVillageA))
		if v, err := f.svc.Reveal(f.ctx, f.townA, noPhone.ID, "phone"); err != nil || v != "" {
			t.Fatalf("reveal of no phone: %q %v", v, err)
		}
	})
}

// TestPersonalDataEncryptedAtRest: the residents row holds no plaintext ID
// number or phone; the ciphertexts open with the keys; lookups are keyed.
func TestPersonalDataEncryptedAtRest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		id := regID("320205", "19900101", "123")
		ri := regIn("张三丰", "", "", regVillageA)
		ri.IDNumber, ri.Phone = id, "13812345678"
		r := f.register(f.townA, ri)

		rows, err := d.Query(f.ctx, "SELECT * FROM residents WHERE id = ?", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if !rows.Next() {
			t.Fatal("no row")
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		row := map[string]string{}
		for i, c := range cols {
			switch v := vals[i].(type) {
			case []byte:
				row[c] = string(v)
			default:
				row[c] = fmt.Sprint(v)
			}
			if strings.Contains(row[c], id) || strings.Contains(row[c], "13812345678") || strings.Contains(row[c], id[10:]) {
				t.Errorf("column %s holds plaintext: %q", c, row[c])
			}
		}
		if p, err := f.keys.Decrypt(row["id_enc"]); err != nil || p != id {
			t.Fatalf("id_enc opens to %q, %v", p, err)
		}
		if p, err := f.keys.Decrypt(row["phone_enc"]); err != nil || p != "13812345678" {
			t.Fatalf("phone_enc opens to %q, %v", p, err)
		}
		if row["id_lookup"] != f.keys.Lookup(id) {
			t.Fatal("id_lookup is not the keyed hash of the number")
		}
		for _, c := range []string{"id_tail4", "id_tail6", "phone_tail4", "phone_lookup"} {
			if len(row[c]) != 64 {
				t.Errorf("%s = %q: want a keyed hash", c, row[c])
			}
		}
		if row["id_tail4"] == row["phone_tail4"] {
			t.Error("ID and phone tails share a hash domain")
		}
		// The search keys hold the name, never numbers.
		var keys []string
		krows, _ := d.Query(f.ctx, "SELECT key FROM resident_keys WHERE resident_id = ?", r.ID)
		for krows.Next() {
			var k string
			_ = krows.Scan(&k)
			keys = append(keys, k)
		}
		krows.Close()
		if !slices.Contains(keys, "张三丰") || !slices.Contains(keys, "zsf") {
			t.Fatalf("search keys %q", keys)
		}
		// The audit entry of the registration holds masked values only.
		es := f.auditOf("resident", r.ID, audit.Create)
		if len(es) != 1 || strings.Contains(es[0].Changes, id) || strings.Contains(es[0].Changes, "13812345678") ||
			!strings.Contains(es[0].Changes, r.IDMasked) {
			t.Fatalf("create entry %+v", es)
		}
	})
}

// TestSpecialGroupTags: restricted tags (DG-17) are invisible without
// resident.special and cannot be set, removed or guessed without it.
func TestSpecialGroupTags(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		h := f.household(f.townA, registry.HouseholdInput{Division: regVillageA, Address: "门楼路1号"})
		ri := regIn("张三丰", "男", "1960-01-01", regVillageA)
		ri.HouseholdID = h.ID
		ri.Tags = map[string]string{"community_correction": "", "dibao": ""}

		// Without resident.special the restricted tag is "unknown", exactly
		// like a tag that does not exist.
		for _, p := range []*access.Principal{f.townA, f.village, f.county} {
			_, err := f.svc.Register(f.ctx, p, ri)
			if got := regFieldErrors(t, err); !slices.Equal(got, []string{"tags:tag_unknown"}) {
				t.Fatalf("%s: restricted tag without permission: %q", p.Username, got)
			}
		}
		if n := f.count("SELECT COUNT(*) FROM residents"); n != 0 {
			t.Fatal("resident written although the tag was refused")
		}
		// The special groups officer may see but not register.
		if _, err := f.svc.Register(f.ctx, f.officer, ri); !errors.Is(err, registry.ErrForbidden) {
			t.Fatalf("officer without resident.manage: %v", err)
		}

		r := f.register(f.special, ri)

		tagKeys := func(ts []registry.TagValue) []string {
			var out []string
			for _, t := range ts {
				out = append(out, t.Tag)
			}
			return out
		}
		for _, tc := range []struct {
			p    *access.Principal
			want []string
		}{
			{f.townA, []string{"dibao"}},
			{f.village, []string{"dibao"}},
			{f.county, []string{"dibao"}},
			{f.special, []string{"community_correction", "dibao"}},
			{f.officer, []string{"community_correction", "dibao"}},
			{f.admin, []string{"community_correction", "dibao"}},
		} {
			got, err := f.svc.Get(f.ctx, tc.p, r.ID)
			if err != nil {
				t.Fatalf("%s: %v", tc.p.Username, err)
			}
			if !slices.Equal(tagKeys(got.Tags), tc.want) {
				t.Errorf("%s sees tags %q, want %q", tc.p.Username, tagKeys(got.Tags), tc.want)
			}
		}
		// The household page filters its members' tags the same way.
		_, members, err := f.svc.Household(f.ctx, f.townA, h.ID)
		if err != nil || len(members) != 1 || !slices.Equal(tagKeys(members[0].Tags), []string{"dibao"}) {
			t.Fatalf("household members %+v %v", members, err)
		}
		_, members, _ = f.svc.Household(f.ctx, f.special, h.ID)
		if len(members) != 1 || len(members[0].Tags) != 2 {
			t.Fatalf("household members for special: %+v", members)
		}
		// The tag list offered in forms.
		var offered []string
		for _, tg := range f.svc.Tags(f.townA, regVillageA) {
			offered = append(offered, tg.Key)
			if tg.Restricted {
				t.Errorf("restricted tag %s offered without permission", tg.Key)
			}
		}
		if !slices.Contains(offered, "dibao") || !slices.Contains(offered, "disabled") {
			t.Fatalf("offered tags %q", offered)
		}
		var special []string
		for _, tg := range f.svc.Tags(f.special, regVillageA) {
			if tg.Restricted {
				special = append(special, tg.Key)
			}
		}
		if !slices.Contains(special, "community_correction") || !slices.Contains(special, "drug_rehab") {
			t.Fatalf("restricted tags offered to special: %q", special)
		}

		// SetTag: restricted tags cannot be put on or taken off without the
		// permission (and the answer does not reveal that the resident has one).
		err = f.svc.SetTag(f.ctx, f.townA, r.ID, "drug_rehab", "", true)
		regWantFieldError(t, err, "tags:tag_unknown")
		err = f.svc.SetTag(f.ctx, f.townA, r.ID, "community_correction", "", false)
		regWantFieldError(t, err, "tags:tag_unknown")
		if got, _ := f.svc.Get(f.ctx, f.special, r.ID); !slices.Contains(tagKeys(got.Tags), "community_correction") {
			t.Fatal("restricted tag removed without permission")
		}
		if err := f.svc.SetTag(f.ctx, f.special, r.ID, "drug_rehab", "", true); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetTag(f.ctx, f.special, r.ID, "community_correction", "", false); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(f.ctx, f.special, r.ID); !slices.Equal(tagKeys(got.Tags), []string{"dibao", "drug_rehab"}) {
			t.Fatalf("special sees %q", tagKeys(got.Tags))
		}
		if got, _ := f.svc.Get(f.ctx, f.townA, r.ID); !slices.Equal(tagKeys(got.Tags), []string{"dibao"}) {
			t.Fatalf("townA sees %q", tagKeys(got.Tags))
		}
		// Ordinary tags with grades.
		if err := f.svc.SetTag(f.ctx, f.townA, r.ID, "disabled", "二级", true); err != nil {
			t.Fatal(err)
		}
		regWantFieldError(t, f.svc.SetTag(f.ctx, f.townA, r.ID, "disabled", "五级", true), "tags:tag_grade_invalid")
		if err := f.svc.SetTag(f.ctx, f.townA, r.ID, "disabled", "一级", true); err != nil { // regrade
			t.Fatal(err)
		}
		got, _ := f.svc.Get(f.ctx, f.townA, r.ID)
		if !slices.Equal(tagKeys(got.Tags), []string{"dibao", "disabled"}) || got.Tags[1].Grade != "一级" {
			t.Fatalf("tags %+v", got.Tags)
		}
		if v := f.sum(registry.MetricTag("disabled"), regCounty); v != 1 {
			t.Fatalf("regrading counted the tag twice: %d", v)
		}

		// The history does not disclose restricted tags either.
		evs, err := f.svc.History(f.ctx, f.townA, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if strings.Contains(e.Detail, "drug_rehab") || strings.Contains(e.Detail, "community_correction") {
				t.Fatalf("history shows a restricted tag to a principal without resident.special: %+v", e)
			}
		}
		evs, _ = f.svc.History(f.ctx, f.special, r.ID)
		var details []string
		for _, e := range evs {
			if e.Kind == registry.EventTagOn || e.Kind == registry.EventTagOff {
				details = append(details, e.Kind+":"+e.Detail)
			}
		}
		if !slices.Contains(details, "tag_on:drug_rehab") || !slices.Contains(details, "tag_off:community_correction") {
			t.Fatalf("special's history %q", details)
		}
	})
}

// TestTransferKeepsOneRecord: moving a resident to a household of another
// township keeps one record, closes and opens stints, moves the facts and
// the search keys, and writes events in order; the population of a past
// date still counts the resident where they lived then.
func TestTransferKeepsOneRecord(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		hA := f.household(f.townA, registry.HouseholdInput{Division: regGridA1, Number: "A-001", Address: "东亭街道门楼路12号"})
		hB := f.household(f.townB, registry.HouseholdInput{Division: regVillageB, Number: "B-001", Address: "安镇街道吼山路3号"})
		if hA.Village != regVillageA || hA.Grid != regGridA1 || hA.Division() != regGridA1 || hB.Division() != regVillageB {
			t.Fatalf("households %+v %+v", hA, hB)
		}
		id := regID("320205", "19800808", "135")
		ri := regIn("曾小明", "", "", 0)
		ri.HouseholdID, ri.IDNumber, ri.Since, ri.Relation = hA.ID, id, "2020-03-15", "户主"
		r := f.register(f.townA, ri)
		if r.Division != regGridA1 || r.HouseholdID != hA.ID || r.Since != 20200315 || r.Relation != "head" {
			t.Fatalf("registered %+v", r)
		}

		// A township clerk cannot move someone into another township.
		mv := registry.MoveInput{Kind: registry.EventTransfer, ToHousehold: hB.ID, Effective: "2023-06-01"}
		if _, err := f.svc.Move(f.ctx, f.townA, r.ID, mv); !errors.Is(err, db.ErrNotFound) && !errors.Is(err, registry.ErrForbidden) {
			t.Fatalf("transfer out of the clerk's range: %v", err)
		}
		if got, _ := f.svc.Get(f.ctx, f.townA, r.ID); got.Division != regGridA1 {
			t.Fatal("refused transfer changed the resident")
		}
		// Bad moves.
		for name, c := range map[string]struct {
			in   registry.MoveInput
			want string
		}{
			"before since":      {registry.MoveInput{Kind: registry.EventTransfer, ToHousehold: hB.ID, Effective: "2020-03-14"}, "effective:date_invalid"},
			"in the future":     {registry.MoveInput{Kind: registry.EventTransfer, ToHousehold: hB.ID, Effective: "2099-01-01"}, "effective:date_invalid"},
			"unknown household": {registry.MoveInput{Kind: registry.EventTransfer, ToHousehold: hB.ID + 100}, "to_household:household_unknown"},
			"to a township":     {registry.MoveInput{Kind: registry.EventTransfer, ToDivision: regTownB}, "division:division_not_village"},
			"nowhere":           {registry.MoveInput{Kind: registry.EventTransfer}, "division:division_unknown"},
			"unknown kind":      {registry.MoveInput{Kind: "emigrate"}, "kind:invalid"},
		} {
			_, err := f.svc.Move(f.ctx, f.county, r.ID, c.in)
			if err == nil {
				t.Fatalf("%s: accepted", name)
			}
			if got := regFieldErrors(t, err); !slices.Contains(got, c.want) {
				t.Fatalf("%s: %q, want %q", name, got, c.want)
			}
		}

		// A tag put on today, before the (backdated) transfer is recorded.
		if err := f.svc.SetTag(f.ctx, f.townA, r.ID, "dibao", "", true); err != nil {
			t.Fatal(err)
		}
		mv.Note = "随子女迁居"
		moved, err := f.svc.Move(f.ctx, f.county, r.ID, mv)
		if err != nil {
			t.Fatal(err)
		}
		if moved.ID != r.ID || moved.Division != regVillageB || moved.HouseholdID != hB.ID || moved.Status != registry.Present {
			t.Fatalf("moved %+v", moved)
		}
		// One record: the same row, the same ID number.
		if n := f.count("SELECT COUNT(*) FROM residents"); n != 1 {
			t.Fatalf("%d resident rows after a transfer", n)
		}
		if n := f.count("SELECT COUNT(*) FROM person_ids WHERE resident_id = ?", r.ID); n != 1 {
			t.Fatalf("person_ids rows %d", n)
		}
		got, err := f.svc.Get(f.ctx, f.townB, r.ID)
		if err != nil || got.Division != regVillageB || got.County != regCounty || got.Since != 20230601 || got.IDMasked != r.IDMasked {
			t.Fatalf("after transfer: %+v %v", got, err)
		}
		if _, err := f.svc.Get(f.ctx, f.townA, r.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("old township still sees the resident: %v", err)
		}
		_, members, _ := f.svc.Household(f.ctx, f.townB, hB.ID)
		if len(members) != 1 || members[0].ID != r.ID {
			t.Fatalf("new household members %+v", members)
		}
		_, members, _ = f.svc.Household(f.ctx, f.townA, hA.ID)
		if len(members) != 0 {
			t.Fatalf("old household still lists %+v", members)
		}

		// History in order of effective date, with divisions and recorder.
		evs, err := f.svc.History(f.ctx, f.townB, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		lo0, hi0 := ids.Subtree(regTownA)
		// in order of effective date, not of recording: the tag put on today
		// comes after the transfer recorded later but effective in 2023
		if len(evs) != 3 {
			t.Fatalf("events %+v", evs)
		}
		if e := evs[0]; e.Kind != registry.EventRegister || e.Effective != 20200315 || e.ToDivision != regGridA1 || e.RecordedBy != "clerk" {
			t.Fatalf("first event %+v", e)
		}
		if e := evs[1]; e.Kind != registry.EventTransfer || e.Effective != 20230601 || e.FromDivision != regGridA1 || e.ToDivision != regVillageB || e.RecordedBy != "clerk" {
			t.Fatalf("second event %+v", e)
		}
		if e := evs[2]; e.Kind != registry.EventTagOn || e.Effective != registry.Today() || e.Detail != "dibao" {
			t.Fatalf("third event %+v", e)
		}
		// The tag facts: never negative in any month at the old place, and
		// counted at the new place now.
		series, err := facts.Series(f.ctx, d, registry.MetricTag("dibao"), lo0, hi0, 0, 999999)
		if err != nil {
			t.Fatal(err)
		}
		var stock int64
		for p := 200001; p <= registry.Today()/100; p++ {
			if p%100 == 13 {
				p += 88
			}
			stock += series[p]
			if stock < 0 {
				t.Fatalf("dibao at township A in %d: %d", p, stock)
			}
		}
		if a, b := f.sum(registry.MetricTag("dibao"), regTownA), f.sum(registry.MetricTag("dibao"), regTownB); a != 0 || b != 1 {
			t.Fatalf("dibao facts now: A %d B %d", a, b)
		}
		if _, err := f.svc.History(f.ctx, f.townA, r.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("history outside scope: %v", err)
		}

		// Population on past dates, from the stints.
		pop := func(code int64, day int) int64 {
			t.Helper()
			m, err := f.svc.Population(f.ctx, f.county, code, day)
			if err != nil {
				t.Fatal(err)
			}
			return m[""]
		}
		for _, c := range []struct {
			day      int
			a, b, cn int64
		}{
			{20200314, 0, 0, 0}, // before registration
			{20200315, 1, 0, 1}, // the day of registration
			{20220101, 1, 0, 1},
			{20230531, 1, 0, 1}, // the day before the transfer
			{20230601, 0, 1, 1}, // the transfer's effective day counts at the new place
			{20240101, 0, 1, 1},
			{registry.Today(), 0, 1, 1},
		} {
			if a, b, cn := pop(regTownA, c.day), pop(regTownB, c.day), pop(regCounty, c.day); a != c.a || b != c.b || cn != c.cn {
				t.Errorf("population on %d: A %d B %d county %d, want %d %d %d", c.day, a, b, cn, c.a, c.b, c.cn)
			}
		}
		if m, _ := f.svc.Population(f.ctx, f.county, regGridA1, 20220101); m[registry.Registered] != 1 {
			t.Fatalf("grid population by residency %v", m)
		}
		// Facts: the stock at the end of May 2023 and now.
		lo, hi := ids.Subtree(regTownA)
		if v, _ := facts.Sum(f.ctx, d, registry.MetricPopulation, lo, hi, 0, 202305); v != 1 {
			t.Fatalf("township A population fact to 2023-05: %d", v)
		}
		if a, b := f.sum(registry.MetricPopulation, regTownA), f.sum(registry.MetricPopulation, regTownB); a != 0 || b != 1 {
			t.Fatalf("population facts now: A %d B %d", a, b)
		}
		if v := f.sum(registry.MetricGender("M"), regTownB); v != 1 {
			t.Fatalf("gender fact followed? %d", v)
		}
		// Search keys follow the resident.
		if res, _ := f.svc.Search(f.ctx, f.townB, "曾小明", 0, 10); len(res.Hits) != 1 {
			t.Fatalf("new township cannot find the resident: %+v", res)
		}
		if res, _ := f.svc.Search(f.ctx, f.townA, "曾小明", 0, 10); len(res.Hits) != 0 {
			t.Fatalf("old township still finds the resident: %+v", res)
		}
		// Audit of the move.
		if es := f.auditOf("resident", r.ID, audit.Update); len(es) != 2 || !strings.Contains(es[0].Changes, `"transfer"`) ||
			!strings.Contains(es[0].Changes, "20230601") || es[0].Division != regVillageB {
			t.Fatalf("move audit %+v", es)
		}

		// A transfer inside the township by division (no household).
		r2 := f.register(f.townA, regIn("单田芳", "男", "1950-01-01", regGridA1))
		moved, err = f.svc.Move(f.ctx, f.townA, r2.ID, registry.MoveInput{Kind: registry.EventTransfer, ToDivision: regGridA2})
		if err != nil || moved.Division != regGridA2 || moved.HouseholdID != 0 {
			t.Fatalf("transfer to grid 2: %+v %v", moved, err)
		}
		if g1, g2 := f.sum(registry.MetricPopulation, regGridA1), f.sum(registry.MetricPopulation, regGridA2); g1 != 0 || g2 != 1 {
			t.Fatalf("grid facts %d %d", g1, g2)
		}
	})
}

// TestMoveOutAndDeath: the record stays (status changes), the population
// drops from the effective date, and no further change is accepted.
func TestMoveOutAndDeath(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		ri := regIn("解缙", "男", "1969-11-11", regVillageA)
		ri.Since, ri.Tags = "2021-01-01", map[string]string{"dibao": ""}
		r := f.register(f.townA, ri)
		ri2 := regIn("仇英", "女", "1930-05-05", regVillageA)
		ri2.Since, ri2.Residency = "2021-01-01", "流动人口"
		r2 := f.register(f.townA, ri2)
		if r2.Residency != registry.Migrant {
			t.Fatalf("residency %q", r2.Residency)
		}
		out, err := f.svc.Move(f.ctx, f.townA, r.ID, registry.MoveInput{Kind: registry.EventMoveOut, Effective: "2024-02-10"})
		if err != nil || out.Status != registry.MovedOut {
			t.Fatalf("move out: %+v %v", out, err)
		}
		dead, err := f.svc.Move(f.ctx, f.townA, r2.ID, registry.MoveInput{Kind: registry.EventDeath, Effective: "2024-03-01", Note: "病故"})
		if err != nil || dead.Status != registry.Deceased {
			t.Fatalf("death: %+v %v", dead, err)
		}
		for _, c := range []struct {
			day           int
			all, reg, mig int64
		}{
			{20231231, 2, 1, 1},
			{20240209, 2, 1, 1},
			{20240210, 1, 0, 1},
			{20240229, 1, 0, 1},
			{20240301, 0, 0, 0},
		} {
			m, err := f.svc.Population(f.ctx, f.townA, regTownA, c.day)
			if err != nil {
				t.Fatal(err)
			}
			if m[""] != c.all || m[registry.Registered] != c.reg || m[registry.Migrant] != c.mig {
				t.Errorf("population on %d: %v, want %d (%d registered, %d migrant)", c.day, m, c.all, c.reg, c.mig)
			}
		}
		// The records are kept, with their status.
		if got, err := f.svc.Get(f.ctx, f.townA, r.ID); err != nil || got.Status != registry.MovedOut {
			t.Fatalf("moved-out resident %+v %v", got, err)
		}
		if n := f.count("SELECT COUNT(*) FROM residents"); n != 2 {
			t.Fatalf("%d rows", n)
		}
		for _, v := range []struct {
			metric string
			want   int64
		}{
			{registry.MetricPopulation, 0}, {registry.MetricResidency(registry.Registered), 0}, {registry.MetricResidency(registry.Migrant), 0},
			{registry.MetricGender("M"), 0}, {registry.MetricGender("F"), 0}, {registry.MetricBorn(1969), 0}, {registry.MetricTag("dibao"), 0},
		} {
			if got := f.sum(v.metric, regCounty); got != v.want {
				t.Errorf("%s = %d, want %d", v.metric, got, v.want)
			}
		}
		// The stock in January 2024 still counts both.
		lo, hi := ids.Subtree(regCounty)
		if v, _ := facts.Sum(f.ctx, d, registry.MetricPopulation, lo, hi, 0, 202401); v != 2 {
			t.Fatalf("population fact to 2024-01: %d", v)
		}
		// No more changes to someone who is gone.
		for _, mk := range []string{registry.EventMoveOut, registry.EventDeath, registry.EventTransfer} {
			_, err := f.svc.Move(f.ctx, f.townA, r.ID, registry.MoveInput{Kind: mk, ToDivision: regVillageC})
			regWantFieldError(t, err, "kind:not_present")
		}
		regWantFieldError(t, f.svc.SetTag(f.ctx, f.townA, r.ID, "tekun", "", true), "tags:not_present")
		evs, _ := f.svc.History(f.ctx, f.townA, r2.ID)
		if len(evs) != 2 || evs[1].Kind != registry.EventDeath || evs[1].Effective != 20240301 || evs[1].Detail != "病故" || evs[1].FromDivision != regVillageA {
			t.Fatalf("death history %+v", evs)
		}
		// A moved-out resident still ranks after present namesakes in search.
		f.register(f.townA, regIn("解缙", "男", "1990-01-01", regVillageC))
		res, err := f.svc.Search(f.ctx, f.townA, "解缙", 0, 10)
		if err != nil || len(res.Hits) != 2 || res.Hits[0].Status != registry.Present || res.Hits[1].ID != r.ID {
			t.Fatalf("search with a moved-out namesake: %+v %v", res.Hits, err)
		}
	})
}

// TestFactsKeptCurrent: the population facts of every subtree equal what
// was registered, through registrations, tag changes, updates, transfers
// and departures, and agree with the stints.
func TestFactsKeptCurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		type person struct {
			name, gender, birth, residency string
			division                       int64
			tags                           map[string]string
		}
		people := []person{
			{"张三丰", "男", "1950-01-01", "户籍", regVillageA, map[string]string{"elderly_alone": ""}},
			{"张无忌", "男", "1990-06-01", "户籍", regGridA1, nil},
			{"赵敏", "女", "1991-07-01", "流动", regGridA2, map[string]string{"dibao": ""}},
			{"周芷若", "女", "1991-08-01", "非户籍常住", regVillageC, nil},
			{"殷离", "女", "1950-09-01", "户籍", regVillageB, map[string]string{"dibao": "", "disabled": "三级"}},
		}
		var ids_ []int64
		for _, p := range people {
			ri := regIn(p.name, p.gender, p.birth, p.division)
			ri.Residency, ri.Tags = p.residency, p.tags
			ids_ = append(ids_, f.register(f.county, ri).ID)
		}
		check := func(step string, want map[int64]map[string]int64) {
			t.Helper()
			for code, metrics := range want {
				for m, v := range metrics {
					if got := f.sum(m, code); got != v {
						t.Errorf("%s: %s at %d = %d, want %d", step, m, code, got, v)
					}
				}
				// the facts agree with the stints
				pop, err := f.svc.Population(f.ctx, f.admin, code, registry.Today())
				if err != nil {
					t.Fatal(err)
				}
				for _, res := range registry.Residencies {
					if got := f.sum(registry.MetricResidency(res), code); got != pop[res] {
						t.Errorf("%s: %s at %d: facts %d, stints %d", step, res, code, got, pop[res])
					}
				}
				if got := f.sum(registry.MetricPopulation, code); got != pop[""] {
					t.Errorf("%s: population at %d: facts %d, stints %d", step, code, got, pop[""])
				}
			}
		}
		check("registered", map[int64]map[string]int64{
			regCounty: {registry.MetricPopulation: 5, registry.MetricGender("M"): 2, registry.MetricGender("F"): 3,
				registry.MetricBorn(1950): 2, registry.MetricBorn(1991): 2, registry.MetricTag("dibao"): 2, registry.MetricTag("disabled"): 1},
			regTownA: {registry.MetricPopulation: 4, registry.MetricResidency(registry.Registered): 2, registry.MetricResidency(registry.Migrant): 1,
				registry.MetricResidency(registry.NonRegistered): 1, registry.MetricTag("dibao"): 1, registry.MetricTag("elderly_alone"): 1},
			regTownB:    {registry.MetricPopulation: 1, registry.MetricGender("F"): 1, registry.MetricTag("dibao"): 1},
			regVillageA: {registry.MetricPopulation: 3}, // its own and its grids'
			regGridA1:   {registry.MetricPopulation: 1},
			regVillageC: {registry.MetricPopulation: 1},
		})
		// A parent equals the sum of its children at every level.
		lo, hi := ids.Subtree(regCounty)
		kids, err := facts.RollUp(f.ctx, d, registry.MetricPopulation, lo, hi, ids.Span(4), 0, 999999)
		if err != nil || kids[regTownA] != 4 || kids[regTownB] != 1 || len(kids) != 2 {
			t.Fatalf("roll-up by township %v %v", kids, err)
		}

		// Tags on and off.
		if err := f.svc.SetTag(f.ctx, f.townA, ids_[1], "dibao", "", true); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetTag(f.ctx, f.townA, ids_[2], "dibao", "", false); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetTag(f.ctx, f.townA, ids_[2], "dibao", "", false); err != nil { // already off: no change
			t.Fatal(err)
		}
		if err := f.svc.SetTag(f.ctx, f.townA, ids_[1], "dibao", "", true); err != nil { // already on: no change
			t.Fatal(err)
		}
		check("tags", map[int64]map[string]int64{
			regCounty: {registry.MetricTag("dibao"): 2},
			regGridA1: {registry.MetricTag("dibao"): 1},
			regGridA2: {registry.MetricTag("dibao"): 0},
		})

		// Update: the migrant settles (registered); a birth date is corrected
		// across a year.
		up := regIn("赵敏", "女", "1991-07-01", 0)
		up.Residency = "户籍"
		if _, err := f.svc.Update(f.ctx, f.townA, ids_[2], up); err != nil {
			t.Fatal(err)
		}
		up = regIn("周芷若", "女", "1992-01-02", 0)
		up.Residency = "非户籍常住"
		if _, err := f.svc.Update(f.ctx, f.townA, ids_[3], up); err != nil {
			t.Fatal(err)
		}
		check("updated", map[int64]map[string]int64{
			regCounty: {registry.MetricPopulation: 5, registry.MetricBorn(1991): 1, registry.MetricBorn(1992): 1},
			regTownA: {registry.MetricPopulation: 4, registry.MetricResidency(registry.Registered): 3, registry.MetricResidency(registry.Migrant): 0,
				registry.MetricResidency(registry.NonRegistered): 1},
		})

		// Transfer across townships and a departure.
		if _, err := f.svc.Move(f.ctx, f.county, ids_[0], registry.MoveInput{Kind: registry.EventTransfer, ToDivision: regVillageB}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Move(f.ctx, f.townA, ids_[3], registry.MoveInput{Kind: registry.EventMoveOut}); err != nil {
			t.Fatal(err)
		}
		check("moved", map[int64]map[string]int64{
			regCounty: {registry.MetricPopulation: 4, registry.MetricTag("elderly_alone"): 1, registry.MetricBorn(1992): 0},
			regTownA:  {registry.MetricPopulation: 2, registry.MetricTag("elderly_alone"): 0, registry.MetricGender("M"): 1},
			regTownB:  {registry.MetricPopulation: 2, registry.MetricTag("elderly_alone"): 1, registry.MetricBorn(1950): 2},
		})
	})
}

// TestUpdateResident: personal data changes are validated, audited as
// events, and re-key the search index.
func TestUpdateResident(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		ri := regIn("张三", "男", "1980-01-01", regVillageA)
		ri.Phone = "13900001111"
		r := f.register(f.townA, ri)
		up := regIn("张三丰", "男", "1980-01-01", regVillageB) // Division is ignored: Update does not move
		up.Phone, up.Education = "13900002222", "本科"
		got, err := f.svc.Update(f.ctx, f.townA, r.ID, up)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "张三丰" || got.Division != regVillageA || got.Education != "bachelor" || got.PhoneMasked != "139****2222" {
			t.Fatalf("updated %+v", got)
		}
		if res, _ := f.svc.Search(f.ctx, f.townA, "zsf", 0, 10); len(res.Hits) != 1 {
			t.Fatal("new name not searchable")
		}
		if res, _ := f.svc.Search(f.ctx, f.townA, "13900002222", 0, 10); len(res.Hits) != 1 {
			t.Fatal("new phone not searchable")
		}
		if res, _ := f.svc.Search(f.ctx, f.townA, "13900001111", 0, 10); len(res.Hits) != 0 {
			t.Fatal("old phone still searchable")
		}
		evs, _ := f.svc.History(f.ctx, f.townA, r.ID)
		if len(evs) != 2 || evs[1].Kind != registry.EventUpdate || evs[1].Detail != "name,phone,education" {
			t.Fatalf("events %+v", evs)
		}
		es := f.auditOf("resident", r.ID, audit.Update)
		if len(es) != 1 || strings.Contains(es[0].Changes, "13900002222") || !strings.Contains(es[0].Changes, "139****2222") {
			t.Fatalf("update audit %+v", es)
		}
		// Nothing changed: no event, no audit entry.
		if _, err := f.svc.Update(f.ctx, f.townA, r.ID, up); err != nil {
			t.Fatal(err)
		}
		if evs, _ := f.svc.History(f.ctx, f.townA, r.ID); len(evs) != 2 {
			t.Fatalf("no-op update wrote an event: %+v", evs)
		}
		// Invalid input is refused whole.
		bad := up
		bad.Name, bad.Phone = "张", "1"
		_, err = f.svc.Update(f.ctx, f.townA, r.ID, bad)
		if got := regFieldErrors(t, err); !slices.Contains(got, "name:name_length") || !slices.Contains(got, "phone:phone_invalid") {
			t.Fatalf("update errors %q", got)
		}
		if g, _ := f.svc.Get(f.ctx, f.townA, r.ID); g.Name != "张三丰" || g.PhoneMasked != "139****2222" {
			t.Fatalf("refused update changed %+v", g)
		}
		// A migrant who settles: the population by residency on a past day
		// still shows a migrant, today a registered resident, and the facts
		// agree with the stints.
		mi := regIn("赵敏", "女", "1991-07-01", regVillageC)
		mi.Residency, mi.Since = "流动人口", "2020-01-01"
		m := f.register(f.townA, mi)
		mi.Residency = "户籍人口"
		if _, err := f.svc.Update(f.ctx, f.townA, m.ID, mi); err != nil {
			t.Fatal(err)
		}
		if pop, _ := f.svc.Population(f.ctx, f.townA, regVillageC, 20230101); pop[registry.Migrant] != 1 || pop[registry.Registered] != 0 {
			t.Fatalf("population by residency in 2023: %v", pop)
		}
		pop, _ := f.svc.Population(f.ctx, f.townA, regVillageC, registry.Today())
		if pop[registry.Migrant] != 0 || pop[registry.Registered] != 1 || pop[""] != 1 {
			t.Fatalf("population by residency today: %v", pop)
		}
		if f.sum(registry.MetricResidency(registry.Registered), regVillageC) != 1 || f.sum(registry.MetricResidency(registry.Migrant), regVillageC) != 0 {
			t.Fatal("residency facts did not follow")
		}
		if g, _ := f.svc.Get(f.ctx, f.townA, m.ID); g.Since != 20200101 {
			t.Fatalf("a residency change moved the date of moving in: %d", g.Since)
		}
		// The resident can still be transferred afterwards, once.
		if _, err := f.svc.Move(f.ctx, f.townA, m.ID, registry.MoveInput{Kind: registry.EventTransfer, ToDivision: regVillageA}); err != nil {
			t.Fatal(err)
		}
		if n := f.count("SELECT COUNT(*) FROM residencies WHERE resident_id = ? AND until = 0", m.ID); n != 1 {
			t.Fatalf("%d open stints", n)
		}
		if pop, _ := f.svc.Population(f.ctx, f.townA, regTownA, registry.Today()); pop[registry.Registered] != 2 || pop[""] != 2 {
			t.Fatalf("population after the transfer %v", pop)
		}
		// grid workers see but may not change.
		rg := f.register(f.townA, regIn("李四", "男", "1980-01-01", regGridA1))
		if _, err := f.svc.Get(f.ctx, f.grid, rg.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Update(f.ctx, f.grid, rg.ID, regIn("李四四", "男", "1980-01-01", 0)); !errors.Is(err, registry.ErrForbidden) {
			t.Fatalf("grid worker update: %v", err)
		}
	})
}

// TestScopeAcrossTownships: outside a principal's range a resident does not
// exist — for reading, searching, changing and revealing — and the attempt
// is audited.
func TestScopeAcrossTownships(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		hA := f.household(f.townA, registry.HouseholdInput{Division: regVillageA, Address: "门楼路8号"})
		idA := regID("320205", "19750505", "357")
		ri := regIn("欧阳修", "", "", 0)
		ri.HouseholdID, ri.IDNumber, ri.Phone = hA.ID, idA, "13712345678"
		rA := f.register(f.townA, ri)
		rB := f.register(f.townB, regIn("欧阳锋", "男", "1960-01-01", regVillageB))
		rG := f.register(f.townA, regIn("欧阳克", "男", "1985-01-01", regGridA1))

		notFound := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s: %v, want not found", what, err)
			}
		}
		_, err := f.svc.Get(f.ctx, f.townB, rA.ID)
		notFound("Get", err)
		_, err = f.svc.History(f.ctx, f.townB, rA.ID)
		notFound("History", err)
		_, err = f.svc.Reveal(f.ctx, f.townB, rA.ID, "phone")
		notFound("Reveal", err)
		_, err = f.svc.Update(f.ctx, f.townB, rA.ID, regIn("欧阳修", "男", "1975-05-05", 0))
		notFound("Update", err)
		_, err = f.svc.Move(f.ctx, f.townB, rA.ID, registry.MoveInput{Kind: registry.EventMoveOut})
		notFound("Move", err)
		notFound("SetTag", f.svc.SetTag(f.ctx, f.townB, rA.ID, "dibao", "", true))
		_, _, err = f.svc.Household(f.ctx, f.townB, hA.ID)
		notFound("Household", err)
		_, err = f.svc.UpdateHousehold(f.ctx, f.townB, hA.ID, registry.HouseholdInput{Division: regVillageA, Address: "x"})
		notFound("UpdateHousehold", err)
		_, err = f.svc.Register(f.ctx, f.townB, regIn("欧阳娜娜", "女", "2000-01-01", regVillageA))
		notFound("Register in another township", err)
		_, err = f.svc.Population(f.ctx, f.townB, regTownA, registry.Today())
		notFound("Population", err)
		// Viewers and anonymous callers see no residents.
		_, err = f.svc.Get(f.ctx, f.viewer, rA.ID)
		notFound("viewer Get", err)
		_, err = f.svc.Get(f.ctx, nil, rA.ID)
		notFound("nil Get", err)
		if res, err := f.svc.Search(f.ctx, nil, "欧阳", 0, 10); err != nil || len(res.Hits) != 0 {
			t.Errorf("nil principal search: %+v %v", res, err)
		}
		// ... but a viewer may read population figures.
		if m, err := f.svc.Population(f.ctx, f.viewer, regTownA, registry.Today()); err != nil || m[""] != 2 {
			t.Errorf("viewer population %v %v", m, err)
		}
		// Nothing changed, and the attempts were audited as denied.
		if g, _ := f.svc.Get(f.ctx, f.townA, rA.ID); g.Status != registry.Present || len(g.Tags) != 0 {
			t.Fatalf("refused calls changed %+v", g)
		}
		// Get, History, Reveal, Update, Move, SetTag by townB, Get by the
		// viewer and by nobody: the refused changes too, although they are
		// refused inside their transaction.
		if es := f.auditOf("resident", rA.ID, audit.Denied); len(es) != 8 {
			t.Fatalf("%d denied entries for the resident, want 8", len(es))
		}
		if es := f.auditOf("household", hA.ID, audit.Denied); len(es) != 2 {
			t.Fatalf("%d denied entries for the household, want 2", len(es))
		}
		for _, e := range f.auditOf("resident", rA.ID, audit.Denied) {
			if e.Division != regVillageA || e.Actor != "clerk" {
				t.Fatalf("denied entry %+v", e)
			}
		}
		if v, err := f.audit.Verify(f.ctx); err != nil || v.BrokenAt != 0 {
			t.Fatalf("audit chain %+v %v", v, err)
		}

		// Search from each side only finds its own.
		for _, c := range []struct {
			p    string
			q    string
			want []int64
		}{
			{"townA", "欧阳", []int64{rA.ID, rG.ID}},
			{"townB", "欧阳", []int64{rB.ID}},
			{"county", "欧阳", []int64{rA.ID, rB.ID, rG.ID}},
			{"townB", idA, nil},
			{"townA", idA, []int64{rA.ID}},
			{"townB", "13712345678", nil},
			{"townB", "5678", nil},
			{"townB", "欧阳修 " + idA[14:], nil},
			{"townB", "门楼路8号", nil},
			{"townA", "门楼路8号", []int64{rA.ID}},
			{"village", "欧阳", []int64{rA.ID, rG.ID}},
			{"grid", "欧阳", []int64{rG.ID}}, // the grid worker sees the grid only
		} {
			p := map[string]*access.Principal{"townA": f.townA, "townB": f.townB, "county": f.county, "village": f.village, "grid": f.grid}[c.p]
			res, err := f.svc.Search(f.ctx, p, c.q, 0, 20)
			if err != nil {
				t.Fatal(err)
			}
			got := regHitIDs(res.Hits)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s searching %q: %v, want %v", c.p, c.q, got, c.want)
			}
		}
	})
}

// TestHouseholds: numbers are unique per village, and moving a household
// to another grid of its village transfers its members.
func TestHouseholds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		h := f.household(f.village, registry.HouseholdInput{Division: regVillageA, Number: "0001", Kind: "家庭户", Address: "门楼路1号",
			Lat: "31.59", Lon: "120.36"})
		if h.Kind != "family" || h.Lat == nil || *h.Lat < 31 || *h.Lat > 32 {
			t.Fatalf("household %+v", h)
		}
		_, err := f.svc.CreateHousehold(f.ctx, f.village, registry.HouseholdInput{Division: regGridA1, Number: "0001"})
		regWantFieldError(t, err, "number:household_number_taken")
		// The same number in another village is fine.
		f.household(f.townA, registry.HouseholdInput{Division: regVillageC, Number: "0001"})
		for name, c := range map[string]struct {
			in   registry.HouseholdInput
			want string
		}{
			"township":     {registry.HouseholdInput{Division: regTownA}, "division:division_not_village"},
			"bad kind":     {registry.HouseholdInput{Division: regVillageA, Kind: "palace"}, "kind:invalid"},
			"outside":      {registry.HouseholdInput{Division: regVillageA, Lat: "48.85", Lon: "2.35"}, "lat:coordinates_invalid"},
			"half coords":  {registry.HouseholdInput{Division: regVillageA, Lat: "31.5"}, "lat:coordinates_invalid"},
			"long address": {registry.HouseholdInput{Division: regVillageA, Address: strings.Repeat("路", 201)}, "address:too_long"},
		} {
			_, err := f.svc.CreateHousehold(f.ctx, f.townA, c.in)
			if err == nil {
				t.Fatalf("%s: accepted", name)
			}
			if got := regFieldErrors(t, err); !slices.Contains(got, c.want) {
				t.Fatalf("%s: %q", name, got)
			}
		}
		a := regIn("张三", "男", "1980-01-01", 0)
		a.HouseholdID, a.Relation = h.ID, "户主"
		ra := f.register(f.village, a)
		b := regIn("李娜", "女", "1982-01-01", 0)
		b.HouseholdID, b.Relation = h.ID, "妻"
		rb := f.register(f.village, b)

		// Into grid 1 of the same village: the members follow.
		up, err := f.svc.UpdateHousehold(f.ctx, f.village, h.ID, registry.HouseholdInput{Division: regGridA1, Number: "0001", Address: "门楼路1号"})
		if err != nil || up.Grid != regGridA1 || up.Division() != regGridA1 {
			t.Fatalf("update household %+v %v", up, err)
		}
		for _, id := range []int64{ra.ID, rb.ID} {
			g, _ := f.svc.Get(f.ctx, f.village, id)
			if g.Division != regGridA1 {
				t.Fatalf("member %d stayed at %d", id, g.Division)
			}
			evs, _ := f.svc.History(f.ctx, f.village, id)
			if last := evs[len(evs)-1]; last.Kind != registry.EventTransfer || last.FromDivision != regVillageA || last.ToDivision != regGridA1 {
				t.Fatalf("member event %+v", last)
			}
		}
		if v := f.sum(registry.MetricPopulation, regGridA1); v != 2 {
			t.Fatalf("grid population fact %d", v)
		}
		if res, _ := f.svc.Search(f.ctx, f.grid, "张三", 0, 10); len(res.Hits) != 1 {
			t.Fatalf("grid worker cannot find the moved member: %+v", res)
		}
		// Not into another village.
		_, err = f.svc.UpdateHousehold(f.ctx, f.townA, h.ID, registry.HouseholdInput{Division: regVillageC})
		regWantFieldError(t, err, "division:household_other_village")
		// Members: head first.
		_, members, err := f.svc.Household(f.ctx, f.village, h.ID)
		if err != nil || len(members) != 2 || members[0].ID != ra.ID || members[0].Relation != "head" || members[1].Relation != "spouse" {
			t.Fatalf("members %+v %v", members, err)
		}
	})
}

// TestRegisterSameIDConcurrently: clerks registering the same person at the
// same time end with one record; the others are told the number is taken.
func TestRegisterSameIDConcurrently(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		id := regID("320205", "19900101", "123")
		const n = 10
		// Open the connections first so the registrations overlap instead
		// of queueing behind connection set-up.
		var warm sync.WaitGroup
		for i := 0; i < n; i++ {
			warm.Add(1)
			go func() {
				defer warm.Done()
				_ = d.Tx(f.ctx, func(ctx context.Context) error {
					_, err := d.Exec(ctx, "SELECT COUNT(*) FROM person_ids")
					time.Sleep(50 * time.Millisecond)
					return err
				})
			}()
		}
		warm.Wait()
		errs := make(chan error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				ri := regIn("张三丰", "", "", []int64{regVillageA, regVillageB}[i%2])
				ri.IDNumber = id
				_, err := f.svc.Register(f.ctx, f.county, ri)
				errs <- err
			}(i)
		}
		close(start)
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
				continue
			}
			var es registry.Errors
			if !errors.As(err, &es) || len(es) != 1 || es[0].Code != "id_registered" {
				t.Errorf("concurrent duplicate: %v, want id_registered", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d registrations succeeded, want 1", ok)
		}
		if c := f.count("SELECT COUNT(*) FROM residents"); c != 1 {
			t.Fatalf("%d resident rows", c)
		}
		if v := f.sum(registry.MetricPopulation, regCounty); v != 1 {
			t.Fatalf("population fact %d", v)
		}
	})
}
