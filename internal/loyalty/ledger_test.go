package loyalty_test

import (
	"context"
	"errors"
	"testing"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func TestAwardIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "award", 1)
		m := f.members[0]
		first := f.award(t, m, 30, "a1")
		if first.BalanceAfter != 30 || first.ID == 0 {
			t.Fatalf("first award %+v", first)
		}
		// The same ref again, even with other points, returns the stored entry.
		again, created, err := f.svc.Award(ctx, loyalty.Entry{TenantID: f.tenant, MemberID: m, Delta: 99, Kind: loyalty.KindActivity, Ref: "a1"})
		if err != nil || created || again.ID != first.ID || again.Delta != 30 {
			t.Fatalf("repeat: %+v %v %v", again, created, err)
		}
		if b := f.balance(t, m); b != 30 {
			t.Fatalf("balance %d after a repeated ref", b)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM points_ledger WHERE tenant_id = $1`, f.tenant); n != 1 {
			t.Fatalf("%d ledger rows", n)
		}
		if n := f.events(t, m, event.PointsChanged); n != 1 {
			t.Fatalf("%d points events", n)
		}
	})
}

func TestBalanceNeverNegative(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "debit", 2)
		m := f.members[0]
		f.award(t, m, 30, "a1")
		_, _, err := f.svc.Award(ctx, loyalty.Entry{TenantID: f.tenant, MemberID: m, Delta: -31, Kind: loyalty.KindRedemption, Ref: "d1"})
		if !errors.Is(err, loyalty.ErrInsufficientPoints) {
			t.Fatalf("overdraft: %v", err)
		}
		// A member without any points cannot spend either.
		_, _, err = f.svc.Award(ctx, loyalty.Entry{TenantID: f.tenant, MemberID: f.members[1], Delta: -1, Kind: loyalty.KindRedemption, Ref: "d2"})
		if !errors.Is(err, loyalty.ErrInsufficientPoints) {
			t.Fatalf("overdraft from nothing: %v", err)
		}
		if b := f.balance(t, m); b != 30 {
			t.Fatalf("balance %d after refused debit", b)
		}
		if e, _, err := f.svc.Award(ctx, loyalty.Entry{TenantID: f.tenant, MemberID: m, Delta: -30, Kind: loyalty.KindRedemption, Ref: "d3"}); err != nil || e.BalanceAfter != 0 {
			t.Fatalf("spending everything: %+v %v", e, err)
		}
		// The CHECK holds even against a write that skips the service.
		_, err = db.W.ExecContext(ctx, `UPDATE point_balances SET balance = balance - 1 WHERE tenant_id = $1 AND member_id = $2`, f.tenant, m)
		if err == nil {
			t.Fatal("the database accepted a negative balance")
		}
		// Earned counts positive earning kinds only.
		if n := f.count(t, `SELECT earned FROM point_balances WHERE tenant_id = $1 AND member_id = $2`, f.tenant, m); n != 30 {
			t.Fatalf("earned %d", n)
		}
	})
}

func TestAwardRefusesBadEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "bad", 1)
		other := setup(t, db, "bad-other", 1)
		m := f.members[0]
		for name, c := range map[string]struct {
			e    loyalty.Entry
			want error
		}{
			"zero":           {loyalty.Entry{MemberID: m, Delta: 0, Kind: loyalty.KindActivity, Ref: "z"}, store.ErrInvalid},
			"no ref":         {loyalty.Entry{MemberID: m, Delta: 1, Kind: loyalty.KindActivity}, store.ErrInvalid},
			"unknown kind":   {loyalty.Entry{MemberID: m, Delta: 1, Kind: "gift", Ref: "k"}, store.ErrInvalid},
			"other tenant":   {loyalty.Entry{MemberID: other.members[0], Delta: 1, Kind: loyalty.KindActivity, Ref: "o"}, store.ErrNotFound},
			"no such member": {loyalty.Entry{MemberID: 1 << 40, Delta: 1, Kind: loyalty.KindActivity, Ref: "n"}, store.ErrNotFound},
		} {
			c.e.TenantID = f.tenant
			if _, _, err := f.svc.Award(ctx, c.e); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", name, err, c.want)
			}
		}
		if n := f.count(t, `SELECT COUNT(*) FROM points_ledger`); n != 0 {
			t.Fatalf("%d ledger rows after refused awards", n)
		}
	})
}

func TestAdjust(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "adjust", 1)
		m := f.members[0]
		f.award(t, m, 30, "a1")
		if _, err := f.svc.Adjust(ctx, f.tenant, m, 7, -5, "  "); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("adjust without a reason: %v", err)
		}
		e, err := f.svc.Adjust(ctx, f.tenant, m, 7, -5, "duplicate gift")
		if err != nil || e.BalanceAfter != 25 || e.StaffID != 7 || e.Kind != loyalty.KindAdjust {
			t.Fatalf("adjust: %+v %v", e, err)
		}
		if _, err := f.svc.Adjust(ctx, f.tenant, m, 7, -26, "too much"); !errors.Is(err, loyalty.ErrInsufficientPoints) {
			t.Fatalf("adjust below zero: %v", err)
		}
		if _, err := f.svc.Adjust(ctx, f.tenant, 1<<40, 7, 5, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("adjust of an unknown member: %v", err)
		}
		led, err := f.svc.Ledger(ctx, f.tenant, m, 10)
		if err != nil || len(led) != 2 || led[0].Kind != loyalty.KindAdjust || led[0].Note != "duplicate gift" || led[1].Ref != "a1" {
			t.Fatalf("ledger %+v %v", led, err)
		}
		// Staff adjustments are not earned points.
		if n := f.count(t, `SELECT earned FROM point_balances WHERE tenant_id = $1 AND member_id = $2`, f.tenant, m); n != 30 {
			t.Fatalf("earned %d", n)
		}
	})
}
