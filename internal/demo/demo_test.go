package demo_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/demo"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

func deps(db *store.DB) demo.Deps {
	log := event.NewLog(db, event.NewLocalBus())
	return demo.Deps{DB: db, Tenants: tenant.NewService(db), Members: member.NewService(db, log),
		Community: community.NewService(db, log), Log: log}
}

var now = time.Date(2026, 11, 23, 15, 30, 0, 0, time.UTC)

func TestSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		d := deps(db)
		r, created, err := demo.Seed(ctx, d, 7, now)
		if err != nil || !created {
			t.Fatalf("seed: %v %v", created, err)
		}
		if r.Members != 320 || len(r.Groups) != 4 || r.Messages < 6000 || r.Messages > 16000 || r.JoinCode == "" {
			t.Fatalf("result %+v", r)
		}
		kinds := map[community.Kind]bool{}
		for _, g := range r.Groups {
			kinds[g.Kind] = true
			if g.MemberCount == 0 || g.Audience == "" || g.Promise == "" {
				t.Fatalf("group %+v", g)
			}
		}
		if len(kinds) != 4 {
			t.Fatalf("kinds %v", kinds)
		}
		if _, err := d.Tenants.Authenticate(ctx, demo.Slug, r.OperatorEmail, r.Password); err != nil {
			t.Fatalf("operator login: %v", err)
		}
		again, created, err := demo.Seed(ctx, d, 7, now)
		if err != nil || created || again.Messages != r.Messages || again.Members != r.Members {
			t.Fatalf("second seed: %v %v %+v", created, err, again)
		}
		// The daily rhythm: evenings are far busier than small hours.
		loc, _ := time.LoadLocation("Asia/Shanghai")
		var evening, night int
		rows, err := db.R.Query(`SELECT at FROM events WHERE tenant_id = $1 AND type = 'message'`, r.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var ms int64
			rows.Scan(&ms)
			switch h := time.UnixMilli(ms).In(loc).Hour(); {
			case h >= 19 && h < 23:
				evening++
			case h >= 1 && h < 7:
				night++
			}
			if time.UnixMilli(ms).After(now) {
				t.Fatalf("message in the future: %v", time.UnixMilli(ms))
			}
		}
		rows.Close()
		if evening < 10*night {
			t.Fatalf("evening %d vs night %d: no evening peak", evening, night)
		}
	})
}

// The same seed and day give the same brand, on either engine.
func TestSeedIsDeterministic(t *testing.T) {
	digest := func(db *store.DB) string {
		if _, _, err := demo.Seed(context.Background(), deps(db), 42, now); err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		rows, err := db.R.Query(`SELECT m.display_name, e.at, e.data FROM events e LEFT JOIN members m ON m.id = e.member_id
			WHERE e.type = 'message' ORDER BY e.id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name *string
			var at int64
			var data string
			rows.Scan(&name, &at, &data)
			n := ""
			if name != nil {
				n = *name
			}
			fmt.Fprintf(h, "%s|%d|%d\n", n, at, len(data))
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	a := digest(storetest.Open(t, store.SQLite))
	b := digest(storetest.Open(t, store.SQLite))
	if a != b {
		t.Fatal("two seeds with the same seed differ")
	}
}
