package loyalty_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func TestCheckInOncePerDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "checkin", 1)
		m := f.members[0]
		if day, streak, err := f.svc.LastCheckIn(ctx, db.R, f.tenant, m); day != "" || streak != 0 || err != nil {
			t.Fatalf("no check-in yet: %q %d %v", day, streak, err)
		}
		c := loyalty.CheckIn{TenantID: f.tenant, MemberID: m, GroupID: 3, Day: "2026-11-23", Streak: 1, Points: 5}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return f.svc.CheckInTx(ctx, tx, c) }); err != nil {
			t.Fatal(err)
		}
		// The second one fails, and the transaction stays usable (the bot
		// answers "already checked in" in it; PostgreSQL would refuse any
		// statement after a unique violation).
		err := db.InTx(ctx, func(tx *store.Tx) error {
			c2 := c
			c2.Points, c2.Streak = 50, 9
			if err := f.svc.CheckInTx(ctx, tx, c2); !errors.Is(err, loyalty.ErrAlreadyCheckedIn) {
				t.Errorf("second check-in: %v", err)
			}
			var one int
			return tx.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
		})
		if err != nil {
			t.Fatalf("transaction after a refused check-in: %v", err)
		}
		if b := f.balance(t, m); b != 5 {
			t.Fatalf("balance %d", b)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM points_ledger WHERE tenant_id = $1`, f.tenant); n != 1 {
			t.Fatalf("%d ledger rows", n)
		}
		if n := f.events(t, m, event.CheckedIn); n != 1 {
			t.Fatalf("%d check-in events", n)
		}
		// The next day with a streak bonus: two entries of their own kinds.
		c3 := loyalty.CheckIn{TenantID: f.tenant, MemberID: m, GroupID: 3, Day: "2026-11-24", Streak: 7, Points: 5, Bonus: 20}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return f.svc.CheckInTx(ctx, tx, c3) }); err != nil {
			t.Fatal(err)
		}
		led, _ := f.svc.Ledger(ctx, f.tenant, m, 10)
		if len(led) != 3 || led[0].Kind != loyalty.KindStreak || led[0].Ref != "streak:"+itoa(m)+":2026-11-24" ||
			led[1].Kind != loyalty.KindCheckIn || led[1].Ref != "checkin:"+itoa(m)+":2026-11-24" || led[0].BalanceAfter != 30 || led[0].GroupID != 3 {
			t.Fatalf("ledger %+v", led)
		}
		if day, streak, err := f.svc.LastCheckIn(ctx, db.R, f.tenant, m); day != "2026-11-24" || streak != 7 || err != nil {
			t.Fatalf("last check-in %q %d %v", day, streak, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return f.svc.CheckInTx(ctx, tx, loyalty.CheckIn{TenantID: f.tenant, MemberID: m, Day: "23/11/2026", Streak: 1, Points: 5})
		}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("bad day: %v", err)
		}
	})
}

// 50 racing check-ins of one member and day: one row, one ledger entry.
func TestCheckInRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "race", 1)
		m := f.members[0]
		var wg sync.WaitGroup
		var mu sync.Mutex
		results := map[string]int{}
		for range 50 {
			wg.Go(func() {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					return f.svc.CheckInTx(ctx, tx, loyalty.CheckIn{TenantID: f.tenant, MemberID: m, Day: "2026-11-23", Streak: 1, Points: 5})
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					results["ok"]++
				case errors.Is(err, loyalty.ErrAlreadyCheckedIn):
					results["dup"]++
				default:
					results[err.Error()]++
				}
			})
		}
		wg.Wait()
		if results["ok"] != 1 || results["dup"] != 49 {
			t.Fatalf("results %v", results)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM checkins WHERE tenant_id = $1 AND member_id = $2`, f.tenant, m); n != 1 {
			t.Fatalf("%d check-in rows", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM points_ledger WHERE tenant_id = $1 AND member_id = $2 AND kind = 'checkin'`, f.tenant, m); n != 1 {
			t.Fatalf("%d check-in ledger entries", n)
		}
		if b := f.balance(t, m); b != 5 {
			t.Fatalf("balance %d", b)
		}
	})
}
