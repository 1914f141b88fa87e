package app

import (
	"context"
	"fmt"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/track"
)

// buildTrack makes the tracked links (served at <public URL>/t/<code>).
func (a *App) buildTrack() {
	a.Track = track.New(a.DB, a.Log, a.Cfg.PublicURL())
}

// linkTrack makes every link liveloop sends a tracked link — the live's
// posts (runner), playbook steps (dispatcher), perk coupons' messages —
// and moves a merged member's clicks. (Orders are attributed through
// commerce's OnOrder, set in linkCommerce.)
func (a *App) linkTrack() {
	a.Runner.Track = a.Track
	a.Dispatcher.Track = a.trackStep
	a.Coupons.Link = a.couponsLink
	a.Members.OnMerge(a.Track.MoveMember)
}

// trackStep tracks the links of a playbook step's message: the content
// item and the step are what its clicks and orders count for. An image or
// a video the platform fetches stays as it is.
func (a *App) trackStep(ctx context.Context, tx *store.Tx, it *outbox.Item, j campaign.Job, c campaign.Content) error {
	spec := track.Spec{Kind: track.KindStep, LiveID: j.LiveID, ContentID: c.ID, StepID: j.StepID}
	if c.MediaURL != "" {
		spec.Keep = []string{c.MediaURL}
	}
	return a.Track.ItemTx(ctx, tx, it, spec)
}

// couponsLink is the tracked link to the member's coupons page that ends a
// perk coupon's message.
func (a *App) couponsLink(ctx context.Context, tx *store.Tx, tenantID, memberID, batchID int64, ref string) (string, error) {
	var slug string
	if err := tx.QueryRowContext(ctx, `SELECT slug FROM tenants WHERE id = $1`, tenantID).Scan(&slug); err != nil {
		return "", fmt.Errorf("coupons link: %w", err)
	}
	return a.Track.LinkTx(ctx, tx, tenantID, track.Spec{URL: fmt.Sprintf("%s/m/%s/coupons", a.Cfg.PublicURL(), slug),
		Kind: track.KindCoupon, MemberID: memberID, BatchID: batchID, Ref: ref})
}
