package runner_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func noRules(int64) []bot.Rule { return nil }

func (rg rig) withSales(t testing.TB) *sale.Service {
	ob := outbox.New(rg.db, channel.NewRegistry(webchat.New(rg.log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	s := sale.New(rg.db, rg.log, ob, i18n.MustLoad())
	rg.r.Sales = s
	return s
}

// TestChainInTheGroup: 200 members reply at once, half in the chat (the
// runner) in every wording and half through the service (the web card)
// → an exact list 1..200 with each member's line right; the tier price
// switches at its threshold; the list is posted at most once per window
// and the chain closes once at its deadline.
func TestChainInTheGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rg := newRig(t, db, 200, noRules)
		svc := rg.withSales(t)
		now := time.Now()
		rg.r.SetNow(func() time.Time { return now })
		c, err := rg.r.StartChain(ctx, sale.Chain{TenantID: rg.tenant, GroupID: rg.group, Title: "车厘子", ClosesAt: now.Add(time.Hour),
			Options: []sale.Option{{Label: "红色", PriceMinor: 10000}, {Label: "Blue", PriceMinor: 20000}},
			Tiers:   []sale.Tier{{Min: 150, PriceMinor: 8000}}})
		if err != nil {
			t.Fatal(err)
		}
		wordings := []struct {
			text string
			opt  int
			qty  int64
		}{{"+1", 1, 1}, {"+2 红色", 1, 2}, {"+1 紅色", 1, 1}, {"+1 blue", 2, 1}, {"接龙+1", 1, 1}, {"＋１", 1, 1}, {"+2 2", 2, 2}, {"Blue+1", 2, 1}}
		want := map[int64][2]int64{}
		var wg sync.WaitGroup
		for i, m := range rg.members {
			w := wordings[i%len(wordings)]
			want[m] = [2]int64{int64(w.opt), w.qty}
			if i%2 == 0 {
				rg.say(t, m, 1, w.text)
				continue
			}
			wg.Go(func() {
				if _, err := svc.JoinChain(ctx, rg.tenant, c.ID, m, w.opt, w.qty, fmt.Sprintf("web:%d", m)); err != nil {
					t.Errorf("web join %d: %v", m, err)
				}
			})
		}
		wg.Go(func() { rg.drain(t) })
		wg.Wait()
		rg.drain(t)
		l, err := svc.List(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Lines) != 200 || l.Participants != 200 {
			t.Fatalf("%d lines, %d people", len(l.Lines), l.Participants)
		}
		for i, line := range l.Lines {
			w := want[line.MemberID]
			if line.Seq != int64(i+1) || line.Pos != i+1 || int64(line.Option) != w[0] || line.Qty != w[1] {
				t.Fatalf("line %d: %+v, want option×qty %v", i, line, w)
			}
			delete(want, line.MemberID)
		}
		if len(want) != 0 || l.Unit[0] != 8000 || l.Unit[1] != 18000 {
			t.Fatalf("members without a line: %v; unit prices %v", want, l.Unit)
		}
		lists := func() int {
			return count(t, db, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key LIKE $2`, rg.tenant, fmt.Sprintf("chain:%d:list:%%", c.ID))
		}
		if n := lists(); n != 1 {
			t.Fatalf("%d list posts after the burst", n)
		}
		// A cancel: not listed again within the window, listed after it.
		rg.say(t, rg.members[0], 2, "-1")
		rg.drain(t)
		if n := lists(); n != 1 {
			t.Fatalf("%d list posts within the window", n)
		}
		now = now.Add(sale.ListEvery)
		rg.drain(t)
		if n := lists(); n != 2 {
			t.Fatalf("%d list posts after the window", n)
		}
		if l, _ := svc.List(ctx, c); len(l.Lines) != 199 || l.Unit[0] != 8000 {
			t.Fatalf("after a cancel: %d lines, %v", len(l.Lines), l.Unit)
		}
		// The deadline closes it once, with the final list.
		now = now.Add(time.Hour)
		rg.drain(t)
		rg.drain(t)
		if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key = $2`, rg.tenant, fmt.Sprintf("chain:%d:final", c.ID)); n != 1 {
			t.Fatalf("%d final lists", n)
		}
		var body string
		db.R.QueryRow(`SELECT body FROM outbox WHERE tenant_id = $1 AND idem_key = $2`, rg.tenant, fmt.Sprintf("chain:%d:final", c.ID)).Scan(&body)
		if !strings.Contains(body, "199 people") || !strings.Contains(body, "\n100. ") || strings.Contains(body, "\n101. ") || !strings.Contains(body, "99 more") {
			t.Fatalf("final list: %.300s", body)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2`, rg.tenant, string(event.ChainClosed)); n != 1 {
			t.Fatalf("%d closes", n)
		}
		// A reply after the close is chat.
		rg.say(t, rg.members[1], 3, "+1")
		rg.drain(t)
		if l, _ := svc.List(ctx, c); len(l.Lines) != 199 {
			t.Fatalf("a line after the close: %d", len(l.Lines))
		}
	})
}

// TestFlashInTheGroup: a keyword before the start is answered privately
// with the countdown; the start is posted once with a claim button;
// keywords and buttons claim within the stock; the result is posted once.
func TestFlashInTheGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rg := newRig(t, db, 6, noRules)
		svc := rg.withSales(t)
		now := time.Now()
		rg.r.SetNow(func() time.Time { return now })
		later, err := svc.CreateFlash(ctx, sale.Flash{TenantID: rg.tenant, Name: "面霜", PriceMinor: 9900, Stock: 3, CountdownMin: 10,
			StartsAt: now.Add(5 * time.Minute), Groups: []int64{rg.group}})
		if err != nil {
			t.Fatal(err)
		}
		rg.drain(t) // the countdown is due (within 10 minutes of the start)
		rg.say(t, rg.members[0], 1, "秒杀！")
		rg.drain(t)
		var dm string
		db.R.QueryRow(`SELECT body FROM outbox WHERE tenant_id = $1 AND member_id = $2`, rg.tenant, rg.members[0]).Scan(&dm)
		if !strings.Contains(dm, "starts in 0") {
			t.Fatalf("before the start: %q", dm)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE idem_key = $1`, fmt.Sprintf("flash:%d:countdown:%d", later.ID, rg.group)); n != 1 {
			t.Fatalf("%d countdowns", n)
		}
		// It starts.
		now = now.Add(5 * time.Minute)
		svc.SetClock(func() time.Time { return now })
		rg.drain(t)
		var buttons string
		db.R.QueryRow(`SELECT buttons FROM outbox WHERE idem_key = $1`, fmt.Sprintf("flash:%d:open:%d", later.ID, rg.group)).Scan(&buttons)
		if !strings.Contains(buttons, runner.FlashData(later.ID)) {
			t.Fatalf("start post buttons: %q", buttons)
		}
		for i, m := range rg.members[:4] {
			if i < 2 {
				rg.say(t, m, 10+i, []string{"搶", "grab"}[i])
			}
		}
		// Events carry their own time: claims are judged at it.
		if _, err := db.W.Exec(`UPDATE events SET at = $1 WHERE tenant_id = $2 AND type = 'message'`, store.Millis(now), rg.tenant); err != nil {
			t.Fatal(err)
		}
		rg.drain(t)
		if !rg.r.PressButton(ctx, rg.tenant, rg.members[2], runner.FlashData(later.ID)) {
			t.Fatal("the flash button was not recognised")
		}
		rg.r.PressButton(ctx, rg.tenant, rg.members[3], runner.FlashData(later.ID)) // sold out by now
		claims, _ := svc.FlashClaims(ctx, rg.tenant, later.ID)
		if len(claims) != 3 || claims[0].Via != sale.ViaKeyword || claims[2].Via != sale.ViaButton {
			t.Fatalf("claims %+v", claims)
		}
		rg.drain(t)
		rg.drain(t)
		if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE idem_key = $1`, fmt.Sprintf("flash:%d:result:%d", later.ID, rg.group)); n != 1 {
			t.Fatalf("%d results", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE idem_key LIKE $1`, fmt.Sprintf("flash:%d:claim:%%", later.ID)); n != 3 {
			t.Fatalf("%d confirmations", n)
		}
	})
}
