package grid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// ggPages leaves grid_placeholder.html (blocks only) out of the renderer
// while it is still in the package.
type ggPages struct{ fs.FS }

func (p ggPages) Glob(pattern string) ([]string, error) {
	all, err := fs.Glob(p.FS, pattern)
	out := all[:0]
	for _, f := range all {
		if !strings.HasSuffix(f, "/grid_placeholder.html") {
			out = append(out, f)
		}
	}
	return out, err
}

// ggWeb serves the grid pages of a fixture through the real router and
// the security headers, with a map configuration.
type ggWeb struct {
	*fixture
	h http.Handler
}

func newGGWeb(t *testing.T, d *db.DB, m grid.MapConfig) *ggWeb {
	t.Helper()
	e := &ggWeb{fixture: newFixture(t, d)}
	e.h = e.handler(m)
	return e
}

// handler is the router of the fixture's service with map configuration m.
func (e *ggWeb) handler(m grid.MapConfig) http.Handler {
	e.t.Helper()
	rd := web.NewRenderer(nil)
	if err := rd.Register(ggPages{grid.Templates()}, "templates/*.html", grid.Funcs()); err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&grid.HTTP{S: e.svc, R: rd, Map: m}).Routes(mux)
	return web.SecurityHeaders(mux)
}

// withMap is the same fixture served with another map configuration.
func (e *ggWeb) withMap(m grid.MapConfig) *ggWeb {
	return &ggWeb{fixture: e.fixture, h: e.handler(m)}
}

func (e *ggWeb) do(p *access.Principal, method, target, ctype string, body []byte) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept-Language", "zh-CN")
	ctx := audit.WithActor(access.WithPrincipal(context.Background(), p), audit.Actor{ID: p.UserID, Name: p.Username})
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req.WithContext(ctx))
	return w
}

func (e *ggWeb) get(p *access.Principal, target string) *httptest.ResponseRecorder {
	return e.do(p, http.MethodGet, target, "", nil)
}

func (e *ggWeb) post(p *access.Principal, target string, form url.Values) *httptest.ResponseRecorder {
	return e.do(p, http.MethodPost, target, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

func ggWant(t *testing.T, w *httptest.ResponseRecorder, status int, contains ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %.600s", w.Code, status, w.Body)
	}
	for _, s := range contains {
		if !strings.Contains(w.Body.String(), s) {
			t.Fatalf("the answer lacks %q: %.3000s", s, w.Body)
		}
	}
}

func ggCode(c int64) string { return strconv.FormatInt(c, 10) }

func TestGridPagesHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newGGWeb(t, d, grid.MapConfig{})
		v := e.ggVillage()
		a1 := "/grid/grids/" + ggCode(e.gridA1)
		if _, err := e.svc.Assign(e.ctx, e.villageStaff, grid.Selection{Village: villageA, Mode: grid.SelectBuilding, Text: "3", Grid: e.gridA1}, -1); err != nil {
			t.Fatal(err)
		}

		// the lists
		ggWant(t, e.get(e.villageStaff, "/grid/grids?unit="+ggCode(villageA)), http.StatusOK, "第一网格", "第二网格", `href="`+a1+`"`,
			"还有 2 户、2 人没有划入任何网格", "/grid/assign?village="+ggCode(villageA))
		ggWant(t, e.get(e.townStaffA, "/grid/grids?unit="+ggCode(townA)), http.StatusOK, "门楼社区", "柏庄社区", `id="total-households">4<`)
		ggWant(t, e.get(e.countyStaff, "/grid/grids?unit="+ggCode(county)), http.StatusOK, "/grid/grids?unit="+ggCode(townA))
		if w := e.get(e.workerA1, "/grid/grids"); w.Code != http.StatusSeeOther || w.Header().Get("Location") != a1 {
			t.Fatalf("a grid worker's list: %d %s", w.Code, w.Header().Get("Location"))
		}

		// the grid page: households to those who may see them
		ggWant(t, e.get(e.villageStaff, a1), http.StatusOK, "王秀英", "张丽", "/registry/households/"+ggCode(v.h1.ID), "workera1",
			`name="chief_q"`, `action="`+a1+`/party"`, `action="`+a1+`/outline"`, `<li><a href="/grid/grids?unit=`+ggCode(villageA)+`">门楼社区居委会</a></li>`)
		ggWant(t, e.get(e.workerA1, a1), http.StatusOK, "王秀英")
		w := e.get(e.viewer, a1)
		ggWant(t, w, http.StatusOK, "你没有查看住户的权限")
		for _, s := range []string{"王秀英", `name="chief_q"`, `action="` + a1 + `/outline"`} {
			if strings.Contains(w.Body.String(), s) {
				t.Fatalf("the viewer sees %q", s)
			}
		}
		if strings.Contains(e.get(e.workerA1, a1).Body.String(), `name="chief_q"`) {
			t.Fatal("a grid worker is offered the chief form")
		}

		// outside the scope: not found
		for _, target := range []string{a1, "/grid/grids?unit=" + ggCode(villageA), a1 + "/outline.geojson", "/grid/map?unit=" + ggCode(villageA),
			"/grid/map/data.json?unit=" + ggCode(villageA), "/grid/assign?village=" + ggCode(villageA)} {
			if w := e.get(e.townStaffB, target); w.Code != http.StatusNotFound {
				t.Fatalf("%s for another township: %d", target, w.Code)
			}
		}
		if w := e.get(e.workerA2, a1); w.Code != http.StatusNotFound {
			t.Fatalf("the next grid's worker: %d", w.Code)
		}
		if w := e.post(e.townStaffB, a1+"/chiefs", url.Values{"kind": {"building"}}); w.Code != http.StatusNotFound {
			t.Fatalf("another township posts: %d", w.Code)
		}

		// chiefs: errors at the field, then POST-redirect-GET
		if w := e.post(e.workerA1, a1+"/chiefs", url.Values{"kind": {"building"}, "resident": {ggCode(v.party.ID)}}); w.Code != http.StatusForbidden {
			t.Fatalf("a grid worker adds a chief: %d", w.Code)
		}
		ggWant(t, e.get(e.villageStaff, a1+"?chief_q="+url.QueryEscape("王建国")), http.StatusOK, `name="resident" value="`+ggCode(v.party.ID)+`"`)
		ggWant(t, e.post(e.villageStaff, a1+"/chiefs", url.Values{"kind": {"mayor"}, "resident": {ggCode(v.party.ID)}, "area": {"3幢"}}),
			http.StatusUnprocessableEntity, "请选择类别", `value="3幢"`)
		w = e.post(e.villageStaff, a1+"/chiefs", url.Values{"kind": {"building"}, "resident": {ggCode(v.party.ID)}, "area": {"3幢"}})
		if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "done=chief_added") {
			t.Fatalf("add chief: %d %s", w.Code, w.Header().Get("Location"))
		}
		ggWant(t, e.get(e.villageStaff, a1+"?done=chief_added"), http.StatusOK, "已登记", "栋长", "王建国")

		// party members' households, by household number
		ggWant(t, e.post(e.villageStaff, a1+"/party", url.Values{"member": {ggCode(v.party.ID)}, "household_number": {"999"}}),
			http.StatusUnprocessableEntity, "本村（社区）没有这个户号")
		if w := e.post(e.villageStaff, a1+"/party", url.Values{"member": {ggCode(v.party.ID)}, "household_number": {"003"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("link: %d %.400s", w.Code, w.Body)
		}
		ggWant(t, e.get(e.villageStaff, a1), http.StatusOK, "东亭路8号3-2")

		// the outline: uploaded as a file, downloaded as GeoJSON
		ggWant(t, e.post(e.villageStaff, a1+"/outline", url.Values{"geojson": {`{"type":"Point","coordinates":[120.35,31.58]}`}}),
			http.StatusUnprocessableEntity, "须是多边形", "Point")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("coords", "wgs84")
		fw, _ := mw.CreateFormFile("file", "grid.geojson")
		_, _ = fw.Write([]byte(ggSquare))
		_ = mw.Close()
		if w := e.do(e.villageStaff, http.MethodPost, a1+"/outline", mw.FormDataContentType(), buf.Bytes()); w.Code != http.StatusSeeOther {
			t.Fatalf("upload: %d %.400s", w.Code, w.Body)
		}
		w = e.get(e.workerA1, a1+"/outline.geojson")
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/geo+json" {
			t.Fatalf("download: %d %s", w.Code, w.Header().Get("Content-Type"))
		}
		var ft struct {
			Type     string
			Geometry struct {
				Type        string
				Coordinates [][][2]float64
			}
			Properties map[string]string
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ft); err != nil || ft.Type != "Feature" || ft.Geometry.Type != "Polygon" ||
			ft.Properties["name"] != "第一网格" || ft.Geometry.Coordinates[0][0] != [2]float64{120.349, 31.579} {
			t.Fatalf("GeoJSON: %v %s", err, w.Body)
		}
		if w := e.get(e.villageStaff, "/grid/grids/"+ggCode(e.gridA2)+"/outline.geojson"); w.Code != http.StatusNotFound {
			t.Fatalf("no outline: %d", w.Code)
		}
	})
}

func TestAssignHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newGGWeb(t, d, grid.MapConfig{})
		v := e.ggVillage()
		ggWant(t, e.get(e.villageStaff, "/grid/assign"), http.StatusOK, `name="village" value="`+ggCode(villageA)+`"`, "第二网格")
		ggWant(t, e.get(e.townStaffA, "/grid/assign"), http.StatusOK, "/grid/assign?village="+ggCode(villageC))
		if w := e.get(e.workerA1, "/grid/assign"); w.Code != http.StatusForbidden {
			t.Fatalf("a grid worker: %d", w.Code)
		}
		form := url.Values{"village": {ggCode(villageA)}, "grid": {ggCode(e.gridA2)}, "mode": {grid.SelectNumbers}, "text": {"002\n999"}, "do": {"preview"}}
		ggWant(t, e.post(e.villageStaff, "/grid/assign", form), http.StatusOK, "选中 1 户", "第 2 行：999", "李桂兰", `name="expect" value="1"`)
		form.Set("do", "confirm")
		form.Set("expect", "3")
		ggWant(t, e.post(e.villageStaff, "/grid/assign", form), http.StatusUnprocessableEntity, "住户情况在预览后有变化")
		form.Set("expect", "1")
		w := e.post(e.villageStaff, "/grid/assign", form)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("confirm: %d %.400s", w.Code, w.Body)
		}
		ggWant(t, e.get(e.villageStaff, w.Header().Get("Location")), http.StatusOK, "已将 1 户划入“第二网格”")
		if e.ggHouseholdGrid(v.h2.ID) != e.gridA2 {
			t.Fatal("not moved")
		}
		// a link to put the households on no grid yet on a grid, previewed
		ggWant(t, e.get(e.villageStaff, "/grid/assign?village="+ggCode(villageA)+"&mode=nogrid&grid="+ggCode(e.gridA1)+"&preview=1"), http.StatusOK, "选中 3 户")
		ggWant(t, e.post(e.villageStaff, "/grid/assign", url.Values{"village": {ggCode(villageA)}, "grid": {ggCode(e.gridB1)}, "mode": {grid.SelectNoGrid}, "do": {"preview"}}),
			http.StatusUnprocessableEntity, "请选择本村（社区）的网格")
		if w := e.post(e.villageStaffB, "/grid/assign", form); w.Code != http.StatusNotFound {
			t.Fatalf("another village confirms: %d", w.Code)
		}
	})
}

var ggURL = regexp.MustCompile(`https?://[^"'\s<>]+`)

func TestMapHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newGGWeb(t, d, grid.MapConfig{})
		e.ggVillage()
		if _, err := e.svc.SetOutline(e.ctx, e.villageStaff, e.gridA1, []byte(ggSquare), geo.WGS84); err != nil {
			t.Fatal(err)
		}
		page := "/grid/map?unit=" + ggCode(villageA)
		w := e.get(e.villageStaff, page)
		ggWant(t, w, http.StatusOK, `<script type="application/json" id="gm-config">`, "vendor/leaflet/leaflet.js", "grid-map.js",
			`data-layer="households"`, "未配置底图")
		// no other host by default, no inline code
		if urls := ggURL.FindAllString(w.Body.String(), -1); len(urls) != 0 {
			t.Fatalf("the page names other hosts: %v", urls)
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(w.Body.String(), -1) {
			if !strings.Contains(tag, " src=") && !strings.Contains(tag, `type="application/json"`) {
				t.Fatalf("inline script: %s", tag)
			}
		}
		if csp := w.Header().Get("Content-Security-Policy"); csp != web.ContentSecurityPolicy {
			t.Fatalf("CSP: %s", csp)
		}
		// the viewer: households off
		ggWant(t, e.get(e.viewer, page), http.StatusOK, "无权查看住户")

		w = e.get(e.villageStaff, "/grid/map/data.json?unit="+ggCode(villageA)+"&layers=outlines,households")
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/geo+json" {
			t.Fatalf("data: %d %s", w.Code, w.Header().Get("Content-Type"))
		}
		var fc struct {
			Features []struct {
				Geometry   json.RawMessage
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(w.Body.Bytes(), &fc); err != nil || len(fc.Features) != 3 {
			t.Fatalf("data: %v %s", err, w.Body)
		}
		if strings.Contains(w.Body.String(), "王秀英") || !strings.Contains(w.Body.String(), `"coordinates":[120.35,31.58]`) {
			t.Fatalf("households: %s", w.Body)
		}

		// tiles drawn in GCJ-02: their host allowed, positions converted
		tiles := "http://t{s}.tianditu.intranet/vec_w/{z}/{x}/{y}.png"
		g := e.withMap(grid.MapConfig{TileURL: tiles, TileCRS: "gcj02", Attribution: "天地图"})
		w = g.get(e.villageStaff, page)
		ggWant(t, w, http.StatusOK, "GCJ-02", `"gcj02":true`, "天地图")
		for _, u := range ggURL.FindAllString(w.Body.String(), -1) {
			if u != tiles {
				t.Fatalf("another host: %s", u)
			}
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: blob: http://*.tianditu.intranet;") ||
			!strings.Contains(csp, "script-src 'self';") {
			t.Fatalf("CSP: %s", csp)
		}
		w = g.get(e.villageStaff, "/grid/map/data.json?unit="+ggCode(villageA)+"&layers=households")
		lat, lon := geo.ToGCJ02(31.58, 120.35)
		want := `"coordinates":[` + strconv.FormatFloat(float64(int64(lon*1e7+0.5))/1e7, 'f', -1, 64) + ","
		if !strings.Contains(w.Body.String(), want) || strings.Contains(w.Body.String(), `"coordinates":[120.35,31.58]`) {
			t.Fatalf("not converted (want %s, %v): %s", want, lat, w.Body)
		}
	})
}
