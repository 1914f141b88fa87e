package coupon_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// BenchmarkClaim has g goroutines claim codes of one batch: every claim
// reads the batch and the member's holder row, and takes a free code of
// the same batch. "exact" has stock for every claim; "oversold" has stock
// for half, so the other half are refused as sold out (from the read
// pool, no write transaction). Members hold up to 100 codes each, so the
// per-member rows are shared too. After the run the codes handed out are
// counted: exactly min(N, stock).
//
//	go test -run '^$' -bench Claim -benchtime 5000x ./internal/coupon/
func BenchmarkClaim(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, mode := range []string{"exact", "oversold"} {
			for _, g := range []int{1, 32, 64} {
				b.Run(fmt.Sprintf("%s/%s/goroutines=%d", d, mode, g), func(b *testing.B) {
					ctx := context.Background()
					f := setup(b, storetest.Open(b, d), "bench", b.N/coupon.MaxPerMember+1)
					stock := int64(b.N)
					if mode == "oversold" {
						stock = max(int64(b.N)/2, 1)
					}
					bt := f.batch(b, coupon.Batch{Stock: stock, PerMember: coupon.MaxPerMember})
					var next, ok atomic.Int64
					var wg sync.WaitGroup
					b.ResetTimer()
					for range g {
						wg.Go(func() {
							for k := next.Add(1); k <= int64(b.N); k = next.Add(1) {
								_, err := f.svc.Claim(ctx, f.tenant, bt.ID, f.members[k%int64(len(f.members))])
								switch {
								case err == nil:
									ok.Add(1)
								case !errors.Is(err, coupon.ErrSoldOut):
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
					if batches, requests := f.db.GroupStats(); batches > 0 {
						b.ReportMetric(float64(requests)/float64(batches), "claims/commit")
					}
					want := min(int64(b.N), stock)
					handed := count(b, f.db, `SELECT COUNT(*) FROM coupon_codes WHERE batch_id = $1 AND member_id <> 0`, bt.ID)
					if !b.Failed() && (ok.Load() != want || int64(handed) != want) {
						b.Fatalf("%d claims succeeded, %d codes handed out, want %d", ok.Load(), handed, want)
					}
				})
			}
		}
	}
}
