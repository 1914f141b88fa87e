package commerce_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func TestNormPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+86 138-0013-8000": "13800138000", "8613800138000": "13800138000", "0086 13800138000": "13800138000",
		"13800138000": "13800138000", "+886 912 345 678": "886912345678", "(02) 1234-5678": "0212345678", "１３８００１３８０００": "13800138000",
		"86123": "86123",
	} {
		if got := commerce.NormPhone(in); got != want {
			t.Errorf("NormPhone(%q) = %q; want %q", in, got, want)
		}
	}
}

// Orders match members by channel identity, phone, email and coupon, in
// that order; an unmatched order is kept and matched later by Rematch.
func TestOrderMatching(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "match")
		ann := f.member("Ann", "+86 138-0013-8000", "")
		bob := f.member("Bob", "", "Bob@Shop.test")
		tg, err := f.members.Create(ctx, member.Member{TenantID: f.tenant, DisplayName: "Tg", Phone: "13800138000"},
			member.Identity{Channel: "telegram", ExternalID: "777"})
		if err != nil {
			t.Fatal(err)
		}
		dora := f.member("Dora", "", "")
		f.svc.CouponOwner = func(ctx context.Context, q store.Querier, tenantID int64, code string) (int64, error) {
			if tenantID == f.tenant && code == "VIP-DORA" {
				return dora, nil
			}
			return 0, store.ErrNotFound
		}
		cases := []struct {
			o      commerce.Order
			member int64
			by     string
		}{
			{commerce.Order{ExternalID: "1", AmountMinor: 100, Phone: "8613800138000"}, ann, "phone"},
			{commerce.Order{ExternalID: "2", AmountMinor: 100, Email: " BOB@shop.TEST "}, bob, "email"},
			// the identity wins over the phone it shares with Ann
			{commerce.Order{ExternalID: "3", AmountMinor: 100, Phone: "13800138000", Channel: "telegram", ChannelUser: "777"}, tg.ID, "channel"},
			{commerce.Order{ExternalID: "4", AmountMinor: 100, Coupon: "vip-dora"}, dora, "coupon"},
			{commerce.Order{ExternalID: "5", AmountMinor: 100, Phone: "13900000000", Email: "eve@shop.test"}, 0, ""},
		}
		for _, c := range cases {
			got, stored := f.order(c.o)
			if !stored || got.MemberID != c.member || got.MatchedBy != c.by {
				t.Errorf("order %s: member %d by %q stored %v; want %d by %q", c.o.ExternalID, got.MemberID, got.MatchedBy, stored, c.member, c.by)
			}
		}
		// A member who gives the phone later is matched by the nightly pass.
		eve := f.member("Eve", "139 0000 0000", "")
		n, err := f.svc.Rematch(ctx, f.tenant)
		if err != nil || n != 1 {
			t.Fatalf("rematch: %d %v; want 1", n, err)
		}
		o, err := f.svc.OrderByExternal(ctx, f.tenant, "5")
		if err != nil || o.MemberID != eve || o.MatchedBy != "phone" {
			t.Fatalf("after rematch: %+v %v", o, err)
		}
		if st := f.stats(eve); st.Orders != 1 || st.SpendMinor != 100 {
			t.Fatalf("eve's stats after rematch: %+v", st)
		}
		if n, _ := f.svc.Rematch(ctx, f.tenant); n != 0 {
			t.Fatalf("second rematch matched %d", n)
		}
		// Another tenant's member with the same phone is never matched.
		g := setup(t, db, "other")
		other, _ := g.order(commerce.Order{ExternalID: "1", AmountMinor: 1, Phone: "13800138000"})
		if other.MemberID != 0 {
			t.Fatalf("order matched across tenants: %+v", other)
		}
	})
}

// An order id is stored once; refunds are netted in the member's totals,
// each refund id once, never above what is left.
func TestOrdersAndRefunds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "refunds")
		ann := f.member("Ann", "13800138000", "")
		first, stored := f.order(commerce.Order{ExternalID: "A-1", AmountMinor: 100_00, Phone: "13800138000", PaidAt: day0.Add(-48 * time.Hour),
			Lines: []commerce.Line{{SKU: "TEA", Name: "Tea", Qty: 2, UnitPriceMinor: 50_00}}})
		if !stored || first.ID == 0 {
			t.Fatal("first order not stored")
		}
		again, stored := f.order(commerce.Order{ExternalID: "A-1", AmountMinor: 999, Phone: "13800138000"})
		if stored || again.ID != first.ID || again.AmountMinor != 100_00 || len(again.Lines) != 1 {
			t.Fatalf("repeated order: stored %v, %+v", stored, again)
		}
		f.order(commerce.Order{ExternalID: "A-2", AmountMinor: 20_00, Phone: "13800138000"})
		if st := f.stats(ann); st.Orders != 2 || st.SpendMinor != 120_00 || !st.FirstPaidAt.Equal(day0.Add(-48*time.Hour)) {
			t.Fatalf("stats: %+v", st)
		}
		rf, stored, err := f.svc.RecordRefund(ctx, commerce.RefundInput{TenantID: f.tenant, OrderExtID: "A-1", ExternalID: "R1", AmountMinor: 30_00})
		if err != nil || !stored || rf.ID == 0 {
			t.Fatalf("refund: %+v %v %v", rf, stored, err)
		}
		if _, stored, err := f.svc.RecordRefund(ctx, commerce.RefundInput{TenantID: f.tenant, OrderExtID: "A-1", ExternalID: "R1", AmountMinor: 30_00}); err != nil || stored {
			t.Fatalf("repeated refund: %v %v", stored, err)
		}
		if _, _, err := f.svc.RecordRefund(ctx, commerce.RefundInput{TenantID: f.tenant, OrderExtID: "A-1", ExternalID: "R2", AmountMinor: 70_01}); !errors.Is(err, commerce.ErrRefundTooLarge) {
			t.Fatalf("refund above what is left: %v", err)
		}
		if _, _, err := f.svc.RecordRefund(ctx, commerce.RefundInput{TenantID: f.tenant, OrderExtID: "nope", ExternalID: "R", AmountMinor: 1}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("refund of an unknown order: %v", err)
		}
		if _, _, err := f.svc.RecordRefund(ctx, commerce.RefundInput{TenantID: f.tenant, OrderExtID: "A-1", ExternalID: "R3", AmountMinor: -5}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("negative refund: %v", err)
		}
		if st := f.stats(ann); st.SpendMinor != 90_00 || st.Orders != 2 {
			t.Fatalf("stats after refund: %+v", st)
		}
		if n := f.count(`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'order_refunded'`, f.tenant); n != 1 {
			t.Fatalf("%d refund events", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'order_paid' AND member_id = $2`, f.tenant, ann); n != 2 {
			t.Fatalf("%d order events", n)
		}
		// Bad input is refused with its reasons.
		_, _, err = f.svc.Record(ctx, commerce.Order{TenantID: f.tenant, ExternalID: "B", Source: commerce.FromAPI, AmountMinor: -1, PaidAt: day0,
			Lines: []commerce.Line{{SKU: "X", Qty: 0}}})
		if !errors.Is(err, store.ErrInvalid) || !contains(err.Error(), "negative amount", "line 1: quantity") {
			t.Fatalf("bad order: %v", err)
		}
		// With a catalogue, an unknown SKU is refused; a known one is linked.
		p, err := f.svc.SaveProduct(ctx, commerce.Product{TenantID: f.tenant, SKU: "TEA", Name: "Tea", PriceMinor: 50_00})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Record(ctx, commerce.Order{TenantID: f.tenant, ExternalID: "C", Source: commerce.FromAPI, AmountMinor: 1, PaidAt: day0,
			Lines: []commerce.Line{{SKU: "COFFEE", Qty: 1}}}); !errors.Is(err, store.ErrInvalid) || !contains(err.Error(), "unknown SKU COFFEE") {
			t.Fatalf("unknown sku: %v", err)
		}
		o, _ := f.order(commerce.Order{ExternalID: "D", AmountMinor: 1, Lines: []commerce.Line{{SKU: "TEA", Qty: 1}}})
		if o.Lines[0].ProductID != p.ID {
			t.Fatalf("line not linked to the product: %+v", o.Lines)
		}
		if _, err := f.svc.SaveProduct(ctx, commerce.Product{TenantID: f.tenant, SKU: "TEA", Name: "Tea 2"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate sku: %v", err)
		}
	})
}

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !stringsContains(s, p) {
			return false
		}
	}
	return true
}

// Merging two records of one buyer merges their orders, totals and tier.
func TestMergeMovesPurchases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "merge")
		f.ladder()
		f.members.OnMerge(f.svc.MoveMember)
		web := f.member("Ann", "13800138000", "")
		tg := f.member("Ann TG", "", "ann@shop.test")
		f.order(commerce.Order{ExternalID: "1", AmountMinor: 300_00, Phone: "13800138000", PaidAt: day0.AddDate(0, 0, -10)})
		f.order(commerce.Order{ExternalID: "2", AmountMinor: 150_00, Email: "ann@shop.test", PaidAt: day0.AddDate(0, 0, -20)})
		f.order(commerce.Order{ExternalID: "3", AmountMinor: 100_00, Email: "ann@shop.test", PaidAt: day0.AddDate(0, 0, -2)})
		if f.rank(web) != 0 || f.rank(tg) != 0 {
			t.Fatal("neither record alone reaches 银卡")
		}
		if err := f.members.Merge(ctx, f.tenant, web, tg, 0); err != nil {
			t.Fatal(err)
		}
		st := f.stats(web)
		if st.Orders != 3 || st.SpendMinor != 550_00 || !st.FirstPaidAt.Equal(day0.AddDate(0, 0, -20)) || !st.LastPaidAt.Equal(day0.AddDate(0, 0, -2)) {
			t.Fatalf("merged totals: %+v", st)
		}
		if f.rank(web) != 1 || f.count(`SELECT COUNT(*) FROM member_commerce WHERE tenant_id = $1 AND member_id = $2`, f.tenant, tg) != 0 {
			t.Fatalf("after the merge: rank %d", f.rank(web))
		}
		if n := f.count(`SELECT COUNT(*) FROM orders WHERE tenant_id = $1 AND member_id = $2`, f.tenant, web); n != 3 {
			t.Fatalf("%d orders moved", n)
		}
	})
}
