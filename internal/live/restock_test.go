package live_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// TestRestockAndResale: only a sold-out product takes "notify me" (once per
// member); a re-sale is offered to exactly the members who asked, and 200
// racing claims (each requester twice, plus outsiders) on 10 items hand
// out exactly 10, numbered 1..10, one per member.
func TestRestockAndResale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 120)
		l := f.schedule(t)
		inStock, soldOut := l.Products[0], l.Products[1]
		if _, err := f.svc.RequestRestock(ctx, f.tenant, l.ID, inStock.ID, f.members[0]); !errors.Is(err, live.ErrInStock) {
			t.Fatalf("restock of a product in stock: %v", err)
		}
		if _, err := f.svc.RequestRestock(ctx, f.other, l.ID, soldOut.ID, f.members[0]); !errors.Is(err, store.ErrInvalid) && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another tenant's product: %v", err)
		}
		requesters := f.members[:100]
		for _, m := range requesters {
			for range 2 {
				if _, err := f.svc.RequestRestock(ctx, f.tenant, l.ID, soldOut.ID, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		counts, err := f.svc.RestockCounts(ctx, f.tenant, l.ID)
		if err != nil || counts[soldOut.ID] != 100 || len(counts) != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}

		create := func(rs live.Resale) (live.Resale, []int64, error) {
			var members []int64
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				rs, members, err = f.svc.CreateResaleTx(ctx, tx, rs)
				return err
			})
			return rs, members, err
		}
		if _, _, err := create(live.Resale{TenantID: f.tenant, LiveID: l.ID, ProductID: inStock.ID, Price: 100, Quantity: 5,
			ClosesAt: time.Now().Add(time.Hour)}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("a re-sale nobody asked for: %v", err)
		}
		for _, bad := range []live.Resale{
			{Price: -1, Quantity: 5, ClosesAt: time.Now().Add(time.Hour)},
			{Price: 100, Quantity: 0, ClosesAt: time.Now().Add(time.Hour)},
			{Price: 100, Quantity: 5, ClosesAt: time.Now().Add(-time.Minute)},
			{Price: 100, Quantity: 5, ClosesAt: time.Now().Add(8 * 24 * time.Hour)},
		} {
			bad.TenantID, bad.LiveID, bad.ProductID = f.tenant, l.ID, soldOut.ID
			if _, _, err := create(bad); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("bad re-sale %+v: %v", bad, err)
			}
		}
		rs, offered, err := create(live.Resale{TenantID: f.tenant, LiveID: l.ID, ProductID: soldOut.ID, Price: 5900, Quantity: 10,
			Note: "  补货到了 ", ClosesAt: time.Now().Add(time.Hour)})
		if err != nil || len(offered) != 100 || rs.Note != "补货到了" {
			t.Fatalf("resale %+v offered to %d: %v", rs, len(offered), err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := map[int64]int64{}
		var gone, repeat, outsiders int
		claimers := append(append([]int64{}, requesters...), requesters...)
		claimers = append(claimers, f.members[100:]...)
		for _, m := range claimers {
			wg.Go(func() {
				no, err := f.svc.ClaimResale(ctx, f.tenant, rs.ID, m)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					if won[m] != 0 || no < 1 || no > 10 {
						t.Errorf("member %d won %d (had %d)", m, no, won[m])
					}
					won[m] = no
				case errors.Is(err, live.ErrResaleGone):
					gone++
				case errors.Is(err, live.ErrResaleRepeat):
					repeat++
				case errors.Is(err, live.ErrNotRequester):
					outsiders++
				default:
					t.Errorf("member %d: %v", m, err)
				}
			})
		}
		wg.Wait()
		nos := map[int64]bool{}
		for m, no := range won {
			if m > requesters[len(requesters)-1] {
				t.Errorf("outsider %d won", m)
			}
			nos[no] = true
		}
		if len(won) != 10 || len(nos) != 10 || outsiders != 20 || gone+repeat != 190 {
			t.Fatalf("won %v, gone %d, repeats %d, outsiders %d", won, gone, repeat, outsiders)
		}
		got, err := f.svc.Resale(ctx, f.tenant, rs.ID)
		if err != nil || got.Claimed != 10 || got.Left() != 0 {
			t.Fatalf("resale after %+v %v", got, err)
		}
		if _, err := f.svc.Resale(ctx, f.other, rs.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another tenant reads the re-sale: %v", err)
		}
		// A closed re-sale takes no claim.
		f.svc.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
		defer f.svc.SetClock(time.Now)
		rs2, _, err := create(live.Resale{TenantID: f.tenant, LiveID: l.ID, ProductID: soldOut.ID, Price: 5900, Quantity: 10,
			ClosesAt: time.Now().Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.SetClock(func() time.Time { return time.Now().Add(4 * time.Hour) })
		if _, err := f.svc.ClaimResale(ctx, f.tenant, rs2.ID, requesters[0]); !errors.Is(err, live.ErrResaleClosed) {
			t.Fatalf("claim after closing: %v", err)
		}
	})
}

// TestAddProductRunsHook: a product added to a live's list runs the hook in
// the same transaction (a failing hook adds nothing); an ended live's list
// is closed.
func TestAddProductRunsHook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 1)
		var seen []string
		fail := false
		f.svc.OnProducts = func(ctx context.Context, tx *store.Tx, l live.Live, added []live.Product) error {
			if fail {
				return errors.New("hook failed")
			}
			for _, p := range added {
				seen = append(seen, p.Name)
			}
			return nil
		}
		l := f.schedule(t)
		if len(seen) != 3 {
			t.Fatalf("hook saw %v at scheduling", seen)
		}
		p, err := f.svc.AddProduct(ctx, f.tenant, l.ID, live.Product{Name: " 遮阳帽 ", Price: 5900, LivePrice: 3900, Stock: 20})
		if err != nil || p.Position != 4 || p.Name != "遮阳帽" || seen[3] != "遮阳帽" {
			t.Fatalf("added %+v %v (hook saw %v)", p, err, seen)
		}
		if _, err := f.svc.AddProduct(ctx, f.tenant, l.ID, live.Product{Name: "", Price: -1}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("bad product: %v", err)
		}
		if _, err := f.svc.AddProduct(ctx, f.other, l.ID, live.Product{Name: "x", Price: 1, LivePrice: 1, Stock: 1}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another tenant's live: %v", err)
		}
		fail = true
		if _, err := f.svc.AddProduct(ctx, f.tenant, l.ID, live.Product{Name: "袜子", Price: 900, LivePrice: 500, Stock: 5}); err == nil {
			t.Fatal("a failing hook should fail the addition")
		}
		got, err := f.svc.Get(ctx, f.tenant, l.ID)
		if err != nil || len(got.Products) != 4 {
			t.Fatalf("products after a failed hook: %d %v", len(got.Products), err)
		}
		fail = false
		if _, _, err := f.svc.Start(ctx, f.tenant, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.End(ctx, f.tenant, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddProduct(ctx, f.tenant, l.ID, live.Product{Name: "袜子", Price: 900, LivePrice: 500, Stock: 5}); !errors.Is(err, live.ErrEnded) {
			t.Fatalf("adding to an ended live: %v", err)
		}
	})
}
