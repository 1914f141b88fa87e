package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/store"
)

// Coupon batches named by a tier's bundle or a referral reward must be the
// brand's own: another brand's batch id (or one that does not exist) is a
// 400 naming it, and nothing is stored; a stay of "abc" days is refused,
// not taken as 0.
func TestForeignCouponBatchRefused(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, _, _, _ := commerceBrand(t, e, "own-batch")
		other := e.Brand("other-batch")
		otherOp := e.Client()
		otherOp.Login(other)
		foreign := newBatch(t, otherOp, "别家券", 5)
		mine := newBatch(t, op, "自家券", 5)

		must(t, op.PostForm("/console/tiers", url.Values{"name": {"普通"}, "rank": {"0"}, "basis": {"spend"}, "threshold": {"0"}, "window_days": {"365"}}), http.StatusSeeOther)
		for _, ids := range []string{fmt.Sprint(foreign), fmt.Sprint(mine, ", ", foreign), "987654"} {
			must(t, op.PostForm("/console/tiers", url.Values{"name": {"银卡"}, "rank": {"1"}, "basis": {"spend"}, "threshold": {"300.00"},
				"window_days": {"365"}, "coupon_batch_ids": {ids}}), http.StatusBadRequest, "is not one of your coupons")
		}
		if n := commerceCount(t, e, `SELECT COUNT(*) FROM tiers WHERE tenant_id = $1`, b.Tenant.ID); n != 1 {
			t.Fatalf("%d tiers stored, want only the base", n)
		}
		must(t, op.PostForm("/console/tiers", url.Values{"name": {"银卡"}, "rank": {"1"}, "basis": {"spend"}, "threshold": {"300.00"},
			"window_days": {"365"}, "coupon_batch_ids": {fmt.Sprint(mine)}}), http.StatusSeeOther)

		now := e.App.Referral.Now()
		loc := b.Tenant.Location()
		form := func(stay, coupon string) url.Values {
			return url.Values{"name": {"邀请"}, "target": {fmt.Sprintf("group:%d", b.Group.ID)}, "stay_days": {stay},
				"starts_at": {now.Add(-3600e9).In(loc).Format("2006-01-02T15:04")}, "ends_at": {now.Add(24 * 3600e9).In(loc).Format("2006-01-02T15:04")},
				"threshold_1": {"1"}, "points_1": {"7"}, "coupon_1": {coupon}}
		}
		must(t, op.PostForm("/console/referrals", form("3", fmt.Sprint(foreign))), http.StatusBadRequest, "is not one of your coupons")
		must(t, op.PostForm("/console/referrals", form("abc", fmt.Sprint(mine))), http.StatusBadRequest, "stay days must be")
		if n := commerceCount(t, e, `SELECT COUNT(*) FROM referral_campaigns WHERE tenant_id = $1`, b.Tenant.ID); n != 0 {
			t.Fatalf("%d campaigns stored from refused forms", n)
		}
		must(t, op.PostForm("/console/referrals", form("3", fmt.Sprint(mine))), http.StatusSeeOther)
	})
}

// A visitor refused a VIP group by their tier reads why in their language,
// with the tier's name; nothing is stored.
func TestTierGateMessageTranslated(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	b, op, _, _, _ := commerceBrand(t, e, "vipgate")
	vip := newGroup(t, e, b, "<b>VIP</b> 群", community.VIP)
	must(t, op.PostForm("/console/tiers", url.Values{"name": {"普通"}, "rank": {"0"}, "basis": {"spend"}, "threshold": {"0"}, "window_days": {"365"}}), http.StatusSeeOther)
	must(t, op.PostForm("/console/tiers", url.Values{"name": {"金卡<i>"}, "rank": {"1"}, "basis": {"spend"}, "threshold": {"300.00"},
		"window_days": {"365"}, "vip_group_ids": {fmt.Sprint(vip.ID)}}), http.StatusSeeOther)
	codes, err := e.App.Community.JoinCodes(context.Background(), b.Tenant.ID, vip.ID)
	if err != nil || len(codes) == 0 {
		t.Fatalf("codes %v %v", codes, err)
	}
	before := commerceCount(t, e, `SELECT COUNT(*) FROM members WHERE tenant_id = $1`, b.Tenant.ID)
	for lang, want := range map[string]string{"zh-CN": "本群仅限金卡&lt;i&gt;及以上等级的会员加入", "zh-TW": "本群僅限金卡&lt;i&gt;及以上等級的會員加入",
		"en": "This group is for 金卡&lt;i&gt; members and above"} {
		v := e.Client()
		r := v.Do(http.MethodPost, "/j/"+codes[0].Code, strings.NewReader(url.Values{"name": {"路人"}}.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept-Language": {lang}})
		must(t, r, http.StatusForbidden, want)
	}
	if n := commerceCount(t, e, `SELECT COUNT(*) FROM members WHERE tenant_id = $1`, b.Tenant.ID); n != before {
		t.Fatalf("refused joins stored %d members", n-before)
	}
}
