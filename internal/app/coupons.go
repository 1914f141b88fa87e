package app

import (
	"context"
	"time"

	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/notify"
)

// buildCoupons builds the coupon service: the tier audience asks commerce
// for a member's tier, perks tell members through the outbox.
func (a *App) buildCoupons(cat *i18n.Catalog) {
	a.Coupons = coupon.New(a.DB, a.Log)
	a.Coupons.Catalog = cat
	a.Coupons.Notifier = &notify.Notifier{Outbox: a.Outbox}
	if a.Commerce != nil {
		a.Coupons.TierRank = a.Commerce.TierRank
	}
	a.Members.OnMerge(a.Coupons.MoveMember) // the person holds both records' coupons
}

// perkInterval is how often due perks (member days, birthday gifts) run.
const perkInterval = 5 * time.Minute

// runPerks grants the perks due in each brand's day every few minutes.
// Each perk's day is recorded when done and every grant carries its ref,
// so a restart, or a second node running the same pass, adds nothing.
func (a *App) runPerks(ctx context.Context) error {
	t := time.NewTicker(perkInterval)
	defer t.Stop()
	for {
		runs, err := a.Coupons.RunPerks(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			a.Logger.Warn("coupon perks", "err", err)
		}
		for _, r := range runs {
			if r.Granted+r.Skipped == 0 {
				continue // a perk of the day with nobody in its audience today
			}
			a.Logger.Info("coupon perk granted", "perk", r.PerkID, "day", r.Day, "granted", r.Granted, "skipped", r.Skipped)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
