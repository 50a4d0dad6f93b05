package grid

// Resumable photo uploads: a small tus-like protocol for phones on a poor
// connection. The phone announces a photo (POST /grid/uploads {size, type}),
// appends chunks at the offset the server holds (PATCH with Upload-Offset),
// asks for that offset after a broken connection (HEAD) and carries on from
// there; the report then names the finished uploads instead of sending the
// photos again. The rows are the uploads table (migration 00008); the bytes
// live in <attachments>/uploads/<id>.part until the report that uses them
// commits (DoneUpload) or PurgeUploads removes them a day later.
//
// The bytes are sealed chunk by chunk with the personal-data key, like every
// other file of the data directory: a phone's photo shows faces, house
// numbers and car plates, and internal/platform/sealed promises that a
// copied data directory shows nothing. The cost is one SM4-GCM per chunk
// (a few per photo), which a phone's upload speed dwarfs. A .part file is a
// run of records, each an 8-byte header (the chunk's plain length and the
// sealed text's length, big-endian uint32) followed by the sealed text.
//
// The row is the truth about how much arrived: an append writes its record
// first and then moves received on in the same transaction, which locks the
// row (PostgreSQL) or holds the single writer (SQLite), so two retries of
// one chunk never interleave. A record written by an append whose
// transaction then failed is cut off by the next append, which first
// truncates the file to the records received counts.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/sealed"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// Limits of the upload protocol.
const (
	// MaxChunk bounds the body of one PATCH (phones send 128 KB).
	MaxChunk = 256 << 10
	// MaxPendingUploads bounds one account's uploads not yet used by a
	// report; more are refused until PurgeUploads or a report frees some.
	MaxPendingUploads = 30
	// UploadTTL is how long an unused upload is kept (the app calls
	// PurgeUploads with it).
	UploadTTL = 24 * time.Hour
)

var (
	// ErrUploadIncomplete: the upload has not received all its bytes.
	ErrUploadIncomplete = errors.New("grid: upload incomplete")
	// ErrTooManyUploads: the account has MaxPendingUploads unused uploads.
	ErrTooManyUploads = errors.New("grid: too many pending uploads")
	// ErrChunkTooLarge: a chunk over MaxChunk.
	ErrChunkTooLarge = errors.New("grid: upload chunk too large")
)

// OffsetError is a chunk sent at another offset than the one the server
// holds; the client resumes from Offset.
type OffsetError struct{ Offset int64 }

func (e *OffsetError) Error() string {
	return "grid: upload offset mismatch, server has " + strconv.FormatInt(e.Offset, 10)
}

// Upload is one resumable upload.
type Upload struct {
	ID        string
	UserID    int64
	Size      int64 // announced
	Received  int64
	CreatedAt int64 // unix ms
	Used      bool
}

// Complete reports whether every announced byte has arrived.
func (u Upload) Complete() bool { return u.Received == u.Size }

// uploadIDs are 26 characters of lower-case base32 (128 random bits).
var (
	uploadEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	uploadIDRE     = regexp.MustCompile(`^[a-z2-7]{26}$`)
)

func newUploadID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return uploadEncoding.EncodeToString(b[:])
}

// ValidUploadID reports whether id has the shape of an upload id (checked
// before any file is touched).
func ValidUploadID(id string) bool { return uploadIDRE.MatchString(id) }

// mayUpload: grid workers and staff reporting or handling incidents.
func mayUpload(p *access.Principal) bool {
	return p != nil && (p.Can("grid.report") || p.Can("grid.handle"))
}

func (s *Service) uploadDir() string { return filepath.Join(s.Files.Dir, "uploads") }

func (s *Service) uploadPath(id string) string { return filepath.Join(s.uploadDir(), id+".part") }

// CreateUpload announces a photo of size bytes (ctype, optional, is the
// type the phone means to send: JPEG, PNG or WebP).
func (s *Service) CreateUpload(ctx context.Context, p *access.Principal, size int64, ctype string) (Upload, error) {
	if !mayUpload(p) {
		return Upload{}, ErrForbidden
	}
	var es Errors
	if size <= 0 || size > MaxPhoto {
		es.Add("size", "upload_size", strconv.Itoa(MaxPhoto>>20))
	}
	if ct, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(ctype)), ";"); ct != "" && !sealed.Images[ct] {
		es.Add("type", "upload_type")
	}
	if len(es) > 0 {
		return Upload{}, es
	}
	u := Upload{ID: newUploadID(), UserID: p.UserID, Size: size, CreatedAt: s.now().UnixMilli()}
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		var n int
		if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM uploads WHERE user_id = ? AND used = 0`, p.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxPendingUploads {
			return ErrTooManyUploads
		}
		_, err := s.DB.Exec(ctx, `INSERT INTO uploads (id, user_id, size, received, created_at, used) VALUES (?, ?, ?, 0, ?, 0)`,
			u.ID, u.UserID, u.Size, u.CreatedAt)
		return err
	})
	return u, err
}

// upload reads one of the user's unused uploads (db.ErrNotFound for anyone
// else's, a used one or a malformed id); lock takes the row lock on
// PostgreSQL inside a transaction.
func (s *Service) upload(ctx context.Context, userID int64, id string, lock bool) (Upload, error) {
	if !ValidUploadID(id) {
		return Upload{}, db.ErrNotFound
	}
	q := `SELECT id, user_id, size, received, created_at, used FROM uploads WHERE id = ? AND user_id = ? AND used = 0`
	if lock && s.DB.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	var u Upload
	var used int
	err := s.DB.QueryRow(ctx, q, id, userID).Scan(&u.ID, &u.UserID, &u.Size, &u.Received, &u.CreatedAt, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, db.ErrNotFound
	}
	u.Used = used != 0
	return u, err
}

// UploadStatus returns one of the principal's unused uploads (what HEAD
// answers); anyone else's is db.ErrNotFound.
func (s *Service) UploadStatus(ctx context.Context, p *access.Principal, id string) (Upload, error) {
	if p == nil {
		return Upload{}, db.ErrNotFound
	}
	return s.upload(ctx, p.UserID, id, false)
}

// AppendUpload appends chunk at offset, which must be the offset the server
// holds (else *OffsetError with it). The first chunk must look like a photo
// (field error type: upload_type), and no chunk may run past the announced
// size (size: upload_overflow).
func (s *Service) AppendUpload(ctx context.Context, p *access.Principal, id string, offset int64, chunk []byte) (Upload, error) {
	if p == nil {
		return Upload{}, db.ErrNotFound
	}
	if len(chunk) > MaxChunk {
		return Upload{}, ErrChunkTooLarge
	}
	var out Upload
	reset := false
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		u, err := s.upload(ctx, p.UserID, id, true)
		if err != nil {
			return err
		}
		if offset != u.Received {
			return &OffsetError{Offset: u.Received}
		}
		if offset+int64(len(chunk)) > u.Size {
			return Errors{{Field: "size", Code: "upload_overflow"}}
		}
		if offset == 0 && len(chunk) > 0 && !sealed.Images[http.DetectContentType(chunk)] {
			return Errors{{Field: "type", Code: "upload_type"}}
		}
		out = u
		if len(chunk) == 0 {
			return nil
		}
		held, err := s.appendRecord(u, chunk)
		if err != nil {
			return err
		}
		if held != u.Received {
			// the file holds less than the row says (it was lost or
			// damaged): the phone starts this photo again
			reset = true
			_, err := s.DB.Exec(ctx, `UPDATE uploads SET received = 0 WHERE id = ?`, u.ID)
			return err
		}
		out.Received = u.Received + int64(len(chunk))
		_, err = s.DB.Exec(ctx, `UPDATE uploads SET received = ? WHERE id = ?`, out.Received, u.ID)
		return err
	})
	if err == nil && reset {
		return Upload{}, &OffsetError{Offset: 0}
	}
	return out, err
}

// appendRecord seals chunk and appends it to u's file after the records
// u.Received counts, cutting off anything behind them. It returns the plain
// length the kept records hold: u.Received when the file is sound; less when
// the file lost records, in which case nothing is written and the file is
// emptied.
func (s *Service) appendRecord(u Upload, chunk []byte) (int64, error) {
	if err := os.MkdirAll(s.uploadDir(), 0o700); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(s.uploadPath(u.ID), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	pos, held, err := recordsEnd(f, u.Received)
	if err != nil {
		return 0, err
	}
	if held != u.Received {
		return held, f.Truncate(0)
	}
	if err := f.Truncate(pos); err != nil {
		return 0, err
	}
	ct, err := s.Keys.Encrypt(string(chunk))
	if err != nil {
		return 0, err
	}
	rec := make([]byte, 8, 8+len(ct))
	binary.BigEndian.PutUint32(rec[0:4], uint32(len(chunk)))
	binary.BigEndian.PutUint32(rec[4:8], uint32(len(ct)))
	rec = append(rec, ct...)
	if _, err := f.WriteAt(rec, pos); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return u.Received, nil
}

// recordsEnd walks the record headers of f and returns the file position
// after the records holding want plain bytes, and how many plain bytes the
// walk found (less than want when the file is short or damaged).
func recordsEnd(f *os.File, want int64) (pos, held int64, err error) {
	var hdr [8]byte
	for held < want {
		if _, err := f.ReadAt(hdr[:], pos); err != nil {
			if errors.Is(err, io.EOF) {
				return pos, held, nil
			}
			return 0, 0, err
		}
		plain := int64(binary.BigEndian.Uint32(hdr[0:4]))
		size := int64(binary.BigEndian.Uint32(hdr[4:8]))
		if held+plain > want {
			return pos, held, nil // a record straddling the end: damaged
		}
		pos += 8 + size
		held += plain
	}
	return pos, held, nil
}

// readUpload opens the records of a complete upload.
func (s *Service) readUpload(u Upload) ([]byte, error) {
	raw, err := os.ReadFile(s.uploadPath(u.ID))
	if err != nil {
		return nil, fmt.Errorf("grid: upload %s: %w", u.ID, err)
	}
	out := make([]byte, 0, u.Size)
	for pos := 0; int64(len(out)) < u.Size; {
		if len(raw)-pos < 8 {
			return nil, fmt.Errorf("grid: upload %s: short file", u.ID)
		}
		plain := int(binary.BigEndian.Uint32(raw[pos : pos+4]))
		size := int(binary.BigEndian.Uint32(raw[pos+4 : pos+8]))
		pos += 8
		if len(raw)-pos < size {
			return nil, fmt.Errorf("grid: upload %s: short record", u.ID)
		}
		chunk, err := s.Keys.Decrypt(string(raw[pos : pos+size]))
		if err != nil || len(chunk) != plain {
			return nil, fmt.Errorf("grid: upload %s: damaged record", u.ID)
		}
		out = append(out, chunk...)
		pos += size
	}
	if int64(len(out)) != u.Size {
		return nil, fmt.Errorf("grid: upload %s: %d bytes, want %d", u.ID, len(out), u.Size)
	}
	return out, nil
}

// TakeUpload returns the bytes of a complete, unused upload of the user
// for a report. It does not mark it used: call DoneUpload once the report
// has committed, so that a report refused for its input (or lost to an
// error) leaves the upload for the retry. db.ErrNotFound: no such unused
// upload of the user; ErrUploadIncomplete: bytes are missing.
func (s *Service) TakeUpload(ctx context.Context, userID int64, id string) ([]byte, error) {
	u, err := s.upload(ctx, userID, id, false)
	if err != nil {
		return nil, err
	}
	if !u.Complete() {
		return nil, ErrUploadIncomplete
	}
	return s.readUpload(u)
}

// DoneUpload marks the user's uploads used (their photos are now sealed with
// an incident) and removes their files once the marking commits.
func (s *Service) DoneUpload(ctx context.Context, userID int64, ids ...string) error {
	var valid []any
	for _, id := range ids {
		if ValidUploadID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return nil
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		args := append([]any{userID}, valid...)
		if _, err := s.DB.Exec(ctx, `UPDATE uploads SET used = 1 WHERE user_id = ? AND id IN (`+db.Placeholders(len(valid))+`)`, args...); err != nil {
			return err
		}
		db.AfterCommit(ctx, func() {
			for _, id := range valid {
				s.removeUploadFile(id.(string))
			}
		})
		return nil
	})
}

// DeleteUpload drops one of the principal's unused uploads (a photo taken
// off a draft).
func (s *Service) DeleteUpload(ctx context.Context, p *access.Principal, id string) error {
	if p == nil || !ValidUploadID(id) {
		return db.ErrNotFound
	}
	res, err := s.DB.Exec(ctx, `DELETE FROM uploads WHERE id = ? AND user_id = ? AND used = 0`, id, p.UserID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return db.ErrNotFound
	}
	s.removeUploadFile(id)
	return nil
}

func (s *Service) removeUploadFile(id string) {
	if err := os.Remove(s.uploadPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		slog.Warn("grid: remove upload", "id", id, "err", err)
	}
}

// PurgeUploads removes the uploads (used or not) created more than
// olderThan ago with their files, and any .part file that lost its row
// (a crash between the two) and is as old. The app calls it periodically
// with UploadTTL.
func (s *Service) PurgeUploads(ctx context.Context, olderThan time.Duration) error {
	cutoff := s.now().Add(-olderThan)
	rows, err := s.DB.Query(ctx, `SELECT id FROM uploads WHERE created_at < ? ORDER BY created_at`, cutoff.UnixMilli())
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		if _, err := s.DB.Exec(ctx, `DELETE FROM uploads WHERE id IN (`+db.Placeholders(len(batch))+`)`, args...); err != nil {
			return err
		}
		for _, id := range batch {
			s.removeUploadFile(id)
		}
	}
	// files without a row
	entries, err := os.ReadDir(s.uploadDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".part")
		if !ok || !ValidUploadID(id) {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		var n int
		if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM uploads WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			s.removeUploadFile(id)
		}
	}
	return nil
}

// ---- HTTP: POST /grid/uploads, HEAD, PATCH and DELETE /grid/uploads/{id} ----

// uploadJSON writes v as JSON with status.
func uploadJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonFieldError is one input problem in a JSON answer.
type jsonFieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// uploadProblem answers status with one problem.
func uploadProblem(w http.ResponseWriter, r *http.Request, status int, field, code string) {
	loc := i18n.Negotiate(r)
	uploadJSON(w, status, map[string]any{"errors": []jsonFieldError{{Field: field, Code: code, Message: reportErrorText(loc, &FieldError{Field: field, Code: code})}}})
}

func (h *HTTP) uploadFail(w http.ResponseWriter, r *http.Request, err error) {
	var es Errors
	var oe *OffsetError
	switch {
	case errors.As(err, &oe):
		w.Header().Set("Upload-Offset", strconv.FormatInt(oe.Offset, 10))
		uploadProblem(w, r, http.StatusConflict, "offset", "upload_offset")
	case errors.As(err, &es):
		loc := i18n.Negotiate(r)
		uploadJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": reportJSONErrors(loc, es)})
	case errors.Is(err, db.ErrNotFound), errors.Is(err, ErrForbidden):
		uploadProblem(w, r, http.StatusNotFound, "id", "upload_missing")
	case errors.Is(err, ErrTooManyUploads):
		uploadProblem(w, r, http.StatusTooManyRequests, "id", "upload_too_many")
	case errors.Is(err, ErrChunkTooLarge):
		uploadProblem(w, r, http.StatusRequestEntityTooLarge, "chunk", "upload_chunk")
	default:
		slog.ErrorContext(r.Context(), "grid: upload failed", "path", r.URL.Path, "err", err)
		uploadJSON(w, http.StatusInternalServerError, map[string]any{"errors": []jsonFieldError{}})
	}
}

func (h *HTTP) uploadCreate(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	if !mayUpload(p) {
		uploadProblem(w, r, http.StatusNotFound, "id", "upload_missing")
		return
	}
	var in struct {
		Size int64  `json:"size"`
		Type string `json:"type"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil {
		uploadProblem(w, r, http.StatusBadRequest, "size", "upload_size")
		return
	}
	u, err := h.S.CreateUpload(r.Context(), p, in.Size, in.Type)
	if err != nil {
		h.uploadFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/grid/uploads/"+u.ID)
	w.Header().Set("Upload-Offset", "0")
	uploadJSON(w, http.StatusCreated, map[string]any{"id": u.ID, "offset": 0, "size": u.Size})
}

func (h *HTTP) uploadHead(w http.ResponseWriter, r *http.Request) {
	u, err := h.S.UploadStatus(r.Context(), access.From(r.Context()), r.PathValue("id"))
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		if !errors.Is(err, db.ErrNotFound) {
			slog.ErrorContext(r.Context(), "grid: upload status", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(u.Received, 10))
	w.Header().Set("Upload-Length", strconv.FormatInt(u.Size, 10))
	w.WriteHeader(http.StatusOK)
}

func (h *HTTP) uploadPatch(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	offset, err := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 {
		uploadProblem(w, r, http.StatusBadRequest, "offset", "upload_offset")
		return
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r.Body, MaxChunk+1))
	if web.BodyTooLarge(err) || n > MaxChunk {
		h.uploadFail(w, r, ErrChunkTooLarge)
		return
	}
	if err != nil {
		// the connection broke mid-chunk: nothing is written, the phone
		// asks for the offset (HEAD) and sends the chunk again
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	u, err := h.S.AppendUpload(r.Context(), p, r.PathValue("id"), offset, buf.Bytes())
	if err != nil {
		h.uploadFail(w, r, err)
		return
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(u.Received, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (h *HTTP) uploadDelete(w http.ResponseWriter, r *http.Request) {
	if err := h.S.DeleteUpload(r.Context(), access.From(r.Context()), r.PathValue("id")); err != nil {
		h.uploadFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
