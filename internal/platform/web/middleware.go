package web

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/i18n"
)

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Recover turns a panic in a handler into the localized 500 page. The panic value and
// stack go to logger, never to the client. If the handler had already started the
// response, the response is cut short instead (nothing else can be done).
// http.ErrAbortHandler is passed on.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic serving request",
					"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status != 0 {
					panic(http.ErrAbortHandler) // headers are gone: abort the connection
				}
				h := w.Header()
				for _, k := range []string{"Content-Disposition", "Content-Length", "Content-Encoding", "ETag",
					"Last-Modified", "Location", "Set-Cookie", "HX-Trigger", "HX-Redirect", "HX-Location", "HX-Push-Url"} {
					h.Del(k)
				}
				fallback().Error(sw, r, http.StatusInternalServerError, "")
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// ContentSecurityPolicy is the policy SecurityHeaders sets. Scripts come only from
// /static (no inline script, no eval: htmx runs with allowEval false); inline styles are
// allowed because htmx swaps and ECharts tooltips set style attributes.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders sets the CSP and the other protective headers on every response.
// HSTS is left to the TLS terminator: many intranet deployments run plain HTTP.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()")
		next.ServeHTTP(w, r)
	})
}

// Upload is a route that accepts a larger body than the default (a file
// upload, streamed to disk by its handler).
type Upload struct {
	// Path is the request path, or a pattern of path.Match where * stands
	// for one segment (e.g. /grid/incidents/*/act).
	Method, Path string
	Limit        int64
}

func (u Upload) matches(r *http.Request) bool {
	if r.Method != u.Method {
		return false
	}
	if !strings.Contains(u.Path, "*") {
		return r.URL.Path == u.Path
	}
	ok, _ := path.Match(u.Path, r.URL.Path)
	return ok
}

// MaxBody limits request bodies to n bytes. A request that declares a larger
// Content-Length gets the 413 page at once; a body that turns out larger fails to read
// with *http.MaxBytesError, which handlers detect with BodyTooLarge. The upload routes
// listed get their own limit instead of n.
func MaxBody(n int64, uploads ...Upload) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := n
			for _, u := range uploads {
				if u.matches(r) {
					limit = u.Limit
				}
			}
			if r.ContentLength > limit {
				w.Header().Set("Connection", "close")
				fallback().Error(w, r, http.StatusRequestEntityTooLarge, "")
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// BodyTooLarge reports whether err, from reading or parsing a request body, came from
// the MaxBody limit.
func BodyTooLarge(err error) bool {
	var e *http.MaxBytesError
	return errors.As(err, &e)
}

// RequestLog logs one line per request: method, path, status, duration and response
// size. Never the query string, the body or the client address: they can carry personal
// data (names, ID numbers, phone numbers typed into a search box). Keep personal data
// out of paths too. A 5xx logs at Error level, everything else at Info.
func RequestLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			done := false
			defer func() {
				status := sw.status
				switch {
				case !done:
					status = http.StatusInternalServerError // panicking through
				case status == 0:
					status = http.StatusOK
				}
				level := slog.LevelInfo
				if status >= 500 {
					level = slog.LevelError
				}
				p := r.URL.Path
				if len(p) > 200 {
					p = p[:200] + "…"
				}
				logger.LogAttrs(r.Context(), level, "http",
					slog.String("method", r.Method),
					slog.String("path", p),
					slog.Int("status", status),
					slog.Duration("duration", time.Since(start)),
					slog.Int64("bytes", sw.bytes))
			}()
			next.ServeHTTP(sw, r)
			done = true
		})
	}
}

// gzipMinSize: smaller responses are sent as they are; compressing them saves little.
const gzipMinSize = 1024

var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return zw
}}

// Gzip compresses dynamic responses (HTML, JSON, CSV, SVG, any text) of at least 1 KB for
// clients that accept gzip. A response that already has a Content-Encoding (the
// precompressed static files), a 206 or a body-less status passes through untouched.
func Gzip(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead || !acceptsGzip(r) {
			next.ServeHTTP(w, r)
			return
		}
		g := &gzipWriter{ResponseWriter: w}
		next.ServeHTTP(g, r)
		g.finish() // not deferred: after a panic the held-back body is dropped for the error page
	})
}

const (
	undecided = iota
	plain
	compressed
)

type gzipWriter struct {
	http.ResponseWriter
	status int    // held back until the decision
	buf    []byte // body held back until the decision
	mode   int
	zw     *gzip.Writer
}

func (g *gzipWriter) WriteHeader(code int) {
	if code < 200 { // informational: pass on
		g.ResponseWriter.WriteHeader(code)
		return
	}
	if g.status != 0 {
		return // superfluous, as net/http would ignore it
	}
	g.status = code
	if !g.eligible() {
		g.decide(false)
	}
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if g.status == 0 {
		g.WriteHeader(http.StatusOK)
	}
	switch g.mode {
	case plain:
		return g.ResponseWriter.Write(p)
	case compressed:
		return g.zw.Write(p)
	}
	if !g.eligible() {
		g.decide(false)
		return g.ResponseWriter.Write(p)
	}
	g.buf = append(g.buf, p...)
	if len(g.buf) >= gzipMinSize {
		if err := g.decide(true); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// eligible tells whether the response, as far as known, may be compressed.
func (g *gzipWriter) eligible() bool {
	switch g.status {
	case http.StatusNoContent, http.StatusNotModified, http.StatusPartialContent:
		return false
	}
	h := g.Header()
	if h.Get("Content-Encoding") != "" || h.Get("Content-Range") != "" {
		return false
	}
	ct := h.Get("Content-Type")
	return ct == "" || compressible(ct)
}

// decide sends the header and the held-back body, compressed or not.
func (g *gzipWriter) decide(compress bool) error {
	h := g.Header()
	if h.Get("Content-Type") == "" && len(g.buf) > 0 {
		h.Set("Content-Type", http.DetectContentType(g.buf))
	}
	if ct := h.Get("Content-Type"); ct != "" && compressible(ct) && g.eligible() {
		h.Add("Vary", "Accept-Encoding")
	} else {
		compress = false
	}
	if g.status == 0 {
		g.status = http.StatusOK
	}
	buf := g.buf
	g.buf = nil
	if compress {
		g.mode = compressed
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		g.ResponseWriter.WriteHeader(g.status)
		g.zw = gzipPool.Get().(*gzip.Writer)
		g.zw.Reset(g.ResponseWriter)
		_, err := g.zw.Write(buf)
		return err
	}
	g.mode = plain
	g.ResponseWriter.WriteHeader(g.status)
	if len(buf) > 0 {
		_, err := g.ResponseWriter.Write(buf)
		return err
	}
	return nil
}

func (g *gzipWriter) finish() {
	switch g.mode {
	case undecided:
		if g.status == 0 && len(g.buf) == 0 {
			return // nothing written: let net/http send its default
		}
		_ = g.decide(false)
	case compressed:
		_ = g.zw.Close()
		g.zw.Reset(nil)
		gzipPool.Put(g.zw)
		g.zw = nil
	}
}

// Flush sends what is held back (compressed if eligible) and flushes, for streaming.
func (g *gzipWriter) Flush() {
	if g.mode == undecided {
		if g.status == 0 {
			g.status = http.StatusOK
		}
		_ = g.decide(g.eligible())
	}
	if g.zw != nil {
		_ = g.zw.Flush()
	}
	_ = http.NewResponseController(g.ResponseWriter).Flush()
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// ParseTrustedProxies parses a list of reverse-proxy addresses, CIDR prefixes or single
// IPs, separated by commas or spaces ("10.0.0.0/8, 127.0.0.1, ::1"); "" gives nil (trust
// no proxy).
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

type ctxKey int

const clientIPKey ctxKey = 0

// RealIP works out the client address of each request for ClientIP. X-Forwarded-For is
// believed only when the connection comes from one of the trusted proxies, and then only
// up to the first hop (from the right) that is not itself a trusted proxy; with no
// trusted proxies (nil) the header is ignored, so clients cannot forge their address. A
// connection over a Unix socket counts as coming from a trusted proxy when any is
// configured.
func RealIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := clientIP(r, trusted)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey, ip)))
		})
	}
}

// ClientIP returns the client address found by RealIP, or the connection's peer address
// when RealIP did not run. The zero Addr means unknown.
func ClientIP(r *http.Request) netip.Addr {
	if ip, ok := r.Context().Value(clientIPKey).(netip.Addr); ok {
		return ip
	}
	return parseHost(r.RemoteAddr)
}

func parseHost(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

func trustedAddr(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ip := parseHost(r.RemoteAddr)
	if len(trusted) == 0 || (ip.IsValid() && !trustedAddr(ip, trusted)) {
		return ip
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHost(hops[i])
		if !a.IsValid() {
			break // garbage: believe nothing further left
		}
		ip = a
		if !trustedAddr(a, trusted) {
			break
		}
	}
	return ip
}

// LocaleSwitch handles the layout's language links, GET /lang?to=en&next=/path: it
// stores the choice in the "lang" cookie for a year and redirects (303) to next when that
// is a path on this site, else to "/". It works without JavaScript.
func LocaleSwitch() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if loc, ok := i18n.Match(q.Get("to")); ok {
			http.SetCookie(w, &http.Cookie{
				Name: i18n.CookieName, Value: loc, Path: "/", MaxAge: 365 * 24 * 60 * 60,
				HttpOnly: true, SameSite: http.SameSiteLaxMode,
			})
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, localPath(q.Get("next")), http.StatusSeeOther)
	})
}

// localPath returns next if it is a path on this site ("/x?y"), else "/": no open
// redirects through "//host", "/\host" or "scheme:".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	return next
}
