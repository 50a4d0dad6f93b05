package pii_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/pii"
)

func mustKeys(t *testing.T, f pii.File) *pii.Keys {
	t.Helper()
	k, err := pii.New(f)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixed is a key file with known keys, so tests do not depend on
// randomness where they compare keys.
func fixed() pii.File {
	return pii.File{
		Current: 1,
		SM4:     map[string]string{"1": "0123456789abcdef0123456789abcdef"},
		Lookup:  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	k := mustKeys(t, pii.Generate())
	for _, plain := range []string{
		"32020519900101123X",
		"13812345678",
		"0510-88231234-801",
		"a",
		"买买提·艾力",
		strings.Repeat("长", 1000),
	} {
		ct, err := k.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		if ct == "" || len(plain) > 4 && strings.Contains(ct, plain) {
			t.Fatalf("Encrypt(%q) = %q: empty or holds the plaintext", plain, ct)
		}
		got, err := k.Decrypt(ct)
		if err != nil || got != plain {
			t.Fatalf("Decrypt(Encrypt(%q)) = %q, %v", plain, got, err)
		}
		if v := pii.Version(ct); v != 1 {
			t.Fatalf("Version = %d, want 1", v)
		}
	}
	// The empty string stays empty both ways (a resident without a phone).
	if ct, err := k.Encrypt(""); ct != "" || err != nil {
		t.Fatalf("Encrypt(\"\") = %q, %v", ct, err)
	}
	if p, err := k.Decrypt(""); p != "" || err != nil {
		t.Fatalf("Decrypt(\"\") = %q, %v", p, err)
	}
	if v := pii.Version(""); v != 0 {
		t.Fatalf("Version(\"\") = %d", v)
	}
}

func TestCiphertextsDifferForSamePlaintext(t *testing.T) {
	k := mustKeys(t, fixed())
	seen := map[string]bool{}
	nonces := map[string]bool{}
	for i := 0; i < 50; i++ {
		ct, err := k.Encrypt("32020519900101123X")
		if err != nil {
			t.Fatal(err)
		}
		if seen[ct] {
			t.Fatalf("ciphertext repeated after %d encryptions: nonce is not random", i)
		}
		seen[ct] = true
		raw, _ := base64.RawStdEncoding.DecodeString(ct)
		nonce := string(raw[1:13])
		if nonces[nonce] {
			t.Fatal("nonce repeated")
		}
		nonces[nonce] = true
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	k := mustKeys(t, fixed())
	ct, err := k.Encrypt("32020519900101123X")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawStdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatalf("ciphertext is not raw std base64: %v", err)
	}
	// Flip each byte in turn: the version byte (authenticated as additional
	// data, or an unknown version), the nonce, the sealed text and the tag.
	for i := range raw {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 0x01
		if p, err := k.Decrypt(base64.RawStdEncoding.EncodeToString(bad)); !errors.Is(err, pii.ErrCiphertext) || p != "" {
			t.Fatalf("byte %d flipped: Decrypt = %q, %v; want ErrCiphertext", i, p, err)
		}
	}
	for name, s := range map[string]string{
		"truncated":  base64.RawStdEncoding.EncodeToString(raw[:len(raw)-1]),
		"short":      base64.RawStdEncoding.EncodeToString(raw[:10]),
		"one byte":   base64.RawStdEncoding.EncodeToString(raw[:1]),
		"extended":   base64.RawStdEncoding.EncodeToString(append(append([]byte(nil), raw...), 0)),
		"not base64": "!!!not base64!!!",
		"padded":     base64.StdEncoding.EncodeToString(raw) + "==",
		"plaintext":  "32020519900101123X",
	} {
		if p, err := k.Decrypt(s); !errors.Is(err, pii.ErrCiphertext) || p != "" {
			t.Errorf("%s: Decrypt = %q, %v; want ErrCiphertext", name, p, err)
		}
	}
	// Another deployment's keys cannot open it either.
	other := mustKeys(t, pii.Generate())
	if _, err := other.Decrypt(ct); !errors.Is(err, pii.ErrCiphertext) {
		t.Fatalf("foreign keys opened the ciphertext: %v", err)
	}
}

func TestLookupDeterministicAndKeyed(t *testing.T) {
	k := mustKeys(t, fixed())
	a := k.Lookup("32020519900101123X")
	if a != k.Lookup("32020519900101123X") {
		t.Fatal("Lookup is not deterministic")
	}
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("Lookup = %q: want 64 lower-case hex digits (SM3)", a)
	}
	if a == k.Lookup("320205199001011234") {
		t.Fatal("different inputs, same lookup")
	}
	// The same keys rebuilt give the same lookups (they are stored).
	if b := mustKeys(t, fixed()).Lookup("32020519900101123X"); b != a {
		t.Fatal("same key file, different lookup")
	}
	// Another lookup key gives other lookups: without the key the 10^4 tails
	// cannot be enumerated.
	f := fixed()
	f.Lookup = strings.Repeat("ab", 32)
	if mustKeys(t, f).Lookup("32020519900101123X") == a {
		t.Fatal("lookup does not depend on the key")
	}
	// ... but the encryption key does not matter to lookups (rotation must
	// not invalidate the index).
	f = fixed()
	f.SM4 = map[string]string{"1": strings.Repeat("77", 16)}
	if mustKeys(t, f).Lookup("32020519900101123X") != a {
		t.Fatal("lookup depends on the SM4 key")
	}
	// Safe for concurrent use (pooled MACs must not share state).
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				in := "p4:" + strconv.Itoa(i%10)
				want := mustLookup(k, in)
				if got := k.Lookup(in); got != want {
					t.Errorf("concurrent lookup %q = %q, want %q", in, got, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

var lookupCache sync.Map

func mustLookup(k *pii.Keys, s string) string {
	if v, ok := lookupCache.Load(s); ok {
		return v.(string)
	}
	v := k.Lookup(s)
	lookupCache.Store(s, v)
	return v
}

func TestRotatedKeepsOldVersionsReadable(t *testing.T) {
	k1 := mustKeys(t, fixed())
	old, err := k1.Encrypt("13812345678")
	if err != nil {
		t.Fatal(err)
	}
	f2, err := k1.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	if f2.Current != 2 || len(f2.SM4) != 2 || f2.SM4["1"] != fixed().SM4["1"] || f2.SM4["2"] == "" || f2.SM4["2"] == f2.SM4["1"] {
		t.Fatalf("rotated file %+v", f2)
	}
	if f2.Lookup != fixed().Lookup {
		t.Fatal("rotation changed the lookup key: every lookup would break")
	}
	// Rotating must not change the keys it was called on.
	if k1.Current() != 1 || len(k1.File().SM4) != 1 {
		t.Fatalf("Rotated mutated its receiver: current %d, %d keys", k1.Current(), len(k1.File().SM4))
	}
	k2 := mustKeys(t, f2)
	if k2.Current() != 2 {
		t.Fatalf("Current = %d", k2.Current())
	}
	if p, err := k2.Decrypt(old); err != nil || p != "13812345678" {
		t.Fatalf("old ciphertext after rotation: %q, %v", p, err)
	}
	fresh, err := k2.Encrypt("13812345678")
	if err != nil {
		t.Fatal(err)
	}
	if pii.Version(fresh) != 2 || pii.Version(old) != 1 {
		t.Fatalf("versions: fresh %d, old %d", pii.Version(fresh), pii.Version(old))
	}
	// The old keys cannot read the new version.
	if _, err := k1.Decrypt(fresh); !errors.Is(err, pii.ErrCiphertext) {
		t.Fatalf("version-1 keys opened a version-2 ciphertext: %v", err)
	}
	if k2.Lookup("x") != k1.Lookup("x") {
		t.Fatal("lookups changed with rotation")
	}

	// Rotating again adds version 3 and keeps 1 and 2.
	f3, err := k2.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	k3 := mustKeys(t, f3)
	for _, ct := range []string{old, fresh} {
		if p, err := k3.Decrypt(ct); err != nil || p != "13812345678" {
			t.Fatalf("v%d after second rotation: %q, %v", pii.Version(ct), p, err)
		}
	}

	// Retired: only the current key is left; new ciphertexts stay readable,
	// old ones are not (they must have been re-encrypted first).
	ret := k3.Retired()
	if ret.Current != 3 || len(ret.SM4) != 1 || ret.SM4["3"] != f3.SM4["3"] || ret.Lookup != f3.Lookup {
		t.Fatalf("retired file %+v", ret)
	}
	kr := mustKeys(t, ret)
	v3, _ := k3.Encrypt("x")
	if p, err := kr.Decrypt(v3); err != nil || p != "x" {
		t.Fatalf("current ciphertext after retiring: %q, %v", p, err)
	}
	if _, err := kr.Decrypt(old); !errors.Is(err, pii.ErrCiphertext) {
		t.Fatalf("retired version still readable: %v", err)
	}
	// Rotation after retiring continues the numbering.
	f4, err := kr.Rotated()
	if err != nil || f4.Current != 4 || len(f4.SM4) != 2 {
		t.Fatalf("rotation after retiring: %+v, %v", f4, err)
	}
}

func TestRotatedRefusesPastVersion255(t *testing.T) {
	f := fixed()
	f.SM4["255"] = strings.Repeat("11", 16)
	k := mustKeys(t, f)
	if _, err := k.Rotated(); err == nil {
		t.Fatal("rotation past version 255 accepted: the version byte would wrap")
	}
}

func TestNewRejectsBadFiles(t *testing.T) {
	good := fixed()
	for name, tc := range map[string]struct {
		mut  func(*pii.File)
		want string
	}{
		"version zero":       {func(f *pii.File) { f.SM4["0"] = good.SM4["1"] }, "version"},
		"version 256":        {func(f *pii.File) { f.SM4["256"] = good.SM4["1"] }, "version"},
		"version not number": {func(f *pii.File) { f.SM4["v2"] = good.SM4["1"] }, "version"},
		"short SM4 key":      {func(f *pii.File) { f.SM4["1"] = "0123" }, "32 hex"},
		"long SM4 key":       {func(f *pii.File) { f.SM4["1"] = good.SM4["1"] + "00" }, "32 hex"},
		"SM4 key not hex":    {func(f *pii.File) { f.SM4["1"] = strings.Repeat("zz", 16) }, "32 hex"},
		"current missing":    {func(f *pii.File) { f.Current = 2 }, "current key version 2"},
		"no SM4 keys":        {func(f *pii.File) { f.SM4 = nil }, "current key version"},
		"short lookup key":   {func(f *pii.File) { f.Lookup = "00112233" }, "lookup key"},
		"lookup not hex":     {func(f *pii.File) { f.Lookup = strings.Repeat("g", 64) }, "lookup key"},
		"no lookup key":      {func(f *pii.File) { f.Lookup = "" }, "lookup key"},
	} {
		f := pii.File{Current: good.Current, SM4: map[string]string{}, Lookup: good.Lookup}
		for k, v := range good.SM4 {
			f.SM4[k] = v
		}
		tc.mut(&f)
		k, err := pii.New(f)
		if err == nil || k != nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "pii: ") {
			t.Errorf("%s: error %q, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestLoadCreatesPrivateFileAndReloads(t *testing.T) {
	t.Setenv(pii.EnvKeys, "")
	path := filepath.Join(t.TempDir(), "data", "keys.json")
	k, created, err := pii.Load(path)
	if err != nil || !created {
		t.Fatalf("first Load: created %v, %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if runtime.GOOS != "windows" {
		if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm()&0o077 != 0 {
			t.Fatalf("key directory mode %v: readable by others", dst.Mode().Perm())
		}
	}
	// The file on disk is the documented JSON.
	b, _ := os.ReadFile(path)
	var f pii.File
	if err := json.Unmarshal(b, &f); err != nil || f.Current != 1 || len(f.SM4["1"]) != 32 || len(f.Lookup) != 64 {
		t.Fatalf("key file content %s (%v)", b, err)
	}
	// No temporary files are left next to it.
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only the key file", len(ents))
	}
	ct, _ := k.Encrypt("32020519900101123X")

	k2, created, err := pii.Load(path)
	if err != nil || created {
		t.Fatalf("second Load: created %v, %v", created, err)
	}
	if p, err := k2.Decrypt(ct); err != nil || p != "32020519900101123X" {
		t.Fatalf("reloaded keys cannot decrypt: %q, %v", p, err)
	}
	if k2.Lookup("a") != k.Lookup("a") {
		t.Fatal("reloaded keys give other lookups")
	}

	// A rotated file written with Write is loaded with its new current key.
	rot, err := k2.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	if err := pii.Write(path, rot); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("rewritten key file mode %v", st.Mode().Perm())
	}
	k3, _, err := pii.Load(path)
	if err != nil || k3.Current() != 2 {
		t.Fatalf("rotated file: %v", err)
	}
	if p, err := k3.Decrypt(ct); err != nil || p != "32020519900101123X" {
		t.Fatalf("old ciphertext with the rotated file: %q, %v", p, err)
	}
}

func TestLoadEnvTakesPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	onDisk := pii.Generate()
	if err := pii.Write(path, onDisk); err != nil {
		t.Fatal(err)
	}
	env, _ := json.Marshal(fixed())
	t.Setenv(pii.EnvKeys, string(env))
	k, created, err := pii.Load(path)
	if err != nil || created {
		t.Fatalf("Load with %s: created %v, %v", pii.EnvKeys, created, err)
	}
	if k.Lookup("x") != mustKeys(t, fixed()).Lookup("x") {
		t.Fatal("keys do not come from the environment")
	}
	if k.Lookup("x") == mustKeys(t, onDisk).Lookup("x") {
		t.Fatal("keys come from the file although the environment is set")
	}
	// With the environment set, a missing file is not created.
	missing := filepath.Join(t.TempDir(), "none.json")
	if _, created, err := pii.Load(missing); err != nil || created {
		t.Fatalf("missing file with env: created %v, %v", created, err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Load created a key file although the keys come from the environment")
	}
	// A broken environment value is an error naming the variable (and does
	// not fall back to the file silently).
	t.Setenv(pii.EnvKeys, `{"current": 1}`)
	if _, _, err := pii.Load(path); err == nil || !strings.Contains(err.Error(), pii.EnvKeys) {
		t.Fatalf("broken %s: %v", pii.EnvKeys, err)
	}
}

func TestLoadBadFiles(t *testing.T) {
	t.Setenv(pii.EnvKeys, "")
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		content string
		want    []string
	}{
		"empty":       {"", []string{"key file"}},
		"not json":    {"current=1\n", []string{"key file"}},
		"wrong types": {`{"current": "1", "sm4": {}, "lookup": ""}`, []string{"key file"}},
		"no current":  {`{"sm4": {"1": "0123456789abcdef0123456789abcdef"}, "lookup": "` + fixed().Lookup + `"}`, []string{"current key version 0"}},
		"bad sm4":     {`{"current": 1, "sm4": {"1": "xyz"}, "lookup": "` + fixed().Lookup + `"}`, []string{"SM4 key 1"}},
		"bad lookup":  {`{"current": 1, "sm4": {"1": "0123456789abcdef0123456789abcdef"}, "lookup": "00"}`, []string{"lookup key"}},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		k, created, err := pii.Load(path)
		if err == nil || k != nil || created {
			t.Errorf("%s: accepted (created %v)", name, created)
			continue
		}
		// The error names the file so the operator knows which one.
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", name, err, w)
			}
		}
		// A broken file is never overwritten with fresh keys (that would
		// make every stored ciphertext unreadable).
		if b, _ := os.ReadFile(path); string(b) != tc.content {
			t.Errorf("%s: the broken key file was rewritten", name)
		}
	}
	// A directory where the file should be is an error, not a new key file.
	if _, _, err := pii.Load(dir); err == nil {
		t.Fatal("Load of a directory succeeded")
	}
}
