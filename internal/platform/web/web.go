// Package web is the shell every screen of Shequ lives in (floor 0): the page renderer and
// its layout, the embedded static assets (CSS, JS, vendored htmx and ECharts), and the
// HTTP middleware.
//
// Pages are server-rendered html/template files with htmx for partial updates; every
// essential path works without JavaScript. No page loads anything from another host:
// government intranets are offline.
//
// Suggested middleware order (outermost first), with Chain:
//
//	h := web.Chain(mux,
//		web.RealIP(trusted),      // so that everything below sees the client address
//		web.RequestLog(logger),   // logs the status written by everything below
//		web.Recover(logger),      // turns a panic into the 500 page
//		web.SecurityHeaders,
//		web.Gzip,
//		web.MaxBody(10<<20),
//	)
//	mux.Handle("/static/", web.Static())
//	mux.Handle("GET /lang", web.LocaleSwitch())
package web

import "net/http"

// CSRFField is the name of the hidden form field that carries the CSRF token; the layout
// template "csrf" writes it (`{{template "csrf" $}}` inside any form). CSRFHeader is the
// request header app.js adds to every htmx request, from <meta name="csrf-token">. The
// access package checks either.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// Msg marks a string literal as a catalogue key and returns it unchanged, for keys that
// are chosen in Go code and translated later (a flash message, a field error, a nav item
// built in a loop): `flash = web.Msg("case.accepted")`. TestCatalogueComplete in package
// i18n finds keys written as Msg("key"), so they cannot go missing from the catalogue.
func Msg(key string) string { return key }

// Chain wraps h in middleware, the first listed outermost: Chain(h, a, b) is a(b(h)).
func Chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}
