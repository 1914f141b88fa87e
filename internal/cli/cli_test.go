package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/store"
)

func run(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb, environ)
	return code, out.String(), errb.String()
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := run(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "liveloop ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, out, _ := run(t, nil, "help"); code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "backup") {
		t.Fatalf("help: %d %q", code, out)
	}
	if code, _, errs := run(t, nil, "launch"); code != 2 || !strings.Contains(errs, `unknown command "launch"`) {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
}

// A malformed configuration stops any command with one line naming the key.
func TestBadConfigOneLine(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "liveloop.conf")
	os.WriteFile(conf, []byte("addr = :8080\nlog_levle = debug\n"), 0o600)
	code, _, errs := run(t, nil, "migrate", "-config", conf, "-db", filepath.Join(dir, "x.db"))
	if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "log_levle: unknown key") {
		t.Fatalf("bad config: %d %q", code, errs)
	}
	code, _, errs = run(t, []string{"LIVELOOP_AUTO_MIGRATE=perhaps"}, "migrate", "-db", filepath.Join(dir, "x.db"))
	if code != 1 || !strings.Contains(errs, "auto_migrate: want true or false") {
		t.Fatalf("bad env: %d %q", code, errs)
	}
}

func TestMigrateTenantBackup(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.db")
	if code, out, errs := run(t, nil, "migrate", "-db", db); code != 0 || !strings.Contains(out, "schema is at version") {
		t.Fatalf("migrate: %d %q %q", code, out, errs)
	}
	code, out, errs := run(t, []string{"LIVELOOP_OWNER_PASSWORD=owner-password-1"}, "tenant", "-db", db, "-slug", "shop", "-name", "小店", "-owner-email", "boss@shop.test")
	if code != 0 || !strings.Contains(out, `brand "shop" created`) || strings.Contains(out, "generated password") {
		t.Fatalf("tenant: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, nil, "tenant", "-db", db, "-slug", "shop", "-name", "again", "-owner-email", "x@shop.test"); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("duplicate tenant: %d %q", code, errs)
	}
	dest := filepath.Join(dir, "copy.db")
	if code, out, errs := run(t, nil, "backup", "-db", db, dest); code != 0 || !strings.Contains(out, dest) {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	copyDB, err := store.Open(context.Background(), dest)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var slug string
	if err := copyDB.R.QueryRow(`SELECT slug FROM tenants`).Scan(&slug); err != nil || slug != "shop" {
		t.Fatalf("backup content: %q %v", slug, err)
	}
	if code, _, errs := run(t, nil, "backup", "-db", db, dest); code != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("backup over an existing file: %d %q", code, errs)
	}
}

func TestConfigSample(t *testing.T) {
	code, out, _ := run(t, nil, "config")
	if code != 0 || !strings.Contains(out, "# db = liveloop.db") || !strings.Contains(out, "shutdown_timeout") {
		t.Fatalf("config: %d %q", code, out)
	}
}
