package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// On PostgreSQL the rollup reads the log in (tx, id) order, tx being a
// number: the events of transaction 9 come before those of transaction
// 10, whatever their ids. (Read in the text order of tx, "10" < "9", the
// cursor passed transaction 10's event first and never read 9's.)
func TestRollupReadsTransactionsInNumericOrder(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "order", Name: "Order", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	at := store.Millis(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	// Two check-ins written as if by transactions 10 (the lower id) and
	// 9: both long ended, so both below the rollup's horizon.
	for _, e := range []struct {
		source string
		tx     string
	}{{"a", "10"}, {"b", "9"}} {
		if _, err := db.W.ExecContext(ctx, `INSERT INTO events (tenant_id, type, source, source_id, at, data, tx)
			VALUES ($1, 'checked_in', 'loyalty', $2, $3, '{}', $4::text::xid8)`, tn.ID, e.source, at, e.tx); err != nil {
			t.Fatal(err)
		}
	}
	r := analytics.NewRollup(db)
	r.Batch = 1
	n, err := r.Catchup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var checkins int64
	if err := db.R.QueryRowContext(ctx, `SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric = 'checkins'`, tn.ID).Scan(&checkins); err != nil {
		t.Fatal(err)
	}
	if n != 2 || checkins != 2 {
		t.Fatalf("rolled up %d events, %d check-ins; want 2 and 2", n, checkins)
	}
}
