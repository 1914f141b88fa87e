package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnalyticsCommand: orders imported through the CLI show in
// `analytics show` (rolled up first), as numbers with -json and with
// their definitions in the brand's language otherwise; bad flags say why.
func TestAnalyticsCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	env := []string{"LIVELOOP_OWNER_PASSWORD=owner-password-1"}
	if code, _, errs := run(t, env, "tenant", "-db", db, "-slug", "shop", "-name", "小店", "-owner-email", "boss@shop.test"); code != 0 {
		t.Fatalf("tenant: %s", errs)
	}
	file := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(file, []byte("order_id,paid_at,amount\n1,2026-01-02 10:00,88.00\n2,2026-01-03 10:00,12.00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, nil, "orders", "import", "-db", db, "-brand", "shop", file); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	code, out, errs := run(t, nil, "analytics", "show", "-db", db, "-brand", "shop", "-from", "2026-01-01", "-to", "2026-01-31", "-json")
	if code != 0 {
		t.Fatalf("show: %d %s", code, errs)
	}
	var got struct {
		Metrics map[string]*float64 `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// Two orders of 88.00 and 12.00: GMV 10,000 minor units, AOV 5,000;
	// no buyer matched, so the repurchase rate is over nothing (null).
	if m := got.Metrics; m["orders"] == nil || *m["orders"] != 2 || *m["gmv"] != 10000 || *m["aov"] != 5000 || m["repurchase_rate"] != nil {
		t.Fatalf("metrics %s", out)
	}
	code, out, _ = run(t, nil, "analytics", "show", "-db", db, "-brand", "shop", "-from", "2026-01-01", "-to", "2026-01-31")
	if code != 0 || !strings.Contains(out, "订单数") || !strings.Contains(out, "统计期内支付的订单数") || !strings.Contains(out, "100.00") {
		t.Fatalf("table: %s", out)
	}
	for _, bad := range [][]string{
		{"analytics", "show", "-db", db, "-brand", "nope"},
		{"analytics", "show", "-db", db, "-brand", "shop", "-from", "2026-02-01", "-to", "2026-01-01"},
		{"analytics", "show", "-db", db, "-brand", "shop", "-channel", "fax"},
		{"analytics", "wat", "-db", db},
	} {
		if code, _, errs := run(t, nil, bad...); code == 0 || errs == "" {
			t.Errorf("%v: exit %d, %q", bad, code, errs)
		}
	}
	if code, out, _ := run(t, nil, "analytics", "rebuild", "-db", db); code != 0 || !strings.Contains(out, "rolled up") {
		t.Fatalf("rebuild: %s", out)
	}
}
