package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/member"
)

// commerceBrand is a brand with a logged-in operator, a member who joined
// its group (phone 13800138000) and the brand's shop API key.
func commerceBrand(t *testing.T, e *apptest.Env, slug string) (apptest.Brand, *apptest.Client, *apptest.Client, int64, string) {
	t.Helper()
	b := e.Brand(slug)
	op := e.Client()
	op.Login(b)
	fan := e.Client()
	fan.Join(b.JoinCode.Code, "小美")
	var id int64
	if err := e.App.DB.R.QueryRow(`SELECT id FROM members WHERE tenant_id = $1 AND display_name = '小美'`, b.Tenant.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Members.UpdateContact(context.Background(), member.Member{TenantID: b.Tenant.ID, ID: id, DisplayName: "小美", Phone: "+86 138 0013 8000"}); err != nil {
		t.Fatal(err)
	}
	page := op.Get("/console/orders")
	m := regexp.MustCompile(`data-api-key>([0-9a-f]{64})<`).FindStringSubmatch(page.Body)
	if page.Status != 200 || m == nil {
		t.Fatalf("orders page shows no API key: %d %.300s", page.Status, page.Body)
	}
	return b, op, fan, id, m[1]
}

func shopSigned(e *apptest.Env, path, body, key string) apptest.Response {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(body))
	return e.Client().Do(http.MethodPost, path, strings.NewReader(body), http.Header{"Content-Type": {"application/json"},
		"X-Liveloop-Signature": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}})
}

func commerceCount(t *testing.T, e *apptest.Env, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.App.DB.R.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The shop API: signed orders and refunds are stored once with a result
// per item; forged, oversized, malformed or misaddressed requests are
// refused and store nothing. An order that crosses a tier's threshold
// upgrades the member, who is told once and sees it on their tier page.
func TestShopAPI(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, fan, fanID, key := commerceBrand(t, e, "shopapi")
		// A ladder, through the console form.
		must(t, op.PostForm("/console/tiers", url.Values{"name": {"普通"}, "rank": {"0"}, "basis": {"spend"}, "threshold": {"0"}, "window_days": {"365"}}), http.StatusSeeOther)
		must(t, op.PostForm("/console/tiers", url.Values{"name": {"银卡"}, "rank": {"1"}, "basis": {"spend"}, "threshold": {"300.00"},
			"window_days": {"365"}, "discount_pct": {"5"}}), http.StatusSeeOther)
		must(t, op.PostForm("/console/tiers", url.Values{"name": {"金卡"}, "rank": {"2"}, "basis": {"spend"}, "threshold": {"200.00"},
			"window_days": {"365"}}), http.StatusBadRequest, "needs a threshold above 银卡")

		orders := "/api/shop/" + b.Tenant.Slug + "/orders"
		body := `{"orders":[
			{"id":"S-1","paid_at":"2026-01-05T10:00:00+08:00","amount":25000,"phone":"13800138000","lines":[{"sku":"TEA","name":"乌龙","qty":1,"price":25000}]},
			{"id":"S-2","paid_at":"2026-01-05 11:00:00","amount":-1},
			{"id":"S-3","paid_at":"2026-01-06T10:00:00Z","amount":9900,"email":"nobody@shop.test"}]}`
		r := shopSigned(e, orders, body, key)
		must(t, r, 200, `{"id":"S-1","status":"stored","matched":true}`, `{"id":"S-2","status":"error","error":"negative amount"}`, `{"id":"S-3","status":"stored"}`)
		must(t, shopSigned(e, orders, body, key), 200, `{"id":"S-1","status":"duplicate"}`, `{"id":"S-3","status":"duplicate"}`)
		if n := commerceCount(t, e, `SELECT COUNT(*) FROM orders WHERE tenant_id = $1`, b.Tenant.ID); n != 2 {
			t.Fatalf("%d orders stored", n)
		}
		// The crossing order: 250 + 100 ≥ 300.
		must(t, shopSigned(e, orders, `{"orders":[{"id":"S-4","amount":10000,"phone":"+86 138-0013-8000"}]}`, key), 200, `"status":"stored","matched":true`)
		tierDMs := func() int {
			return commerceCount(t, e, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND member_id = $2 AND idem_key LIKE 'tier:%'`, b.Tenant.ID, fanID)
		}
		if n := tierDMs(); n != 1 {
			t.Fatalf("%d tier messages; want 1", n)
		}
		must(t, fan.Get("/m/"+b.Tenant.Slug+"/tier"), 200, `data-tier>银卡<`, "5% off", "350.00")
		must(t, op.Get(fmt.Sprintf("/console/members/%d", fanID)), 200, `data-member-tier>银卡<`, `data-spend>350.00<`, "S-4")

		refunds := "/api/shop/" + b.Tenant.Slug + "/refunds"
		must(t, shopSigned(e, refunds, `{"refunds":[{"id":"R1","order_id":"S-1","amount":10000},{"id":"R2","order_id":"S-1","amount":20000},
			{"id":"R3","order_id":"nope","amount":1}]}`, key), 200,
			`{"id":"R1","status":"stored"}`, `{"id":"R2","status":"error","error":"the refund is above what is left of the order (15000 left, 20000 asked)"}`,
			`{"id":"R3","status":"error","error":"no such order"}`)
		must(t, shopSigned(e, refunds, `{"refunds":[{"id":"R1","order_id":"S-1","amount":10000}]}`, key), 200, `"status":"duplicate"`)
		// The refund took the spend to 250: back to the base tier, told once more.
		must(t, fan.Get("/m/"+b.Tenant.Slug+"/tier"), 200, `data-tier>普通<`)
		if n := tierDMs(); n != 2 {
			t.Fatalf("%d tier messages after the downgrade; want 2", n)
		}

		// The tier messages are delivered (as direct_message events) by the
		// outbox whenever it gets to them: count everything else.
		before := commerceCount(t, e, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type <> 'direct_message'`, b.Tenant.ID)
		one := `{"orders":[{"id":"X","amount":1}]}`
		must(t, shopSigned(e, orders, one, "wrong-key"), http.StatusUnauthorized, "bad_signature")
		must(t, e.Client().Do(http.MethodPost, orders, strings.NewReader(one), nil), http.StatusUnauthorized)
		must(t, shopSigned(e, orders, `{"orders":[`+strings.Repeat(`{"id":"Y","amount":1},`, 50_000)+`{"id":"Z","amount":1}]}`, key), http.StatusRequestEntityTooLarge)
		must(t, shopSigned(e, orders, `{"orders":[{"id":"X","amount":"ten"}]}`, key), http.StatusBadRequest, "bad_json")
		must(t, shopSigned(e, orders, `{"orders":`, key), http.StatusBadRequest, "bad_json")
		must(t, shopSigned(e, orders, `{"orders":[]}`, key), http.StatusBadRequest, "empty")
		must(t, shopSigned(e, "/api/shop/no-such-brand/orders", one, key), http.StatusNotFound)
		other := e.Brand("othershop")
		must(t, shopSigned(e, "/api/shop/"+other.Tenant.Slug+"/orders", one, key), http.StatusUnauthorized) // one brand's key opens no other
		if after := commerceCount(t, e, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type <> 'direct_message'`, b.Tenant.ID); after != before {
			t.Fatalf("refused requests stored %d events", after-before)
		}
	})
}

func uploadOrders(c *apptest.Client, csrf string, fields map[string]string, file []byte) apptest.Response {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		mw.WriteField("csrf", csrf)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "orders.csv")
		fw.Write(file)
	}
	mw.Close()
	return c.Do(http.MethodPost, "/console/orders/import", &buf, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// The console's import: the report lists bad rows, valid ones are
// imported, a second upload finds duplicates; wrong columns, a missing
// CSRF token and an oversized file are refused.
func TestConsoleOrdersImport(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, _, fanID, _ := commerceBrand(t, e, "consoleimp")
		file := []byte("order_id,paid_at,amount,phone,sku,name,qty,price\n" +
			"C1,2026-01-02 10:00,88.00,13800138000,TEA,乌龙,1,88.00\n" +
			"<b>C2</b>,2026-01-02 11:00,-3.00,,TEA,乌龙,1,3.00\n" +
			"C3,2026-01-03,20.00,,CUP,杯,2,10.00\n")
		r := uploadOrders(op, op.CSRF, map[string]string{"mapping": "generic", "encoding": "auto"}, file)
		must(t, r, 200, `data-imported>2<`, `data-matched>1<`, `data-errors>1<`, "negative amount", "&lt;b&gt;C2")
		must(t, uploadOrders(op, op.CSRF, map[string]string{"mapping": "generic"}, file), 200, `data-imported>0<`, `data-duplicates>2<`)
		must(t, op.Get(fmt.Sprintf("/console/members/%d", fanID)), 200, `data-spend>88.00<`)
		must(t, uploadOrders(op, op.CSRF, map[string]string{"mapping": "shopify"}, file), http.StatusBadRequest, "lacks the column(s)", `&#34;Paid at&#34;`)
		must(t, uploadOrders(op, "", map[string]string{"mapping": "generic"}, file), http.StatusForbidden)
		must(t, uploadOrders(op, op.CSRF, map[string]string{"mapping": "generic"}, nil), http.StatusBadRequest)
		must(t, uploadOrders(op, op.CSRF, map[string]string{"mapping": "generic"}, bytes.Repeat([]byte("x"), 10<<20+100<<10)), http.StatusRequestEntityTooLarge)
		if n := commerceCount(t, e, `SELECT COUNT(*) FROM orders WHERE tenant_id = $1`, b.Tenant.ID); n != 2 {
			t.Fatalf("%d orders", n)
		}
		must(t, op.Get("/console/orders?unmatched=1"), 200, "C3")
		must(t, op.PostForm("/console/orders/rematch", nil), http.StatusSeeOther)

		// Products: bad input is refused with its reasons; then unknown SKUs are.
		must(t, op.PostForm("/console/products", url.Values{"sku": {"has space"}, "name": {""}, "price": {"-1"}}), http.StatusBadRequest,
			"SKU must be at most 64 characters without spaces", "name is empty", "price must be zero or more")
		must(t, op.PostForm("/console/products", url.Values{"sku": {"TEA"}, "name": {"乌龙"}, "price": {"88.00"}}), http.StatusSeeOther)
		must(t, op.PostForm("/console/products", url.Values{"sku": {"TEA"}, "name": {"again"}, "price": {"1"}}), http.StatusConflict, "another product has the SKU TEA")
		list := op.Get("/console/products")
		must(t, list, 200, "<code>TEA</code>", "88.00")
		pid := regexp.MustCompile(`/console/products/(\d+)`).FindStringSubmatch(list.Body)[1]
		must(t, op.PostForm("/console/products/"+pid, url.Values{"sku": {"TEA"}, "name": {"乌龙 2"}, "price": {"90"}}), http.StatusSeeOther)
		must(t, op.Get("/console/products/"+pid), 200, `value="乌龙 2"`, `value="90.00"`)
		r = uploadOrders(op, op.CSRF, map[string]string{"mapping": "generic"}, []byte("order_id,paid_at,amount,sku\nC9,2026-01-05,1.00,MYSTERY\n"))
		must(t, r, 200, `data-imported>0<`, "unknown SKU &#34;MYSTERY&#34;")
	})
}
