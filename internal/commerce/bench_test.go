package commerce_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// BenchmarkImport imports a generic CSV of 5,000 orders (10,000 rows, a
// fifth of the orders matched to one of 1,000 members by phone, a 3-tier
// ladder evaluated on each matched order) on SQLite and reports rows/s.
//
//	go test -run '^$' -bench BenchmarkImport -benchtime 3x ./internal/commerce/
func BenchmarkImport(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	f := setup(b, db, "bench")
	f.ladder()
	for i := range 1000 {
		f.member(fmt.Sprintf("m%d", i), fmt.Sprintf("1380000%04d", i), "")
	}
	f.now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	const orders = 5000
	rows := 0
	b.ResetTimer()
	for n := range b.N {
		b.StopTimer()
		var sb strings.Builder
		sb.WriteString(genericHeader)
		for i := range orders {
			phone := ""
			if i%5 == 0 {
				phone = fmt.Sprintf("1380000%04d", i%1000)
			}
			fmt.Fprintf(&sb, "N%d-%d,2026-05-01 10:00,120.00,%s,,,,,TEA,茶,2,50.00,\n", n, i, phone)
			fmt.Fprintf(&sb, "N%d-%d,2026-05-01 10:00,120.00,%s,,,,,CUP,杯,1,20.00,\n", n, i, phone)
		}
		data := []byte(sb.String())
		b.StartTimer()
		rep, err := f.importFile(data, commerce.ImportOptions{})
		if err != nil || rep.Imported != orders {
			b.Fatalf("%+v %v", rep, err)
		}
		rows += rep.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
