// Package open311 serves the service window and grid incidents through the
// Open311 GeoReport v2 API (http://wiki.open311.org/GeoReport_v2), so that
// existing Open311 apps and sites can list the service items residents may
// apply for online and the problems they may report (incidents.go), submit
// requests, and follow their status:
//
//	GET  /open311/discovery.{json,xml}                 service discovery
//	GET  /open311/v2/services.{json,xml}               the online service items
//	GET  /open311/v2/services/{service_code}.{json,xml} an item's form fields
//	POST /open311/v2/requests.{json,xml}               submit a request (api_key)
//	GET  /open311/v2/requests.{json,xml}               requests (Open311 ones only)
//	GET  /open311/v2/requests/{id}.{json,xml}          one request
//	GET  /open311/v2/tokens/{token}.{json,xml}         request id from a token
//
// A request becomes a case of channel "online" in state submitted, at the
// unit named by jurisdiction_id (a 12-digit township or village code), or
// else at the village of the nearest household within 3 km of lat/long
// (WGS-84; GCJ-02 and BD-09 are not accepted here), or else at the client's
// own township or village. The applicant's phone is required: it is how the
// resident looks the case up (its number and the phone's last four digits).
//
// Window cases carry residents' private matters, so the public reads return
// only cases that came in through Open311, and never names, phones or form
// values.
//
// The routes are public (mount them outside login); ClientsHTTP is the staff
// page that issues and revokes API keys (behind login).
package open311

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/window"
)

// Specification is the token of the GeoReport v2 specification in service
// discovery.
const Specification = "http://wiki.open311.org/GeoReport_v2"

// Paths of the API.
const (
	Root = "/open311"
	V2   = Root + "/v2"
)

// maxBody bounds a POST body: a request is a few form fields.
const maxBody = 64 << 10

// Content types of the two formats.
const (
	contentJSON = "application/json; charset=utf-8"
	contentXML  = "text/xml; charset=utf-8"
)

var china = time.FixedZone("CST", 8*3600)

// w3c writes unix milliseconds as a W3C date-time in China's time zone.
func w3c(ms int64) string { return time.UnixMilli(ms).In(china).Format(time.RFC3339) }

// HTTP serves the Open311 GeoReport v2 API.
type HTTP struct {
	S *window.Service
	// G serves grid incidents beside the window's items (nil: items only).
	G *grid.Service
	// BaseURL is the server's public URL (e.g. https://shequ.example.gov.cn)
	// for the endpoint URL in service discovery; empty: taken from the
	// request (see web.BaseURL).
	BaseURL    string
	TrustProxy bool
	// Contact is the discovery document's contact text; empty: a generic
	// text in the request's locale.
	Contact string
	// Log receives internal errors (the client only sees "internal error");
	// nil: slog.Default().
	Log *slog.Logger

	once      sync.Once
	changeset string
}

// Routes registers the API (mount outside login).
func (h *HTTP) Routes(mux *http.ServeMux) {
	h.init()
	mux.HandleFunc("GET "+Root+"/{file}", h.discovery)
	mux.HandleFunc("GET "+V2+"/{file}", h.list)
	mux.HandleFunc("POST "+V2+"/{file}", h.post)
	mux.HandleFunc("GET "+V2+"/services/{file}", h.definition)
	mux.HandleFunc("GET "+V2+"/requests/{file}", h.request)
	mux.HandleFunc("GET "+V2+"/tokens/{file}", h.token)
	mux.HandleFunc(Root+"/", h.notFound)
}

func (h *HTTP) init() {
	h.once.Do(func() {
		// the service list and definitions come from the packs loaded at
		// start and from admins' edits: a new start is a new changeset
		h.changeset = time.Now().In(china).Format(time.RFC3339)
		if h.Log == nil {
			h.Log = slog.Default()
		}
	})
}

// splitFormat splits "services.json" into "services" and "json"; ok is
// false for any other extension.
func splitFormat(file string) (name, format string, ok bool) {
	for _, f := range []string{"json", "xml"} {
		if n, found := strings.CutSuffix(file, "."+f); found && n != "" {
			return n, f, true
		}
	}
	return file, "json", false
}

// locale is the language of names, descriptions and error texts: the
// locale parameter, else the lang cookie or Accept-Language, else zh-CN.
func locale(r *http.Request) string {
	if l := r.Form.Get("locale"); l != "" {
		if loc, ok := i18n.Match(l); ok {
			return loc
		}
	}
	return i18n.Negotiate(r)
}

// send writes a response in format: jv as JSON, xv as XML (with the XML
// declaration the specification asks for).
func (h *HTTP) send(w http.ResponseWriter, r *http.Request, format string, status int, jv, xv any) {
	var buf bytes.Buffer
	hd := w.Header()
	if format == "xml" {
		buf.WriteString(xml.Header)
		enc := xml.NewEncoder(&buf)
		enc.Indent("", "  ")
		if err := enc.Encode(xv); err != nil {
			h.internal(w, r, format, err)
			return
		}
		buf.WriteByte('\n')
		hd.Set("Content-Type", contentXML)
	} else {
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(jv); err != nil {
			h.internal(w, r, format, err)
			return
		}
		hd.Set("Content-Type", contentJSON)
	}
	hd.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// public data, the same for every caller: any site may read it
		hd.Set("Access-Control-Allow-Origin", "*")
	}
	if hd.Get("Cache-Control") == "" {
		hd.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// Error is one entry of the specification's error array. Code is the HTTP
// status of the response.
type Error struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type xmlErrors struct {
	XMLName xml.Name `xml:"errors"`
	Errors  []Error  `xml:"error"`
}

// fail writes the error array with status.
func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, format string, status int, descriptions ...string) {
	errs := make([]Error, len(descriptions))
	for i, d := range descriptions {
		errs[i] = Error{Code: status, Description: d}
	}
	h.send(w, r, format, status, errs, xmlErrors{Errors: errs})
}

func (h *HTTP) internal(w http.ResponseWriter, r *http.Request, format string, err error) {
	h.init()
	h.Log.ErrorContext(r.Context(), "open311: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if format == "" {
		format = "json"
	}
	var buf bytes.Buffer
	errs := []Error{{Code: http.StatusInternalServerError, Description: i18n.T(locale(r), "open311.error.internal")}}
	if format == "xml" {
		w.Header().Set("Content-Type", contentXML)
		buf.WriteString(xml.Header)
		_ = xml.NewEncoder(&buf).Encode(xmlErrors{Errors: errs})
	} else {
		w.Header().Set("Content-Type", contentJSON)
		_ = json.NewEncoder(&buf).Encode(errs)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(buf.Bytes())
}

// parse reads the query (and a POST's form body) and the response format
// from the path's last segment; it answers the error itself when it returns
// false.
func (h *HTTP) parse(w http.ResponseWriter, r *http.Request) (name, format string, ok bool) {
	name, format, known := splitFormat(r.PathValue("file"))
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	if err := r.ParseForm(); err != nil {
		if r.Form == nil {
			r.Form = map[string][]string{}
		}
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			h.fail(w, r, format, http.StatusBadRequest, i18n.T(locale(r), "open311.error.too_large", maxBody>>10))
		} else {
			h.fail(w, r, format, http.StatusBadRequest, i18n.T(locale(r), "open311.error.malformed"))
		}
		return "", "", false
	}
	if !known {
		h.fail(w, r, format, http.StatusNotFound, i18n.T(locale(r), "open311.error.format"))
		return "", "", false
	}
	return name, format, true
}

func (h *HTTP) notFound(w http.ResponseWriter, r *http.Request) {
	r.Form = r.URL.Query() // the body of a request to nowhere is not read
	_, format, _ := splitFormat(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:])
	h.fail(w, r, format, http.StatusNotFound, i18n.T(locale(r), "open311.error.not_found"))
}

// jurisdiction reads a jurisdiction_id: "" is none (0); else a 12-digit
// statistical code (15 digits and the 6- and 9-digit prefixes are accepted
// too) of an existing unit. It returns the HTTP status and the error text
// when the code is malformed (400) or unknown (404), or 500 and the error
// when the lookup failed (answer those with failStatus).
func (h *HTTP) jurisdiction(ctx context.Context, loc, s string) (int64, int, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, ""
	}
	code, err := division.Parse(s)
	if err != nil || code == 0 || ids.Level(code) > 5 {
		return 0, http.StatusBadRequest, i18n.T(loc, "open311.error.jurisdiction_format")
	}
	d, err := h.S.Divisions.Get(ctx, code)
	if errors.Is(err, db.ErrNotFound) || err == nil && d.Retired {
		return 0, http.StatusNotFound, i18n.T(loc, "open311.error.jurisdiction_unknown", s)
	}
	if err != nil {
		return 0, http.StatusInternalServerError, err.Error()
	}
	return code, 0, ""
}

// failStatus writes the error array of status with msg, or, for status 500
// (msg then holds the internal error), logs it and answers "internal error".
func (h *HTTP) failStatus(w http.ResponseWriter, r *http.Request, format string, status int, msg string) {
	if status == http.StatusInternalServerError {
		h.internal(w, r, format, errors.New(msg))
		return
	}
	h.fail(w, r, format, status, msg)
}
