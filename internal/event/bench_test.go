package event_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// Run with:
//
//	go test -run '^$' -bench Append -benchtime 2s ./internal/event/
//
// Results and the machine they were taken on are kept in docs/benchmarks.md.

func benchLog(b *testing.B, d store.Dialect) (*event.Log, int64) {
	db := storetest.Open(b, d)
	bus := event.NewLocalBus()
	bus.Subscribe(func(event.Event) {}) // one listener, as the real-time hub is
	return event.NewLog(db, bus), newTenant(b, db, "bench")
}

func benchEvent(tenant int64, n int) event.Event {
	return event.Event{
		TenantID: tenant, Type: event.Message, Source: event.SourceWeb, SourceID: "b" + strconv.Itoa(n),
		MemberID: int64(n%1000 + 1), GroupID: int64(n%20 + 1),
		Data: event.MustData(event.MessageData{Text: "这个颜色还有货吗？想要一件 M 码的", SenderName: "小鹿"}),
	}
}

// BenchmarkAppendSingle appends one event per transaction, as a webhook
// delivering one update does.
func BenchmarkAppendSingle(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			log, tenant := benchLog(b, d)
			ctx := context.Background()
			n := 0
			for b.Loop() {
				e := benchEvent(tenant, n)
				if ok, err := log.Append(ctx, &e); err != nil || !ok {
					b.Fatal(ok, err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAppendBatch appends 500 events per transaction, as an import or
// a busy ingestion queue does.
func BenchmarkAppendBatch(b *testing.B) {
	const size = 500
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			log, tenant := benchLog(b, d)
			ctx := context.Background()
			batch := make([]event.Event, size)
			n := 0
			for b.Loop() {
				for i := range batch {
					batch[i] = benchEvent(tenant, n)
					n++
				}
				if got, err := log.AppendBatch(ctx, batch); err != nil || got != size {
					b.Fatal(got, err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
