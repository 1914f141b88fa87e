package demo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/demo"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// The demo brand has tracked links with clicks, and orders attributed to
// last Friday's live and to a knowledge post, so the attribution tables
// of the dashboard are not empty.
func TestSeedTrack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		d := deps(db)
		d.Bot, d.Loyalty, d.Polls = runner.NewStore(db), loyalty.NewService(db, d.Log), poll.New(db, d.Log)
		d.Lives = live.New(db, d.Log)
		d.Campaigns = campaign.New(db, func() time.Time { return now })
		r, _, err := demo.Seed(ctx, d, 7, now)
		if err != nil {
			t.Fatal(err)
		}
		tid := r.Tenant.ID
		links := count(t, db, `SELECT COUNT(*) FROM links WHERE tenant_id = $1`, tid)
		clicks := count(t, db, `SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1`, tid)
		events := count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'link_clicked'`, tid)
		attributed := count(t, db, `SELECT COUNT(*) FROM order_attribution WHERE tenant_id = $1`, tid)
		// 36 visitors' clicks, one per attributed order, and the live's
		// viewers who came through its links.
		if links != 4 || clicks <= 36+attributed || events != clicks || attributed < 5 {
			t.Fatalf("links %d, clicks %d (events %d), attributed orders %d", links, clicks, events, attributed)
		}
		svc := analytics.New(db)
		loc := r.Tenant.Location()
		today := analytics.DayOf(now, loc)
		lives, pushes, groups, err := svc.Attribution(ctx, analytics.Filter{TenantID: tid, Period: analytics.LastDays(today-1, 14), Loc: loc})
		if err != nil || len(lives) != 1 || lives[0].Label != "上周五直播：保湿专场" || len(pushes) != 1 || len(groups) != 2 {
			t.Fatalf("attribution: lives %v pushes %v groups %v %v", lives, pushes, groups, err)
		}
		// The live's funnel: the platform's peak of 3,100 viewers, 8 who
		// joined from it, members who clicked its links, buyers.
		var liveID int64
		if _, err := fmt.Sscanf(lives[0].Key, "live:%d", &liveID); err != nil {
			t.Fatal(err)
		}
		fn, err := svc.Funnel(ctx, analytics.Filter{TenantID: tid, Loc: loc}, liveID)
		if err != nil || fn.Steps[0].Members != 3100 || fn.Steps[1].Members != 8 || fn.Steps[2].Members == 0 || fn.Steps[3].Members == 0 {
			t.Fatalf("funnel %+v %v", fn, err)
		}
		var orders int64
		for _, g := range groups {
			orders += g.Orders
		}
		if orders != int64(attributed) {
			t.Fatalf("groups hold %d orders of %d attributed", orders, attributed)
		}
	})
}
