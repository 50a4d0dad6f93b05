package window

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// Attachments (scans of materials, photos) are files under
// <data>/attachments/<case id / 1000>/<case id>/<sha256><ext>; the database
// keeps their name, type, size and hash. docs/operations.md says how they are
// backed up with the database.
const MaxAttachment = 8 << 20

// attachmentTypes are the accepted types (sniffed from the content, not
// trusted from the client) and their file extensions.
var attachmentTypes = map[string]string{
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
	"image/webp":      ".webp",
	"application/pdf": ".pdf",
}

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
	dir := filepath.Join(s.Attachments, strconv.FormatInt(c.ID/1000, 10), strconv.FormatInt(c.ID, 10))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Attachment{}, err
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return Attachment{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Attachment{}, err
	}
	head = head[:n]
	ctype := http.DetectContentType(head)
	ext, ok := attachmentTypes[ctype]
	if n == 0 || !ok {
		return Attachment{}, Errors{{Field: "file", Code: "file_type"}}
	}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(io.MultiReader(bytes.NewReader(head), r), MaxAttachment+1))
	if err != nil {
		if web.BodyTooLarge(err) {
			return Attachment{}, Errors{{Field: "file", Code: "file_size", Arg: strconv.Itoa(MaxAttachment >> 20)}}
		}
		return Attachment{}, err
	}
	if size > MaxAttachment {
		return Attachment{}, Errors{{Field: "file", Code: "file_size", Arg: strconv.Itoa(MaxAttachment >> 20)}}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := tmp.Close(); err != nil {
		return Attachment{}, err
	}
	final := filepath.Join(dir, sum+ext)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Attachment{}, err
	}
	rel, _ := filepath.Rel(s.Attachments, final)
	a := Attachment{CaseID: c.ID, Name: name, ContentType: ctype, Size: size, SHA256: sum, Path: filepath.ToSlash(rel),
		UploadedAt: db.Now(), UploadedBy: audit.ActorFrom(ctx).Name}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		if err := s.st.addAttachment(ctx, &a); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "case_attachment", EntityID: strconv.FormatInt(a.ID, 10),
			Division: c.Division, Changes: []audit.Change{{Field: "case", After: c.Number}, {Field: "name", After: name}, {Field: "size", After: size}}})
	})
	return a, err
}

// Attachment opens an attachment of a case the principal may see.
func (s *Service) Attachment(ctx context.Context, p *access.Principal, id, aid int64) (Attachment, *os.File, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	as, err := s.st.attachments(ctx, c.ID)
	if err != nil {
		return Attachment{}, nil, err
	}
	for _, a := range as {
		if a.ID == aid {
			f, err := os.Open(filepath.Join(s.Attachments, filepath.FromSlash(a.Path)))
			return a, f, err
		}
	}
	return Attachment{}, nil, db.ErrNotFound
}

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
	a, f, err := h.S.Attachment(r.Context(), p, c.ID, aid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", "inline; filename*=UTF-8''"+pathEscape(a.Name))
	w.Header().Set("Cache-Control", "private, no-store")
	st, _ := f.Stat()
	http.ServeContent(w, r, "", st.ModTime(), f)
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
