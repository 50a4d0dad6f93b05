package grid_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

func TestFollowUpPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newPatrolWeb(t, d)
		f := e.f
		s := f.specialResidents()
		id := strconv.FormatInt(s.corrected.ID, 10)
		full := idNumber("320205", "19800131", "123")
		page := "/grid/followups/" + id
		reads := func() int { return f.audits("reveal", "followup") }

		// to those without resident.special the pages do not exist
		for _, p := range []struct {
			name string
			w    *httptest.ResponseRecorder
		}{
			{"worker list", e.get(f.workerA1, "/grid/followups")},
			{"township list", e.get(f.townStaffA, "/grid/followups?unit="+strconv.FormatInt(villageA, 10))},
			{"worker page", e.get(f.workerA1, page)},
			{"township page", e.get(f.townStaffA, page)},
			{"worker post", e.post(f.workerA1, page, url.Values{"tag": {"community_correction"}, "kind": {"visit"}, "note": {"x"}})},
			{"anonymous", e.get(nil, page)},
		} {
			if p.w.Code != http.StatusNotFound {
				t.Errorf("%s: %d", p.name, p.w.Code)
			}
			if strings.Contains(p.w.Body.String(), "王矫正") {
				t.Errorf("%s: the name leaks", p.name)
			}
		}
		if reads() != 0 || f.count(`SELECT COUNT(*) FROM followups`) != 0 {
			t.Fatal("refused requests read or wrote follow-ups")
		}

		// the officer: the list, names shown, ID numbers masked, the group named
		body := wantPage(t, e.get(f.officer, "/grid/followups"), http.StatusOK, "特殊人群随访", "王矫正", idnum.MaskID(full), "社区矫正对象", "尚未随访", "应随访")
		if strings.Contains(body, full) || strings.Contains(body, "李独居") {
			t.Error("the list shows a full ID number or a resident in no special group")
		}
		if reads() != 1 {
			t.Errorf("list view audited %d times", reads())
		}
		wantPage(t, e.get(f.officer, page), http.StatusOK, "随访记录：王矫正", "登记随访", "还没有随访记录", `value="community_correction" checked`)
		if reads() != 2 {
			t.Errorf("page view audited %d times in all", reads())
		}

		// a follow-up: saved, then shown with its note
		w := e.post(f.officer, page, url.Values{"tag": {"community_correction"}, "kind": {"phone"}, "day": {"2026-09-29"},
			"note": {"电话联系，本人在家"}, "next_day": {"2026-10-29"}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != page+"?saved=1" {
			t.Fatalf("post: %d %q %s", w.Code, w.Header().Get("Location"), w.Body)
		}
		wantPage(t, e.get(f.officer, page+"?saved=1"), http.StatusOK, "随访记录已保存", "电话联系，本人在家", "2026-09-29", "电话联系", "计划下次随访：2026-10-29")
		wantPage(t, e.get(f.officer, "/grid/followups?view=all"), http.StatusOK, "2026-09-29", "2026-10-29")

		// errors at the fields, nothing stored
		w = e.post(f.officer, page, url.Values{"tag": {"elderly_alone"}, "kind": {"visit"}, "day": {"2026-09-30"}, "note": {""}})
		wantPage(t, w, http.StatusUnprocessableEntity, "该居民不属于这一特殊人群类别", "请填写随访情况", `aria-invalid="true"`)
		w = e.post(f.officer, page, url.Values{"tag": {"community_correction"}, "kind": {"visit"}, "day": {"明天"}, "note": {"x"}})
		wantPage(t, w, http.StatusUnprocessableEntity, "日期格式不正确")
		w = e.post(f.officer, page, url.Values{"tag": {"community_correction"}, "kind": {"visit"}, "day": {"2026-09-30"}, "next_day": {"2026-09-01"}, "note": {"x"}})
		wantPage(t, w, http.StatusUnprocessableEntity, "下次随访日期应晚于本次随访日期")
		if n := f.count(`SELECT COUNT(*) FROM followups`); n != 1 {
			t.Fatalf("%d follow-ups stored", n)
		}

		// English
		wantPage(t, e.serve(f.officer, httptest.NewRequest(http.MethodGet, page, nil), "en"), http.StatusOK, "Follow-ups: 王矫正", "Phone call")
		// a resident in no special group has nothing to follow up
		wantPage(t, e.get(f.officer, "/grid/followups/"+strconv.FormatInt(s.elderly.ID, 10)), http.StatusOK, "该居民不属于特殊人群")
		wantPage(t, e.get(f.officer, "/grid/followups/999999"), http.StatusNotFound)
		wantPage(t, e.get(f.officer, "/grid/followups?unit="+strconv.FormatInt(villageB, 10)), http.StatusNotFound)
	})
}
