package campaign_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// A segment's minimum tier reaches the members whose current tier (as
// commerce evaluated it from their orders) ranks at least that high, in
// this tenant only.
func TestSegmentMinTier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		log := event.NewLog(db, event.NewLocalBus())
		ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
		shop := commerce.New(db, log, ob, i18n.MustLoad())
		shop.SetClock(f.clock.Now)
		for _, tn := range []int64{f.tenant, f.other} {
			for _, tr := range []commerce.Tier{
				{Name: "普通", Rank: 0, Basis: commerce.BasisSpend, WindowDays: 365},
				{Name: "银卡", Rank: 1, Basis: commerce.BasisSpend, Threshold: 500_00, WindowDays: 365},
				{Name: "金卡", Rank: 2, Basis: commerce.BasisSpend, Threshold: 2000_00, WindowDays: 365},
			} {
				tr.TenantID = tn
				if _, err := shop.SaveTier(ctx, tr); err != nil {
					t.Fatal(err)
				}
			}
		}
		buyer := func(tenantID int64, name, phone string, spend int64) int64 {
			id := f.member(t, tenantID, name)
			if err := f.ms.UpdateContact(ctx, member.Member{TenantID: tenantID, ID: id, DisplayName: name, Phone: phone}); err != nil {
				t.Fatal(err)
			}
			if spend > 0 {
				if _, _, err := shop.Record(ctx, commerce.Order{TenantID: tenantID, ExternalID: name, Source: commerce.FromAPI,
					AmountMinor: spend, Phone: phone, PaidAt: t0.AddDate(0, 0, -3)}); err != nil {
					t.Fatal(err)
				}
			}
			return id
		}
		none := buyer(f.tenant, "none", "", 0)
		base := buyer(f.tenant, "base", "13800000001", 100_00)
		silver := buyer(f.tenant, "silver", "13800000002", 600_00)
		gold := buyer(f.tenant, "gold", "13800000003", 2500_00)
		buyer(f.other, "rival-gold", "13800000003", 2500_00)
		for _, tc := range []struct {
			seg  campaign.Segment
			want []int64
		}{
			{campaign.Segment{}, []int64{none, base, silver, gold}},
			{campaign.Segment{MinTier: 1}, []int64{silver, gold}},
			{campaign.Segment{MinTier: 2}, []int64{gold}},
			{campaign.Segment{MinTier: 3}, nil},
		} {
			got, err := campaign.Members(ctx, db.R, f.tenant, tc.seg, t0)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("min tier %d: %v %v; want %v", tc.seg.MinTier, got, err, tc.want)
			}
		}
		if (campaign.Segment{MinTier: 1}).Empty() {
			t.Error("a segment with a minimum tier is not empty")
		}
		bad := campaign.Segment{MinTier: 10}
		if p := campaign.ValidateSegment(&bad); len(p) != 1 || !strings.Contains(p[0], "minimum tier") {
			t.Errorf("ValidateSegment(min tier 10): %v", p)
		}
	})
}
