package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/member"
)

var myCodeRe = regexp.MustCompile(`data-my-code="([A-Z0-9-]+)"`)

// newBatch creates a coupon batch through the console and returns its id.
func newBatch(t *testing.T, op *apptest.Client, name string, stock int) int64 {
	t.Helper()
	r := op.PostForm("/console/coupons", url.Values{"name": {name}, "kind": {"amount"}, "amount": {"20"}, "valid_days": {"30"},
		"stock": {fmt.Sprint(stock)}, "per_member": {"1"}})
	must(t, r, http.StatusSeeOther)
	var id int64
	if _, err := fmt.Sscanf(r.Header.Get("Location"), "/console/coupons/%d", &id); err != nil {
		t.Fatalf("batch location %q", r.Header.Get("Location"))
	}
	return id
}

// The app's wiring of coupons into the other commerce features, end to
// end through HTTP: a tier's coupon bundle reaches every member who moves
// up (not only the first), an order carrying a member's code is matched
// to that member, and a referral campaign's coupon reward lands on the
// referrer's coupons page — while a sold-out reward batch neither stops
// the settlement nor the reward's other parts.
func TestCouponWiring(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		b, op, fan, fanID, key := commerceBrand(t, e, "cwire")
		slug := b.Tenant.Slug
		bundle := newBatch(t, op, "银卡礼包", 5)
		must(t, op.PostForm("/console/tiers", url.Values{"name": {"普通"}, "rank": {"0"}, "basis": {"spend"}, "threshold": {"0"}, "window_days": {"365"}}), http.StatusSeeOther)
		must(t, op.PostForm("/console/tiers", url.Values{"name": {"银卡"}, "rank": {"1"}, "basis": {"spend"}, "threshold": {"300.00"},
			"window_days": {"365"}, "coupon_batch_ids": {fmt.Sprint(bundle)}}), http.StatusSeeOther)

		second := e.Client()
		second.Join(b.JoinCode.Code, "阿强")
		secondID := memberIDOf(t, e, b, "阿强")
		if err := e.App.Members.UpdateContact(ctx, member.Member{TenantID: b.Tenant.ID, ID: secondID, DisplayName: "阿强", Phone: "13900139000"}); err != nil {
			t.Fatal(err)
		}
		orders := "/api/shop/" + slug + "/orders"
		must(t, shopSigned(e, orders, `{"orders":[{"id":"W-1","amount":30000,"phone":"13800138000"}]}`, key), 200, `"status":"stored","matched":true`)
		must(t, shopSigned(e, orders, `{"orders":[{"id":"W-2","amount":30000,"phone":"13900139000"}]}`, key), 200, `"status":"stored","matched":true`)
		codes := map[string]string{}
		for name, c := range map[string]*apptest.Client{"小美": fan, "阿强": second} {
			must(t, c.Get("/m/"+slug+"/tier"), 200, `data-tier>银卡<`)
			page := c.Get("/m/" + slug + "/coupons")
			must(t, page, 200, "银卡礼包")
			m := myCodeRe.FindStringSubmatch(page.Body)
			if m == nil {
				t.Fatalf("%s moved up but holds no bundle coupon: %.800s", name, page.Body)
			}
			codes[name] = m[1]
		}

		// An order that names no buyer but carries 阿强's code (typed in
		// lower case with a space) is 阿强's.
		typed := strings.ToLower(codes["阿强"][:4]) + " " + codes["阿强"][4:]
		must(t, shopSigned(e, orders, fmt.Sprintf(`{"orders":[{"id":"W-3","amount":100,"coupon":%q}]}`, typed), key), 200,
			`"status":"stored","matched":true`)
		if n := commerceCount(t, e, `SELECT COUNT(*) FROM orders WHERE tenant_id = $1 AND external_id = 'W-3' AND member_id = $2`, b.Tenant.ID, secondID); n != 1 {
			t.Fatal("the order with 阿强's code is not 阿强's")
		}

		// Referral rewards: a coupon from a batch with stock, and a second
		// campaign whose only code is already taken (sold out).
		invite := newBatch(t, op, "邀请券", 5)
		scarce := newBatch(t, op, "限量券", 1)
		r := second.PostForm(fmt.Sprintf("/m/%s/coupons/%d/claim", slug, scarce), nil)
		if !strings.Contains(r.Header.Get("Location"), "claimed=") {
			t.Fatalf("claiming the scarce coupon: %d %s", r.Status, r.Header.Get("Location"))
		}
		loc := b.Tenant.Location()
		now := e.App.Referral.Now()
		var links []string
		for i, batch := range []int64{invite, scarce} {
			form := url.Values{"name": {fmt.Sprint("邀请", i)}, "target": {fmt.Sprintf("group:%d", b.Group.ID)}, "stay_days": {"0"},
				"starts_at": {now.Add(-time.Hour).In(loc).Format("2006-01-02T15:04")}, "ends_at": {now.Add(24 * time.Hour).In(loc).Format("2006-01-02T15:04")},
				"threshold_1": {"1"}, "points_1": {"7"}, "coupon_1": {fmt.Sprint(batch)}}
			must(t, op.PostForm("/console/referrals", form), http.StatusSeeOther)
		}
		page := fan.Get("/m/" + slug + "/invite")
		must(t, page, 200, "data-invite-url")
		for _, part := range strings.Split(page.Body, e.URL+"/r/")[1:] {
			links = append(links, part[:strings.IndexByte(part, '"')])
		}
		if len(links) < 2 {
			t.Fatalf("invite page shows %d links", len(links))
		}
		seen := map[string]bool{}
		for i, code := range links {
			if seen[code] {
				continue
			}
			seen[code] = true
			f := e.Client()
			f.SetCookie(&http.Cookie{Name: "ll_dev", Value: fmt.Sprint("friend-device-", i)})
			must(t, f.PostForm("/r/"+code, url.Values{"name": {fmt.Sprint("朋友", i)}}), http.StatusSeeOther)
		}
		if _, err := e.App.Referral.Settle(ctx); err != nil {
			t.Fatalf("a sold-out reward batch stops the settlement: %v", err)
		}
		if bal, _ := e.App.Loyalty.Balance(ctx, b.Tenant.ID, fanID); bal != 14 {
			t.Fatalf("referrer's points %d, want 7 from each campaign", bal)
		}
		must(t, fan.Get("/m/"+slug+"/coupons"), 200, "邀请券")

		// A member day set up in the console, run by the app's perk pass:
		// every member gets a code and a private message (the service is
		// built with the outbox and the catalogue), once however often the
		// pass runs.
		dayBatch := newBatch(t, op, "会员日券", 10)
		at := time.Now() // one instant for the perk's day and its runs
		today := at.In(b.Tenant.Location()).Weekday()
		must(t, op.PostForm("/console/coupons/perks", url.Values{"name": {"周会员日"}, "kind": {"member_day"}, "batch_id": {fmt.Sprint(dayBatch)},
			"weekday": {fmt.Sprint(int(today))}}), http.StatusSeeOther)
		must(t, op.Get("/console/coupons"), 200, "not run yet")
		for range 2 {
			if _, err := e.App.Coupons.RunPerks(ctx, at); err != nil {
				t.Fatal(err)
			}
		}
		// The operator sees what the day's run did.
		date := at.In(b.Tenant.Location()).Format("2006-01-02")
		must(t, op.Get("/console/coupons"), 200, "last run "+date+": ", " granted, 0 left out")
		must(t, second.Get("/m/"+slug+"/coupons"), 200, "会员日券")
		if n := commerceCount(t, e, `SELECT COUNT(*) FROM coupon_codes WHERE batch_id = $1 AND member_id <> 0`, dayBatch); n < 2 {
			t.Fatalf("member day granted %d codes", n)
		}
		if n := commerceCount(t, e, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND member_id = $2 AND idem_key LIKE 'coupon:%'`, b.Tenant.ID, secondID); n != 1 {
			t.Fatalf("%d member day messages to 阿强; want 1", n)
		}
	})
}

// Merging two records of one person (console) moves the merged record's
// coupons: the person's coupons page lists them, and an order carrying
// one of those codes is the person's, not the merged-away record's.
func TestCouponsFollowMerge(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, into, intoID, key := commerceBrand(t, e, "cmerge")
		slug := b.Tenant.Slug
		batch := newBatch(t, op, "合并券", 5)
		other := e.Client()
		other.Join(b.JoinCode.Code, "小号")
		fromID := memberIDOf(t, e, b, "小号")
		r := other.PostForm(fmt.Sprintf("/m/%s/coupons/%d/claim", slug, batch), nil)
		code := strings.TrimPrefix(r.Header.Get("Location"), "/m/"+slug+"/coupons?claimed=")
		if r.Status != http.StatusSeeOther || code == "" || strings.Contains(code, "refused") {
			t.Fatalf("claim: %d %s", r.Status, r.Header.Get("Location"))
		}
		must(t, op.PostForm(fmt.Sprintf("/console/members/%d/merge", intoID), url.Values{"from": {fmt.Sprint(fromID)}}), http.StatusSeeOther)
		must(t, into.Get("/m/"+slug+"/coupons"), 200, `data-my-code="`+code+`"`)
		must(t, shopSigned(e, "/api/shop/"+slug+"/orders", fmt.Sprintf(`{"orders":[{"id":"M-1","amount":100,"coupon":%q}]}`, code), key), 200,
			`"status":"stored","matched":true`)
		if n := commerceCount(t, e, `SELECT COUNT(*) FROM orders WHERE tenant_id = $1 AND external_id = 'M-1' AND member_id = $2`, b.Tenant.ID, intoID); n != 1 {
			t.Fatal("the order with the merged record's code is not the person's")
		}
		// The person holds the merged record's claim: the limit (1) holds.
		r = into.PostForm(fmt.Sprintf("/m/%s/coupons/%d/claim", slug, batch), nil)
		if !strings.Contains(r.Header.Get("Location"), "refused=limit") {
			t.Fatalf("the person claims again after the merge: %s", r.Header.Get("Location"))
		}
	})
}
