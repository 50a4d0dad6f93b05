package mediation

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/shequ-platform/shequ/internal/platform/web"
)

type agreementData struct {
	*disputeData
	// Parties in the order the agreement lists them: applicants,
	// respondents, others.
	Ordered []Party
	// Copies is how many originals are signed: one per party and one for
	// the committee.
	Copies int
	QR     template.HTML
	URL    string // where the QR code leads: the dispute's page
}

// agreement is the printable settlement agreement (人民调解协议书) of a
// settled dispute, on A4: its number, the parties (ID numbers and phones
// masked), the facts, the agreed terms and how they are carried out, the
// legal force of the agreement (人民调解法 第三十一条), lines for the parties'
// and the mediators' signatures, the committee's seal and the date, with a
// QR code to the dispute's page. Other disputes have no agreement (409).
func (h *HTTP) agreement(w http.ResponseWriter, r *http.Request) {
	p, d, ok := h.load(w, r)
	if !ok {
		return
	}
	if d.State != StateSettled {
		h.R.Error(w, r, http.StatusConflict, "mediation.agreement.not_settled")
		return
	}
	ad := agreementData{disputeData: h.disputeData(r, p, d), Copies: len(d.Parties) + 1,
		URL: web.BaseURL(r, h.PublicURL, h.TrustProxy) + "/mediation/" + strconv.FormatInt(d.ID, 10)}
	for _, side := range Sides {
		ad.Ordered = append(ad.Ordered, d.Side(side)...)
	}
	var err error
	if ad.QR, err = web.QRSVG(ad.URL); err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "mediation_agreement.html", ad)
}
