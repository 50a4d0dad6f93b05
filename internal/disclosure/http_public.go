package disclosure

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// PublicHTTP serves the public portal (no login): /public/{village code}
// and its sub-pages, the A3 sheet, the kiosk and the calendar feed.
type PublicHTTP struct {
	S *Service
	R *web.Renderer
	// PublicURL and TrustProxy decide the address printed in QR codes.
	PublicURL  string
	TrustProxy bool
}

// Routes registers the portal (mount outside login). {code} is the
// village's 12-digit statistical code.
func (h *PublicHTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /public/{code}", h.portal)
	mux.HandleFunc("GET /public/{code}/notices/{id}", h.notice)
	mux.HandleFunc("GET /public/{code}/documents/{id}", h.document)
	mux.HandleFunc("GET /public/{code}/matters/{number}", h.matter)
	mux.HandleFunc("POST /public/{code}/matters/{number}/rate", h.rate)
	mux.HandleFunc("GET /public/{code}/photos/{id}", h.photo)
	mux.HandleFunc("GET /public/{code}/board", h.board)
	mux.HandleFunc("GET /public/{code}/kiosk", h.kiosk)
	mux.HandleFunc("GET /public/{code}/kiosk/{section}", h.kiosk)
	mux.HandleFunc("GET /public/{code}/calendar.ics", h.calendar)
}

// PortalCache is the Cache-Control of the portal's pages: they hold
// nothing personal and change a few times a day, so a proxy or a phone
// may keep them a minute.
const PortalCache = "public, max-age=60"

// DeviceCookie is the browser's random identity for ratings (one scored
// rating per device, matter and year; docs/decisions/0009).
const DeviceCookie = "shequ_device"

// pubView is the dot's .Data of every portal page.
type pubView struct {
	*Portal
	Code    string // the 12-digit code
	Base    string // /public/{code}
	Locale  string
	URL     string // the page's absolute address (the QR code's)
	QR      template.HTML
	Section string // the kiosk's section ("" on its start page)
	// Kiosk: the page is shown on the kiosk (its start and section pages,
	// and the pages they link to with ?k=1): large type, and back to the
	// start after 90 s without a touch.
	Kiosk bool
	// the board: what it shows was published or decided since this day
	// (the first day of the previous month), and the latest statement
	BoardSince      int
	LatestStatement *Notice
	// a sub-page's record
	Notice   *Notice
	Document *governance.Document
	Matter   *MatterView
	Steps    []governance.Step
	// the rating form
	Rate      rateForm
	CanRate   bool // the matter is at its evaluate stage: a score
	CanRemark bool // at its implement stage: a supervision comment

	s *Service
}

type rateForm struct {
	Score   string
	Comment string
	Error   string
	Done    bool
}

// village resolves {code}, answering 404 (in the request's language) when
// it is not a village.
func (h *PublicHTTP) village(w http.ResponseWriter, r *http.Request) (division.Division, bool) {
	v, err := h.S.PortalVillage(r.Context(), r.PathValue("code"))
	if err != nil {
		h.fail(w, r, err)
		return division.Division{}, false
	}
	return v, true
}

func (h *PublicHTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, db.ErrNotFound) {
		h.R.Error(w, r, http.StatusNotFound, "pub.not_found")
		return
	}
	slog.ErrorContext(r.Context(), "disclosure: portal request failed", "path", r.URL.Path, "err", err)
	h.R.Error(w, r, http.StatusInternalServerError, "")
}

// view builds a page's data; full composes the whole portal (the front
// page, the board, the kiosk), else only the village.
func (h *PublicHTTP) view(r *http.Request, v division.Division, full bool) (*pubView, error) {
	pv := &pubView{Code: PortalCode(v.Code), Locale: i18n.Negotiate(r), s: h.S, Kiosk: r.URL.Query().Get("k") == "1"}
	pv.Base = "/public/" + pv.Code
	if full {
		p, err := h.S.Portal(r.Context(), v)
		if err != nil {
			return nil, err
		}
		pv.Portal = p
	} else {
		pv.Portal = &Portal{Village: v, Today: h.S.Today(), Year: h.S.Today() / 10000}
		if t, err := h.S.Divisions.Get(r.Context(), v.Parent); err == nil {
			pv.Township = t.Name
		}
	}
	return pv, nil
}

// page writes a portal page: the whole document is the block "pubdoc" of
// the page's file (its own small stylesheet, no script but the kiosk's).
func (h *PublicHTTP) page(w http.ResponseWriter, r *http.Request, status int, name string, pv *pubView) {
	hd := w.Header()
	switch {
	case status == http.StatusOK && name == "pub_matter.html":
		// A matter's page carries the rating form, whose state follows
		// the matter's stage and this device's rating: a resident who
		// has just rated, or reloads after a vote, must see it as it is.
		hd.Set("Cache-Control", "no-cache")
	case status == http.StatusOK:
		hd.Set("Cache-Control", PortalCache)
	default:
		hd.Set("Cache-Control", "no-store")
	}
	hd.Set("Vary", "Accept-Language, Cookie")
	h.R.Partial(w, r, status, name, "pubdoc", pv)
}

func (h *PublicHTTP) portal(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	pv, err := h.view(r, v, true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, r, http.StatusOK, "pub_portal", pv)
}

func (h *PublicHTTP) notice(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, db.ErrNotFound)
		return
	}
	n, err := h.S.PublicNotice(r.Context(), v.Code, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pv, err := h.view(r, v, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pv.Notice = &n
	h.page(w, r, http.StatusOK, "pub_notice", pv)
}

func (h *PublicHTTP) document(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || h.S.Governance == nil {
		h.fail(w, r, db.ErrNotFound)
		return
	}
	docs, err := h.S.Governance.PublicDocuments(r.Context(), v.Code)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(docs, func(d governance.Document) bool { return d.ID == id })
	if i < 0 || docs[i].Current.Version == 0 {
		h.fail(w, r, db.ErrNotFound)
		return
	}
	pv, err := h.view(r, v, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pv.Document = &docs[i]
	h.page(w, r, http.StatusOK, "pub_document", pv)
}

// matterView fills a matter's page.
func (h *PublicHTTP) matterView(r *http.Request, v division.Division) (*pubView, error) {
	if h.S.Governance == nil {
		return nil, db.ErrNotFound
	}
	m, steps, err := h.S.PublicMatter(r.Context(), v.Code, r.PathValue("number"))
	if err != nil {
		return nil, err
	}
	pv, err := h.view(r, v, false)
	if err != nil {
		return nil, err
	}
	pv.Matter, pv.Steps = &m, steps
	open := m.Open()
	pv.CanRate = open && m.StageKind == "evaluate"
	pv.CanRemark = open && m.StageKind == "implement"
	pv.Rate.Done = r.URL.Query().Get("rated") == "1"
	return pv, nil
}

func (h *PublicHTTP) matter(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	pv, err := h.matterView(r, v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, r, http.StatusOK, "pub_matter", pv)
}

// device returns the browser's device cookie, setting a new random one
// when it has none.
func device(w http.ResponseWriter, r *http.Request, secure bool) string {
	if c, err := r.Cookie(DeviceCookie); err == nil && len(c.Value) == 32 {
		if _, err := hex.DecodeString(c.Value); err == nil {
			return c.Value
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	v := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: v, Path: "/public/", MaxAge: 2 * 366 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure})
	return v
}

// deviceHash is what governance receives of a device: a hash of the
// cookie (governance keeps a keyed hash of that), never the cookie itself.
func deviceHash(cookie string) string {
	sum := sha256.Sum256([]byte("shequ.device:" + cookie))
	return hex.EncodeToString(sum[:])
}

func (h *PublicHTTP) rate(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	if h.S.Governance == nil {
		h.fail(w, r, db.ErrNotFound)
		return
	}
	pv, err := h.matterView(r, v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := r.PostForm
	pv.Rate.Score, pv.Rate.Comment = f.Get("score"), f.Get("comment")
	score, serr := strconv.Atoi(strings.TrimSpace(f.Get("score")))
	if pv.CanRate && (serr != nil || score < 1 || score > 5) {
		// a year-end evaluation takes a score (a comment alone is for the
		// implementation), so a missing one is asked for, not sent on
		pv.Rate.Error = i18n.T(pv.Locale, "pub.rate.score")
		h.page(w, r, http.StatusUnprocessableEntity, "pub_matter", pv)
		return
	}
	secure := r.TLS != nil || h.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https"
	dev := device(w, r, secure)
	number := pv.Matter.Number
	err = h.S.Governance.Rate(r.Context(), v.Code, number, deviceHash(dev), score, f.Get("comment"))
	if err == nil {
		k := ""
		if f.Get("k") == "1" {
			k = "&k=1"
		}
		http.Redirect(w, r, "/public/"+PortalCode(v.Code)+"/matters/"+url.PathEscape(number)+"?rated=1"+k+"#rate", http.StatusSeeOther)
		return
	}
	if errors.Is(err, db.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	loc := pv.Locale
	status := http.StatusUnprocessableEntity
	var es field.Errors
	var pe *governance.ProcedureError
	switch {
	case errors.Is(err, governance.ErrAlreadyRated):
		pv.Rate.Error, status = i18n.T(loc, "pub.rate.already"), http.StatusConflict
	case errors.As(err, &pe):
		pv.Rate.Error, status = i18n.T(loc, "pub.rate.closed"), http.StatusConflict
	case errors.As(err, &es) && len(es) > 0:
		switch es[0].Code {
		case "score_range":
			pv.Rate.Error = i18n.T(loc, "pub.rate.score")
		case "required":
			pv.Rate.Error = i18n.T(loc, "pub.rate.comment_required")
		default:
			pv.Rate.Error = i18n.T(loc, "pub.rate.too_long")
		}
	default:
		h.fail(w, r, err)
		return
	}
	h.page(w, r, status, "pub_matter", pv)
}

// photoTypes are the image types served inline.
var photoTypes = []string{"image/jpeg", "image/png", "image/webp", "image/gif"}

func (h *PublicHTTP) photo(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || h.S.Governance == nil {
		h.fail(w, r, db.ErrNotFound)
		return
	}
	mime, data, err := h.S.Governance.PublicPhoto(r.Context(), v.Code, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hd := w.Header()
	if !slices.Contains(photoTypes, mime) {
		mime = "application/octet-stream"
		hd.Set("Content-Disposition", "attachment")
	}
	hd.Set("Content-Type", mime)
	hd.Set("Cache-Control", "public, max-age=86400")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// board is the printable A3 bulletin-board sheet (公开栏): the current
// period's notices, the recent resolutions, the matters' stages and the
// finance summary, with a QR code back to the portal.
func (h *PublicHTTP) board(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	pv, err := h.view(r, v, true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pv.URL = web.BaseURL(r, h.PublicURL, h.TrustProxy) + pv.Base
	pv.Kiosk = false
	pv.BoardSince = PeriodOf(policy.EveryMonth, pv.Today).Prev().From()
	if len(pv.Statements) > 0 {
		pv.LatestStatement = &pv.Statements[0]
	}
	if pv.QR, err = web.QRSVG(pv.URL); err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, r, http.StatusOK, "pub_board", pv)
}

// KioskSections are the kiosk's sections, in the order of its buttons.
var KioskSections = []string{"notices", "resolutions", "matters", "goals", "finance", "figures", "meetings", "bodies", "documents",
	"elections", "compliance"}

// kiosk is the touch-screen mode: big buttons for the sections on its
// start page, one section per page in large type, and a return to the
// start after 90 s without a touch (pub-kiosk.js).
func (h *PublicHTTP) kiosk(w http.ResponseWriter, r *http.Request) {
	v, ok := h.village(w, r)
	if !ok {
		return
	}
	section := r.PathValue("section")
	if section != "" && !slices.Contains(KioskSections, section) {
		h.fail(w, r, db.ErrNotFound)
		return
	}
	pv, err := h.view(r, v, true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pv.Kiosk, pv.Section = true, section
	h.page(w, r, http.StatusOK, "pub_kiosk", pv)
}

// Link is a portal path as the page links to it: on the kiosk with ?k=1,
// so the page it leads to keeps the kiosk's large type and idle return.
func (pv *pubView) Link(path string) string {
	if pv.Kiosk {
		return path + "?k=1"
	}
	return path
}

// ItemLabel names a disclosure item of the village's pack.
func (pv *pubView) ItemLabel(key string) string {
	return pv.s.ItemLabel(pv.Village.Code, key, pv.Locale)
}

// PostLabel names a post of a body kind of the village's pack.
func (pv *pubView) PostLabel(kind, post string) string {
	if g := pv.s.Rules(pv.Village.Code); g != nil {
		if b, ok := g.Body(kind); ok {
			if p, ok := b.Post(post); ok {
				return p.Label.Get(pv.Locale)
			}
		}
	}
	return post
}

// barStep is a progress percentage rounded to tens, for the bars' classes
// (no inline styles under the CSP).
func barStep(p int) int { return min(max((p+5)/10*10, 0), 100) }
