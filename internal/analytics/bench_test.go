package analytics_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/analytics/synth"
	"github.com/liveloop/liveloop/internal/store"
)

// benchPlan is a small generated history: 20,000 events of one brand
// (2,000 members, 8 groups, 30 days); `liveloop bench analytics` runs
// the same generator at 10 million (docs/benchmarks.md).
var benchPlan = synth.Plan{Events: 20_000, Members: 2_000, Groups: 8, Days: 30, Seed: 1,
	End: time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))}

// benchDB is a SQLite database holding benchPlan's history.
func benchDB(b *testing.B) (*store.DB, synth.Result) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	res, err := synth.Generate(ctx, db, benchPlan, nil)
	if err != nil {
		b.Fatal(err)
	}
	return db, res
}

// BenchmarkRollup rolls the 20,000 events up from zero (Rebuild, then
// Catchup) per op; events/s is the rate.
//
//	go test -run '^$' -bench Rollup ./internal/analytics/
func BenchmarkRollup(b *testing.B) {
	ctx := context.Background()
	db, res := benchDB(b)
	r := analytics.NewRollup(db)
	var events int
	for b.Loop() {
		if err := r.Rebuild(ctx); err != nil {
			b.Fatal(err)
		}
		n, err := r.Catchup(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n != res.Events {
			b.Fatalf("rolled up %d events, want %d", n, res.Events)
		}
		events += n
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkOverview is the dashboard's metric cards for the last 30 days
// over the rolled-up 20,000 events.
//
//	go test -run '^$' -bench Overview ./internal/analytics/
func BenchmarkOverview(b *testing.B) {
	ctx := context.Background()
	db, res := benchDB(b)
	if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
		b.Fatal(err)
	}
	svc := analytics.New(db)
	last := res.End.Add(-time.Millisecond)
	svc.SetClock(func() time.Time { return last })
	f := analytics.Filter{TenantID: res.Tenants[0], Period: analytics.LastDays(svc.Today(res.End.Location()), 30), Loc: res.End.Location()}
	for b.Loop() {
		v, err := svc.Overview(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		if v["member_messages"].Num == 0 {
			b.Fatal("no member messages in the period")
		}
	}
}
