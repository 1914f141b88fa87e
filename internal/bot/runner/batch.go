package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// A batch is the events of one pass, acted on in one transaction.
//
// What does not change while a pass runs (tenants, groups, people's
// names, rules) is read before the transaction, once per batch. What the
// rules read of members (check-ins, discussion points, warnings, mutes,
// recent messages, cooldowns, open activities) is read through the
// transaction, in one query per group or tenant for all the batch's
// members, and kept current as each event's actions apply: a later event
// of the batch sees the effects of an earlier one (a second check-in, the
// daily discussion cap, a warning, a cooldown) exactly as if it had been
// read afresh from the database. Only what a group's rules read is loaded
// (bot.NeedsOf).
type batch struct {
	evs     []event.Event
	tx      *store.Tx
	tenants map[int64]*tenantState   // nil: not found, its events are skipped
	groups  map[groupKey]*groupState // nil: not found
	records map[personKey]*person    // by the event's member id; merged records share their person
}

// tenantState is a tenant of the batch, with its time zone and language
// looked up once (time.LoadLocation reads the zone database each time).
type tenantState struct {
	tenant tenant.Tenant
	loc    *time.Location
	lang   string
}

type groupKey struct{ tenant, group int64 }

type personKey struct{ tenant, member int64 }

// groupState is one group of the batch.
type groupState struct {
	group      community.Group
	rules      []bot.Rule
	personas   map[int64]bot.Persona
	needs      bot.Needs
	cooldowns  map[string]time.Time
	activities []bot.Activity
	sales      bot.Sales          // open flash sales and chain orders
	members    map[int64]*inGroup // by person id; only when rules act in the group
}

// inGroup is what the rules read of one member in one group.
type inGroup struct {
	joinedAt, mutedUntil time.Time
	warns                []time.Time
	mutes                int
	recent               []posted // messages in the group within the flood window, in log order
}

type posted struct {
	id int64
	at time.Time
}

// person is one member of a tenant (the person a merged record stands
// for) and their tenant-wide state. A nil or unknown field is read through
// the transaction when first needed.
type person struct {
	m            member.Member
	balance      *int64
	checkInKnown bool
	lastDay      string
	streak       int
	discussion   map[int64]int64 // tenant-day start (Unix ms) → discussion points earned at or after it
}

// acts reports whether the rules act on e: a member acting in a group now
// (not a message the routine sent, demo data or imported history).
func acts(e event.Event) bool {
	return e.GroupID != 0 && e.MemberID != 0 && e.Source != event.SourceOutbox && e.Source != event.SourceDemo && e.Source != event.SourceImport
}

// prepare reads, before the transaction, what the batch's events need that
// actions do not change. Something not found skips its events, as before.
func (r *Runner) prepare(ctx context.Context, evs []event.Event) (*batch, error) {
	b := &batch{evs: evs, tenants: map[int64]*tenantState{}, groups: map[groupKey]*groupState{}, records: map[personKey]*person{}}
	wanted := map[int64][]int64{} // tenant → member ids of its events
	for _, e := range evs {
		if !acts(e) {
			continue
		}
		if _, ok := b.tenants[e.TenantID]; !ok {
			b.tenants[e.TenantID] = nil
		}
		b.groups[groupKey{e.TenantID, e.GroupID}] = nil
		if k := (personKey{e.TenantID, e.MemberID}); b.records[k] == nil {
			b.records[k] = &person{}
			wanted[e.TenantID] = append(wanted[e.TenantID], e.MemberID)
		}
	}
	for id := range b.tenants {
		tn, err := r.Tenants.Get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// The whole group reads the reply: the brand's language, not the
		// language of the member who triggered it.
		b.tenants[id] = &tenantState{tenant: tn, loc: tn.Location(), lang: r.Catalog.Pick("", tn.Locale)}
	}
	for k := range b.groups {
		if b.tenants[k.tenant] == nil {
			continue
		}
		g, err := r.group(ctx, k.tenant, k.group)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		gs := &groupState{group: g}
		if gs.rules, gs.personas, err = r.Store.rulesFor(ctx, k.tenant, k.group); err != nil {
			return nil, err
		}
		gs.needs = bot.NeedsOf(gs.rules, k.group)
		b.groups[k] = gs
	}
	for tenantID, ids := range wanted {
		if err := r.people(ctx, b, tenantID, ids); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// group reads what the rules and replies use of a group: not its member
// count, which community.Service.Group counts on every call.
func (r *Runner) group(ctx context.Context, tenantID, id int64) (community.Group, error) {
	g := community.Group{TenantID: tenantID}
	err := r.DB.R.QueryRowContext(ctx, `SELECT id, channel, external_id, name, promise, rules FROM community_groups WHERE tenant_id = $1 AND id = $2`,
		tenantID, id).Scan(&g.ID, &g.Channel, &g.ExternalID, &g.Name, &g.Promise, &g.Rules)
	if errors.Is(err, sql.ErrNoRows) {
		return g, store.ErrNotFound
	}
	return g, err
}

// people reads the batch's members of a tenant in one query. A record
// merged into another stands for that person (member.Service.Person);
// records of one person share its state. A record not found stays without
// a person and its events are skipped.
func (r *Runner) people(ctx context.Context, b *batch, tenantID int64, ids []int64) error {
	cond, arg := r.anyID("id", 2, ids)
	rows, err := r.DB.R.QueryContext(ctx, `SELECT id, display_name, COALESCE(merged_into, 0) FROM members WHERE tenant_id = $1 AND `+cond, tenantID, arg)
	if err != nil {
		return fmt.Errorf("bot: members: %w", err)
	}
	found := map[int64]member.Member{}
	for rows.Next() {
		m := member.Member{TenantID: tenantID}
		if err := rows.Scan(&m.ID, &m.DisplayName, &m.MergedInto); err != nil {
			rows.Close()
			return err
		}
		found[m.ID] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	byPerson := map[int64]*person{}
	for _, id := range ids {
		k := personKey{tenantID, id}
		m, ok := found[id]
		if !ok {
			delete(b.records, k)
			continue
		}
		if m.MergedInto != 0 { // rare: follow it as member.Service.Person does
			if m, err = r.Members.Person(ctx, tenantID, id); errors.Is(err, store.ErrNotFound) {
				delete(b.records, k)
				continue
			} else if err != nil {
				return err
			}
		}
		p := byPerson[m.ID]
		if p == nil {
			p = &person{m: m}
			byPerson[m.ID] = p
		}
		b.records[k] = p
	}
	return nil
}

// anyID returns a condition matching col against ids, bound as parameter
// $n, and the parameter's value. The SQL text is the same whatever the
// number of ids, so PostgreSQL prepares it once (an IN list would be one
// statement per length); SQLite reads the ids from a JSON array.
func (r *Runner) anyID(col string, n int, ids []int64) (string, any) {
	if r.DB.Dialect == store.Postgres {
		return fmt.Sprintf("%s = ANY($%d)", col, n), ids
	}
	var s strings.Builder
	s.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString(strconv.FormatInt(id, 10))
	}
	s.WriteByte(']')
	return fmt.Sprintf("%s IN (SELECT value FROM json_each($%d))", col, n), s.String()
}

// load reads, through the transaction, the member state the batch's
// events need: one query per group or tenant and kind of state.
func (r *Runner) load(ctx context.Context, b *batch) error {
	type span struct {
		maxID int64
		minAt time.Time
		ids   []int64 // person ids, once each
		seen  map[int64]bool
		msg   bool // a message event (activities)
	}
	spans := map[groupKey]*span{}
	checkIns := map[int64][]*person{}      // tenant → persons whose check-in a rule reads
	days := map[personDay][]*person{}      // (tenant, day start) → persons whose discussion points a rule reads
	queued := map[*person]map[int64]bool{} // what days already queued per person
	for _, e := range b.evs {
		gs, p, ok := b.lookup(e)
		if !ok {
			continue
		}
		k := groupKey{e.TenantID, e.GroupID}
		s := spans[k]
		if s == nil {
			s = &span{minAt: e.At, seen: map[int64]bool{}}
			spans[k] = s
		}
		s.maxID = max(s.maxID, e.ID)
		if e.At.Before(s.minAt) {
			s.minAt = e.At
		}
		s.msg = s.msg || e.Type == event.Message
		if len(gs.rules) == 0 || s.seen[p.m.ID] {
			continue
		}
		s.seen[p.m.ID] = true
		s.ids = append(s.ids, p.m.ID)
		if gs.needs.CheckIn && !p.checkInKnown {
			p.checkInKnown = true // loaded below, once per person
			checkIns[e.TenantID] = append(checkIns[e.TenantID], p)
		}
	}
	// Discussion points count from the start of each event's tenant day.
	for _, e := range b.evs {
		gs, p, ok := b.lookup(e)
		if !ok || len(gs.rules) == 0 || !gs.needs.Discussion {
			continue
		}
		day := store.Millis(startOfDay(e.At, b.tenants[e.TenantID].loc))
		if queued[p] == nil {
			queued[p] = map[int64]bool{}
		}
		if !queued[p][day] {
			queued[p][day] = true
			k := personDay{e.TenantID, day}
			days[k] = append(days[k], p)
		}
	}
	for k, s := range spans {
		gs := b.groups[k]
		if s.msg && r.Polls != nil {
			if err := r.openActivities(ctx, b.tx, gs, s.minAt); err != nil {
				return err
			}
		}
		if s.msg && r.Sales != nil {
			if err := r.openSales(ctx, b.tx, gs, s.minAt); err != nil {
				return err
			}
		}
		if len(s.ids) == 0 {
			continue
		}
		if err := r.loadInGroup(ctx, b.tx, gs, s.ids, s.maxID, s.minAt); err != nil {
			return err
		}
	}
	for tenantID, ps := range checkIns {
		if err := r.loadCheckIns(ctx, b.tx, tenantID, ps); err != nil {
			return err
		}
	}
	for k, ps := range days {
		if err := r.loadDiscussion(ctx, b.tx, k, ps); err != nil {
			return err
		}
	}
	return nil
}

type personDay struct{ tenant, day int64 }

// lookup returns the group and person of an event the rules act on.
func (b *batch) lookup(e event.Event) (*groupState, *person, bool) {
	if !acts(e) || b.tenants[e.TenantID] == nil {
		return nil, nil, false
	}
	gs, p := b.groups[groupKey{e.TenantID, e.GroupID}], b.records[personKey{e.TenantID, e.MemberID}]
	return gs, p, gs != nil && p != nil
}

// openActivities reads the group's polls and prompts open at the batch's
// earliest event; the core skips, per event, those closed by its time.
func (r *Runner) openActivities(ctx context.Context, q store.Querier, gs *groupState, at time.Time) error {
	open, err := r.Polls.OpenIn(ctx, q, gs.group.TenantID, gs.group.ID, at)
	if err != nil {
		return err
	}
	gs.activities = make([]bot.Activity, 0, len(open))
	for _, p := range open {
		gs.activities = append(gs.activities, bot.Activity{ID: p.ID, Prompt: p.Kind == poll.KindPrompt, Options: len(p.Options), Tag: p.Tag,
			Points: p.Points, PersonaID: p.PersonaID, ClosesAt: p.ClosesAt})
	}
	return nil
}

// loadInGroup reads the group state of the batch's members in the group:
// membership and mute always (a muted member's message is hidden whatever
// the rules), warnings, recent messages and cooldowns when a rule reads
// them.
func (r *Runner) loadInGroup(ctx context.Context, q store.Querier, gs *groupState, ids []int64, maxID int64, minAt time.Time) error {
	tenantID, groupID := gs.group.TenantID, gs.group.ID
	gs.members = make(map[int64]*inGroup, len(ids))
	for _, id := range ids {
		gs.members[id] = &inGroup{}
	}
	cond, arg := r.anyID("member_id", 3, ids)
	err := each(ctx, q, func(rows *sql.Rows) error {
		var id, joined int64
		var muted sql.NullInt64
		if err := rows.Scan(&id, &joined, &muted); err != nil {
			return err
		}
		gm := gs.members[id]
		gm.joinedAt, gm.mutedUntil = store.Time(joined), store.NullMillis(muted)
		return nil
	}, `SELECT member_id, joined_at, muted_until FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND `+cond, tenantID, groupID, arg)
	if err != nil {
		return fmt.Errorf("bot: memberships: %w", err)
	}
	if gs.needs.Moderation {
		err := each(ctx, q, func(rows *sql.Rows) error {
			var id, at int64
			var action string
			if err := rows.Scan(&id, &action, &at); err != nil {
				return err
			}
			gm := gs.members[id]
			if action == "warn" {
				gm.warns = append(gm.warns, store.Time(at))
			} else {
				gm.mutes++
			}
			return nil
		}, `SELECT member_id, action, at FROM moderation_actions WHERE tenant_id = $1 AND group_id = $2 AND `+cond+`
			AND undone_at IS NULL AND action IN ('warn','mute') ORDER BY at`, tenantID, groupID, arg)
		if err != nil {
			return fmt.Errorf("bot: moderation state: %w", err)
		}
	}
	if gs.needs.Flood > 0 {
		// Each event counts the messages before it within the window;
		// together they reach back from the earliest event of the batch.
		err := each(ctx, q, func(rows *sql.Rows) error {
			var id, evID, at int64
			if err := rows.Scan(&id, &evID, &at); err != nil {
				return err
			}
			gm := gs.members[id]
			gm.recent = append(gm.recent, posted{evID, store.Time(at)})
			return nil
		}, `SELECT member_id, id, at FROM events WHERE tenant_id = $1 AND group_id = $2 AND `+cond+`
			AND type = 'message' AND id < $4 AND at >= $5 ORDER BY id`, tenantID, groupID, arg, maxID, store.Millis(minAt.Add(-gs.needs.Flood)))
		if err != nil {
			return fmt.Errorf("bot: recent messages: %w", err)
		}
	}
	gs.cooldowns = map[string]time.Time{}
	if gs.needs.Cooldowns {
		err := each(ctx, q, func(rows *sql.Rows) error {
			var k string
			var at int64
			if err := rows.Scan(&k, &at); err != nil {
				return err
			}
			gs.cooldowns[k] = store.Time(at)
			return nil
		}, `SELECT key, at FROM bot_cooldowns WHERE tenant_id = $1 AND group_id = $2`, tenantID, groupID)
		if err != nil {
			return fmt.Errorf("bot: cooldowns: %w", err)
		}
	}
	return nil
}

// loadCheckIns reads the latest check-in of each person.
func (r *Runner) loadCheckIns(ctx context.Context, q store.Querier, tenantID int64, ps []*person) error {
	byID := make(map[int64]*person, len(ps))
	ids := make([]int64, 0, len(ps))
	for _, p := range ps {
		byID[p.m.ID] = p
		p.lastDay, p.streak, p.checkInKnown = "", 0, true
		ids = append(ids, p.m.ID)
	}
	cond, arg := r.anyID("member_id", 2, ids)
	err := each(ctx, q, func(rows *sql.Rows) error {
		var id int64
		var day string
		var streak int
		if err := rows.Scan(&id, &day, &streak); err != nil {
			return err
		}
		byID[id].lastDay, byID[id].streak = day, streak
		return nil
	}, `SELECT c.member_id, c.day, c.streak FROM checkins c
		JOIN (SELECT member_id, MAX(day) AS day FROM checkins WHERE tenant_id = $1 AND `+cond+` GROUP BY member_id) l
		ON l.member_id = c.member_id AND l.day = c.day WHERE c.tenant_id = $1`, tenantID, arg)
	if err != nil {
		return fmt.Errorf("bot: check-ins: %w", err)
	}
	return nil
}

// loadDiscussion reads the discussion points each person earned since the
// start of a tenant day.
func (r *Runner) loadDiscussion(ctx context.Context, q store.Querier, k personDay, ps []*person) error {
	byID := make(map[int64]*person, len(ps))
	ids := make([]int64, 0, len(ps))
	for _, p := range ps {
		byID[p.m.ID] = p
		if p.discussion == nil {
			p.discussion = map[int64]int64{}
		}
		p.discussion[k.day] = 0
		ids = append(ids, p.m.ID)
	}
	cond, arg := r.anyID("member_id", 3, ids)
	err := each(ctx, q, func(rows *sql.Rows) error {
		var id, sum int64
		if err := rows.Scan(&id, &sum); err != nil {
			return err
		}
		byID[id].discussion[k.day] = sum
		return nil
	}, `SELECT member_id, COALESCE(SUM(delta), 0) FROM points_ledger
		WHERE tenant_id = $1 AND kind = 'discussion' AND at >= $2 AND `+cond+` GROUP BY member_id`, k.tenant, k.day, arg)
	if err != nil {
		return fmt.Errorf("bot: discussion points: %w", err)
	}
	return nil
}

// each runs a query and calls fn for every row.
func each(ctx context.Context, q store.Querier, fn func(*sql.Rows) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// balance returns the person's balance, read through the transaction the
// first time and kept current by the awards the batch applies.
func (b *batch) balance(ctx context.Context, p *person) (int64, error) {
	if p.balance != nil {
		return *p.balance, nil
	}
	var v int64
	err := b.tx.QueryRowContext(ctx, `SELECT balance FROM point_balances WHERE tenant_id = $1 AND member_id = $2`, p.m.TenantID, p.m.ID).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("bot: balance: %w", err)
	}
	p.balance = &v
	return v, nil
}

// checkIn returns the person's latest check-in day and streak then, read
// through the transaction when not known (after a surprise of the
// database's one-check-in-a-day key).
func (b *batch) checkIn(ctx context.Context, r *Runner, p *person) (string, int, error) {
	if !p.checkInKnown {
		day, streak, err := r.Loyalty.LastCheckIn(ctx, b.tx, p.m.TenantID, p.m.ID)
		if err != nil {
			return "", 0, err
		}
		p.lastDay, p.streak, p.checkInKnown = day, streak, true
	}
	return p.lastDay, p.streak, nil
}

// discussionSince returns the discussion points the person earned at or
// after day (Unix ms).
func (b *batch) discussionSince(ctx context.Context, p *person, day int64) (int64, error) {
	if v, ok := p.discussion[day]; ok {
		return v, nil
	}
	var v int64
	if err := b.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(delta), 0) FROM points_ledger
		WHERE tenant_id = $1 AND member_id = $2 AND kind = 'discussion' AND at >= $3`, p.m.TenantID, p.m.ID, day).Scan(&v); err != nil {
		return 0, fmt.Errorf("bot: discussion points: %w", err)
	}
	if p.discussion == nil {
		p.discussion = map[int64]int64{}
	}
	p.discussion[day] = v
	return v, nil
}

// earned records a ledger entry the batch created for the person, so the
// batch's later events see it: the balance after it and, for discussion
// points, every day total it falls in.
func (p *person) earned(kind loyalty.Kind, delta, balanceAfter int64, at time.Time) {
	p.balance = &balanceAfter
	if kind != loyalty.KindDiscussion {
		return
	}
	ms := store.Millis(at)
	for day := range p.discussion {
		if day <= ms {
			p.discussion[day] += delta
		}
	}
}
