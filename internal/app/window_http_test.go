package app_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/window"
)

func (c *client) upload(path, name string, content []byte) (int, string) {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", c.base+path, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	code, body, _ := c.do(req)
	return code, body
}

// TestWindowPagesScopeAttachmentsAndPublicLookup goes through the real
// router: who may open which window page, attachments refused by type and
// accepted as images, and the public look-up's answers.
func TestWindowPagesScopeAttachmentsAndPublicLookup(t *testing.T) {
	a, srv := newApp(t, dbtest.SQLite(t).Path(), true)
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "test"})
	u, err := a.Access.UserByName(ctx, "village")
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Access.PrincipalOf(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Window.Intake(ctx, p, window.Intake{Unit: u.Assignments[0].Division, ItemCode: "XS-BM-01", Channel: window.ChannelWindow,
		Name: "张三", Phone: "13700001357", Fields: map[string]string{"kind": "labour", "request": "找保洁工作"}, Decision: window.DecideAccept})
	if err != nil {
		t.Fatal(err)
	}
	casePath := "/window/cases/" + strconv.FormatInt(c.ID, 10)

	grid := newClient(t, srv)
	grid.login("grid", demoPassword)
	if code, _, _ := grid.get("/window"); code != http.StatusNotFound {
		t.Fatalf("grid worker /window: %d", code)
	}
	viewer := newClient(t, srv)
	viewer.login("viewer", demoPassword)
	if code, _, _ := viewer.get("/window/intake"); code != http.StatusForbidden {
		t.Fatalf("viewer intake: %d", code)
	}
	if code, body, _ := viewer.get(casePath); code != http.StatusOK || !strings.Contains(body, c.Number) || strings.Contains(body, `value="assign"`) {
		t.Fatalf("viewer case page: %d", code)
	}
	if code, _, _ := viewer.post(casePath+"/act", url.Values{"kind": {"complete"}, "outcome": {"approved"}}); code != http.StatusForbidden {
		t.Fatalf("viewer completing: %d", code)
	}

	village := newClient(t, srv)
	village.login("village", demoPassword)
	if code, body, _ := village.get("/window?view=open"); code != http.StatusOK || !strings.Contains(body, c.Number) {
		t.Fatalf("desk: %d", code)
	}
	// an illegal transition is refused with the reason, nothing changes
	code, body, _ := village.post(casePath+"/act", url.Values{"kind": {"resume"}})
	if code != http.StatusConflict || !strings.Contains(body, "不能") {
		t.Fatalf("resume a running case: %d", code)
	}
	// attachments: a text file is refused, a PNG kept and served back
	code, body = village.upload(casePath+"/attachments", "scan.txt", []byte("just text, not a scan"))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "只能上传") {
		t.Fatalf("text attachment: %d", code)
	}
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.Black)
	var pngData bytes.Buffer
	_ = png.Encode(&pngData, img)
	if code, _ = village.upload(casePath+"/attachments", "身份证.png", pngData.Bytes()); code != http.StatusSeeOther {
		t.Fatalf("png attachment: %d", code)
	}
	_, body, _ = village.get(casePath)
	i := strings.Index(body, casePath+"/attachments/")
	if i < 0 {
		t.Fatal("attachment not listed")
	}
	link := body[i : i+len(casePath+"/attachments/")+strings.IndexByte(body[i+len(casePath+"/attachments/"):], '"')]
	code, got, h := village.get(link)
	if code != http.StatusOK || h.Get("Content-Type") != "image/png" || got != pngData.String() {
		t.Fatalf("download %s: %d %s", link, code, h.Get("Content-Type"))
	}
	if code, _, _ := grid.get(link); code != http.StatusNotFound {
		t.Fatalf("grid worker downloading: %d", code)
	}

	// the receipt carries the QR code; the public page needs the phone digits
	if code, body, _ := village.get(casePath + "/receipt"); code != http.StatusOK || !strings.Contains(body, "<svg") || !strings.Contains(body, "/public/case?n="+c.Number) {
		t.Fatalf("receipt: %d", code)
	}
	anon := newClient(t, srv)
	if code, body, _ := anon.get("/public/case?n=" + c.Number); code != http.StatusOK || !strings.Contains(body, c.Number) {
		t.Fatalf("public form: %d", code)
	}
	if code, body, _ := anon.post("/public/case", url.Values{"n": {c.Number}, "tail": {"0000"}}); code != http.StatusNotFound || !strings.Contains(body, "没有找到") {
		t.Fatalf("wrong digits: %d", code)
	}
	if code, body, _ := anon.post("/public/case", url.Values{"n": {c.Number}, "tail": {"1357"}}); code != http.StatusOK || !strings.Contains(body, "已受理") || strings.Contains(body, "张三") {
		t.Fatalf("right digits: %d", code)
	}
}

// TestOpen311AndCasesAPIThroughTheApp posts a request with an API key from
// a web app on another origin (allowed: the key, not a cookie, authenticates
// it), finds it on the village's desk, and takes in a case through the JSON
// API with a staff token.
func TestOpen311AndCasesAPIThroughTheApp(t *testing.T) {
	a, srv := newApp(t, dbtest.SQLite(t).Path(), true)
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "test"})
	u, err := a.Access.UserByName(ctx, "village")
	if err != nil {
		t.Fatal(err)
	}
	village := u.Assignments[0].Division
	key, _, err := a.Window.AddClient(ctx, nil, "微信小程序", demoTownship(village))
	if err != nil {
		t.Fatal(err)
	}
	anon := newClient(t, srv)
	if code, body, _ := anon.get("/open311/discovery.json"); code != http.StatusOK || !strings.Contains(body, "/open311/v2") {
		t.Fatalf("discovery: %d %s", code, body)
	}
	form := url.Values{"api_key": {key}, "service_code": {"XS-BM-01"}, "jurisdiction_id": {strconv.FormatInt(village/1000, 10)},
		"address_string": {"羊尖镇新街 12 号"}, "last_name": {"周"}, "first_name": {"敏"}, "phone": {"13600001234"},
		"attribute[kind]": {"housing"}, "attribute[request]": {"想租一间房"}}
	req, _ := http.NewRequest("POST", srv.URL+"/open311/v2/requests.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://miniapp.example.com")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	code, body, _ := anon.do(req)
	if code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("POST requests: %d %s", code, body)
	}
	number := caseNumberRE.FindString(body)
	if number == "" {
		t.Fatalf("no service_request_id in %s", body)
	}
	staff := newClient(t, srv)
	staff.login("village", demoPassword)
	if code, body, _ := staff.get("/window?view=open"); code != http.StatusOK || !strings.Contains(body, number) || !strings.Contains(body, "网上") {
		t.Fatalf("the online request is not on the village desk: %d", code)
	}
	// a cookie-authenticated form from another origin is still refused
	req, _ = http.NewRequest("POST", srv.URL+"/window/intake", strings.NewReader("unit=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example.com")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if code, _, _ := staff.do(req); code != http.StatusForbidden {
		t.Fatalf("cross-site staff form: %d", code)
	}

	// the JSON API
	secret, _, err := a.Access.CreateToken(ctx, u.ID, "bench")
	if err != nil {
		t.Fatal(err)
	}
	payload := `{"unit": "` + strconv.FormatInt(village, 10) + `", "item_code": "XS-BM-01", "channel": "phone", "name": "钱七", "phone": "13500001111",
		"fields": {"kind": "labour", "request": "找工作"}, "decision": "accept"}`
	req, _ = http.NewRequest("POST", srv.URL+"/api/v1/cases", strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	code, body, _ = anon.do(req)
	if code != http.StatusCreated || !strings.Contains(body, `"state":"accepted"`) {
		t.Fatalf("POST /api/v1/cases: %d %s", code, body)
	}
}

// demoTownship is the township of a village code.
func demoTownship(village int64) int64 { return village - village%1_000_000 }
