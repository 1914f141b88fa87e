package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/live"
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

// The verifier recomputes a draw from its published record and refuses a
// record whose winners or seed were changed.
func TestLotteryVerify(t *testing.T) {
	seed := live.NewSeed()
	eligible := []int64{3, 5, 8, 13, 21, 34, 55}
	rec := LotteryRecord{Prize: "面霜", Commitment: live.Commitment(seed), Seed: hex.EncodeToString(seed), WinnerCount: 3,
		Eligible: eligible, Winners: live.Pick(seed, eligible, 3)}
	write := func(r LotteryRecord) string {
		p := filepath.Join(t.TempDir(), "lottery.json")
		b, _ := json.Marshal(r)
		os.WriteFile(p, b, 0o600)
		return p
	}
	if code, out, errOut := run(t, nil, "lottery", "verify", write(rec)); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("genuine draw: %d %q %q", code, out, errOut)
	}
	tampered := rec
	tampered.Winners = append([]int64{rec.Eligible[0]}, rec.Winners[1:]...)
	if slices.Equal(tampered.Winners, rec.Winners) {
		tampered.Winners = append([]int64{rec.Eligible[1]}, rec.Winners[1:]...)
	}
	if code, _, errOut := run(t, nil, "lottery", "verify", write(tampered)); code != 1 || !strings.Contains(errOut, "not") {
		t.Fatalf("tampered winners: %d %q", code, errOut)
	}
	other := rec
	other.Seed = hex.EncodeToString(live.NewSeed())
	if code, _, errOut := run(t, nil, "lottery", "verify", write(other)); code != 1 || !strings.Contains(errOut, "commitment") {
		t.Fatalf("another seed: %d %q", code, errOut)
	}
	if code, _, _ := run(t, nil, "lottery", "check"); code != 1 {
		t.Fatal("a wrong subcommand was accepted")
	}
}
