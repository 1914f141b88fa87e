package live_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// TestClaimsConcurrent: 1,000 concurrent claims on a drop of 100 hand out
// exactly 100 coupons, numbered 1..100, no member twice — every member
// below claims twice at once.
func TestClaimsConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 500)
		l := f.schedule(t)
		d, err := f.svc.CreateDrop(ctx, live.Drop{TenantID: f.tenant, LiveID: l.ID, Title: "满199减50", Quantity: 100, ClosesAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := map[int64]int{}
		var gone, repeat int
		for i := range 1000 {
			m := f.members[i%len(f.members)]
			wg.Go(func() {
				c, err := f.svc.Claim(ctx, f.tenant, d.ID, m)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won[m]++
					if c.No < 1 || c.No > 100 || c.MemberID != m {
						t.Errorf("claim %+v", c)
					}
				case errors.Is(err, live.ErrDropGone):
					gone++
				case errors.Is(err, live.ErrAlreadyClaimed):
					repeat++
					if c.MemberID != m || c.No == 0 {
						t.Errorf("a repeat should return the first claim: %+v", c)
					}
				default:
					t.Errorf("member %d: %v", m, err)
				}
			})
		}
		wg.Wait()
		if len(won) != 100 || gone+repeat != 900 {
			t.Fatalf("%d members won, %d refused as gone, %d as repeats", len(won), gone, repeat)
		}
		for m, n := range won {
			if n != 1 {
				t.Fatalf("member %d claimed %d times", m, n)
			}
		}
		claims, err := f.svc.Claims(ctx, f.tenant, d.ID)
		if err != nil || len(claims) != 100 {
			t.Fatalf("%d claims stored: %v", len(claims), err)
		}
		for i, c := range claims {
			if c.No != int64(i+1) || won[c.MemberID] != 1 {
				t.Fatalf("claim %d: %+v", i, c)
			}
		}
		got, err := f.svc.Drop(ctx, f.tenant, d.ID)
		if err != nil || got.Claimed != 100 || got.Left() != 0 {
			t.Fatalf("drop %+v %v", got, err)
		}
		if n := f.count(t, event.CouponClaimed); n != 100 {
			t.Fatalf("%d coupon_claimed events", n)
		}
	})
}

func TestClaimRefuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 3)
		l := f.schedule(t)
		now := time.Now()
		f.svc.SetClock(func() time.Time { return now })
		d, err := f.svc.CreateDrop(ctx, live.Drop{TenantID: f.tenant, LiveID: l.ID, Title: "券", Quantity: 2,
			OpensAt: now.Add(time.Hour), ClosesAt: now.Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		m := f.members[0]
		if _, err := f.svc.Claim(ctx, f.tenant, d.ID, m); !errors.Is(err, live.ErrDropNotOpen) || !strings.Contains(err.Error(), "not open yet") {
			t.Fatalf("before it opens: %v", err)
		}
		now = now.Add(90 * time.Minute)
		if c, err := f.svc.Claim(ctx, f.tenant, d.ID, m); err != nil || c.No != 1 {
			t.Fatalf("claim: %+v %v", c, err)
		}
		if c, err := f.svc.Claim(ctx, f.tenant, d.ID, m); !errors.Is(err, live.ErrAlreadyClaimed) || c.No != 1 {
			t.Fatalf("twice: %+v %v", c, err)
		}
		theirs := addMembers(t, db, f.other, 1)[0]
		for name, c := range map[string]struct {
			tenant, drop, member int64
			want                 error
		}{
			"other tenant's drop": {f.other, d.ID, theirs, store.ErrNotFound},
			"their member":        {f.tenant, d.ID, theirs, live.ErrInvalid},
			"anonymous":           {f.tenant, d.ID, 0, live.ErrInvalid},
			"no such drop":        {f.tenant, 999999, m, store.ErrNotFound},
		} {
			if _, err := f.svc.Claim(ctx, c.tenant, c.drop, c.member); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", name, err, c.want)
			}
		}
		if _, err := f.svc.Claim(ctx, f.tenant, d.ID, f.members[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, d.ID, f.members[2]); !errors.Is(err, live.ErrDropGone) || !errors.Is(err, store.ErrConflict) {
			t.Fatalf("over quantity: %v", err)
		}
		if c, err := f.svc.Claim(ctx, f.tenant, d.ID, m); !errors.Is(err, live.ErrAlreadyClaimed) || c.No != 1 {
			t.Fatalf("a holder asking again once gone: %+v %v", c, err)
		}
		now = now.Add(time.Hour)
		if _, err := f.svc.Claim(ctx, f.tenant, d.ID, f.members[2]); !errors.Is(err, live.ErrDropClosed) || !strings.Contains(err.Error(), "has closed") {
			t.Fatalf("after it closed: %v", err)
		}
		if n := f.count(t, event.CouponClaimed); n != 2 {
			t.Fatalf("%d coupon_claimed events", n)
		}
	})
}

func TestCreateDrop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 0)
		l := f.schedule(t)
		now := time.Now()
		ok := live.Drop{TenantID: f.tenant, LiveID: l.ID, Title: "券", Quantity: 10, ClosesAt: now.Add(10 * time.Minute)}
		for name, c := range map[string]struct {
			change func(*live.Drop)
			want   error
		}{
			"no title":       {func(d *live.Drop) { d.Title = " " }, live.ErrInvalid},
			"long title":     {func(d *live.Drop) { d.Title = strings.Repeat("券", 61) }, live.ErrInvalid},
			"zero quantity":  {func(d *live.Drop) { d.Quantity = 0 }, live.ErrInvalid},
			"huge quantity":  {func(d *live.Drop) { d.Quantity = live.MaxDropQuantity + 1 }, live.ErrInvalid},
			"closed already": {func(d *live.Drop) { d.ClosesAt = now.Add(-time.Minute) }, live.ErrInvalid},
			"two days":       {func(d *live.Drop) { d.ClosesAt = now.Add(48 * time.Hour) }, live.ErrInvalid},
			"no close":       {func(d *live.Drop) { d.ClosesAt = time.Time{} }, live.ErrInvalid},
			"other tenant":   {func(d *live.Drop) { d.TenantID = f.other }, store.ErrNotFound},
		} {
			d := ok
			c.change(&d)
			if _, err := f.svc.CreateDrop(ctx, d); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", name, err, c.want)
			}
		}
		d, err := f.svc.CreateDrop(ctx, ok)
		if err != nil || d.ID == 0 || d.OpensAt.IsZero() {
			t.Fatalf("drop %+v %v", d, err)
		}
		if ds, err := f.svc.Drops(ctx, f.tenant, l.ID); err != nil || len(ds) != 1 || ds[0].Left() != 10 {
			t.Fatalf("drops %+v %v", ds, err)
		}
		if ds, err := f.svc.Drops(ctx, f.other, l.ID); err != nil || len(ds) != 0 {
			t.Fatalf("other tenant's drops %+v %v", ds, err)
		}
		if _, _, err := f.svc.Start(ctx, f.tenant, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.End(ctx, f.tenant, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateDrop(ctx, ok); !errors.Is(err, live.ErrEnded) {
			t.Fatalf("drop on an ended live: %v", err)
		}
	})
}
