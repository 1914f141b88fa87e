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

// TestBrowserFlashSale: in a real browser a member on the chat page sees
// the flash sale's countdown with the button disabled; the button enables
// at the start (the page's clock, from the server's); the member claims,
// sees the confirmation and the stock fall; another member's page sees the
// stock change live.
func TestBrowserFlashSale(t *testing.T) {
	root := browser(t)
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("browserflash")
	start := time.Now().Add(12 * time.Second)
	if _, err := e.App.Sales.CreateFlash(context.Background(), sale.Flash{TenantID: b.Tenant.ID, Name: "限量面霜", PriceMinor: 9900,
		OriginalMinor: 19900, Stock: 5, StartsAt: start, Groups: []int64{b.Group.ID}}); err != nil {
		t.Fatal(err)
	}
	join := func(name string) context.Context {
		ctx := tab(t, root)
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.URL+"/j/"+b.JoinCode.Code),
			chromedp.WaitVisible(`input[name=name]`),
			chromedp.SetValue(`input[name=name]`, name),
			chromedp.Submit(`input[name=name]`),
			chromedp.WaitVisible(`[data-flash]`),
			wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
		)
		if err != nil {
			t.Fatalf("%s joins: %v\n%s", name, err, dump(t, ctx))
		}
		return ctx
	}
	buyer := join("抢购达人")
	watcher := join("围观群众")
	// Before the start: a running countdown and a disabled button.
	err := chromedp.Do(buyer,
		wait(`!document.querySelector('[data-flash-countdown]').hidden`),
		wait(`/^\d\d:\d\d$/.test(document.querySelector('[data-flash-clock]').textContent)`),
		wait(`document.querySelector('[data-flash-button]').disabled`),
		wait(`document.querySelector('[data-flash-left]').textContent === '5 left'`),
	)
	if err != nil {
		t.Fatalf("before the start: %v\n%s", err, dump(t, buyer))
	}
	if time.Now().After(start) {
		t.Skip("the machine was too slow to see the page before the start")
	}
	// At the start the button enables; a claim is confirmed.
	err = chromedp.Do(buyer,
		wait(`!document.querySelector('[data-flash-button]').disabled`),
		chromedp.Click(`[data-flash-button]`),
		wait(`!document.querySelector('[data-flash-done]').hidden`),
		wait(`document.querySelector('[data-flash-left]').textContent === '4 left'`),
		wait(`document.querySelector('[data-flash-error]').hidden`),
	)
	if err != nil {
		t.Fatalf("claim: %v\n%s", err, dump(t, buyer))
	}
	if time.Now().Before(start) {
		t.Fatal("the button enabled before the start")
	}
	// The other member sees the stock fall.
	if err := chromedp.Do(watcher, wait(`document.querySelector('[data-flash-left]').textContent === '4 left'`)); err != nil {
		t.Fatalf("watcher: %v\n%s", err, dump(t, watcher))
	}
	// A second claim is refused with the reason (the limit is one).
	err = chromedp.Do(buyer,
		chromedp.Click(`[data-flash-button]`),
		wait(`document.querySelector('[data-flash-error]').textContent.includes('limit')`),
	)
	if err != nil {
		t.Fatalf("second claim: %v\n%s", err, dump(t, buyer))
	}
}
