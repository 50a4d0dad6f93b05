package jobs

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the job pages (job_list, job_page, _job_progress), for the renderer.
func Templates() embed.FS { return templates }

// HTTP serves the job pages: mount its routes behind login.
type HTTP struct {
	R  *Runner
	Rd *web.Renderer
}

// Routes registers the job pages.
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /jobs", h.list)
	mux.HandleFunc("GET /jobs/{id}", h.page)
	mux.HandleFunc("GET /jobs/{id}/progress", h.progress)
	mux.HandleFunc("POST /jobs/{id}/cancel", h.cancel)
	mux.HandleFunc("POST /jobs/{id}/resume", h.resume)
	mux.HandleFunc("GET /jobs/{id}/files/{name}", h.file)
}

// jobView is what the templates get for one job.
type jobView struct {
	Job         Job
	Title       string // i18n key of the kind (or its name when unregistered)
	Badge       string // CSS class of the status badge
	Active      bool
	Determinate bool  // the progress bar has a value (Total known or finished)
	Percent     int64 // 0–100
	IsOwner     bool
	CanCancel   bool
	CanResume   bool
	Results     []resultRow
	Files       []fileView
}

type resultRow struct{ Label, Value string }

type fileView struct {
	File
	Href, Size string
}

type listView struct{ Jobs []jobView }

func (h *HTTP) view(p *access.Principal, j Job, full bool) jobView {
	v := jobView{Job: j, Title: j.Kind, Active: j.Status.Active()}
	k, known := h.R.kind(j.Kind)
	if known && k.Title != "" {
		v.Title = k.Title
	}
	switch j.Status {
	case Done:
		v.Badge = "badge-ok"
	case Failed:
		v.Badge = "badge-danger"
	case Running:
		v.Badge = "badge-warn"
	default:
		v.Badge = "badge-muted"
	}
	switch {
	case j.Status == Done && j.Total <= 0:
		v.Percent, v.Determinate = 100, true
	case j.Total > 0:
		v.Percent, v.Determinate = min(max(j.Done*100/j.Total, 0), 100), true
	case j.Status == Queued:
		v.Determinate = true
	}
	if !full {
		return v
	}
	v.IsOwner = p != nil && p.UserID != 0 && p.UserID == j.UserID
	control := h.R.canControl(p, j)
	v.CanCancel = control && v.Active
	v.CanResume = control && j.Status == Failed && known && k.Resumable
	v.Results = resultRows(j.Result)
	for _, f := range j.Files {
		v.Files = append(v.Files, fileView{File: f, Size: humanSize(f.Size),
			Href: "/jobs/" + strconv.FormatInt(j.ID, 10) + "/files/" + pathEscape(f.Name)})
	}
	return v
}

// resultRows turns a JSON object's number and string members, in order,
// into rows labelled "job.result.<member>".
func resultRows(b json.RawMessage) []resultRow {
	if len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []resultRow
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out
		}
		key, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return out
		}
		switch v := v.(type) {
		case json.Number:
			out = append(out, resultRow{Label: "job.result." + key, Value: v.String()})
		case string:
			out = append(out, resultRow{Label: "job.result." + key, Value: v})
		}
	}
	return out
}

func humanSize(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1024*1024*1024))
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	jobs, err := h.R.List(r.Context(), p, 100)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := listView{}
	for _, j := range jobs {
		d.Jobs = append(d.Jobs, h.view(p, j, false))
	}
	h.Rd.Page(w, r, http.StatusOK, "job_list", d)
}

// load fetches the job named in the path, answering 404 itself when it is
// missing or not the principal's to see.
func (h *HTTP) load(w http.ResponseWriter, r *http.Request) (Job, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.Rd.Error(w, r, http.StatusNotFound, "")
		return Job{}, false
	}
	j, err := h.R.Get(r.Context(), access.From(r.Context()), id)
	if err != nil {
		h.fail(w, r, err)
		return Job{}, false
	}
	return j, true
}

func (h *HTTP) page(w http.ResponseWriter, r *http.Request) {
	if j, ok := h.load(w, r); ok {
		h.Rd.Page(w, r, http.StatusOK, "job_page", h.view(access.From(r.Context()), j, true))
	}
}

// progress is the fragment the job page polls while the job is active.
// Once the job has finished, an htmx request gets HX-Refresh so the page
// reloads with its results, files and buttons.
func (h *HTTP) progress(w http.ResponseWriter, r *http.Request) {
	j, ok := h.load(w, r)
	if !ok {
		return
	}
	if !j.Status.Active() && r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Refresh", "true")
	}
	h.Rd.Partial(w, r, http.StatusOK, "_job_progress", "job_progress", h.view(access.From(r.Context()), j, true))
}

func (h *HTTP) cancel(w http.ResponseWriter, r *http.Request) {
	h.act(w, r, h.R.Cancel)
}

func (h *HTTP) resume(w http.ResponseWriter, r *http.Request) {
	h.act(w, r, h.R.Resume)
}

func (h *HTTP) act(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, p *access.Principal, id int64) error) {
	j, ok := h.load(w, r)
	if !ok {
		return
	}
	err := do(r.Context(), access.From(r.Context()), j.ID)
	if err != nil && !errors.Is(err, ErrNotResumable) {
		h.fail(w, r, err)
		return
	}
	// a job no longer in the state the button was for: the page shows why
	http.Redirect(w, r, "/jobs/"+strconv.FormatInt(j.ID, 10), http.StatusSeeOther)
}

func (h *HTTP) file(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.Rd.Error(w, r, http.StatusNotFound, "")
		return
	}
	f, meta, err := h.R.Open(r.Context(), access.From(r.Context()), id, r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ct := mime.TypeByExtension(strings.ToLower(filepath.Ext(meta.Name)))
	if ct == "" {
		ct = "application/octet-stream"
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("Content-Disposition", ContentDisposition(meta.Name))
	hd.Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, db.ErrNotFound) {
		h.Rd.Error(w, r, http.StatusNotFound, "")
		return
	}
	h.R.log.ErrorContext(r.Context(), "jobs: http", "path", r.URL.Path, "err", err)
	h.Rd.Error(w, r, http.StatusInternalServerError, "")
}

// ContentDisposition returns an attachment header value for name: an ASCII
// fallback filename and the RFC 5987 filename* form, so that Chinese names
// arrive intact.
func ContentDisposition(name string) string {
	var fb strings.Builder
	for _, c := range name {
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' && c != ';' {
			fb.WriteRune(c)
		} else {
			fb.WriteByte('_')
		}
	}
	return `attachment; filename="` + fb.String() + `"; filename*=UTF-8''` + pathEscape(name)
}

// pathEscape percent-encodes everything but RFC 5987 attr-chars (which
// are also safe in a URL path segment, apart from those left out here).
func pathEscape(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}
