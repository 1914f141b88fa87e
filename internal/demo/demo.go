package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// Deps are the services the demo writes through.
type Deps struct {
	DB        *store.DB
	Tenants   *tenant.Service
	Members   *member.Service
	Community *community.Service
	Log       *event.Log
	Bot       *runner.Store     // optional: personas, rules, wishes
	Loyalty   *loyalty.Service  // optional: rewards, check-ins, points
	Polls     *poll.Service     // optional: polls and prompts
	Accounts  *account.Manager  // optional: Telegram and LINE accounts (placeholders)
	Lives     *live.Service     // optional: the next live with its product list
	Campaigns *campaign.Service // optional: the content library and playbooks
}

// Result describes the demo brand.
type Result struct {
	Tenant        tenant.Tenant
	OperatorEmail string
	Password      string
	JoinCode      string // of the first (vertical) group
	Groups        []community.Group
	Members       int
	Messages      int
}

// The demo brand's fixed names.
const (
	Slug          = "bloom"
	OperatorEmail = "operator@bloom.example"
	OwnerEmail    = "owner@bloom.example"
	Password      = "bloom-demo-2026"
	memberCount   = 320
	days          = 30
)

// Seed creates the demo brand unless it exists; either way it returns the
// brand and whether this call created it.
func Seed(ctx context.Context, d Deps, seed int64, now time.Time) (Result, bool, error) {
	t, err := d.Tenants.BySlug(ctx, Slug)
	if err == nil {
		r, err := describe(ctx, d, t)
		return r, false, err
	}
	if !errors.Is(err, store.ErrNotFound) {
		return Result{}, false, err
	}
	g := &generator{d: d, rng: rand.New(rand.NewPCG(uint64(seed), 0x6c6976656c6f6f70))}
	if err := g.run(ctx, now); err != nil {
		return Result{}, false, fmt.Errorf("demo: %w", err)
	}
	r, err := describe(ctx, d, g.tenant)
	return r, true, err
}

func describe(ctx context.Context, d Deps, t tenant.Tenant) (Result, error) {
	r := Result{Tenant: t, OperatorEmail: OperatorEmail, Password: Password}
	gs, err := d.Community.Groups(ctx, t.ID)
	if err != nil {
		return r, err
	}
	r.Groups = gs
	if len(gs) > 0 {
		codes, err := d.Community.JoinCodes(ctx, t.ID, gs[0].ID)
		if err != nil {
			return r, err
		}
		if len(codes) > 0 {
			r.JoinCode = codes[0].Code
		}
	}
	page, err := d.Members.List(ctx, t.ID, "", 1, 0)
	if err != nil {
		return r, err
	}
	r.Members = page.Total
	n, err := d.Log.Count(ctx, t.ID, event.Message)
	r.Messages = int(n)
	return r, err
}

type generator struct {
	d       Deps
	rng     *rand.Rand
	tenant  tenant.Tenant
	staffID int64
	loc     *time.Location
	start   time.Time // local midnight, `days` days before end
	end     time.Time // local midnight at the start of now's day
	groups  []community.Group
	members []demoMember
}

type demoMember struct {
	id     int64
	name   string
	joined map[int64]time.Time // group → join time
	left   map[int64]time.Time // group → leave time, for the few who left
}

func (g *generator) run(ctx context.Context, now time.Time) error {
	d := g.d
	t, err := d.Tenants.Create(ctx, tenant.Tenant{Slug: Slug, Name: "花漾美妆 Bloom Beauty", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	if err != nil {
		return err
	}
	g.tenant, g.loc = t, t.Location()
	if _, err := d.Tenants.AddStaff(ctx, tenant.Staff{TenantID: t.ID, Email: OwnerEmail, Name: "品牌主理人 Amy", Role: tenant.Owner}, Password); err != nil {
		return err
	}
	op, err := d.Tenants.AddStaff(ctx, tenant.Staff{TenantID: t.ID, Email: OperatorEmail, Name: "运营 小花", Role: tenant.Operator}, Password)
	if err != nil {
		return err
	}
	g.staffID = op.ID
	// The history ends where now's day begins, so that any time of the
	// same day gives the same brand (and today is left to the visitor).
	local := now.In(g.loc)
	g.end = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, g.loc)
	g.start = g.end.AddDate(0, 0, -days)
	for _, spec := range groups {
		cg := community.Group{TenantID: t.ID, Channel: webchat.Name, Name: spec.name,
			Kind: spec.kind, Audience: spec.audience, Promise: spec.promise, Tone: spec.tone, Rules: spec.rules,
			Capacity: 500, CreatedAt: g.start.Add(-24 * time.Hour)}
		if spec.kind == community.VIP {
			// The brand's own check, not a captcha: gold members know
			// their member day.
			cg.JoinQuestion, cg.JoinAnswers = "金卡会员日是每月几号？（会员卡背面有写）", []string{"18", "18号", "18日"}
		}
		grp, _, err := d.Community.CreateGroup(ctx, cg)
		if err != nil {
			return err
		}
		g.groups = append(g.groups, grp)
	}
	if err := g.seedMembers(ctx); err != nil {
		return err
	}
	if err := g.seedMessages(ctx); err != nil {
		return err
	}
	if err := g.seedRoutine(ctx); err != nil {
		return err
	}
	if err := g.seedCoupons(ctx); err != nil {
		return err
	}
	if err := g.seedCommerce(ctx); err != nil {
		return err
	}
	if err := g.seedSales(ctx); err != nil {
		return err
	}
	if err := g.seedReferral(ctx); err != nil {
		return err
	}
	return g.seedTrack(ctx)
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) name(i int) string {
	if i%9 == 4 { // one in nine goes by a nickname
		k := i / 9
		return nicknames[k%len(nicknames)] + []string{"", "🌸", "呀"}[k/len(nicknames)%3]
	}
	n := g.pick(surnames) + g.pick(givenChars)
	if g.rng.IntN(3) > 0 {
		n += g.pick(givenChars)
	}
	return n
}

// seedMembers creates the members, their tags and their joins (most joined
// before the month began; the rest spread over it), and has a few leave
// the booster and referral groups again, in one transaction.
func (g *generator) seedMembers(ctx context.Context) error {
	return g.d.DB.InTx(ctx, func(tx *store.Tx) error {
		for i := range memberCount {
			created := g.timeOfDay(g.start.AddDate(0, 0, -1-g.rng.IntN(60)))
			if g.rng.IntN(3) == 0 {
				created = g.timeOfDay(g.start.AddDate(0, 0, g.rng.IntN(days)))
			}
			m := member.Member{TenantID: g.tenant.ID, DisplayName: g.name(i), CreatedAt: created, OptedOut: i%41 == 7}
			if g.rng.IntN(2) == 0 {
				m.Phone = fmt.Sprintf("1%d%d %04d %04d", 3+g.rng.IntN(6), g.rng.IntN(10), g.rng.IntN(10000), g.rng.IntN(10000))
			}
			rec, err := g.d.Members.CreateTx(ctx, tx, m, member.Identity{Channel: webchat.Name, ExternalID: fmt.Sprintf("demo-%d", i)})
			if err != nil {
				return err
			}
			dm := demoMember{id: rec.ID, name: rec.DisplayName, joined: map[int64]time.Time{}, left: map[int64]time.Time{}}
			if err := g.joinGroups(ctx, tx, i, &dm, created); err != nil {
				return err
			}
			tagged := make([]string, g.rng.IntN(3))
			for j := range tagged {
				tagged[j] = g.pick(tags)
			}
			if _, vip := dm.joined[g.groups[3].ID]; vip {
				tagged = append(tagged, "高客单")
			}
			for _, tag := range tagged {
				// Written here rather than with member.AddTag, which stamps
				// the wall clock and runs outside this transaction.
				if _, err := tx.ExecContext(ctx, `INSERT INTO member_tags (tenant_id, member_id, tag, created_at) VALUES ($1, $2, $3, $4)
					ON CONFLICT DO NOTHING`, g.tenant.ID, rec.ID, tag, store.Millis(created)); err != nil {
					return err
				}
			}
			g.members = append(g.members, dm)
		}
		return nil
	})
}

// joinGroups puts member i into the vertical group as they arrive, and
// into others by their share, some time later.
func (g *generator) joinGroups(ctx context.Context, tx *store.Tx, i int, dm *demoMember, created time.Time) error {
	for gi, spec := range groups {
		if g.rng.Float64() >= spec.share {
			continue
		}
		at := created.Add(time.Duration(g.rng.IntN(30)) * time.Minute)
		if gi > 0 {
			at = g.later(created)
		}
		if !at.Before(g.end) {
			at = created
		}
		gid := g.groups[gi].ID
		if _, err := g.d.Community.JoinTx(ctx, tx, community.JoinRequest{TenantID: g.tenant.ID, GroupID: gid,
			MemberID: dm.id, Source: event.SourceDemo, SourceID: fmt.Sprintf("join-%d-%d", gi, i), At: at}); err != nil {
			return err
		}
		dm.joined[gid] = at
		if spec.kind != community.Booster && spec.kind != community.Referral || g.rng.IntN(14) > 0 {
			continue
		}
		left := g.timeOfDay(g.midnight(at).AddDate(0, 0, 1+g.rng.IntN(10)))
		if !left.Before(g.end) {
			continue
		}
		// community.Leave stamps the wall clock; a past leave is written
		// here, with its event.
		if _, err := tx.ExecContext(ctx, `UPDATE group_members SET left_at = $4 WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3`,
			g.tenant.ID, gid, dm.id, store.Millis(left)); err != nil {
			return err
		}
		if _, err := g.d.Log.AppendTx(ctx, tx, &event.Event{TenantID: g.tenant.ID, Type: event.MemberLeft, Source: event.SourceDemo,
			SourceID: fmt.Sprintf("leave-%d-%d", gi, i), At: left, MemberID: dm.id, GroupID: gid}); err != nil {
			return err
		}
		dm.left[gid] = left
	}
	return nil
}

func (g *generator) midnight(t time.Time) time.Time {
	t = t.In(g.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, g.loc)
}

// timeOfDay is a time on day (a local midnight), at an hour drawn by the
// daily rhythm of hourWeights: people join when they are awake.
func (g *generator) timeOfDay(day time.Time) time.Time {
	var sum float64
	for _, w := range hourWeights {
		sum += w
	}
	r, h := g.rng.Float64()*sum, 0
	for ; h < 23 && r >= hourWeights[h]; h++ {
		r -= hourWeights[h]
	}
	return day.Add(time.Duration(h)*time.Hour + time.Duration(g.rng.IntN(3600))*time.Second)
}

// later is a time between after and the end of the history, by the daily
// rhythm.
func (g *generator) later(after time.Time) time.Time {
	first := g.midnight(after)
	at := g.timeOfDay(first.AddDate(0, 0, g.rng.IntN(int(g.end.Sub(first).Hours()/24))))
	if at.Before(after) {
		at = after.Add(time.Duration(g.rng.IntN(60)) * time.Minute)
	}
	return at
}
