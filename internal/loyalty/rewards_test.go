package loyalty_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// 100 members racing for a reward of stock 10: exactly 10 win, each pays
// the price once, the others keep their points.
func TestRedemptionRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "redeem", 100)
		rw, err := f.svc.CreateReward(ctx, loyalty.Reward{TenantID: f.tenant, Name: "小样", Price: 40, Stock: 10, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range f.members {
			f.award(t, m, 50, fmt.Sprintf("seed-%d", m))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(f.members))
		for i, m := range f.members {
			wg.Go(func() { _, errs[i] = f.svc.Redeem(ctx, f.tenant, m, rw.ID, fmt.Sprintf("r-%d", m)) })
		}
		wg.Wait()
		won, lost := 0, 0
		for i, m := range f.members {
			b := f.balance(t, m)
			switch {
			case errs[i] == nil && b == 10:
				won++
			case errors.Is(errs[i], loyalty.ErrOutOfStock) && b == 50:
				lost++
			default:
				t.Fatalf("member %d: err %v, balance %d", m, errs[i], b)
			}
		}
		got, _ := f.svc.Reward(ctx, f.tenant, rw.ID)
		reds, _ := f.svc.Redemptions(ctx, f.tenant, 1000)
		if won != 10 || lost != 90 || got.Stock != 0 || len(reds) != 10 {
			t.Fatalf("won %d, sold out %d, stock %d, redemptions %d", won, lost, got.Stock, len(reds))
		}
		// The ledger adds up: its deltas are the balances, and what was
		// spent is what the redemptions cost.
		if sum, bal := f.count(t, `SELECT SUM(delta) FROM points_ledger WHERE tenant_id = $1`, f.tenant),
			f.count(t, `SELECT SUM(balance) FROM point_balances WHERE tenant_id = $1`, f.tenant); sum != bal || bal != 100*50-10*40 {
			t.Fatalf("ledger sum %d, balances %d", sum, bal)
		}
		if spent := f.count(t, `SELECT -SUM(delta) FROM points_ledger WHERE tenant_id = $1 AND kind = 'redemption'`, f.tenant); spent != 10*40 {
			t.Fatalf("spent %d", spent)
		}
		// A repeated ref returns the first redemption and charges nothing.
		w := reds[0]
		again, err := f.svc.Redeem(ctx, f.tenant, w.MemberID, rw.ID, w.Ref)
		if err != nil || again.ID != w.ID || again.RewardName != "小样" {
			t.Fatalf("repeat: %+v %v", again, err)
		}
		if b := f.balance(t, w.MemberID); b != 10 {
			t.Fatalf("balance %d after a repeated ref", b)
		}
		// Someone else's ref is not theirs to repeat.
		if _, err := f.svc.Redeem(ctx, f.tenant, w.MemberID+1, rw.ID, w.Ref); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("another member's ref: %v", err)
		}
	})
}

// The same ref sent 20 times at once (a double-clicked button) for the
// last unit pays once, and every click gets the one redemption.
func TestRedeemRepeatRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "twins", 1)
		m := f.members[0]
		f.award(t, m, 100, "seed")
		rw, _ := f.svc.CreateReward(ctx, loyalty.Reward{TenantID: f.tenant, Name: "x", Price: 30, Stock: 1, Active: true})
		var wg sync.WaitGroup
		ids := make([]int64, 20)
		for i := range ids {
			wg.Go(func() {
				red, err := f.svc.Redeem(ctx, f.tenant, m, rw.ID, "click-1")
				if err != nil {
					t.Error(err)
				}
				ids[i] = red.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("ids %v", ids)
			}
		}
		if r, _ := f.svc.Reward(ctx, f.tenant, rw.ID); r.Stock != 0 || f.balance(t, m) != 70 {
			t.Fatalf("stock %d, balance %d", r.Stock, f.balance(t, m))
		}
	})
}

func TestRedeemRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "refuse", 1)
		m := f.members[0]
		f.award(t, m, 100, "seed")
		dear, _ := f.svc.CreateReward(ctx, loyalty.Reward{TenantID: f.tenant, Name: "正装", Price: 500, Stock: 3, Active: true})
		if _, err := f.svc.Redeem(ctx, f.tenant, m, dear.ID, "poor"); !errors.Is(err, loyalty.ErrInsufficientPoints) {
			t.Fatalf("too few points: %v", err)
		}
		if r, _ := f.svc.Reward(ctx, f.tenant, dear.ID); r.Stock != 3 || f.balance(t, m) != 100 {
			t.Fatalf("stock %d, balance %d after a refused redemption", r.Stock, f.balance(t, m))
		}
		off, _ := f.svc.CreateReward(ctx, loyalty.Reward{TenantID: f.tenant, Name: "off", Price: 1, Stock: 3, Active: false})
		none, _ := f.svc.CreateReward(ctx, loyalty.Reward{TenantID: f.tenant, Name: "none", Price: 1, Stock: 0, Active: true})
		for _, id := range []int64{off.ID, none.ID} {
			if _, err := f.svc.Redeem(ctx, f.tenant, m, id, fmt.Sprint("r", id)); !errors.Is(err, loyalty.ErrOutOfStock) {
				t.Fatalf("reward %d: %v", id, err)
			}
		}
		if _, err := f.svc.Redeem(ctx, f.tenant, m, 1<<40, "ghost"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown reward: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM redemptions`); n != 0 || f.balance(t, m) != 100 {
			t.Fatalf("%d redemptions, balance %d", n, f.balance(t, m))
		}
	})
}

func TestRedeemEventsInTimeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "timeline", 1)
		m := f.members[0]
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return f.svc.CheckInTx(ctx, tx, loyalty.CheckIn{TenantID: f.tenant, MemberID: m, Day: "2026-11-23", Streak: 7, Points: 20, Bonus: 30})
		}); err != nil {
			t.Fatal(err)
		}
		rw, _ := f.svc.CreateReward(ctx, loyalty.Reward{TenantID: f.tenant, Name: "mask", Price: 40, Stock: 1, Active: true})
		if _, err := f.svc.Redeem(ctx, f.tenant, m, rw.ID, "r1"); err != nil {
			t.Fatal(err)
		}
		for typ, want := range map[event.Type]int{event.CheckedIn: 1, event.PointsChanged: 3, event.RewardRedeemed: 1} {
			if n := f.events(t, m, typ); n != want {
				t.Errorf("%d %s events, want %d", n, typ, want)
			}
		}
		ev, err := f.log.BySource(ctx, f.tenant, "loyalty", "redeem:r1")
		var d struct{ Points int64 }
		if err != nil || ev.Type != event.RewardRedeemed || ev.Decode(&d) != nil || d.Points != 40 {
			t.Fatalf("redemption event %+v %v", ev, err)
		}
	})
}

func TestRewardValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "valid", 0)
		for _, r := range []loyalty.Reward{
			{Name: " ", Price: 1},
			{Name: strings.Repeat("名", 61), Price: 1},
			{Name: "x", Description: strings.Repeat("d", 501), Price: 1},
			{Name: "x", Price: 0},
			{Name: "x", Price: 1_000_001},
			{Name: "x", Price: 1, Stock: -1},
			{Name: "x", Price: 1, Stock: 1_000_001},
		} {
			r.TenantID = f.tenant
			if _, err := f.svc.CreateReward(ctx, r); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%.20s… price %d stock %d: %v", r.Name+r.Description, r.Price, r.Stock, err)
			}
		}
		r, err := f.svc.CreateReward(ctx, loyalty.Reward{TenantID: f.tenant, Name: strings.Repeat("名", 60), Price: 1_000_000, Stock: 1_000_000})
		if err != nil {
			t.Fatal(err)
		}
		r.Name, r.Stock, r.Active = " 新名字\n", 4, true
		if err := f.svc.UpdateReward(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Reward(ctx, f.tenant, r.ID); got.Name != "新名字" || got.Stock != 4 || !got.Active {
			t.Fatalf("updated %+v", got)
		}
		r.Price = 0
		if err := f.svc.UpdateReward(ctx, r); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("update to price 0: %v", err)
		}
	})
}

// Tenant B sees nothing of tenant A's points or rewards and cannot touch them.
func TestTenantIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		a, b := setup(t, db, "tenant-a", 1), setup(t, db, "tenant-b", 1)
		am := a.members[0]
		a.award(t, am, 100, "seed")
		rw, _ := a.svc.CreateReward(ctx, loyalty.Reward{TenantID: a.tenant, Name: "a's", Price: 10, Stock: 5, Active: true})
		if _, err := a.svc.Redeem(ctx, a.tenant, am, rw.ID, "r1"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Redeem(ctx, b.tenant, b.members[0], rw.ID, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("redeem another tenant's reward: %v", err)
		}
		if _, err := b.svc.Reward(ctx, b.tenant, rw.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another tenant's reward: %v", err)
		}
		rw.TenantID = b.tenant
		if err := b.svc.UpdateReward(ctx, rw); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update another tenant's reward: %v", err)
		}
		if _, err := b.svc.Adjust(ctx, b.tenant, am, 1, 5, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("adjust another tenant's member: %v", err)
		}
		rewards, _ := b.svc.Rewards(ctx, b.tenant, false)
		reds, _ := b.svc.Redemptions(ctx, b.tenant, 10)
		led, _ := b.svc.Ledger(ctx, b.tenant, am, 10)
		bal, _ := b.svc.Balance(ctx, b.tenant, am)
		board, _ := b.svc.Leaderboard(ctx, b.tenant, 0, loyalty.AllTime, time.Now(), nil, 10)
		if len(rewards)+len(reds)+len(led)+len(board) != 0 || bal != 0 {
			t.Fatalf("tenant b sees %v %v %v %v %d", rewards, reds, led, board, bal)
		}
		if r, _ := a.svc.Reward(ctx, a.tenant, rw.ID); r.Stock != 4 || r.Name != "a's" || a.balance(t, am) != 90 {
			t.Fatalf("tenant a's reward %+v, balance %d", r, a.balance(t, am))
		}
	})
}
