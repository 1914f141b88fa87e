package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/referral"
	"github.com/liveloop/liveloop/internal/store"
)

// buildCommerce makes the commerce service: orders, products, member
// totals and tiers (tier changes are told through the outbox).
func (a *App) buildCommerce(cat *i18n.Catalog) {
	a.Commerce = commerce.New(a.DB, a.Log, a.Outbox, cat)
	a.Members.OnMerge(a.Commerce.MoveMember) // one buyer's records, one purchase history
}

// commerceNightly runs the nightly commerce pass (rematch unmatched
// orders, re-evaluate tiers so spend that aged out moves members down):
// every ten minutes it asks commerce.Nightly, which runs each tenant once
// a local day from 03:00 and records the day, so a restart does not run
// it again.
func (a *App) commerceNightly(ctx context.Context) error {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := a.Commerce.Nightly(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.Logger.Warn("commerce nightly pass", "err", err)
		} else if n > 0 {
			a.Logger.Info("commerce nightly pass", "tenants", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// linkCommerce connects the commerce features that use one another: an
// order matches its buyer by a coupon code's owner; moving up a tier hands
// out the tier's coupon bundle; a referral reward can be a coupon. (The
// tier audiences of coupons and presales, and the VIP groups' join gate,
// are set where those are built.)
func (a *App) linkCommerce() {
	a.Commerce.CouponOwner = a.Coupons.OwnerOf
	a.Commerce.OnUpgrade = a.tierBundle
	a.Commerce.OnOrder = a.Track.AttributeOrderTx // last and first touch of the buyer's clicks
	a.Referral.GrantCoupon = func(ctx context.Context, tx *store.Tx, tenantID, batchID, memberID int64, ref string) error {
		_, err := a.Coupons.GrantTx(ctx, tx, tenantID, batchID, memberID, ref)
		if errors.Is(err, coupon.ErrSoldOut) || errors.Is(err, coupon.ErrDisabled) || errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %w", referral.ErrCouponUnavailable, err) // the reward stands, noted
		}
		return err
	}
}

// tierBundle grants the coupons of the tier a member moved up to, one per
// batch, once per member (the ref names the tier and the member: grant
// refs are unique per batch, so a ref of the tier alone would serve the
// first member only and fail the order of every later one). A batch that
// is sold out, disabled or gone is logged and skipped: the upgrade and its order stand. Other
// errors (the database's) fail the transaction, as they must on
// PostgreSQL, where a failed statement aborts it.
func (a *App) tierBundle(ctx context.Context, tx *store.Tx, tenantID, memberID int64, t commerce.Tier) error {
	for _, batch := range t.CouponBatchIDs {
		_, err := a.Coupons.GrantTx(ctx, tx, tenantID, batch, memberID, fmt.Sprintf("tier:%d:%d", t.ID, memberID))
		switch {
		case errors.Is(err, coupon.ErrSoldOut), errors.Is(err, coupon.ErrDisabled), errors.Is(err, store.ErrNotFound):
			a.Logger.Warn("tier bundle: coupon not granted", "tenant", tenantID, "member", memberID, "tier", t.ID, "batch", batch, "reason", err)
		case err != nil:
			return err
		}
	}
	return nil
}
