// Package config is liveloop's start-up configuration: one documented
// struct, filled from defaults, then an optional file, then LIVELOOP_*
// environment variables (and LIVELOOP_*_FILE for secrets), then flags, and
// validated before anything starts. Settings an operator edits at run time
// live in the database, not here.
package config

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is every start-up setting. The `key` tag is the name in the file
// and, upper-cased with LIVELOOP_ in front, in the environment.
type Config struct {
	Addr            string        `key:"addr" help:"address to listen on"`
	DB              string        `key:"db" help:"SQLite file path, or a postgres:// URL"`
	BaseURL         string        `key:"base_url" help:"public URL of this liveloop, used in join links and QR codes (default: derived from addr)"`
	SecretKey       string        `key:"secret_key" secret:"true" help:"key that signs member cookies (≥ 32 characters); generated and kept in the database when empty"`
	EncryptionKey   string        `key:"encryption_key" secret:"true" help:"key (≥ 32 characters) that encrypts channel tokens and secrets at rest; when empty, SQLite keeps a generated key in <db>.key (mode 0600, beside the database, not inside it) and PostgreSQL refuses to store channel secrets"`
	TelegramAPIURL  string        `key:"telegram_api_url" help:"Telegram Bot API server (default https://api.telegram.org; a local Bot API server or a test double)"`
	LINEAPIURL      string        `key:"line_api_url" help:"LINE Messaging API server (default https://api.line.me; a test double)"`
	LogLevel        string        `key:"log_level" help:"debug, info, warn or error"`
	LogFormat       string        `key:"log_format" help:"text or json"`
	InsecureCookies bool          `key:"insecure_cookies" help:"drop the Secure flag from cookies (only for plain-HTTP setups on a trusted network; localhost works without it)"`
	AutoMigrate     bool          `key:"auto_migrate" help:"apply pending migrations when serve starts"`
	ShutdownTimeout time.Duration `key:"shutdown_timeout" help:"how long a graceful shutdown may take"`
}

// Default returns the defaults: SQLite in the working directory, on
// localhost.
func Default() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DB:              "liveloop.db",
		LogLevel:        "info",
		LogFormat:       "text",
		AutoMigrate:     true,
		ShutdownTimeout: 15 * time.Second,
	}
}

// Error names the setting that is wrong and where it came from.
type Error struct {
	Source string // "file liveloop.conf:3", "env LIVELOOP_ADDR", "flag -addr"
	Key    string
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s: %s: %s", e.Source, e.Key, e.Msg) }

type field struct {
	key    string
	help   string
	secret bool
	v      reflect.Value
}

func (c *Config) fields() []field {
	rv := reflect.ValueOf(c).Elem()
	rt := rv.Type()
	out := make([]field, 0, rt.NumField())
	for i := range rt.NumField() {
		f := rt.Field(i)
		out = append(out, field{key: f.Tag.Get("key"), help: f.Tag.Get("help"), secret: f.Tag.Get("secret") == "true", v: rv.Field(i)})
	}
	return out
}

func (c *Config) field(key string) (field, bool) {
	for _, f := range c.fields() {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func set(f field, raw string) error {
	switch f.v.Kind() {
	case reflect.String:
		f.v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", raw)
		}
		f.v.SetBool(b)
	case reflect.Int64: // time.Duration
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("want a duration such as 15s, got %q", raw)
		}
		f.v.SetInt(int64(d))
	default:
		return fmt.Errorf("unsupported type %s", f.v.Kind())
	}
	return nil
}

// LoadFile applies a file of `key = value` lines (# starts a comment).
func (c *Config) LoadFile(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return &Error{Source: "file " + path, Key: "config", Msg: err.Error()}
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		src := fmt.Sprintf("file %s:%d", path, n)
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok {
			return &Error{Source: src, Key: k, Msg: "want key = value"}
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		f, known := c.field(k)
		if !known {
			return &Error{Source: src, Key: k, Msg: "unknown key (see liveloop serve -h)"}
		}
		if err := set(f, v); err != nil {
			return &Error{Source: src, Key: k, Msg: err.Error()}
		}
	}
	return sc.Err()
}

// notSettings are LIVELOOP_ variables read by commands or tests, not
// settings.
var notSettings = map[string]bool{
	"LIVELOOP_CONFIG": true, "LIVELOOP_OWNER_PASSWORD": true, "LIVELOOP_REQUIRE_POSTGRES": true,
	"LIVELOOP_REQUIRE_BROWSER": true, "LIVELOOP_CHROMIUM": true, "LIVELOOP_SCREENSHOT": true,
}

// LoadEnv applies LIVELOOP_* variables; LIVELOOP_<KEY>_FILE reads the
// value from a file (for secrets mounted by an orchestrator). Unknown
// LIVELOOP_ variables are an error, so a typo does not pass silently.
func (c *Config) LoadEnv(environ []string) error {
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "LIVELOOP_") || strings.HasPrefix(name, "LIVELOOP_TEST_") || notSettings[name] {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, "LIVELOOP_"))
		if base, ok := strings.CutSuffix(key, "_file"); ok {
			if _, known := c.field(base); known {
				b, err := os.ReadFile(val)
				if err != nil {
					return &Error{Source: "env " + name, Key: base, Msg: err.Error()}
				}
				key, val = base, strings.TrimSpace(string(b))
			}
		}
		f, known := c.field(key)
		if !known {
			return &Error{Source: "env " + name, Key: key, Msg: "unknown setting"}
		}
		if err := set(f, val); err != nil {
			return &Error{Source: "env " + name, Key: key, Msg: err.Error()}
		}
	}
	return nil
}

// FlagSet registers every setting as a flag on fs (-addr, -db, …);
// parsing fs applies them over what is already in c.
func (c *Config) FlagSet(fs *flag.FlagSet) {
	for _, f := range c.fields() {
		f := f
		name := strings.ReplaceAll(f.key, "_", "-")
		if f.v.Kind() == reflect.Bool {
			fs.BoolFunc(name, f.help, func(s string) error { return set(f, s) })
			continue
		}
		fs.Func(name, f.help+fmt.Sprintf(" (default %q)", display(f)), func(s string) error { return set(f, s) })
	}
}

func display(f field) string {
	if f.secret {
		if f.v.String() == "" {
			return ""
		}
		return "****"
	}
	return fmt.Sprint(f.v.Interface())
}

// Validate checks the settings together.
func (c *Config) Validate() error {
	bad := func(key, msg string) error { return &Error{Source: "setting", Key: key, Msg: msg} }
	if c.Addr == "" {
		return bad("addr", "empty")
	}
	if c.DB == "" {
		return bad("db", "empty")
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("base_url", fmt.Sprintf("want http(s)://host[:port], got %q", c.BaseURL))
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return bad("secret_key", "must have at least 32 characters")
	}
	if c.EncryptionKey != "" && len(c.EncryptionKey) < 32 {
		return bad("encryption_key", "must have at least 32 characters")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", fmt.Sprintf("want debug, info, warn or error, got %q", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log_format", fmt.Sprintf("want text or json, got %q", c.LogFormat))
	}
	if c.ShutdownTimeout <= 0 {
		return bad("shutdown_timeout", "must be positive")
	}
	return nil
}

// PublicURL is BaseURL, or one derived from Addr.
func (c *Config) PublicURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	host := c.Addr
	if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") {
		host = "localhost:" + host[strings.LastIndex(host, ":")+1:]
	}
	if strings.HasPrefix(host, "127.0.0.1:") {
		host = "localhost:" + strings.TrimPrefix(host, "127.0.0.1:")
	}
	return "http://" + host
}

// Redacted lists every setting as key = value with secrets masked, for
// logs and `liveloop serve -print-config`.
func (c *Config) Redacted() string {
	var lines []string
	for _, f := range c.fields() {
		lines = append(lines, fmt.Sprintf("%s = %s", f.key, display(f)))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Sample is the documented sample file listing every key.
func Sample() string {
	c := Default()
	var b strings.Builder
	b.WriteString("# liveloop configuration: key = value. Environment variables LIVELOOP_<KEY> and flags -<key> override this file.\n")
	for _, f := range c.fields() {
		fmt.Fprintf(&b, "\n# %s\n# %s = %s\n", f.help, f.key, display(f))
	}
	return b.String()
}

// Load builds the configuration for a command: defaults, the file named by
// -config or LIVELOOP_CONFIG, the environment, then the flags in args.
func Load(fs *flag.FlagSet, args []string, environ []string) (Config, error) {
	c := Default()
	var file string
	fs.StringVar(&file, "config", "", "configuration file (key = value lines)")
	c.FlagSet(fs)
	// Flags are applied last, but the file must be known first: find it.
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "-config="); ok {
			file = v
		} else if v, ok := strings.CutPrefix(a, "--config="); ok {
			file = v
		} else if (a == "-config" || a == "--config") && i+1 < len(args) {
			file = args[i+1]
		}
	}
	if file == "" {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, "LIVELOOP_CONFIG="); ok {
				file = v
			}
		}
	}
	if file != "" {
		if err := c.LoadFile(file); err != nil {
			return c, err
		}
	}
	if err := c.LoadEnv(environ); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return c, err
		}
		return c, fmt.Errorf("config: %w", err)
	}
	return c, c.Validate()
}
