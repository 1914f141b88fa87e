package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/sale"
)

// postJSON posts a form as the chat page's script does (asking for JSON).
func postJSON(c *apptest.Client, path string, form url.Values) apptest.Response {
	return c.Do(http.MethodPost, path, strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}})
}

type saleFrame struct {
	Type  string `json:"type"`
	Flash *struct {
		ID    int64  `json:"id"`
		Left  int64  `json:"left"`
		State string `json:"state"`
	} `json:"flash"`
	Chain *struct {
		ID           int64 `json:"id"`
		Participants int64 `json:"participants"`
		Lines        []struct {
			Pos  int    `json:"pos"`
			Name string `json:"name"`
		} `json:"lines"`
	} `json:"chain"`
}

func readSale(t *testing.T, c *websocket.Conn, what string, ok func(saleFrame) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		var f saleFrame
		if json.Unmarshal(b, &f) == nil && ok(f) {
			return
		}
	}
}

// waitCount polls a count until it reaches want (the runner works in the
// background).
func waitCount(t *testing.T, e *apptest.Env, want int, q string, args ...any) {
	t.Helper()
	var n int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := e.App.DB.R.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= want {
			break
		}
	}
	if n != want {
		t.Fatalf("%d, want %d: %s", n, want, q)
	}
}

func localInput(b apptest.Brand, t time.Time) string {
	return t.In(b.Tenant.Location()).Format("2006-01-02T15:04")
}

func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestFlashSaleWeb: the operator creates a flash sale in the console; a
// claim before the start is refused with the countdown; members claim
// from the chat card, one each, within the stock; another member's page
// sees the stock fall live; the result is posted once; the winners export.
func TestFlashSaleWeb(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("flash")
		op := e.Client()
		op.Login(b)
		must(t, op.Get("/console/sales"), 200, "/console/sales/flash", `name="csrf"`)
		must(t, op.PostForm("/console/sales/flash", url.Values{"name": {"面霜"}, "price": {"99"}, "stock": {"0"},
			"groups": {fmt.Sprint(b.Group.ID)}, "starts_at": {localInput(b, time.Now().Add(time.Hour))}}), http.StatusBadRequest, "stock must be 1")
		start := time.Now().Add(2 * time.Hour)
		r := op.PostForm("/console/sales/flash", url.Values{"name": {"玫瑰面霜"}, "price": {"99.00"}, "original": {"199"}, "stock": {"2"},
			"groups": {fmt.Sprint(b.Group.ID)}, "starts_at": {localInput(b, start)}, "countdown_min": {"0"}, "keyword": {"秒杀, grab"}})
		must(t, r, http.StatusSeeOther)
		var id int64
		fmt.Sscanf(r.Header.Get("Location"), "/console/sales/flash/%d", &id)

		members := make([]*apptest.Client, 3)
		chats := make([]string, 3)
		for i := range members {
			members[i] = e.Client()
			chats[i] = members[i].Join(b.JoinCode.Code, fmt.Sprintf("买家%d", i))
		}
		must(t, members[0].Get(chats[0]), 200, fmt.Sprintf(`data-flash="%d"`, id), "玫瑰面霜", "¥99.00", "¥199.00", "2 left", "/static/sale.js")
		claim := func(i int) apptest.Response {
			return postJSON(members[i], chats[i]+fmt.Sprintf("/flash/%d/claim", id), nil)
		}
		must(t, claim(0), http.StatusConflict, "starts in")

		ws, _, err := members[2].Dial(context.Background(), chats[2]+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		e.App.Sales.SetClock(func() time.Time { return start.Add(time.Second) })
		defer e.App.Sales.SetClock(time.Now)
		must(t, claim(0), 200, `"seq":1`, `"left":1`)
		readSale(t, ws, "stock 1", func(f saleFrame) bool { return f.Type == "flash" && f.Flash.ID == id && f.Flash.Left == 1 })
		must(t, claim(0), http.StatusConflict, "your limit")
		must(t, claim(1), 200, `"seq":2`)
		readSale(t, ws, "sold out", func(f saleFrame) bool { return f.Type == "flash" && f.Flash.Left == 0 && f.Flash.State == "soldout" })
		must(t, claim(2), http.StatusConflict, "sold out")
		stranger := e.Client()
		stranger.Join(b.JoinCode.Code, "路人")
		must(t, postJSON(stranger, fmt.Sprintf("/m/%s/g/%d/flash/%d/claim", b.Tenant.Slug, b.Group.ID+999, id), nil), http.StatusNotFound)

		// Each winner is told privately; the result goes to the group once.
		waitCount(t, e, 2, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key LIKE $2`, b.Tenant.ID, fmt.Sprintf("flash:%d:claim:%%", id))
		waitCount(t, e, 1, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key = $2`, b.Tenant.ID, fmt.Sprintf("flash:%d:result:%d", id, b.Group.ID))
		must(t, op.Get(fmt.Sprintf("/console/sales/flash/%d", id)), 200, "买家0", "买家1", "2 / 2")
		csvResp := op.Get(fmt.Sprintf("/console/sales/flash/%d/claims.csv", id))
		must(t, csvResp, 200)
		rows := readCSV(t, csvResp.Body)
		if len(rows) != 3 || rows[1][0] != "1" || rows[1][2] != "买家0" || rows[2][2] != "买家1" || rows[1][5] != "99.00" {
			t.Fatalf("winners CSV %v", rows)
		}
		// Another brand's operator sees none of it.
		intruder := e.Client()
		intruder.Login(e.Brand("flash-other"))
		must(t, intruder.Get(fmt.Sprintf("/console/sales/flash/%d", id)), http.StatusNotFound)
		must(t, intruder.Get(fmt.Sprintf("/console/sales/flash/%d/claims.csv", id)), http.StatusNotFound)
		must(t, intruder.PostForm(fmt.Sprintf("/console/sales/flash/%d/end", id), nil), http.StatusNotFound)
	})
}

// TestChainWeb: a chain started in the console is joined from the chat
// card and by "+1" in the chat at once → an exact numbered list; the tier
// price applies; a cancel; the console's list and export; the close posts
// the final list once and refuses later replies.
func TestChainWeb(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("chain")
		op := e.Client()
		op.Login(b)
		must(t, op.PostForm("/console/sales/chains", url.Values{"group": {fmt.Sprint(b.Group.ID)}, "title": {"车厘子"},
			"options": {"红色 100"}, "tiers": {"3 120"}, "closes_at": {localInput(b, time.Now().Add(time.Hour))}}), http.StatusBadRequest, "below the first option")
		r := op.PostForm("/console/sales/chains", url.Values{"group": {fmt.Sprint(b.Group.ID)}, "title": {"车厘子团购"},
			"options": {"红色 100\n蓝色 200"}, "tiers": {"3 80"}, "max_qty": {"5"}, "closes_at": {localInput(b, time.Now().Add(time.Hour))}})
		must(t, r, http.StatusSeeOther)
		var id int64
		fmt.Sscanf(r.Header.Get("Location"), "/console/sales/chains/%d", &id)
		waitCount(t, e, 1, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key = $2`, b.Tenant.ID, fmt.Sprintf("chain:%d:open", id))

		const n = 20
		clients := make([]*apptest.Client, n)
		chats := make([]string, n)
		for i := range clients {
			clients[i] = e.Client()
			chats[i] = clients[i].Join(b.JoinCode.Code, fmt.Sprintf("团员%02d", i))
		}
		must(t, clients[0].Get(chats[0]), 200, fmt.Sprintf(`data-chain="%d"`, id), `data-chain-option="2"`, "蓝色", "红色 ¥100.00")
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if i%2 == 0 { // the card's button
					if r := postJSON(clients[i], chats[i]+fmt.Sprintf("/chains/%d/join", id), url.Values{"option": {"2"}, "qty": {"2"}, "once": {fmt.Sprintf("once-%08d", i)}}); r.Status != 200 {
						t.Errorf("join %d: %d %s", i, r.Status, r.Body)
					}
					return
				}
				ws, _, err := clients[i].Dial(context.Background(), chats[i]+"/ws")
				if err != nil {
					t.Error(err)
					return
				}
				defer ws.CloseNow()
				cid := fmt.Sprintf("plus-client-%04d", i)
				send(t, ws, cid, "+1 红色")
				readUntil(t, ws, "own message", func(f wsFrame) bool { return f.ClientID == cid }) // stored
			})
		}
		wg.Wait()
		ch, err := e.App.Sales.Chain(context.Background(), b.Tenant.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		var l sale.ChainList
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if l, err = e.App.Sales.List(context.Background(), ch); err != nil || len(l.Lines) == n {
				break
			}
		}
		if len(l.Lines) != n || l.Participants != n {
			rows, _ := e.App.DB.R.Query(`SELECT member_id, group_id, body FROM outbox WHERE tenant_id = $1`, b.Tenant.ID)
			for rows.Next() {
				var m, g int64
				var body string
				rows.Scan(&m, &g, &body)
				t.Logf("outbox %d %d %.80s", m, g, body)
			}
			rows.Close()
			var cur int64
			e.App.DB.R.QueryRow(`SELECT last_event_id FROM bot_cursor`).Scan(&cur)
			evs, _ := e.App.DB.R.Query(`SELECT id, type, source, member_id, group_id FROM events WHERE tenant_id = $1 ORDER BY id`, b.Tenant.ID)
			for evs.Next() {
				var id, m, g int64
				var typ, src string
				evs.Scan(&id, &typ, &src, &m, &g)
				t.Logf("event %d %s %s m%d g%d (cursor %d)", id, typ, src, m, g, cur)
			}
			evs.Close()
			t.Fatalf("%d lines, %d people", len(l.Lines), l.Participants)
		}
		for i, line := range l.Lines {
			var k int
			fmt.Sscanf(line.Name, "团员%02d", &k)
			if line.Seq != int64(i+1) || (k%2 == 0) != (line.Option == 2) || (k%2 == 0) != (line.Qty == 2) {
				t.Fatalf("line %d: %+v", i, line)
			}
		}
		if l.Unit[0] != 8000 || l.Unit[1] != 18000 {
			t.Fatalf("tier prices %v", l.Unit)
		}
		// Over the maximum per reply, and a cancel.
		must(t, postJSON(clients[0], chats[0]+fmt.Sprintf("/chains/%d/join", id), url.Values{"option": {"1"}, "qty": {"6"}}), http.StatusBadRequest, "At most 5 per reply")
		must(t, postJSON(clients[0], chats[0]+fmt.Sprintf("/chains/%d/cancel", id), url.Values{"once": {"cancel-0001"}}), 200)
		must(t, postJSON(clients[0], chats[0]+fmt.Sprintf("/chains/%d/cancel", id), url.Values{"once": {"cancel-0002"}}), http.StatusConflict, "no line to cancel")
		page := op.Get(fmt.Sprintf("/console/sales/chains/%d", id))
		must(t, page, 200, "团员01", "¥80.00", "¥180.00")
		if strings.Contains(page.Body, "团员00") {
			t.Fatal("a cancelled line is listed")
		}
		rows := readCSV(t, op.Get(fmt.Sprintf("/console/sales/chains/%d/orders.csv", id)).Body)
		if len(rows) != n || rows[0][0] != "no" {
			t.Fatalf("orders CSV: %d rows", len(rows))
		}
		for _, row := range rows[1:] {
			if (row[3] == "红色" && (row[5] != "80.00" || row[6] != "80.00")) || (row[3] == "蓝色" && (row[5] != "180.00" || row[6] != "360.00")) {
				t.Fatalf("orders CSV row %v", row)
			}
		}
		// Close: the final list once, and no more lines.
		must(t, op.PostForm(fmt.Sprintf("/console/sales/chains/%d/close", id), nil), http.StatusSeeOther)
		waitCount(t, e, 1, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key = $2`, b.Tenant.ID, fmt.Sprintf("chain:%d:final", id))
		must(t, postJSON(clients[1], chats[1]+fmt.Sprintf("/chains/%d/join", id), url.Values{"option": {"1"}}), http.StatusConflict, "closed")
		time.Sleep(1500 * time.Millisecond) // another runner pass
		waitCount(t, e, 1, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key LIKE $2`, b.Tenant.ID, fmt.Sprintf("chain:%d:final", id))
	})
}

// TestPresaleWeb: a tagged (early-audience) member reserves before the
// opening from the member page; another is refused with the time it opens
// for them; after the opening everyone may; the console lists both.
func TestPresaleWeb(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("presale")
		op := e.Client()
		op.Login(b)
		opens := time.Now().Add(48 * time.Hour).Truncate(time.Minute)
		r := op.PostForm("/console/sales/presales", url.Values{"name": {"新品精华"}, "price": {"299"}, "opens_at": {localInput(b, opens)},
			"early_days": {"3"}, "tags": {"老客"}})
		must(t, r, http.StatusSeeOther)
		var id int64
		fmt.Sscanf(r.Header.Get("Location"), "/console/sales/presales/%d", &id)
		must(t, op.PostForm("/console/sales/presales", url.Values{"name": {"x"}, "price": {"1"}, "opens_at": {localInput(b, opens)}, "early_days": {"3"}}),
			http.StatusBadRequest, "needs an audience")

		vip, plain := e.Client(), e.Client()
		vip.Join(b.JoinCode.Code, "老客阿美")
		plain.Join(b.JoinCode.Code, "新客小王")
		vipID := memberIDOf(t, e, b, "老客阿美")
		if err := e.App.Members.AddTag(context.Background(), b.Tenant.ID, vipID, "老客"); err != nil {
			t.Fatal(err)
		}
		home := vip.Get("/m/" + b.Tenant.Slug)
		must(t, home, 200, "/m/"+b.Tenant.Slug+"/presales")
		must(t, vip.Get("/m/"+b.Tenant.Slug+"/presales"), 200, "新品精华", "Early access for you")
		reserve := fmt.Sprintf("/m/%s/presales/%d/reserve", b.Tenant.Slug, id)
		must(t, vip.PostForm(reserve, nil), http.StatusSeeOther)
		must(t, vip.Get("/m/"+b.Tenant.Slug+"/presales"), 200, "Reserved ✓")
		must(t, vip.PostForm(reserve, nil), http.StatusConflict, "already reserved")
		when := opens.In(b.Tenant.Location()).Format("2006-01-02 15:04")
		must(t, plain.PostForm(reserve, nil), http.StatusConflict, "Reservations open for you on "+when)

		e.App.Sales.SetClock(func() time.Time { return opens.Add(time.Minute) })
		defer e.App.Sales.SetClock(time.Now)
		must(t, plain.PostForm(reserve, nil), http.StatusSeeOther)
		page := op.Get(fmt.Sprintf("/console/sales/presales/%d", id))
		must(t, page, 200, "老客阿美", "新客小王", "early")
		if strings.Count(page.Body, `class="badge"`) != 1 {
			t.Fatalf("early badges: %d", strings.Count(page.Body, `class="badge"`))
		}
		intruder := e.Client()
		intruder.Login(e.Brand("presale-other"))
		must(t, intruder.Get(fmt.Sprintf("/console/sales/presales/%d", id)), http.StatusNotFound)
		must(t, intruder.Get(fmt.Sprintf("/console/sales/chains/%d", id)), http.StatusNotFound)
	})
}
