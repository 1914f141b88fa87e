package config

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args, env []string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, env)
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "liveloop.conf")
	os.WriteFile(file, []byte("# sample\naddr = 127.0.0.1:9000\ndb = from-file.db\nlog_level = warn\n"), 0o600)
	c, err := load(t, []string{"-config", file, "-db", "from-flag.db"}, []string{"LIVELOOP_LOG_LEVEL=debug", "LIVELOOP_SHUTDOWN_TIMEOUT=3s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.DB != "from-flag.db" || c.LogLevel != "debug" || c.ShutdownTimeout != 3*time.Second {
		t.Fatalf("got %+v", c)
	}
}

func TestSecretFromFile(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte(strings.Repeat("k", 40)+"\n"), 0o600)
	c, err := load(t, nil, []string{"LIVELOOP_SECRET_KEY_FILE=" + secret})
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretKey != strings.Repeat("k", 40) {
		t.Fatalf("secret = %q", c.SecretKey)
	}
	if strings.Contains(c.Redacted(), "kkkk") {
		t.Fatal("Redacted shows the secret")
	}
}

// Malformed configuration gives one clear line naming the bad key.
func TestBadInputNamesTheKey(t *testing.T) {
	dir := t.TempDir()
	n := 0
	write := func(body string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("c%d.conf", n))
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	cases := []struct {
		name      string
		args, env []string
		want      string
	}{
		{"unknown file key", []string{"-config", write("adr = :80\n")}, nil, `file ` + filepath.Join(dir, "c1.conf") + `:1: adr: unknown key`},
		{"bad bool in file", []string{"-config", write("\ninsecure_cookies = maybe\n")}, nil, `:2: insecure_cookies: want true or false`},
		{"no equals", []string{"-config", write("addr\n")}, nil, `addr: want key = value`},
		{"unknown env", nil, []string{"LIVELOOP_ADR=:80"}, `env LIVELOOP_ADR: adr: unknown setting`},
		{"bad duration env", nil, []string{"LIVELOOP_SHUTDOWN_TIMEOUT=soon"}, `shutdown_timeout: want a duration`},
		{"bad level", []string{"-log-level", "loud"}, nil, `log_level: want debug, info, warn or error`},
		{"short secret", nil, []string{"LIVELOOP_SECRET_KEY=short"}, `secret_key: must have at least 32 characters`},
		{"bad base url", []string{"-base-url", "example.com"}, nil, `base_url: want http(s)://host[:port]`},
		{"missing file", []string{"-config", filepath.Join(dir, "nope.conf")}, nil, `nope.conf: config:`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.args, c.env)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line containing %q", err, c.want)
			}
		})
	}
}

func TestPublicURL(t *testing.T) {
	c := Default()
	if got := c.PublicURL(); got != "http://localhost:8080" {
		t.Fatal(got)
	}
	c.Addr = ":9090"
	if got := c.PublicURL(); got != "http://localhost:9090" {
		t.Fatal(got)
	}
	c.BaseURL = "https://shop.example"
	if got := c.PublicURL(); got != "https://shop.example" {
		t.Fatal(got)
	}
}

func TestSampleListsEveryKey(t *testing.T) {
	s := Sample()
	c := Default()
	for _, f := range c.fields() {
		if !strings.Contains(s, f.key+" = ") {
			t.Errorf("sample lacks %s", f.key)
		}
	}
}
