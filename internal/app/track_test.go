package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/track"
)

// Every link liveloop sends is a tracked link, made by the real senders
// in the transaction that queues the message: the live-start alert and a
// product switch (runner), a playbook step (dispatcher), a perk coupon's
// message (coupons); and an order of a member who clicked is attributed.
func TestSendersTrackTheirLinks(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { sendersTrackTheirLinks(t, d) })
	}
}

var shortLink = regexp.MustCompile(`http://[^/\s]+/t/([0-9A-Za-z]{8})`)

// outboxBody waits for the outbox row under key and returns its body and
// card.
func outboxBody(t *testing.T, e *apptest.Env, tenantID int64, key string) (string, string) {
	t.Helper()
	var body, card string
	waitUntil(t, "the message "+key, func() bool {
		return e.App.DB.R.QueryRow(`SELECT body, card FROM outbox WHERE tenant_id = $1 AND idem_key = $2`, tenantID, key).Scan(&body, &card) == nil
	})
	return body, card
}

// linkIn resolves the one tracked link of a message body.
func linkIn(t *testing.T, e *apptest.Env, body string) track.Link {
	t.Helper()
	m := shortLink.FindStringSubmatch(body)
	if m == nil || !strings.HasPrefix(m[0], e.URL+"/t/") {
		t.Fatalf("no tracked link in %q", body)
	}
	l, err := e.App.Track.Resolve(context.Background(), m[1])
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sendersTrackTheirLinks(t *testing.T, d store.Dialect) {
	e := apptest.Start(t, d)
	br := e.Brand("trk")
	ctx := context.Background()
	a := e.App
	fan := e.Client()
	if r := fan.PostForm("/j/"+br.JoinCode.Code, url.Values{"name": {"Mei"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	var mei int64
	if err := a.DB.R.QueryRow(`SELECT member_id FROM group_members WHERE group_id = $1`, br.Group.ID).Scan(&mei); err != nil {
		t.Fatal(err)
	}

	// The live-start alert: the room's link, tracked as the live's alert
	// in its group; the product switch: the card's button too.
	l, err := a.Lives.Schedule(ctx, live.Live{TenantID: br.Tenant.ID, Title: "Spring live", ScheduledAt: time.Now().Add(time.Hour),
		Alert:    live.Alert{Groups: []int64{br.Group.ID}, Repeat: 1, Interval: 10 * time.Minute},
		Products: []live.Product{{Position: 1, Name: "Serum", Price: 129_00, LivePrice: 99_00, Stock: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Runner.StartLive(ctx, br.Tenant.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	body, _ := outboxBody(t, e, br.Tenant.ID, live.AlertKey(l.ID, 1, br.Group.ID))
	room := e.URL + "/l/trk/" + itoa(l.ID)
	if alert := linkIn(t, e, body); alert.URL != room || alert.Kind != track.KindAlert || alert.LiveID != l.ID || alert.GroupID != br.Group.ID {
		t.Fatalf("alert link %+v in %q", alert, body)
	}
	if strings.Contains(body, room) {
		t.Fatalf("the alert still carries the bare room link: %q", body)
	}
	if _, _, err := a.Runner.SwitchLiveProduct(ctx, br.Tenant.ID, l.ID, l.Products[0].ID); err != nil {
		t.Fatal(err)
	}
	var pbody, card string
	waitUntil(t, "the product post", func() bool {
		return a.DB.R.QueryRow(`SELECT body, card FROM outbox WHERE tenant_id = $1 AND idem_key LIKE $2`, br.Tenant.ID,
			"live:"+itoa(l.ID)+":product:%").Scan(&pbody, &card) == nil
	})
	if p := linkIn(t, e, pbody); p.Kind != track.KindProduct || p.ProductID != l.Products[0].ID || p.URL != room || !strings.Contains(card, "/t/"+p.Code) {
		t.Fatalf("product link %+v, card %s", p, card)
	}

	// A playbook step to the members of the group: one link per recipient,
	// the step and content known.
	if err := a.Campaigns.SetPolicy(ctx, br.Tenant.ID, campaign.Policy{QuietStart: "00:00", QuietEnd: "00:00", SalesCap: 3,
		CapWindow: 7 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	c, err := a.Campaigns.CreateContent(ctx, campaign.Content{TenantID: br.Tenant.ID, Title: "tip", Type: campaign.TypeKnowledge,
		Format: campaign.FormatLink, LinkURL: "https://shop.test/guide?x=1", Variants: map[string]string{"en": "Hello {name}, today's guide 👉 {link}"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Campaigns.SavePlaybook(ctx, campaign.Playbook{TenantID: br.Tenant.ID, Name: "now", Kind: campaign.KindCustom,
		Anchor: campaign.AnchorDate, AnchorAt: time.Now().Add(-time.Minute), Active: true,
		Steps: []campaign.Step{{ContentID: c.ID, Target: campaign.Target{Kind: campaign.TargetDM, Groups: []int64{br.Group.ID}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Campaigns.Arm(ctx, br.Tenant.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	var sbody string
	waitUntil(t, "the step's private message", func() bool {
		return a.DB.R.QueryRow(`SELECT body FROM outbox WHERE tenant_id = $1 AND member_id = $2 AND body LIKE '%guide%'`,
			br.Tenant.ID, mei).Scan(&sbody) == nil
	})
	step := linkIn(t, e, sbody)
	if step.Kind != track.KindStep || step.ContentID != c.ID || step.StepID != p.Steps[0].ID || step.MemberID != mei || step.URL != "https://shop.test/guide?x=1" {
		t.Fatalf("step link %+v in %q", step, sbody)
	}

	// A member-day coupon: its message ends with the tracked link to the
	// member's coupons page.
	b, err := a.Coupons.CreateBatch(ctx, coupon.Batch{TenantID: br.Tenant.ID, Name: "Member day", Kind: coupon.Amount, AmountMinor: 10_00,
		ValidDays: 7, PerMember: 1, Stock: 10})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(br.Tenant.Location())
	if _, err := a.Coupons.CreatePerk(ctx, coupon.Perk{TenantID: br.Tenant.ID, Kind: coupon.MemberDay, Name: "day", BatchID: b.ID,
		DayOfMonth: today.Day(), Weekday: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Coupons.RunPerks(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	var cbody string
	waitUntil(t, "the perk's message", func() bool {
		return a.DB.R.QueryRow(`SELECT body FROM outbox WHERE tenant_id = $1 AND member_id = $2 AND idem_key LIKE 'coupon:%:told'`,
			br.Tenant.ID, mei).Scan(&cbody) == nil
	})
	cl := linkIn(t, e, cbody)
	if cl.Kind != track.KindCoupon || cl.BatchID != b.ID || cl.MemberID != mei || cl.URL != e.URL+"/m/trk/coupons" {
		t.Fatalf("coupon link %+v in %q", cl, cbody)
	}

	// Mei follows the step's link (from her DM, on a phone without her
	// cookie), then buys: the order is the step's.
	phone := e.Client()
	if r := phone.Get("/t/" + step.Code); r.Status != http.StatusFound || r.Header.Get("Location") != step.URL {
		t.Fatalf("click: %d %q", r.Status, r.Header.Get("Location"))
	}
	if _, err := a.DB.W.Exec(`UPDATE members SET phone = '13800000042' WHERE id = $1`, mei); err != nil {
		t.Fatal(err)
	}
	o, _, err := a.Commerce.Record(ctx, commerce.Order{TenantID: br.Tenant.ID, ExternalID: "T-1", Source: commerce.FromAPI,
		Phone: "13800000042", AmountMinor: 99_00, PaidAt: time.Now()})
	if err != nil || o.MemberID != mei {
		t.Fatalf("order: %+v %v", o, err)
	}
	at, err := a.Track.OrderAttribution(ctx, br.Tenant.ID, o.ID)
	if err != nil || at.LastLinkID != step.ID || at.ContentID != c.ID || at.StepID != p.Steps[0].ID || at.MemberID != mei {
		t.Fatalf("order attribution %+v %v", at, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
