package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
)

// TestBrowserChainCard: in a real browser a double click on a chain
// card's join button adds one line (the form's one-time id is renewed
// only once the server answered), a later click a second one; hostile
// option labels and member names show as text in the live list.
func TestBrowserChainCard(t *testing.T) {
	root := browser(t)
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("browserchain")
	const label = `<img src=x onerror=alert(1)>`
	c, err := e.App.Runner.StartChain(context.Background(), sale.Chain{TenantID: b.Tenant.ID, GroupID: b.Group.ID, Title: "<b>团</b>",
		Options: []sale.Option{{Label: label, PriceMinor: 1000}, {Label: "蓝色", PriceMinor: 2000}}, MaxQty: 5, ClosesAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := tab(t, root)
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/j/"+b.JoinCode.Code),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SetValue(`input[name=name]`, `<i>手</i>`),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`[data-chain]`),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
	)
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){ var b = document.querySelector('[data-chain-option="1"]'); b.click(); b.click(); return true; })()`))
	}
	if err == nil {
		err = chromedp.Do(ctx, wait(`document.querySelectorAll('[data-chain-lines] li').length === 1`))
	}
	if err != nil {
		t.Fatalf("double click: %v\n%s", err, dump(t, ctx))
	}
	lines := func() int {
		var n int
		if err := e.App.DB.R.QueryRow(`SELECT COUNT(*) FROM chain_lines WHERE chain_id = $1`, c.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	time.Sleep(500 * time.Millisecond) // both requests answered
	if n := lines(); n != 1 {
		t.Fatalf("a double click made %d lines", n)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-chain-option="1"]`),
		wait(`document.querySelectorAll('[data-chain-lines] li').length === 2`),
		wait(`document.querySelector('[data-chain-lines] li').textContent.includes('<img src=x')`),
		wait(`document.querySelector('[data-chain-lines] li').textContent.includes('<i>手</i>')`),
		wait(`document.querySelector('[data-chain] img, [data-chain] i, [data-chain] h2 b') === null`),
	)
	if err != nil {
		t.Fatalf("second click: %v\n%s", err, dump(t, ctx))
	}
	if n := lines(); n != 2 {
		t.Fatalf("%d lines after two separate clicks", n)
	}
	// Without a working fetch the card falls back to a plain submit, which
	// keeps the option clicked.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){ window.fetch = function () { return Promise.reject(new Error("offline")); }; document.querySelector('[data-chain-option="2"]').click(); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	var opt int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && opt == 0; time.Sleep(100 * time.Millisecond) {
		e.App.DB.R.QueryRow(`SELECT option_no FROM chain_lines WHERE chain_id = $1 AND seq = 3`, c.ID).Scan(&opt)
	}
	if opt != 2 {
		t.Fatalf("the plain submit joined option %d, want 2", opt)
	}
}
