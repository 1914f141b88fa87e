package app

import (
	"context"
	"time"

	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/referral"
)

// buildReferral wires group sets (活码) and referral campaigns (裂变).
// Coupon rewards need the coupon feature's grant (Referral.GrantCoupon),
// set where the coupons are built.
func (a *App) buildReferral(cat *i18n.Catalog) {
	a.Referral = referral.New(a.DB, a.Community, a.Loyalty, a.Log, &notify.Notifier{Outbox: a.Outbox}, cat)
}

// referralEvery is how often pending invitees are decided.
const referralEvery = time.Minute

// settleReferrals decides pending invitees (valid after their stay,
// rejected when they left or were removed before) and gives the rewards
// they unlock, every minute until ctx ends. A pass is idempotent, so
// nodes running it together, or a pass repeated after a crash, give
// nothing twice.
func (a *App) settleReferrals(ctx context.Context) error {
	t := time.NewTicker(referralEvery)
	defer t.Stop()
	for {
		res, err := a.Referral.Settle(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Logger.Warn("referral: settle", "err", err)
		case res.Validated+res.Rejected+res.Granted > 0:
			a.Logger.Info("referral: settled", "valid", res.Validated, "rejected", res.Rejected, "rewards", res.Granted)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
