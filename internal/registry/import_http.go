package registry

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

// FilesHTTP serves the import and export pages: an upload is previewed,
// then imported by a background job; a ledger export is a job too. The
// job page (/jobs/{id}) shows progress, results and the files.
type FilesHTTP struct {
	S    *Service
	R    *web.Renderer
	Jobs *jobs.Runner
	// Uploads is where uploaded files wait between preview and start.
	Uploads string
}

// MaxUpload is the largest import file accepted (about ten million rows of
// CSV); Uploads lists the route for web.MaxBody.
const MaxUpload = 2 << 30

// Upload is the import route's body limit, for web.MaxBody.
var Upload = web.Upload{Method: http.MethodPost, Path: "/registry/import", Limit: MaxUpload}

// uploadTTL is how long a previewed upload waits to be started.
const uploadTTL = 24 * time.Hour

// Routes registers the pages (behind login).
func (h *FilesHTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /registry/import", h.importForm)
	mux.HandleFunc("POST /registry/import", h.upload)
	mux.HandleFunc("POST /registry/import/start", h.start)
	mux.HandleFunc("GET /registry/import/template.csv", h.template)
	mux.HandleFunc("GET /registry/export", h.exportForm)
	mux.HandleFunc("POST /registry/export", h.export)
}

type importPage struct {
	Form     webForm
	Unit     string // name of the chosen unit
	Fields   []importFieldHelp
	Preview  *Preview
	Token    string
	FileName string
	Division int64
	Mode     string
	Problems []string // catalogue keys of file-level problems
}

type importFieldHelp struct {
	Key      string
	Names    string
	Required bool
}

func importHelp() []importFieldHelp {
	out := make([]importFieldHelp, len(ImportFields))
	for i, f := range ImportFields {
		out[i] = importFieldHelp{Key: f.Key, Names: strings.Join(f.Synonyms, "、"), Required: f.Required}
	}
	return out
}

func (h *FilesHTTP) principal(w http.ResponseWriter, r *http.Request, perm string) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can(perm) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, false
	}
	return p, true
}

func (h *FilesHTTP) importForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r, "resident.import")
	if !ok {
		return
	}
	f := newWebForm("file", "division", "mode")
	if roots := p.Roots("resident.import"); len(roots) == 1 {
		f.Values.Set("division", strconv.FormatInt(roots[0], 10))
	}
	f.Values.Set("mode", ModeValidRows)
	h.renderForm(w, r, http.StatusOK, f)
}

func (h *FilesHTTP) renderForm(w http.ResponseWriter, r *http.Request, status int, f webForm) {
	d := importPage{Form: f, Fields: importHelp()}
	if c, err := strconv.ParseInt(f.V("division"), 10, 64); err == nil {
		d.Unit = h.S.places(r, c)
	}
	h.R.Page(w, r, status, "registry_import", d)
}

// places names a unit for a form.
func (s *Service) places(r *http.Request, code int64) string {
	if code == 0 {
		return ""
	}
	if d, err := s.Divisions.Get(r.Context(), code); err == nil {
		return d.Name
	}
	return ""
}

var tokenPattern = regexp.MustCompile(`^u(\d+)-[0-9a-f]{32}\.(csv|xlsx|txt)$`)

// upload streams the file to disk (never into memory) and shows the
// preview.
func (h *FilesHTTP) upload(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r, "resident.import")
	if !ok {
		return
	}
	// a large file on a slow line takes longer than the server's default
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(30 * time.Minute))
	f := newWebForm("file", "division", "mode")
	mr, err := r.MultipartReader()
	if err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	var token, name string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			h.removeUpload(token)
			if web.BodyTooLarge(err) {
				h.R.Error(w, r, http.StatusRequestEntityTooLarge, "")
				return
			}
			h.R.Error(w, r, http.StatusBadRequest, "")
			return
		}
		if part.FormName() == "file" {
			if part.FileName() == "" {
				continue
			}
			name = filepath.Base(part.FileName())
			token, err = h.save(p, name, part)
			if err != nil {
				if web.BodyTooLarge(err) {
					h.R.Error(w, r, http.StatusRequestEntityTooLarge, "")
					return
				}
				f.Errors["file"] = "registry.import.error.save"
				h.renderForm(w, r, http.StatusInternalServerError, f)
				return
			}
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(part, 4096))
		f.Values.Set(part.FormName(), strings.TrimSpace(string(b)))
	}
	div, err := strconv.ParseInt(f.V("division"), 10, 64)
	switch {
	case token == "":
		f.Errors["file"] = "registry.import.error.no_file"
	case !tokenPattern.MatchString(token):
		f.Errors["file"] = "registry.import.error.type"
	case err != nil || !p.CanAt("resident.import", div):
		f.Errors["division"] = "registry.import.error.division"
	}
	if f.V("mode") != ModeAllOrNothing {
		f.Values.Set("mode", ModeValidRows)
	}
	if len(f.Errors) > 0 {
		h.removeUpload(token)
		h.renderForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	params := ImportParams{Division: div, Mode: f.V("mode")}
	pv, err := h.S.PreviewImport(r.Context(), p, filepath.Join(h.Uploads, token), params, 10)
	if err != nil {
		h.removeUpload(token)
		f.Errors["file"] = readErrorKey(err)
		h.renderForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	for i := range pv.Rows {
		pv.Rows[i].Reason = DescribeErrors(i18n.Negotiate(r), pv.Rows[i].Errors)
		maskCells(pv.Header, pv.Columns, pv.Rows[i].Cells)
	}
	d := importPage{Form: f, Preview: &pv, Token: token, FileName: name, Division: div, Mode: params.Mode, Unit: h.S.places(r, div)}
	h.R.Page(w, r, http.StatusOK, "registry_import_preview", d)
}

// maskCells masks the ID numbers and phones of a preview row: the
// preview is a screen like any other.
func maskCells(header []string, columns map[string]string, cells []string) {
	for key, col := range columns {
		mask := idnum.MaskID
		switch key {
		case "id_number", "head_id":
		case "phone":
			mask = idnum.MaskPhone
		default:
			continue
		}
		for i, h := range header {
			if h == col && i < len(cells) && cells[i] != "" {
				cells[i] = mask(strings.TrimSpace(cells[i]))
			}
		}
	}
}

// readErrorKey is the message of a file that cannot be read at all.
func readErrorKey(err error) string {
	switch {
	case errors.Is(err, tabular.ErrLegacyXLS):
		return "registry.import.error.xls"
	case errors.Is(err, tabular.ErrNoHeader):
		return "registry.import.error.empty"
	case errors.Is(err, tabular.ErrCorrupt):
		return "registry.import.error.corrupt"
	}
	return "registry.import.error.read"
}

func (h *FilesHTTP) save(p *access.Principal, name string, src io.Reader) (string, error) {
	if err := os.MkdirAll(h.Uploads, 0o700); err != nil {
		return "", err
	}
	h.sweep()
	ext := strings.ToLower(filepath.Ext(name))
	if ext != ".csv" && ext != ".xlsx" && ext != ".txt" {
		_, _ = io.Copy(io.Discard, src)
		return "u0-" + strings.Repeat("0", 32) + ext, nil // refused by tokenPattern
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	token := fmt.Sprintf("u%d-%s%s", p.UserID, hex.EncodeToString(rnd[:]), ext)
	out, err := os.OpenFile(filepath.Join(h.Uploads, token), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		os.Remove(out.Name())
		return "", err
	}
	return token, out.Close()
}

func (h *FilesHTTP) removeUpload(token string) {
	if tokenPattern.MatchString(token) {
		_ = os.Remove(filepath.Join(h.Uploads, token))
	}
}

// sweep removes uploads previewed but never started.
func (h *FilesHTTP) sweep() {
	es, _ := os.ReadDir(h.Uploads)
	for _, e := range es {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > uploadTTL && tokenPattern.MatchString(e.Name()) {
			_ = os.Remove(filepath.Join(h.Uploads, e.Name()))
		}
	}
}

// start submits the import job for a previewed upload.
func (h *FilesHTTP) start(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r, "resident.import")
	if !ok {
		return
	}
	token := r.FormValue("token")
	m := tokenPattern.FindStringSubmatch(token)
	if m == nil || m[1] != strconv.FormatInt(p.UserID, 10) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	div, err := strconv.ParseInt(r.FormValue("division"), 10, 64)
	if err != nil || !p.CanAt("resident.import", div) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	mode := r.FormValue("mode")
	if mode != ModeAllOrNothing {
		mode = ModeValidRows
	}
	params := ImportParams{Division: div, Mode: mode, DryRun: r.FormValue("dry_run") == "1", FileName: r.FormValue("file_name"), Locale: i18n.Negotiate(r)}
	path := filepath.Join(h.Uploads, token)
	if _, err := os.Stat(path); err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if params.DryRun {
		// the file stays for the real run after the check
		cp := filepath.Join(h.Uploads, "dry-"+token)
		if err := copyFile(path, cp); err != nil {
			h.R.Error(w, r, http.StatusInternalServerError, "")
			return
		}
		path = cp
	}
	id, err := h.Jobs.Submit(r.Context(), p, jobs.Spec{Kind: JobImport, Division: div, Params: params, Input: path})
	if err != nil {
		h.R.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	http.Redirect(w, r, "/jobs/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// template downloads an empty import file with the standard header.
func (h *FilesHTTP) template(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.principal(w, r, "resident.import"); !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", jobs.ContentDisposition(i18n.T(i18n.Negotiate(r), "registry.import.template_name")+".csv"))
	tw := tabular.NewCSVWriter(w)
	header := make([]string, len(ImportFields))
	for i, f := range ImportFields {
		header[i] = f.Synonyms[0]
	}
	_ = tw.WriteHeader(header)
	_ = tw.Close()
}

type exportPage struct {
	Form      webForm
	Unit      string
	Ledgers   []string
	CanReveal bool
}

func (h *FilesHTTP) exportForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r, "resident.export")
	if !ok {
		return
	}
	f := newWebForm("ledger", "division", "format", "full")
	f.Values.Set("ledger", LedgerRegistered)
	f.Values.Set("format", "xlsx")
	if roots := p.Roots("resident.export"); len(roots) > 0 {
		f.Values.Set("division", strconv.FormatInt(roots[0], 10))
	}
	h.renderExport(w, r, http.StatusOK, p, f)
}

func (h *FilesHTTP) renderExport(w http.ResponseWriter, r *http.Request, status int, p *access.Principal, f webForm) {
	d := exportPage{Form: f, Ledgers: Ledgers, CanReveal: p.Can("resident.reveal")}
	if c, err := strconv.ParseInt(f.V("division"), 10, 64); err == nil {
		d.Unit = h.S.places(r, c)
	}
	h.R.Page(w, r, status, "registry_export", d)
}

func (h *FilesHTTP) export(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r, "resident.export")
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := newWebForm("ledger", "division", "format", "full")
	f.Values = r.PostForm
	f.Errors = map[string]string{}
	ep := ExportParams{Ledger: f.V("ledger"), Format: f.V("format"), Full: f.V("full") == "1", Locale: i18n.Negotiate(r)}
	div, err := strconv.ParseInt(f.V("division"), 10, 64)
	if err != nil {
		f.Errors["division"] = "registry.export.error.division"
		h.renderExport(w, r, http.StatusUnprocessableEntity, p, f)
		return
	}
	ep.Division = div
	if !p.CanAt("resident.export", div) {
		f.Errors["division"] = "registry.export.error.division"
		h.renderExport(w, r, http.StatusUnprocessableEntity, p, f)
		return
	}
	if err := h.S.CheckExport(r.Context(), p, ep); err != nil {
		switch {
		case errors.Is(err, ErrForbidden):
			f.Errors["full"] = "registry.export.error.full"
		case f.fail(err, nil):
		default:
			f.Errors["division"] = "registry.export.error.division"
		}
		h.renderExport(w, r, http.StatusUnprocessableEntity, p, f)
		return
	}
	id, err := h.Jobs.Submit(r.Context(), p, jobs.Spec{Kind: JobExport, Division: div, Params: ep})
	if err != nil {
		h.R.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	http.Redirect(w, r, "/jobs/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
