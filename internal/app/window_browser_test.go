package app_test

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

var caseNumberRE = regexp.MustCompile(`\d{12}-\d{8}-\d{4}`)

// TestBrowserWindowJourney is the window's journey in Chromium: the village
// clerk takes in a temporary-assistance application from a walk-in (a
// missing field is refused at the field, in Chinese), accepts it with the
// materials ticked, prints the receipt with its QR code and carries the
// matter to the township (agency); the township clerk takes it, completes
// it; the applicant looks it up on the public page with the last four
// digits of her phone and rates it.
func TestBrowserWindowJourney(t *testing.T) {
	a, base := regApp(t)
	ctx := browser(t, 1280, 900)
	regLogin(t, ctx, base, "village", demoPassword)

	// 1. intake: walk-in, item, materials, fields
	must(t, ctx, "open intake",
		chromedp.Navigate(base+"/window/intake"),
		chromedp.WaitVisible("#walkin"),
		chromedp.Click("#walkin"),
		chromedp.WaitVisible("#item"),
		chromedp.SetValue("#item", "XS-MZ-02"),
		chromedp.Click("#load-item"),
		chromedp.WaitVisible("#f-name"),
	)
	must(t, ctx, "fill the form without the amount",
		chromedp.SendKeys("#f-name", "王秀英"),
		chromedp.SendKeys("#f-phone", "+86 139 0000 2468"),
		chromedp.SetValue(`select[name="field.hardship_type"]`, "illness"),
		chromedp.SendKeys(`textarea[name="field.reason"]`, "丈夫住院，医药费负担重"),
		chromedp.Click(`input[name="material"][value="application"]`),
		chromedp.Click(`input[name="material"][value="id_card"]`),
		chromedp.Click(`input[name="material"][value="hardship_proof"]`),
		chromedp.Click(`input[name="agency"]`),
		chromedp.Click(`button[name="decision"][value="accept"]`),
		chromedp.WaitVisible("#form-errors"),
	)
	if msg := text(t, ctx, ".intake-form"); !strings.Contains(msg, "必须填写") {
		t.Fatalf("no message at the amount field:\n%s", msg)
	}
	if n := regCount(t, a, "SELECT COUNT(*) FROM cases"); n != 0 {
		t.Fatalf("%d cases stored from a refused form", n)
	}
	shot(t, ctx, "window-intake-error")
	must(t, ctx, "add the amount and accept",
		chromedp.SendKeys(`input[name="field.amount"]`, "3000"),
		chromedp.Click(`button[name="decision"][value="accept"]`),
		chromedp.WaitVisible(".case-actions"),
	)
	number := caseNumberRE.FindString(text(t, ctx, "h1 + p, .flash-success"))
	if number == "" {
		t.Fatalf("no case number on the case page:\n%s", text(t, ctx, "main"))
	}
	if page := text(t, ctx, "main"); !strings.Contains(page, "已受理") || !strings.Contains(page, "139****2468") || strings.Contains(page, "13900002468") {
		t.Fatalf("case page:\n%s", page)
	}
	shot(t, ctx, "window-case")

	// 2. the receipt, with a QR code to the public page
	caseURL := strings.SplitN(location(t, ctx), "?", 2)[0]
	must(t, ctx, "receipt page", chromedp.Navigate(caseURL+"/receipt?size=80mm"), chromedp.WaitVisible(".receipt svg.qr"))
	if r := text(t, ctx, ".receipt"); !strings.Contains(r, number) || !strings.Contains(r, "/public/case?n=") {
		t.Fatalf("receipt:\n%s", r)
	}
	shot(t, ctx, "window-receipt")

	// 3. carry it to the township
	must(t, ctx, "transfer to the township",
		chromedp.Navigate(caseURL),
		chromedp.WaitVisible(".case-actions"),
		chromedp.Click(`form:has(input[name="kind"][value="transfer"]) button[type="submit"]`),
		chromedp.WaitVisible(".flash-success"),
		chromedp.WaitNotPresent(`form:has(input[name="kind"][value="transfer"])`),
	)
	if p := text(t, ctx, "dl.props"); !strings.Contains(p, "羊尖镇") {
		t.Fatalf("holder after transfer:\n%s", p)
	}
	regLogout(t, ctx)

	// 4. the township takes it and completes it
	regLogin(t, ctx, base, "town", demoPassword)
	must(t, ctx, "township desk", chromedp.Navigate(base+"/window"), chromedp.WaitVisible("table.results"))
	if l := text(t, ctx, "table.results"); !strings.Contains(l, number) {
		t.Fatalf("township list lacks %s:\n%s", number, l)
	}
	must(t, ctx, "assign and complete",
		chromedp.Navigate(caseURL),
		chromedp.WaitVisible(".case-actions"),
		chromedp.Click(`form:has(input[name="kind"][value="assign"]) button[type="submit"]`),
		chromedp.WaitVisible("h1 .state-handling"),
		chromedp.SendKeys(`#n-complete`, "核准临时救助 3000 元"),
		chromedp.Click(`form:has(input[name="kind"][value="complete"]) button[type="submit"]`),
		chromedp.WaitVisible("h1 .state-completed"),
	)
	if p := text(t, ctx, "main"); !strings.Contains(p, "已办结") || !strings.Contains(p, "按时办结") {
		t.Fatalf("after completion:\n%s", p)
	}
	regLogout(t, ctx)

	// 5. the applicant at home: status page and rating, no login
	must(t, ctx, "public status",
		chromedp.Navigate(base+"/public/case?n="+number),
		chromedp.WaitVisible("#tail"),
		chromedp.SendKeys("#tail", "1111"),
		chromedp.Submit("#tail"),
		chromedp.WaitVisible(".flash-error"),
	)
	must(t, ctx, "right digits",
		chromedp.SetValue("#n", number),
		chromedp.SendKeys("#tail", "2468"),
		chromedp.Submit("#tail"),
		chromedp.WaitVisible(".timeline"),
	)
	if p := text(t, ctx, "main"); !strings.Contains(p, "已办结") || !strings.Contains(p, "羊尖镇") || strings.Contains(p, "王秀英") {
		t.Fatalf("public page:\n%s", p)
	}
	must(t, ctx, "rate",
		chromedp.Click(`input[name="rating"][value="5"]`),
		chromedp.SendKeys("#comment", "跑一次就办好了"),
		chromedp.Click(`form[action="/public/case/rate"] button[type="submit"]`),
		chromedp.WaitVisible(".flash-success"),
	)
	shot(t, ctx, "window-public")
	if n := regCount(t, a, "SELECT COUNT(*) FROM cases WHERE rating = 5 AND agency = 1 AND on_time = 1 AND state = 'completed'"); n != 1 {
		t.Fatalf("stored case not rated/agency/on time (%d)", n)
	}

	// 6. the county's dashboard: every township's on-time rate this month,
	// the charts drawn, and the case ledger as XLSX
	regLogin(t, ctx, base, "county", demoPassword)
	must(t, ctx, "dashboard", chromedp.Navigate(base+"/window/dashboard"), chromedp.WaitVisible("#fig-children"),
		chromedp.WaitVisible("[data-chart] canvas, [data-chart] svg"))
	if got := text(t, ctx, "#fig-accepted"); got != "1" {
		t.Fatalf("accepted on the county dashboard: %q", got)
	}
	if rows := text(t, ctx, "#fig-children"); !strings.Contains(rows, "羊尖镇") || !strings.Contains(rows, "100") {
		t.Fatalf("townships' on-time rates:\n%s", rows)
	}
	shot(t, ctx, "window-dashboard")
	must(t, ctx, "ledger", chromedp.Click(`form[action="/window/ledger"] button[type="submit"]`), chromedp.WaitVisible("#job-progress"))
	id, _ := regWaitJob(t, ctx)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector('.job-files a[href^="/jobs/%d/files/"]').getAttribute('href')`, id)))
	if err != nil {
		t.Fatalf("ledger link: %v", err)
	}
	code, body := regFetch(t, ctx, href)
	if code != http.StatusOK {
		t.Fatalf("ledger download: %d", code)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) < 2 {
		t.Fatalf("ledger rows %v %v", rows, err)
	}
	if all := fmt.Sprint(rows); !strings.Contains(all, number) || !strings.Contains(all, "139****2468") || strings.Contains(all, "13900002468") {
		t.Fatalf("ledger:\n%v", rows)
	}
}
