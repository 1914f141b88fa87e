package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/coupon"
)

// seedCoupons gives the demo brand community coupons: a new-member coupon,
// a VIP member-day coupon granted on the 18th (the day the VIP group's
// question asks about), free shipping coupons claimed by many and some
// redeemed by the shop, a birthday gift and the free shipping threshold.
func (g *generator) seedCoupons(ctx context.Context) error {
	svc := coupon.New(g.d.DB, g.d.Log)
	clock := g.start
	svc.SetClock(func() time.Time { return clock })
	var vip int64
	for _, grp := range g.groups {
		if grp.Kind == community.VIP {
			vip = grp.ID
		}
	}
	newcomer, err := svc.CreateBatch(ctx, coupon.Batch{TenantID: g.tenant.ID, Name: "新人专享 满99减10", Prefix: "NEW", Kind: coupon.Amount,
		AmountMinor: 1000, MinSpendMinor: 9900, ValidDays: 14, Stock: 500, PerMember: 1, Audience: coupon.Audience{NewWithinDays: 30}})
	if err != nil {
		return err
	}
	day, err := svc.CreateBatch(ctx, coupon.Batch{TenantID: g.tenant.ID, Name: "金卡会员日 9折", Prefix: "VIP", Kind: coupon.Percent,
		Percent: 10, ValidDays: 3, Stock: 2000, PerMember: 1, Audience: coupon.Audience{GroupID: vip}})
	if err != nil {
		return err
	}
	ship, err := svc.CreateBatch(ctx, coupon.Batch{TenantID: g.tenant.ID, Name: "社群包邮券", Kind: coupon.FreeShipping,
		ValidDays: 30, Stock: 300, PerMember: 2})
	if err != nil {
		return err
	}
	gift, err := svc.CreateBatch(ctx, coupon.Batch{TenantID: g.tenant.ID, Name: "生日礼 无门槛20元", Prefix: "BDAY", Kind: coupon.Amount,
		AmountMinor: 2000, ValidDays: 30, Stock: 1000, PerMember: 1, ClosesAt: g.start.Add(time.Hour)})
	if err != nil {
		return err
	}
	if _, err := svc.CreatePerk(ctx, coupon.Perk{TenantID: g.tenant.ID, Kind: coupon.MemberDay, Name: "金卡会员日（每月18号）",
		BatchID: day.ID, DayOfMonth: 18, Weekday: -1}); err != nil {
		return err
	}
	if _, err := svc.CreatePerk(ctx, coupon.Perk{TenantID: g.tenant.ID, Kind: coupon.Birthday, Name: "生日礼", BatchID: gift.ID}); err != nil {
		return err
	}
	if err := svc.SetFreeShippingThreshold(ctx, g.tenant.ID, 9900); err != nil {
		return err
	}
	for i, m := range g.members {
		if i%5 == 0 {
			if err := svc.SetBirthday(ctx, g.tenant.ID, m.id, 1+i%12, 1+i%28); err != nil {
				return err
			}
		}
		if i%4 != 0 {
			continue
		}
		clock = g.timeOfDay(g.start.AddDate(0, 0, g.rng.IntN(days)))
		c, err := svc.Claim(ctx, g.tenant.ID, ship.ID, m.id)
		if err != nil {
			return fmt.Errorf("claim a demo coupon: %w", err)
		}
		if i%3 == 0 {
			clock = clock.Add(time.Duration(1+g.rng.IntN(72)) * time.Hour)
			if _, err := svc.Redeem(ctx, g.tenant.ID, c.Code, fmt.Sprintf("BLOOM-%06d", 100000+i), int64(5000+g.rng.IntN(20000))); err != nil {
				return fmt.Errorf("redeem a demo coupon: %w", err)
			}
		}
		if _, err := svc.Claim(ctx, g.tenant.ID, newcomer.ID, m.id); err != nil && coupon.Reason(err) == "" {
			return err
		}
	}
	return nil
}
