package sale_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// BenchmarkFlashClaims measures claims on one flash sale under contention
// (GOMAXPROCS×32 claimers — 32 at -cpu 1, 64 at -cpu 2 — each claim a
// member's first: the stock row is the hot spot), on both engines. Run
// with
//
//	go test -run '^$' -bench FlashClaims -benchtime 5000x -cpu 1,2 ./internal/sale/
func BenchmarkFlashClaims(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			f := setup(b, db, b.N)
			ctx := context.Background()
			fl, err := f.svc.CreateFlash(ctx, sale.Flash{TenantID: f.tenant, Name: "bench", PriceMinor: 100, Stock: int64(b.N),
				StartsAt: f.now, Groups: []int64{f.group}})
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m := f.members[next.Add(1)-1]
					if _, err := f.svc.ClaimFlash(ctx, f.tenant, fl.ID, m, f.group, sale.ViaWeb); err != nil && !errors.Is(err, sale.ErrSoldOut) {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
			if batches, requests := db.GroupStats(); batches > 0 {
				b.ReportMetric(float64(requests)/float64(batches), "claims/commit")
			}
		})
	}
}
