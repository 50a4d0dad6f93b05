package window

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/shequ-platform/shequ/internal/platform/web"
)

type receiptData struct {
	*caseData
	Size      string
	QR        template.HTML
	StatusURL string
}

// receipt is the printable acceptance receipt (受理回执), on A4 or on 80-mm
// thermal paper (?size=80mm), with a QR code to the public status page.
func (h *HTTP) receipt(w http.ResponseWriter, r *http.Request) {
	p, c, ok := h.loadCase(w, r)
	if !ok {
		return
	}
	d, err := h.caseData(r, p, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rd := receiptData{caseData: d, Size: r.URL.Query().Get("size"),
		StatusURL: web.BaseURL(r, h.PublicURL, h.TrustProxy) + "/public/case?n=" + url.QueryEscape(c.Number)}
	if rd.Size != "80mm" {
		rd.Size = "a4"
	}
	if rd.QR, err = web.QRSVG(rd.StatusURL); err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "window_receipt.html", rd)
}
