package commerce_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func TestValidateLadder(t *testing.T) {
	base := commerce.Tier{Name: "普通", Rank: 0, Basis: commerce.BasisSpend, WindowDays: 365}
	silver := commerce.Tier{Name: "银卡", Rank: 1, Basis: commerce.BasisSpend, Threshold: 500, WindowDays: 365}
	gold := commerce.Tier{Name: "金卡", Rank: 2, Basis: commerce.BasisSpend, Threshold: 2000, WindowDays: 365}
	cases := []struct {
		name   string
		ladder []commerce.Tier
		want   string
	}{
		{"ok", []commerce.Tier{base, silver, gold}, ""},
		{"no base", []commerce.Tier{silver, gold}, "base tier of rank 0"},
		{"same rank", []commerce.Tier{base, silver, {Name: "x", Rank: 1, Basis: commerce.BasisSpend, Threshold: 900}}, "two tiers have rank 1"},
		{"thresholds fall", []commerce.Tier{base, silver, {Name: "金卡", Rank: 2, Basis: commerce.BasisSpend, Threshold: 400}}, "needs a threshold above 银卡's"},
		{"other basis is separate", []commerce.Tier{base, silver, {Name: "活跃", Rank: 2, Basis: commerce.BasisPoints, Threshold: 100}}, ""},
	}
	for _, c := range cases {
		got := strings.Join(commerce.ValidateLadder(c.ladder), "; ")
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q; want %q", c.name, got, c.want)
		}
	}
	bad := commerce.Tier{Name: "", Rank: 0, Basis: "vibes", Threshold: 5, DiscountPct: 80, PresaleDays: -1}
	if got := strings.Join(commerce.ValidateTier(&bad), "; "); !contains(got, "name is empty", "basis", "threshold 0", "discount", "early access") {
		t.Errorf("ValidateTier: %q", got)
	}
	if z := (commerce.Tier{DiscountPct: 5}).Zhe(); z != "95" {
		t.Errorf("5%% off is %s折", z)
	}
	if z := (commerce.Tier{DiscountPct: 10}).Zhe(); z != "9" {
		t.Errorf("10%% off is %s折", z)
	}
}

// The order that crosses a threshold upgrades the member in its own
// transaction and tells them once; spend that ages out of the window
// downgrades them in the nightly pass; a refund can downgrade too.
func TestTierUpgradeDowngrade(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "tiers")
		tiers := f.ladder()
		var upgrades []string
		f.svc.OnUpgrade = func(ctx context.Context, tx *store.Tx, tenantID, memberID int64, tr commerce.Tier) error {
			upgrades = append(upgrades, tr.Name)
			return nil
		}
		ann := f.member("Ann", "13800138000", "")
		tierDMs := func() int {
			return f.count(`SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND member_id = $2 AND idem_key LIKE 'tier:%'`, f.tenant, ann)
		}
		f.order(commerce.Order{ExternalID: "1", AmountMinor: 300_00, Phone: "13800138000", PaidAt: day0.AddDate(0, 0, -30)})
		if r := f.rank(ann); r != 0 || tierDMs() != 0 {
			t.Fatalf("below the threshold: rank %d, %d messages", r, tierDMs())
		}
		f.order(commerce.Order{ExternalID: "2", AmountMinor: 250_00, Phone: "13800138000", PaidAt: day0.AddDate(0, 0, -1)})
		if r := f.rank(ann); r != 1 || tierDMs() != 1 || len(upgrades) != 1 || upgrades[0] != "银卡" {
			t.Fatalf("crossing order: rank %d, %d messages, upgrades %v", r, tierDMs(), upgrades)
		}
		var body string
		db.R.QueryRow(`SELECT body FROM outbox WHERE tenant_id = $1 AND member_id = $2 AND idem_key LIKE 'tier:%'`, f.tenant, ann).Scan(&body)
		if !strings.Contains(body, "银卡") || !strings.Contains(body, "95折") {
			t.Fatalf("upgrade message %q names neither the tier nor its discount", body)
		}
		// The same order again, and a nightly pass the same day, change nothing.
		f.order(commerce.Order{ExternalID: "2", AmountMinor: 250_00, Phone: "13800138000"})
		if n, err := f.svc.EvaluateTenant(ctx, f.tenant, day0); err != nil || n != 0 || tierDMs() != 1 {
			t.Fatalf("evaluate again: %d %v, %d messages", n, err, tierDMs())
		}
		tr, err := f.svc.TierOf(ctx, db.R, f.tenant, ann)
		if err != nil || tr.ID != tiers[1].ID {
			t.Fatalf("TierOf: %+v %v", tr, err)
		}
		// 340 days later the first order has aged out: 250 < 500.
		later := day0.AddDate(0, 0, 340)
		if n, err := f.svc.EvaluateTenant(ctx, f.tenant, later); err != nil || n != 1 {
			t.Fatalf("evaluate later: %d %v", n, err)
		}
		if r := f.rank(ann); r != 0 || tierDMs() != 2 || len(upgrades) != 1 {
			t.Fatalf("aged out: rank %d, %d messages, upgrades %v", r, tierDMs(), upgrades)
		}
		ch, err := f.svc.Changes(ctx, f.tenant, ann, 10)
		if err != nil || len(ch) != 2 || ch[0].To.Rank != 0 || ch[0].Reason != "nightly" || ch[1].To.Name != "银卡" || !ch[1].Notified {
			t.Fatalf("changes: %+v %v", ch, err)
		}

		// A refund that takes the spend below the threshold downgrades.
		bob := f.member("Bob", "", "bob@shop.test")
		f.order(commerce.Order{ExternalID: "3", AmountMinor: 2100_00, Email: "bob@shop.test"})
		if r := f.rank(bob); r != 2 {
			t.Fatalf("bob: rank %d; want 2", r)
		}
		if _, _, err := f.svc.RecordRefund(ctx, commerce.RefundInput{TenantID: f.tenant, OrderExtID: "3", ExternalID: "r", AmountMinor: 200_00}); err != nil {
			t.Fatal(err)
		}
		if r := f.rank(bob); r != 1 {
			t.Fatalf("bob after refund: rank %d; want 1", r)
		}
		if d, _ := f.svc.PresaleDays(ctx, db.R, f.tenant, bob); d != 0 {
			t.Fatalf("presale days of 银卡: %d", d)
		}
		p, err := f.svc.ProgressOf(ctx, f.tenant, bob, f.now)
		if err != nil || p.Tier.Name != "银卡" || p.Next.Name != "金卡" || p.Value != 1900_00 || p.Needed != 100_00 || p.Percent != 95 {
			t.Fatalf("progress: %+v %v", p, err)
		}
		counts, _ := f.svc.TierCounts(ctx, f.tenant)
		if counts[tiers[0].ID] != 1 || counts[tiers[1].ID] != 1 {
			t.Fatalf("tier counts: %v", counts)
		}
	})
}

// A VIP group of a tier turns away members below it; ranks and
// thresholds are checked when saving.
func TestJoinGateAndSaveTier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "gate")
		if r := f.rank(1); r != 0 {
			t.Fatalf("rank without tiers: %d", r)
		}
		if _, err := f.svc.SaveTier(ctx, commerce.Tier{TenantID: f.tenant, Name: "银卡", Rank: 1, Basis: commerce.BasisSpend, Threshold: 1, WindowDays: 30}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("a ladder without a base: %v", err)
		}
		tiers := f.ladder()
		g, _, err := community.NewService(db, f.log).CreateGroup(ctx, community.Group{TenantID: f.tenant, Channel: "web", Name: "VIP", Kind: community.Vertical})
		if err != nil {
			t.Fatal(err)
		}
		groupID := g.ID
		gold := tiers[2]
		gold.VIPGroupIDs = []int64{groupID}
		if _, err := f.svc.SaveTier(ctx, gold); err != nil {
			t.Fatal(err)
		}
		gold.VIPGroupIDs = []int64{groupID + 1000}
		if _, err := f.svc.SaveTier(ctx, gold); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "not one of your groups") {
			t.Fatalf("foreign group: %v", err)
		}
		silver := tiers[1]
		silver.Threshold = 3000_00
		if _, err := f.svc.SaveTier(ctx, silver); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "threshold above") {
			t.Fatalf("thresholds not increasing: %v", err)
		}
		ann := f.member("Ann", "13800138000", "")
		err = f.svc.JoinGate(ctx, f.tenant, groupID, ann)
		if !errors.Is(err, store.ErrConflict) || !strings.HasSuffix(err.Error(), "this group is for 金卡 members and above") {
			t.Fatalf("gate for a base member: %v", err)
		}
		if err := f.svc.JoinGate(ctx, f.tenant, groupID+1, ann); err != nil {
			t.Fatalf("an ordinary group: %v", err)
		}
		f.order(commerce.Order{ExternalID: "1", AmountMinor: 5000_00, Phone: "13800138000"})
		if err := f.svc.JoinGate(ctx, f.tenant, groupID, ann); err != nil {
			t.Fatalf("gate for a gold member: %v", err)
		}
		if d, _ := f.svc.PresaleDays(ctx, db.R, f.tenant, ann); d != 7 {
			t.Fatalf("presale days: %d", d)
		}
	})
}

// The nightly pass runs once a tenant day, from 03:00 local time.
func TestNightlyOncePerDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "nightly")
		f.ladder()
		ann := f.member("Ann", "13800138000", "")
		f.order(commerce.Order{ExternalID: "1", AmountMinor: 600_00, Phone: "13800138000", PaidAt: day0})
		shanghai, _ := time.LoadLocation("Asia/Shanghai")
		at := func(days, hour int) time.Time {
			return time.Date(2027, 3, 5+days, hour, 30, 0, 0, shanghai)
		}
		if n, err := f.svc.Nightly(ctx, at(0, 2)); err != nil || n != 0 {
			t.Fatalf("02:30: ran %d %v", n, err)
		}
		if r := f.rank(ann); r != 1 {
			t.Fatalf("rank before the pass: %d", r)
		}
		if n, err := f.svc.Nightly(ctx, at(0, 3)); err != nil || n != 1 {
			t.Fatalf("03:30: ran %d %v", n, err)
		}
		if r := f.rank(ann); r != 0 {
			t.Fatalf("rank after the pass (spend aged out): %d", r)
		}
		if n, _ := f.svc.Nightly(ctx, at(0, 9)); n != 0 {
			t.Fatalf("ran again the same day: %d", n)
		}
		if n, _ := f.svc.Nightly(ctx, at(1, 4)); n != 1 {
			t.Fatalf("next day: %d", n)
		}
	})
}

// A points tier counts the points a member earned in all, not their
// balance: redeeming a reward does not cost the tier.
func TestPointsTier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "points")
		for _, tr := range []commerce.Tier{
			{Name: "新粉", Rank: 0, Basis: commerce.BasisPoints},
			{Name: "铁粉", Rank: 1, Basis: commerce.BasisPoints, Threshold: 100},
		} {
			tr.TenantID = f.tenant
			if _, err := f.svc.SaveTier(ctx, tr); err != nil {
				t.Fatal(err)
			}
		}
		ann := f.member("Ann", "", "")
		pts := loyalty.NewService(db, f.log)
		if _, _, err := pts.Award(ctx, loyalty.Entry{TenantID: f.tenant, MemberID: ann, Delta: 120, Kind: loyalty.KindActivity, Ref: "a"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := pts.Award(ctx, loyalty.Entry{TenantID: f.tenant, MemberID: ann, Delta: -100, Kind: loyalty.KindRedemption, Ref: "r"}); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.EvaluateTenant(ctx, f.tenant, f.now); err != nil || n != 1 || f.rank(ann) != 1 {
			t.Fatalf("evaluate: %d %v, rank %d; want 铁粉 on 120 earned (balance 20)", n, err, f.rank(ann))
		}
		p, err := f.svc.ProgressOf(ctx, f.tenant, ann, f.now)
		if err != nil || p.Tier.Name != "铁粉" || p.HasNext {
			t.Fatalf("progress: %+v %v", p, err)
		}
	})
}
