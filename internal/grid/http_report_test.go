package grid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
)

// repPages hides grid_placeholder.html (blocks only, no page) from the
// renderer while it is still in the package.
type repPages struct{ fs.FS }

func (p repPages) Glob(pattern string) ([]string, error) {
	all, err := fs.Glob(p.FS, pattern)
	out := all[:0]
	for _, f := range all {
		if !strings.HasSuffix(f, "/grid_placeholder.html") {
			out = append(out, f)
		}
	}
	return out, err
}

// repWeb serves the grid's pages of a fixture through the real router.
type repWeb struct {
	*fixture
	h http.Handler
}

func newRepWeb(t *testing.T, d *db.DB) *repWeb {
	t.Helper()
	f := newFixture(t, d)
	rd := web.NewRenderer(nil)
	if err := rd.Register(repPages{grid.Templates()}, "templates/*.html", grid.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&grid.HTTP{S: f.svc, R: rd}).Routes(mux)
	return &repWeb{fixture: f, h: mux}
}

// serve serves one request as p in Chinese; accept is the Accept header.
func (e *repWeb) serve(p *access.Principal, method, target, ctype string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx := access.WithPrincipal(context.Background(), p)
	ctx = audit.WithActor(ctx, audit.Actor{ID: p.UserID, Name: p.Username})
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req.WithContext(ctx))
	return w
}

// postJSON posts the form as the script does and decodes the JSON answer.
func (e *repWeb) postJSON(p *access.Principal, form url.Values) (int, map[string]any) {
	e.t.Helper()
	w := e.serve(p, http.MethodPost, "/grid/report", "application/x-www-form-urlencoded", []byte(form.Encode()),
		map[string]string{"Accept": "application/json"})
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		e.t.Fatalf("%d: not JSON: %s", w.Code, w.Body)
	}
	return w.Code, out
}

// multipartForm builds a multipart body of fields and photos.
func repMultipart(t *testing.T, fields url.Values, photos ...[]byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	for i, ph := range photos {
		w, err := mw.CreateFormFile("photos", fmt.Sprintf("IMG_%d.jpg", i))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(ph)
	}
	if len(photos) == 0 { // the empty file input of a form without photos
		w, _ := mw.CreateFormFile("photos", "")
		_, _ = w.Write(nil)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// upload sends data through the protocol as p and returns the upload id.
func (e *repWeb) upload(p *access.Principal, data []byte) string {
	e.t.Helper()
	w := e.serve(p, http.MethodPost, "/grid/uploads", "application/json",
		[]byte(fmt.Sprintf(`{"size":%d,"type":"image/jpeg"}`, len(data))), nil)
	if w.Code != http.StatusCreated {
		e.t.Fatalf("create upload: %d %s", w.Code, w.Body)
	}
	var out struct {
		ID     string
		Offset int64
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.ID == "" || out.Offset != 0 {
		e.t.Fatalf("create upload: %s %v", w.Body, err)
	}
	for off := 0; off < len(data); off += 128 << 10 {
		w := e.serve(p, http.MethodPatch, "/grid/uploads/"+out.ID, "application/offset+octet-stream", data[off:min(off+128<<10, len(data))],
			map[string]string{"Upload-Offset": strconv.Itoa(off)})
		if w.Code != http.StatusNoContent {
			e.t.Fatalf("patch at %d: %d %s", off, w.Code, w.Body)
		}
	}
	return out.ID
}

// stored counts incidents, their photos and the sealed photo files.
func (e *repWeb) stored() [3]int {
	e.t.Helper()
	files := 0
	_ = filepath.WalkDir(filepath.Join(e.svc.Files.Dir, "incidents"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	return [3]int{e.count(`SELECT count(*) FROM incidents`), e.count(`SELECT count(*) FROM incident_photos`), files}
}

func repErrors(t *testing.T, out map[string]any) map[string]map[string]any {
	t.Helper()
	list, ok := out["errors"].([]any)
	if !ok {
		t.Fatalf("no errors in %v", out)
	}
	m := map[string]map[string]any{}
	for _, x := range list {
		e := x.(map[string]any)
		m[e["field"].(string)] = e
	}
	return m
}

func (e *repWeb) form(division int64, category string) url.Values {
	return url.Values{"division": {strconv.FormatInt(division, 10)}, "category": {category},
		"description": {"雨水口堵塞"}, "address": {"东亭路 12 号"}}
}

func TestUploadHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newRepWeb(t, d)
		photo := uplPhoto(t, 200<<10)
		w := e.serve(e.workerA1, http.MethodPost, "/grid/uploads", "application/json", []byte(`{"size":204800,"type":"image/jpeg"}`), nil)
		if w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		var created struct{ ID string }
		_ = json.Unmarshal(w.Body.Bytes(), &created)
		path := "/grid/uploads/" + created.ID
		if loc := w.Header().Get("Location"); loc != path {
			t.Fatalf("Location %q", loc)
		}

		head := func(p *access.Principal) *httptest.ResponseRecorder {
			return e.serve(p, http.MethodHead, path, "", nil, nil)
		}
		if w := head(e.workerA1); w.Code != http.StatusOK || w.Header().Get("Upload-Offset") != "0" || w.Header().Get("Upload-Length") != "204800" {
			t.Fatalf("HEAD: %d %v", w.Code, w.Header())
		}
		patch := func(p *access.Principal, off int, chunk []byte) *httptest.ResponseRecorder {
			return e.serve(p, http.MethodPatch, path, "application/offset+octet-stream", chunk, map[string]string{"Upload-Offset": strconv.Itoa(off)})
		}
		if w := patch(e.workerA1, 0, photo[:128<<10]); w.Code != http.StatusNoContent || w.Header().Get("Upload-Offset") != "131072" {
			t.Fatalf("PATCH: %d %v %s", w.Code, w.Header(), w.Body)
		}
		// the same chunk again (its answer was lost): 409 with the real offset
		if w := patch(e.workerA1, 0, photo[:128<<10]); w.Code != http.StatusConflict || w.Header().Get("Upload-Offset") != "131072" {
			t.Fatalf("PATCH at a stale offset: %d %v", w.Code, w.Header())
		}
		// someone else's upload does not exist for them
		if w := head(e.workerA2); w.Code != http.StatusNotFound {
			t.Fatalf("HEAD by another worker: %d", w.Code)
		}
		if w := patch(e.workerA2, 128<<10, photo[128<<10:]); w.Code != http.StatusNotFound {
			t.Fatalf("PATCH by another worker: %d", w.Code)
		}
		if w := e.serve(e.workerA2, http.MethodDelete, path, "", nil, nil); w.Code != http.StatusNotFound {
			t.Fatalf("DELETE by another worker: %d", w.Code)
		}
		// a chunk over the limit, and no offset at all
		if w := patch(e.workerA1, 128<<10, make([]byte, grid.MaxChunk+1)); w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("big chunk: %d", w.Code)
		}
		if w := e.serve(e.workerA1, http.MethodPatch, path, "", photo[128<<10:], nil); w.Code != http.StatusBadRequest {
			t.Fatalf("no offset: %d", w.Code)
		}
		// resume from HEAD's offset
		off, _ := strconv.Atoi(head(e.workerA1).Header().Get("Upload-Offset"))
		if w := patch(e.workerA1, off, photo[off:]); w.Code != http.StatusNoContent || w.Header().Get("Upload-Offset") != "204800" {
			t.Fatalf("resume: %d %v", w.Code, w.Header())
		}
		if got, err := e.svc.TakeUpload(e.ctx, e.workerA1.UserID, created.ID); err != nil || !bytes.Equal(got, photo) {
			t.Fatalf("take: %v", err)
		}

		// announced too big, or not a photo: 422 with a Chinese message
		w = e.serve(e.workerA1, http.MethodPost, "/grid/uploads", "application/json", []byte(`{"size":99999999,"type":"image/jpeg"}`), nil)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		if w.Code != http.StatusUnprocessableEntity || repErrors(t, out)["size"]["message"] != i18n.T("zh-CN", "grid.error.upload_size", "8") {
			t.Fatalf("too big: %d %s", w.Code, w.Body)
		}
		w = e.serve(e.workerA1, http.MethodPost, "/grid/uploads", "application/json", []byte(`{"size":120}`), nil)
		_ = json.Unmarshal(w.Body.Bytes(), &created)
		w = e.serve(e.workerA1, http.MethodPatch, "/grid/uploads/"+created.ID, "", []byte(strings.Repeat("<html>", 20)), map[string]string{"Upload-Offset": "0"})
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "upload_type") {
			t.Fatalf("not a photo: %d %s", w.Code, w.Body)
		}
		// a viewer may not upload
		if w := e.serve(e.viewer, http.MethodPost, "/grid/uploads", "application/json", []byte(`{"size":100}`), nil); w.Code != http.StatusNotFound {
			t.Fatalf("viewer: %d", w.Code)
		}
		// deleting one's own
		if w := e.serve(e.workerA1, http.MethodDelete, "/grid/uploads/"+created.ID, "", nil, nil); w.Code != http.StatusNoContent {
			t.Fatalf("DELETE: %d", w.Code)
		}
	})
}

func TestReportPageAndHome(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newRepWeb(t, d)
		w := e.serve(e.workerA1, http.MethodGet, "/grid/report", "", nil, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("report page: %d %s", w.Code, w.Body)
		}
		body := w.Body.String()
		for _, want := range []string{`data-code="` + catDrain + `"`, `name="description"`, `type="file"`, `name="photos"`,
			`capture="environment"`, `id="submit"`, `id="outbox-count"`, `name="client_key" value="`, "排水设施堵塞",
			`<input type="hidden" name="division" value="` + strconv.FormatInt(e.gridA1, 10) + `"`, "grid-report.js", `id="report-config"`} {
			if !strings.Contains(body, want) {
				t.Errorf("report page lacks %q", want)
			}
		}
		// a village's staff picks a grid or the village
		body = e.serve(e.villageStaff, http.MethodGet, "/grid/report", "", nil, nil).Body.String()
		for _, code := range []int64{villageA, e.gridA1, e.gridA2} {
			if !strings.Contains(body, `<option value="`+strconv.FormatInt(code, 10)+`"`) {
				t.Errorf("village staff's picker lacks %d", code)
			}
		}
		if strings.Contains(body, strconv.FormatInt(e.gridB1, 10)) {
			t.Error("village staff are offered another village's grid")
		}
		// the most used category comes first
		e.report(e.workerA1, e.gridA1, catRubbish)
		body = e.serve(e.workerA1, http.MethodGet, "/grid/report", "", nil, nil).Body.String()
		if strings.Index(body, `data-code="`+catRubbish+`"`) > strings.Index(body, `data-code="`+catDrain+`"`) {
			t.Error("the category used before is not first")
		}
		// a patrol's household prefills the form
		hh, err := e.reg.CreateHousehold(e.ctx, e.admin, registry.HouseholdInput{Division: e.gridA2, Address: "东亭路 8 号", Number: "A-0008"})
		if err != nil {
			t.Fatal(err)
		}
		body = e.serve(e.villageStaff, http.MethodGet, fmt.Sprintf("/grid/report?household=%d&patrol=5", hh.ID), "", nil, nil).Body.String()
		for _, want := range []string{`name="patrol" value="5"`, `name="household" value="` + strconv.FormatInt(hh.ID, 10) + `" checked`,
			`<option value="` + strconv.FormatInt(e.gridA2, 10) + `" selected>`, `value="东亭路 8 号"`} {
			if !strings.Contains(body, want) {
				t.Errorf("prefilled page lacks %q", want)
			}
		}
		// the household search (an htmx fragment)
		w = e.serve(e.workerA1, http.MethodGet, "/grid/report/households?hq="+url.QueryEscape("查无此人"), "", nil, map[string]string{"HX-Request": "true"})
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), i18n.T("zh-CN", "grid.report.household_none")) || strings.Contains(w.Body.String(), "<html") {
			t.Fatalf("household search: %d %s", w.Code, w.Body)
		}
		// a household of another village is not shown
		body = e.serve(e.workerB1, http.MethodGet, fmt.Sprintf("/grid/report?household=%d", hh.ID), "", nil, nil).Body.String()
		if strings.Contains(body, "A-0008") {
			t.Error("a household outside the worker's scope is shown")
		}
		// only those who report
		if w := e.serve(e.viewer, http.MethodGet, "/grid/report", "", nil, nil); w.Code != http.StatusNotFound {
			t.Fatalf("viewer: %d", w.Code)
		}
		if w := e.serve(e.viewer, http.MethodGet, "/grid/m", "", nil, nil); w.Code != http.StatusNotFound {
			t.Fatalf("viewer home: %d", w.Code)
		}

		// home: my reports, and a handled incident waiting for the on-the-spot check
		in := e.report(e.workerA1, e.gridA1, catDrain)
		e.fixture.do(e.villageStaff, in.ID, grid.Action{Kind: grid.ActRegister})
		e.fixture.do(e.villageStaff, in.ID, grid.Action{Kind: grid.ActDispatch, Level: grid.LevelVillage})
		e.fixture.do(e.villageStaff, in.ID, grid.Action{Kind: grid.ActHandle, Note: "已疏通"})
		other := e.report(e.workerA2, e.gridA2, catDrain)
		w = e.serve(e.workerA1, http.MethodGet, "/grid/m", "", nil, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("home: %d %s", w.Code, w.Body)
		}
		body = w.Body.String()
		for _, want := range []string{`href="/grid/report"`, `href="/grid/patrols/new"`, `id="outbox-count"`,
			fmt.Sprintf(`href="/grid/incidents/%d"`, in.ID), `<span class="tile-count">2</span>`, `<span class="tile-count">1</span>`} {
			if !strings.Contains(body, want) {
				t.Errorf("home lacks %q", want)
			}
		}
		if strings.Contains(body, fmt.Sprintf(`href="/grid/incidents/%d"`, other.ID)) {
			t.Error("home shows another grid's incident")
		}
	})
}

func TestReportPost(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newRepWeb(t, d)
		photo := uplPhoto(t, 150<<10)

		// without JavaScript: multipart with the photo, 303 to the incident
		ctype, body := repMultipart(t, e.form(e.gridA1, catDrain), photo)
		w := e.serve(e.workerA1, http.MethodPost, "/grid/report", ctype, body, nil)
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/grid/incidents/") {
			t.Fatalf("HTML report: %d %s %s", w.Code, w.Header().Get("Location"), w.Body)
		}
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(w.Header().Get("Location"), "/grid/incidents/"), "?new=1"), 10, 64)
		in, err := e.svc.Get(e.ctx, e.workerA1, id)
		if err != nil || in.Category != catDrain || in.Source != grid.SourceWorker || in.Division != e.gridA1 || in.ReporterID != e.workerA1.UserID {
			t.Fatalf("stored %+v %v", in, err)
		}
		if got := e.stored(); got != [3]int{1, 1, 1} {
			t.Fatalf("stored %v", got)
		}

		// with JavaScript: uploads, a client key, JSON
		up := e.upload(e.workerA1, uplPhoto(t, 150<<10))
		form := e.form(e.gridA1, catRubbish)
		form.Set("client_key", "5b0c2a8e-8a4b-4c1e-9d3f-0c1f2e3d4a5b")
		form.Add("uploads", up)
		form.Set("lat", "31.595")
		form.Set("lon", "120.365")
		form.Set("coords", "gcj02")
		status, out := e.postJSON(e.workerA1, form)
		if status != http.StatusCreated || out["number"] == "" || out["url"] == "" {
			t.Fatalf("JSON report: %d %v", status, out)
		}
		first := int64(out["id"].(float64))
		in, _ = e.svc.Get(e.ctx, e.workerA1, first)
		want, _ := geo.ToWGS84(geo.GCJ02, 31.595, 120.365)
		if in.Lat == nil || *in.Lat != want.Lat || *in.Lon != want.Lon {
			t.Fatalf("position not converted from GCJ-02: %v %v, want %v", in.Lat, in.Lon, want)
		}
		if got := e.stored(); got != [3]int{2, 2, 2} {
			t.Fatalf("stored %v", got)
		}
		if _, err := e.svc.TakeUpload(e.ctx, e.workerA1.UserID, up); err == nil {
			t.Fatal("the upload was not used up")
		}
		// the same draft again (its answer was lost): the same incident, stored once
		status, out = e.postJSON(e.workerA1, form)
		if status != http.StatusOK || int64(out["id"].(float64)) != first {
			t.Fatalf("resend: %d %v", status, out)
		}
		if got := e.stored(); got != [3]int{2, 2, 2} {
			t.Fatalf("a resend stored again: %v", got)
		}

		// from a patrol: the source says so
		pform := e.form(e.gridA1, catDrain)
		pform.Set("patrol", "999")
		status, out = e.postJSON(e.workerA1, pform)
		if status != http.StatusUnprocessableEntity || repErrors(t, out)["patrol"] == nil {
			t.Fatalf("unknown patrol: %d %v", status, out)
		}
		if got := e.stored(); got != [3]int{2, 2, 2} {
			t.Fatalf("a refused patrol report stored something: %v", got)
		}
	})
}

func TestReportPostRefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newRepWeb(t, d)
		photo := uplPhoto(t, 50<<10)
		up := e.upload(e.workerA1, photo)

		// no category: 422, a Chinese message at the field, nothing stored, the upload kept
		form := e.form(e.gridA1, "")
		form.Set("client_key", "draft-1")
		form.Add("uploads", up)
		status, out := e.postJSON(e.workerA1, form)
		errs := repErrors(t, out)
		if status != http.StatusUnprocessableEntity || errs["category"] == nil || errs["category"]["message"] != "请选择事件类别。" {
			t.Fatalf("no category: %d %v", status, out)
		}
		if got := e.stored(); got != [3]int{} {
			t.Fatalf("stored %v", got)
		}
		// corrected, the same draft goes through with the same upload
		form.Set("category", catDrain)
		if status, out := e.postJSON(e.workerA1, form); status != http.StatusCreated {
			t.Fatalf("corrected draft: %d %v", status, out)
		}
		if got := e.stored(); got != [3]int{1, 1, 1} {
			t.Fatalf("stored %v", got)
		}
		before := e.stored()

		// the HTML form comes back with the message at the field
		ctype, body := repMultipart(t, e.form(e.gridA1, ""), photo)
		w := e.serve(e.workerA1, http.MethodPost, "/grid/report", ctype, body, nil)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "请选择事件类别。") ||
			!strings.Contains(w.Body.String(), i18n.T("zh-CN", "grid.report.photos_again")) || !strings.Contains(w.Body.String(), `value="东亭路 12 号"`) {
			t.Fatalf("HTML without category: %d %s", w.Code, w.Body)
		}

		// a file that is not a photo
		ctype, body = repMultipart(t, e.form(e.gridA1, catDrain), []byte("%PDF-1.4 not a photo at all"))
		w = e.serve(e.workerA1, http.MethodPost, "/grid/report", ctype, body, nil)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), i18n.T("zh-CN", "grid.error.photo_type", "1")) {
			t.Fatalf("not a photo: %d %s", w.Code, w.Body)
		}
		// a photo over the limit
		ctype, body = repMultipart(t, e.form(e.gridA1, catDrain), uplPhoto(t, grid.MaxPhoto+1))
		w = e.serve(e.workerA1, http.MethodPost, "/grid/report", ctype, body, nil)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), i18n.T("zh-CN", "grid.error.photo_size", "1")) {
			t.Fatalf("too large: %d %s", w.Code, w.Body)
		}
		// an upload that is not finished, or not one's own
		half, err := e.svc.CreateUpload(e.ctx, e.workerA1, 1000, "")
		if err != nil {
			t.Fatal(err)
		}
		form = e.form(e.gridA1, catDrain)
		form.Add("uploads", half.ID)
		status, out = e.postJSON(e.workerA1, form)
		if status != http.StatusUnprocessableEntity || repErrors(t, out)["photos"]["code"] != "upload_incomplete" {
			t.Fatalf("incomplete upload: %d %v", status, out)
		}
		theirs := e.upload(e.workerA2, photo)
		form = e.form(e.gridA1, catDrain)
		form.Add("uploads", theirs)
		status, out = e.postJSON(e.workerA1, form)
		if status != http.StatusUnprocessableEntity || repErrors(t, out)["photos"]["code"] != "upload_unknown" {
			t.Fatalf("someone else's upload: %d %v", status, out)
		}
		// too many photos
		form = e.form(e.gridA1, catDrain)
		for i := 0; i <= grid.MaxPhotos; i++ {
			form.Add("uploads", e.upload(e.workerA1, photo))
		}
		status, out = e.postJSON(e.workerA1, form)
		if status != http.StatusUnprocessableEntity || repErrors(t, out)["photos"]["code"] != "too_many_photos" {
			t.Fatalf("too many photos: %d %v", status, out)
		}
		// a position that is not one
		form = e.form(e.gridA1, catDrain)
		form.Set("lat", "north")
		form.Set("lon", "120.3")
		status, out = e.postJSON(e.workerA1, form)
		if status != http.StatusUnprocessableEntity || repErrors(t, out)["position"] == nil {
			t.Fatalf("bad position: %d %v", status, out)
		}
		// a grid worker of another grid
		status, out = e.postJSON(e.workerB1, e.form(e.gridA1, catDrain))
		if status != http.StatusUnprocessableEntity || repErrors(t, out)["division"]["code"] != "report_division_forbidden" {
			t.Fatalf("another grid's worker: %d %v", status, out)
		}
		w = e.serve(e.workerA2, http.MethodPost, "/grid/report", "application/x-www-form-urlencoded", []byte(e.form(e.gridA1, catDrain).Encode()), nil)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), i18n.T("zh-CN", "grid.error.report_division_forbidden")) {
			t.Fatalf("another grid's worker, HTML: %d %s", w.Code, w.Body)
		}
		// a viewer
		if w := e.serve(e.viewer, http.MethodPost, "/grid/report", "application/x-www-form-urlencoded", []byte(e.form(e.gridA1, catDrain).Encode()), nil); w.Code != http.StatusNotFound {
			t.Fatalf("viewer: %d", w.Code)
		}
		if got := e.stored(); got != before {
			t.Fatalf("refused reports stored something: %v, before %v", got, before)
		}
	})
}

// pickConfig reads the map picker's configuration from the report page.
func pickConfig(t *testing.T, body string) map[string]any {
	t.Helper()
	const open = `<script type="application/json" id="pick-config">`
	i := strings.Index(body, open)
	if i < 0 {
		t.Fatal("the report page has no picker configuration")
	}
	rest := body[i+len(open):]
	var cfg map[string]any
	if err := json.Unmarshal([]byte(rest[:strings.Index(rest, "</script>")]), &cfg); err != nil {
		t.Fatalf("picker configuration: %v", err)
	}
	return cfg
}

// TestReportPicker: the report page offers the map picker — Leaflet's URLs
// to load when the map is opened, and for each place of the form the
// places whose map data centre the map (the grid, then its village only for
// those who may see the village) — without tiles by default; configured
// tiles come with their host allowed by the page's Content-Security-Policy,
// and GCJ-02 tiles are announced so that a tapped point is sent as
// coords=gcj02. The data the picker draws, read as the grid worker, holds
// the grid's outline and its households.
func TestReportPicker(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newRepWeb(t, d)
		code := func(c int64) string { return strconv.FormatInt(c, 10) }
		units := func(cfg map[string]any) map[string][]string {
			out := map[string][]string{}
			for k, v := range cfg["units"].(map[string]any) {
				for _, u := range v.([]any) {
					out[k] = append(out[k], u.(string))
				}
			}
			return out
		}

		w := e.serve(e.workerA1, http.MethodGet, "/grid/report", "", nil, nil)
		body := w.Body.String()
		for _, want := range []string{`id="pick"`, `data-leaflet-js="/static/vendor/leaflet/leaflet.js`, `data-leaflet-css="/static/vendor/leaflet/leaflet.css`,
			`id="pick-map" class="gm-map gm-blank"`, "grid-pick.js", i18n.T("zh-CN", "grid.pick.open")} {
			if !strings.Contains(body, want) {
				t.Errorf("report page lacks %q", want)
			}
		}
		if strings.Contains(body, `<script src="/static/vendor/leaflet/leaflet.js`) {
			t.Error("Leaflet is loaded with the page, not when the map is opened")
		}
		if csp := w.Header().Get("Content-Security-Policy"); csp != web.ContentSecurityPolicy {
			t.Errorf("CSP without tiles: %q", csp)
		}
		cfg := pickConfig(t, body)
		if _, ok := cfg["tiles"]; ok || cfg["gcj02"] != nil {
			t.Errorf("tiles without a tile server: %v", cfg)
		}
		// a grid worker: the grid only (the village is not theirs to see)
		if got := units(cfg); len(got) != 1 || !slices.Equal(got[code(e.gridA1)], []string{code(e.gridA1)}) {
			t.Errorf("grid worker's places: %v", got)
		}
		// village staff: each grid falls back to the village
		got := units(pickConfig(t, e.serve(e.villageStaff, http.MethodGet, "/grid/report", "", nil, nil).Body.String()))
		if !slices.Equal(got[code(e.gridA2)], []string{code(e.gridA2), code(villageA)}) || !slices.Equal(got[code(villageA)], []string{code(villageA)}) {
			t.Errorf("village staff's places: %v", got)
		}

		// the data the picker asks for, as the grid worker: the outline and the households
		const square = `{"type":"Polygon","coordinates":[[[120.349,31.579],[120.351,31.579],[120.351,31.581],[120.349,31.581],[120.349,31.579]]]}`
		if _, err := e.svc.SetOutline(e.ctx, e.villageStaff, e.gridA1, []byte(square), geo.WGS84); err != nil {
			t.Fatal(err)
		}
		hh, err := e.reg.CreateHousehold(e.ctx, e.admin, registry.HouseholdInput{Division: e.gridA1, Address: "东亭路 3 号", Number: "A-0003", Lat: "31.58", Lon: "120.35"})
		if err != nil {
			t.Fatal(err)
		}
		w = e.serve(e.workerA1, http.MethodGet, cfg["data"].(string)+"&unit="+code(e.gridA1), "", nil, nil)
		var fc struct {
			Features []struct {
				Geometry   struct{ Type string }
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(w.Body.Bytes(), &fc); w.Code != http.StatusOK || err != nil {
			t.Fatalf("picker data: %d %s", w.Code, w.Body)
		}
		layers := map[string]int{}
		for _, f := range fc.Features {
			layers[f.Properties["layer"].(string)]++
			if f.Properties["layer"] == "households" && f.Properties["id"] != float64(hh.ID) {
				t.Errorf("household %v, want %d", f.Properties["id"], hh.ID)
			}
		}
		if layers["outlines"] != 1 || layers["households"] != 1 || len(layers) != 2 {
			t.Errorf("picker data layers %v, want the outline and the household", layers)
		}

		// GCJ-02 tiles from another host: allowed for images, announced to the script
		rd := web.NewRenderer(nil)
		if err := rd.Register(repPages{grid.Templates()}, "templates/*.html", grid.Funcs()); err != nil {
			t.Fatal(err)
		}
		tiles := &grid.HTTP{S: e.svc, R: rd, Map: grid.MapConfig{TileURL: "https://tiles.example.cn/{z}/{x}/{y}.png", TileCRS: "gcj02", Attribution: "© 测绘"}}
		mux := http.NewServeMux()
		tiles.Routes(mux)
		req := httptest.NewRequest(http.MethodGet, "/grid/report", nil)
		req.Header.Set("Accept-Language", "zh-CN")
		rw := httptest.NewRecorder()
		mux.ServeHTTP(rw, req.WithContext(access.WithPrincipal(context.Background(), e.workerA1)))
		if csp := rw.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: blob: https://tiles.example.cn") {
			t.Errorf("CSP with tiles: %q", csp)
		}
		if strings.Contains(rw.Body.String(), `class="gm-map gm-blank"`) {
			t.Error("the map is blank although tiles are configured")
		}
		cfg = pickConfig(t, rw.Body.String())
		if cfg["tiles"] != "https://tiles.example.cn/{z}/{x}/{y}.png" || cfg["gcj02"] != true || cfg["attribution"] != "© 测绘" {
			t.Errorf("picker with GCJ-02 tiles: %v", cfg)
		}
	})
}
