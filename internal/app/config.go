package app

import (
	"github.com/shequ-platform/shequ/internal/grid"

	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything `shequ serve` can be told. Every flag has a SHEQU_*
// environment equivalent (flag --idle-timeout ↔ SHEQU_IDLE_TIMEOUT); a flag
// given on the command line wins over the environment.
type Config struct {
	Addr            string
	Data            string
	DB              string
	Policy          string
	Keys            string
	TrustProxy      bool
	SecureCookies   bool
	IdleTimeout     time.Duration
	LockoutFailures int
	LockoutWindow   time.Duration
	MaxBody         int64
	LogFormat       string
	LogLevel        string
	PublicURL       string
	// Map is the optional tile layer under the grid map.
	Map grid.MapConfig
}

// Option describes one setting, for flags, the environment and the docs.
type Option struct {
	Flag, Default, Usage string
}

// Options lists the settings in the order the README documents them.
var Options = []Option{
	{"addr", "127.0.0.1:8080", "address to listen on"},
	{"data", "./shequ-data", "data directory (SQLite file, attachments, keys)"},
	{"db", "", "database: empty for SQLite in the data directory, or a postgres:// URL"},
	{"policy", "", "policy pack directory (default: the five packs built into the binary)"},
	{"key-file", "", "key file for personal data (default: keys.json in the data directory, created on first start; SHEQU_KEYS may hold its content instead)"},
	{"trust-proxy", "false", "trust X-Forwarded-For / X-Forwarded-Proto from a reverse proxy"},
	{"secure-cookies", "false", "mark cookies Secure (set when users reach Shequ over HTTPS)"},
	{"idle-timeout", "30m", "log out sessions idle for this long"},
	{"lockout-failures", "5", "failed logins that lock an account"},
	{"lockout-window", "15m", "window in which failures are counted, and lockout length"},
	{"max-body", "10485760", "largest request body in bytes"},
	{"log-format", "text", "log format: text or json"},
	{"log-level", "info", "log level: debug, info, warn, error"},
	{"public-url", "", "address residents reach Shequ at, for the QR codes on receipts and Open311 discovery (e.g. https://shequ.example.gov.cn; default: the address of each request)"},
	{"map-tiles", "", "tile server under the grid map, as a {z}/{x}/{y} URL on the intranet (e.g. a Tianditu mirror; default: none, outlines and points on a blank background)"},
	{"map-tiles-crs", "wgs84", "coordinate system the tiles are drawn in: wgs84 (Tianditu, CGCS2000) or gcj02"},
	{"map-attribution", "", "attribution shown in the map's corner for the tiles"},
}

// KeyFile is where the keys for personal data live.
func (c Config) KeyFile() string {
	if c.Keys != "" {
		return c.Keys
	}
	return filepath.Join(c.Data, "keys.json")
}

// EnvName is the environment variable of a flag.
func EnvName(flagName string) string {
	return "SHEQU_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Bind registers the options on fs, with defaults taken from the environment.
func (c *Config) Bind(fs *flag.FlagSet) {
	str := map[string]*string{"addr": &c.Addr, "data": &c.Data, "db": &c.DB, "policy": &c.Policy, "key-file": &c.Keys, "log-format": &c.LogFormat, "log-level": &c.LogLevel, "public-url": &c.PublicURL,
		"map-tiles": &c.Map.TileURL, "map-tiles-crs": &c.Map.TileCRS, "map-attribution": &c.Map.Attribution}
	for _, o := range Options {
		def := o.Default
		if v, ok := os.LookupEnv(EnvName(o.Flag)); ok {
			def = v
		}
		usage := o.Usage + " (env " + EnvName(o.Flag) + ")"
		switch o.Flag {
		case "trust-proxy":
			b, _ := strconv.ParseBool(def)
			fs.BoolVar(&c.TrustProxy, o.Flag, b, usage)
		case "secure-cookies":
			b, _ := strconv.ParseBool(def)
			fs.BoolVar(&c.SecureCookies, o.Flag, b, usage)
		case "idle-timeout":
			d, _ := time.ParseDuration(def)
			fs.DurationVar(&c.IdleTimeout, o.Flag, d, usage)
		case "lockout-window":
			d, _ := time.ParseDuration(def)
			fs.DurationVar(&c.LockoutWindow, o.Flag, d, usage)
		case "lockout-failures":
			n, _ := strconv.Atoi(def)
			fs.IntVar(&c.LockoutFailures, o.Flag, n, usage)
		case "max-body":
			n, _ := strconv.ParseInt(def, 10, 64)
			fs.Int64Var(&c.MaxBody, o.Flag, n, usage)
		default:
			fs.StringVar(str[o.Flag], o.Flag, def, usage)
		}
	}
}

// tilePlaceholders are the placeholders of a Leaflet tile URL template, with
// a value that stands for them when the template is read as a URL: url.Parse
// refuses a brace in a host (t{s}.tianditu.gov.cn).
var tilePlaceholders = strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0", "{-y}", "0", "{r}", "")

// validTileURL reports whether tiles is a tile URL template the map can use:
// http or https, with a host, {z}, {x} and {y} (or {-y} for TMS tiles), and a
// {s} subdomain placeholder in the host only before a dot (t{s}.example.cn),
// so that the map page's CSP can allow the host as *.example.cn.
func validTileURL(tiles string) bool {
	if !strings.Contains(tiles, "{z}") || !strings.Contains(tiles, "{x}") ||
		(!strings.Contains(tiles, "{y}") && !strings.Contains(tiles, "{-y}")) {
		return false
	}
	u, err := url.Parse(tilePlaceholders.Replace(tiles))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	_, rest, _ := strings.Cut(tiles, "://")
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	if i := strings.LastIndex(host, "}"); i >= 0 && !strings.Contains(host[i:], ".") {
		return false
	}
	return true
}

// DSN is the database to open: --db, or the SQLite file in the data directory.
func (c *Config) DSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.Data, "shequ.db")
}

// Validate checks the settings before anything starts.
func (c *Config) Validate() error {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url must be an http:// or https:// address, not %q", c.PublicURL)
		}
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	if c.Map.TileURL != "" && !validTileURL(c.Map.TileURL) {
		return fmt.Errorf("--map-tiles must be an http(s) URL with {z}, {x} and {y}, not %q", c.Map.TileURL)
	}
	if c.Map.TileCRS == "" {
		c.Map.TileCRS = "wgs84"
	}
	if c.Map.TileCRS != "wgs84" && c.Map.TileCRS != "gcj02" {
		return fmt.Errorf("--map-tiles-crs must be wgs84 or gcj02, not %q", c.Map.TileCRS)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
	}
	if c.IdleTimeout < time.Minute {
		return fmt.Errorf("--idle-timeout must be at least 1m")
	}
	if c.LockoutFailures < 1 {
		return fmt.Errorf("--lockout-failures must be at least 1")
	}
	if c.MaxBody < 1024 {
		return fmt.Errorf("--max-body must be at least 1024")
	}
	return nil
}
