package loyalty_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// BenchmarkRedeemContention has g goroutines redeem one reward (a large
// stock) for 64 members with points enough, each redemption a new ref: the
// reward's row is the hot spot every transaction writes.
//
//	go test -run '^$' -bench RedeemContention -benchtime 3s ./internal/loyalty/
func BenchmarkRedeemContention(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, g := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", d, g), func(b *testing.B) {
				ctx := context.Background()
				f := setup(b, storetest.Open(b, d), "bench", 64)
				for _, m := range f.members {
					f.award(b, m, 1<<40, fmt.Sprint("seed-", m))
				}
				rw, err := f.svc.CreateReward(ctx, loyalty.Reward{TenantID: f.tenant, Name: "x", Price: 1, Stock: 1_000_000, Active: true})
				if err != nil {
					b.Fatal(err)
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for range g {
					wg.Go(func() {
						for k := next.Add(1); k <= int64(b.N); k = next.Add(1) {
							if _, err := f.svc.Redeem(ctx, f.tenant, f.members[k%64], rw.ID, fmt.Sprint("b", k)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "redemptions/s")
				if r, _ := f.svc.Reward(ctx, f.tenant, rw.ID); !b.Failed() && r.Stock != 1_000_000-int64(b.N) {
					b.Fatalf("stock %d after %d redemptions", r.Stock, b.N)
				}
			})
		}
	}
}
