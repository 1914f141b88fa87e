package demo

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/outbox"
)

var demoProducts = []commerce.Product{
	{SKU: "SERUM-30", Name: "修护精华 30ml", PriceMinor: 299_00, Category: "护肤"},
	{SKU: "CREAM-50", Name: "保湿面霜 50g", PriceMinor: 199_00, Category: "护肤"},
	{SKU: "FOUND-PRO", Name: "粉底液 PRO", PriceMinor: 259_00, Category: "彩妆"},
	{SKU: "LIP-07", Name: "丝绒口红 #07", PriceMinor: 129_00, Category: "彩妆"},
	{SKU: "MASK-10", Name: "补水面膜 10片", PriceMinor: 89_00, Category: "护肤"},
}

// seedCommerce gives the demo brand its shop side: a catalogue, a tier
// ladder (普通 / 银卡 / 金卡 with the VIP group and an agent), half a
// year of orders — most matched to members by phone or web account, some
// not — with a few refunds, and one CSV import (a Shopify export) in the
// import history. Tiers are evaluated as each order is stored, so members
// who crossed a threshold were told so privately.
func (g *generator) seedCommerce(ctx context.Context) error {
	ob := outbox.New(g.d.DB, channel.NewRegistry(webchat.New(g.d.Log)), slog.New(slog.DiscardHandler))
	svc := commerce.New(g.d.DB, g.d.Log, ob, i18n.MustLoad())
	svc.SetClock(func() time.Time { return g.end })
	for _, p := range demoProducts {
		p.TenantID = g.tenant.ID
		if _, err := svc.SaveProduct(ctx, p); err != nil {
			return err
		}
	}
	var vip []int64
	for _, grp := range g.groups {
		if grp.Kind == community.VIP {
			vip = append(vip, grp.ID)
		}
	}
	for _, t := range []commerce.Tier{
		{Name: "普通会员", Rank: 0, Basis: commerce.BasisSpend, WindowDays: 365},
		{Name: "银卡", Rank: 1, Basis: commerce.BasisSpend, Threshold: 800_00, WindowDays: 365, DiscountPct: 5, PresaleDays: 1},
		{Name: "金卡", Rank: 2, Basis: commerce.BasisSpend, Threshold: 2500_00, WindowDays: 365, DiscountPct: 10, PresaleDays: 3,
			VIPGroupIDs: vip, AgentStaffID: g.staffID},
	} {
		t.TenantID = g.tenant.ID
		if _, err := svc.SaveTier(ctx, t); err != nil {
			return err
		}
	}
	phones := map[int64]string{}
	rows, err := g.d.DB.R.QueryContext(ctx, `SELECT id, phone FROM members WHERE tenant_id = $1 AND phone <> ''`, g.tenant.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var phone string
		if err := rows.Scan(&id, &phone); err != nil {
			rows.Close()
			return err
		}
		phones[id] = phone
	}
	rows.Close()
	n := 0
	for i, m := range g.members {
		if g.rng.IntN(5) >= 2 { // two in five have bought
			continue
		}
		orders := 1 + g.rng.IntN(4)
		if i%17 == 3 {
			orders += 6 // the brand's best customers
		}
		for k := range orders {
			n++
			o := commerce.Order{TenantID: g.tenant.ID, ExternalID: fmt.Sprintf("BB%06d", 100000+n), Source: commerce.FromAPI,
				PaidAt: g.timeOfDay(g.end.AddDate(0, 0, -1-g.rng.IntN(180)))}
			if phone, ok := phones[m.id]; ok && k%2 == 0 {
				o.Phone = phone
			} else {
				o.Channel, o.ChannelUser = webchat.Name, fmt.Sprintf("demo-%d", i)
			}
			for range 1 + g.rng.IntN(3) {
				p := demoProducts[g.rng.IntN(len(demoProducts))]
				qty := int64(1 + g.rng.IntN(2))
				o.Lines = append(o.Lines, commerce.Line{SKU: p.SKU, Name: p.Name, Qty: qty, UnitPriceMinor: p.PriceMinor})
				o.AmountMinor += qty * p.PriceMinor
			}
			if _, _, err := svc.Record(ctx, o); err != nil {
				return fmt.Errorf("demo order %s: %w", o.ExternalID, err)
			}
			if g.rng.IntN(25) == 0 {
				if _, _, err := svc.RecordRefund(ctx, commerce.RefundInput{TenantID: g.tenant.ID, OrderExtID: o.ExternalID,
					ExternalID: "RF" + o.ExternalID, AmountMinor: o.Lines[0].UnitPriceMinor, At: o.PaidAt.Add(72 * time.Hour)}); err != nil {
					return err
				}
			}
		}
	}
	// A Shopify export: buyers who have not joined (yet) stay unmatched.
	var csv strings.Builder
	csv.WriteString("Name,Email,Financial Status,Paid at,Currency,Total,Discount Code,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Refunded Amount,Phone\n")
	for k := range 12 {
		p := demoProducts[k%len(demoProducts)]
		paid := g.end.AddDate(0, 0, -2-k*5).Add(20 * time.Hour)
		fmt.Fprintf(&csv, "#%d,guest%d@example.com,paid,%s,CNY,%d.00,,1,%s,%d.00,%s,0.00,+86 139 %04d %04d\n", 5001+k, k,
			paid.Format("2006-01-02 15:04:05 -0700"), p.PriceMinor/100, p.Name, p.PriceMinor/100, p.SKU, 8000+k, 1000+k)
	}
	_, err = svc.Import(ctx, bytes.NewReader([]byte(csv.String())), commerce.ImportOptions{TenantID: g.tenant.ID, Mapping: commerce.Shopify,
		Encoding: commerce.EncodingAuto, Filename: "shopify-orders-export.csv"})
	return err
}
