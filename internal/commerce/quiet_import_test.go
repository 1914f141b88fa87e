package commerce_test

import (
	"context"
	"testing"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// A quiet import of past orders moves members up their tiers and hands out
// the benefits, but messages nobody (the changes are kept as not
// notified); a normal import tells the member.
func TestQuietImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "quiet")
		f.ladder()
		var upgrades int
		f.svc.OnUpgrade = func(ctx context.Context, tx *store.Tx, tenantID, memberID int64, tr commerce.Tier) error {
			upgrades++
			return nil
		}
		ann, bob := f.member("Ann", "13800138000", ""), f.member("Bob", "13900139000", "")
		tierDMs := func(m int64) int {
			return f.count(`SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND member_id = $2 AND idem_key LIKE 'tier:%'`, f.tenant, m)
		}
		past := genericHeader + "Q1,2026-02-20 10:00,600.00,13800138000,,,,,,,,,\n"
		rep, err := f.importFile([]byte(past), commerce.ImportOptions{Quiet: true})
		if err != nil || rep.Imported != 1 || rep.Matched != 1 {
			t.Fatalf("quiet import: %+v %v", rep, err)
		}
		if r := f.rank(ann); r != 1 || tierDMs(ann) != 0 || upgrades != 1 {
			t.Fatalf("quiet import: rank %d, %d messages, %d upgrades", r, tierDMs(ann), upgrades)
		}
		if n := f.count(`SELECT COUNT(*) FROM tier_changes WHERE tenant_id = $1 AND member_id = $2 AND NOT notified`, f.tenant, ann); n != 1 {
			t.Fatalf("%d unnotified tier changes recorded", n)
		}
		fresh := genericHeader + "Q2,2026-02-25 10:00,700.00,13900139000,,,,,,,,,\n"
		if _, err := f.importFile([]byte(fresh), commerce.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		if r := f.rank(bob); r != 1 || tierDMs(bob) != 1 || upgrades != 2 {
			t.Fatalf("normal import: rank %d, %d messages, %d upgrades", r, tierDMs(bob), upgrades)
		}
	})
}
