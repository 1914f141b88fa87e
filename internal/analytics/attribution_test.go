package analytics_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/track"
)

// The attribution fixture goes through the real path: tracked links,
// clicks, orders recorded by commerce with track's OnOrder hook. The
// brand is in Asia/Shanghai; the period is Monday 2 March 2026 (local).
//
// Groups G1 (web), G2 (telegram/1). Live L1 "春季专场"; content C1
// "护肤干货". Members ann, bob, cat, dan. Each order's buyer clicked one
// link an hour before it (all inside the 24 h window):
//
//	order  buyer  paid (local)   amount  refunded  last touch
//	O1     ann    2 Mar 10:00    100.00            alert link: L1 in G1
//	O2     ann    2 Mar 15:00     50.00  10.00     push link: C1 posted in G1
//	O3     bob    2 Mar 20:00     80.00            product link: L1 in G2
//	O4     cat    2 Mar 21:00     30.00            DM link: C1 to cat (no group)
//	O5     dan    2 Mar 22:00    200.00            — (no click: not attributed)
//	O6     ann    3 Mar 09:00     40.00            alert link (the next day: outside the period)
type attrFx struct {
	t      *testing.T
	db     *store.DB
	tenant int64
	loc    *time.Location
	g1, g2 int64
	l1, c1 int64
	orders map[string]int64
}

func (f *attrFx) at(day, hour int) time.Time {
	return time.Date(2026, time.March, day, hour, 0, 0, 0, f.loc)
}

func (f *attrFx) id(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.W.QueryRow(q+` RETURNING id`, args...).Scan(&id); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func newAttrFx(t *testing.T, db *store.DB) *attrFx {
	ctx := context.Background()
	f := &attrFx{t: t, db: db, loc: insLoc(t), orders: map[string]int64{}}
	created := store.Millis(f.at(1, 9))
	f.tenant = f.id(`INSERT INTO tenants (slug, name, timezone, created_at) VALUES ('attr', 'Attr', 'Asia/Shanghai', $1)`, created)
	f.g1 = f.id(`INSERT INTO community_groups (tenant_id, channel, name, kind, created_at) VALUES ($1, 'web', 'G1', 'vertical', $2)`, f.tenant, created)
	f.g2 = f.id(`INSERT INTO community_groups (tenant_id, channel, name, kind, created_at) VALUES ($1, 'telegram/1', 'G2', 'vertical', $2)`, f.tenant, created)
	f.l1 = f.id(`INSERT INTO lives (tenant_id, title, scheduled_at, created_at) VALUES ($1, '春季专场', $2, $2)`, f.tenant, created)
	f.c1 = f.id(`INSERT INTO campaign_content (tenant_id, title, type, format, created_at, updated_at) VALUES ($1, '护肤干货', 'knowledge', 'text', $2, $2)`,
		f.tenant, created)
	member := func(name, phone string) int64 {
		return f.id(`INSERT INTO members (tenant_id, display_name, phone, created_at) VALUES ($1, $2, $3, $4)`, f.tenant, name, phone, created)
	}
	ann, bob, cat := member("ann", "13800000001"), member("bob", "13800000002"), member("cat", "13800000003")
	member("dan", "13800000004")

	log := event.NewLog(db, event.NewLocalBus())
	tr := track.New(db, log, "https://ll.test")
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	shop := commerce.New(db, log, ob, i18n.MustLoad())
	shop.SetClock(func() time.Time { return f.at(4, 12) })
	shop.OnOrder = tr.AttributeOrderTx
	link := func(spec track.Spec) track.Link {
		var short string
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			short, err = tr.LinkTx(ctx, tx, f.tenant, spec)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		l, err := tr.Resolve(ctx, short[len("https://ll.test/t/"):])
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	alert := link(track.Spec{URL: "https://ll.test/l/attr/1", Kind: track.KindAlert, LiveID: f.l1, GroupID: f.g1, Ref: "alert"})
	push := link(track.Spec{URL: "https://shop.test/guide", Kind: track.KindStep, ContentID: f.c1, GroupID: f.g1, Ref: "push"})
	product := link(track.Spec{URL: "https://shop.test/p", Kind: track.KindProduct, LiveID: f.l1, GroupID: f.g2, Ref: "product"})
	dm := link(track.Spec{URL: "https://shop.test/guide", Kind: track.KindStep, ContentID: f.c1, MemberID: cat, Ref: "dm"})
	order := func(id, phone string, amount, refunded int64, paid time.Time, clicked track.Link, who int64) {
		if clicked.ID != 0 {
			if _, err := tr.Click(ctx, clicked, track.Visit{MemberID: who, Visitor: "v" + id, At: paid.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		o, _, err := shop.Record(ctx, commerce.Order{TenantID: f.tenant, ExternalID: id, Source: commerce.FromAPI, Phone: phone,
			AmountMinor: amount, RefundedMinor: refunded, PaidAt: paid})
		if err != nil {
			t.Fatalf("order %s: %v", id, err)
		}
		f.orders[id] = o.ID
	}
	order("O1", "13800000001", 100_00, 0, f.at(2, 10), alert, ann)
	order("O2", "13800000001", 50_00, 10_00, f.at(2, 15), push, ann)
	order("O3", "13800000002", 80_00, 0, f.at(2, 20), product, bob)
	order("O4", "13800000003", 30_00, 0, f.at(2, 21), dm, 0)
	order("O5", "13800000004", 200_00, 0, f.at(2, 22), track.Link{}, 0)
	order("O6", "13800000001", 40_00, 0, f.at(3, 9), alert, ann)
	return f
}

func TestAttribution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAttrFx(t, db)
		svc := analytics.New(db)
		ctx := context.Background()
		day := analytics.DayOf(f.at(2, 12), f.loc)
		filter := analytics.Filter{TenantID: f.tenant, Period: analytics.Period{From: day, To: day + 1}, Loc: f.loc}
		lk, ck, gk := fmt.Sprint("live:", f.l1), fmt.Sprint("content:", f.c1), func(g int64) string { return fmt.Sprint("group:", g) }
		for _, tc := range []struct {
			name                  string
			group                 int64
			channel               string
			lives, pushes, groups []analytics.Attributed
		}{
			{
				name: "all groups",
				// L1: O1 100.00 + O3 80.00 = 180.00 in 2 orders (O6 is the next day).
				lives: []analytics.Attributed{{Key: lk, Label: "春季专场", Orders: 2, GMV: 180_00}},
				// C1: O2 50.00−10.00 = 40.00 + O4 30.00 = 70.00 in 2 orders.
				pushes: []analytics.Attributed{{Key: ck, Label: "护肤干货", Orders: 2, GMV: 70_00}},
				// G1: O1 100.00 + O2 40.00 = 140.00; G2: O3 80.00. (O4's DM link has no group.)
				groups: []analytics.Attributed{{Key: gk(f.g1), Label: "G1", Orders: 2, GMV: 140_00}, {Key: gk(f.g2), Label: "G2", Orders: 1, GMV: 80_00}},
			},
			{
				name: "group G2", group: f.g2,
				// Only O3's last touch was posted in G2.
				lives:  []analytics.Attributed{{Key: lk, Label: "春季专场", Orders: 1, GMV: 80_00}},
				groups: []analytics.Attributed{{Key: gk(f.g2), Label: "G2", Orders: 1, GMV: 80_00}},
			},
			{
				name: "telegram", channel: "telegram",
				lives:  []analytics.Attributed{{Key: lk, Label: "春季专场", Orders: 1, GMV: 80_00}},
				groups: []analytics.Attributed{{Key: gk(f.g2), Label: "G2", Orders: 1, GMV: 80_00}},
			},
			{
				name: "web", channel: "web",
				// O1 (L1, G1) and O2 (C1, G1): L1 100.00, C1 40.00, G1 140.00.
				lives:  []analytics.Attributed{{Key: lk, Label: "春季专场", Orders: 1, GMV: 100_00}},
				pushes: []analytics.Attributed{{Key: ck, Label: "护肤干货", Orders: 1, GMV: 40_00}},
				groups: []analytics.Attributed{{Key: gk(f.g1), Label: "G1", Orders: 2, GMV: 140_00}},
			},
		} {
			fl := filter
			fl.GroupID, fl.Channel = tc.group, tc.channel
			lives, pushes, groups, err := svc.Attribution(ctx, fl)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if fmt.Sprint(lives) != fmt.Sprint(tc.lives) || fmt.Sprint(pushes) != fmt.Sprint(tc.pushes) || fmt.Sprint(groups) != fmt.Sprint(tc.groups) {
				t.Errorf("%s:\nlives  %v\npushes %v\ngroups %v", tc.name, lives, pushes, groups)
			}
		}
		// The next day: O6 alone (ann's alert click of 08:00).
		next := filter
		next.Period = analytics.Period{From: day + 1, To: day + 2}
		if lives, _, _, err := svc.Attribution(ctx, next); err != nil || fmt.Sprint(lives) != fmt.Sprint([]analytics.Attributed{{Key: lk, Label: "春季专场", Orders: 1, GMV: 40_00}}) {
			t.Fatalf("next day: %v %v", lives, err)
		}
		// A period without orders, an empty period, another tenant: nothing.
		for _, fl := range []analytics.Filter{
			{TenantID: f.tenant, Period: analytics.Period{From: day + 10, To: day + 11}, Loc: f.loc},
			{TenantID: f.tenant, Period: analytics.Period{From: day, To: day}, Loc: f.loc},
			{TenantID: f.tenant + 1000, Period: filter.Period, Loc: f.loc},
		} {
			lives, pushes, groups, err := svc.Attribution(ctx, fl)
			if err != nil || len(lives)+len(pushes)+len(groups) != 0 {
				t.Fatalf("%+v: %v %v %v %v", fl, lives, pushes, groups, err)
			}
		}
	})
}
