package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// clock is a settable now: tests move time instead of sleeping.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

type fixture struct {
	db     *store.DB
	svc    *campaign.Service
	d      *campaign.Dispatcher
	cs     *community.Service
	ms     *member.Service
	clock  *clock
	loc    *time.Location
	tenant int64
	other  int64 // a second tenant, for isolation
	g1, g2 int64
	og     int64 // the other tenant's group
}

// t0 is the fixture's start: Monday 2 March 2026, 12:00 in Shanghai (the
// tenant's zone).
var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, mustLoc(nil, "Asia/Shanghai"))

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	ts := tenant.NewService(db)
	f := &fixture{db: db, cs: community.NewService(db, log), ms: member.NewService(db, log),
		clock: &clock{now: t0}, loc: mustLoc(t, "Asia/Shanghai")}
	for slug, p := range map[string]*int64{"shop": &f.tenant, "rival": &f.other} {
		tn, err := ts.Create(ctx, tenant.Tenant{Slug: slug, Name: slug + " brand"})
		if err != nil {
			t.Fatal(err)
		}
		*p = tn.ID
	}
	f.svc = campaign.New(db, f.clock.Now)
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.d = &campaign.Dispatcher{DB: db, Outbox: ob, Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.g1, f.g2, f.og = f.group(t, f.tenant, "fans"), f.group(t, f.tenant, "vip"), f.group(t, f.other, "theirs")
	return f
}

func (f *fixture) group(t *testing.T, tenantID int64, name string) int64 {
	t.Helper()
	g, _, err := f.cs.CreateGroup(context.Background(), community.Group{TenantID: tenantID, Channel: "web", Name: name,
		Kind: community.Vertical, Capacity: 5000})
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// member creates a member of the tenant in the groups, joined 90 days
// before t0 (so the join does not make them active in a recent window).
func (f *fixture) member(t *testing.T, tenantID int64, name string, groups ...int64) int64 {
	t.Helper()
	ctx := context.Background()
	m, err := f.ms.Create(ctx, member.Member{TenantID: tenantID, DisplayName: name}, member.Identity{Channel: "web", ExternalID: name})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if _, err := f.cs.Join(ctx, community.JoinRequest{TenantID: tenantID, GroupID: g, MemberID: m.ID, Source: "web",
			At: t0.AddDate(0, 0, -90)}); err != nil {
			t.Fatal(err)
		}
	}
	return m.ID
}

func (f *fixture) content(t *testing.T, typ campaign.Type, text string) int64 {
	t.Helper()
	c, err := f.svc.CreateContent(context.Background(), campaign.Content{TenantID: f.tenant, Title: string(typ) + " item",
		Type: typ, Format: campaign.FormatText, Variants: map[string]string{"zh-CN": text, "en": "EN " + text}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// datePlaybook saves and arms an active playbook anchored at t0's date.
func (f *fixture) datePlaybook(t *testing.T, steps ...campaign.Step) campaign.Playbook {
	t.Helper()
	p, err := f.svc.SavePlaybook(context.Background(), campaign.Playbook{TenantID: f.tenant, Name: "plan", Kind: campaign.KindCustom,
		Anchor: campaign.AnchorDate, AnchorAt: t0, Active: true, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Arm(context.Background(), f.tenant, p.ID); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) runAt(t *testing.T, at time.Time) int {
	t.Helper()
	f.clock.Set(at)
	n, err := f.d.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// outbox returns the tenant's outbox keys and bodies, by key.
func (f *fixture) outbox(t *testing.T) map[string]string {
	t.Helper()
	rows, err := f.db.R.Query(`SELECT idem_key, body FROM outbox WHERE tenant_id = $1`, f.tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, b string
		if err := rows.Scan(&k, &b); err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

func (f *fixture) jobs(t *testing.T, playbookID int64) []campaign.Job {
	t.Helper()
	jobs, err := f.svc.Jobs(context.Background(), f.tenant, playbookID)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func (f *fixture) sends(t *testing.T, jobID int64) []campaign.Send {
	t.Helper()
	s, err := f.svc.Sends(context.Background(), f.tenant, jobID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dm(seg campaign.Segment, groups ...int64) campaign.Target {
	return campaign.Target{Kind: campaign.TargetDM, Segment: seg, Groups: groups}
}

func posts(groups ...int64) campaign.Target {
	return campaign.Target{Kind: campaign.TargetGroups, Groups: groups}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestContentCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		c, err := f.svc.CreateContent(ctx, campaign.Content{TenantID: f.tenant, Title: " 春季干货 ", Type: campaign.TypeKnowledge,
			Format: campaign.FormatText, Tags: []string{"skin", "skin", " spring "},
			Variants: map[string]string{"zh-cn": "{name}，今天聊聊防晒", "en": "{name}, sunscreen today"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.GetContent(ctx, f.tenant, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "春季干货" || !slices.Equal(got.Tags, []string{"skin", "spring"}) || got.Variants["zh-CN"] != "{name}，今天聊聊防晒" ||
			len(got.Variants) != 2 || got.CreatedAt.IsZero() {
			t.Fatalf("stored %+v", got)
		}
		promo, err := f.svc.CreateContent(ctx, campaign.Content{TenantID: f.tenant, Title: "秒杀", Type: campaign.TypeFlashSale,
			Format: campaign.FormatLink, LinkURL: "https://shop.test/x", Tags: []string{"spring"}, Variants: map[string]string{"zh-CN": "秒杀 {link}"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			filter campaign.ContentFilter
			want   []int64
		}{
			{campaign.ContentFilter{}, []int64{promo.ID, c.ID}},
			{campaign.ContentFilter{Type: campaign.TypeKnowledge}, []int64{c.ID}},
			{campaign.ContentFilter{Tag: "spring"}, []int64{promo.ID, c.ID}},
			{campaign.ContentFilter{Tag: "skin"}, []int64{c.ID}},
			{campaign.ContentFilter{Type: campaign.TypeFlashSale, Tag: "skin"}, nil},
		} {
			list, err := f.svc.ListContent(ctx, f.tenant, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, x := range list {
				ids = append(ids, x.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("List(%+v) = %v, want %v", tc.filter, ids, tc.want)
			}
		}
		got.Title, got.Tags = "防晒干货", []string{"sun"}
		if err := f.svc.UpdateContent(ctx, got); err != nil {
			t.Fatal(err)
		}
		if again, _ := f.svc.GetContent(ctx, f.tenant, c.ID); again.Title != "防晒干货" || !slices.Equal(again.Tags, []string{"sun"}) {
			t.Errorf("after update: %+v", again)
		}

		// Another tenant's id is not found, whatever the operation.
		if _, err := f.svc.GetContent(ctx, f.other, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get by another tenant: %v", err)
		}
		theirs := got
		theirs.TenantID = f.other
		if err := f.svc.UpdateContent(ctx, theirs); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Update by another tenant: %v", err)
		}
		if err := f.svc.ArchiveContent(ctx, f.other, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Archive by another tenant: %v", err)
		}
		if list, _ := f.svc.ListContent(ctx, f.other, campaign.ContentFilter{}); len(list) != 0 {
			t.Errorf("another tenant lists %d items", len(list))
		}

		if err := f.svc.ArchiveContent(ctx, f.tenant, c.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := f.svc.ListContent(ctx, f.tenant, campaign.ContentFilter{}); len(list) != 1 || list[0].ID != promo.ID {
			t.Errorf("after archiving: %+v", list)
		}
		if list, _ := f.svc.ListContent(ctx, f.tenant, campaign.ContentFilter{Archived: true}); len(list) != 1 || list[0].ID != c.ID {
			t.Errorf("archived list: %+v", list)
		}
		if err := f.svc.ArchiveContent(ctx, f.tenant, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("archiving twice: %v", err)
		}
	})
}

func TestContentValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		ok := campaign.Content{TenantID: f.tenant, Title: "t", Type: campaign.TypePromo, Format: campaign.FormatText,
			Variants: map[string]string{"zh-CN": "hi"}}
		for _, tc := range []struct {
			change func(c *campaign.Content)
			want   string
		}{
			{func(c *campaign.Content) { c.Variants = map[string]string{"zh-CN": "嗨 {nickname}"} }, "{nickname}"},
			{func(c *campaign.Content) { c.Variants = map[string]string{"zh-CN": "  "} }, "at least one language"},
			{func(c *campaign.Content) { c.Variants = map[string]string{"fr": "salut"} }, `locale "fr"`},
			{func(c *campaign.Content) { c.Title = "" }, "title is empty"},
			{func(c *campaign.Content) { c.Type = "spam" }, `type "spam"`},
			{func(c *campaign.Content) { c.Format = FormatGIF }, `format "gif"`},
			{func(c *campaign.Content) { c.Format = campaign.FormatImage }, "media URL"},
			{func(c *campaign.Content) { c.LinkURL = "javascript:alert(1)" }, "http(s)"},
			{func(c *campaign.Content) { c.PersonaID = 999 }, "persona 999"},
			{func(c *campaign.Content) { c.Variants = map[string]string{"zh-CN": strings.Repeat("长", 2001)} }, "longer than 2000"},
		} {
			c := ok
			c.Variants = map[string]string{"zh-CN": "hi"}
			tc.change(&c)
			_, err := f.svc.CreateContent(ctx, c)
			if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want an ErrInvalid naming %q, got %v", tc.want, err)
			}
		}
		if list, _ := f.svc.ListContent(ctx, f.tenant, campaign.ContentFilter{}); len(list) != 0 {
			t.Errorf("refused content was stored: %d", len(list))
		}
	})
}

const FormatGIF campaign.Format = "gif"

func TestSegments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		a := f.member(t, f.tenant, "a", f.g1)
		b := f.member(t, f.tenant, "b", f.g1)
		c := f.member(t, f.tenant, "c")
		d := f.member(t, f.tenant, "d")
		e := f.member(t, f.tenant, "e")
		fm := f.member(t, f.tenant, "f")
		merged := f.member(t, f.tenant, "merged", f.g1)
		banned := f.member(t, f.tenant, "banned", f.g1)
		left := f.member(t, f.tenant, "left", f.g1)
		theirs := f.member(t, f.other, "theirs", f.og)
		for _, m := range []struct {
			id  int64
			tag string
		}{{a, "vip"}, {b, "new"}, {merged, "vip"}, {banned, "vip"}} {
			if err := f.ms.AddTag(ctx, f.tenant, m.id, m.tag); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.ms.AddTag(ctx, f.other, theirs, "vip"); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.W.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec(`UPDATE members SET merged_into = $1 WHERE id = $2`, a, merged)
		exec(`INSERT INTO bans (tenant_id, member_id, at) VALUES ($1, $2, 1)`, f.tenant, banned)
		exec(`UPDATE group_members SET left_at = 1 WHERE member_id = $1`, left)
		exec(`INSERT INTO point_balances (tenant_id, member_id, balance, earned) VALUES ($1, $2, 500, 500), ($1, $3, 99, 99)`, f.tenant, c, d)
		day := int64(24 * time.Hour / time.Millisecond)
		now := store.Millis(t0)
		exec(`INSERT INTO events (tenant_id, type, source, source_id, at, member_id, group_id) VALUES
			($1, 'message', 'web', 'm1', $2, $3, $5),
			($1, 'message', 'web', 'm2', $4, $6, $5),
			($1, 'direct_message', 'outbox', 'dm1', $2, $7, NULL)`,
			f.tenant, now-2*day, d, now-40*day, f.g1, e, c)
		jc, err := f.cs.NewJoinCode(ctx, community.JoinCode{TenantID: f.tenant, GroupID: f.g2, Source: "live-0301"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.cs.Join(ctx, community.JoinRequest{TenantID: f.tenant, GroupID: f.g2, MemberID: fm, JoinCode: jc, Source: "web",
			At: t0.AddDate(0, 0, -90)}); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO wishes (tenant_id, member_id, text, norm, at) VALUES ($1, $2, '想要 粉底液 PRO 返场', 'x', 1), ($1, $3, '100%_off', 'y', 1)`,
			f.tenant, a, b)

		everyone := []int64{a, b, c, d, e, fm, left}
		for _, tc := range []struct {
			name string
			seg  campaign.Segment
			want []int64
		}{
			{"empty: every person (not merged, not banned), this tenant only", campaign.Segment{}, everyone},
			{"tags, any of", campaign.Segment{Tags: []string{"vip", "new"}}, []int64{a, b}},
			{"tag", campaign.Segment{Tags: []string{"vip"}}, []int64{a}},
			{"points", campaign.Segment{MinPoints: 100}, []int64{c}},
			{"active in the last 7 days (a message; a DM sent to them does not count)", campaign.Segment{ActiveDays: 7}, []int64{d}},
			{"active in the last 60 days", campaign.Segment{ActiveDays: 60}, []int64{d, e}},
			{"join source", campaign.Segment{JoinSource: "live-0301"}, []int64{fm}},
			{"wished product, case folded", campaign.Segment{WishedProduct: "粉底液 pro"}, []int64{a}},
			{"wished product with LIKE's characters taken literally", campaign.Segment{WishedProduct: "%_"}, []int64{b}},
			{"wished product nobody wished", campaign.Segment{WishedProduct: "口红"}, nil},
			{"group: members now (not those who left)", campaign.Segment{GroupID: f.g1}, []int64{a, b}},
			{"all filters together", campaign.Segment{Tags: []string{"vip"}, GroupID: f.g1, WishedProduct: "粉底液"}, []int64{a}},
			{"another tenant's group reaches nobody here", campaign.Segment{GroupID: f.og}, nil},
		} {
			got, err := campaign.Members(ctx, db.R, f.tenant, tc.seg, t0)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}

func TestSavePlaybookRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1)
		good := f.content(t, campaign.TypeKnowledge, "{name}，早安")
		var bad, theirs int64
		if err := db.W.QueryRow(`INSERT INTO campaign_content (tenant_id, title, type, format, variants, created_at, updated_at)
			VALUES ($1, '旧模板', 'promo', 'text', '{"zh-CN":"{name} 用 {coupon} 下单"}', 1, 1) RETURNING id`, f.tenant).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.CreateContent(ctx, campaign.Content{TenantID: f.other, Title: "x", Type: campaign.TypePromo,
			Format: campaign.FormatText, Variants: map[string]string{"zh-CN": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		theirs = c.ID
		archived := f.content(t, campaign.TypeKnowledge, "old")
		if err := f.svc.ArchiveContent(ctx, f.tenant, archived); err != nil {
			t.Fatal(err)
		}
		ok := campaign.Step{Days: 0, At: "20:00", ContentID: good, Target: posts(f.g1)}
		for _, tc := range []struct {
			name string
			step campaign.Step
			want string
		}{
			{"unknown placeholder", campaign.Step{At: "20:00", ContentID: bad, Target: posts(f.g1)}, "step 2: content \"旧模板\" (zh-CN): unknown placeholder {coupon}"},
			{"another tenant's content", campaign.Step{At: "20:00", ContentID: theirs, Target: posts(f.g1)}, fmt.Sprintf("step 2: content %d is not one of yours", theirs)},
			{"archived content", campaign.Step{At: "20:00", ContentID: archived, Target: posts(f.g1)}, "step 2: content \"knowledge item\" is archived"},
			{"no groups", campaign.Step{At: "20:00", ContentID: good, Target: posts()}, "step 2: choose at least one group (the target reaches nobody)"},
			{"another tenant's group", campaign.Step{At: "20:00", ContentID: good, Target: posts(f.g1, f.og)}, fmt.Sprintf("step 2: group %d is not one of yours", f.og)},
			{"another tenant's group in a segment", campaign.Step{At: "20:00", ContentID: good, Target: dm(campaign.Segment{GroupID: f.og})}, fmt.Sprintf("step 2: group %d is not one of yours", f.og)},
			{"a segment with nobody in it now", campaign.Step{At: "20:00", ContentID: good, Target: dm(campaign.Segment{Tags: []string{"nobody-has-this"}})}, "step 2: the target reaches nobody now"},
			{"a group without the segment's members", campaign.Step{At: "20:00", ContentID: good, Target: dm(campaign.Segment{}, f.g2)}, "step 2: the target reaches nobody now"},
			{"bad time", campaign.Step{At: "24:00", ContentID: good, Target: posts(f.g1)}, `step 2: time "24:00" is not HH:MM`},
			{"time and minutes", campaign.Step{At: "10:00", Minutes: -10, ContentID: good, Target: posts(f.g1)}, "step 2: give a time of day or a minute offset, not both"},
			{"unknown target", campaign.Step{At: "10:00", ContentID: good, Target: campaign.Target{Kind: "everyone"}}, `step 2: target "everyone"`},
			{"no content", campaign.Step{At: "10:00", Target: posts(f.g1)}, "step 2: choose the content"},
		} {
			_, err := f.svc.SavePlaybook(ctx, campaign.Playbook{TenantID: f.tenant, Name: "p", Kind: campaign.KindCustom,
				Anchor: campaign.AnchorDate, AnchorAt: t0, Active: true, Steps: []campaign.Step{ok, tc.step}})
			if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got %v\nwant an ErrInvalid containing %q", tc.name, err, tc.want)
			}
		}
		// Playbook-level refusals.
		var theirLive int64
		if err := db.W.QueryRow(`INSERT INTO lives (tenant_id, title, scheduled_at, created_at) VALUES ($1, 'their live', $2, 1) RETURNING id`,
			f.other, store.Millis(t0)).Scan(&theirLive); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			p    campaign.Playbook
			want string
		}{
			{campaign.Playbook{Name: "p", Kind: campaign.KindWarmup, Anchor: campaign.AnchorLiveStart, LiveID: theirLive, Steps: []campaign.Step{ok}},
				fmt.Sprintf("live %d is not one of yours", theirLive)},
			{campaign.Playbook{Name: "p", Kind: campaign.KindCustom, Anchor: campaign.AnchorDate, Steps: []campaign.Step{ok}}, "choose the date"},
			{campaign.Playbook{Name: "p", Kind: campaign.KindCustom, Anchor: campaign.AnchorDate, AnchorAt: t0}, "add at least one step"},
			{campaign.Playbook{Name: "p", Kind: campaign.KindNewMember, Anchor: campaign.AnchorMemberJoin,
				Steps: []campaign.Step{{Days: -1, At: "10:00", ContentID: good, Target: dm(campaign.Segment{})}}}, "cannot send before the member joined"},
			{campaign.Playbook{Name: "", Kind: "x", Anchor: "y", Steps: []campaign.Step{ok}}, "name is empty"},
		} {
			tc.p.TenantID = f.tenant
			if _, err := f.svc.SavePlaybook(ctx, tc.p); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an ErrInvalid containing %q", err, tc.want)
			}
		}
		if list, _ := f.svc.ListPlaybooks(ctx, f.tenant, 0); len(list) != 0 {
			t.Errorf("refused playbooks were stored: %d", len(list))
		}
		// A member journey's private messages reach whoever joins: an empty
		// community is not a reason to refuse it.
		if _, err := f.svc.SavePlaybook(ctx, campaign.Playbook{TenantID: f.tenant, Name: "journey", Kind: campaign.KindNewMember,
			Anchor: campaign.AnchorMemberJoin, Steps: []campaign.Step{{Days: 1, At: "20:00", ContentID: good, Target: dm(campaign.Segment{Tags: []string{"none"}})}}}); err != nil {
			t.Errorf("member journey: %v", err)
		}
	})
}

func TestPlaybookIsolationAndUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1)
		k := f.content(t, campaign.TypeKnowledge, "k")
		p := f.datePlaybook(t,
			campaign.Step{Days: 1, At: "10:00", ContentID: k, Target: posts(f.g1)},
			campaign.Step{Days: 2, At: "10:00", ContentID: k, Target: posts(f.g1, f.g2)},
			campaign.Step{Days: 3, At: "10:00", ContentID: k, Target: dm(campaign.Segment{})})
		if _, err := f.svc.GetPlaybook(ctx, f.other, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's Get: %v", err)
		}
		theirs := p
		theirs.TenantID = f.other
		theirs.Steps = []campaign.Step{{At: "10:00", ContentID: f.contentOf(t, f.other), Target: posts(f.og)}}
		if _, err := f.svc.SavePlaybook(ctx, theirs); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's update: %v", err)
		}
		if list, _ := f.svc.ListPlaybooks(ctx, f.other, 0); len(list) != 0 {
			t.Errorf("another tenant lists %d playbooks", len(list))
		}
		got, err := f.svc.GetPlaybook(ctx, f.tenant, p.ID)
		if err != nil || len(got.Steps) != 3 || got.Steps[0].ContentType != campaign.TypeKnowledge || got.Steps[1].Target.Groups[1] != f.g2 {
			t.Fatalf("%+v %v", got, err)
		}
		if jobs := f.jobs(t, p.ID); len(jobs) != 4 {
			t.Fatalf("%d jobs, want 4", len(jobs))
		}
		// Edit: step 1 unchanged, step 2 moves to 11:00, step 3 removed, a
		// new step added. Only step 2's and step 3's jobs are cancelled;
		// arming again gives step 2 its new time and the new step its job.
		got.Steps[1].At = "11:00"
		got.Steps = append(got.Steps[:2], campaign.Step{Days: 4, At: "09:00", ContentID: k, Target: posts(f.g2)})
		if _, err := f.svc.SavePlaybook(ctx, got); err != nil {
			t.Fatal(err)
		}
		states := map[string]string{}
		for _, j := range f.jobs(t, p.ID) {
			states[fmt.Sprintf("s%d g%d", j.StepID, j.GroupID)] = string(j.State) + " " + j.Reason
		}
		s1, s2, s3 := got.Steps[0].ID, got.Steps[1].ID, p.Steps[2].ID
		want := map[string]string{
			fmt.Sprintf("s%d g%d", s1, f.g1): "pending ",
			fmt.Sprintf("s%d g%d", s2, f.g1): "cancelled step changed", fmt.Sprintf("s%d g%d", s2, f.g2): "cancelled step changed",
			fmt.Sprintf("s%d g0", s3): "cancelled step removed",
		}
		if fmt.Sprint(states) != fmt.Sprint(want) {
			t.Errorf("after the edit: %v\nwant %v", states, want)
		}
		n, err := f.svc.Arm(ctx, f.tenant, p.ID)
		if err != nil || n != 3 {
			t.Fatalf("re-arm: %d, %v (want 2 revived + 1 new)", n, err)
		}
		for _, j := range f.jobs(t, p.ID) {
			switch {
			case j.StepID == s3:
				if j.State != campaign.JobCancelled {
					t.Errorf("removed step's job: %s", j.State)
				}
			case j.StepID == s2:
				if j.State != campaign.JobPending || j.RunAt.In(f.loc).Format("01-02 15:04") != "03-04 11:00" {
					t.Errorf("changed step's job: %s at %v", j.State, j.RunAt.In(f.loc))
				}
			default:
				if j.State != campaign.JobPending {
					t.Errorf("job %s: %s", j.Key, j.State)
				}
			}
		}
		// Pausing cancels what is pending.
		got, _ = f.svc.GetPlaybook(ctx, f.tenant, p.ID)
		got.Active = false
		if _, err := f.svc.SavePlaybook(ctx, got); err != nil {
			t.Fatal(err)
		}
		for _, j := range f.jobs(t, p.ID) {
			if j.State == campaign.JobPending {
				t.Errorf("paused playbook still has a pending job %s", j.Key)
			}
		}
		if n, _ := f.svc.Arm(ctx, f.tenant, p.ID); n != 0 {
			t.Errorf("arming a paused playbook scheduled %d", n)
		}
	})
}

func (f *fixture) contentOf(t *testing.T, tenantID int64) int64 {
	t.Helper()
	c, err := f.svc.CreateContent(context.Background(), campaign.Content{TenantID: tenantID, Title: "x", Type: campaign.TypeKnowledge,
		Format: campaign.FormatText, Variants: map[string]string{"zh-CN": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestScheduleTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1)
		k := f.content(t, campaign.TypeKnowledge, "k")
		p := f.datePlaybook(t, campaign.Step{Days: 1, At: "10:00", ContentID: k, Target: posts(f.g1, f.g2)},
			campaign.Step{Days: 1, At: "12:00", ContentID: k, Target: dm(campaign.Segment{})})
		first := f.jobs(t, p.ID)
		if len(first) != 3 {
			t.Fatalf("%d jobs", len(first))
		}
		for i := 0; i < 2; i++ {
			if n, err := f.svc.Arm(ctx, f.tenant, p.ID); err != nil || n != 0 {
				t.Fatalf("arming again added %d (%v)", n, err)
			}
		}
		p, _ = f.svc.GetPlaybook(ctx, f.tenant, p.ID)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			n, err := f.svc.Schedule(ctx, tx, campaign.Expand(p, t0, f.loc, campaign.OccurrenceOf(p, 0, f.loc)))
			if n != 0 {
				t.Errorf("Schedule of the same expansion added %d", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		again := f.jobs(t, p.ID)
		if fmt.Sprint(first) != fmt.Sprint(again) {
			t.Errorf("jobs changed:\n%v\n%v", first, again)
		}
		if again[0].ContentType != campaign.TypeKnowledge || again[0].Key != fmt.Sprintf("pb%d:s%d:g%d:2026-03-02", p.ID, p.Steps[0].ID, f.g1) {
			t.Errorf("job: %+v", again[0])
		}
	})
}

// addLive inserts a live directly (the live service checks the time
// against the real clock).
func (f *fixture) addLive(t *testing.T, at time.Time) int64 {
	t.Helper()
	var id int64
	if err := f.db.W.QueryRow(`INSERT INTO lives (tenant_id, title, scheduled_at, stream_url, created_at, alert_groups)
		VALUES ($1, '春季新品直播', $2, 'https://live.test/1', 1, $3) RETURNING id`,
		f.tenant, store.Millis(at), fmt.Sprintf("[%d]", f.g1)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestReanchor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1)
		start := time.Date(2026, 3, 12, 20, 0, 0, 0, f.loc)
		liveID := f.addLive(t, start)
		k := f.content(t, campaign.TypeKnowledge, "「{live_title}」还有 {countdown}")
		p, err := f.svc.SavePlaybook(ctx, campaign.Playbook{TenantID: f.tenant, Name: "warm", Kind: campaign.KindWarmup,
			Anchor: campaign.AnchorLiveStart, LiveID: liveID, Active: true, Steps: []campaign.Step{
				{Days: -7, At: "20:00", ContentID: k, Target: posts(f.g1)},
				{Days: -1, At: "10:00", ContentID: k, Target: posts(f.g1)},
				{Minutes: -10, ContentID: k, Target: posts(f.g1)},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.Arm(ctx, f.tenant, p.ID); err != nil || n != 3 {
			t.Fatalf("arm: %d %v", n, err)
		}
		if n := f.runAt(t, time.Date(2026, 3, 5, 20, 0, 0, 0, f.loc)); n != 1 {
			t.Fatalf("T-7 ran %d jobs", n)
		}
		if got := f.outbox(t); len(got) != 1 || !strings.Contains(got[keys(got)[0]], "还有 7 天") {
			t.Fatalf("T-7 sent %v", got)
		}
		// The live moves two days later, an hour earlier.
		moved := time.Date(2026, 3, 14, 19, 0, 0, 0, f.loc)
		err = db.InTx(ctx, func(tx *store.Tx) error {
			n, err := f.svc.Reanchor(ctx, tx, f.tenant, liveID, moved)
			if n != 2 {
				t.Errorf("moved %d jobs, want the 2 pending ones", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]string{}
		for _, j := range f.jobs(t, p.ID) {
			got[j.StepID] = string(j.State) + " " + j.RunAt.In(f.loc).Format("01-02 15:04")
		}
		want := map[int64]string{p.Steps[0].ID: "sent 03-05 20:00", p.Steps[1].ID: "pending 03-13 10:00", p.Steps[2].ID: "pending 03-14 18:50"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after the move: %v\nwant %v", got, want)
		}
		// Moved so close that T-1 10:00 has long passed: cancelled, not sent late.
		f.clock.Set(time.Date(2026, 3, 6, 15, 0, 0, 0, f.loc))
		err = db.InTx(ctx, func(tx *store.Tx) error {
			_, err := f.svc.Reanchor(ctx, tx, f.tenant, liveID, time.Date(2026, 3, 6, 20, 0, 0, 0, f.loc))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range f.jobs(t, p.ID) {
			if j.StepID == p.Steps[1].ID && (j.State != campaign.JobCancelled || !strings.Contains(j.Reason, "live moved")) {
				t.Errorf("T-1 after moving the live to today: %s %q", j.State, j.Reason)
			}
			if j.StepID == p.Steps[2].ID && j.RunAt.In(f.loc).Format("01-02 15:04") != "03-06 19:50" {
				t.Errorf("T-0 -10 min: %v", j.RunAt.In(f.loc))
			}
		}
		// Another tenant cannot move this live's jobs.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			n, err := f.svc.Reanchor(ctx, tx, f.other, liveID, moved)
			if n != 0 {
				t.Errorf("another tenant moved %d jobs", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestClaimConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		k := f.content(t, campaign.TypeKnowledge, "k")
		jobs := make([]campaign.Job, 200)
		for i := range jobs {
			jobs[i] = campaign.Job{TenantID: f.tenant, PlaybookID: 1, StepID: 1, GroupID: f.g1, ContentID: k,
				Key: fmt.Sprintf("bulk:%d", i), RunAt: t0.Add(-time.Duration(i) * time.Second), AnchorAt: t0}
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := f.svc.Schedule(ctx, tx, jobs); return err }); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := f.svc.Claim(ctx, t0, time.Hour, 7)
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, j := range got {
						seen[j.ID]++
						if j.State != campaign.JobRunning || j.Attempts != 1 {
							errs <- fmt.Errorf("claimed %+v", j)
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != 200 {
			t.Errorf("claimed %d distinct jobs, want 200", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("job %d claimed %d times", id, n)
			}
		}
		if again, _ := f.svc.Claim(ctx, t0.Add(59*time.Minute), time.Hour, 500); len(again) != 0 {
			t.Errorf("%d jobs claimed again while their lease holds", len(again))
		}
		if again, _ := f.svc.Claim(ctx, t0.Add(time.Hour), time.Hour, 500); len(again) != 200 {
			t.Errorf("%d jobs claimed again once the lease ended, want 200", len(again))
		}
	})
}

func TestExpiredLeaseSendsNothingTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		a := f.member(t, f.tenant, "a", f.g1)
		k := f.content(t, campaign.TypeKnowledge, "{name}，早安")
		f.datePlaybook(t, campaign.Step{At: "12:00", ContentID: k, Target: posts(f.g1)},
			campaign.Step{At: "12:00", ContentID: k, Target: dm(campaign.Segment{GroupID: f.g1})})

		// Worker A claims both jobs and dies before dispatching them.
		stale, err := f.svc.Claim(ctx, t0, time.Minute, 10)
		if err != nil || len(stale) != 2 {
			t.Fatalf("claim: %d %v", len(stale), err)
		}
		if n := f.runAt(t, t0.Add(30*time.Second)); n != 0 {
			t.Fatalf("jobs under a live lease were claimed again (%d)", n)
		}
		// The lease ends: worker B takes them and sends.
		if n := f.runAt(t, t0.Add(2*time.Minute)); n != 2 {
			t.Fatalf("after the lease: %d jobs", n)
		}
		var want []string
		for _, j := range stale {
			if j.GroupID != 0 {
				want = append(want, j.Key)
			} else {
				want = append(want, fmt.Sprintf("%s:m%d", j.Key, a))
			}
		}
		slices.Sort(want)
		if got := keys(f.outbox(t)); !slices.Equal(got, want) {
			t.Fatalf("outbox %v, want %v", got, want)
		}
		// Worker A wakes up and dispatches with its old claim: nothing
		// changes (its transaction is rolled back).
		for _, j := range stale {
			if err := f.d.Dispatch(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		// And if a job were somehow run again from the start, the outbox
		// keys still queue nothing twice.
		if _, err := db.W.Exec(`UPDATE campaign_jobs SET state = 'pending', run_at = $2 WHERE tenant_id = $1`, f.tenant, store.Millis(t0)); err != nil {
			t.Fatal(err)
		}
		if n := f.runAt(t, t0.Add(3*time.Minute)); n != 2 {
			t.Fatalf("rerun: %d", n)
		}
		if got := keys(f.outbox(t)); !slices.Equal(got, want) {
			t.Errorf("outbox after the replays %v, want %v", got, want)
		}
		for _, j := range f.jobs(t, 0) {
			if j.State != campaign.JobSent || j.Sent != 1 || len(f.sends(t, j.ID)) != 1 {
				t.Errorf("job %s: %s sent %d, %d send rows", j.Key, j.State, j.Sent, len(f.sends(t, j.ID)))
			}
		}
	})
}

func TestQuietHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		f.member(t, f.tenant, "a", f.g1)
		k := f.content(t, campaign.TypeKnowledge, "晚安 {name}")
		p := f.datePlaybook(t, campaign.Step{At: "23:00", ContentID: k, Target: posts(f.g1)})
		if n := f.runAt(t, time.Date(2026, 3, 2, 23, 0, 0, 0, f.loc)); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		if got := f.outbox(t); len(got) != 0 {
			t.Fatalf("sent in quiet hours: %v", got)
		}
		j := f.jobs(t, p.ID)[0]
		if j.State != campaign.JobPending || j.Reason != campaign.ReasonQuiet || j.Attempts != 0 ||
			!j.RunAt.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, f.loc)) {
			t.Fatalf("deferred job: %s %q attempts %d at %v", j.State, j.Reason, j.Attempts, j.RunAt.In(f.loc))
		}
		if n := f.runAt(t, time.Date(2026, 3, 3, 7, 59, 0, 0, f.loc)); n != 0 {
			t.Fatalf("claimed %d before the end of the quiet hours", n)
		}
		f.runAt(t, time.Date(2026, 3, 3, 8, 0, 0, 0, f.loc))
		if got := f.outbox(t); len(got) != 1 || got[j.Key] != "晚安 大家" {
			t.Fatalf("at 08:00: %v", got)
		}
		if j = f.jobs(t, p.ID)[0]; j.State != campaign.JobSent || j.Reason != "" {
			t.Errorf("%s %q", j.State, j.Reason)
		}
	})
}

func TestTenantPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		if p, err := f.svc.Policy(ctx, f.tenant); err != nil || p != campaign.DefaultPolicy() {
			t.Fatalf("default: %+v %v", p, err)
		}
		mine := campaign.Policy{QuietStart: "23:30", QuietEnd: "07:00", SalesCap: 2, CapWindow: 3 * 24 * time.Hour}
		if err := f.svc.SetPolicy(ctx, f.tenant, mine); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetPolicy(ctx, f.tenant, campaign.Policy{QuietStart: "x"}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("invalid policy: %v", err)
		}
		if p, _ := f.svc.Policy(ctx, f.tenant); p != mine {
			t.Errorf("stored %+v", p)
		}
		if p, _ := f.svc.Policy(ctx, f.other); p != campaign.DefaultPolicy() {
			t.Errorf("another tenant's policy changed: %+v", p)
		}
		// The dispatcher follows it: 23:00 is not quiet any more, and the
		// third sales post to a group in 3 days is skipped.
		f.member(t, f.tenant, "a", f.g1)
		promo := f.content(t, campaign.TypePromo, "限时 {brand}")
		p := f.datePlaybook(t, campaign.Step{At: "23:00", ContentID: promo, Target: posts(f.g1)},
			campaign.Step{Days: 1, At: "12:00", ContentID: promo, Target: posts(f.g1)},
			campaign.Step{Days: 2, At: "12:00", ContentID: promo, Target: posts(f.g1)})
		f.runAt(t, time.Date(2026, 3, 2, 23, 0, 0, 0, f.loc))
		f.runAt(t, time.Date(2026, 3, 3, 12, 0, 0, 0, f.loc))
		f.runAt(t, time.Date(2026, 3, 4, 12, 0, 0, 0, f.loc))
		var states []string
		for _, j := range f.jobs(t, p.ID) {
			states = append(states, string(j.State)+" "+j.Reason)
		}
		if want := []string{"sent ", "sent ", "skipped cap: 2 sales posts in 3 days"}; !slices.Equal(states, want) {
			t.Errorf("%q\nwant %q", states, want)
		}
	})
}

func TestSalesCapPerMember(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		a := f.member(t, f.tenant, "a", f.g1)
		promo := f.content(t, campaign.TypePromo, "{name}，新品 8 折")
		value := f.content(t, campaign.TypeKnowledge, "{name}，护肤小知识")
		target := dm(campaign.Segment{GroupID: f.g1})
		var steps []campaign.Step
		for d := 0; d < 4; d++ { // four promos on four days
			steps = append(steps, campaign.Step{Days: d, At: "12:00", ContentID: promo, Target: target})
		}
		steps = append(steps, campaign.Step{Days: 3, At: "13:00", ContentID: value, Target: target},
			campaign.Step{Days: 4, At: "13:00", ContentID: value, Target: target})
		p := f.datePlaybook(t, steps...)
		for d := 0; d < 5; d++ {
			f.runAt(t, time.Date(2026, 3, 2+d, 13, 0, 0, 0, f.loc))
		}
		jobs := f.jobs(t, p.ID)
		var got []string
		for _, j := range jobs {
			got = append(got, fmt.Sprintf("%s %s %d/%d %s", j.ContentType, j.State, j.Sent, j.Skipped, j.Reason))
		}
		want := []string{
			"promo sent 1/0 ", "promo sent 1/0 ", "promo sent 1/0 ",
			"promo skipped 0/1 cap: 3 sales pushes in 7 days", // the 4th promo in 7 days
			"knowledge sent 1/0 ", "knowledge sent 1/0 ",      // value content is not capped
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q\nwant %q", got, want)
		}
		sends := f.sends(t, jobs[3].ID)
		if len(sends) != 1 || sends[0].MemberID != a || sends[0].Outcome != "skipped" || sends[0].Reason != "cap: 3 sales pushes in 7 days" || !sends[0].Sales {
			t.Errorf("the skip is recorded: %+v", sends)
		}
		if got := f.outbox(t); len(got) != 5 || got[fmt.Sprintf("%s:m%d", jobs[0].Key, a)] != "a，新品 8 折" {
			t.Errorf("outbox: %v", got)
		}
	})
}

func TestSalesCapPerGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		f.member(t, f.tenant, "a", f.g1, f.g2)
		promo := f.content(t, campaign.TypeLivePreview, "直播预告")
		var steps []campaign.Step
		for d := 0; d < 4; d++ {
			groups := []int64{f.g1}
			if d == 3 {
				groups = append(groups, f.g2)
			}
			steps = append(steps, campaign.Step{Days: d, At: "12:00", ContentID: promo, Target: posts(groups...)})
		}
		p := f.datePlaybook(t, steps...)
		for d := 0; d < 4; d++ {
			f.runAt(t, time.Date(2026, 3, 2+d, 12, 0, 0, 0, f.loc))
		}
		var got []string
		for _, j := range f.jobs(t, p.ID) {
			g := "g1"
			if j.GroupID == f.g2 {
				g = "g2"
			}
			got = append(got, g+" "+string(j.State)+" "+j.Reason)
		}
		slices.Sort(got)
		want := []string{"g1 sent ", "g1 sent ", "g1 sent ", "g1 skipped cap: 3 sales posts in 7 days", "g2 sent "} // the cap counts per group
		if !slices.Equal(got, want) {
			t.Errorf("%q\nwant %q", got, want)
		}
	})
}

func TestOptedOutAndOneCopyPerMember(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		both := f.member(t, f.tenant, "both", f.g1, f.g2)
		one := f.member(t, f.tenant, "one", f.g2)
		out := f.member(t, f.tenant, "out", f.g1)
		f.member(t, f.tenant, "elsewhere") // in neither group
		if err := f.ms.SetOptOut(ctx, f.tenant, out, true); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.Exec(`UPDATE members SET locale = 'en' WHERE id = $1`, one); err != nil {
			t.Fatal(err)
		}
		k := f.content(t, campaign.TypeKnowledge, "{name}，本周干货")
		p := f.datePlaybook(t, campaign.Step{At: "12:00", ContentID: k, Target: dm(campaign.Segment{}, f.g1, f.g2)})
		f.runAt(t, t0)
		j := f.jobs(t, p.ID)[0]
		got := f.outbox(t)
		want := map[string]string{fmt.Sprintf("%s:m%d", j.Key, both): "both，本周干货", fmt.Sprintf("%s:m%d", j.Key, one): "EN one，本周干货"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("outbox %v\nwant %v (one copy each; the member's language; nobody opted out)", got, want)
		}
		if j.State != campaign.JobSent || j.Sent != 2 || j.Skipped != 1 || j.Reason != "skipped: opted out (1)" {
			t.Errorf("job: %s %d/%d %q", j.State, j.Sent, j.Skipped, j.Reason)
		}
		var skipped []campaign.Send
		for _, s := range f.sends(t, j.ID) {
			if s.Outcome == "skipped" {
				skipped = append(skipped, s)
			}
		}
		if len(skipped) != 1 || skipped[0].MemberID != out || skipped[0].Reason != campaign.ReasonOptedOut {
			t.Errorf("skips: %+v", skipped)
		}
		var channels []string
		rows, _ := db.R.Query(`SELECT channel FROM outbox WHERE tenant_id = $1 AND group_id IS NULL`, f.tenant)
		defer rows.Close()
		for rows.Next() {
			var c string
			rows.Scan(&c)
			channels = append(channels, c)
		}
		if len(channels) != 2 || channels[0] != "web" || channels[1] != "web" {
			t.Errorf("DM channels: %v", channels)
		}
	})
}

func TestGoneGroupFailsTheJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1, f.g2)
		k := f.content(t, campaign.TypeKnowledge, "k")
		p := f.datePlaybook(t, campaign.Step{At: "12:00", ContentID: k, Target: posts(f.g1, f.g2)})
		if _, err := db.W.Exec(`UPDATE community_groups SET archived_at = 1 WHERE id = $1`, f.g2); err != nil {
			t.Fatal(err)
		}
		// A job for a group that no longer exists at all.
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := f.svc.Schedule(ctx, tx, []campaign.Job{{TenantID: f.tenant, PlaybookID: p.ID, StepID: p.Steps[0].ID, GroupID: 999999,
				ContentID: k, Key: "gone", RunAt: t0, AnchorAt: t0}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := f.d.RunDue(ctx); n != 3 || err != nil {
			t.Fatalf("RunDue: %d %v", n, err)
		}
		got := map[int64]string{}
		for _, j := range f.jobs(t, p.ID) {
			got[j.GroupID] = string(j.State) + ": " + j.Reason
		}
		want := map[int64]string{f.g1: "sent: ", f.g2: fmt.Sprintf("failed: group %d was archived", f.g2), 999999: "failed: group 999999 was deleted"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%v\nwant %v", got, want)
		}
		if len(f.outbox(t)) != 1 {
			t.Errorf("outbox: %v", f.outbox(t))
		}
	})
}

func TestArchivedContentSkipsTheJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		f.member(t, f.tenant, "a", f.g1)
		k := f.content(t, campaign.TypeKnowledge, "k")
		p := f.datePlaybook(t, campaign.Step{Days: 1, At: "12:00", ContentID: k, Target: posts(f.g1)})
		if err := f.svc.ArchiveContent(context.Background(), f.tenant, k); err != nil {
			t.Fatal(err)
		}
		f.runAt(t, t0.Add(24*time.Hour))
		if j := f.jobs(t, p.ID)[0]; j.State != campaign.JobSkipped || j.Reason != "content archived" || len(f.outbox(t)) != 0 {
			t.Errorf("%s %q", j.State, j.Reason)
		}
	})
}

func TestBestHour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		a := f.member(t, f.tenant, "a", f.g1)
		if h, err := campaign.BestHour(ctx, db.R, f.tenant, f.g1, f.loc, t0); err != nil || h != campaign.DefaultBestHour {
			t.Fatalf("no history: %d %v", h, err)
		}
		n := 0
		add := func(at time.Time, member any, source string) {
			n++
			if _, err := db.W.Exec(`INSERT INTO events (tenant_id, type, source, source_id, at, member_id, group_id) VALUES ($1, 'message', $2, $3, $4, $5, $6)`,
				f.tenant, source, fmt.Sprint("e", n), store.Millis(at), member, f.g1); err != nil {
				t.Fatal(err)
			}
		}
		for d := 1; d <= 5; d++ { // 21:xx local on five days
			add(time.Date(2026, 3, 2-d, 21, 10, 0, 0, f.loc), a, "web")
		}
		for i := 0; i < 4; i++ { // four at 09:xx
			add(time.Date(2026, 2, 25, 9, i, 0, 0, f.loc), a, "web")
		}
		for i := 0; i < 9; i++ { // not counted: too old, the brand's own posts
			add(time.Date(2026, 1, 20, 12, i, 0, 0, f.loc), a, "web")
			add(time.Date(2026, 2, 27, 12, i, 0, 0, f.loc), nil, "outbox")
		}
		// The best time reads the analytics rollup of the log.
		rollup := func() {
			t.Helper()
			if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
				t.Fatal(err)
			}
		}
		rollup()
		h, err := campaign.BestHour(ctx, db.R, f.tenant, f.g1, f.loc, t0)
		if err != nil || h != 21 {
			t.Errorf("best hour = %d (%v), want 21", h, err)
		}
		if h, _ := campaign.BestHour(ctx, db.R, f.other, f.g1, f.loc, t0); h != campaign.DefaultBestHour {
			t.Errorf("another tenant's view of the group: %d", h)
		}
		// Tuesdays are different: three at 08:xx on the last one. The week
		// as a whole still peaks at 21:00; a Tuesday step goes at 08:00.
		for i := 0; i < 3; i++ {
			add(time.Date(2026, 2, 24, 8, i, 0, 0, f.loc), a, "web")
		}
		rollup()
		if h, _ := campaign.BestHour(ctx, db.R, f.tenant, f.g1, f.loc, t0); h != 21 {
			t.Errorf("best hour of the week = %d, want 21", h)
		}
		// A best-time step takes its weekday's hour when armed (3 March is a
		// Tuesday); a group without history gets the default.
		k := f.content(t, campaign.TypeKnowledge, "k")
		p := f.datePlaybook(t, campaign.Step{Days: 1, BestTime: true, ContentID: k, Target: posts(f.g1, f.g2)})
		got := map[int64]string{}
		for _, j := range f.jobs(t, p.ID) {
			got[j.GroupID] = j.RunAt.In(f.loc).Format("01-02 15:04")
		}
		if want := map[int64]string{f.g1: "03-03 08:00", f.g2: "03-03 20:00"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("best-time jobs %v, want %v", got, want)
		}
	})
}

func TestWarmupCalendarAndSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1)
		start := time.Date(2026, 3, 12, 20, 0, 0, 0, f.loc)
		liveID := f.addLive(t, start)
		l := liveFor(liveID, start, f)
		var p campaign.Playbook
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			p, err = f.svc.WarmupFor(ctx, tx, l, campaign.TemplateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Steps) != 5 || p.Steps[0].Target.Groups[0] != f.g1 || p.Anchor != campaign.AnchorLiveStart {
			t.Fatalf("%+v", p)
		}
		if p, err = f.svc.SavePlaybook(ctx, p); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.Arm(ctx, f.tenant, p.ID); n != 5 || err != nil {
			t.Fatalf("arm: %d %v", n, err)
		}
		cal, err := f.svc.Calendar(ctx, f.tenant, t0, t0.AddDate(0, 0, 14))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, e := range cal.Entries {
			lines = append(lines, fmt.Sprintf("%s %s %s %s", e.RunAt.In(f.loc).Format("01-02 15:04"), e.ContentType, e.Title, e.GroupName))
		}
		want := []string{
			"03-05 20:00 lifestyle T-7 故事 fans",
			"03-09 20:00 live_preview T-3 剧透 fans",
			"03-11 20:00 activity T-1 福利预告 + 猜福袋 fans",
			"03-12 10:00 live_preview 当天倒计时 fans",
			"03-12 19:50 live_preview 开播前 10 分钟 fans",
		}
		if !slices.Equal(lines, want) {
			t.Errorf("calendar:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		if len(cal.Weeks) != 2 || cal.Weeks[0].Value != 1 || cal.Weeks[0].Sales != 0 || cal.Weeks[1].Sales != 3 || !cal.Weeks[1].Warning {
			t.Errorf("weeks: %+v", cal.Weeks)
		}
		if other, _ := f.svc.Calendar(ctx, f.other, t0, t0.AddDate(0, 0, 14)); len(other.Entries) != 0 {
			t.Errorf("another tenant sees %d entries", len(other.Entries))
		}
		// Send them all at their times: the spoilers name the products, the
		// countdowns count, the link is the live's.
		for _, e := range cal.Entries {
			f.runAt(t, e.RunAt)
		}
		box := f.outbox(t)
		var bodies []string
		for _, e := range cal.Entries {
			bodies = append(bodies, box[e.Key])
		}
		for i, want := range []string{"大家，3月12日 20:00 我们有一场特别的直播「春季新品直播」",
			"这次会上 粉底液、｛限量｝口红！还有 3 天 开播", "猜猜福袋", "倒计时 10 小时！先设好提醒 👉 https://live.test/1",
			"还有 10 分钟 就开播啦，马上进直播间 👉 https://live.test/1"} {
			if !strings.Contains(bodies[i], want) {
				t.Errorf("message %d = %q, want it to contain %q", i, bodies[i], want)
			}
		}
	})
}

func TestMemberJourney(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		old := f.member(t, f.tenant, "old", f.g1)
		var p campaign.Playbook
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			p, err = f.svc.NewMemberJourney(ctx, tx, f.tenant, campaign.TemplateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if p, err = f.svc.SavePlaybook(ctx, p); err != nil {
			t.Fatal(err)
		}
		newbie := f.member(t, f.tenant, "newbie", f.g1)
		for i := 0; i < 2; i++ {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				n, err := f.svc.Enroll(ctx, tx, f.tenant, newbie, t0)
				if want := []int{4, 0}[i]; n != want {
					t.Errorf("enroll #%d scheduled %d, want %d", i+1, n, want)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var when []string
		for _, j := range f.jobs(t, p.ID) {
			when = append(when, j.RunAt.In(f.loc).Format("01-02 15:04"))
			if j.MemberID != newbie || !strings.HasSuffix(j.Key, fmt.Sprintf(":dm:m%d", newbie)) {
				t.Errorf("job %+v", j)
			}
		}
		if want := []string{"03-02 12:05", "03-03 20:00", "03-05 20:00", "03-09 20:00"}; !slices.Equal(when, want) {
			t.Errorf("journey at %v, want %v", when, want)
		}
		f.runAt(t, t0.Add(5*time.Minute))
		box := f.outbox(t)
		if len(box) != 1 {
			t.Fatalf("outbox %v", box)
		}
		for k, body := range box {
			if !strings.HasSuffix(k, fmt.Sprintf(":m%d", newbie)) || !strings.HasPrefix(body, "newbie，欢迎加入 shop brand") {
				t.Errorf("welcome %s = %q (to the newcomer only, not member %d)", k, body, old)
			}
		}
	})
}

// liveFor is the live as the live service would hand it over when it is
// scheduled: its product list and alert groups.
func liveFor(id int64, start time.Time, f *fixture) live.Live {
	return live.Live{ID: id, TenantID: f.tenant, Title: "春季新品直播", ScheduledAt: start, StreamURL: "https://live.test/1",
		Alert:    live.Alert{Groups: []int64{f.g1}},
		Products: []live.Product{{Position: 1, Name: "粉底液"}, {Position: 2, Name: "{限量}口红"}}}
}

func TestPostLiveArmsOnceTheLiveEnded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1)
		start := time.Date(2026, 3, 2, 20, 0, 0, 0, f.loc)
		liveID := f.addLive(t, start)
		var p campaign.Playbook
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			p, err = f.svc.PostLive(ctx, tx, liveFor(liveID, start, f), campaign.TemplateOptions{Groups: []int64{f.g2}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "直播后跟进 · 春季新品直播" || p.Anchor != campaign.AnchorLiveEnd || p.Steps[0].Target.Groups[0] != f.g2 {
			t.Fatalf("%+v", p)
		}
		if p, err = f.svc.SavePlaybook(ctx, p); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.Arm(ctx, f.tenant, p.ID); n != 0 || err != nil {
			t.Fatalf("armed before the end: %d %v", n, err)
		}
		if _, err := db.W.Exec(`UPDATE lives SET state = 'ended', ended_at = $2 WHERE id = $1`, liveID,
			store.Millis(time.Date(2026, 3, 2, 21, 40, 0, 0, f.loc))); err != nil {
			t.Fatal(err)
		}
		// The runner tells the engine the live ended, inside its transaction.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return f.svc.LiveMovedOn(ctx, tx, f.tenant, liveID, true) }); err != nil {
			t.Fatal(err)
		}
		if n := len(f.jobs(t, p.ID)); n != 3 {
			t.Fatalf("armed after the end: %d jobs, want 3", n)
		}
		var when []string
		for _, j := range f.jobs(t, p.ID) {
			when = append(when, j.RunAt.In(f.loc).Format("01-02 15:04")+" "+string(j.ContentType))
		}
		if want := []string{"03-02 22:10 recap", "03-03 20:00 knowledge", "03-05 20:00 promo"}; !slices.Equal(when, want) {
			t.Errorf("%v\nwant %v", when, want)
		}
		// 22:10 is in the quiet hours: the recap waits for the morning.
		f.runAt(t, time.Date(2026, 3, 2, 22, 10, 0, 0, f.loc))
		f.runAt(t, time.Date(2026, 3, 3, 8, 0, 0, 0, f.loc))
		for _, body := range f.outbox(t) {
			if body != "「春季新品直播」圆满结束，谢谢大家的陪伴！错过的朋友可以看回放 👉 https://live.test/1" {
				t.Errorf("recap: %q", body)
			}
		}
	})
}

func TestRouteAndLinkHooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		reachable := f.member(t, f.tenant, "reachable", f.g1)
		lost := f.member(t, f.tenant, "lost", f.g1)
		c, err := f.svc.CreateContent(context.Background(), campaign.Content{TenantID: f.tenant, Title: "card", Type: campaign.TypeFlashSale,
			Format: campaign.FormatProductCard, MediaURL: "https://img.test/p.png", LinkURL: "https://shop.test/p",
			Variants: map[string]string{"zh-CN": "{name}，秒杀开始"}})
		if err != nil {
			t.Fatal(err)
		}
		var routed []string
		f.d.Route = func(_ context.Context, tenantID, groupID, memberID int64) (string, error) {
			routed = append(routed, fmt.Sprintf("g%d m%d", groupID, memberID))
			if memberID == lost {
				return "", errors.New("blocked the bot")
			}
			return "web", nil
		}
		f.d.Link = func(_ context.Context, j campaign.Job, c campaign.Content, memberID int64) (string, error) {
			return fmt.Sprintf("https://t.test/%d/m%d", j.ID, memberID), nil
		}
		p := f.datePlaybook(t, campaign.Step{At: "12:00", ContentID: c.ID, Target: dm(campaign.Segment{GroupID: f.g1})})
		f.runAt(t, t0)
		j := f.jobs(t, p.ID)[0]
		if want := []string{fmt.Sprintf("g0 m%d", reachable), fmt.Sprintf("g0 m%d", lost)}; !slices.Equal(routed, want) {
			t.Errorf("routed %v, want %v", routed, want)
		}
		body := f.outbox(t)[fmt.Sprintf("%s:m%d", j.Key, reachable)]
		if want := fmt.Sprintf("reachable，秒杀开始\nhttps://t.test/%d/m%d", j.ID, reachable); body != want {
			t.Errorf("body %q, want %q", body, want)
		}
		var card string
		if err := db.R.QueryRow(`SELECT card FROM outbox WHERE tenant_id = $1`, f.tenant).Scan(&card); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(card, `"image_url":"https://img.test/p.png"`) || !strings.Contains(card, fmt.Sprintf(`"button_url":"https://t.test/%d/m%d"`, j.ID, reachable)) {
			t.Errorf("card %s", card)
		}
		if j.Sent != 1 || j.Skipped != 1 || j.Reason != "skipped: no channel: blocked the bot (1)" {
			t.Errorf("job %d/%d %q", j.Sent, j.Skipped, j.Reason)
		}
	})
}

func TestRun(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := setup(t, db)
	f.member(t, f.tenant, "a", f.g1)
	k := f.content(t, campaign.TypeKnowledge, "k")
	f.datePlaybook(t, campaign.Step{At: "12:00", ContentID: k, Target: posts(f.g1)})
	f.d.Poll = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	for i := 0; len(f.outbox(t)) == 0; i++ {
		if i == 10000 {
			t.Fatal("Run did not send the due job")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A live that goes on air makes the warm-up's steps still pending stale:
// they are cancelled with the reason; those sent stay sent.
func TestLiveStartCancelsStaleWarmup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1)
		start := t0.AddDate(0, 0, 10)
		liveID := f.addLive(t, start)
		var p campaign.Playbook
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if p, err = f.svc.WarmupFor(ctx, tx, liveFor(liveID, start, f), campaign.TemplateOptions{}); err != nil {
				return err
			}
			if p, err = f.svc.SavePlaybookTx(ctx, tx, p); err != nil {
				return err
			}
			_, err = f.svc.ArmTx(ctx, tx, f.tenant, p.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		jobs := f.jobs(t, p.ID)
		if len(jobs) != 5 {
			t.Fatalf("%d warm-up jobs, want 5", len(jobs))
		}
		if _, err := db.W.Exec(`UPDATE campaign_jobs SET state = 'sent' WHERE id = $1`, jobs[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return f.svc.LiveMovedOn(ctx, tx, f.tenant, liveID, false) }); err != nil {
			t.Fatal(err)
		}
		states := map[campaign.JobState]int{}
		for _, j := range f.jobs(t, p.ID) {
			states[j.State]++
			if j.State == campaign.JobCancelled && j.Reason != campaign.ReasonLiveStarted {
				t.Errorf("cancelled with %q", j.Reason)
			}
		}
		if states[campaign.JobSent] != 1 || states[campaign.JobCancelled] != 4 {
			t.Fatalf("states %v, want 1 sent and 4 cancelled", states)
		}
	})
}

// A live has one warm-up: a second one is refused by the database itself,
// so two racing clicks cannot both create one.
func TestOneWarmupPerLive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		f.member(t, f.tenant, "a", f.g1)
		start := t0.AddDate(0, 0, 10)
		liveID := f.addLive(t, start)
		save := func() error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				p, err := f.svc.WarmupFor(ctx, tx, liveFor(liveID, start, f), campaign.TemplateOptions{})
				if err == nil {
					_, err = f.svc.SavePlaybookTx(ctx, tx, p)
				}
				return err
			})
		}
		if err := save(); err != nil {
			t.Fatal(err)
		}
		if err := save(); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("second warm-up: %v, want ErrInvalid", err)
		}
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM campaign_playbooks WHERE tenant_id = $1 AND live_id = $2`, f.tenant, liveID).Scan(&n)
		if n != 1 {
			t.Fatalf("%d warm-ups stored", n)
		}
	})
}
