package sale_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

type fixture struct {
	db      *store.DB
	svc     *sale.Service
	ms      *member.Service
	tenant  int64
	group   int64
	members []int64
	now     time.Time
}

// setup makes a tenant with a web group of n members; the service's
// clock is f.now, which tests move.
func setup(t testing.TB, db *store.DB, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "sales", Name: "sales", Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	cs := community.NewService(db, log)
	g, _, err := cs.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "web", Name: "g", Kind: community.Vertical, Capacity: 5000})
	if err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f := &fixture{db: db, svc: sale.New(db, log, ob, i18n.MustLoad()), ms: member.NewService(db, log), tenant: tn.ID, group: g.ID,
		now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	f.svc.SetClock(func() time.Time { return f.now })
	for i := range n {
		m, err := f.ms.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: fmt.Sprintf("m%d", i)},
			member.Identity{Channel: "web", ExternalID: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Join(ctx, community.JoinRequest{TenantID: tn.ID, GroupID: g.ID, MemberID: m.ID, Source: "web"}); err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, m.ID)
	}
	return f
}

func (f *fixture) count(t *testing.T, typ event.Type) int {
	t.Helper()
	var n int
	if err := f.db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2`, f.tenant, string(typ)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) dms(t *testing.T, like string) int {
	t.Helper()
	var n int
	if err := f.db.R.QueryRow(`SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND member_id <> 0 AND idem_key LIKE $2`, f.tenant, like).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFlashConcurrentClaims: 1,000 concurrent claims on a stock of 50
// (every member below claims twice at once) hand out exactly 50 units,
// numbered 1..50, none twice to a member; each winner is told once.
func TestFlashConcurrentClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 500)
		fl, err := f.svc.CreateFlash(ctx, sale.Flash{TenantID: f.tenant, Name: "面霜", PriceMinor: 9900, OriginalMinor: 19900, Stock: 50,
			StartsAt: f.now, Groups: []int64{f.group}})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := map[int64]int{}
		refused := 0
		for i := range 1000 {
			m := f.members[i%len(f.members)]
			wg.Go(func() {
				c, err := f.svc.ClaimFlash(ctx, f.tenant, fl.ID, m, f.group, sale.ViaWeb)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won[m]++
					if c.Seq < 1 || c.Seq > 50 {
						t.Errorf("claim %+v", c)
					}
				case errors.Is(err, sale.ErrSoldOut), errors.Is(err, sale.ErrLimit):
					refused++
				default:
					t.Errorf("member %d: %v", m, err)
				}
			})
		}
		wg.Wait()
		if len(won) != 50 || refused != 950 {
			t.Fatalf("%d winners, %d refused", len(won), refused)
		}
		for m, n := range won {
			if n != 1 {
				t.Fatalf("member %d won %d times", m, n)
			}
		}
		claims, err := f.svc.FlashClaims(ctx, f.tenant, fl.ID)
		if err != nil || len(claims) != 50 {
			t.Fatalf("%d claims: %v", len(claims), err)
		}
		for i, c := range claims {
			if c.Seq != int64(i+1) || won[c.MemberID] != 1 {
				t.Fatalf("claim %d: %+v", i, c)
			}
		}
		got, _ := f.svc.Flash(ctx, f.tenant, fl.ID)
		if got.Claimed != 50 || got.Left() != 0 || got.State(f.now) != sale.StateSoldOut {
			t.Fatalf("sale %+v", got)
		}
		if n := f.count(t, event.FlashClaimed); n != 50 {
			t.Fatalf("%d flash_claimed events", n)
		}
		if n := f.dms(t, fmt.Sprintf("flash:%d:claim:%%", fl.ID)); n != 50 {
			t.Fatalf("%d confirmations", n)
		}
	})
}

func TestFlashRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 3)
		fl, err := f.svc.CreateFlash(ctx, sale.Flash{TenantID: f.tenant, Name: "口红", PriceMinor: 5900, Stock: 5, PerMember: 2,
			StartsAt: f.now.Add(5 * time.Minute), EndsAt: f.now.Add(time.Hour), Groups: []int64{f.group}})
		if err != nil {
			t.Fatal(err)
		}
		m := f.members[0]
		_, err = f.svc.ClaimFlash(ctx, f.tenant, fl.ID, m, f.group, sale.ViaWeb)
		var ns sale.NotStarted
		if !errors.As(err, &ns) || !errors.Is(err, sale.ErrNotStarted) || !strings.Contains(err.Error(), "starts in 05:00") {
			t.Fatalf("before the start: %v", err)
		}
		f.now = f.now.Add(5 * time.Minute)
		for want := int64(1); want <= 2; want++ {
			if c, err := f.svc.ClaimFlash(ctx, f.tenant, fl.ID, m, 0, sale.ViaButton); err != nil || c.Seq != want || c.N != want {
				t.Fatalf("claim %d: %+v %v", want, c, err)
			}
		}
		if _, err := f.svc.ClaimFlash(ctx, f.tenant, fl.ID, m, f.group, sale.ViaWeb); !errors.Is(err, sale.ErrLimit) {
			t.Fatalf("over the limit: %v", err)
		}
		// Someone outside the group, and another tenant's view.
		out, err := f.ms.Create(ctx, member.Member{TenantID: f.tenant, DisplayName: "outsider"}, member.Identity{Channel: "web", ExternalID: "out"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ClaimFlash(ctx, f.tenant, fl.ID, out.ID, 0, sale.ViaWeb); !errors.Is(err, sale.ErrNotInGroup) {
			t.Fatalf("outsider: %v", err)
		}
		if _, err := f.svc.ClaimFlash(ctx, f.tenant+1000, fl.ID, m, 0, sale.ViaWeb); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other tenant: %v", err)
		}
		f.now = f.now.Add(time.Hour)
		if _, err := f.svc.ClaimFlash(ctx, f.tenant, fl.ID, f.members[1], f.group, sale.ViaWeb); !errors.Is(err, sale.ErrEnded) {
			t.Fatalf("after the end: %v", err)
		}
		// Due: the result once.
		due, err := f.svc.FlashesDue(ctx, f.now, 10)
		if err != nil || len(due) != 1 || due[0].What != sale.DueResult {
			t.Fatalf("due %+v %v", due, err)
		}
		for i := range 2 {
			var done bool
			var claims []sale.Claim
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				done, claims, err = f.svc.MarkFlashTx(ctx, tx, due[0].Flash, sale.DueResult, f.now)
				return err
			})
			if err != nil || done != (i == 0) || (i == 0 && len(claims) != 2) {
				t.Fatalf("close %d: %v %v %d", i, done, err, len(claims))
			}
		}
		if due, _ := f.svc.FlashesDue(ctx, f.now, 10); len(due) != 0 {
			t.Fatalf("still due: %+v", due)
		}
	})
}

func TestFlashValidate(t *testing.T) {
	now := time.Now()
	ok := sale.Flash{Name: "x", PriceMinor: 100, Stock: 1, PerMember: 1, StartsAt: now, Groups: []int64{1}}
	if err := sale.ValidateFlash(ok, now); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*sale.Flash){
		"no name":        func(f *sale.Flash) { f.Name = " " },
		"no stock":       func(f *sale.Flash) { f.Stock = 0 },
		"negative price": func(f *sale.Flash) { f.PriceMinor = -1 },
		"end before":     func(f *sale.Flash) { f.EndsAt = now.Add(-time.Minute) },
		"no group":       func(f *sale.Flash) { f.Groups = nil },
		"bad link":       func(f *sale.Flash) { f.CheckoutURL = "javascript:alert(1)" },
		"original below": func(f *sale.Flash) { f.OriginalMinor = 50 },
	} {
		f := ok
		mut(&f)
		if err := sale.ValidateFlash(f, now); !errors.Is(err, sale.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func (f *fixture) chain(t *testing.T, c sale.Chain) sale.Chain {
	t.Helper()
	c.TenantID, c.GroupID = f.tenant, f.group
	if c.ClosesAt.IsZero() {
		c.ClosesAt = f.now.Add(time.Hour)
	}
	var out sale.Chain
	err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = f.svc.CreateChainTx(context.Background(), tx, c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestChainConcurrentJoins: 200 members reply "+1" at once → lines 1..200
// with no gap or repeat, one per member; the tier price applies from its
// threshold.
func TestChainConcurrentJoins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 200)
		c := f.chain(t, sale.Chain{Title: "车厘子团购", Options: []sale.Option{{Label: "2斤", PriceMinor: 9900}, {Label: "5斤", PriceMinor: 19900}},
			Tiers: []sale.Tier{{Min: 10, PriceMinor: 8900}, {Min: 150, PriceMinor: 7900}}})
		var wg sync.WaitGroup
		for i, m := range f.members {
			wg.Go(func() {
				opt := 1 + i%2
				if _, err := f.svc.JoinChain(ctx, f.tenant, c.ID, m, opt, 1, fmt.Sprintf("t:%d", m)); err != nil {
					t.Errorf("member %d: %v", m, err)
				}
			})
		}
		wg.Wait()
		l, err := f.svc.List(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Lines) != 200 || l.Participants != 200 || l.Units != 200 {
			t.Fatalf("%d lines, %d people, %d units", len(l.Lines), l.Participants, l.Units)
		}
		seen := map[int64]bool{}
		for i, line := range l.Lines {
			if line.Seq != int64(i+1) || line.Pos != i+1 || seen[line.MemberID] {
				t.Fatalf("line %d: %+v", i, line)
			}
			seen[line.MemberID] = true
		}
		if l.Tier.Min != 150 || l.Unit[0] != 7900 || l.Unit[1] != 17900 || l.Next.Min != 0 {
			t.Fatalf("tier %+v units %v next %+v", l.Tier, l.Unit, l.Next)
		}
		// The same reply again adds nothing.
		if line, err := f.svc.JoinChain(ctx, f.tenant, c.ID, f.members[0], 1, 1, fmt.Sprintf("t:%d", f.members[0])); err != nil || line.Seq > 200 {
			t.Fatalf("repeat: %+v %v", line, err)
		}
		if n := f.count(t, event.ChainJoined); n != 200 {
			t.Fatalf("%d chain_joined events", n)
		}
	})
}

func TestChainTiersCancelClose(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 4)
		c := f.chain(t, sale.Chain{Title: "团", Options: []sale.Option{{Label: "A", PriceMinor: 1000}}, Tiers: []sale.Tier{{Min: 3, PriceMinor: 800}},
			MaxQty: 3, Target: 6})
		a, b, cc := f.members[0], f.members[1], f.members[2]
		join := func(m int64, qty int64, src string) error {
			_, err := f.svc.JoinChain(ctx, f.tenant, c.ID, m, 0, qty, src)
			return err
		}
		if err := join(a, 1, "1"); err != nil {
			t.Fatal(err)
		}
		if err := join(a, 2, "2"); err != nil {
			t.Fatal(err)
		}
		if err := join(b, 4, "3"); !errors.Is(err, sale.ErrInvalid) {
			t.Fatalf("over the max per reply: %v", err)
		}
		if err := join(b, 1, "4"); err != nil {
			t.Fatal(err)
		}
		l, _ := f.svc.List(ctx, c)
		if l.Participants != 2 || l.Unit[0] != 1000 || l.Next.Min != 3 || l.ToNext != 1 {
			t.Fatalf("before the tier: %+v", l)
		}
		if err := join(cc, 1, "5"); err != nil {
			t.Fatal(err)
		}
		if l, _ = f.svc.List(ctx, c); l.Unit[0] != 800 || l.Sum() != 5*800 {
			t.Fatalf("at the tier: units %v sum %d", l.Unit, l.Sum())
		}
		// a cancels their last line (the +2); a second cancel of the same request does nothing.
		if line, err := f.svc.CancelChain(ctx, f.tenant, c.ID, a, "x"); err != nil || line.Seq != 2 {
			t.Fatalf("cancel: %+v %v", line, err)
		}
		if _, err := f.svc.CancelChain(ctx, f.tenant, c.ID, a, "x"); !errors.Is(err, sale.ErrNothing) {
			t.Fatalf("repeat cancel: %v", err)
		}
		if _, err := f.svc.CancelChain(ctx, f.tenant, c.ID, f.members[3], "y"); !errors.Is(err, sale.ErrNothing) {
			t.Fatalf("cancel without a line: %v", err)
		}
		l, _ = f.svc.List(ctx, c)
		if len(l.Lines) != 3 || l.Lines[1].Seq != 3 || l.Lines[1].Pos != 2 || l.Units != 3 {
			t.Fatalf("after cancel: %+v", l.Lines)
		}
		// The list is due once per change window.
		due, _ := f.svc.ChainsToList(ctx, f.now, 10)
		if len(due) != 1 {
			t.Fatalf("to list: %d", len(due))
		}
		for i := range 2 {
			var ok bool
			db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				_, ok, err = f.svc.MarkListedTx(ctx, tx, due[0], f.now)
				return err
			})
			if ok != (i == 0) {
				t.Fatalf("listed %d: %v", i, ok)
			}
		}
		if err := join(b, 3, "6"); err != nil {
			t.Fatal(err)
		}
		if due, _ := f.svc.ChainsToList(ctx, f.now.Add(10*time.Second), 10); len(due) != 0 {
			t.Fatalf("listed again within the window")
		}
		if due, _ := f.svc.ChainsToList(ctx, f.now.Add(ListEvery()), 10); len(due) != 1 {
			t.Fatalf("not listed after the window")
		}
		// The target (6 units) is reached: no more lines, and it closes once.
		if err := join(f.members[3], 1, "7"); !errors.Is(err, sale.ErrClosed) {
			t.Fatalf("after the target: %v", err)
		}
		due, _ = f.svc.ChainsToClose(ctx, f.now, 10)
		if len(due) != 1 {
			t.Fatalf("to close: %d", len(due))
		}
		for i := range 2 {
			var ok bool
			var fin sale.ChainList
			db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				fin, ok, err = f.svc.CloseChainTx(ctx, tx, due[0], f.now)
				return err
			})
			if ok != (i == 0) || (ok && fin.Units != 6) {
				t.Fatalf("close %d: %v %+v", i, ok, fin)
			}
		}
		if n := f.count(t, event.ChainClosed); n != 1 {
			t.Fatalf("%d closes", n)
		}
	})
}

func ListEvery() time.Duration { return sale.ListEvery }

func TestParseOptionsTiers(t *testing.T) {
	opts, _ := sale.ParseOptions("红色 99\nB 蓝色 = 89.5\n免费\n")
	if len(opts) != 3 || opts[0] != (sale.Option{"红色", 9900}) || opts[1] != (sale.Option{"B 蓝色", 8950}) || opts[2] != (sale.Option{"免费", 0}) {
		t.Fatalf("%+v", opts)
	}
	tiers, err := sale.ParseTiers("10 89\n≥30 → 79")
	if err != nil || len(tiers) != 2 || tiers[1] != (sale.Tier{30, 7900}) {
		t.Fatalf("%+v %v", tiers, err)
	}
	if _, err := sale.ParseTiers("ten 89"); !errors.Is(err, sale.ErrInvalid) {
		t.Fatal(err)
	}
	for in, want := range map[string]int64{"89": 8900, "¥89.9": 8990, "0.05": 5, "1,299.00": 129900} {
		if got, err := sale.ParseMoney(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, in := range []string{"-1", "1.234", "abc", "1e5"} {
		if _, err := sale.ParseMoney(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestPresaleEarlyAccess: the audience (tier rank, or a tagged segment)
// reserves from the early opening; others are refused with the opening
// time until it; everyone after; one reservation each; the early audience
// is told once.
func TestPresaleEarlyAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 4)
		vip, tagged, plain, late := f.members[0], f.members[1], f.members[2], f.members[3]
		f.svc.TierRank = func(_ context.Context, _ store.Querier, tenantID, memberID int64) (int, error) {
			if memberID == vip {
				return 2, nil
			}
			return 0, nil
		}
		if err := f.ms.AddTag(ctx, f.tenant, tagged, "老客"); err != nil {
			t.Fatal(err)
		}
		opens := f.now.Add(72 * time.Hour)
		p, err := f.svc.CreatePresale(ctx, sale.Presale{TenantID: f.tenant, Name: "新品精华", PriceMinor: 29900, Stock: 3, OpensAt: opens,
			EarlyDays: 2, MinTierRank: 2, Segment: campaign.Segment{Tags: []string{"老客"}}})
		if err != nil {
			t.Fatal(err)
		}
		// Before the early opening: nobody.
		if _, err := f.svc.Reserve(ctx, f.tenant, p.ID, vip); !errors.Is(err, sale.ErrNotYet) {
			t.Fatalf("vip before early: %v", err)
		}
		if n, err := f.svc.TellEarly(ctx, f.now); err != nil || n != 0 {
			t.Fatalf("told early too soon: %d %v", n, err)
		}
		f.now = f.now.Add(25 * time.Hour) // early access has begun
		for _, m := range []int64{vip, tagged} {
			if r, err := f.svc.Reserve(ctx, f.tenant, p.ID, m); err != nil || !r.Early {
				t.Fatalf("early member %d: %+v %v", m, r, err)
			}
		}
		_, err = f.svc.Reserve(ctx, f.tenant, p.ID, plain)
		var no sale.NotOpen
		if !errors.As(err, &no) || !no.From.Equal(opens) {
			t.Fatalf("not in the audience: %v", err)
		}
		if _, err := f.svc.Reserve(ctx, f.tenant, p.ID, vip); !errors.Is(err, sale.ErrReserved) {
			t.Fatalf("twice: %v", err)
		}
		for range 2 {
			if n, err := f.svc.TellEarly(ctx, f.now); err != nil {
				t.Fatal(err)
			} else if n != 0 && n != 2 {
				t.Fatalf("told %d", n)
			}
		}
		if n := f.dms(t, fmt.Sprintf("presale:%d:early:%%", p.ID)); n != 2 {
			t.Fatalf("%d early messages", n)
		}
		f.now = opens
		if r, err := f.svc.Reserve(ctx, f.tenant, p.ID, plain); err != nil || r.Early {
			t.Fatalf("after opening: %+v %v", r, err)
		}
		if _, err := f.svc.Reserve(ctx, f.tenant, p.ID, late); !errors.Is(err, sale.ErrSoldOut) {
			t.Fatalf("beyond the stock: %v", err)
		}
		rs, err := f.svc.Reservations(ctx, f.tenant, p.ID)
		if err != nil || len(rs) != 3 {
			t.Fatalf("%d reservations %v", len(rs), err)
		}
		acc, err := f.svc.ForMember(ctx, f.tenant, late)
		if err != nil || len(acc) != 1 || acc[0].Reserved || !acc[0].Open {
			t.Fatalf("for member: %+v %v", acc, err)
		}
	})
}
