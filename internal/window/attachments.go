package window

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/sealed"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// Attachments (scans of ID cards and other materials, photos; JPEG, PNG,
// WebP or PDF, the type sniffed from the content) are files under
// <data>/attachments/<case id / 1000>/<case id>/<sha256>.enc, sealed with the
// personal-data key by internal/platform/sealed: a copied data directory
// shows nothing. The database keeps their name, type, size
// and the hash of the plain content. docs/operations.md says how they are
// backed up with the database and the key file.
const MaxAttachment = 8 << 20

// Attach stores a file on a case the principal may act on (window.intake or
// window.handle where it is accepted or handled). The file is written before
// its row; a failed transaction leaves at most an orphan file, never a row
// without its file.
func (s *Service) Attach(ctx context.Context, p *access.Principal, id int64, name string, r io.Reader) (Attachment, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return Attachment{}, err
	}
	if !sees(p, "window.intake", c) && !sees(p, "window.handle", c) {
		return Attachment{}, ErrForbidden
	}
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, `\`, "/")))
	if name == "" || name == "." || name == "/" {
		name = "attachment"
	}
	if utf8.RuneCountInString(name) > 120 {
		name = string([]rune(name)[:120])
	}
	data, ctype, err := sealed.Read(r, MaxAttachment, sealed.Documents)
	switch {
	case errors.Is(err, sealed.ErrTooLarge):
		return Attachment{}, Errors{{Field: "file", Code: "file_size", Arg: strconv.Itoa(MaxAttachment >> 20)}}
	case errors.Is(err, sealed.ErrType):
		return Attachment{}, Errors{{Field: "file", Code: "file_type"}}
	case err != nil:
		return Attachment{}, err
	}
	f, err := s.files().Seal("", c.ID, data, ctype)
	if err != nil {
		return Attachment{}, err
	}
	a := Attachment{CaseID: c.ID, Name: name, ContentType: f.ContentType, Size: f.Size, SHA256: f.SHA256,
		Path: f.Rel, UploadedAt: db.Now(), UploadedBy: audit.ActorFrom(ctx).Name}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		if err := s.st.addAttachment(ctx, &a); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "case_attachment", EntityID: strconv.FormatInt(a.ID, 10),
			Division: c.Division, Changes: []audit.Change{{Field: "case", After: c.Number}, {Field: "name", After: name}, {Field: "size", After: a.Size}}})
	})
	return a, err
}

// Attachment reads and decrypts an attachment of a case the principal may
// see.
func (s *Service) Attachment(ctx context.Context, p *access.Principal, id, aid int64) (Attachment, []byte, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	as, err := s.st.attachments(ctx, c.ID)
	if err != nil {
		return Attachment{}, nil, err
	}
	for _, a := range as {
		if a.ID != aid {
			continue
		}
		plain, err := s.files().Open(a.Path)
		return a, plain, err
	}
	return Attachment{}, nil, db.ErrNotFound
}

// reencryptAttachments rewrites the attachment files not sealed with the
// current key version, each through a temporary file and a rename.
func (s *Service) reencryptAttachments(ctx context.Context) (int64, error) {
	rows, err := s.DB.Query(ctx, `SELECT path FROM case_attachments ORDER BY id`)
	if err != nil {
		return 0, err
	}
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return 0, err
		}
		paths = append(paths, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return s.files().Reseal(paths)
}

// files is the sealed store of attachments.
func (s *Service) files() *sealed.Store { return &sealed.Store{Dir: s.Attachments, Keys: s.Keys} }

func (h *HTTP) upload(w http.ResponseWriter, r *http.Request) {
	p, c, ok := h.loadCase(w, r)
	if !ok {
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		code := "file_missing"
		if web.BodyTooLarge(err) {
			code = "file_size"
		}
		h.uploadFailed(w, r, p, c, &FieldError{Field: "file", Code: code, Arg: strconv.Itoa(MaxAttachment >> 20)})
		return
	}
	defer file.Close()
	_, err = h.S.Attach(r.Context(), p, c.ID, hdr.Filename, file)
	var es Errors
	if errors.As(err, &es) && len(es) > 0 {
		h.uploadFailed(w, r, p, c, es[0])
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/window/cases/%d?done=attach#attachments", c.ID), http.StatusSeeOther)
}

func (h *HTTP) uploadFailed(w http.ResponseWriter, r *http.Request, p *access.Principal, c Case, e *FieldError) {
	d, err := h.caseData(r, p, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Errors["file"] = errorText(d.Locale, e)
	h.R.Page(w, r, http.StatusUnprocessableEntity, "window_case.html", d)
}

func (h *HTTP) download(w http.ResponseWriter, r *http.Request) {
	p, c, ok := h.loadCase(w, r)
	if !ok {
		return
	}
	aid, _ := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	a, data, err := h.S.Attachment(r.Context(), p, c.ID, aid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", "inline; filename*=UTF-8''"+pathEscape(a.Name))
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", time.UnixMilli(a.UploadedAt), bytes.NewReader(data))
}

func pathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
