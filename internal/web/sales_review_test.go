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
	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
)

// TestChainCardDoubleSubmit: the chat card's join and cancel forms carry a
// one-time id made with the page, so the same form sent twice (a double
// click, a browser resend) adds one line and cancels one line.
func TestChainCardDoubleSubmit(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("double")
	op := e.Client()
	op.Login(b)
	r := op.PostForm("/console/sales/chains", url.Values{"group": {fmt.Sprint(b.Group.ID)}, "title": {"双击"},
		"options": {"红色 100"}, "max_qty": {"5"}, "closes_at": {localInput(b, time.Now().Add(time.Hour))}})
	must(t, r, http.StatusSeeOther)
	var id int64
	fmt.Sscanf(r.Header.Get("Location"), "/console/sales/chains/%d", &id)

	m := e.Client()
	chat := m.Join(b.JoinCode.Code, "双击手")
	onceOf := func(action string) string {
		t.Helper()
		page := m.Get(chat)
		re := regexp.MustCompile(fmt.Sprintf(`action="[^"]*/chains/%d/%s"[^>]*>\s*<input type="hidden" name="once" value="([^"]*)"`, id, action))
		got := re.FindStringSubmatch(page.Body)
		if got == nil || len(got[1]) < 8 {
			t.Fatalf("the %s form has no one-time id: %v", action, got)
		}
		return got[1]
	}
	lines := func() int {
		var n int
		if err := e.App.DB.R.QueryRow(`SELECT COUNT(*) FROM chain_lines WHERE chain_id = $1 AND cancelled_at = 0`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	join := url.Values{"option": {"1"}, "qty": {"1"}, "once": {onceOf("join")}}
	must(t, m.PostForm(chat+fmt.Sprintf("/chains/%d/join", id), join), http.StatusSeeOther)
	must(t, m.PostForm(chat+fmt.Sprintf("/chains/%d/join", id), join), http.StatusSeeOther)
	if n := lines(); n != 1 {
		t.Fatalf("one form sent twice made %d lines", n)
	}
	// A new page, a new id: a second line on purpose.
	must(t, m.PostForm(chat+fmt.Sprintf("/chains/%d/join", id), url.Values{"option": {"1"}, "once": {onceOf("join")}}), http.StatusSeeOther)
	if n := lines(); n != 2 {
		t.Fatalf("%d lines after a second join", n)
	}
	cancel := url.Values{"once": {onceOf("cancel")}}
	must(t, postJSON(m, chat+fmt.Sprintf("/chains/%d/cancel", id), cancel), http.StatusOK)
	must(t, postJSON(m, chat+fmt.Sprintf("/chains/%d/cancel", id), cancel), http.StatusConflict)
	if n := lines(); n != 1 {
		t.Fatalf("one cancel form sent twice left %d lines", n)
	}
}

// TestFlashOtherBrandPersona: a flash sale naming another brand's persona
// is refused (400, nothing stored), as a chain order is.
func TestFlashOtherBrandPersona(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	b, rival := e.Brand("flashp"), e.Brand("flashrival")
	p, err := e.App.Bot.SavePersona(context.Background(), rival.Tenant.ID, bot.Persona{Name: "对手小助手", Role: bot.RoleHost})
	if err != nil {
		t.Fatal(err)
	}
	op := e.Client()
	op.Login(b)
	form := url.Values{"name": {"口红"}, "price": {"99"}, "stock": {"5"}, "groups": {fmt.Sprint(b.Group.ID)},
		"starts_at": {localInput(b, time.Now().Add(time.Hour))}, "persona": {fmt.Sprint(p.ID)}}
	must(t, op.PostForm("/console/sales/flash", form), http.StatusBadRequest, "persona")
	var n int
	if err := e.App.DB.R.QueryRow(`SELECT COUNT(*) FROM flash_sales WHERE tenant_id = $1`, b.Tenant.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d flash sales stored: %v", n, err)
	}
	form.Set("persona", "0")
	must(t, op.PostForm("/console/sales/flash", form), http.StatusSeeOther)
}

// TestChainCardOversized: a join or cancel whose body is over the form
// limit is refused as too large and adds or cancels nothing (it used to
// read as an empty form: one line of the first option).
func TestChainCardOversized(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("bigbody")
	op := e.Client()
	op.Login(b)
	r := op.PostForm("/console/sales/chains", url.Values{"group": {fmt.Sprint(b.Group.ID)}, "title": {"大包"},
		"options": {"红色 100"}, "closes_at": {localInput(b, time.Now().Add(time.Hour))}})
	must(t, r, http.StatusSeeOther)
	var id int64
	fmt.Sscanf(r.Header.Get("Location"), "/console/sales/chains/%d", &id)
	m := e.Client()
	chat := m.Join(b.JoinCode.Code, "大包手")
	big := url.Values{"option": {"1"}, "once": {"big-once-0001"}, "pad": {strings.Repeat("x", 200<<10)}}
	must(t, postJSON(m, chat+fmt.Sprintf("/chains/%d/join", id), big), http.StatusRequestEntityTooLarge)
	var n int
	if err := e.App.DB.R.QueryRow(`SELECT COUNT(*) FROM chain_lines WHERE chain_id = $1`, id).Scan(&n); err != nil || n != 0 {
		t.Fatalf("an oversized join stored %d lines: %v", n, err)
	}
	must(t, postJSON(m, chat+fmt.Sprintf("/chains/%d/join", id), url.Values{"option": {"1"}, "once": {"small-once-01"}}), http.StatusOK)
	must(t, postJSON(m, chat+fmt.Sprintf("/chains/%d/cancel", id), big), http.StatusRequestEntityTooLarge)
	if err := e.App.DB.R.QueryRow(`SELECT COUNT(*) FROM chain_lines WHERE chain_id = $1 AND cancelled_at = 0`, id).Scan(&n); err != nil || n != 1 {
		t.Fatalf("an oversized cancel left %d lines: %v", n, err)
	}
}

// TestSalesMemberTenantIsolation: a member's sales routes with another
// brand's flash sale, chain, presale or re-sale id are 404, and nothing is
// written.
func TestSalesMemberTenantIsolation(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	ctx := context.Background()
	b, rival := e.Brand("mine"), e.Brand("theirs")
	f, err := e.App.Sales.CreateFlash(ctx, sale.Flash{TenantID: rival.Tenant.ID, Name: "对手", PriceMinor: 100, Stock: 5, Groups: []int64{rival.Group.ID}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.App.Runner.StartChain(ctx, sale.Chain{TenantID: rival.Tenant.ID, GroupID: rival.Group.ID, Title: "对手团",
		Options: []sale.Option{{Label: "A", PriceMinor: 100}}, MaxQty: 5, ClosesAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.App.Sales.CreatePresale(ctx, sale.Presale{TenantID: rival.Tenant.ID, Name: "对手预售", PriceMinor: 100, OpensAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	m := e.Client()
	chat := m.Join(b.JoinCode.Code, "越界者")
	once := url.Values{"option": {"1"}, "once": {"cross-once-01"}}
	must(t, postJSON(m, chat+fmt.Sprintf("/flash/%d/claim", f.ID), once), http.StatusNotFound)
	must(t, postJSON(m, chat+fmt.Sprintf("/chains/%d/join", c.ID), once), http.StatusNotFound)
	must(t, postJSON(m, chat+fmt.Sprintf("/chains/%d/cancel", c.ID), once), http.StatusNotFound)
	must(t, m.PostForm(fmt.Sprintf("/m/%s/presales/%d/reserve", b.Tenant.Slug, p.ID), nil), http.StatusNotFound)
	// The rival's group under this brand's path is not found either.
	must(t, postJSON(m, fmt.Sprintf("/m/%s/g/%d/chains/%d/join", b.Tenant.Slug, rival.Group.ID, c.ID), once), http.StatusNotFound)
	var n int
	if err := e.App.DB.R.QueryRow(`SELECT (SELECT COUNT(*) FROM flash_claims) + (SELECT COUNT(*) FROM chain_lines) + (SELECT COUNT(*) FROM presale_reservations)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows written across brands: %v", n, err)
	}
}
