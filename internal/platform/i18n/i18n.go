// Package i18n holds the message catalogue of the user interface: one flat YAML file per
// locale (locales/<locale>.yaml, `key: text`), embedded in the binary. zh-CN is the
// default locale, English the second.
//
// Keys are lower-case dotted words, grouped by the package that uses them
// (`nav.divisions`, `login.title`, `grid.incident.report`). A text may hold fmt verbs
// (`共 %d 条`); arguments are then passed to T. TestCatalogueComplete fails when a key used
// in the code or templates is missing from a locale, or present in only one locale.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// Default is the locale used when nothing better is known.
const Default = "zh-CN"

// CookieName is the cookie that stores a user's explicit choice of locale.
const CookieName = "lang"

//go:embed locales/*.yaml
var files embed.FS

// locales lists the supported locales, default first.
var locales = []string{Default, "en"}

var catalogues = mustLoad()

func mustLoad() map[string]map[string]string {
	m, err := load()
	if err != nil {
		panic(err) // the catalogue is embedded: a broken file is a build error, caught by tests
	}
	return m
}

func load() (map[string]map[string]string, error) {
	out := make(map[string]map[string]string, len(locales))
	for _, loc := range locales {
		// locales/<locale>.yaml, then one file per capability,
		// locales/<locale>.<part>.yaml; a key may be defined only once
		names := []string{path.Join("locales", loc+".yaml")}
		parts, err := fs.Glob(files, path.Join("locales", loc+".*.yaml"))
		if err != nil {
			return nil, err
		}
		names = append(names, parts...)
		cat := map[string]string{}
		for _, name := range names {
			b, err := files.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", name, err)
			}
			var part map[string]string
			if err := yaml.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", name, err)
			}
			for k, v := range part {
				if _, dup := cat[k]; dup {
					return nil, fmt.Errorf("i18n: %s: key %q is defined twice", name, k)
				}
				cat[k] = v
			}
		}
		out[loc] = cat
	}
	return out, nil
}

// Locales returns the supported locales, the default first.
func Locales() []string { return append([]string(nil), locales...) }

// Valid reports whether locale is one of Locales() (exact spelling).
func Valid(locale string) bool {
	_, ok := catalogues[locale]
	return ok
}

// T returns the text of key in locale, formatted with args by fmt.Sprintf when args are
// given (a text without args is returned verbatim, so a literal % needs no escaping).
// An unknown locale falls back to Default; a key missing from the locale falls back to
// the Default catalogue, and a key missing there too is returned as is.
func T(locale, key string, args ...any) string {
	text, ok := catalogues[locale][key]
	if !ok {
		text, ok = catalogues[Default][key]
		if !ok {
			return key
		}
	}
	if len(args) == 0 {
		return text
	}
	return fmt.Sprintf(text, args...)
}

// Has reports whether locale's catalogue has key (without fallback).
func Has(locale, key string) bool {
	_, ok := catalogues[locale][key]
	return ok
}

// Keys returns the sorted keys of locale's catalogue (nil for an unknown locale).
func Keys(locale string) []string {
	cat, ok := catalogues[locale]
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(cat))
	for k := range cat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Match maps a language tag to a supported locale: "zh", "zh-CN", "zh-Hans-CN", "zh-TW"
// give zh-CN (the only Chinese catalogue), "en", "en-GB" give en. ok is false when the
// tag matches nothing.
func Match(tag string) (locale string, ok bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	primary, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	switch primary {
	case "zh":
		return "zh-CN", true
	case "en":
		return "en", true
	}
	return "", false
}

// Negotiate picks the locale of a request: the "lang" cookie when it names a supported
// locale, else the best supported language of Accept-Language (by q-value, then order),
// else Default.
func Negotiate(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil {
		if loc, ok := Match(c.Value); ok {
			return loc
		}
	}
	// tags come back sorted by q-value (highest first, stable for ties)
	tags, _, _ := language.ParseAcceptLanguage(strings.Join(r.Header.Values("Accept-Language"), ","))
	for _, t := range tags {
		if loc, ok := Match(t.String()); ok {
			return loc
		}
	}
	return Default
}
