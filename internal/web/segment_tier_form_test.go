package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/store"
)

// TestPlaybookSegmentMinTier: a private-message step can target members of
// a tier and above from the playbook editor: refused while nobody holds the
// tier, saved once an order lifts a member to it, and shown selected.
func TestPlaybookSegmentMinTier(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	b, op, _, fanID, key := commerceBrand(t, e, "segtier")
	must(t, op.PostForm("/console/tiers", url.Values{"name": {"普通"}, "rank": {"0"}, "basis": {"spend"}, "threshold": {"0"}, "window_days": {"365"}}), http.StatusSeeOther)
	must(t, op.PostForm("/console/tiers", url.Values{"name": {"银卡"}, "rank": {"1"}, "basis": {"spend"}, "threshold": {"300.00"}, "window_days": {"365"}}), http.StatusSeeOther)
	item := createdID(t, op.PostForm("/console/content", url.Values{"title": {"银卡专享"}, "type": {"promo"}, "format": {"text"},
		"text_en": {"Hi {name}, silver members first"}}), "/console/content/")
	loc := b.Tenant.Location()
	day := time.Now().In(loc).AddDate(0, 0, 5)
	anchor := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	form := url.Values{"name": {"银卡专享"}, "kind": {"custom"}, "anchor": {"date"}, "anchor_at": {anchor.Format("2006-01-02T15:04")},
		"active": {"on"}, "steps": {"1"}, "s0_days": {"1"}, "s0_at": {"20:00"}, "s0_content": {fmt.Sprint(item)}, "s0_target": {"dm"},
		"s0_seg_min_tier": {"1"}}
	must(t, op.Get("/console/playbooks/new"), 200, `name="s0_seg_min_tier"`, ">银卡<")
	must(t, op.PostForm("/console/playbooks", form), http.StatusBadRequest, "step 1: the target reaches nobody now")

	must(t, shopSigned(e, "/api/shop/"+b.Tenant.Slug+"/orders", `{"orders":[{"id":"T-1","amount":35000,"phone":"13800138000"}]}`, key), 200, `"matched":true`)
	pb := createdID(t, op.PostForm("/console/playbooks", form), "/console/playbooks/")
	p, err := e.App.Campaigns.GetPlaybook(context.Background(), b.Tenant.ID, pb)
	if err != nil || len(p.Steps) != 1 || p.Steps[0].Target.Segment.MinTier != 1 {
		t.Fatalf("playbook %+v %v", p, err)
	}
	must(t, op.Get(fmt.Sprintf("/console/playbooks/%d", pb)), 200, `<option value="1" selected>银卡</option>`)
	if n := commerceCount(t, e, `SELECT COUNT(*) FROM campaign_jobs WHERE tenant_id = $1`, b.Tenant.ID); n != 1 {
		t.Fatalf("%d jobs armed for member %d", n, fanID)
	}
}
