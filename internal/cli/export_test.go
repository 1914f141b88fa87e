package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// liveloop export: the CSV (byte order mark, header) on stdout or in a
// file, the row count on stderr; a bad kind, brand or day stops with one
// line and leaves no file behind.
func TestExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.db")
	env := []string{"LIVELOOP_OWNER_PASSWORD=owner-password-1"}
	if code, _, errs := run(t, env, "tenant", "-db", db, "-slug", "shop", "-name", "小店", "-owner-email", "boss@shop.test"); code != 0 {
		t.Fatalf("tenant: %s", errs)
	}
	orders := filepath.Join(dir, "orders.csv")
	os.WriteFile(orders, []byte("order_id,paid_at,amount,phone\n=1+1,2026-01-02 10:00,88.00,13800138000\n"), 0o600)
	if code, _, errs := run(t, nil, "orders", "import", "-db", db, "-brand", "shop", orders); code != 0 {
		t.Fatalf("import: %s", errs)
	}

	code, out, errs := run(t, nil, "export", "-db", db, "-brand", "shop", "-kind", "orders")
	if code != 0 || !strings.HasPrefix(out, "\uFEFForder_id,external_id,") || !strings.Contains(out, "\r\n") {
		t.Fatalf("export to stdout: %d %q %q", code, out, errs)
	}
	// 10:00 in Shanghai (the brand's default zone), the id escaped.
	if !strings.Contains(out, ",'=1+1,csv,2026-01-02T10:00:00+08:00,88.00,") || !strings.Contains(errs, "exported 1 orders of shop to standard output") {
		t.Fatalf("the order row: %q %q", out, errs)
	}

	file := filepath.Join(dir, "out", "members.csv")
	os.MkdirAll(filepath.Dir(file), 0o755)
	if code, _, errs := run(t, nil, "export", "-db", db, "-brand", "shop", "-kind", "members", "-from", "2026-01-01", "-to", "2026-01-31", "-o", file); code != 0 {
		t.Fatalf("export to a file: %s", errs)
	}
	b, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(b), "\uFEFFmember_id,display_name,") {
		t.Fatalf("the file: %q %v", b, err)
	}

	bad := filepath.Join(dir, "bad.csv")
	for _, args := range [][]string{
		{"-brand", "shop", "-kind", "staff"},
		{"-brand", "nope", "-kind", "members"},
		{"-brand", "shop", "-kind", "orders", "-from", "2026-02-01", "-to", "2026-01-01"},
		{"-brand", "shop"},
	} {
		code, _, errs := run(t, nil, append(append([]string{"export", "-db", db}, args...), "-o", bad)...)
		if code == 0 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: %d %q", args, code, errs)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Errorf("%v left a file", args)
		}
	}
}
