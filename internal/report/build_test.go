package report

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// buildDeps is Build's services on db, "now" being the end of 2026.
func buildDeps(db *store.DB, log *event.Log) Deps {
	now := func() time.Time { return at(shanghai, "2026-12-31 12:00") }
	a := analytics.New(db)
	a.SetClock(now)
	return Deps{DB: db, Analytics: a, Tenants: tenant.NewService(db), Community: community.NewService(db, log),
		Bot: runner.NewStore(db), Campaigns: campaign.New(db, func() time.Time { return at(shanghai, "2026-11-15 09:00") }),
		Lives: live.New(db, log), Catalog: i18n.MustLoad(), Now: now}
}

// The week of 16 November 2026 of a small brand, through the real event
// log and rollup: one group, three members who join on Tuesday, five
// member messages (four on Wednesday 20:00–20:20, one on Thursday 09:00),
// nothing the week before; a persona with a check-in rule; a playbook
// with a knowledge step that was sent and a promo step that was skipped.
func TestBuild(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := event.NewLog(db, event.NewLocalBus())
		d := buildDeps(db, log)
		tn, err := d.Tenants.Create(ctx, tenant.Tenant{Slug: "fx", Name: "FX", Timezone: "Asia/Shanghai", Locale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		g, _, err := d.Community.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "web", Name: "护肤交流群", Kind: community.Vertical,
			Audience: "敏感肌", Promise: "每天一个护肤小知识", Tone: "温柔", Rules: "不发广告", Capacity: 500})
		if err != nil {
			t.Fatal(err)
		}
		members := member.NewService(db, log)
		ids := map[string]int64{}
		for _, name := range []string{"A", "B", "C"} {
			m, err := members.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: name}, member.Identity{Channel: "web", ExternalID: "fx-" + name})
			if err != nil {
				t.Fatal(err)
			}
			ids[name] = m.ID
			if _, err := d.Community.Join(ctx, community.JoinRequest{TenantID: tn.ID, GroupID: g.ID, MemberID: m.ID,
				JoinCode: community.JoinCode{Code: "qr1", Source: "live-qr"}, Source: "web", At: at(shanghai, "2026-11-17 10:00")}); err != nil {
				t.Fatal(err)
			}
		}
		for i, m := range []struct{ who, when string }{
			{"A", "2026-11-18 20:05"}, {"A", "2026-11-18 20:10"}, {"B", "2026-11-18 20:15"}, {"A", "2026-11-18 20:20"}, {"C", "2026-11-19 09:00"},
		} {
			e := event.Event{TenantID: tn.ID, Type: event.Message, Source: "web", SourceID: "m" + string(rune('0'+i)), At: at(shanghai, m.when),
				GroupID: g.ID, MemberID: ids[m.who], Data: event.MustData(event.MessageData{Text: "hi"})}
			if _, err := log.Append(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		persona, err := d.Bot.SavePersona(ctx, tn.ID, bot.Persona{Name: "小助理", Role: bot.RoleAssistant})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Bot.SaveRule(ctx, tn.ID, bot.Rule{Kind: bot.KindCheckIn, PersonaID: persona.ID, Enabled: true,
			CheckIn: &bot.CheckInConfig{Question: "今天直播几点开始？", Answers: []string{"8"}, WindowStart: "08:00", WindowEnd: "23:00", Points: 5}}); err != nil {
			t.Fatal(err)
		}
		content := func(title string, typ campaign.Type) int64 {
			c, err := d.Campaigns.CreateContent(ctx, campaign.Content{TenantID: tn.ID, Title: title, Type: typ, Format: campaign.FormatText,
				Variants: map[string]string{"en": title}})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		target := campaign.Target{Kind: campaign.TargetGroups, Groups: []int64{g.ID}}
		pb, err := d.Campaigns.SavePlaybook(ctx, campaign.Playbook{TenantID: tn.ID, Name: "周计划", Kind: campaign.KindCustom,
			Anchor: campaign.AnchorDate, AnchorAt: at(shanghai, "2026-11-18 12:00"), Active: true, Steps: []campaign.Step{
				{Days: 0, At: "20:00", ContentID: content("护肤小课堂", campaign.TypeKnowledge), Target: target},
				{Days: 1, At: "20:00", ContentID: content("限时秒杀", campaign.TypePromo), Target: target},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := d.Campaigns.Arm(ctx, tn.ID, pb.ID); err != nil || n != 2 {
			t.Fatalf("arm: %d %v", n, err)
		}
		// What the dispatcher would have recorded.
		for typ, outcome := range map[string][2]string{"knowledge": {"sent", ""}, "promo": {"skipped", "cap: 3 sales posts in 7 days"}} {
			if _, err := db.W.ExecContext(ctx, `UPDATE campaign_jobs SET state = $3, reason = $4 WHERE tenant_id = $1 AND content_type = $2`,
				tn.ID, typ, outcome[0], outcome[1]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
			t.Fatal(err)
		}

		r, err := Build(ctx, d, tn.ID, Weekly, week)
		if err != nil {
			t.Fatal(err)
		}
		// Three joins this week, none the week before; five member messages.
		for key, want := range map[string][2]float64{"joins": {3, 0}, "member_messages": {5, 0}} {
			m, _ := r.Metric(key)
			if m.Cur.Float() != want[0] || m.Prev.Float() != want[1] {
				t.Errorf("%s: %v / %v, want %v", key, m.Cur, m.Prev, want)
			}
		}
		cat := d.Catalog
		var texts []string
		for _, f := range r.Findings {
			texts = append(texts, f.Text(cat, "en"))
		}
		all := strings.Join(texts, "\n")
		for _, want := range []string{
			// Wednesday 20:00 holds 4 of the 5 messages: 80 %.
			"Wednesday 20:00 had the highest engagement: 4 member messages and clicks, 80.0% of the period's.",
			MetricName(cat, "en", "joins") + ": 3, after none last week.",
			// The promo step was skipped: 1 of the 2 planned.
			"1 of the 2 playbook steps planned for the period were skipped or failed",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("findings lack %q:\n%s", want, all)
			}
		}
		if r.Heatmap.Total != 5 || r.Heatmap.BestDay != 3 || r.Heatmap.BestHour != 20 {
			t.Errorf("heatmap total %d best %d %d", r.Heatmap.Total, r.Heatmap.BestDay, r.Heatmap.BestHour)
		}
		if len(r.Series) != len(SeriesKeys) || len(r.Series[0].Cur) != 7 || len(r.Series[0].Prev) != 7 {
			t.Errorf("series: %d, days %d", len(r.Series), len(r.Series[0].Cur))
		}

		td := r.Teardown
		if len(td.Groups) != 1 || td.Groups[0].Name != "护肤交流群" || td.Groups[0].Members != 3 || td.Groups[0].Audience != "敏感肌" {
			t.Fatalf("teardown groups %+v", td.Groups)
		}
		gt := td.Groups[0]
		if len(gt.Routine) != 1 || gt.Routine[0] != (Routine{Kind: "checkin", Persona: "小助理", Enabled: true, AllGrps: true,
			Text: "今天直播几点开始？", Window: "08:00–23:00", Points: 5}) {
			t.Errorf("routine %+v", gt.Routine)
		}
		var states []string
		for _, run := range gt.Runs {
			states = append(states, run.Content+":"+run.State+":"+run.Reason)
		}
		if !slices.Equal(states, []string{"护肤小课堂:sent:", "限时秒杀:skipped:cap: 3 sales posts in 7 days"}) {
			t.Errorf("runs %v", states)
		}
		if gt.Mix != (Mix{PlannedValue: 1, PlannedSales: 1, SentValue: 1}) || td.Mix != gt.Mix {
			t.Errorf("mix %+v, brand %+v", gt.Mix, td.Mix)
		}
		if len(td.Personas) != 1 || td.Personas[0] != (Persona{Name: "小助理", Role: "assistant", Rules: 1}) {
			t.Errorf("personas %+v", td.Personas)
		}
		if len(td.Playbooks) != 1 || len(td.Playbooks[0].Steps) != 2 || td.Playbooks[0].Steps[1].Content != "限时秒杀" ||
			td.Playbooks[0].Steps[1].Days != 1 || td.Playbooks[0].Steps[1].Groups[0] != "护肤交流群" {
			t.Errorf("playbooks %+v", td.Playbooks)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Errorf("the report does not encode: %v", err)
		}
		v := NewView(cat, "zh-CN", Stored{ID: 1, Kind: Weekly, Period: week, Report: r})
		if b, _ := json.Marshal(v); strings.Contains(string(b), "NaN") || strings.Contains(string(b), "%!") {
			t.Errorf("the view has NaN or a formatting error: %s", b)
		}

		// A brand with nothing at all: a report that says so.
		empty, err := d.Tenants.Create(ctx, tenant.Tenant{Slug: "empty", Name: "Empty", Timezone: "Asia/Taipei"})
		if err != nil {
			t.Fatal(err)
		}
		r, err = Build(ctx, d, empty.ID, Monthly, analytics.Month(week.From))
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(r.Findings); !slices.Equal(got, []string{"no_activity"}) {
			t.Errorf("empty brand: findings %v", got)
		}
	})
}
