package coupon_test

import (
	"context"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// A member day whose batch's fixed validity has ended hands out nothing:
// a code that is expired when it arrives is no gift (and its message
// would promise one). The day is recorded with everyone skipped.
func TestPerkOfExpiredBatchGrantsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "expperk", 3)
		b := f.batch(t, coupon.Batch{Name: "March", Stock: 10, ValidUntil: t0.Add(24 * time.Hour)})
		if _, err := f.svc.CreatePerk(ctx, coupon.Perk{TenantID: f.tenant, Kind: coupon.MemberDay, Name: "周二", BatchID: b.ID, Weekday: int(t0.AddDate(0, 0, 7).Weekday())}); err != nil {
			t.Fatal(err)
		}
		f.now = t0.AddDate(0, 0, 7)
		runs, err := f.svc.RunPerks(ctx, f.now)
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM coupon_codes WHERE batch_id = $1 AND member_id <> 0`, b.ID); n != 0 {
			t.Fatalf("%d expired codes handed out", n)
		}
		if len(runs) != 1 || runs[0].Granted != 0 || runs[0].Skipped != 3 {
			t.Fatalf("runs %+v; want one with 3 skipped", runs)
		}
		// Within the validity (the same weekday, a week before) it grants
		// as usual.
		f.now = t0
		if _, err := f.svc.RunPerks(ctx, t0); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM coupon_codes WHERE batch_id = $1 AND member_id <> 0`, b.ID); n != 3 {
			t.Fatalf("%d codes within the validity; want 3", n)
		}
	})
}
