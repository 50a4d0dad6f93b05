// Package pii protects personal data at rest: ID numbers and phones are
// encrypted with SM4-GCM (GB/T 32907) and found again through a keyed SM3
// hash (HMAC-SM3, GB/T 32905), so the database never holds a searchable
// plaintext. Keys live in a JSON key file (0600) in the data directory or in
// the SHEQU_KEYS environment variable; encryption keys are versioned so
// `shequ keys rotate` can re-encrypt while old ciphertexts stay readable.
// See docs/decisions/0006.
package pii

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// EnvKeys is the environment variable that may hold the key file's content.
const EnvKeys = "SHEQU_KEYS"

// File is the key file as stored: SM4 keys by version, the current
// version, and the lookup (HMAC-SM3) key. Keys are hex.
type File struct {
	Current int               `json:"current"`
	SM4     map[string]string `json:"sm4"`
	Lookup  string            `json:"lookup"`
}

// Keys encrypts, decrypts and hashes personal data. It is safe for
// concurrent use.
type Keys struct {
	current int
	aeads   map[int]cipher.AEAD
	lookup  []byte
	macs    sync.Pool
	file    File
}

// ErrCiphertext reports a value that is not a ciphertext of these keys.
var ErrCiphertext = errors.New("pii: not a ciphertext of the configured keys")

// New builds Keys from a key file's content.
func New(f File) (*Keys, error) {
	k := &Keys{current: f.Current, aeads: map[int]cipher.AEAD{}, file: f}
	for v, h := range f.SM4 {
		ver, err := strconv.Atoi(v)
		if err != nil || ver <= 0 || ver > 255 {
			return nil, fmt.Errorf("pii: key version %q: want 1..255", v)
		}
		raw, err := hex.DecodeString(h)
		if err != nil || len(raw) != sm4.BlockSize {
			return nil, fmt.Errorf("pii: SM4 key %d: want 32 hex digits", ver)
		}
		a, err := newGCM(raw)
		if err != nil {
			return nil, err
		}
		k.aeads[ver] = a
	}
	if _, ok := k.aeads[f.Current]; !ok {
		return nil, fmt.Errorf("pii: current key version %d is not in the file", f.Current)
	}
	lk, err := hex.DecodeString(f.Lookup)
	if err != nil || len(lk) < 16 {
		return nil, errors.New("pii: lookup key: want at least 32 hex digits")
	}
	k.lookup = lk
	k.macs.New = func() any { return hmac.New(sm3.New, k.lookup) }
	return k, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Generate makes a fresh key file with one SM4 key and a lookup key.
func Generate() File {
	return File{Current: 1, SM4: map[string]string{"1": randomHex(sm4.BlockSize)}, Lookup: randomHex(32)}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// Load reads keys from the SHEQU_KEYS environment variable when set, else
// from path, creating the file (mode 0600) with fresh keys when it does not
// exist yet. created reports the latter, so the caller can tell the
// operator to back the file up.
func Load(path string) (k *Keys, created bool, err error) {
	if env := os.Getenv(EnvKeys); env != "" {
		k, err := Parse([]byte(env))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", EnvKeys, err)
		}
		return k, false, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		f := Generate()
		if err := Write(path, f); err != nil {
			return nil, false, err
		}
		k, err := New(f)
		return k, true, err
	}
	if err != nil {
		return nil, false, err
	}
	k, err = Parse(b)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return k, false, nil
}

// Parse reads a key file's content.
func Parse(b []byte) (*Keys, error) {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("pii: key file: %w", err)
	}
	return New(f)
}

// Write stores a key file atomically with mode 0600.
func Write(path string, f File) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// File returns the key file content these keys were built from.
func (k *Keys) File() File { return k.file }

// Rotated returns a key file with a new current SM4 key added; the old
// versions stay so existing ciphertexts remain readable until re-encrypted.
func (k *Keys) Rotated() (File, error) {
	f := File{SM4: map[string]string{}, Lookup: k.file.Lookup}
	for v, h := range k.file.SM4 {
		f.SM4[v] = h
	}
	f.Current = k.latest() + 1
	if f.Current > 255 {
		return File{}, errors.New("pii: 255 key versions used; retire old versions first")
	}
	f.SM4[strconv.Itoa(f.Current)] = randomHex(sm4.BlockSize)
	return f, nil
}

// Retired returns the key file with only the current SM4 key, for after
// every ciphertext has been re-encrypted.
func (k *Keys) Retired() File {
	v := strconv.Itoa(k.current)
	return File{Current: k.current, SM4: map[string]string{v: k.file.SM4[v]}, Lookup: k.file.Lookup}
}

func (k *Keys) latest() int {
	vs := make([]int, 0, len(k.aeads))
	for v := range k.aeads {
		vs = append(vs, v)
	}
	sort.Ints(vs)
	return vs[len(vs)-1]
}

// Current is the key version new ciphertexts are written with.
func (k *Keys) Current() int { return k.current }

// Encrypt seals plain with the current key: base64 of version, nonce and
// sealed text. The empty string encrypts to the empty string.
func (k *Keys) Encrypt(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	a := k.aeads[k.current]
	buf := make([]byte, 1+a.NonceSize(), 1+a.NonceSize()+len(plain)+a.Overhead())
	buf[0] = byte(k.current)
	if _, err := rand.Read(buf[1:]); err != nil {
		return "", err
	}
	out := a.Seal(buf, buf[1:], []byte(plain), buf[:1])
	return base64.RawStdEncoding.EncodeToString(out), nil
}

// Decrypt opens a ciphertext written by Encrypt with any known key version.
func (k *Keys) Decrypt(ct string) (string, error) {
	if ct == "" {
		return "", nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(ct)
	if err != nil || len(raw) < 1 {
		return "", ErrCiphertext
	}
	a, ok := k.aeads[int(raw[0])]
	if !ok || len(raw) < 1+a.NonceSize()+a.Overhead() {
		return "", ErrCiphertext
	}
	n := 1 + a.NonceSize()
	plain, err := a.Open(nil, raw[1:n], raw[n:], raw[:1])
	if err != nil {
		return "", ErrCiphertext
	}
	return string(plain), nil
}

// Version reports the key version a ciphertext was written with (0 when
// it is not a ciphertext).
func Version(ct string) int {
	raw, err := base64.RawStdEncoding.DecodeString(ct)
	if err != nil || len(raw) == 0 {
		return 0
	}
	return int(raw[0])
}

// Lookup is the keyed SM3 hash of s, hex: equal inputs give equal lookups,
// and without the key a lookup reveals nothing, not even for the 10^4
// possible last-four digits.
func (k *Keys) Lookup(s string) string {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(s))
	var sum [sm3.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0]))
	k.macs.Put(m)
	return out
}
