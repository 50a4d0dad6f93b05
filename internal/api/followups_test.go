package api_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestFollowUps(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupPatrols(t, d)
		idNumber := validIDNumber("32020519800131123")
		h := e.household(t, e.grid1, "8号")
		corrected := e.resident(t, h.ID, "王矫正", idNumber, map[string]string{"community_correction": "", "elderly_alone": ""})
		elderly := e.resident(t, e.household(t, e.grid1, "9号").ID, "李独居", "", map[string]string{"elderly_alone": ""})
		path := "/api/v1/residents/" + strconv.FormatInt(corrected.ID, 10) + "/followups"
		record := func(change func(m map[string]any)) string {
			m := map[string]any{"tag": "community_correction", "kind": "visit", "note": "本人在家，情绪稳定，按时报到", "next_day": "2026-10-15"}
			if change != nil {
				change(m)
			}
			return body(t, m)
		}
		audits := func(action string) int {
			return count(t, d, "SELECT count(*) FROM audit_log WHERE action = '"+action+"' AND entity IN ('followup', 'special_groups', 'resident')")
		}

		// without resident.special the follow-ups do not exist
		for _, u := range []string{"worker1", "village1", "town1", "viewer1", "officer2"} {
			denied := audits("denied")
			if u != "officer2" { // (its own township by default)
				wantErr(t, e.do(t, "GET", "/api/v1/followups", u, ""), 404, "not_found", "")
			}
			wantErr(t, e.do(t, "GET", "/api/v1/followups?unit="+division.Format(village1), u, ""), 404, "not_found", "")
			wantErr(t, e.do(t, "GET", path, u, ""), 404, "not_found", "")
			wantErr(t, e.do(t, "POST", path, u, record(nil)), 404, "not_found", "")
			if n := audits("denied") - denied; n < 3 {
				t.Errorf("%s: %d refusals audited", u, n)
			}
		}
		if n := count(t, d, "SELECT count(*) FROM followups"); n != 0 {
			t.Fatalf("%d follow-ups stored by refused calls", n)
		}
		if n := audits("reveal"); n != 0 {
			t.Fatalf("%d reads audited for refused calls", n)
		}

		// the township's officer sees the resident, due (never followed up), masked
		r := e.do(t, "GET", "/api/v1/followups", "officer1", "")
		wantStatus(t, r, 200)
		it := items(r)
		if len(it) != 1 || it[0]["id"] != float64(corrected.ID) || it[0]["name"] != "王矫正" || it[0]["due"] != true ||
			it[0]["overdue"] != false || it[0]["last_day"] != nil || it[0]["address"] != "春江路" {
			t.Fatal(r.raw)
		}
		if masked, _ := it[0]["id_masked"].(string); masked == "" || masked == idNumber || !strings.Contains(masked, "*") {
			t.Fatalf("id_masked %q", masked)
		}
		groups, _ := it[0]["groups"].([]any)
		if len(groups) != 1 || groups[0].(map[string]any)["tag"] != "community_correction" || groups[0].(map[string]any)["name"] != "社区矫正对象" {
			t.Fatalf("groups: %s", r.raw)
		}
		if c := r.body["counts"].(map[string]any); c["all"] != 1.0 || c["due"] != 1.0 || c["overdue"] != 0.0 {
			t.Fatal(r.raw)
		}
		if strings.Contains(r.raw, idNumber) || strings.Contains(r.raw, "elderly_alone") || strings.Contains(r.raw, "李独居") {
			t.Fatal(r.raw)
		}
		if n := audits("reveal"); n != 1 {
			t.Fatalf("%d list reads audited, want 1", n)
		}

		// bad input: nothing stored
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { m["tag"] = "elderly_alone" })), 422, "followup_tag", "tag")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { m["tag"] = "no_such_group" })), 422, "followup_tag", "tag")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { m["kind"] = "letter" })), 422, "invalid", "kind")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { delete(m, "kind") })), 422, "followup_kind", "kind")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { delete(m, "tag") })), 422, "followup_tag_required", "tag")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { delete(m, "note") })), 422, "followup_note_required", "note")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { m["note"] = " " })), 422, "followup_note_required", "note")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { m["day"] = "2026-10-01" })), 422, "followup_day_future", "day")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { m["day"] = "30.09.2026" })), 422, "invalid", "day")
		wantErr(t, e.do(t, "POST", path, "officer1", record(func(m map[string]any) { m["next_day"] = "2026-09-30" })), 422, "followup_next_day", "next_day")
		elderlyPath := "/api/v1/residents/" + strconv.FormatInt(elderly.ID, 10) + "/followups"
		wantErr(t, e.do(t, "POST", elderlyPath, "officer1", record(nil)), 422, "followup_tag", "tag")
		wantErr(t, e.do(t, "POST", "/api/v1/residents/999999/followups", "officer1", record(nil)), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/residents/0/followups", "officer1", ""), 422, "invalid", "id")
		if n := count(t, d, "SELECT count(*) FROM followups"); n != 0 {
			t.Fatalf("%d follow-ups stored by bad input", n)
		}

		// recorded
		r = e.do(t, "POST", path, "officer1", record(nil))
		wantStatus(t, r, 201)
		if r.body["day"] != "2026-09-30" || r.body["next_day"] != "2026-10-15" || r.body["kind"] != "visit" ||
			r.body["tag_name"] != "社区矫正对象" || r.body["worker_name"] != "officer1 名" || r.body["resident_id"] != float64(corrected.ID) ||
			r.body["division"] != division.Format(e.grid1) {
			t.Fatal(r.raw)
		}
		if r.header.Get("Location") != path {
			t.Errorf("Location %q", r.header.Get("Location"))
		}
		// the note is sealed at rest
		if n := count(t, d, "SELECT count(*) FROM followups WHERE note LIKE '%情绪稳定%'"); n != 0 {
			t.Fatal("the note is stored in clear")
		}

		// the history, with the note: the read is audited
		reveals := audits("reveal")
		r = e.do(t, "GET", path, "officer1", "")
		wantStatus(t, r, 200)
		res := r.body["resident"].(map[string]any)
		hist := items(r)
		if res["id"] != float64(corrected.ID) || res["status"] != "present" || res["address"] != "春江路" || len(hist) != 1 ||
			hist[0]["note"] != "本人在家，情绪稳定，按时报到" || hist[0]["recorded_at"] == nil {
			t.Fatal(r.raw)
		}
		if strings.Contains(r.raw, idNumber) || strings.Contains(r.raw, "elderly_alone") {
			t.Fatal(r.raw)
		}
		if n := audits("reveal"); n != reveals+1 {
			t.Fatalf("%d reads audited, want 1", n-reveals)
		}
		if n := count(t, d, "SELECT count(*) FROM audit_log WHERE action = 'reveal' AND entity = 'followup' AND entity_id = 'resident:"+
			strconv.FormatInt(corrected.ID, 10)+"' AND actor LIKE 'officer1%'"); n != 1 {
			t.Fatalf("%d reveal entries of officer1 for the resident", n)
		}

		// the list now: not due until the next day planned
		r = e.do(t, "GET", "/api/v1/followups?view=due&unit="+division.Format(village1), "officer1", "")
		if wantStatus(t, r, 200); len(items(r)) != 0 || r.body["counts"].(map[string]any)["all"] != 1.0 {
			t.Fatal(r.raw)
		}
		r = e.do(t, "GET", "/api/v1/followups?view=all", "officer1", "")
		wantStatus(t, r, 200)
		if it := items(r); len(it) != 1 || it[0]["last_day"] != "2026-09-30" || it[0]["next_day"] != "2026-10-15" ||
			it[0]["last_tag"] != "community_correction" || it[0]["due"] != false || it[0]["note"] != nil {
			t.Fatal(r.raw)
		}
		// past the next day: overdue
		e.now = time.Date(2026, 10, 20, 9, 0, 0, 0, chinaTime)
		r = e.do(t, "GET", "/api/v1/followups?view=overdue", "officer1", "")
		if wantStatus(t, r, 200); len(items(r)) != 1 || items(r)[0]["overdue"] != true || r.body["counts"].(map[string]any)["overdue"] != 1.0 {
			t.Fatal(r.raw)
		}

		wantErr(t, e.do(t, "GET", "/api/v1/followups?unit="+division.Format(town2), "officer1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/followups?unit=0", "officer1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/followups?view=soon", "officer1", ""), 422, "invalid", "view")
		// still nothing for the other township's officer
		wantErr(t, e.do(t, "GET", path, "officer2", ""), 404, "not_found", "")
	})
}
