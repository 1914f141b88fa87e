package app_test

import (
	"context"
	"testing"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// TestPlatformPostsCountAsTheBrands: a post the outbox delivered to a
// Telegram group becomes a message event under its outbox key (once,
// however often the hook runs), which the rollup counts as the brand's;
// a web group's post is not recorded twice (the web community already
// appended it), nor is a private message.
func TestPlatformPostsCountAsTheBrands(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	a := e.App
	ctx := context.Background()
	tn, err := a.Tenants.Create(ctx, tenant.Tenant{Slug: "tg", Name: "TG", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := a.Community.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "telegram/1", ExternalID: "-1001", Name: "TG", Kind: "vertical", Capacity: 500})
	if err != nil {
		t.Fatal(err)
	}
	post := outbox.Item{ID: 1, TenantID: tn.ID, Channel: "telegram/1", IdemKey: "campaign:1:1", GroupID: g.ID, PersonaID: 3, Body: "早安"}
	a.Outbox.OnSent(post)
	a.Outbox.OnSent(post) // a second call stores nothing more
	a.Outbox.OnSent(outbox.Item{ID: 2, TenantID: tn.ID, Channel: "web", IdemKey: "w:1", GroupID: g.ID, Body: "x"})
	a.Outbox.OnSent(outbox.Item{ID: 3, TenantID: tn.ID, Channel: "telegram/1", IdemKey: "dm:1", MemberID: 9, Body: "x"})
	n, err := a.Log.Count(ctx, tn.ID, event.Message)
	if err != nil || n != 1 {
		t.Fatalf("message events %d (%v), want 1", n, err)
	}
	ev, err := a.Log.BySource(ctx, tn.ID, event.SourceOutbox, "campaign:1:1")
	if err != nil || ev.GroupID != g.ID {
		t.Fatalf("%+v %v", ev, err)
	}
	if _, err := a.Rollup.Catchup(ctx); err != nil {
		t.Fatal(err)
	}
	var brand int64
	if err := a.DB.R.QueryRow(`SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric = 'persona_messages'`, tn.ID).Scan(&brand); err != nil || brand != 1 {
		t.Fatalf("persona messages %d (%v), want 1", brand, err)
	}
}
