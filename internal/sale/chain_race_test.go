package sale_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// TestChainConcurrentCancels: a member with 6 lines sends 6 different
// "-1"s at once → 6 lines cancelled, each once; none reports a line
// another cancel took (on PostgreSQL two cancels used to pick the same
// latest line and both report it, leaving a line standing).
func TestChainConcurrentCancels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 1)
		c := f.chain(t, sale.Chain{Title: "取消测试", Options: []sale.Option{{Label: "A", PriceMinor: 1000}}, MaxQty: 5})
		m := f.members[0]
		const n = 6
		for i := range n {
			if _, err := f.svc.JoinChain(ctx, f.tenant, c.ID, m, 1, 1, fmt.Sprintf("join:%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		got := map[int64]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				l, err := f.svc.CancelChain(ctx, f.tenant, c.ID, m, fmt.Sprintf("cancel:%d", i))
				if err != nil {
					t.Errorf("cancel %d: %v", i, err)
					return
				}
				mu.Lock()
				got[l.Seq]++
				mu.Unlock()
			})
		}
		wg.Wait()
		l, err := f.svc.List(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Lines) != 0 || len(got) != n {
			t.Fatalf("%d lines standing after %d cancels; cancelled seqs %v", len(l.Lines), n, got)
		}
	})
}

// TestChainTargetUnderRace: a chain with a target of 5 units and 30
// members replying "+1" at once takes exactly 5 lines; the rest are told
// it is closed.
func TestChainTargetUnderRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 30)
		c := f.chain(t, sale.Chain{Title: "目标测试", Options: []sale.Option{{Label: "A", PriceMinor: 1000}}, MaxQty: 5, Target: 5})
		var wg sync.WaitGroup
		for _, m := range f.members {
			wg.Go(func() {
				if _, err := f.svc.JoinChain(ctx, f.tenant, c.ID, m, 1, 1, fmt.Sprintf("t:%d", m)); err != nil && !errors.Is(err, sale.ErrClosed) {
					t.Errorf("member %d: %v", m, err)
				}
			})
		}
		wg.Wait()
		l, err := f.svc.List(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if l.Units != 5 {
			t.Fatalf("%d units taken with a target of 5", l.Units)
		}
	})
}
