package access

import (
	"bufio"
	"bytes"
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

//go:embed common-passwords.txt
var commonPasswordsTxt []byte

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordsTxt))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// Argon2id parameters (RFC 9106's second recommended option, with 64 MiB).
var argonParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 3, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// HashPassword returns the argon2id PHC string of pw.
func HashPassword(pw string) (string, error) { return argon2id.CreateHash(pw, argonParams) }

// CheckPassword compares pw with a PHC hash in constant time.
func CheckPassword(pw, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// MinPasswordLength is the password policy's minimum length.
const MinPasswordLength = 10

// PasswordProblem returns the i18n key of the rule pw breaks, or "".
func PasswordProblem(username, pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return "password.too_short"
	case strings.EqualFold(pw, username) || strings.Contains(strings.ToLower(pw), strings.ToLower(username)) && len(username) >= 4:
		return "password.contains_username"
	case commonPasswords[strings.ToLower(pw)] || monotonous(pw):
		return "password.too_common"
	}
	return ""
}

// monotonous catches one repeated character or a straight run like 0123456789.
func monotonous(pw string) bool {
	r := []rune(pw)
	same, up, down := true, true, true
	for i := 1; i < len(r); i++ {
		same = same && r[i] == r[0]
		up = up && r[i] == r[i-1]+1
		down = down && r[i] == r[i-1]-1
	}
	return same || up || down
}
