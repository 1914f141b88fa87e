package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/track"
)

// trackClock fixes the tracking clock (clicks count once per visitor and
// minute) and returns a function that moves it on.
func trackClock(e *apptest.Env) func(time.Duration) {
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Minute).Add(5 * time.Second)
	e.App.Track.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	return func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
}

// newLink stores a tracked link of the brand as a sender would.
func newLink(t *testing.T, e *apptest.Env, tenantID int64, spec track.Spec) track.Link {
	t.Helper()
	ctx := context.Background()
	var short string
	if err := e.App.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		short, err = e.App.Track.LinkTx(ctx, tx, tenantID, spec)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	l, err := e.App.Track.Resolve(ctx, strings.TrimPrefix(short, e.URL+"/t/"))
	if err != nil {
		t.Fatalf("resolve %s: %v", short, err)
	}
	return l
}

// clicksOf counts a link's clicks, and those of one member (0: those of
// nobody known).
func clicksOf(t *testing.T, e *apptest.Env, l track.Link, member int64) (all, of int) {
	t.Helper()
	e.App.DB.R.QueryRow(`SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1 AND link_id = $2`, l.TenantID, l.ID).Scan(&all)
	q := `SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1 AND link_id = $2 AND member_id = $3`
	args := []any{l.TenantID, l.ID, member}
	if member == 0 {
		q, args = `SELECT COUNT(*) FROM link_clicks WHERE tenant_id = $1 AND link_id = $2 AND member_id IS NULL`, args[:2]
	}
	e.App.DB.R.QueryRow(q, args...).Scan(&of)
	return all, of
}

func memberByName(t *testing.T, e *apptest.Env, tenantID int64, name string) int64 {
	t.Helper()
	var id int64
	if err := e.App.DB.R.QueryRow(`SELECT id FROM members WHERE tenant_id = $1 AND display_name = $2`, tenantID, name).Scan(&id); err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	return id
}

// TestTrackedLinks follows /t/<code> as browsers, preview bots and
// members of two brands do, and reads the console's list.
func TestTrackedLinks(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, other := e.Brand("tka"), e.Brand("tkb")
		advance := trackClock(e)
		ann := e.Client()
		ann.Join(b.JoinCode.Code, "Ann")
		annID := memberByName(t, e, b.Tenant.ID, "Ann")
		post := newLink(t, e, b.Tenant.ID, track.Spec{URL: "https://shop.test/a?x=1", Kind: track.KindAlert, GroupID: b.Group.ID, Ref: "t-1"})
		dm := newLink(t, e, b.Tenant.ID, track.Spec{URL: "https://shop.test/dm", Kind: track.KindStep, MemberID: annID, Ref: "t-2"})
		hostile := newLink(t, e, b.Tenant.ID, track.Spec{URL: `https://evil.test/?q="><script>alert(1)</script>`, Ref: "t-3"})
		theirs := newLink(t, e, other.Tenant.ID, track.Spec{URL: "https://b.test/", GroupID: other.Group.ID, Ref: "t-1"})

		// Unknown and malformed codes: the not-found page, no redirect.
		anon := e.Client()
		for _, code := range []string{"zzzzzzzz", "short", post.Code + "x"} {
			if r := anon.Get("/t/" + code); r.Status != http.StatusNotFound || r.Header.Get("Location") != "" {
				t.Fatalf("/t/%s: %d %q", code, r.Status, r.Header.Get("Location"))
			}
		}
		// A preview fetcher and a HEAD request go on without counting.
		bot := e.Client()
		bot.Header.Set("User-Agent", "TelegramBot (like TwitterBot)")
		if r := bot.Get("/t/" + post.Code); r.Status != http.StatusFound || r.Header.Get("Location") != post.URL || bot.Cookie("ll_v") != nil {
			t.Fatalf("preview bot: %d %q", r.Status, r.Header.Get("Location"))
		}
		if r := anon.Do(http.MethodHead, "/t/"+post.Code, nil, nil); r.Status != http.StatusFound {
			t.Fatalf("HEAD: %d", r.Status)
		}
		if all, _ := clicksOf(t, e, post, 0); all != 0 {
			t.Fatalf("%d clicks after a preview and a HEAD", all)
		}
		// A browser: counted once in its minute, again in the next.
		r := anon.Get("/t/" + post.Code)
		if r.Status != http.StatusFound || r.Header.Get("Location") != post.URL || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("click: %d %q %q", r.Status, r.Header.Get("Location"), r.Header.Get("Cache-Control"))
		}
		set := strings.Join(r.Header.Values("Set-Cookie"), "\n")
		if !strings.Contains(set, "ll_v=") || !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") {
			t.Fatalf("visitor cookie: %s", set)
		}
		anon.Get("/t/" + post.Code)
		if all, anonymous := clicksOf(t, e, post, 0); all != 1 || anonymous != 1 {
			t.Fatalf("a reload counted: %d clicks", all)
		}
		var visitor string
		e.App.DB.R.QueryRow(`SELECT visitor FROM link_clicks WHERE link_id = $1`, post.ID).Scan(&visitor)
		if len(visitor) != 32 || visitor == anon.Cookie("ll_v").Value {
			t.Fatalf("stored visitor %q: want a hash, never the cookie", visitor)
		}
		advance(time.Minute)
		anon.Get("/t/" + post.Code)
		// Ann by her member cookie; the DM's recipient whoever opens it.
		ann.Get("/t/" + post.Code)
		if all, hers := clicksOf(t, e, post, annID); all != 3 || hers != 1 {
			t.Fatalf("post clicks %d, Ann's %d", all, hers)
		}
		e.Client().Get("/t/" + dm.Code)
		if _, hers := clicksOf(t, e, dm, annID); hers != 1 {
			t.Fatal("the DM's click is not Ann's")
		}
		// Another brand's link: its tenant's click; Ann's cookie is not
		// theirs to read.
		if r := ann.Get("/t/" + theirs.Code); r.Status != http.StatusFound || r.Header.Get("Location") != "https://b.test/" {
			t.Fatalf("other brand's link: %d", r.Status)
		}
		if all, nobody := clicksOf(t, e, theirs, 0); all != 1 || nobody != 1 {
			t.Fatalf("other brand's click: %d, anonymous %d", all, nobody)
		}
		var evs int
		e.App.DB.R.QueryRow(`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2`, b.Tenant.ID, string(event.LinkClicked)).Scan(&evs)
		if evs != 4 { // post ×3, dm ×1
			t.Fatalf("%d click events, want 4", evs)
		}

		// The console lists the links newest first, targets escaped.
		op := e.Client()
		op.Login(b)
		page := op.Get("/console/tracking")
		must(t, page, 200, post.Code, dm.Code, hostile.Code, `data-link="`+fmt.Sprint(post.ID)+`"`, "&lt;script&gt;alert(1)&lt;/script&gt;")
		if strings.Contains(page.Body, "<script>alert(1)") || strings.Contains(page.Body, theirs.Code) {
			t.Fatal("a hostile target unescaped, or another brand's link listed")
		}
		if strings.Index(page.Body, hostile.Code) > strings.Index(page.Body, post.Code) {
			t.Fatal("links are not newest first")
		}
		clicked := op.Get("/console/tracking?clicked=1")
		must(t, clicked, 200, post.Code, dm.Code)
		if strings.Contains(clicked.Body, hostile.Code) {
			t.Fatal("an unclicked link among the clicked")
		}
		must(t, op.PostForm("/console/tracking", url.Values{"window_hours": {"0"}}), http.StatusBadRequest, "between 1 and 720 hours")
		must(t, op.PostForm("/console/tracking", url.Values{"window_hours": {"48"}}), http.StatusSeeOther)
		must(t, op.Get("/console/tracking"), 200, `value="48"`)
		if w, _ := e.App.Track.Window(context.Background(), other.Tenant.ID); w != track.DefaultWindow {
			t.Fatal("one brand's window changed another's")
		}
		// Without a session: the login page, and a POST refused.
		if r := e.Client().Get("/console/tracking"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("anonymous console: %d", r.Status)
		}
		if r := e.Client().PostForm("/console/tracking", url.Values{"window_hours": {"2"}}); r.Status < 400 {
			t.Fatalf("anonymous window change: %d", r.Status)
		}
	})
}

// TestJoinAndLiveAttribution: what brought each joiner (the join code's
// label, a live alert's click, the live room's own code, a member's invite
// link), and the live-room entry with the click that led there.
func TestJoinAndLiveAttribution(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		b := e.Brand("tkj")
		trackClock(e)
		l, err := e.App.Lives.Schedule(ctx, live.Live{TenantID: b.Tenant.ID, Title: "Friday live", ScheduledAt: time.Now().Add(time.Hour),
			Alert: live.Alert{Groups: []int64{b.Group.ID}, Repeat: 1, Interval: 10 * time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		room := fmt.Sprintf("/l/%s/%d", b.Tenant.Slug, l.ID)
		alert := newLink(t, e, b.Tenant.ID, track.Spec{URL: e.URL + room, Kind: track.KindAlert, LiveID: l.ID, GroupID: b.Group.ID, Ref: "alert"})
		joinOf := func(name string) event.JoinData {
			t.Helper()
			id := memberByName(t, e, b.Tenant.ID, name)
			evs, err := e.App.Log.MemberTimeline(ctx, b.Tenant.ID, []int64{id}, 50)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				var d event.JoinData
				if ev.Type == event.MemberJoined && ev.Decode(&d) == nil {
					return d
				}
			}
			t.Fatalf("%s has no join", name)
			return event.JoinData{}
		}

		plain := e.Client()
		plain.Join(b.JoinCode.Code, "Plain")
		if d := joinOf("Plain"); d != (event.JoinData{JoinCode: b.JoinCode.Code, Source: "default"}) {
			t.Fatalf("plain join %+v", d)
		}
		// From the alert's link to the room, then the group's code.
		fan := e.Client()
		if r := fan.Get("/t/" + alert.Code); r.Header.Get("Location") != e.URL+room {
			t.Fatalf("alert link went to %q", r.Header.Get("Location"))
		}
		fan.Join(b.JoinCode.Code, "Fan")
		if d := joinOf("Fan"); d != (event.JoinData{JoinCode: b.JoinCode.Code, Source: "live", LiveID: l.ID, LinkID: alert.ID}) {
			t.Fatalf("join after the alert %+v", d)
		}
		// The room's own join link.
		viewer := e.Client()
		code := between(viewer.Get(room).Body, e.URL+"/j/", `"`)
		if code == "" {
			t.Fatal("the room shows no join link")
		}
		viewer.Join(code, "Viewer")
		if d := joinOf("Viewer"); d != (event.JoinData{JoinCode: code, Source: "live", LiveID: l.ID}) {
			t.Fatalf("join from the room %+v", d)
		}

		// The fan, now a member, opens the room: one entry, via the alert.
		for range 2 {
			must(t, fan.Get(room), 200)
		}
		var entries []event.Event
		evs, _ := e.App.Log.After(ctx, 0, 1000, event.LiveEntered)
		for _, ev := range evs {
			if ev.TenantID == b.Tenant.ID {
				entries = append(entries, ev)
			}
		}
		var d event.TrackData
		if len(entries) != 1 || entries[0].MemberID != memberByName(t, e, b.Tenant.ID, "Fan") || entries[0].Decode(&d) != nil ||
			d.LiveID != l.ID || d.ViaLink != alert.ID {
			t.Fatalf("entries %+v %+v", entries, d)
		}

		// A member's invite link: a referral, with the referrer.
		op := e.Client()
		op.Login(b)
		now := time.Now()
		loc := b.Tenant.Location()
		must(t, op.PostForm("/console/referrals", url.Values{"name": {"Spring"}, "target": {fmt.Sprintf("group:%d", b.Group.ID)}, "stay_days": {"0"},
			"starts_at": {now.Add(-time.Hour).In(loc).Format("2006-01-02T15:04")}, "ends_at": {now.Add(24 * time.Hour).In(loc).Format("2006-01-02T15:04")},
			"threshold_1": {"1"}, "points_1": {"5"}}), http.StatusSeeOther)
		invite := between(plain.Get("/m/"+b.Tenant.Slug+"/invite").Body, e.URL+"/r/", `"`)
		if invite == "" {
			t.Fatal("no invite link")
		}
		friend := e.Client()
		must(t, friend.PostForm("/r/"+invite, url.Values{"name": {"Friend"}}), http.StatusSeeOther)
		if d := joinOf("Friend"); d.Source != "referral" || d.ReferrerID != memberByName(t, e, b.Tenant.ID, "Plain") {
			t.Fatalf("invited join %+v", d)
		}
	})
}
