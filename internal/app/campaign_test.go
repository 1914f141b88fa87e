package app_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// The campaign engine inside the running app: a member who joins through
// the join page is enrolled in the new-member journey by the rule runner,
// and a playbook step due now is posted to the group by the dispatcher.
func TestCampaignsInTheApp(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { campaignsInTheApp(t, d) })
	}
}

func campaignsInTheApp(t *testing.T, d store.Dialect) {
	e := apptest.Start(t, d)
	br := e.Brand("camp")
	ctx := context.Background()
	a := e.App
	if err := a.Campaigns.SetPolicy(ctx, br.Tenant.ID, campaign.Policy{QuietStart: "00:00", QuietEnd: "00:00", SalesCap: 3,
		CapWindow: 7 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	var journey campaign.Playbook
	if err := a.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		journey, err = a.Campaigns.NewMemberJourney(ctx, tx, br.Tenant.ID, campaign.TemplateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	journey.Active = true
	journey, err := a.Campaigns.SavePlaybook(ctx, journey)
	if err != nil {
		t.Fatal(err)
	}

	// A fan joins through the join page.
	fan := e.Client()
	if r := fan.PostForm("/j/"+br.JoinCode.Code, url.Values{"name": {"Mei"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "the joiner enrolled in the journey", func() bool {
		jobs, err := a.Campaigns.Jobs(ctx, br.Tenant.ID, journey.ID)
		return err == nil && len(jobs) == len(journey.Steps)
	})
	jobs, _ := a.Campaigns.Jobs(ctx, br.Tenant.ID, journey.ID)
	for _, j := range jobs {
		if j.MemberID == 0 || j.State != campaign.JobPending {
			t.Fatalf("journey job %+v: want pending, for the joiner", j)
		}
	}

	// A post due now reaches the group.
	c, err := a.Campaigns.CreateContent(ctx, campaign.Content{TenantID: br.Tenant.ID, Title: "tip", Type: campaign.TypeKnowledge,
		Format: campaign.FormatText, Variants: map[string]string{"en": "Hello {name}, today's tip"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Campaigns.SavePlaybook(ctx, campaign.Playbook{TenantID: br.Tenant.ID, Name: "now", Kind: campaign.KindCustom,
		Anchor: campaign.AnchorDate, AnchorAt: time.Now().Add(-time.Minute), Active: true,
		Steps: []campaign.Step{{ContentID: c.ID, Target: campaign.Target{Kind: campaign.TargetGroups, Groups: []int64{br.Group.ID}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := a.Campaigns.Arm(ctx, br.Tenant.ID, p.ID); err != nil || n != 1 {
		t.Fatalf("armed %d (%v)", n, err)
	}
	waitUntil(t, "the post in the group", func() bool {
		var n int
		a.DB.R.QueryRow(`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND group_id = $2 AND type = 'message' AND source = 'outbox'
				AND CAST(data AS TEXT) LIKE '%today''s tip%'`, br.Tenant.ID, br.Group.ID).Scan(&n)
		return n == 1
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
