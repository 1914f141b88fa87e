package live_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// TestResaleOnlyForEarlierRequesters: a re-sale is offered to exactly the
// members who had asked when it was made; a member who asks afterwards
// (the product is still sold out) is not one of them and cannot claim it.
func TestResaleOnlyForEarlierRequesters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 2)
		l := f.schedule(t)
		soldOut := l.Products[1]
		t0 := time.Now()
		at := func(d time.Duration) { f.svc.SetClock(func() time.Time { return t0.Add(d) }) }
		defer f.svc.SetClock(time.Now)
		early, late := f.members[0], f.members[1]
		if _, err := f.svc.RequestRestock(ctx, f.tenant, l.ID, soldOut.ID, early); err != nil {
			t.Fatal(err)
		}
		at(time.Minute)
		var rs live.Resale
		var offered []int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			rs, offered, err = f.svc.CreateResaleTx(ctx, tx, live.Resale{TenantID: f.tenant, LiveID: l.ID, ProductID: soldOut.ID,
				Price: 5900, Quantity: 5, ClosesAt: t0.Add(time.Hour)})
			return err
		})
		if err != nil || len(offered) != 1 || offered[0] != early {
			t.Fatalf("offered to %v: %v", offered, err)
		}
		at(2 * time.Minute)
		if _, err := f.svc.RequestRestock(ctx, f.tenant, l.ID, soldOut.ID, late); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ClaimResale(ctx, f.tenant, rs.ID, late); !errors.Is(err, live.ErrNotRequester) {
			t.Fatalf("a member who asked after the offer claimed it: %v", err)
		}
		if ok, err := f.svc.OfferedTo(ctx, f.tenant, rs, late); err != nil || ok {
			t.Fatalf("offered to the late asker: %v %v", ok, err)
		}
		if no, err := f.svc.ClaimResale(ctx, f.tenant, rs.ID, early); err != nil || no != 1 {
			t.Fatalf("the requester's claim: %d %v", no, err)
		}
	})
}

// TestAddProductConcurrent: products added to one live at the same time
// (two staff, a double submit) all land, at distinct positions (on
// PostgreSQL both used to read the same last position and one failed on
// the list's key).
func TestAddProductConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 1)
		l := f.schedule(t)
		const n = 12
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := f.svc.AddProduct(ctx, f.tenant, l.ID, live.Product{Name: fmt.Sprintf("加购%02d", i), Price: 1000, LivePrice: 900, Stock: 3}); err != nil {
					t.Errorf("add %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		var count, distinct int
		if err := db.R.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT position) FROM live_products WHERE live_id = $1`, l.ID).Scan(&count, &distinct); err != nil {
			t.Fatal(err)
		}
		if count != 3+n || distinct != count {
			t.Fatalf("%d products at %d positions", count, distinct)
		}
	})
}
