package track_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/track"
)

// TestConcurrentClicksOnOneLink: 12 visitors click one link at once,
// each three times in the same minute (a double tap and a reload): 12
// clicks, each one link_clicks row and one link_clicked event.
func TestConcurrentClicksOnOneLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "clicks")
		ctx := context.Background()
		l := f.link(track.Spec{URL: "https://shop.test/p", Kind: track.KindProduct, GroupID: 3, Ref: "r"})
		var wg sync.WaitGroup
		counted := make(chan bool, 36)
		for v := range 12 {
			for i := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := f.svc.Click(ctx, l, track.Visit{Visitor: fmt.Sprint("v", v), At: t0.Add(time.Duration(i) * time.Second)})
					if err != nil {
						t.Error(err)
					}
					counted <- ok
				}()
			}
		}
		wg.Wait()
		close(counted)
		n := 0
		for ok := range counted {
			if ok {
				n++
			}
		}
		rows := f.count(`SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1 AND link_id = $2`, f.tenant, l.ID)
		evs := f.count(`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2`, f.tenant, string(event.LinkClicked))
		if n != 12 || rows != 12 || evs != 12 {
			t.Fatalf("counted %d, %d rows, %d events; want 12 each", n, rows, evs)
		}
	})
}

// TestEnterLiveRacedByTabs: one member opens the live room in six tabs at
// once: one entry.
func TestEnterLiveRacedByTabs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "tabs")
		ctx := context.Background()
		ivy := f.member("ivy", "")
		var wg sync.WaitGroup
		entered := make(chan bool, 6)
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := f.svc.EnterLive(ctx, f.tenant, 5, ivy, "vi")
				if err != nil {
					t.Error(err)
				}
				entered <- ok
			}()
		}
		wg.Wait()
		close(entered)
		n := 0
		for ok := range entered {
			if ok {
				n++
			}
		}
		evs := f.count(`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2`, f.tenant, string(event.LiveEntered))
		if n != 1 || evs != 1 {
			t.Fatalf("%d first entries, %d events; want 1 and 1", n, evs)
		}
	})
}

// TestJoinClaimsWhileOthersClick: a visitor's clicks become the member's
// when they join, while other visitors (and the same link) are clicked
// at the same time: nothing fails, every click is stored once, the
// joiner's earlier clicks are all theirs and nobody else's are.
func TestJoinClaimsWhileOthersClick(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "claim")
		ctx := context.Background()
		l := f.link(track.Spec{URL: "https://ll.test/l/claim/2", Kind: track.KindAlert, LiveID: 2, GroupID: 1, Ref: "a"})
		for i := range 3 {
			f.click(l, 0, "joiner", t0.Add(-time.Duration(i+1)*time.Hour))
		}
		jon := f.member("jon", "")
		var wg sync.WaitGroup
		for v := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.svc.Click(ctx, l, track.Visit{Visitor: fmt.Sprint("other", v), At: t0.Add(-time.Minute)}); err != nil {
					t.Error(err)
				}
			}()
		}
		var jd event.JoinData
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			jd, err = f.svc.JoinTx(ctx, tx, f.tenant, jon, "joiner", "poster", 0)
			return err
		})
		wg.Wait()
		if err != nil || jd.Source != "live" || jd.LinkID != l.ID {
			t.Fatalf("join: %+v %v", jd, err)
		}
		if n := f.count(`SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1 AND member_id = $2`, f.tenant, jon); n != 3 {
			t.Fatalf("the member has %d clicks, want their 3", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1 AND member_id IS NULL`, f.tenant); n != 10 {
			t.Fatalf("%d anonymous clicks, want the other 10", n)
		}
	})
}

// TestOrderInTheClicksMillisecond: a click at the very millisecond the
// order was paid is within the window (at − window ≤ click ≤ at); one a
// millisecond later is not the order's.
func TestOrderInTheClicksMillisecond(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "ms")
		ctx := context.Background()
		kim := f.member("kim", "13600000001")
		a := f.link(track.Spec{URL: "https://shop.test/a", Kind: track.KindProduct, Ref: "a"})
		b := f.link(track.Spec{URL: "https://shop.test/b", Kind: track.KindProduct, Ref: "b"})
		paid := t0.Add(-time.Hour).Add(123 * time.Millisecond)
		f.click(a, kim, "", paid)
		f.click(b, kim, "", paid.Add(time.Millisecond))
		o := f.order("MS-1", "13600000001", 10_00, paid)
		got, err := f.svc.OrderAttribution(ctx, f.tenant, o.ID)
		if err != nil || got.LastLinkID != a.ID || got.FirstLinkID != a.ID {
			t.Fatalf("attribution %+v %v; want link %d first and last", got, err, a.ID)
		}
	})
}

// TestRematchTwiceAtOnce: two rematch runs at once (the nightly pass on
// two nodes) match the order once: one attribution, one order in the
// member's totals.
func TestRematchTwiceAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "rematch")
		ctx := context.Background()
		lea := f.member("lea", "")
		l := f.link(track.Spec{URL: "https://shop.test/x", Kind: track.KindProduct, Ref: "x"})
		paid := t0.Add(-time.Hour)
		f.click(l, lea, "", paid.Add(-time.Hour))
		o := f.order("RT-1", "13500000005", 70_00, paid)
		if _, err := db.W.Exec(`UPDATE members SET phone = '13500000005' WHERE id = $1`, lea); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		matched := make(chan int, 2)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := f.commerce.Rematch(ctx, f.tenant)
				if err != nil {
					t.Error(err)
				}
				matched <- n
			}()
		}
		wg.Wait()
		close(matched)
		total := 0
		for n := range matched {
			total += n
		}
		if n, err := f.commerce.Rematch(ctx, f.tenant); err != nil || n != 0 {
			t.Fatalf("third rematch: %d %v", n, err)
		}
		a, err := f.svc.OrderAttribution(ctx, f.tenant, o.ID)
		if total != 1 || err != nil || a.MemberID != lea || a.LastLinkID != l.ID {
			t.Fatalf("matched %d; attribution %+v %v", total, a, err)
		}
		if n := f.count(`SELECT orders FROM member_commerce WHERE tenant_id = $1 AND member_id = $2`, f.tenant, lea); n != 1 {
			t.Fatalf("the member's totals count %d orders, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM order_attribution WHERE tenant_id = $1`, f.tenant); n != 1 {
			t.Fatalf("%d attributions", n)
		}
	})
}
