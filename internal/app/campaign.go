package app

import (
	"context"
	"fmt"
	"net/url"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// buildCampaigns wires the campaign engine: the library, playbooks and
// their durable queue (campaign.Service), the dispatcher that turns due
// jobs into outbox rows, and the runner's enrolment of new members in the
// member journeys.
func (a *App) buildCampaigns() {
	a.Campaigns = campaign.New(a.DB, nil)
	a.Dispatcher = &campaign.Dispatcher{DB: a.DB, Outbox: a.Outbox, Logger: a.Logger, Link: a.campaignLink}
}

// enrollOnJoin schedules the new-member journeys for a member who joined,
// inside the runner's transaction.
func (a *App) enrollOnJoin(ctx context.Context, tx *store.Tx, e event.Event) error {
	_, err := a.Campaigns.Enroll(ctx, tx, e.TenantID, e.MemberID, e.At)
	return err
}

// campaignLink is the {link} of a campaign message: the content's own
// link, else — for a playbook that follows a live — the live room, marked
// with the playbook and step it came from (the source the analytics
// count).
func (a *App) campaignLink(ctx context.Context, j campaign.Job, c campaign.Content, _ int64) (string, error) {
	if c.LinkURL != "" || j.LiveID == 0 {
		return c.LinkURL, nil
	}
	t, err := a.Tenants.Get(ctx, j.TenantID)
	if err != nil {
		return "", err
	}
	src := url.Values{"src": {fmt.Sprintf("pb%d-s%d", j.PlaybookID, j.StepID)}}
	return fmt.Sprintf("%s/l/%s/%d?%s", a.Cfg.PublicURL(), t.Slug, j.LiveID, src.Encode()), nil
}
