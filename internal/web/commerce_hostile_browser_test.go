package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
)

// Hostile text (the members' display names, an order id, SKUs and line
// names from the shop, an operator's tier, coupon, campaign and chain
// names, a chain's option labels) in a real browser through the pages of
// #7: the member's coupons, tier and invite pages, the invite landing,
// the chain card on the chat (rendered by the server, then redrawn by
// sale.js from a live frame), and the console's orders, members, tiers,
// coupons, referral and sales pages. Each page must show the text as text:
// no dialog (tab fails the test on one), no element the text tried to
// inject, no inline script.
func TestBrowserHostileCommerceText(t *testing.T) {
	root := browser(t)
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("hostile7")
	slug := b.Tenant.Slug
	ctx := context.Background()
	const (
		nameA    = `<img src=x onerror=alert(1) data-pwn>`   // a member (≤ 40)
		nameB    = `"><script>alert(2)</script><b data-pwn>` // the invitee
		optA     = `<svg onload=alert(3) data-pwn>`          // a chain option (≤ 30)
		optB     = `"><i data-pwn>x</i>`                     // another option
		tierName = `<b data-pwn>金</b>`                       // ≤ 30
		batch    = `<img src=x onerror=alert(4) data-pwn>券`
		campName = `"><img src=x onerror=alert(5) data-pwn>`
		chain    = `<script>alert(6)</script><u data-pwn>接龙</u>`
		orderID  = `<img src=x onerror=alert(7) data-pwn>`
		sku      = `"><svg data-pwn onload=alert(8)>`
		line     = `<iframe data-pwn src=javascript:alert(9)>`
	)

	// Console setup through its forms (HTTP).
	op := e.Client()
	op.Login(b)
	r := op.PostForm("/console/coupons", url.Values{"name": {batch}, "kind": {"amount"}, "amount": {"5"}, "valid_days": {"30"},
		"stock": {"10"}, "per_member": {"1"}})
	must(t, r, http.StatusSeeOther)
	batchURL := r.Header.Get("Location")
	batchID := strings.TrimPrefix(batchURL, "/console/coupons/")
	must(t, op.PostForm("/console/tiers", url.Values{"name": {"普通"}, "rank": {"0"}, "basis": {"spend"}, "threshold": {"0"}, "window_days": {"365"}}), http.StatusSeeOther)
	r = op.PostForm("/console/tiers", url.Values{"name": {tierName}, "rank": {"1"}, "basis": {"spend"}, "threshold": {"1.00"},
		"window_days": {"365"}, "coupon_batch_ids": {batchID}})
	must(t, r, http.StatusSeeOther)
	var tierID int64
	if err := e.App.DB.R.QueryRow(`SELECT id FROM tiers WHERE tenant_id = $1 AND rank = 1`, b.Tenant.ID).Scan(&tierID); err != nil {
		t.Fatal(err)
	}
	loc := b.Tenant.Location()
	now := time.Now()
	r = op.PostForm("/console/referrals", url.Values{"name": {campName}, "target": {fmt.Sprintf("group:%d", b.Group.ID)}, "stay_days": {"0"},
		"starts_at": {now.Add(-time.Hour).In(loc).Format("2006-01-02T15:04")}, "ends_at": {now.Add(48 * time.Hour).In(loc).Format("2006-01-02T15:04")},
		"threshold_1": {"1"}, "points_1": {"5"}, "gift_1": {nameA}})
	must(t, r, http.StatusSeeOther)
	campURL := r.Header.Get("Location")
	r = op.PostForm("/console/sales/chains", url.Values{"group": {fmt.Sprint(b.Group.ID)}, "title": {chain},
		"options": {optA + " 19.90\n" + optB + " 29"}, "closes_at": {now.Add(24 * time.Hour).In(loc).Format("2006-01-02T15:04")}})
	must(t, r, http.StatusSeeOther)
	chainURL := r.Header.Get("Location")

	// Member A joins in a browser with a hostile name.
	fanA := tab(t, root)
	err := chromedp.Do(fanA,
		chromedp.Navigate(e.URL+"/j/"+b.JoinCode.Code),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SetValue(`input[name=name]`, nameA),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`[data-chain]`),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
	)
	if err != nil {
		t.Fatalf("member A joins: %v\n%s", err, dump(t, fanA))
	}
	aID := memberIDOf(t, e, b, nameA)
	if err := e.App.Members.UpdateContact(ctx, member.Member{TenantID: b.Tenant.ID, ID: aID, DisplayName: nameA, Phone: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	// A joins the chain with the first (hostile) option: the card's list
	// is redrawn from the live frame.
	err = chromedp.Do(fanA,
		chromedp.Click(`[data-chain-option="1"]`),
		wait(`document.querySelector('[data-chain-lines]').textContent.includes(`+jsString(nameA+" "+optA)+`)`),
	)
	if err != nil {
		t.Fatalf("member A joins the chain: %v\n%s", err, dump(t, fanA))
	}
	inert(t, fanA, "")

	// A's order from the shop, with a hostile order id, SKU and line name:
	// A moves up to the hostile tier and gets its coupon bundle.
	k := hmac.New(sha256.New, e.App.Web.MemberKey)
	fmt.Fprintf(k, "shop-api:%d", b.Tenant.ID)
	key := hex.EncodeToString(k.Sum(nil))
	body := fmt.Sprintf(`{"orders":[{"id":%s,"amount":2000,"phone":"13800138000","lines":[{"sku":%s,"name":%s,"qty":1,"price":2000}]}]}`,
		jsString(orderID), jsString(sku), jsString(line))
	must(t, shopSigned(e, "/api/shop/"+slug+"/orders", body, key), 200, `"matched":true`)

	// A's invite link; B opens it (A's name on the landing) and joins.
	var invite string
	err = chromedp.Do(fanA,
		chromedp.Navigate(e.URL+"/m/"+slug+"/invite"),
		chromedp.WaitVisible(`[data-invite-url]`),
	)
	if err == nil {
		invite, err = chromedp.Run(fanA, chromedp.Evaluate[string](`document.querySelector('[data-invite-url]').value`))
	}
	if err != nil || !strings.Contains(invite, "/r/") {
		t.Fatalf("invite link %q: %v\n%s", invite, err, dump(t, fanA))
	}
	fanB := tab(t, root)
	inert(t, fanB, invite, nameA)
	err = chromedp.Do(fanB,
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SetValue(`input[name=name]`, nameB),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`[data-chain]`),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
	)
	if err != nil {
		t.Fatalf("member B joins: %v\n%s", err, dump(t, fanB))
	}
	// B takes the second option; A's card, open on the chat, redraws the
	// list from the frame with B's name and label.
	err = chromedp.Do(fanA, chromedp.Navigate(e.URL+fmt.Sprintf("/m/%s/g/%d", slug, b.Group.ID)), chromedp.WaitVisible(`[data-chain]`),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`))
	if err != nil {
		t.Fatalf("A back on the chat: %v\n%s", err, dump(t, fanA))
	}
	err = chromedp.Do(fanB,
		chromedp.Click(`[data-chain-option="2"]`),
		wait(`document.querySelector('[data-chain-lines]').textContent.includes(`+jsString(nameB+" "+optB)+`)`),
	)
	if err != nil {
		t.Fatalf("member B joins the chain: %v\n%s", err, dump(t, fanB))
	}
	if err := chromedp.Do(fanA, wait(`document.querySelector('[data-chain-lines]').textContent.includes(`+jsString(nameB+" "+optB)+`)`)); err != nil {
		t.Fatalf("A's card is not redrawn with B's line: %v\n%s", err, dump(t, fanA))
	}
	inert(t, fanA, "", nameA, nameB, optA, optB, chain)
	inert(t, fanB, "", nameA, nameB, optA, optB, chain)

	if _, err := e.App.Referral.Settle(ctx); err != nil {
		t.Fatal(err)
	}

	// The member's pages.
	inert(t, fanA, e.URL+"/m/"+slug+"/coupons", batch)
	inert(t, fanA, e.URL+"/m/"+slug+"/tier", tierName)
	inert(t, fanA, e.URL+"/m/"+slug+"/invite", campName, nameA, nameB)
	inert(t, fanA, e.URL+"/m/"+slug, nameA)

	// The console's pages, in a logged-in browser.
	opTab := tab(t, root)
	err = chromedp.Do(opTab,
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(`input[name=tenant]`, slug),
		chromedp.SendKeys(`input[name=email]`, b.Staff.Email),
		chromedp.SendKeys(`input[name=password]`, b.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`header.top nav`),
	)
	if err != nil {
		t.Fatalf("operator logs in: %v\n%s", err, dump(t, opTab))
	}
	inert(t, opTab, e.URL+"/console/orders", orderID)
	inert(t, opTab, e.URL+"/console/members", nameA, nameB)
	inert(t, opTab, e.URL+fmt.Sprintf("/console/members/%d", aID), nameA, orderID, tierName)
	inert(t, opTab, e.URL+"/console/tiers", tierName)
	inert(t, opTab, e.URL+fmt.Sprintf("/console/tiers/%d", tierID), tierName, nameA)
	inert(t, opTab, e.URL+"/console/coupons", batch)
	inert(t, opTab, e.URL+batchURL, batch, nameA)
	inert(t, opTab, e.URL+"/console/referrals", campName)
	inert(t, opTab, e.URL+campURL, campName, nameA, nameB)
	inert(t, opTab, e.URL+"/console/sales", chain)
	inert(t, opTab, e.URL+chainURL, chain, nameA, nameB, optA, optB)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r < 0x20 || r == '<' || r == '>':
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// inert opens path in the tab ("" stays on the page), waits until every
// text shows as text, and fails if the page holds an element the hostile
// text tried to inject (data-pwn) or an inline script.
func inert(t *testing.T, ctx context.Context, path string, texts ...string) {
	t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	if path != "" {
		acts = append(acts, chromedp.Navigate(path), wait(`document.readyState === 'complete'`))
	}
	for _, s := range texts {
		acts = append(acts, wait(`document.body.textContent.includes(`+jsString(s)+`)`))
	}
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, dump(t, ctx))
	}
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-pwn], iframe')].map(e => e.outerHTML)
		.concat([...document.scripts].filter(s => !s.src).map(s => 'inline script: ' + s.textContent)).join('\n')`))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if bad != "" {
		t.Fatalf("%s: hostile text became markup:\n%s", path, bad)
	}
}
