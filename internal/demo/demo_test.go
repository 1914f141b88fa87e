package demo_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/demo"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/secretbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

func deps(db *store.DB) demo.Deps {
	log := event.NewLog(db, event.NewLocalBus())
	return demo.Deps{DB: db, Tenants: tenant.NewService(db), Members: member.NewService(db, log),
		Community: community.NewService(db, log), Log: log}
}

// 23:30 in Shanghai.
var now = time.Date(2026, 11, 23, 15, 30, 0, 0, time.UTC)

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		d := deps(db)
		r, created, err := demo.Seed(ctx, d, 7, now)
		if err != nil || !created {
			t.Fatalf("seed: %v %v", created, err)
		}
		if r.Members != 320 || len(r.Groups) != 4 || r.Messages < 8000 || r.Messages > 15000 || r.JoinCode == "" {
			t.Fatalf("result %+v", r)
		}
		if r.Tenant.Slug != demo.Slug || r.Tenant.Timezone != "Asia/Shanghai" || r.Tenant.Locale != "zh-CN" {
			t.Fatalf("tenant %+v", r.Tenant)
		}
		kinds := map[community.Kind]bool{}
		for _, g := range r.Groups {
			kinds[g.Kind] = true
			if g.MemberCount == 0 || g.Channel != webchat.Name || g.Audience == "" || g.Promise == "" || g.Tone == "" || g.Rules == "" {
				t.Fatalf("group %+v", g)
			}
		}
		if len(kinds) != 4 || r.Groups[0].Kind != community.Vertical {
			t.Fatalf("kinds %v, first %s", kinds, r.Groups[0].Kind)
		}
		if code, err := d.Community.ResolveJoinCode(ctx, r.JoinCode); err != nil || code.GroupID != r.Groups[0].ID {
			t.Fatalf("join code %q: %+v %v", r.JoinCode, code, err)
		}
		for _, email := range []string{r.OperatorEmail, demo.OwnerEmail} {
			if _, err := d.Tenants.Authenticate(ctx, demo.Slug, email, r.Password); err != nil {
				t.Fatalf("%s login: %v", email, err)
			}
		}
		tid := r.Tenant.ID
		for what, n := range map[string]int{
			"opted out": count(t, db, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND opted_out`, tid),
			"phones":    count(t, db, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND phone <> ''`, tid),
			"tagged":    count(t, db, `SELECT COUNT(DISTINCT member_id) FROM member_tags WHERE tenant_id = $1`, tid),
			"left":      count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'member_left'`, tid),
			"staff":     count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'message' AND staff_id IS NOT NULL`, tid),
		} {
			if n == 0 || n >= 320 && what != "staff" {
				t.Errorf("%s: %d", what, n)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND at >= $2`, tid, store.Millis(now)); n > 0 {
			t.Errorf("%d events in the future", n)
		}

		before := count(t, db, `SELECT COUNT(*) FROM events`) + count(t, db, `SELECT COUNT(*) FROM members`)
		again, created, err := demo.Seed(ctx, d, 7, now.Add(48*time.Hour))
		if err != nil || created || again.Messages != r.Messages || again.Members != r.Members || again.JoinCode != r.JoinCode {
			t.Fatalf("second seed: %v %v %+v", created, err, again)
		}
		if after := count(t, db, `SELECT COUNT(*) FROM events`) + count(t, db, `SELECT COUNT(*) FROM members`); after != before {
			t.Fatalf("second seed added rows: %d → %d", before, after)
		}
	})
}

// The daily rhythm: evenings are far busier than the small hours.
func TestSeedEveningPeak(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	r, _, err := demo.Seed(context.Background(), deps(db), 11, now)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.R.Query(`SELECT at FROM events WHERE tenant_id = $1 AND type = 'message'`, r.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var evening, night int
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			t.Fatal(err)
		}
		switch h := store.Time(ms).In(r.Tenant.Location()).Hour(); {
		case h >= 19 && h < 23:
			evening++
		case h >= 1 && h < 7:
			night++
		}
	}
	if evening < 15*night {
		t.Fatalf("evening %d vs night %d: no evening peak", evening, night)
	}
}

// digest sums up the demo data that must not depend on anything but the
// seed and the day: members, memberships and every message.
func digest(t *testing.T, db *store.DB, seed int64, at time.Time) string {
	t.Helper()
	if _, _, err := demo.Seed(context.Background(), deps(db), seed, at); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	rows, err := db.R.Query(`SELECT display_name, phone, opted_out, created_at FROM members ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, phone string
		var out bool
		var created int64
		if err := rows.Scan(&name, &phone, &out, &created); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s|%s|%v|%d\n", name, phone, out, created)
	}
	rows.Close()
	rows, err = db.R.Query(`SELECT e.type, e.source_id, e.at, COALESCE(m.display_name, ''), e.data FROM events e
		LEFT JOIN members m ON m.id = e.member_id ORDER BY e.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var typ, sourceID, name, data string
		var ms int64
		if err := rows.Scan(&typ, &sourceID, &ms, &name, &data); err != nil {
			t.Fatal(err)
		}
		var msg event.MessageData
		if err := json.Unmarshal([]byte(data), &msg); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s|%s|%d|%s|%s|%s\n", typ, sourceID, ms, name, msg.SenderName, msg.Text)
		n++
	}
	if n < 8000 {
		t.Fatalf("only %d events", n)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// The same seed and day give the same brand, at any time of that day and
// on either engine; another seed gives another brand.
func TestSeedIsDeterministic(t *testing.T) {
	morning := now.Add(-14 * time.Hour) // 09:30 in Shanghai, the same day
	a := digest(t, storetest.Open(t, store.SQLite), 42, now)
	if b := digest(t, storetest.Open(t, store.SQLite), 42, morning); a != b {
		t.Fatal("two seeds with the same seed and day differ")
	}
	if c := digest(t, storetest.Open(t, store.SQLite), 43, now); a == c {
		t.Fatal("another seed gives the same brand")
	}
	t.Run("postgres", func(t *testing.T) {
		if b := digest(t, storetest.Open(t, store.Postgres), 42, now); a != b {
			t.Fatal("PostgreSQL and SQLite seeds differ")
		}
	})
}

// Run with:
//
//	go test -run '^$' -bench Seed ./internal/demo/
func BenchmarkSeed(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			for i := range b.N {
				b.StopTimer()
				db := storetest.Open(b, d)
				b.StartTimer()
				if _, _, err := demo.Seed(context.Background(), deps(db), int64(i), now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// With the routine's services the demo brand also has its personas and
// rules, rewards, a month of check-ins, polls (one decided, one open), a
// prompt with entries, a private thread and the VIP group's join question.
func TestSeedRoutine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		d := deps(db)
		d.Bot, d.Loyalty, d.Polls = runner.NewStore(db), loyalty.NewService(db, d.Log), poll.New(db, d.Log)
		box, _ := secretbox.New([]byte("demo-test-encryption-key-0123456789"))
		d.Accounts = account.NewManager(db, box, map[string]account.Factory{
			account.Telegram: func(account.Account, map[string]string) (channel.Channel, error) { return nil, nil },
			account.LINE:     func(account.Account, map[string]string) (channel.Channel, error) { return nil, nil },
		}, slog.Default())
		d.Lives = live.New(db, d.Log)
		d.Campaigns = campaign.New(db, func() time.Time { return now })
		r, _, err := demo.Seed(ctx, d, 7, now)
		if err != nil {
			t.Fatal(err)
		}
		tid := r.Tenant.ID
		for what, c := range map[string]struct {
			n      int
			lo, hi int
		}{
			"personas":      {count(t, db, `SELECT COUNT(*) FROM personas WHERE tenant_id = $1`, tid), 4, 4},
			"rules":         {count(t, db, `SELECT COUNT(*) FROM bot_rules WHERE tenant_id = $1`, tid), 8, 8},
			"rewards":       {count(t, db, `SELECT COUNT(*) FROM rewards WHERE tenant_id = $1`, tid), 3, 3},
			"check-ins":     {count(t, db, `SELECT COUNT(*) FROM checkins WHERE tenant_id = $1`, tid), 200, 5000},
			"polls":         {count(t, db, `SELECT COUNT(*) FROM polls WHERE tenant_id = $1 AND kind = 'poll'`, tid), 2, 2},
			"decided polls": {count(t, db, `SELECT COUNT(*) FROM polls WHERE tenant_id = $1 AND closed_at > 0`, tid), 1, 1},
			"votes":         {count(t, db, `SELECT COUNT(*) FROM poll_votes WHERE tenant_id = $1`, tid), 40, 95},
			"entries":       {count(t, db, `SELECT COUNT(*) FROM poll_entries WHERE tenant_id = $1`, tid), 8, 8},
			"private":       {count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'direct_message'`, tid), 4, 4},
			"questions":     {count(t, db, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND join_question <> ''`, tid), 1, 1},
			"lives":         {count(t, db, `SELECT COUNT(*) FROM lives WHERE tenant_id = $1 AND state = 'scheduled'`, tid), 1, 1},
			"live products": {count(t, db, `SELECT COUNT(*) FROM live_products WHERE tenant_id = $1`, tid), 5, 5},
			"restock asks":  {count(t, db, `SELECT COUNT(*) FROM restock_requests WHERE tenant_id = $1`, tid), 8, 8},
			"content":       {count(t, db, `SELECT COUNT(*) FROM campaign_content WHERE tenant_id = $1`, tid), 9, 20},
			"playbooks":     {count(t, db, `SELECT COUNT(*) FROM campaign_playbooks WHERE tenant_id = $1 AND active`, tid), 2, 2},
			"warm-up jobs":  {count(t, db, `SELECT COUNT(*) FROM campaign_jobs WHERE tenant_id = $1 AND state = 'pending' AND live_id > 0`, tid), 2, 10},
			"channels":      {count(t, db, `SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = $1 AND status = 'demo' AND last_error LIKE '%cannot connect%'`, tid), 2, 2},
		} {
			if c.n < c.lo || c.n > c.hi {
				t.Errorf("%s: %d, want %d–%d", what, c.n, c.lo, c.hi)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND at >= $2`, tid, store.Millis(now)); n > 0 {
			t.Errorf("%d events in the future", n)
		}
	})
}
