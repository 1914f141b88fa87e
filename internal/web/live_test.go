package web_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/live"
)

// The live loop through the console, the groups and the live room:
// schedule → start (alerts the group once, however often started) →
// comments and a product switch reach the room and the group → a coupon
// drop → end (recap; no more alerts; no restart).
func TestLiveLoop(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, persona := routineBrand(t, e, "lives")
		ctx := context.Background()
		m := e.Client()
		chat := m.Join(b.JoinCode.Code, "小美")
		group, _, err := m.Dial(ctx, chat+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer group.CloseNow()

		at := time.Now().Add(time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04")
		form := url.Values{"title": {"周五护肤专场"}, "scheduled_at": {at}, "host": {fmt.Sprint(persona)},
			"embed_url": {"https://player.example.com/embed/1"}, "products": {"修护精华 | 129 | 99 | 200\n玫瑰唇釉 | 89 | 69 | 50"},
			"groups": {fmt.Sprint(b.Group.ID)}, "alert_persona": {fmt.Sprint(persona)}, "alert_repeat": {"3"}, "alert_minutes": {"10"}}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("products", "修护精华 | 129")
		must(t, op.PostForm("/console/lives", bad), http.StatusBadRequest, "product line 1 — write name | price | live price | stock")
		bad.Set("products", "")
		bad.Set("embed_url", "javascript:alert(1)")
		must(t, op.PostForm("/console/lives", bad), http.StatusBadRequest)
		r := op.PostForm("/console/lives", form)
		must(t, r, http.StatusSeeOther)
		var id int64
		fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &id)
		must(t, op.Get(fmt.Sprintf("/console/lives/%d", id)), 200, "修护精华", "玫瑰唇釉")
		l, err := e.App.Lives.Get(ctx, b.Tenant.ID, id)
		if err != nil || len(l.Products) != 2 {
			t.Fatalf("live %+v %v", l, err)
		}

		// Warm-up opens the room; then start, twice: one alert per group.
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/warm", id), url.Values{}), http.StatusSeeOther)
		must(t, op.Get(fmt.Sprintf("/console/lives/%d", id)), 200, "warming up")
		for range 2 {
			must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/start", id), url.Values{}), http.StatusSeeOther)
		}
		alert := readUntil(t, group, "live alert", func(f wsFrame) bool { return strings.Contains(f.Text, "周五护肤专场") })
		// The room's link, tracked: /t/<code> leads to the room.
		if code := between(alert.Text, e.URL+"/t/", " "); code == "" ||
			e.Client().Get("/t/"+code).Header.Get("Location") != e.URL+fmt.Sprintf("/l/%s/%d", b.Tenant.Slug, id) {
			t.Fatalf("alert without the room's tracked link: %q", alert.Text)
		}
		alerts := func() int {
			var n int
			e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key LIKE $2`,
				b.Tenant.ID, fmt.Sprintf("live:%d:alert:%%", id)).Scan(&n)
			return n
		}
		if n := alerts(); n != 1 {
			t.Fatalf("%d alerts after starting twice", n)
		}

		// The live room: the member comments, an anonymous viewer sees it.
		room := fmt.Sprintf("/l/%s/%d", b.Tenant.Slug, id)
		must(t, m.Get(room), 200, "周五护肤专场", "join.svg", "player.example.com/embed/1", "data-composer")
		if csp := m.Get(room).Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src https:") {
			t.Fatalf("room CSP %q", csp)
		}
		viewer := e.Client()
		must(t, viewer.Get(room), 200, "周五护肤专场")
		must(t, viewer.Get(room+"/join.svg"), 200, "<svg")
		anon, _, err := viewer.Dial(ctx, room+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer anon.CloseNow()
		mine, _, err := m.Dial(ctx, room+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer mine.CloseNow()
		send(t, mine, "comment-long", strings.Repeat("长", 201))
		for f := read(t, mine); f.Type != "error" || f.Code != "too_long"; f = read(t, mine) {
			if f.Type == "message" {
				t.Fatalf("a 201-character comment was posted: %+v", f)
			}
		}
		send(t, mine, "comment-0001", "<b>好看</b>")
		cf := readUntil(t, anon, "comment", func(f wsFrame) bool { return f.Text == "<b>好看</b>" })
		if cf.Sender != "小美" {
			t.Fatalf("comment %+v", cf)
		}
		xiaomei := cf.MemberID
		// 小美 likes; 阿珍, also in the group, does not.
		if err := mine.Write(ctx, websocket.MessageText, []byte(`{"type":"like"}`)); err != nil {
			t.Fatal(err)
		}
		e.Client().Join(b.JoinCode.Code, "阿珍")
		// An anonymous viewer cannot comment, but may like — at a
		// person's pace: a flood of taps counts a few.
		send(t, anon, "comment-0002", "匿名")
		for range 40 {
			if err := anon.Write(ctx, websocket.MessageText, []byte(`{"type":"like"}`)); err != nil {
				t.Fatal(err)
			}
		}
		likes := readLikes(t, mine)
		if likes < 1 || likes > 20 {
			t.Fatalf("%d likes counted from a flood of 40 taps", likes)
		}
		// The page shows the running total (it may have grown since).
		var shown int64
		if _, err := fmt.Sscanf(strings.SplitN(viewer.Get(room).Body, "data-likes>", 2)[1], "%d", &shown); err != nil || shown < likes || shown > 20 {
			t.Fatalf("page shows %d likes (%v), the room said %d", shown, err, likes)
		}

		// A viewer who gives a name may comment (without joining a group).
		passer := e.Client()
		must(t, passer.Get(room), 200, "data-identify")
		must(t, passer.PostForm(room+"/identify", url.Values{"name": {" "}}), http.StatusBadRequest)
		must(t, passer.PostForm(room+"/identify", url.Values{"name": {"路人甲"}}), http.StatusSeeOther)
		pws, _, err := passer.Dial(ctx, room+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer pws.CloseNow()
		send(t, pws, "passer-00001", "路过看看")
		if f := readUntil(t, anon, "a named viewer's comment", func(f wsFrame) bool { return f.Text == "路过看看" }); f.Sender != "路人甲" {
			t.Fatalf("named viewer's comment %+v", f)
		}

		// Switching the product: the group hears it, the room shows it.
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/product", id), url.Values{"product": {fmt.Sprint(l.Products[1].ID)}}), http.StatusSeeOther)
		readUntil(t, group, "product", func(f wsFrame) bool {
			return strings.Contains(f.Text, "玫瑰唇釉") && strings.Contains(f.Text, "69.00")
		})
		readLive(t, anon, func(v liveFrame) bool { return v.Product != nil && v.Product.Name == "玫瑰唇釉" })
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/product", id), url.Values{"product": {"999999"}}), http.StatusBadRequest)
		// Stock of the product on show: the groups hear how many are left.
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/stock", id), url.Values{"product": {fmt.Sprint(l.Products[1].ID)}, "stock": {"5"}}), http.StatusSeeOther)
		readUntil(t, group, "stock", func(f wsFrame) bool { return strings.Contains(f.Text, "玫瑰唇釉: only 5 left") })
		readLive(t, anon, func(v liveFrame) bool { return v.Product != nil && v.Product.Stock == 5 })

		// A coupon drop: claimed once per member.
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/drop", id), url.Values{"title": {"直播专享 减20"}, "quantity": {"2"}, "minutes": {"10"}}), http.StatusSeeOther)
		drops, _ := e.App.Lives.Drops(ctx, b.Tenant.ID, id)
		if len(drops) != 1 {
			t.Fatalf("drops %v", drops)
		}
		claim := fmt.Sprintf("%s/drops/%d/claim", room, drops[0].ID)
		must(t, m.PostForm(claim, url.Values{}), http.StatusSeeOther)
		must(t, m.PostForm(claim, url.Values{}), http.StatusConflict)
		if st := viewer.PostForm(claim, url.Values{}).Status; st == http.StatusSeeOther {
			t.Fatal("an anonymous viewer claimed a coupon")
		}

		// A lottery: announced with its commitment, drawn from the
		// eligible members, verifiable from its published record; the
		// winner claims, an outsider cannot.
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/lottery", id), url.Values{"prize": {"面霜正装"}, "winners": {"2"}, "liked": {"on"}}), http.StatusSeeOther)
		lts, _ := e.App.Lives.Lotteries(ctx, b.Tenant.ID, id)
		if len(lts) != 1 || lts[0].Commitment == "" {
			t.Fatalf("lotteries %+v", lts)
		}
		record := fmt.Sprintf("%s/lotteries/%d", room, lts[0].ID)
		if body := viewer.Get(record).Body; strings.Contains(body, `"seed"`) || !strings.Contains(body, lts[0].Commitment) {
			t.Fatalf("record before the draw: %s", body)
		}
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/draw", id), url.Values{"lottery": {fmt.Sprint(lts[0].ID)}}), http.StatusSeeOther)
		var rec struct {
			Commitment  string  `json:"commitment"`
			Seed        string  `json:"seed"`
			WinnerCount int     `json:"winner_count"`
			Eligible    []int64 `json:"eligible"`
			Winners     []int64 `json:"winners"`
		}
		json.Unmarshal([]byte(viewer.Get(record).Body), &rec)
		seed, _ := hex.DecodeString(rec.Seed)
		if err := live.Verify(seed, rec.Commitment, rec.Eligible, rec.WinnerCount, rec.Winners); err != nil || len(rec.Winners) != 1 {
			t.Fatalf("published draw does not verify: %v %+v", err, rec)
		}
		if len(rec.Eligible) != 1 || rec.Eligible[0] != xiaomei {
			t.Fatalf("eligible %v: only 小美 (%d) liked", rec.Eligible, xiaomei)
		}
		must(t, m.PostForm(record+"/claim", url.Values{}), http.StatusSeeOther)
		if st := viewer.PostForm(record+"/claim", url.Values{}).Status; st == http.StatusSeeOther {
			t.Fatal("an outsider claimed the prize")
		}

		// End: the recap; no more alerts; no restart; no more comments.
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/end", id), url.Values{}), http.StatusSeeOther)
		readUntil(t, group, "recap", func(f wsFrame) bool {
			return strings.Contains(f.Text, "周五护肤专场") && strings.Contains(f.Text, "修护精华")
		})
		before := alerts()
		e.App.Runner.RunOnce(ctx)
		if alerts() != before {
			t.Fatal("an alert after the end")
		}
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/start", id), url.Values{}), http.StatusConflict)
	})
}

// readLikes returns the first likes total a room socket receives.
func readLikes(t *testing.T, c *websocket.Conn) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for likes: %v", err)
		}
		var f struct {
			Type  string `json:"type"`
			Likes int64  `json:"likes"`
		}
		if json.Unmarshal(b, &f) == nil && f.Type == "likes" {
			return f.Likes
		}
	}
}

type liveFrame struct {
	State   string `json:"state"`
	Product *struct {
		Name  string
		Stock int64
	} `json:"product"`
}

func readLive(t *testing.T, c *websocket.Conn, ok func(liveFrame) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for the room's state: %v", err)
		}
		var f struct {
			Type string     `json:"type"`
			Live *liveFrame `json:"live"`
		}
		if json.Unmarshal(b, &f) == nil && f.Type == "live" && f.Live != nil && ok(*f.Live) {
			return
		}
	}
}

// Many viewers: every connected viewer receives every comment, in order,
// while one viewer never reads (it must not hold the others up).
func TestLiveRoomFanOut(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	b, op, persona := routineBrand(t, e, "fanout")
	ctx := context.Background()
	at := time.Now().Add(time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04")
	r := op.PostForm("/console/lives", url.Values{"title": {"fan-out"}, "scheduled_at": {at}, "host": {fmt.Sprint(persona)}})
	var id int64
	fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &id)
	room := fmt.Sprintf("/l/%s/%d", b.Tenant.Slug, id)
	op.PostForm(fmt.Sprintf("/console/lives/%d/start", id), url.Values{})

	stalled, _, err := e.Client().Dial(ctx, room+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.CloseNow()
	const viewers, writers, each = 60, 6, 4
	conns := make([]*websocket.Conn, viewers)
	for i := range conns {
		if conns[i], _, err = e.Client().Dial(ctx, room+"/ws"); err != nil {
			t.Fatal(err)
		}
		defer conns[i].CloseNow()
	}
	for w := range writers {
		c := e.Client()
		c.Join(b.JoinCode.Code, fmt.Sprint("fan", w))
		ws, _, err := c.Dial(ctx, room+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		for n := range each {
			send(t, ws, fmt.Sprintf("fan-%d-%04d", w, n), fmt.Sprintf("comment %d/%d", w, n))
		}
	}
	errs := make(chan error, viewers)
	for _, c := range conns {
		go func() {
			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			var last int64
			for got := 0; got < writers*each; {
				_, b, err := c.Read(rctx)
				if err != nil {
					errs <- fmt.Errorf("after %d comments: %w", got, err)
					return
				}
				for _, raw := range splitFrames(b) {
					var f wsFrame
					if json.Unmarshal(raw, &f) != nil || f.Type != "message" {
						continue
					}
					if f.ID <= last {
						errs <- fmt.Errorf("comment %d after %d: out of order", f.ID, last)
						return
					}
					last = f.ID
					got++
				}
			}
			errs <- nil
		}()
	}
	for range viewers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
