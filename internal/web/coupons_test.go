package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/app/apptest"
)

// shopPost sends a signed shop API request for the brand.
func shopPost(e *apptest.Env, c *apptest.Client, tenantID int64, slug, path, body string, forge bool) apptest.Response {
	k := hmac.New(sha256.New, e.App.Web.MemberKey)
	fmt.Fprintf(k, "shop-api:%d", tenantID)
	m := hmac.New(sha256.New, []byte(hex.EncodeToString(k.Sum(nil))))
	m.Write([]byte(body))
	sig := hex.EncodeToString(m.Sum(nil))
	if forge {
		sig = strings.Repeat("0", len(sig))
	}
	return c.Do(http.MethodPost, "/api/shop/"+slug+path, strings.NewReader(body), http.Header{
		"Content-Type": {"application/json"}, "X-Liveloop-Signature": {"sha256=" + sig}})
}

var codeRe = regexp.MustCompile(`data-code>([A-Z0-9-]+)<`)

// The whole coupon path: the operator creates a batch (refused with
// reasons first), a member claims it on their coupons page, a second
// member outside the audience is told why, and the shop redeems the code
// once (replay, another order, a forged signature, an unknown code, the
// minimum spend, another brand).
func TestCouponsThroughHTTP(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("cpn")
		other := e.Brand("cpnother")
		op := e.Client()
		op.Login(b)
		bad := op.PostForm("/console/coupons", url.Values{"name": {"Spring"}, "kind": {"percent"}, "percent": {"120"},
			"stock": {"0"}, "per_member": {"1"}})
		must(t, bad, http.StatusBadRequest, "1 to 99", "stock must be", "end of validity")
		r := op.PostForm("/console/coupons", url.Values{"name": {"Spring ¥10"}, "prefix": {"spr"}, "kind": {"amount"}, "amount": {"10"},
			"min_spend": {"50"}, "valid_days": {"7"}, "stock": {"3"}, "per_member": {"1"},
			"group_id": {fmt.Sprint(b.Group.ID)}})
		must(t, r, http.StatusSeeOther)
		batchURL := r.Header.Get("Location")
		var batchID int64
		fmt.Sscanf(batchURL, "/console/coupons/%d", &batchID)
		must(t, op.Get(batchURL), http.StatusOK, "Spring ¥10", "¥10 off, on orders from ¥50")

		fan := e.Client()
		fan.Join(b.JoinCode.Code, "Lin")
		page := fan.Get("/m/cpn/coupons")
		must(t, page, http.StatusOK, "Spring ¥10", fmt.Sprintf("/m/cpn/coupons/%d/claim", batchID))
		r = fan.PostForm(fmt.Sprintf("/m/cpn/coupons/%d/claim", batchID), nil)
		must(t, r, http.StatusSeeOther)
		page = fan.Get(r.Header.Get("Location"))
		m := codeRe.FindStringSubmatch(page.Body)
		if m == nil || !strings.HasPrefix(m[1], "SPR-") {
			t.Fatalf("no code on the page: %.600s", page.Body)
		}
		code := m[1]
		must(t, page, http.StatusOK, `data-my-code="`+code+`"`)
		r = fan.PostForm(fmt.Sprintf("/m/cpn/coupons/%d/claim", batchID), nil)
		must(t, r, http.StatusSeeOther)
		if !strings.Contains(r.Header.Get("Location"), "refused=limit") {
			t.Fatalf("second claim: %s", r.Header.Get("Location"))
		}
		must(t, fan.Get(r.Header.Get("Location")), http.StatusOK, "You already hold as many")

		// A member of the other brand's group is not in this audience.
		stranger := e.Client()
		stranger.Join(b.JoinCode.Code, "Wu")
		stranger.PostForm(fmt.Sprintf("/m/cpn/g/%d/leave", b.Group.ID), nil)
		must(t, stranger.Get("/m/cpn/coupons"), http.StatusOK, `data-why="audience_group"`)
		r = stranger.PostForm(fmt.Sprintf("/m/cpn/coupons/%d/claim", batchID), nil)
		if !strings.Contains(r.Header.Get("Location"), "refused=audience_group") {
			t.Fatalf("stranger's claim: %d %s", r.Status, r.Header.Get("Location"))
		}
		// Without a member cookie: refused.
		if r := e.Client().PostForm(fmt.Sprintf("/m/cpn/coupons/%d/claim", batchID), nil); r.Status != http.StatusForbidden {
			t.Fatalf("anonymous claim: %d", r.Status)
		}

		shop := e.Client()
		body := func(code, order string, amount int) string {
			return fmt.Sprintf(`{"code":%q,"order_id":%q,"amount":%d}`, code, order, amount)
		}
		must(t, shopPost(e, shop, b.Tenant.ID, "cpn", "/coupons/redeem", body(code, "O-1", 6000), true), http.StatusUnauthorized, "bad_signature")
		must(t, shopPost(e, shop, b.Tenant.ID, "cpn", "/coupons/redeem", body(code, "O-1", 4000), false), http.StatusUnprocessableEntity, "minimum_spend")
		must(t, shopPost(e, shop, b.Tenant.ID, "cpn", "/coupons/check", body(code, "O-1", 6000), false), http.StatusOK, `"discount":1000`)
		must(t, shopPost(e, shop, b.Tenant.ID, "cpn", "/coupons/redeem", body(strings.ToLower(code), "O-1", 6000), false), http.StatusOK,
			`"discount":1000`, `"free_shipping":false`)
		must(t, shopPost(e, shop, b.Tenant.ID, "cpn", "/coupons/redeem", body(code, "O-1", 6000), false), http.StatusOK, `"replay":true`, `"discount":1000`)
		must(t, shopPost(e, shop, b.Tenant.ID, "cpn", "/coupons/redeem", body(code, "O-2", 6000), false), http.StatusConflict, "already_used")
		must(t, shopPost(e, shop, b.Tenant.ID, "cpn", "/coupons/redeem", body("SPR-2345678922", "O-3", 6000), false), http.StatusNotFound, "unknown_code")
		must(t, shopPost(e, shop, other.Tenant.ID, "cpnother", "/coupons/redeem", body(code, "O-1", 6000), false), http.StatusNotFound, "unknown_code")
		must(t, shopPost(e, shop, b.Tenant.ID, "cpn", "/coupons/redeem", `{"code":"x"}`, false), http.StatusBadRequest, "invalid")
		must(t, fan.Get("/m/cpn/coupons"), http.StatusOK, `data-state="redeemed"`)
		must(t, op.Get(batchURL), http.StatusOK, "O-1", `data-redeemed>1<`)
		// Another brand's operator sees nothing of it.
		op2 := e.Client()
		op2.Login(other)
		if r := op2.Get(batchURL); r.Status != http.StatusNotFound {
			t.Fatalf("other brand's batch page: %d", r.Status)
		}
		if r := op2.PostForm(batchURL+"/disable", nil); r.Status != http.StatusNotFound {
			t.Fatalf("other brand disables: %d", r.Status)
		}
		// Perks and free shipping through the console; the member sees the threshold.
		must(t, op.PostForm("/console/coupons/settings", url.Values{"free_shipping": {"99"}}), http.StatusSeeOther)
		must(t, op.PostForm("/console/coupons/perks", url.Values{"name": {"会员日"}, "kind": {"member_day"}, "batch_id": {fmt.Sprint(batchID)},
			"day_of_month": {"18"}}), http.StatusSeeOther)
		must(t, op.Get("/console/coupons"), http.StatusOK, "会员日", "every month on the 18")
		must(t, fan.PostForm("/m/cpn/coupons/birthday", url.Values{"month": {"2"}, "day": {"30"}}), http.StatusBadRequest)
		must(t, fan.PostForm("/m/cpn/coupons/birthday", url.Values{"month": {"5"}, "day": {"20"}}), http.StatusSeeOther)
		must(t, fan.Get("/m/cpn/coupons"), http.StatusOK, "Free shipping on orders from ¥99", `value="20"`)
	})
}
