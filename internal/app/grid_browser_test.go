package app_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/shequ-platform/shequ/internal/app"
)

var incidentNumberRE = regexp.MustCompile(`SJ\d{12}-\d{8}-\d{4}`)

// gridPhoto writes a camera-sized JPEG (2400×1800, a gradient, so it does
// not compress to nothing) for the phone to shrink and send.
func gridPhoto(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2400, 1800))
	for y := 0; y < 1800; y++ {
		for x := 0; x < 2400; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7 % 256), uint8(y * 5 % 256), uint8((x + y) % 256), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "drain.jpg")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// gridAct submits the action form of kind on the incident page and waits
// for the page to come back with the new state (or the form's errors).
func gridAct(t *testing.T, ctx context.Context, base string, id int64, kind, state string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	url := base + "/grid/incidents/" + strconv.FormatInt(id, 10)
	all := []chromedp.Action[chromedp.Void]{chromedp.Navigate(url), chromedp.WaitVisible("#act-" + kind)}
	all = append(all, steps...)
	all = append(all, chromedp.Click("#act-"+kind+` button[type="submit"]`), chromedp.WaitVisible("h1 .grid-state-"+state))
	must(t, ctx, kind, all...)
}

func gridIncidentID(t *testing.T, a *app.App, number string) int64 {
	t.Helper()
	var id int64
	if err := a.DB.QueryRow(context.Background(), `SELECT id FROM incidents WHERE number = ?`, number).Scan(&id); err != nil {
		t.Fatalf("incident %s: %v", number, err)
	}
	return id
}

// TestBrowserGridJourney is grid governance's journey in Chromium on a
// phone-sized screen (360×740): the grid worker photographs a blocked drain
// and reports it (the photo is shrunk in the browser and sent in chunks);
// the village clerk registers it, dispatches it to the village with the
// category's time limit and reports it handled with a photo of the work;
// the grid worker checks it on the spot; the clerk closes it; the township
// sees it among the incidents settled in the village.
func TestBrowserGridJourney(t *testing.T) {
	a, base := regApp(t)
	ctx := browser(t, 360, 740)
	photo := gridPhoto(t)
	regLogin(t, ctx, base, "grid", demoPassword)

	// 1. report: a category, a line of text, a photo — the form refuses a
	// report without a category first
	must(t, ctx, "report without a category",
		chromedp.Navigate(base+"/grid/report"),
		chromedp.WaitVisible("#category"),
		chromedp.SendKeys(`input[name="description"]`, "雨水口堵塞，路面积水约二十厘米"),
		chromedp.Click("#submit"),
		chromedp.WaitVisible(`[role="alert"], .field-error, .flash-error`),
	)
	if page := text(t, ctx, "main"); !strings.Contains(page, "类别") {
		t.Fatalf("no message about the category:\n%s", page)
	}
	if n := regCount(t, a, "SELECT COUNT(*) FROM incidents"); n != 0 {
		t.Fatalf("%d incidents stored from a refused report", n)
	}
	// shrinking and sending the photo in chunks takes a while on a loaded
	// machine: this step gets a minute
	slow, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(slow,
		chromedp.Click(`#category [data-code="XS-SJ-GY01"]`),
		chromedp.SetUploadFiles(`input[type="file"][name="photos"]`, []string{photo}),
		chromedp.Click("#submit"),
		chromedp.WaitVisible(`a[href^="/grid/incidents/"]`),
	); err != nil {
		t.Fatalf("report a blocked drain with a photo: %v\n%s", err, text(t, ctx, "main"))
	}
	shot(t, ctx, "grid-report")
	number := incidentNumberRE.FindString(text(t, ctx, "main"))
	if number == "" {
		t.Fatalf("no incident number after the report:\n%s", text(t, ctx, "main"))
	}
	id := gridIncidentID(t, a, number)
	var photos, size int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*), COALESCE(MAX(size), 0) FROM incident_photos WHERE incident_id = ?`, id).Scan(&photos, &size); err != nil {
		t.Fatal(err)
	}
	orig, err := os.Stat(photo)
	if err != nil {
		t.Fatal(err)
	}
	if photos != 1 || size == 0 || int64(size) >= orig.Size() {
		t.Fatalf("photos of the report: %d, largest %d bytes of %d (the phone should shrink a 2400×1800 photo)", photos, size, orig.Size())
	}
	regLogout(t, ctx)

	// 2. the village registers, dispatches to itself, handles it with a photo
	regLogin(t, ctx, base, "village", demoPassword)
	gridAct(t, ctx, base, id, "register", "registered")
	gridAct(t, ctx, base, id, "dispatch", "dispatched", chromedp.Click(`#act-dispatch input[name="level"][value="village"]`))
	if p := text(t, ctx, "main"); !strings.Contains(p, "2026") && !strings.Contains(p, "20") {
		t.Fatalf("no deadline after dispatch:\n%s", p)
	}
	gridAct(t, ctx, base, id, "handle", "handled",
		chromedp.SendKeys(`#act-handle textarea[name="note"]`, "已疏通雨水口，清运淤泥两车"),
		chromedp.SetUploadFiles(`#act-handle input[type="file"][name="photos"]`, []string{photo}),
	)
	regLogout(t, ctx)

	// 3. the grid worker checks it on the spot
	regLogin(t, ctx, base, "grid", demoPassword)
	gridAct(t, ctx, base, id, "verify", "verified")
	shot(t, ctx, "grid-incident")
	regLogout(t, ctx)

	// 4. the village closes it
	regLogin(t, ctx, base, "village", demoPassword)
	gridAct(t, ctx, base, id, "close", "closed")
	var state, level string
	if err := a.DB.QueryRow(context.Background(), `SELECT state, closed_level FROM incidents WHERE id = ?`, id).Scan(&state, &level); err != nil {
		t.Fatal(err)
	}
	if state != "closed" || level != "village" {
		t.Fatalf("incident %s: state %s, closed at %s", number, state, level)
	}
	var steps int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE entity = 'incident' AND entity_id = ?`, strconv.FormatInt(id, 10)).Scan(&steps); err != nil {
		t.Fatal(err)
	}
	if steps != 6 { // report, register, dispatch, handle, verify, close
		t.Fatalf("%d audit entries for the incident, want 6", steps)
	}
	regLogout(t, ctx)

	// 5. the township's figures count it as settled in the village
	regLogin(t, ctx, base, "town", demoPassword)
	must(t, ctx, "township figures", chromedp.Navigate(base+"/grid/figures"), chromedp.WaitVisible("table"))
	if f := text(t, ctx, "main"); !strings.Contains(f, "100") {
		t.Fatalf("figures do not show the incident settled in the village:\n%s", f)
	}

	// 6. the township pastes the grid's outline (GeoJSON) on the grid's page
	// and sees it on the village's map, on a blank background (no tiles are
	// configured, so nothing is asked of another host)
	var gridCode int64
	if err := a.DB.QueryRow(context.Background(), `SELECT division FROM incidents WHERE id = ?`, id).Scan(&gridCode); err != nil {
		t.Fatal(err)
	}
	must(t, ctx, "grid outline",
		chromedp.Navigate(base+"/grid/grids/"+strconv.FormatInt(gridCode, 10)),
		chromedp.WaitVisible("#outline-text"),
		chromedp.SetValue("#outline-text", `{"type":"Polygon","coordinates":[[[120.5241,31.6452],[120.5302,31.6447],`+
			`[120.5318,31.6489],[120.5287,31.6516],[120.5236,31.6503],[120.5241,31.6452]]]}`),
		chromedp.Click(`form[action$="/outline"] button[type="submit"]`),
		chromedp.WaitVisible("#flash-done"),
	)
	must(t, ctx, "grid map",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(base+"/grid/map?unit="+strconv.FormatInt(gridCode/1000*1000, 10)),
		chromedp.WaitVisible(".leaflet-container"),
		chromedp.WaitVisible(".leaflet-overlay-pane canvas"), // drawn once the outline has come
	)
	shot(t, ctx, "grid-map")
}

// TestBrowserMediationAgreement: the village mediator registers a dispute
// between two neighbours, records a session and the settlement, and prints
// the settlement agreement (Chromium's own print to PDF).
func TestBrowserMediationAgreement(t *testing.T) {
	_, base := regApp(t)
	ctx := browser(t, 1280, 900)
	regLogin(t, ctx, base, "village", demoPassword)
	must(t, ctx, "new dispute",
		chromedp.Navigate(base+"/mediation/new"),
		chromedp.WaitVisible("#register"),
	)
	mediationFill(t, ctx)
	link, err := chromedp.Run(ctx, chromedp.AttributeValue("#print-agreement", "href"))
	if err != nil || !link.Exists {
		t.Fatalf("no agreement link: %v", err)
	}
	must(t, ctx, "open the agreement", chromedp.Navigate(base+link.Value), chromedp.WaitVisible("#agreement svg"))
	doc := text(t, ctx, "#agreement")
	for _, want := range []string{"人民调解协议书", "张建国", "李桂芳", "赔偿"} {
		if !strings.Contains(doc, want) {
			t.Fatalf("the agreement lacks %q:\n%s", want, doc)
		}
	}
	shot(t, ctx, "mediation-agreement")
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(func(p *page.PrintToPDFParams) { yes := true; p.PreferCSSPageSize = &yes }))
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 2000 {
		t.Fatalf("printing the agreement gave %d bytes", len(pdf))
	}
}

// mediationFill registers a dispute between two outsiders (the demo
// village's registry may be empty), records a session and the settlement.
func mediationFill(t *testing.T, ctx context.Context) {
	t.Helper()
	must(t, ctx, "parties and facts",
		chromedp.WaitVisible("#f-summary"),
		chromedp.SetValue("#f-type", "neighbour"),
		chromedp.SendKeys("#f-summary", "张建国家屋顶排水管改道后雨水流入李桂芳家院内，墙体受潮，双方多次争吵。"),
		chromedp.SetValue("#f-mediators", "王志明、陈秀兰"),
		chromedp.SetValue("#p0-side", "applicant"),
		chromedp.SendKeys("#p0-name", "李桂芳"),
		chromedp.SetValue("#p0-gender", "F"),
		chromedp.SendKeys("#p0-phone", "13912345678"),
		chromedp.SendKeys("#p0-addr", "羊尖镇严家桥村 12 号"),
		chromedp.SetValue("#p1-side", "respondent"),
		chromedp.SendKeys("#p1-name", "张建国"),
		chromedp.SetValue("#p1-gender", "M"),
		chromedp.SendKeys("#p1-phone", "13887654321"),
		chromedp.SendKeys("#p1-addr", "羊尖镇严家桥村 14 号"),
		chromedp.Click("#register"),
		chromedp.WaitVisible("#act-session"),
	)
	if p := text(t, ctx, "main"); strings.Contains(p, "13912345678") || !strings.Contains(p, "139****5678") {
		t.Fatalf("the dispute page shows a phone unmasked or not at all:\n%s", p)
	}
	must(t, ctx, "a session",
		chromedp.SetAttributeValue("#act-session", "open", ""),
		chromedp.SendKeys("#s-place", "村调解室"),
		chromedp.SendKeys("#s-note", "双方陈述，现场查看排水管走向"),
		chromedp.Click(`#act-session button[type="submit"]`),
		chromedp.WaitVisible("#act-settle"),
	)
	must(t, ctx, "the settlement",
		chromedp.SetAttributeValue("#act-settle", "open", ""),
		chromedp.SendKeys("#st-outcome", "双方自愿达成协议"),
		chromedp.SendKeys("#st-agreement", "一、张建国于十日内将排水管改回原走向；二、张建国赔偿李桂芳墙面修复费用人民币一千五百元。"),
		chromedp.SendKeys("#st-performance", "当场支付赔偿款，排水管改道由村委会监督完成。"),
		chromedp.Click(`#act-settle button[type="submit"]`),
		chromedp.WaitVisible("#print-agreement"),
	)
}
