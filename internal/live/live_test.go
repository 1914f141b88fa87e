package live_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

type fixture struct {
	db      *store.DB
	svc     *live.Service
	cs      *community.Service
	tenant  int64
	other   int64 // a second tenant, for isolation
	group   int64
	persona int64
	members []int64
}

// setup makes two tenants; the first has a group, a persona and n members
// (not in the group: tests join those they need).
func setup(t *testing.T, db *store.DB, n int) fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	ts := tenant.NewService(db)
	var ids [2]int64
	for i, slug := range []string{"shop", "rival"} {
		tn, err := ts.Create(ctx, tenant.Tenant{Slug: slug, Name: slug})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = tn.ID
	}
	f := fixture{db: db, svc: live.New(db, log), cs: community.NewService(db, log), tenant: ids[0], other: ids[1]}
	g, _, err := f.cs.CreateGroup(ctx, community.Group{TenantID: f.tenant, Channel: "web", Name: "fans", Kind: community.Vertical, Capacity: 5000})
	if err != nil {
		t.Fatal(err)
	}
	f.group = g.ID
	if err := db.W.QueryRowContext(ctx, `INSERT INTO personas (tenant_id, name, role, created_at) VALUES ($1, '小助手', 'assistant', 1) RETURNING id`,
		f.tenant).Scan(&f.persona); err != nil {
		t.Fatal(err)
	}
	f.members = addMembers(t, db, f.tenant, n)
	return f
}

// addMembers inserts n members of a tenant a hundred rows a statement (the
// member service would take a transaction and an identity each).
func addMembers(t *testing.T, db *store.DB, tenantID int64, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var out []int64
	for start := 0; start < n; start += 100 {
		var sb strings.Builder
		var args []any
		sb.WriteString(`INSERT INTO members (tenant_id, display_name, created_at) VALUES `)
		for i := start; i < min(start+100, n); i++ {
			if i > start {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "($%d, $%d, $%d)", len(args)+1, len(args)+2, len(args)+3)
			args = append(args, tenantID, fmt.Sprint("m", i), int64(1))
		}
		rows, err := db.W.QueryContext(ctx, sb.String()+` RETURNING id`, args...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got...)
	}
	slices.Sort(out)
	return out
}

func (f fixture) join(t *testing.T, member int64) {
	t.Helper()
	if _, err := f.cs.Join(context.Background(), community.JoinRequest{TenantID: f.tenant, GroupID: f.group, MemberID: member, Source: "web"}); err != nil {
		t.Fatal(err)
	}
}

// schedule stores a live of the first tenant with three products and
// alerts to the group.
func (f fixture) schedule(t *testing.T) live.Live {
	t.Helper()
	l, err := f.svc.Schedule(context.Background(), live.Live{TenantID: f.tenant, Title: " 夏季新品 ", ScheduledAt: time.Now().Add(time.Hour),
		StreamURL: "https://live.example.com/1", HostPersonaID: f.persona,
		Alert: live.Alert{Groups: []int64{f.group}, Repeat: 3, Interval: 10 * time.Minute, PersonaID: f.persona},
		Products: []live.Product{
			{Name: "连衣裙", Price: 19900, LivePrice: 12900, Stock: 50},
			{Name: "防晒衣", Price: 9900, LivePrice: 6900, Stock: 0},
			{Name: "凉鞋", Price: 15900, LivePrice: 9900, Stock: 8, CoverURL: "https://img.example.com/s.jpg"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (f fixture) count(t *testing.T, typ event.Type) int {
	t.Helper()
	var n int
	if err := f.db.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2`,
		f.tenant, string(typ)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestScheduleGetList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 0)
		l := f.schedule(t)
		got, err := f.svc.Get(ctx, f.tenant, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "夏季新品" || got.State != live.StateScheduled || !got.StartedAt.IsZero() || got.HostPersonaID != f.persona ||
			!slices.Equal(got.Alert.Groups, []int64{f.group}) || got.Alert.Repeat != 3 || got.Alert.Interval != 10*time.Minute ||
			!got.ScheduledAt.Equal(l.ScheduledAt.Truncate(time.Millisecond)) {
			t.Fatalf("stored %+v", got)
		}
		if len(got.Products) != 3 || got.Products[0].Name != "连衣裙" || got.Products[2].Position != 3 ||
			got.Products[2].CoverURL != "https://img.example.com/s.jpg" || got.Products[1].LivePrice != 6900 {
			t.Fatalf("products %+v", got.Products)
		}
		list, err := f.svc.List(ctx, f.tenant, 10)
		if err != nil || len(list) != 1 || list[0].ID != l.ID || list[0].Products != nil {
			t.Fatalf("list %v %v", list, err)
		}
		// Another tenant sees nothing of it.
		if _, err := f.svc.Get(ctx, f.other, l.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other tenant's get: %v", err)
		}
		if list, err := f.svc.List(ctx, f.other, 10); err != nil || len(list) != 0 {
			t.Fatalf("other tenant's list: %v %v", list, err)
		}
		if ps, err := f.svc.Products(ctx, f.other, l.ID); err != nil || len(ps) != 0 {
			t.Fatalf("other tenant's products: %v %v", ps, err)
		}
	})
}

func TestScheduleRefuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 0)
		base := live.Live{TenantID: f.other, Title: "x", ScheduledAt: time.Now().Add(time.Hour)}
		for name, c := range map[string]struct {
			change func(*live.Live)
			want   string
		}{
			"their host":        {func(l *live.Live) { l.HostPersonaID = f.persona }, "host persona"},
			"their alert group": {func(l *live.Live) { l.Alert = live.Alert{Groups: []int64{f.group}, Repeat: 1} }, "alert group"},
			"their sender": {func(l *live.Live) {
				l.Alert = live.Alert{Groups: nil, Repeat: 1, PersonaID: f.persona}
			}, "alert sender persona"},
			"bad URL":      {func(l *live.Live) { l.EmbedURL = "javascript:x" }, "embed URL"},
			"bad products": {func(l *live.Live) { l.Products = []live.Product{{Name: "a", Position: 2}, {Name: "b", Position: 2}} }, "position 2"},
		} {
			l := base
			c.change(&l)
			if _, err := f.svc.Schedule(ctx, l); !errors.Is(err, live.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %q", name, err, c.want)
			}
		}
		if list, _ := f.svc.List(ctx, f.other, 10); len(list) != 0 {
			t.Fatalf("refused lives were stored: %v", list)
		}
	})
}

func TestStateMachine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 0)
		l := f.schedule(t)
		type step struct {
			name  string
			do    func(context.Context, int64, int64) (live.Live, bool, error)
			moved bool
			state live.State
			err   error
		}
		for _, s := range []step{
			{"end before start", f.svc.End, false, "", live.ErrInvalid},
			{"warm", f.svc.Warm, true, live.StateWarming, nil},
			{"warm again", f.svc.Warm, false, live.StateWarming, nil},
			{"start", f.svc.Start, true, live.StateLive, nil},
			{"start again", f.svc.Start, false, live.StateLive, nil},
			{"warm while live", f.svc.Warm, false, "", live.ErrInvalid},
			{"end", f.svc.End, true, live.StateEnded, nil},
			{"end again", f.svc.End, false, live.StateEnded, nil},
			{"start ended", f.svc.Start, false, "", live.ErrEnded},
			{"warm ended", f.svc.Warm, false, "", live.ErrEnded},
		} {
			got, moved, err := s.do(ctx, f.tenant, l.ID)
			if !errors.Is(err, s.err) || (s.err == nil && err != nil) {
				t.Fatalf("%s: %v, want %v", s.name, err, s.err)
			}
			if moved != s.moved || (s.err == nil && got.State != s.state) {
				t.Fatalf("%s: moved %v state %s", s.name, moved, got.State)
			}
		}
		got, err := f.svc.Get(ctx, f.tenant, l.ID)
		if err != nil || got.State != live.StateEnded || got.StartedAt.IsZero() || got.EndedAt.Before(got.StartedAt) {
			t.Fatalf("after the end: %+v %v", got, err)
		}
		if _, _, err := f.svc.Start(ctx, f.tenant, l.ID); err == nil || !strings.Contains(err.Error(), "has ended") {
			t.Fatalf("starting an ended live should say so: %v", err)
		}
		if n, m := f.count(t, event.LiveStarted), f.count(t, event.LiveEnded); n != 1 || m != 1 {
			t.Fatalf("%d live_started, %d live_ended events", n, m)
		}
		// Another tenant cannot move it.
		if _, _, err := f.svc.Start(ctx, f.other, f.schedule(t).ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other tenant's start: %v", err)
		}
	})
}

// TestStartRace starts one live from many goroutines: it starts once,
// one caller is told so (the one that fires the alerts), one event.
func TestStartRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 0)
		l := f.schedule(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		started := 0
		for range 20 {
			wg.Go(func() {
				_, moved, err := f.svc.Start(ctx, f.tenant, l.ID)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				if moved {
					started++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if started != 1 || f.count(t, event.LiveStarted) != 1 {
			t.Fatalf("%d callers started it, %d events", started, f.count(t, event.LiveStarted))
		}
	})
}

func TestSwitchProductAndStock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 0)
		l, other := f.schedule(t), f.schedule(t)
		p1, p2, foreign := l.Products[0].ID, l.Products[2].ID, other.Products[0].ID
		if _, _, err := f.svc.SwitchProduct(ctx, f.tenant, l.ID, p1); !errors.Is(err, live.ErrInvalid) || !strings.Contains(err.Error(), "only while the live is on") {
			t.Fatalf("switch before the start: %v", err)
		}
		// Before the live, stock is set without an event.
		if p, err := f.svc.UpdateStock(ctx, f.tenant, l.ID, p1, 40); err != nil || p.Stock != 40 {
			t.Fatalf("stock before the live: %+v %v", p, err)
		}
		if _, _, err := f.svc.Start(ctx, f.tenant, l.ID); err != nil {
			t.Fatal(err)
		}
		for name, id := range map[string]int64{"another live's product": foreign, "no such product": 999999} {
			if _, _, err := f.svc.SwitchProduct(ctx, f.tenant, l.ID, id); !errors.Is(err, live.ErrInvalid) || !strings.Contains(err.Error(), "not on this live's list") {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if _, _, err := f.svc.SwitchProduct(ctx, f.other, l.ID, p1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other tenant's switch: %v", err)
		}
		for _, c := range []struct {
			id      int64
			changed bool
		}{{p1, true}, {p1, false}, {p2, true}, {p1, true}} {
			p, changed, err := f.svc.SwitchProduct(ctx, f.tenant, l.ID, c.id)
			if err != nil || changed != c.changed || p.ID != c.id {
				t.Fatalf("switch to %d: %+v %v %v", c.id, p, changed, err)
			}
		}
		if got, _ := f.svc.Get(ctx, f.tenant, l.ID); got.CurrentProductID != p1 {
			t.Fatalf("current product %d", got.CurrentProductID)
		}
		if n := f.count(t, event.ProductSwitched); n != 3 {
			t.Fatalf("%d product_switched events", n)
		}
		for name, c := range map[string]struct {
			product, stock int64
			want           string
		}{
			"negative":      {p1, -1, "stock must be 0"},
			"too much":      {p1, live.MaxStock + 1, "stock must be 0"},
			"other live's":  {foreign, 3, "not on this live's list"},
			"no such thing": {424242, 3, "not on this live's list"},
		} {
			if _, err := f.svc.UpdateStock(ctx, f.tenant, l.ID, c.product, c.stock); !errors.Is(err, live.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if p, err := f.svc.UpdateStock(ctx, f.tenant, l.ID, p2, 0); err != nil || !p.SoldOut() {
			t.Fatalf("sell out: %+v %v", p, err)
		}
		if n := f.count(t, event.LiveStockUpdated); n != 1 {
			t.Fatalf("%d stock events", n)
		}
		if _, _, err := f.svc.End(ctx, f.tenant, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.SwitchProduct(ctx, f.tenant, l.ID, p2); !errors.Is(err, live.ErrInvalid) {
			t.Fatalf("switch after the end: %v", err)
		}
		if _, err := f.svc.UpdateStock(ctx, f.tenant, l.ID, p2, 3); !errors.Is(err, live.ErrEnded) {
			t.Fatalf("stock after the end: %v", err)
		}
		got, _ := f.svc.Get(ctx, f.tenant, l.ID)
		if r := live.Recap(got); len(r.SoldOut) != 2 || r.SoldOut[0].Name != "防晒衣" || r.SoldOut[1].Name != "凉鞋" {
			t.Fatalf("recap sold out %+v", r.SoldOut)
		}
	})
}

// TestAlertsAcrossStart: the alert schedule of a stored live follows its
// start and stops at its end.
func TestAlertsAcrossStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 0)
		l := f.schedule(t)
		if due := live.AlertsDue(l, time.Now()); due != nil {
			t.Fatalf("due before the start: %v", due)
		}
		l, _, err := f.svc.Start(ctx, f.tenant, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if due := live.AlertsDue(l, l.StartedAt.Add(15*time.Minute)); !slices.Equal(due, []int{1, 2}) {
			t.Fatalf("due at 15 min: %v", due)
		}
		on, err := f.svc.OnAir(ctx, 10)
		if err != nil || len(on) != 1 || on[0].ID != l.ID {
			t.Fatalf("on air %v %v", on, err)
		}
		l, _, err = f.svc.End(ctx, f.tenant, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if due := live.AlertsDue(l, l.StartedAt.Add(15*time.Minute)); due != nil {
			t.Fatalf("due after the end: %v", due)
		}
		if on, _ := f.svc.OnAir(ctx, 10); len(on) != 0 {
			t.Fatalf("still on air: %v", on)
		}
	})
}
