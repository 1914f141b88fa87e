package campaign_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// BenchmarkCampaignSend measures the campaign engine end to end on each
// engine: playbook steps armed into jobs, jobs dispatched into outbox rows
// (policy checked per recipient), and the rows delivered on the web
// community channel. One op is one message delivered; the steps are
// private messages to a group of 1,000 members.
//
//	go test -run '^$' -bench BenchmarkCampaignSend -benchtime 20000x ./internal/campaign/
func BenchmarkCampaignSend(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) { benchSend(b, storetest.Open(b, d)) })
	}
}

func benchSend(b *testing.B, db *store.DB) {
	const audience = 1000
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: fmt.Sprint("bench", time.Now().UnixNano()), Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	cs, ms := community.NewService(db, log), member.NewService(db, log)
	g, _, err := cs.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "web", Name: "fans", Kind: community.Vertical, Capacity: audience + 1})
	if err != nil {
		b.Fatal(err)
	}
	for i := range audience {
		m, err := ms.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: fmt.Sprint("fan ", i)}, member.Identity{Channel: "web", ExternalID: fmt.Sprint("f", i)})
		if err == nil {
			_, err = cs.Join(ctx, community.JoinRequest{TenantID: tn.ID, GroupID: g.ID, MemberID: m.ID, Source: "web"})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	svc := campaign.New(db, nil)
	if err := svc.SetPolicy(ctx, tn.ID, campaign.Policy{QuietStart: "00:00", QuietEnd: "00:00", SalesCap: 3, CapWindow: 7 * 24 * time.Hour}); err != nil {
		b.Fatal(err)
	}
	c, err := svc.CreateContent(ctx, campaign.Content{TenantID: tn.ID, Title: "tip", Type: campaign.TypeKnowledge, Format: campaign.FormatText,
		Variants: map[string]string{"zh-CN": "{name}，今天的干货"}})
	if err != nil {
		b.Fatal(err)
	}
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), quiet)
	ob.Batch = 500
	d := &campaign.Dispatcher{DB: db, Outbox: ob, Logger: quiet, Batch: 5}
	steps := max(1, (b.N+audience-1)/audience)
	p := campaign.Playbook{TenantID: tn.ID, Name: "bench", Kind: campaign.KindCustom, Anchor: campaign.AnchorDate,
		AnchorAt: time.Now().Add(-time.Minute), Active: true}
	for i := range steps {
		p.Steps = append(p.Steps, campaign.Step{Position: i, Minutes: -i % 50, ContentID: c.ID,
			Target: campaign.Target{Kind: campaign.TargetDM, Segment: campaign.Segment{GroupID: g.ID}}})
	}
	if p, err = svc.SavePlaybook(ctx, p); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	if _, err := svc.Arm(ctx, tn.ID, p.ID); err != nil {
		b.Fatal(err)
	}
	for {
		n, err := d.RunDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	dispatched := time.Since(start)
	for {
		n, err := ob.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	b.StopTimer()
	counts, err := ob.Counts(ctx, tn.ID)
	if err != nil {
		b.Fatal(err)
	}
	if counts[outbox.Sent] != steps*audience {
		b.Fatalf("sent %d, want %d (%v)", counts[outbox.Sent], steps*audience, counts)
	}
	total := time.Since(start)
	b.ReportMetric(float64(steps*audience)/dispatched.Seconds(), "queued/s")
	b.ReportMetric(float64(steps*audience)/total.Seconds(), "delivered/s")
}
