package access

import (
	"context"
	"embed"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the access pages (login, password, tokens), for the renderer.
func Templates() embed.FS { return templates }

// CookieName is the session cookie.
const CookieName = "shequ_session"

// HTTP serves the access pages and provides the authentication middleware.
type HTTP struct {
	S *Service
	R *web.Renderer
	// SecureCookies marks cookies Secure (set when serving behind TLS).
	SecureCookies bool
}

// PublicRoutes registers the pages reachable without a session.
func (h *HTTP) PublicRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", h.loginForm)
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("POST /logout", h.logout)
}

// Routes registers the pages for signed-in users (mount behind RequireLogin).
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /password", h.passwordForm)
	mux.HandleFunc("POST /password", h.password)
	mux.HandleFunc("GET /account/tokens", h.tokens)
	mux.HandleFunc("POST /account/tokens", h.createToken)
	mux.HandleFunc("POST /account/tokens/{id}/revoke", h.revokeToken)
}

// staleKey marks a request whose session cookie no longer names a session.
type staleKey struct{}

// Authenticate resolves the caller from a Bearer token or the session
// cookie and puts the principal and the audit actor in the context. It never
// refuses; RequireLogin does.
func (h *HTTP) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		client := web.ClientIP(r).String()
		var p *Principal
		if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
			p, _ = h.S.Bearer(ctx, strings.TrimSpace(strings.TrimPrefix(auth, "Bearer ")))
		} else if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
			if p, _ = h.S.Session(ctx, c.Value); p == nil {
				ctx = context.WithValue(ctx, staleKey{}, true)
			}
		}
		if p != nil {
			ctx = WithPrincipal(ctx, p)
			ctx = audit.WithActor(ctx, audit.Actor{ID: p.UserID, Name: p.Username, Client: client})
		} else {
			ctx = audit.WithActor(ctx, audit.Actor{Name: "anonymous", Client: client})
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RequireLogin sends anonymous browsers to the login page (API callers get
// 401) and holds accounts that must change their password on /password.
func (h *HTTP) RequireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := From(r.Context())
		if p == nil {
			if r.Header.Get("HX-Request") != "" {
				w.Header().Set("HX-Redirect", "/login")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			q := url.Values{}
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				q.Set("next", r.URL.RequestURI())
			}
			if stale, _ := r.Context().Value(staleKey{}).(bool); stale {
				// the cookie named a session that has ended (idle timeout, logout
				// elsewhere, password change): say so, and drop the cookie
				q.Set("expired", "1")
				h.setCookie(w, r, CookieName, "", -1)
			}
			target := "/login"
			if len(q) > 0 {
				target += "?" + q.Encode()
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if p.MustChange && r.URL.Path != "/password" {
			http.Redirect(w, r, "/password", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type loginData struct {
	Username, Next, Error string
}

func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.Contains(s, "\\") {
		return "/"
	}
	return s
}

func (h *HTTP) loginForm(w http.ResponseWriter, r *http.Request) {
	if From(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d := loginData{Next: safeNext(r.URL.Query().Get("next"))}
	if r.URL.Query().Get("expired") != "" {
		d.Error = "login.expired"
	}
	h.R.Page(w, r, http.StatusOK, "access_login", d)
}

func (h *HTTP) login(w http.ResponseWriter, r *http.Request) {
	user, pw := r.PostFormValue("username"), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	token, p, err := h.S.Login(r.Context(), user, pw, web.ClientIP(r).String())
	if err != nil {
		var e *Error
		key := "error.msg.500"
		status := http.StatusInternalServerError
		if errors.As(err, &e) {
			key, status = e.Code, http.StatusUnauthorized
		}
		h.R.Page(w, r, status, "access_login", loginData{Username: user, Next: next, Error: key})
		return
	}
	h.setCookie(w, r, CookieName, token, 0)
	if p.MustChange {
		next = "/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *HTTP) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.SecureCookies || r.TLS != nil}
	if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	} else if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (h *HTTP) logout(w http.ResponseWriter, r *http.Request) {
	if p := From(r.Context()); p != nil && p.SessionID != "" {
		_ = h.S.Logout(r.Context(), p)
	}
	h.setCookie(w, r, CookieName, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type passwordData struct {
	Forced     bool
	Error      string
	Field      string
	MinLength  int
	Changed    bool
	Principal  *Principal
	returnPath string
}

func (h *HTTP) passwordForm(w http.ResponseWriter, r *http.Request) {
	p := From(r.Context())
	if p == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	h.R.Page(w, r, http.StatusOK, "access_password", passwordData{Forced: p.MustChange, MinLength: MinPasswordLength, Changed: r.URL.Query().Get("changed") != ""})
}

func (h *HTTP) password(w http.ResponseWriter, r *http.Request) {
	p := From(r.Context())
	if p == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	cur, next, again := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("confirm")
	d := passwordData{Forced: p.MustChange, MinLength: MinPasswordLength}
	var err error
	if next != again {
		err = &Error{Code: "password.mismatch", Field: "confirm"}
	} else {
		err = h.S.ChangeOwnPassword(r.Context(), p, cur, next)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			h.R.Error(w, r, http.StatusInternalServerError, "")
			return
		}
		d.Error, d.Field = e.Code, e.Field
		h.R.Page(w, r, http.StatusUnprocessableEntity, "access_password", d)
		return
	}
	if p.MustChange {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/password?changed=1", http.StatusSeeOther)
}

type tokensData struct {
	Tokens []Token
	Secret string
	Error  string
}

func (h *HTTP) tokens(w http.ResponseWriter, r *http.Request) {
	p := From(r.Context())
	ts, err := h.S.Tokens(r.Context(), p.UserID)
	if err != nil {
		h.R.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	h.R.Page(w, r, http.StatusOK, "access_tokens", tokensData{Tokens: ts})
}

func (h *HTTP) createToken(w http.ResponseWriter, r *http.Request) {
	p := From(r.Context())
	secret, _, err := h.S.CreateToken(r.Context(), p.UserID, r.PostFormValue("name"))
	ts, _ := h.S.Tokens(r.Context(), p.UserID)
	d := tokensData{Tokens: ts, Secret: secret}
	status := http.StatusOK
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			h.R.Error(w, r, http.StatusInternalServerError, "")
			return
		}
		d.Error, status = e.Code, http.StatusUnprocessableEntity
	}
	h.R.Page(w, r, status, "access_tokens", d)
}

func (h *HTTP) revokeToken(w http.ResponseWriter, r *http.Request) {
	p := From(r.Context())
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := h.S.RevokeToken(r.Context(), p.UserID, id); err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	http.Redirect(w, r, "/account/tokens", http.StatusSeeOther)
}
