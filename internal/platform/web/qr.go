package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// Printed pages (receipts, agreements, bulletin-board sheets) carry a QR
// code back to the live record on the server.

// QRSVG renders text as a QR code in SVG (medium error correction), drawn
// from the code's module matrix so it prints sharp at any size and needs no
// image request.
func QRSVG(text string) (template.HTML, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", err
	}
	q.DisableBorder = false
	bm := q.Bitmap()
	n := len(bm)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" class="qr"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n, n, n)
	for y, row := range bm {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run - 1
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil
}

// BaseURL is the address residents reach this server at: the configured
// public URL, else the request's own scheme and host (the scheme from a
// proxy's X-Forwarded-Proto only when trustProxy).
func BaseURL(r *http.Request, public string, trustProxy bool) string {
	if public != "" {
		return public
	}
	scheme := "http"
	if r.TLS != nil || trustProxy && r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
