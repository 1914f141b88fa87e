package track_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/track"
)

func TestTouches(t *testing.T) {
	at := t0 // the order, 12:00:05
	h := time.Hour
	c := func(id int64, before time.Duration) track.Touch { return track.Touch{LinkID: id, At: at.Add(-before)} }
	for _, tc := range []struct {
		name        string
		clicks      []track.Touch
		window      time.Duration
		first, last int64 // 0: no touch
	}{
		{"none", nil, 24 * h, 0, 0},
		// 30 h before is outside 24 h; 23 h and 1 h are inside: first 2, last 3.
		{"outside and inside", []track.Touch{c(1, 30*h), c(2, 23*h), c(3, h)}, 24 * h, 2, 3},
		// Exactly 24 h before is inside (the window includes its start).
		{"on the edge", []track.Touch{c(1, 24*h), c(2, 2*h)}, 24 * h, 1, 2},
		// A minute past the edge is not.
		{"past the edge", []track.Touch{c(1, 24*h+time.Minute)}, 24 * h, 0, 0},
		// A click after the order never counts for it.
		{"after", []track.Touch{c(1, 2*h), c(2, -time.Minute)}, 24 * h, 1, 1},
		// A 2 h window keeps only the click 1 h before.
		{"short window", []track.Touch{c(1, 3*h), c(2, h)}, 2 * h, 2, 2},
		// At the same instant as the order: counts.
		{"same instant", []track.Touch{c(1, 0)}, h, 1, 1},
	} {
		first, last, ok := track.Touches(tc.clicks, at, tc.window)
		if ok != (tc.last != 0) || first.LinkID != tc.first || last.LinkID != tc.last {
			t.Errorf("%s: first %d last %d ok %v, want %d %d", tc.name, first.LinkID, last.LinkID, ok, tc.first, tc.last)
		}
	}
}

func TestJoinSource(t *testing.T) {
	alert := track.Touch{LinkID: 7, LiveID: 3}
	post := track.Touch{LinkID: 8, ContentID: 2}
	for _, tc := range []struct {
		name     string
		code     string
		referrer int64
		last     track.Touch
		clicked  bool
		want     event.JoinData
	}{
		{"a poster's code", "poster", 0, track.Touch{}, false, event.JoinData{Source: "poster"}},
		{"an invite", "referral:春季", 42, alert, true, event.JoinData{Source: "referral", ReferrerID: 42, LinkID: 7}},
		{"the live room's code", "live:5", 0, track.Touch{}, false, event.JoinData{Source: "live", LiveID: 5}},
		{"the room's code after an alert of another live", "live:5", 0, alert, true, event.JoinData{Source: "live", LiveID: 5, LinkID: 7}},
		{"the default code after an alert", "default", 0, alert, true, event.JoinData{Source: "live", LiveID: 3, LinkID: 7}},
		{"the default code after a push", "default", 0, post, true, event.JoinData{Source: "default", LinkID: 8}},
		{"not a live code", "live:x", 0, track.Touch{}, false, event.JoinData{Source: "live:x"}},
	} {
		if got := track.JoinSource(tc.code, tc.referrer, tc.last, tc.clicked); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestOrderAttribution: ann clicks a live alert 30 h before her order
// (outside the 24 h window), a playbook push 20 h before (first touch)
// and the live's product card 2 h before (last touch); bob clicked
// nothing; cat clicked the push's group post 25 h before only.
func TestOrderAttribution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		ctx := context.Background()
		ann, bob, cat := f.member("ann", "13800000001"), f.member("bob", "13800000002"), f.member("cat", "13800000003")
		alert := f.link(track.Spec{URL: "https://ll.test/l/brand/1", Kind: track.KindAlert, GroupID: 10, LiveID: 1, Ref: "a"})
		push := f.link(track.Spec{URL: "https://shop.test/c", Kind: track.KindStep, MemberID: ann, ContentID: 5, StepID: 6, Ref: "p"})
		card := f.link(track.Spec{URL: "https://shop.test/p", Kind: track.KindProduct, GroupID: 11, LiveID: 2, ProductID: 9, Ref: "c"})
		paid := t0.Add(-time.Hour) // 11:00:05
		f.click(alert, ann, "va", paid.Add(-30*time.Hour))
		f.click(push, 0, "va", paid.Add(-20*time.Hour))
		f.click(card, ann, "va", paid.Add(-2*time.Hour))
		f.click(card, ann, "va", paid.Add(time.Minute)) // after the order: not its touch
		post := f.link(track.Spec{URL: "https://shop.test/c", Kind: track.KindStep, GroupID: 10, ContentID: 5, StepID: 6, Ref: "p2"})
		f.click(post, cat, "vc", paid.Add(-25*time.Hour))

		o := f.order("A-1", "13800000001", 199_00, paid)
		if o.MemberID != ann {
			t.Fatalf("order matched %d", o.MemberID)
		}
		a, err := f.svc.OrderAttribution(ctx, f.tenant, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := track.Attribution{OrderID: o.ID, MemberID: ann, LastLinkID: card.ID, FirstLinkID: push.ID, LiveID: 2, GroupID: 11, At: paid}
		if a != want {
			t.Fatalf("attribution %+v, want %+v", a, want)
		}
		for _, who := range []string{"13800000002", "13800000003"} {
			o := f.order("B-"+who, who, 50_00, paid)
			if _, err := f.svc.OrderAttribution(ctx, f.tenant, o.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("order of %s without clicks in the window attributed: %v", who, err)
			}
		}
		_ = bob
		// A 26 h window reaches cat's click: her next order is the push's.
		if err := f.svc.SetWindow(ctx, f.tenant, 26*time.Hour); err != nil {
			t.Fatal(err)
		}
		o2 := f.order("C-2", "13800000003", 80_00, paid)
		if a, err := f.svc.OrderAttribution(ctx, f.tenant, o2.ID); err != nil || a.LastLinkID != post.ID || a.ContentID != 5 || a.StepID != 6 {
			t.Fatalf("with a 26 h window: %+v %v", a, err)
		}
		for _, bad := range []time.Duration{0, 59 * time.Minute, 31 * 24 * time.Hour} {
			if err := f.svc.SetWindow(ctx, f.tenant, bad); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("window %v: %v", bad, err)
			}
		}
		if w, err := f.svc.Window(ctx, f.tenant); err != nil || w != 26*time.Hour {
			t.Fatalf("window %v %v", w, err)
		}
		if w, err := f.svc.Window(ctx, setup(t, db, "fresh").tenant); err != nil || w != track.DefaultWindow {
			t.Fatalf("default window %v %v", w, err)
		}
	})
}

// TestRematchAttributesLater: an order paid by a phone no member has is
// unmatched; the member gives that phone later and rematching attributes
// the order to her click of 3 h before it.
func TestRematchAttributesLater(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		ctx := context.Background()
		dee := f.member("dee", "")
		l := f.link(track.Spec{URL: "https://shop.test/x", Kind: track.KindCoupon, BatchID: 4, MemberID: dee, Ref: "coupon:1:told"})
		paid := t0.Add(-time.Hour)
		f.click(l, 0, "vd", paid.Add(-3*time.Hour))
		o := f.order("R-1", "13900000009", 120_00, paid)
		if o.MemberID != 0 {
			t.Fatal("matched before the phone was known")
		}
		if _, err := f.svc.OrderAttribution(ctx, f.tenant, o.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unmatched order attributed: %v", err)
		}
		if _, err := db.W.Exec(`UPDATE members SET phone = '13900000009' WHERE id = $1`, dee); err != nil {
			t.Fatal(err)
		}
		if n, err := f.commerce.Rematch(ctx, f.tenant); err != nil || n != 1 {
			t.Fatalf("rematch: %d %v", n, err)
		}
		if a, err := f.svc.OrderAttribution(ctx, f.tenant, o.ID); err != nil || a.MemberID != dee || a.LastLinkID != l.ID || a.FirstLinkID != l.ID {
			t.Fatalf("after rematch: %+v %v", a, err)
		}
	})
}

func TestEnterLiveOnceWithTheLinkThatLedThere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		ctx := context.Background()
		eve, fay := f.member("eve", ""), f.member("fay", "")
		alert := f.link(track.Spec{URL: "https://ll.test/l/brand/3", Kind: track.KindAlert, LiveID: 3, GroupID: 1, Ref: "a"})
		old := f.link(track.Spec{URL: "https://ll.test/l/brand/3", Kind: track.KindAlert, LiveID: 3, GroupID: 1, Ref: "b"})
		f.click(old, 0, "ve", t0.Add(-30*time.Hour)) // outside the window
		f.click(alert, 0, "ve", t0.Add(-10*time.Minute))
		for i := range 3 {
			entered, err := f.svc.EnterLive(ctx, f.tenant, 3, eve, "ve")
			if err != nil || entered != (i == 0) {
				t.Fatalf("entry %d: %v %v", i, entered, err)
			}
		}
		if entered, err := f.svc.EnterLive(ctx, f.tenant, 3, fay, "vf"); err != nil || !entered {
			t.Fatalf("fay: %v %v", entered, err)
		}
		if entered, _ := f.svc.EnterLive(ctx, f.tenant, 3, 0, "vx"); entered {
			t.Fatal("an anonymous viewer entered")
		}
		evs, err := f.log.After(ctx, 0, 100, event.LiveEntered)
		if err != nil || len(evs) != 2 {
			t.Fatalf("%d entries: %v", len(evs), err)
		}
		var d event.TrackData
		if evs[0].MemberID != eve || evs[0].SourceID != track.EnterSourceID(3, eve) || evs[0].Decode(&d) != nil || d.LiveID != 3 || d.ViaLink != alert.ID {
			t.Fatalf("eve's entry %+v %+v", evs[0], d)
		}
		d = event.TrackData{}
		if evs[1].Decode(&d) != nil || d.ViaLink != 0 || d.LiveID != 3 {
			t.Fatalf("fay's entry without a click: %+v", d)
		}
	})
}

func TestJoinTxClaimsTheVisitorsClicks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		ctx := context.Background()
		alert := f.link(track.Spec{URL: "https://ll.test/l/brand/8", Kind: track.KindAlert, LiveID: 8, GroupID: 1, Ref: "a"})
		f.click(alert, 0, "vg", t0.Add(-time.Hour))
		gus := f.member("gus", "13700000001")
		var jd event.JoinData
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			jd, err = f.svc.JoinTx(ctx, tx, f.tenant, gus, "vg", "default", 0)
			return err
		})
		if err != nil || jd != (event.JoinData{Source: "live", LiveID: 8, LinkID: alert.ID}) {
			t.Fatalf("join: %+v %v", jd, err)
		}
		if n := f.count(`SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1 AND member_id = $2`, f.tenant, gus); n != 1 {
			t.Fatal("the visitor's click did not become the member's")
		}
		// So his order an hour later is the alert's.
		f.now = t0.Add(time.Hour)
		o := f.order("G-1", "13700000001", 30_00, t0)
		if a, err := f.svc.OrderAttribution(ctx, f.tenant, o.ID); err != nil || a.LastLinkID != alert.ID || a.LiveID != 8 {
			t.Fatalf("order after the join: %+v %v", a, err)
		}
		// Merging gus into another record moves his clicks and orders.
		hal := f.member("hal", "")
		err = db.InTx(ctx, func(tx *store.Tx) error { return f.svc.MoveMember(ctx, tx, f.tenant, gus, hal) })
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := f.svc.OrderAttribution(ctx, f.tenant, o.ID); a.MemberID != hal {
			t.Fatalf("attribution not moved: %+v", a)
		}
	})
}
