package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
)

// Orders and tiers in a real browser: the operator sets up a tier ladder,
// uploads a GBK export with a hostile order id (the report shows it as
// text) and the member who bought sees their new tier and the way to the
// next.
func TestBrowserOrdersAndTier(t *testing.T) {
	root := browser(t)
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("shopui")

	fan := tab(t, root)
	err := chromedp.Do(fan,
		chromedp.Navigate(e.URL+"/j/"+b.JoinCode.Code),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "小美"),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`[data-composer] textarea`),
	)
	if err != nil {
		t.Fatalf("member joins: %v\n%s", err, dump(t, fan))
	}
	var fanID int64
	if err := e.App.DB.R.QueryRow(`SELECT id FROM members WHERE tenant_id = $1 AND display_name = '小美'`, b.Tenant.ID).Scan(&fanID); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Members.UpdateContact(context.Background(), member.Member{TenantID: b.Tenant.ID, ID: fanID, DisplayName: "小美", Phone: "138 0013 8000"}); err != nil {
		t.Fatal(err)
	}

	text := "order_id,paid_at,amount,phone,name,qty,price\n" +
		"W1,2026-11-01 10:00,600.00,+8613800138000,修护精华,2,300.00\n" +
		"<img src=x onerror=alert(1)>,2026-11-01 10:00,-1.00,,面膜,1,1.00\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "orders-gbk.csv")
	os.WriteFile(file, []byte(gbk), 0o600)

	op := tab(t, root)
	err = chromedp.Do(op,
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(`input[name=tenant]`, b.Tenant.Slug),
		chromedp.SendKeys(`input[name=email]`, b.Staff.Email),
		chromedp.SendKeys(`input[name=password]`, b.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`header.top nav`),
		chromedp.Navigate(e.URL+"/console/tiers"),
		chromedp.SetValue(`#new-tier input[name=name]`, "普通"),
		chromedp.Submit(`#new-tier input[name=name]`),
		chromedp.WaitVisible(`#new-tier input[name=rank][value="1"]`),
		chromedp.SetValue(`#new-tier input[name=name]`, "银卡"),
		chromedp.SetValue(`#new-tier input[name=threshold]`, "500.00"),
		chromedp.SetValue(`#new-tier input[name=discount_pct]`, "5"),
		chromedp.Submit(`#new-tier input[name=name]`),
		chromedp.WaitVisible(`#new-tier input[name=rank][value="2"]`),
		chromedp.Navigate(e.URL+"/console/orders"),
		chromedp.SetUploadFiles(`input[name=file]`, []string{file}),
		chromedp.SetValue(`select[name=mapping]`, "generic"),
		chromedp.Submit(`input[name=file]`),
		chromedp.WaitVisible(`[data-report]`),
		wait(`document.querySelector('[data-imported]').textContent === '1'`),
		wait(`document.querySelector('[data-matched]').textContent === '1'`),
		wait(hasText(`[data-problems] td`, `<img src=x onerror=alert(1)>`)),
		wait(`[...document.querySelectorAll('[data-problems] td')].some(e => e.textContent.includes('negative amount'))`),
		wait(`document.querySelectorAll('[data-problems] img').length === 0`),
	)
	if err != nil {
		t.Fatalf("operator: %v\n%s", err, dump(t, op))
	}
	err = chromedp.Do(fan,
		chromedp.Navigate(e.URL+"/m/"+b.Tenant.Slug),
		chromedp.Click(`[data-tier-link]`),
		chromedp.WaitVisible(`[data-tier]`),
		wait(`document.querySelector('[data-tier]').textContent === '银卡'`),
		wait(`document.querySelector('[data-benefits]').textContent.includes('5% off')`),
	)
	if err != nil {
		t.Fatalf("member's tier page: %v\n%s", err, dump(t, fan))
	}
}
