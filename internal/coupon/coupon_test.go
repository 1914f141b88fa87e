package coupon_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

var t0 = time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) // 12:00 in Shanghai

type fixture struct {
	db      *store.DB
	log     *event.Log
	svc     *coupon.Service
	tenant  int64
	members []int64
	now     time.Time
}

// setup makes a tenant with n members (written in bulk) on db.
func setup(t testing.TB, db *store.DB, slug string, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: slug, Name: slug, Timezone: "Asia/Shanghai", Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, log: log, svc: coupon.New(db, log), tenant: tn.ID, now: t0}
	f.svc.SetClock(func() time.Time { return f.now })
	f.members = addMembers(t, db, tn.ID, n, t0.AddDate(0, -1, 0))
	return f
}

func addMembers(t testing.TB, db *store.DB, tenantID int64, n int, created time.Time) []int64 {
	t.Helper()
	var ids []int64
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			var id int64
			if err := tx.QueryRowContext(context.Background(), `INSERT INTO members (tenant_id, display_name, created_at) VALUES ($1, $2, $3) RETURNING id`,
				tenantID, fmt.Sprintf("m%d", i), store.Millis(created)).Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (f *fixture) batch(t testing.TB, b coupon.Batch) coupon.Batch {
	t.Helper()
	b.TenantID = f.tenant
	if b.Name == "" {
		b.Name = "Spring 10 off"
	}
	if b.Kind == "" {
		b.Kind, b.AmountMinor = coupon.Amount, 1000
	}
	if b.ValidDays == 0 && b.ValidUntil.IsZero() {
		b.ValidDays = 7
	}
	if b.PerMember == 0 {
		b.PerMember = 1
	}
	out, err := f.svc.CreateBatch(context.Background(), b)
	if err != nil {
		t.Fatalf("create batch: %v", err)
	}
	return out
}

func count(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// 10,000 concurrent claims on a 100-coupon batch: exactly 100 codes, no
// member over the limit, one coupon_issued per code.
func TestClaimRaceExactStock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "race", 2000)
		b := f.batch(t, coupon.Batch{Stock: 100, PerMember: 2})
		var wg sync.WaitGroup
		var mu sync.Mutex
		got, refused := 0, map[string]int{}
		sem := make(chan struct{}, 64)
		for _, m := range f.members {
			for range 5 {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					_, err := f.svc.Claim(context.Background(), f.tenant, b.ID, m)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						got++
					} else if r := coupon.Reason(err); r != "" {
						refused[r]++
					} else {
						t.Errorf("claim: %v", err)
					}
				}()
			}
		}
		wg.Wait()
		if got != 100 {
			t.Fatalf("claims succeeded: %d, want 100 (refused %v)", got, refused)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM coupon_codes WHERE batch_id = $1 AND member_id <> 0`, b.ID); n != 100 {
			t.Fatalf("codes handed out: %d", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM (SELECT member_id FROM coupon_codes WHERE batch_id = $1 AND member_id <> 0
			GROUP BY member_id HAVING COUNT(*) > 2) x`, b.ID); n != 0 {
			t.Fatalf("%d members over the limit", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events WHERE type = 'coupon_issued' AND tenant_id = $1`, f.tenant); n != 100 {
			t.Fatalf("coupon_issued events: %d", n)
		}
		if refused["sold_out"] == 0 || len(refused) > 2 {
			t.Fatalf("refusals: %v", refused)
		}
		b2, err := f.svc.Batch(context.Background(), f.tenant, b.ID)
		if err != nil || b2.Claimed != 100 || b2.Left() != 0 {
			t.Fatalf("batch counts: %+v %v", b2, err)
		}
	})
}

// A member racing their own claims with limit 1 gets one code.
func TestClaimOwnRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "own", 1)
		b := f.batch(t, coupon.Batch{Stock: 50, PerMember: 1})
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Claim(context.Background(), f.tenant, b.ID, f.members[0])
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, coupon.ErrLimit):
					t.Errorf("claim: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d claims succeeded", ok)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM coupon_codes WHERE batch_id = $1 AND member_id = $2`, b.ID, f.members[0]); n != 1 {
			t.Fatalf("member holds %d codes", n)
		}
	})
}

func TestClaimWindowAndCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "window", 3)
		b := f.batch(t, coupon.Batch{Prefix: "vip", Stock: 2, PerMember: 2, OpensAt: t0.Add(time.Hour), ClosesAt: t0.Add(3 * time.Hour)})
		if _, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[0]); !errors.Is(err, coupon.ErrNotOpen) {
			t.Fatalf("before opening: %v", err)
		}
		f.now = t0.Add(2 * time.Hour)
		c, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.Code, "VIP-") || len(c.Code) != 14 || strings.ContainsAny(c.Code[4:], "01OIL") {
			t.Fatalf("code %q", c.Code)
		}
		if !c.ValidUntil.Equal(f.now.AddDate(0, 0, 7)) || !c.ValidFrom.Equal(f.now) {
			t.Fatalf("validity %v – %v", c.ValidFrom, c.ValidUntil)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[2]); !errors.Is(err, coupon.ErrSoldOut) {
			t.Fatalf("sold out: %v", err)
		}
		owner, err := f.svc.OwnerOf(ctx, db.R, f.tenant, strings.ToLower(c.Code))
		if err != nil || owner != f.members[0] {
			t.Fatalf("owner %d %v", owner, err)
		}
		f.now = t0.Add(4 * time.Hour)
		if _, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[0]); !errors.Is(err, coupon.ErrClosed) {
			t.Fatalf("after closing: %v", err)
		}
		if err := f.svc.Disable(ctx, f.tenant, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Disable(ctx, f.tenant+1000, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other tenant disables: %v", err)
		}
		mine, err := f.svc.MemberCodes(ctx, f.tenant, f.members[0])
		if err != nil || len(mine) != 1 || mine[0].BatchName != b.Name || mine[0].Code != c.Code {
			t.Fatalf("member codes %+v %v", mine, err)
		}
	})
}

func TestValidateBatch(t *testing.T) {
	s := coupon.New(nil, nil)
	ok := coupon.Batch{Name: "x", Kind: coupon.Amount, AmountMinor: 500, Stock: 10, PerMember: 1, ValidDays: 3}
	cases := []struct {
		name string
		mod  func(*coupon.Batch)
		want string
	}{
		{"ok", func(*coupon.Batch) {}, ""},
		{"no name", func(b *coupon.Batch) { b.Name = " " }, "name is empty"},
		{"percent 100", func(b *coupon.Batch) { b.Kind, b.Percent = coupon.Percent, 100 }, "1 to 99"},
		{"percent ok", func(b *coupon.Batch) { b.Kind, b.Percent = coupon.Percent, 15 }, ""},
		{"zero amount", func(b *coupon.Batch) { b.AmountMinor = 0 }, "amount coupon"},
		{"bad kind", func(b *coupon.Batch) { b.Kind = "gift" }, "value kind"},
		{"no validity", func(b *coupon.Batch) { b.ValidDays = 0 }, "end of validity"},
		{"both validities", func(b *coupon.Batch) { b.ValidUntil = t0.Add(time.Hour) }, "not both"},
		{"past validity", func(b *coupon.Batch) { b.ValidDays, b.ValidUntil = 0, t0.Add(-time.Hour) }, "future"},
		{"stock", func(b *coupon.Batch) { b.Stock = 0 }, "stock"},
		{"limit", func(b *coupon.Batch) { b.PerMember = 0 }, "per-member"},
		{"window", func(b *coupon.Batch) { b.OpensAt, b.ClosesAt = t0.Add(time.Hour), t0 }, "close after"},
		{"prefix", func(b *coupon.Batch) { b.Prefix = "a-b" }, "prefix"},
		{"tier without tiers", func(b *coupon.Batch) { b.Audience.MinTierRank = 2 }, "tiers are not available"},
		{"negative spend", func(b *coupon.Batch) { b.MinSpendMinor = -1 }, "minimum spend"},
	}
	for _, c := range cases {
		b := ok
		c.mod(&b)
		err := s.Validate(&b, t0)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) || err != nil && !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestGrantValue(t *testing.T) {
	code := coupon.Code{Code: "X", ValidFrom: t0, ValidUntil: t0.Add(time.Hour)}
	cases := []struct {
		b              coupon.Batch
		amount, thresh int64
		at             time.Time
		discount       int64
		free           bool
		err            error
	}{
		{coupon.Batch{Kind: coupon.Amount, AmountMinor: 1000}, 5000, 0, t0, 1000, false, nil},
		{coupon.Batch{Kind: coupon.Amount, AmountMinor: 1000}, 600, 0, t0, 600, false, nil},
		{coupon.Batch{Kind: coupon.Percent, Percent: 15}, 999, 0, t0, 149, false, nil},
		{coupon.Batch{Kind: coupon.FreeShipping}, 100, 0, t0, 0, true, nil},
		{coupon.Batch{Kind: coupon.Amount, AmountMinor: 1000}, 9900, 9900, t0, 1000, true, nil},
		{coupon.Batch{Kind: coupon.Amount, AmountMinor: 1000, MinSpendMinor: 5000}, 4999, 0, t0, 0, false, coupon.ErrMinimum},
		{coupon.Batch{Kind: coupon.Amount, AmountMinor: 1000}, 5000, 0, t0.Add(time.Hour), 0, false, coupon.ErrExpired},
		{coupon.Batch{Kind: coupon.Amount, AmountMinor: 1000}, 5000, 0, t0.Add(-time.Second), 0, false, coupon.ErrNotYetValid},
	}
	for i, c := range cases {
		r, err := coupon.Grant(code, c.b, c.amount, c.thresh, c.at)
		if !errors.Is(err, c.err) || err == nil && (r.DiscountMinor != c.discount || r.FreeShipping != c.free) {
			t.Errorf("case %d: %+v %v", i, r, err)
		}
	}
}

func TestRedeem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "redeem", 2)
		other := setup(t, db, "other", 1)
		b := f.batch(t, coupon.Batch{Stock: 5, MinSpendMinor: 5000})
		c, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Redeem(ctx, f.tenant, c.Code, "A1", 4999); !errors.Is(err, coupon.ErrMinimum) {
			t.Fatalf("below minimum: %v", err)
		}
		chk, err := f.svc.Check(ctx, f.tenant, c.Code, "A1", 6000)
		if err != nil || chk.DiscountMinor != 1000 {
			t.Fatalf("check: %+v %v", chk, err)
		}
		if err := f.svc.SetFreeShippingThreshold(ctx, f.tenant, 6000); err != nil {
			t.Fatal(err)
		}
		r, err := f.svc.Redeem(ctx, f.tenant, strings.ToLower(c.Code), "A1", 6000)
		if err != nil || r.DiscountMinor != 1000 || !r.FreeShipping || r.Replay {
			t.Fatalf("redeem: %+v %v", r, err)
		}
		again, err := f.svc.Redeem(ctx, f.tenant, c.Code, "A1", 6000)
		if err != nil || !again.Replay || again.DiscountMinor != 1000 {
			t.Fatalf("replay: %+v %v", again, err)
		}
		if _, err := f.svc.Redeem(ctx, f.tenant, c.Code, "B2", 6000); !errors.Is(err, coupon.ErrUsed) {
			t.Fatalf("another order: %v", err)
		}
		if _, err := other.svc.Redeem(ctx, other.tenant, c.Code, "A1", 6000); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other brand: %v", err)
		}
		if _, err := f.svc.Redeem(ctx, f.tenant, "NOPE-2345", "A1", 6000); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		if _, err := f.svc.Redeem(ctx, f.tenant, c.Code, "", -1); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("bad input: %v", err)
		}
		c2, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[1])
		if err != nil {
			t.Fatal(err)
		}
		f.now = t0.AddDate(0, 0, 8)
		if _, err := f.svc.Redeem(ctx, f.tenant, c2.Code, "C3", 9000); !errors.Is(err, coupon.ErrExpired) {
			t.Fatalf("expired: %v", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events WHERE type = 'coupon_redeemed' AND tenant_id = $1`, f.tenant); n != 1 {
			t.Fatalf("coupon_redeemed events: %d", n)
		}
	})
}

// Racing redemptions of one code by different orders: exactly one wins.
func TestRedeemRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "rrace", 1)
		b := f.batch(t, coupon.Batch{Stock: 1})
		c, err := f.svc.Claim(ctx, f.tenant, b.ID, f.members[0])
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Redeem(ctx, f.tenant, c.Code, fmt.Sprintf("O%d", i), 5000)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else if !errors.Is(err, coupon.ErrUsed) {
					t.Errorf("redeem: %v", err)
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d redemptions", won)
		}
	})
}

func TestAudience(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "aud", 3)
		m0, m1, m2 := f.members[0], f.members[1], f.members[2]
		var gid int64
		if err := db.W.QueryRowContext(ctx, `INSERT INTO community_groups (tenant_id, channel, name, kind, created_at) VALUES ($1, 'web', 'VIP', 'vip', 1) RETURNING id`,
			f.tenant).Scan(&gid); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `INSERT INTO group_members (tenant_id, group_id, member_id, joined_at) VALUES ($1, $2, $3, 1)`, f.tenant, gid, m0); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `INSERT INTO member_tags (tenant_id, member_id, tag, created_at) VALUES ($1, $2, 'vip', 1)`, f.tenant, m0); err != nil {
			t.Fatal(err)
		}
		group := f.batch(t, coupon.Batch{Stock: 5, Audience: coupon.Audience{GroupID: gid}})
		if _, err := f.svc.Claim(ctx, f.tenant, group.ID, m1); coupon.Reason(err) != "audience_group" {
			t.Fatalf("group: %v", err)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, group.ID, m0); err != nil {
			t.Fatal(err)
		}
		seg := f.batch(t, coupon.Batch{Stock: 5, Audience: coupon.Audience{Segment: &campaign.Segment{Tags: []string{"vip"}}}})
		if _, err := f.svc.Claim(ctx, f.tenant, seg.ID, m1); coupon.Reason(err) != "audience_segment" {
			t.Fatalf("segment: %v", err)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, seg.ID, m0); err != nil {
			t.Fatal(err)
		}
		newer := addMembers(t, db, f.tenant, 1, t0.AddDate(0, 0, -2))[0]
		fresh := f.batch(t, coupon.Batch{Stock: 5, Audience: coupon.Audience{NewWithinDays: 7}})
		if _, err := f.svc.Claim(ctx, f.tenant, fresh.ID, m0); coupon.Reason(err) != "audience_new" {
			t.Fatalf("new: %v", err)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, fresh.ID, newer); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateBatch(ctx, coupon.Batch{TenantID: f.tenant, Name: "t", Kind: coupon.FreeShipping, ValidDays: 1, Stock: 1, PerMember: 1,
			Audience: coupon.Audience{GroupID: gid + 999}}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("foreign group: %v", err)
		}
		f.svc.TierRank = func(_ context.Context, _ store.Querier, _, memberID int64) (int, error) {
			if memberID == m2 {
				return 3, nil
			}
			return 1, nil
		}
		tier := f.batch(t, coupon.Batch{Stock: 5, Audience: coupon.Audience{MinTierRank: 2, GroupID: gid}})
		if _, err := f.svc.Claim(ctx, f.tenant, tier.ID, m0); coupon.Reason(err) != "audience_tier" {
			t.Fatalf("tier: %v", err)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, tier.ID, m2); coupon.Reason(err) != "audience_group" {
			t.Fatalf("tier and group: %v", err)
		}
		// A live's viewers: a comment in the live room.
		var liveID int64
		if err := db.W.QueryRowContext(ctx, `INSERT INTO lives (tenant_id, title, scheduled_at, created_at) VALUES ($1, 'Live', 1, 1) RETURNING id`,
			f.tenant).Scan(&liveID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.log.Append(ctx, &event.Event{TenantID: f.tenant, Type: event.LiveComment, Source: event.SourceWeb,
			SourceID: fmt.Sprintf("l%d:m%d:x1", liveID, m1), MemberID: m1}); err != nil {
			t.Fatal(err)
		}
		viewers := f.batch(t, coupon.Batch{Stock: 5, Audience: coupon.Audience{LiveID: liveID}})
		if _, err := f.svc.Claim(ctx, f.tenant, viewers.ID, m0); coupon.Reason(err) != "audience_live" {
			t.Fatalf("live: %v", err)
		}
		if _, err := f.svc.Claim(ctx, f.tenant, viewers.ID, m1); err != nil {
			t.Fatal(err)
		}
		offers, err := f.svc.Offers(ctx, f.tenant, m1)
		if err != nil || len(offers) != 5 {
			t.Fatalf("offers: %d %v", len(offers), err)
		}
		reasons := map[int64]string{}
		for _, o := range offers {
			reasons[o.Batch.ID] = coupon.Reason(o.Refusal)
		}
		if reasons[viewers.ID] != "limit" || reasons[group.ID] != "audience_group" || reasons[fresh.ID] != "audience_new" {
			t.Fatalf("offer reasons: %v", reasons)
		}
	})
}

func TestGrantTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "grant", 3)
		b := f.batch(t, coupon.Batch{Stock: 2, ClosesAt: t0.Add(time.Minute), Audience: coupon.Audience{NewWithinDays: 1}})
		grant := func(m int64, ref string) (coupon.Code, error) {
			var c coupon.Code
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				c, err = f.svc.GrantTx(ctx, tx, f.tenant, b.ID, m, ref)
				return err
			})
			return c, err
		}
		f.now = t0.Add(time.Hour) // after the claim window: grants ignore it, and the audience
		c1, err := grant(f.members[0], "tier:gold:1")
		if err != nil {
			t.Fatal(err)
		}
		again, err := grant(f.members[0], "tier:gold:1")
		if err != nil || again.ID != c1.ID {
			t.Fatalf("idempotent: %+v %v", again, err)
		}
		if _, err := grant(f.members[1], "tier:gold:1"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("ref of another member: %v", err)
		}
		if _, err := grant(f.members[0], "tier:gold:2"); err != nil {
			t.Fatal(err)
		}
		if _, err := grant(f.members[2], "tier:gold:3"); !errors.Is(err, coupon.ErrSoldOut) {
			t.Fatalf("stock: %v", err)
		}
		if _, err := grant(f.members[2], "claim:1:1"); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("claim ref: %v", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events WHERE type = 'coupon_issued' AND tenant_id = $1`, f.tenant); n != 2 {
			t.Fatalf("events %d", n)
		}
	})
}
