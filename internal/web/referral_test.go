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
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/referral"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func newGroup(t *testing.T, e *apptest.Env, b apptest.Brand, name string, kind community.Kind) community.Group {
	t.Helper()
	g, _, err := e.App.Community.CreateGroup(context.Background(), community.Group{TenantID: b.Tenant.ID, Channel: webchat.Name, Name: name, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGroupSetRoutesConcurrentJoins: 300 visitors join at once through a
// set's link [A soft 100, B soft 100, C soft 100] and end up exactly
// 100/100/100; the 301st sees "all groups are full" and the console warns.
func TestGroupSetRoutesConcurrentJoins(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := apptest.Start(t, d)
			b := e.Brand("sets")
			op := e.Client()
			op.Login(b)
			groups := []community.Group{newGroup(t, e, b, "A 群", community.Referral), newGroup(t, e, b, "B 群", community.Referral),
				newGroup(t, e, b, "C 群", community.Referral)}
			form := url.Values{"name": {"春季活码"}}
			for i, g := range groups {
				id := fmt.Sprint(g.ID)
				form.Add("on", id)
				form.Set("pos_"+id, fmt.Sprint(i+1))
				form.Set("soft_"+id, "100")
				form.Set("hard_"+id, "100")
			}
			// Bad input first: a hard cap below the soft cap is refused, nothing stored.
			bad := url.Values{"name": {"x"}, "on": {fmt.Sprint(groups[0].ID)}, "soft_" + fmt.Sprint(groups[0].ID): {"5"}, "hard_" + fmt.Sprint(groups[0].ID): {"4"}}
			must(t, op.PostForm("/console/groupsets", bad), http.StatusBadRequest, "hard cap")
			r := op.PostForm("/console/groupsets", form)
			must(t, r, http.StatusSeeOther)
			setPage := op.Get(r.Header.Get("Location"))
			must(t, setPage, 200, "春季活码", "A 群", "B 群", "C 群")
			code := between(setPage.Body, e.URL+"/j/", `"`)
			if code == "" {
				t.Fatal("no set link on the set page")
			}
			must(t, op.Get(r.Header.Get("Location")+"/qr/"+code+".png"), 200)

			// 300 joins, 32 in flight at any moment: racing enough to cross
			// each soft cap under contention, few enough that a loaded CI
			// machine answers each within the client's timeout.
			var wg sync.WaitGroup
			statuses := make([]int, 300)
			inFlight := make(chan struct{}, 32)
			for i := range statuses {
				wg.Go(func() {
					inFlight <- struct{}{}
					defer func() { <-inFlight }()
					resp := e.Client().PostForm("/j/"+code, url.Values{"name": {fmt.Sprint("访客", i)}})
					statuses[i] = resp.Status
				})
			}
			wg.Wait()
			for i, st := range statuses {
				if st != http.StatusSeeOther {
					t.Fatalf("join %d: status %d", i, st)
				}
			}
			for _, g := range groups {
				got, err := e.App.Community.Group(context.Background(), b.Tenant.ID, g.ID)
				if err != nil || got.MemberCount != 100 {
					t.Fatalf("%s has %d members (%v), want 100", g.Name, got.MemberCount, err)
				}
			}
			late := e.Client()
			must(t, late.Get("/j/"+code), http.StatusConflict, "All groups are full")
			must(t, late.PostForm("/j/"+code, url.Values{"name": {"迟到"}}), http.StatusConflict, "All groups are full")
			if late.Cookie(fmt.Sprintf("ll_m%d", b.Tenant.ID)) != nil {
				t.Fatal("a refused join left a member cookie")
			}
			must(t, op.Get("/console/groupsets"), 200, "data-set-full-warning")
			// A member already in the set is sent to their group.
			first := e.Client()
			first.Join(b.JoinCode.Code, "老成员")
			if err := first.PostForm("/j/"+code, url.Values{}); err.Status != http.StatusConflict {
				t.Fatalf("member outside the set, set full: %d", err.Status)
			}
		})
	}
}

// TestGroupSetOrderAndExistingMember: soft caps open the next group; once
// all reached it, the first below its hard cap; a member of the set goes
// back to their group.
func TestGroupSetOrderAndExistingMember(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		b := e.Brand("order")
		a, c := newGroup(t, e, b, "A", community.Vertical), newGroup(t, e, b, "C", community.Vertical)
		st, jc, err := e.App.Referral.CreateSet(ctx, setOf(b, a.ID, 1, 2, c.ID, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{a.ID, c.ID, a.ID}
		var clients []*apptest.Client
		for i, w := range want {
			cl := e.Client()
			loc := cl.Join(jc.Code, fmt.Sprint("m", i))
			if loc != fmt.Sprintf("/m/%s/g/%d", b.Tenant.Slug, w) {
				t.Fatalf("join %d went to %s, want group %d", i, loc, w)
			}
			clients = append(clients, cl)
		}
		// Already in C: the link goes back to C, no second join.
		r := clients[1].Get("/j/" + jc.Code)
		must(t, r, http.StatusSeeOther)
		if r.Header.Get("Location") != fmt.Sprintf("/m/%s/g/%d", b.Tenant.Slug, c.ID) {
			t.Fatalf("member of the set sent to %s", r.Header.Get("Location"))
		}
		if loc := clients[1].Join(jc.Code, ""); loc != fmt.Sprintf("/m/%s/g/%d", b.Tenant.Slug, c.ID) {
			t.Fatalf("second join to %s", loc)
		}
		got, _ := e.App.Referral.Set(ctx, b.Tenant.ID, st.ID)
		if got.Groups[0].Active != 2 || got.Groups[1].Active != 1 {
			t.Fatalf("fill %+v", got.Groups)
		}
		// The single-group code of the brand still admits to its group.
		if loc := e.Client().Join(b.JoinCode.Code, "single"); loc != fmt.Sprintf("/m/%s/g/%d", b.Tenant.Slug, b.Group.ID) {
			t.Fatalf("single code to %s", loc)
		}
		// Another brand's operator cannot see the set.
		other := e.Brand("other")
		intruder := e.Client()
		intruder.Login(other)
		must(t, intruder.Get(fmt.Sprintf("/console/groupsets/%d", st.ID)), http.StatusNotFound)
		must(t, intruder.PostForm(fmt.Sprintf("/console/groupsets/%d", st.ID), url.Values{"name": {"hijack"}}), http.StatusNotFound)
		must(t, intruder.Get(fmt.Sprintf("/console/groupsets/%d/qr/%s.png", st.ID, jc.Code)), http.StatusNotFound)
	})
}

func setOf(b apptest.Brand, caps ...int64) (st referral.Set) {
	st.TenantID, st.Name = b.Tenant.ID, "set"
	for i := 0; i+2 < len(caps); i += 3 {
		st.Groups = append(st.Groups, referral.SetGroup{GroupID: caps[i], SoftCap: int(caps[i+1]), HardCap: int(caps[i+2])})
	}
	return st
}

// TestJoinGate: a VIP group's gate refuses with its message and nothing
// is stored; once allowed, the join goes through.
func TestJoinGate(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("gate")
	vip := newGroup(t, e, b, "VIP 群", community.VIP)
	codes, _ := e.App.Community.JoinCodes(context.Background(), b.Tenant.ID, vip.ID)
	var mu sync.Mutex
	allowed := map[int64]bool{}
	var asked []int64
	e.App.Web.JoinGate = func(ctx context.Context, tenantID, groupID, memberID int64) error {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, groupID)
		if groupID == vip.ID && !allowed[memberID] {
			return fmt.Errorf("%w: only gold members may join this group", store.ErrForbidden)
		}
		return nil
	}
	visitor := e.Client()
	must(t, visitor.PostForm("/j/"+codes[0].Code, url.Values{"name": {"路人"}}), http.StatusForbidden, "only gold members may join this group")
	if visitor.Cookie(fmt.Sprintf("ll_m%d", b.Tenant.ID)) != nil {
		t.Fatal("refused join left a member")
	}
	m := e.Client()
	m.Join(b.JoinCode.Code, "老客") // the ordinary group: the gate allows
	mid := memberIDOf(t, e, b, "老客")
	must(t, m.PostForm("/j/"+codes[0].Code, nil), http.StatusForbidden, "only gold members")
	mu.Lock()
	allowed[mid] = true
	mu.Unlock()
	if loc := m.Join(codes[0].Code, ""); loc != fmt.Sprintf("/m/%s/g/%d", b.Tenant.Slug, vip.ID) {
		t.Fatalf("allowed join to %s", loc)
	}
}

func memberIDOf(t *testing.T, e *apptest.Env, b apptest.Brand, name string) int64 {
	t.Helper()
	var id int64
	if err := e.App.DB.R.QueryRow(`SELECT id FROM members WHERE tenant_id = $1 AND display_name = $2`, b.Tenant.ID, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestReferralCampaign runs a campaign through its pages: the member's
// invite link, a self-invite, four joins from one address (three count),
// an invitee leaving before the stay days (not counted, reason shown), and
// the reward given once though the loop runs twice.
func TestReferralCampaign(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		b := e.Brand("fission")
		var mu sync.Mutex
		now := time.Now().UTC()
		e.App.Referral.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		op := e.Client()
		op.Login(b)
		must(t, op.Get("/console/referrals"), 200, "New campaign")
		loc := b.Tenant.Location()
		form := url.Values{"name": {"春季邀请"}, "target": {fmt.Sprintf("group:%d", b.Group.ID)}, "stay_days": {"2"},
			"starts_at": {now.Add(-time.Hour).In(loc).Format("2006-01-02T15:04")}, "ends_at": {now.Add(30 * 24 * time.Hour).In(loc).Format("2006-01-02T15:04")},
			"threshold_1": {"2"}, "points_1": {"30"}, "gift_1": {"试用装"}}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("ends_at", bad.Get("starts_at"))
		must(t, op.PostForm("/console/referrals", bad), http.StatusBadRequest, "end after it starts")
		r := op.PostForm("/console/referrals", form)
		must(t, r, http.StatusSeeOther)
		campURL := r.Header.Get("Location")

		referrer := e.Client()
		referrer.Join(b.JoinCode.Code, "小红")
		home := referrer.Get("/m/" + b.Tenant.Slug)
		must(t, home, 200, "/m/"+b.Tenant.Slug+"/invite")
		page := referrer.Get("/m/" + b.Tenant.Slug + "/invite")
		must(t, page, 200, "春季邀请", "data-invite-url")
		code := between(page.Body, e.URL+"/r/", `"`)
		if code == "" {
			t.Fatal("no invite link")
		}
		must(t, referrer.Get(fmt.Sprintf("/m/%s/invite/%s/qr.svg", b.Tenant.Slug, strings.TrimPrefix(campURL, "/console/referrals/"))), 200, "<svg")

		// The referrer through their own link: sent to the chat, recorded as a self-invite.
		must(t, referrer.PostForm("/r/"+code, nil), http.StatusSeeOther)
		advance(11 * time.Minute)

		// Four friends from one address within ten minutes.
		var friends []*apptest.Client
		for i := range 4 {
			f := e.Client()
			must(t, f.Get("/r/"+code), 200, "小红 invited you")
			jr := f.PostForm("/r/"+code, url.Values{"name": {fmt.Sprint("朋友", i)}})
			must(t, jr, http.StatusSeeOther)
			if got := jr.Header.Get("Location"); got != fmt.Sprintf("/m/%s/g/%d", b.Tenant.Slug, b.Group.ID) {
				t.Fatalf("friend %d joined %s", i, got)
			}
			friends = append(friends, f)
		}
		advance(11 * time.Minute)
		// The referrer's own phone with a fresh identity.
		phone := e.Client()
		phone.SetCookie(referrer.Cookie("ll_dev"))
		must(t, phone.PostForm("/r/"+code, url.Values{"name": {"小号"}}), http.StatusSeeOther)

		// Friend 1 leaves after a day.
		advance(24 * time.Hour)
		must(t, friends[1].PostForm(fmt.Sprintf("/m/%s/g/%d/leave", b.Tenant.Slug, b.Group.ID), nil), http.StatusSeeOther)
		advance(2 * 24 * time.Hour)
		for range 2 {
			if _, err := e.App.Referral.Settle(ctx); err != nil {
				t.Fatal(err)
			}
		}
		show := op.Get(campURL)
		must(t, show, 200, "self-invite", "suspicious: many joins from one address", "left before the required days",
			"self-invite: the referrer&#39;s own device", `data-count-valid>2<`, `data-count-rejected>4<`)
		mine := referrer.Get("/m/" + b.Tenant.Slug + "/invite")
		must(t, mine, 200, "Valid 2", "left before the required days", "30 points", "试用装", "data-grant")
		if strings.Count(mine.Body, "data-grant>") != 1 {
			t.Fatalf("rewards shown %d times", strings.Count(mine.Body, "data-grant>"))
		}
		if bal, _ := e.App.Loyalty.Balance(ctx, b.Tenant.ID, memberIDOf(t, e, b, "小红")); bal != 30 {
			t.Fatalf("balance %d, want 30", bal)
		}
		// Leaderboard: names only.
		if !strings.Contains(between(mine.Body, "data-leaders>", "</ol>"), "小红") {
			t.Fatalf("leaderboard lacks the referrer: %s", between(mine.Body, "data-leaders>", "</ol>"))
		}
		// The gift: handed over by the operator, once.
		gid := between(show.Body, `data-grant="`, `"`)
		must(t, op.PostForm(campURL+"/grants/"+gid+"/fulfil", nil), http.StatusSeeOther)
		must(t, op.Get(campURL), 200, "handed over")
		// Ending the campaign stops the link.
		must(t, op.PostForm(campURL+"/end", nil), http.StatusSeeOther)
		advance(time.Minute)
		must(t, e.Client().Get("/r/"+code), http.StatusGone)
	})
}
