package track_test

import (
	"context"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/track"
)

var shortRE = regexp.MustCompile(`^https://ll\.test/t/[0-9A-Za-z]{8}$`)

func TestLinkTxIsIdempotentPerRefAndTarget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		other := setup(t, db, "other")
		ctx := context.Background()
		mk := func(f *fixture, spec track.Spec) string {
			t.Helper()
			var s string
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				s, err = f.svc.LinkTx(ctx, tx, f.tenant, spec)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return s
		}
		spec := track.Spec{URL: "https://shop.test/p/1?a=1&b=2", Kind: track.KindProduct, GroupID: 7, LiveID: 3, ProductID: 11, Ref: "live:3:product:11:7:1"}
		a := mk(f, spec)
		if !shortRE.MatchString(a) {
			t.Fatalf("short link %q", a)
		}
		if b := mk(f, spec); b != a {
			t.Fatalf("a retried send got a second link: %s, %s", a, b)
		}
		if c := mk(f, track.Spec{URL: "https://shop.test/p/2", Ref: spec.Ref}); c == a {
			t.Fatal("another target of the message shares the link")
		}
		if d := mk(other, spec); d == a {
			t.Fatal("another tenant's message with the same key shares the link")
		}
		// Without a ref every call is a link of its own.
		if mk(f, track.Spec{URL: "https://shop.test/x"}) == mk(f, track.Spec{URL: "https://shop.test/x"}) {
			t.Fatal("two unkeyed links are one")
		}
		// A tracked link is never wrapped again.
		if again := mk(f, track.Spec{URL: a, Ref: "x"}); again != a {
			t.Fatalf("a tracked link was wrapped: %s", again)
		}
		l := f.resolve(a)
		if l.TenantID != f.tenant || l.URL != spec.URL || l.Kind != track.KindProduct || l.GroupID != 7 || l.LiveID != 3 || l.ProductID != 11 || l.Ref != spec.Ref {
			t.Fatalf("stored link %+v", l)
		}
		if n := f.count(`SELECT COUNT(*) FROM links WHERE tenant_id = $1`, f.tenant); n != 4 {
			t.Fatalf("%d links stored, want 4 (the product link, the second target, two unkeyed)", n)
		}
		for _, bad := range []string{"javascript:alert(1)", "ftp://x.test/a", "/relative", "https://", ""} {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				_, err := f.svc.LinkTx(ctx, tx, f.tenant, track.Spec{URL: bad})
				return err
			})
			if !errors.Is(err, track.ErrTarget) || !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("target %q: %v", bad, err)
			}
		}
		if _, err := f.svc.Resolve(ctx, "zzzzzzzz"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown code: %v", err)
		}
		if _, err := f.svc.Resolve(ctx, "../etc"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("malformed code: %v", err)
		}
	})
}

func TestRewriteTxTracksEveryLinkOfAMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		ctx := context.Background()
		tracked := f.link(track.Spec{URL: "https://shop.test/old"})
		text := "开播啦 👉 https://ll.test/l/brand/3，快来！再看 https://shop.test/p/1?x=1. 图 https://img.test/a.png " +
			"(https://shop.test/p/1?x=1) 旧 " + base + "/t/" + tracked.Code
		var out string
		var item outbox.Item
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			spec := track.Spec{Kind: track.KindAlert, GroupID: 5, LiveID: 3, Ref: "live:3:alert:1:5", Keep: []string{"https://img.test/a.png"}}
			if out, err = f.svc.RewriteTx(ctx, tx, f.tenant, text, spec); err != nil {
				return err
			}
			item = outbox.Item{TenantID: f.tenant, GroupID: 5, IdemKey: "live:3:alert:1:5", Body: text,
				Card: &channel.Card{Title: "x", ButtonURL: "https://ll.test/l/brand/3"}}
			return f.svc.ItemTx(ctx, tx, &item, track.Spec{Kind: track.KindAlert, LiveID: 3, Keep: spec.Keep})
		})
		if err != nil {
			t.Fatal(err)
		}
		codes := regexp.MustCompile(`https://ll\.test/t/([0-9A-Za-z]{8})`).FindAllStringSubmatch(out, -1)
		// The room, the product (twice: one link), the old tracked link.
		if len(codes) != 4 || codes[1][1] != codes[2][1] || codes[3][1] != tracked.Code {
			t.Fatalf("rewritten: %s", out)
		}
		want := "开播啦 👉 " + base + "/t/" + codes[0][1] + "，快来！再看 " + base + "/t/" + codes[1][1] + ". 图 https://img.test/a.png (" +
			base + "/t/" + codes[1][1] + ") 旧 " + base + "/t/" + tracked.Code
		if out != want {
			t.Fatalf("rewritten:\n%s\nwant\n%s", out, want)
		}
		room := f.resolve(base + "/t/" + codes[0][1])
		if room.URL != "https://ll.test/l/brand/3" || room.Kind != track.KindAlert || room.LiveID != 3 || room.GroupID != 5 {
			t.Fatalf("room link %+v", room)
		}
		if f.resolve(base+"/t/"+codes[1][1]).URL != "https://shop.test/p/1?x=1" {
			t.Fatal("the product link lost its query or kept the sentence's full stop")
		}
		// ItemTx: same message key and targets → the same links; the card's
		// button is the room's link too.
		if item.Body != out || item.Card.ButtonURL != base+"/t/"+codes[0][1] {
			t.Fatalf("item: %q, button %q", item.Body, item.Card.ButtonURL)
		}
	})
}

func TestFindURLs(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"no links here", nil},
		{"see https://a.cn/x，快来", []string{"https://a.cn/x"}},
		{"end https://a.cn/x.", []string{"https://a.cn/x"}},
		{"(https://a.cn/wiki/A_(b))", []string{"https://a.cn/wiki/A_(b)"}},
		{"two http://a.cn and https://b.cn/?q=1&r=2!", []string{"http://a.cn", "https://b.cn/?q=1&r=2"}},
		{"bare https:// and http://.", nil},
		{"「https://a.cn/x」", []string{"https://a.cn/x"}},
	} {
		var got []string
		for _, sp := range track.FindURLs(c.text) {
			got = append(got, c.text[sp[0]:sp[1]])
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%q: %q, want %q", c.text, got, c.want)
		}
	}
}

func TestClickCountsOncePerVisitorMinute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		ann := f.member("ann", "")
		post := f.link(track.Spec{URL: "https://shop.test/a", Kind: track.KindAlert, GroupID: 4, LiveID: 9, Ref: "k1"})
		dm := f.link(track.Spec{URL: "https://shop.test/b", Kind: track.KindStep, MemberID: ann, ContentID: 2, StepID: 3, Ref: "k2"})
		steps := []struct {
			l      track.Link
			member int64
			v      string
			at     time.Time
			want   bool
		}{
			{post, 0, "v1", t0, true},                        // 12:00:05 first click
			{post, 0, "v1", t0.Add(30 * time.Second), false}, // 12:00:35 a reload, same minute
			{post, 0, "v2", t0.Add(31 * time.Second), true},  // another visitor
			{post, 0, "v1", t0.Add(60 * time.Second), true},  // 12:01:05 the next minute
			{dm, 0, "v3", t0, true},                          // the DM's recipient, on any device
			{dm, 0, "v4", t0.Add(10 * time.Second), false},   // ...is one person: same minute
			{post, ann, "v5", t0, true},                      // ann by her member cookie
			{post, ann, "v6", t0.Add(20 * time.Second), false},
			{post, 0, "", t0, false}, // nobody to count
		}
		for i, s := range steps {
			if got := f.click(s.l, s.member, s.v, s.at); got != s.want {
				t.Fatalf("step %d: counted %v, want %v", i, got, s.want)
			}
		}
		// Counted: steps 0, 2, 3, 4, 6 = 5 clicks, 5 events.
		if n := f.count(`SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1`, f.tenant); n != 5 {
			t.Fatalf("%d click rows, want 5", n)
		}
		evs, err := f.log.After(context.Background(), 0, 100, event.LinkClicked)
		if err != nil || len(evs) != 5 {
			t.Fatalf("%d click events (%v), want 5", len(evs), err)
		}
		var d event.TrackData
		if e := evs[0]; e.Source != event.SourceTrack || e.GroupID != 4 || e.MemberID != 0 || e.Decode(&d) != nil ||
			d.LinkID != post.ID || d.LiveID != 9 || d.Kind != "alert" || d.Ref != "k1" ||
			e.SourceID != track.ClickSourceID(post.ID, "v1", t0) {
			t.Fatalf("first click event %+v %+v", e, d)
		}
		if e := evs[3]; e.MemberID != ann || e.Decode(&d) != nil || d.StepID != 3 || d.ContentID != 2 {
			t.Fatalf("the DM click is not ann's: %+v %+v", e, d)
		}
		if n := f.count(`SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1 AND member_id = $2`, f.tenant, ann); n != 2 {
			t.Fatalf("%d of ann's clicks, want 2 (the DM link, the cookie)", n)
		}
	})
}

func TestIsPreviewBot(t *testing.T) {
	for ua, want := range map[string]bool{
		"TelegramBot (like TwitterBot)":                                     true,
		"WhatsApp/2.23.20.0 A":                                              true,
		"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)":        true,
		"facebookexternalhit/1.1;line-poker/1.0":                            true,
		"Twitterbot/1.0":                                                    true,
		"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)": true,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Line/13.20.0": false,
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36 MicroMessenger/8.0":  false,
		"": false,
	} {
		if got := track.IsPreviewBot(ua); got != want {
			t.Errorf("%q: %v, want %v", ua, got, want)
		}
	}
}

func TestVisitorHash(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a := track.VisitorHash(key, 1, "cookie")
	if len(a) != 32 || strings.Contains(a, "cookie") || a != track.VisitorHash(key, 1, "cookie") {
		t.Fatalf("hash %q", a)
	}
	if a == track.VisitorHash(key, 2, "cookie") || a == track.VisitorHash(key, 1, "cookie2") || track.VisitorHash(key, 1, "") != "" {
		t.Fatal("hashes of two tenants or two cookies agree, or no cookie has a hash")
	}
}

func TestLinksPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		other := setup(t, db, "other")
		var ls []track.Link
		for i := range track.PerPage + 2 {
			ls = append(ls, f.link(track.Spec{URL: "https://shop.test/" + string(rune('a'+i%26))}))
		}
		other.link(track.Spec{URL: "https://other.test/"})
		f.click(ls[0], 0, "v1", t0)
		f.click(ls[0], 0, "v2", t0)
		f.click(ls[1], 0, "v1", t0)
		ctx := context.Background()
		p1, err := f.svc.Links(ctx, f.tenant, 1, false)
		if err != nil || len(p1.Rows) != track.PerPage || !p1.More || p1.Rows[0].ID != ls[len(ls)-1].ID {
			t.Fatalf("page 1: %d rows, more %v, %v", len(p1.Rows), p1.More, err)
		}
		p2, err := f.svc.Links(ctx, f.tenant, 2, false)
		if err != nil || len(p2.Rows) != 2 || p2.More || p2.Rows[1].ID != ls[0].ID || p2.Rows[1].Clicks != 2 || p2.Rows[0].Clicks != 1 {
			t.Fatalf("page 2: %+v %v", p2, err)
		}
		clicked, err := f.svc.Links(ctx, f.tenant, 1, true)
		if err != nil || len(clicked.Rows) != 2 || clicked.More {
			t.Fatalf("clicked: %+v %v", clicked, err)
		}
	})
}

// A page number from the query string, however large, is an empty page,
// never an error (a negative OFFSET after overflow on PostgreSQL).
func TestLinksHugePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "brand")
		f.link(track.Spec{URL: "https://shop.test/a"})
		for _, page := range []int{math.MaxInt, math.MaxInt/track.PerPage + 2, 1 << 40} {
			p, err := f.svc.Links(context.Background(), f.tenant, page, false)
			if err != nil || len(p.Rows) != 0 || p.More {
				t.Fatalf("page %d: %d rows, more %v, %v", page, len(p.Rows), p.More, err)
			}
		}
	})
}
