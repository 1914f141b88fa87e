package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
)

// seedSales gives the demo brand its in-group sales: last week's flash
// sale in the vertical group, sold out (its winners in the console and the
// export), tonight's flash sale with its countdown on the chat page, a
// closed chain order and an open one members are still joining, and a
// presale opening in five days with early access for the VIP group's
// regulars (tagged 高客单), some of whom have reserved. The history sends
// no private messages (no outbox): the runner announces what is due from
// the moment the demo runs.
func (g *generator) seedSales(ctx context.Context) error {
	svc := sale.New(g.d.DB, g.d.Log, nil, i18n.MustLoad())
	clock := g.start
	svc.SetClock(func() time.Time { return clock })
	main := g.groups[0]
	inMain := g.membersOf(main.ID, g.end)

	// Last week's flash sale, sold out within the minute.
	clock = g.end.AddDate(0, 0, -8).Add(12 * time.Hour)
	past, err := svc.CreateFlash(ctx, sale.Flash{TenantID: g.tenant.ID, Name: "玫瑰精华面霜 50ml 秒杀", SKU: "BLOOM-ROSE-50",
		PriceMinor: 9900, OriginalMinor: 19900, Stock: 30, CountdownMin: 10, StartsAt: clock.Add(8 * time.Hour),
		Groups: []int64{main.ID}, StaffID: g.staffID})
	if err != nil {
		return err
	}
	clock = past.StartsAt
	for i, m := range inMain {
		if i == 30 {
			break
		}
		clock = clock.Add(time.Duration(300+g.rng.IntN(1500)) * time.Millisecond)
		if _, err := svc.ClaimFlash(ctx, g.tenant.ID, past.ID, m, main.ID, []string{sale.ViaWeb, sale.ViaKeyword}[i%2]); err != nil {
			return fmt.Errorf("claim a demo flash sale: %w", err)
		}
	}
	if past, err = svc.Flash(ctx, g.tenant.ID, past.ID); err != nil {
		return err
	}
	for _, what := range []string{sale.DueResult} {
		if err := g.d.DB.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := svc.MarkFlashTx(ctx, tx, past, what, clock)
			return err
		}); err != nil {
			return err
		}
	}

	// Tomorrow evening's flash sale at 20:00: its countdown shows on the chat page.
	clock = g.end
	tonight := g.end.Add(20 * time.Hour)
	if _, err := svc.CreateFlash(ctx, sale.Flash{TenantID: g.tenant.ID, Name: "限定礼盒 秒杀", SKU: "BLOOM-GIFT-BOX",
		PriceMinor: 12900, OriginalMinor: 25900, Stock: 50, CountdownMin: 10, StartsAt: tonight.AddDate(0, 0, 1),
		Keyword: "秒杀,搶,grab", Groups: []int64{main.ID}, StaffID: g.staffID}); err != nil {
		return err
	}

	// A chain order that closed last week, and one open for three days.
	clock = g.end.AddDate(0, 0, -10).Add(10 * time.Hour)
	if err := g.seedChain(ctx, svc, &clock, main, inMain[:min(36, len(inMain))], sale.Chain{Title: "云南蓝莓 团购", MaxQty: 5,
		Options: []sale.Option{{Label: "2盒装", PriceMinor: 5900}, {Label: "4盒装", PriceMinor: 10900}},
		Tiers:   []sale.Tier{{Min: 10, PriceMinor: 5200}, {Min: 30, PriceMinor: 4900}}, ClosesAt: clock.Add(48 * time.Hour)}, true); err != nil {
		return err
	}
	clock = g.end.Add(-6 * time.Hour)
	others := inMain[min(36, len(inMain)):]
	if err := g.seedChain(ctx, svc, &clock, main, others[:min(14, len(others))], sale.Chain{Title: "智利车厘子 J级 团购", MaxQty: 5,
		Options: []sale.Option{{Label: "2斤装", PriceMinor: 9900}, {Label: "5斤装", PriceMinor: 22900}},
		Tiers:   []sale.Tier{{Min: 20, PriceMinor: 8900}, {Min: 50, PriceMinor: 7900}}, ClosesAt: g.end.AddDate(0, 0, 4)}, false); err != nil {
		return err
	}

	// A presale with early access for the VIP regulars.
	clock = g.end.AddDate(0, 0, -1)
	p, err := svc.CreatePresale(ctx, sale.Presale{TenantID: g.tenant.ID, Name: "秋冬限定 玫瑰修护精华 30ml", SKU: "BLOOM-ROSE-SERUM",
		PriceMinor: 29900, Stock: 200, OpensAt: g.end.AddDate(0, 0, 5).Add(20 * time.Hour), EarlyDays: 7,
		Segment: campaign.Segment{Tags: []string{"高客单"}}, StaffID: g.staffID})
	if err != nil {
		return err
	}
	clock = g.end.Add(-2 * time.Hour)
	vips, err := campaign.Members(ctx, g.d.DB.R, g.tenant.ID, p.Segment, clock)
	if err != nil {
		return err
	}
	for i, m := range vips {
		if i%3 != 0 {
			continue
		}
		clock = clock.Add(time.Duration(1+g.rng.IntN(5)) * time.Minute)
		if _, err := svc.Reserve(ctx, g.tenant.ID, p.ID, m); err != nil {
			return fmt.Errorf("reserve a demo presale: %w", err)
		}
	}
	return nil
}

// seedChain starts a chain in the group and has the members join it, some
// with two lines and a few cancelling; closed, it is closed at its
// deadline with its final list.
func (g *generator) seedChain(ctx context.Context, svc *sale.Service, clock *time.Time, grp community.Group, members []int64,
	c sale.Chain, closed bool) error {
	c.TenantID, c.GroupID, c.StaffID = g.tenant.ID, grp.ID, g.staffID
	err := g.d.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = svc.CreateChainTx(ctx, tx, c)
		return err
	})
	if err != nil {
		return err
	}
	for i, m := range members {
		*clock = clock.Add(time.Duration(1+g.rng.IntN(20)) * time.Minute)
		opt, qty := 1+g.rng.IntN(len(c.Options)), int64(1+g.rng.IntN(2))
		if _, err := svc.JoinChain(ctx, g.tenant.ID, c.ID, m, opt, qty, fmt.Sprintf("demo:%d", i)); err != nil {
			return fmt.Errorf("join a demo chain: %w", err)
		}
		if i%9 == 4 {
			if _, err := svc.CancelChain(ctx, g.tenant.ID, c.ID, m, fmt.Sprintf("demo-cancel:%d", i)); err != nil {
				return err
			}
		}
	}
	if !closed {
		return nil
	}
	return g.d.DB.InTx(ctx, func(tx *store.Tx) error {
		_, _, err := svc.CloseChainTx(ctx, tx, c, c.ClosesAt)
		return err
	})
}

// membersOf lists the demo members in the group at t (joined, not left).
func (g *generator) membersOf(groupID int64, t time.Time) []int64 {
	var out []int64
	for _, m := range g.members {
		joined, ok := m.joined[groupID]
		if !ok || joined.After(t) {
			continue
		}
		if left, gone := m.left[groupID]; gone && !left.After(t) {
			continue
		}
		out = append(out, m.id)
	}
	return out
}
