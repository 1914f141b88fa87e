package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// liveloop orders import: a summary on stdout, progress lines on stderr
// (not a terminal here), the bad rows named; a second run finds every
// order a duplicate; a missing brand or column stops with one clear line.
func TestOrdersImport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.db")
	env := []string{"LIVELOOP_OWNER_PASSWORD=owner-password-1"}
	if code, _, errs := run(t, env, "tenant", "-db", db, "-slug", "shop", "-name", "小店", "-owner-email", "boss@shop.test"); code != 0 {
		t.Fatalf("tenant: %s", errs)
	}
	text := "order_id,paid_at,amount,phone,sku,name,qty,price\n" +
		"1001,2026-01-02 10:00,88.00,13800138000,TEA,乌龙茶,1,88.00\n" +
		"1002,2026-01-03 10:00,-1.00,,TEA,乌龙茶,1,1.00\n" +
		"1003,2026-01-04 10:00,12.50,,CUP,杯子,1,12.50\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "orders.csv")
	os.WriteFile(file, []byte(gbk), 0o600)

	code, out, errs := run(t, nil, "orders", "import", "-db", db, "-brand", "shop", "-mapping", "generic", file)
	if code != 0 || !strings.Contains(out, "encoding:   gb18030") || !strings.Contains(out, "imported:   2") ||
		!strings.Contains(out, "errors:     1") || !strings.Contains(out, "row 3 (1002): negative amount -1.00") {
		t.Fatalf("import: %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "import: 100% read, 2 imported") {
		t.Fatalf("no progress line on stderr: %q", errs)
	}
	code, out, _ = run(t, nil, "orders", "import", "-db", db, "-brand", "shop", "-encoding", "gbk", file)
	if code != 0 || !strings.Contains(out, "imported:   0") || !strings.Contains(out, "duplicates: 2") {
		t.Fatalf("second import: %d\n%s", code, out)
	}
	if code, _, errs := run(t, nil, "orders", "import", "-db", db, "-brand", "nope", file); code != 1 || !strings.Contains(errs, `no brand "nope"`) {
		t.Fatalf("unknown brand: %d %q", code, errs)
	}
	code, _, errs = run(t, nil, "orders", "import", "-db", db, "-brand", "shop", "-mapping", "shopify", file)
	if code != 1 || !strings.Contains(errs, `lacks the column(s) "Paid at", "Total"`) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("wrong columns: %d %q", code, errs)
	}
	if code, _, errs := run(t, nil, "orders", "export"); code != 1 || !strings.Contains(errs, "usage: liveloop orders import") {
		t.Fatalf("usage: %d %q", code, errs)
	}
}
