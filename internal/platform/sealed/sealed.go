// Package sealed stores uploaded files (scans, photos) encrypted with the
// personal-data key (SM4-GCM, like ID numbers), so a copied data directory
// shows nothing. A file lives at <dir>/<rel>, where rel is
// <id / 1000>/<id>/<sha256 of the plain content>.enc under a domain's
// subdirectory; the domain's table keeps rel with the name, type, size and
// hash. Files are written before their rows: a failed transaction leaves at
// most an orphan file, never a row without its file.
package sealed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// Problems of an upload, as field-error codes.
var (
	// ErrTooLarge: the file is over the store's limit.
	ErrTooLarge = errors.New("file_size")
	// ErrType: the content is not of an accepted type (or is empty).
	ErrType = errors.New("file_type")
)

// Images are the photo types phones produce; Documents adds PDF.
var (
	Images    = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true}
	Documents = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true, "application/pdf": true}
)

// Store seals files under Dir.
type Store struct {
	Dir  string
	Keys *pii.Keys
}

// File is one sealed file.
type File struct {
	Rel         string // path under Dir, with forward slashes
	ContentType string // sniffed from the content
	Size        int64
	SHA256      string // of the plain content, hex
}

// Read reads at most max bytes from r and checks the sniffed type against
// types; ErrTooLarge and ErrType are the caller's field errors.
func Read(r io.Reader, max int64, types map[string]bool) ([]byte, string, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		if web.BodyTooLarge(err) {
			return nil, "", ErrTooLarge
		}
		return nil, "", err
	}
	if int64(len(data)) > max {
		return nil, "", ErrTooLarge
	}
	ctype := http.DetectContentType(data)
	if len(data) == 0 || !types[ctype] {
		return nil, "", ErrType
	}
	return data, ctype, nil
}

// Seal encrypts data into <Dir>/<sub>/<id/1000>/<id>/<sha256>.enc, through a
// temporary file and a rename.
func (s *Store) Seal(sub string, id int64, data []byte, ctype string) (File, error) {
	sum := sha256.Sum256(data)
	sealed, err := s.Keys.Encrypt(string(data))
	if err != nil {
		return File{}, err
	}
	dir := filepath.Join(s.Dir, sub, strconv.FormatInt(id/1000, 10), strconv.FormatInt(id, 10))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return File{}, err
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return File{}, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(sealed); err != nil {
		tmp.Close()
		return File{}, err
	}
	if err := tmp.Close(); err != nil {
		return File{}, err
	}
	hash := hex.EncodeToString(sum[:])
	final := filepath.Join(dir, hash+".enc")
	if err := os.Rename(tmp.Name(), final); err != nil {
		return File{}, err
	}
	rel, _ := filepath.Rel(s.Dir, final)
	return File{Rel: filepath.ToSlash(rel), ContentType: ctype, Size: int64(len(data)), SHA256: hash}, nil
}

// Open reads and decrypts the file at rel.
func (s *Store) Open(rel string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	plain, err := s.Keys.Decrypt(string(data))
	return []byte(plain), err
}

// Reseal rewrites the files at rels not sealed with the current key version
// (through a temporary file and a rename) and returns how many it rewrote.
// A missing file is skipped: it is reported when opened.
func (s *Store) Reseal(rels []string) (int64, error) {
	var n int64
	for _, rel := range rels {
		path := filepath.Join(s.Dir, filepath.FromSlash(rel))
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return n, err
		}
		if pii.Version(string(data)) == s.Keys.Current() {
			continue
		}
		plain, err := s.Keys.Decrypt(string(data))
		if err != nil {
			return n, fmt.Errorf("sealed file %s: %w", rel, err)
		}
		resealed, err := s.Keys.Encrypt(plain)
		if err != nil {
			return n, err
		}
		tmp := path + ".rotate"
		if err := os.WriteFile(tmp, []byte(resealed), 0o640); err != nil {
			return n, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
