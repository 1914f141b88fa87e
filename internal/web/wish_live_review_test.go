package web_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
)

// TestWishHookUnderLoad: on PostgreSQL, many lives scheduled at once with
// a product members wished for all save, their wishers told. The wish
// hook runs inside each save's transaction; it used to read the tenant,
// the rules and the persona from the pool there, so 40 saves holding all
// 20 connections waited for a 21st for ever.
func TestWishHookUnderLoad(t *testing.T) {
	e := apptest.Start(t, store.Postgres)
	b := e.Brand("wishload")
	m := e.Client()
	m.Join(b.JoinCode.Code, "许愿人")
	var member int64
	if err := e.App.DB.R.QueryRow(`SELECT id FROM members WHERE tenant_id = $1`, b.Tenant.ID).Scan(&member); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.DB.W.Exec(`INSERT INTO wishes (tenant_id, member_id, text, norm, at) VALUES ($1, $2, $3, $4, $5)`,
		b.Tenant.ID, member, "想要连衣裙", "连衣裙", store.Millis(time.Now())); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := e.App.Lives.Schedule(ctx, live.Live{TenantID: b.Tenant.ID, Title: fmt.Sprintf("场次%02d", i), ScheduledAt: time.Now().Add(time.Hour),
				Products: []live.Product{{Name: "碎花连衣裙", Price: 19900, LivePrice: 12900, Stock: 5}}})
			if err != nil {
				t.Errorf("live %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	var told int
	if err := e.App.DB.R.QueryRow(`SELECT COUNT(*) FROM wish_live_notices WHERE tenant_id = $1`, b.Tenant.ID).Scan(&told); err != nil || told != n {
		t.Fatalf("%d wishers told for %d lives: %v", told, n, err)
	}
}
