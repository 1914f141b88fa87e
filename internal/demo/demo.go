package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
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
	start   time.Time // local midnight, `days` days ago
	end     time.Time // now
	groups  []community.Group
	members []demoMember
}

type demoMember struct {
	id     int64
	name   string
	joined map[int64]time.Time // group → join time
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
	local := now.In(g.loc)
	g.end = now
	g.start = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, g.loc).AddDate(0, 0, -days)
	for _, spec := range groups {
		grp, _, err := d.Community.CreateGroup(ctx, community.Group{TenantID: t.ID, Channel: webchat.Name, Name: spec.name,
			Kind: spec.kind, Audience: spec.audience, Promise: spec.promise, Tone: spec.tone, Rules: spec.rules,
			Capacity: 500, CreatedAt: g.start.Add(-24 * time.Hour)})
		if err != nil {
			return err
		}
		g.groups = append(g.groups, grp)
	}
	if err := g.seedMembers(ctx); err != nil {
		return err
	}
	return g.seedMessages(ctx)
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) name(i int) string {
	if i%9 == 4 {
		return g.pick(nicknames) + fmt.Sprint(i%97)
	}
	n := g.pick(surnames) + g.pick(givenChars)
	if g.rng.IntN(3) > 0 {
		n += g.pick(givenChars)
	}
	return n
}

// seedMembers creates the members, their tags and their joins (most joined
// before the month began; the rest spread over it), in one transaction.
func (g *generator) seedMembers(ctx context.Context) error {
	d := g.d
	return d.DB.InTx(ctx, func(tx *store.Tx) error {
		for i := range memberCount {
			created := g.start.Add(-time.Duration(g.rng.IntN(60*24)) * time.Hour)
			if g.rng.IntN(3) == 0 {
				created = g.start.Add(time.Duration(g.rng.Int64N(int64(g.end.Sub(g.start)))))
			}
			m := member.Member{TenantID: g.tenant.ID, DisplayName: g.name(i), CreatedAt: created, OptedOut: i%41 == 7}
			if g.rng.IntN(2) == 0 {
				m.Phone = fmt.Sprintf("1%d%d %04d %04d", 3+g.rng.IntN(6), g.rng.IntN(10), g.rng.IntN(10000), g.rng.IntN(10000))
			}
			rec, err := d.Members.CreateTx(ctx, tx, m, member.Identity{Channel: webchat.Name, ExternalID: fmt.Sprintf("demo-%d", i)})
			if err != nil {
				return err
			}
			dm := demoMember{id: rec.ID, name: rec.DisplayName, joined: map[int64]time.Time{}}
			for gi, spec := range groups {
				if gi > 0 && g.rng.Float64() >= spec.share {
					continue
				}
				at := created.Add(time.Duration(g.rng.IntN(120)) * time.Minute)
				if _, err := d.Community.JoinTx(ctx, tx, community.JoinRequest{TenantID: g.tenant.ID, GroupID: g.groups[gi].ID,
					MemberID: rec.ID, Source: event.SourceDemo, SourceID: fmt.Sprintf("join-%d-%d", gi, i), At: at}); err != nil {
					return err
				}
				dm.joined[g.groups[gi].ID] = at
			}
			for range g.rng.IntN(3) {
				if _, err := tx.ExecContext(ctx, `INSERT INTO member_tags (tenant_id, member_id, tag, created_at) VALUES ($1, $2, $3, $4)
					ON CONFLICT DO NOTHING`, g.tenant.ID, rec.ID, g.pick(tags), store.Millis(created)); err != nil {
					return err
				}
			}
			g.members = append(g.members, dm)
		}
		return nil
	})
}

// isLiveNight: lives on Tuesday, Thursday and Saturday evenings.
func isLiveNight(day time.Time) bool {
	switch day.Weekday() {
	case time.Tuesday, time.Thursday, time.Saturday:
		return true
	}
	return false
}

// seedMessages writes 30 days of chat per group: per hour, a Poisson-ish
// number of member messages shaped by hourWeights, staff posts at fixed
// times (check-in prompt, knowledge post, live preview and alerts).
func (g *generator) seedMessages(ctx context.Context) error {
	var evs []event.Event
	seq := 0
	add := func(gr community.Group, at time.Time, memberID, staffID int64, sender, text string) {
		seq++
		evs = append(evs, event.Event{TenantID: g.tenant.ID, Type: event.Message, Source: event.SourceDemo,
			SourceID: fmt.Sprintf("msg-%d-%d", gr.ID, seq), At: at, MemberID: memberID, StaffID: staffID, GroupID: gr.ID,
			Data: event.MustData(event.MessageData{Text: text, SenderName: sender})})
	}
	for gi, gr := range g.groups {
		spec := groups[gi]
		var pool []demoMember
		for _, m := range g.members {
			if _, ok := m.joined[gr.ID]; ok {
				pool = append(pool, m)
			}
		}
		for day := g.start; day.Before(g.end); day = day.AddDate(0, 0, 1) {
			live := isLiveNight(day)
			g.staffPosts(gr, day, live, add)
			for h := range 24 {
				w := hourWeights[h] * spec.chat * 3.2
				if live && h >= 19 && h <= 22 {
					w *= 1.8
				}
				n := int(w)
				if g.rng.Float64() < w-float64(n) {
					n++
				}
				var last string
				for range n {
					at := day.Add(time.Duration(h)*time.Hour + time.Duration(g.rng.IntN(3600))*time.Second)
					m := pool[g.rng.IntN(len(pool))]
					if at.After(g.end) || at.Before(m.joined[gr.ID]) {
						continue
					}
					text := g.pick(memberLines)
					if last != "" && g.rng.IntN(4) == 0 {
						text = "@" + last + " " + g.pick(replyLines)
					}
					add(gr, at, m.id, 0, m.name, text)
					last = m.name
				}
			}
		}
	}
	// Appended in time order, as they happened; the sort is stable so that
	// same-instant messages keep a fixed order and seeding stays
	// deterministic.
	slices.SortStableFunc(evs, func(a, b event.Event) int { return a.At.Compare(b.At) })
	_, err := g.d.Log.AppendBatch(ctx, evs)
	return err
}

func (g *generator) staffPosts(gr community.Group, day time.Time, live bool, add func(community.Group, time.Time, int64, int64, string, string)) {
	post := func(hour, minute int, l staffLine) {
		at := day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
		if at.Before(g.end) {
			add(gr, at, 0, g.staffID, l.persona, l.text)
		}
	}
	post(8, 30, assistantLines[0])
	if gr.Kind == community.Vertical {
		post(12, 10, expertLines[g.rng.IntN(len(expertLines))])
	}
	if day.Weekday() == time.Monday || day.Weekday() == time.Friday {
		post(18, 0, assistantLines[2])
	}
	if live {
		post(17, 30, assistantLines[1])
		post(20, 0, hostLines[0])
		post(20, 40, hostLines[1])
		post(22, 50, hostLines[2])
	}
}
