package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The whole static directory is embedded: the committed app.css, app.js, favicon.svg
// and the vendor/ files scripts/assets.sh copies from node_modules (gitignored). The
// package therefore compiles before assets.sh has run; TestVendorAssetsPresent fails
// until it has.
//
//go:embed static
var staticFiles embed.FS

type asset struct {
	body  []byte
	gz    []byte // nil when not worth compressing
	ctype string
	hash  string // first 12 hex digits of the SHA-256 of body
}

// assets are loaded, hashed and gzip-compressed once, on first use.
var assets = sync.OnceValue(func() map[string]*asset {
	out := map[string]*asset{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != "static" {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a := &asset{body: body, ctype: contentType(p), hash: hex.EncodeToString(sum[:6])}
		if compressible(a.ctype) && len(body) > 256 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if buf.Len() < len(body)*9/10 {
				a.gz = buf.Bytes()
			}
		}
		out[strings.TrimPrefix(p, "static/")] = a
		return nil
	})
	if err != nil {
		panic("web: static assets: " + err.Error()) // embedded files: cannot happen
	}
	return out
})

func contentType(p string) string {
	switch path.Ext(p) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".map":
		return "application/json"
	case ".html":
		return "text/html; charset=utf-8"
	case ".txt", ".md":
		return "text/plain; charset=utf-8"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// compressible reports whether a response of this Content-Type shrinks under gzip.
func compressible(ctype string) bool {
	ct, _, _ := strings.Cut(ctype, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	if strings.HasPrefix(ct, "text/") {
		return true
	}
	switch ct {
	case "application/json", "application/geo+json", "application/javascript", "application/xml",
		"application/xhtml+xml", "application/problem+json", "application/ld+json",
		"application/manifest+json", "image/svg+xml", "image/x-icon":
		return true
	}
	return strings.HasSuffix(ct, "+json") || strings.HasSuffix(ct, "+xml")
}

// AssetURL is the URL of a static file with its content hash as version,
// "/static/app.css?v=3f2a9c0b1d4e", so that it can be cached for a year and still change
// with every build that changes it. path is relative to the static directory (a leading
// "/static/" is accepted). An unknown file gets the unversioned URL. Templates call it
// as {{asset "app.css"}}.
func AssetURL(p string) string {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "/static/"), "/")
	if a := assets()[p]; a != nil {
		return "/static/" + p + "?v=" + a.hash
	}
	return "/static/" + p
}

// Static serves the embedded static directory; mount it at "/static/" (the prefix is
// stripped here). A request carrying the current version (?v=hash, see AssetURL) is
// cached for a year as immutable; any other gets "no-cache" and revalidates by ETag.
// Text files are gzip-compressed once, at first use, and served compressed to clients
// that accept gzip. Range and conditional requests work (http.ServeContent).
func Static() http.Handler {
	all := assets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/static"), "/")
		a := all[p]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		if r.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		body, etag := a.body, `"`+a.hash+`"`
		if a.gz != nil {
			h.Add("Vary", "Accept-Encoding")
			if acceptsGzip(r) {
				h.Set("Content-Encoding", "gzip")
				body, etag = a.gz, `"`+a.hash+`-gz"`
			}
		}
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// acceptsGzip reports whether Accept-Encoding allows gzip: listed (or x-gzip) with a
// non-zero q, or not listed but covered by "*" with a non-zero q.
func acceptsGzip(r *http.Request) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, h := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(h, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			if p := strings.TrimSpace(params); strings.HasPrefix(p, "q=") {
				v, err := strconv.ParseFloat(p[2:], 64)
				if err != nil {
					continue
				}
				q = v
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "*":
				starQ = max(starQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
