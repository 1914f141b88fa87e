package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// turn is one event being acted on: what the rules saw and where their
// actions go.
type turn struct {
	e        event.Event
	tenant   tenant.Tenant
	group    community.Group
	member   member.Member
	rules    []bot.Rule
	personas map[int64]bot.Persona
	state    bot.State
	lang     string
	balance  int64 // the member's balance, kept current as actions award points
}

// process evaluates one event and applies its actions and the cursor's
// advance in one transaction.
func (r *Runner) process(ctx context.Context, e event.Event) error {
	if e.GroupID == 0 || e.MemberID == 0 || e.Source == event.SourceOutbox || e.Source == event.SourceDemo || e.Source == event.SourceImport {
		return r.advance(ctx, nil, e.ID) // not a member acting in a group now
	}
	t, err := r.load(ctx, e)
	if errors.Is(err, store.ErrNotFound) {
		return r.advance(ctx, nil, e.ID)
	}
	if err != nil {
		return err
	}
	in := bot.Input{EventID: e.ID, At: e.At, GroupID: e.GroupID, MemberID: e.MemberID, MemberName: t.member.DisplayName}
	switch e.Type {
	case event.MemberJoined:
		in.Kind = bot.InputJoined
	case event.Message:
		var d event.MessageData
		if err := e.Decode(&d); err != nil {
			return r.advance(ctx, nil, e.ID)
		}
		in.Kind, in.Text, in.IsStaff = bot.InputMessage, d.Text, e.StaffID != 0
	}
	actions := bot.Evaluate(t.state, in)
	t.balance = t.state.Member.Balance
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		for i, a := range actions {
			if err := r.apply(ctx, tx, &t, i, a); err != nil {
				return fmt.Errorf("bot: event %d action %T: %w", e.ID, a, err)
			}
		}
		return r.advance(ctx, tx, e.ID)
	})
}

// load gathers the state the rules of the event's group need.
func (r *Runner) load(ctx context.Context, e event.Event) (turn, error) {
	t := turn{e: e}
	var err error
	if t.tenant, err = r.Tenants.Get(ctx, e.TenantID); err != nil {
		return t, err
	}
	if t.group, err = r.Community.Group(ctx, e.TenantID, e.GroupID); err != nil {
		return t, err
	}
	if t.member, err = r.Members.Person(ctx, e.TenantID, e.MemberID); err != nil {
		return t, err
	}
	if t.rules, t.personas, err = r.Store.rulesFor(ctx, e.TenantID, e.GroupID); err != nil {
		return t, err
	}
	// The whole group reads the reply: the brand's language, not the
	// language of the member who triggered it.
	t.lang = r.Catalog.Pick("", t.tenant.Locale)
	loc := t.tenant.Location()
	st := bot.State{Loc: loc, Rules: t.rules, Cooldowns: map[string]time.Time{}}
	st.Group = bot.GroupInfo{ID: t.group.ID, Name: t.group.Name, Rules: t.group.Rules, Promise: t.group.Promise}
	if e.Type == event.Message {
		if st.Activities, err = r.activities(ctx, e); err != nil {
			return t, err
		}
	}
	if len(t.rules) == 0 {
		t.state = st
		return t, nil // nothing will act: skip the member queries
	}
	ms, err := r.memberState(ctx, t, loc)
	if err != nil {
		return t, err
	}
	st.Member = ms
	if st.Cooldowns, err = r.cooldowns(ctx, e.TenantID, e.GroupID); err != nil {
		return t, err
	}
	t.state = st
	return t, nil
}

func (r *Runner) memberState(ctx context.Context, t turn, loc *time.Location) (bot.MemberState, error) {
	var ms bot.MemberState
	tenantID, memberID, groupID := t.e.TenantID, t.member.ID, t.e.GroupID
	gm, err := r.Community.Membership(ctx, tenantID, groupID, memberID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ms, err
	}
	ms.JoinedAt = gm.JoinedAt
	if ms.Balance, err = r.Loyalty.Balance(ctx, tenantID, memberID); err != nil {
		return ms, err
	}
	if ms.LastCheckInDay, ms.Streak, err = r.Loyalty.LastCheckIn(ctx, r.DB.R, tenantID, memberID); err != nil {
		return ms, err
	}
	dayStart := startOfDay(t.e.At, loc)
	if err := r.DB.R.QueryRowContext(ctx, `SELECT COALESCE(SUM(delta), 0) FROM points_ledger
		WHERE tenant_id = $1 AND member_id = $2 AND kind = 'discussion' AND at >= $3`,
		tenantID, memberID, store.Millis(dayStart)).Scan(&ms.DiscussionToday); err != nil {
		return ms, err
	}
	// Earlier messages of this member in this group in the last ten
	// minutes (the flood window is at most that long).
	rows, err := r.DB.R.QueryContext(ctx, `SELECT at FROM events WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3
		AND type = 'message' AND id < $4 AND at >= $5 ORDER BY id`, tenantID, groupID, memberID, t.e.ID,
		store.Millis(t.e.At.Add(-10*time.Minute)))
	if err != nil {
		return ms, err
	}
	for rows.Next() {
		var at int64
		rows.Scan(&at)
		ms.RecentMessages = append(ms.RecentMessages, store.Time(at))
	}
	rows.Close()
	if ms.Warns, ms.Mutes, ms.MutedUntil, err = r.moderationState(ctx, tenantID, groupID, memberID); err != nil {
		return ms, err
	}
	return ms, rows.Err()
}

// activities returns the group's open polls and prompts in the core's terms.
func (r *Runner) activities(ctx context.Context, e event.Event) ([]bot.Activity, error) {
	if r.Polls == nil {
		return nil, nil
	}
	open, err := r.Polls.OpenIn(ctx, r.DB.R, e.TenantID, e.GroupID, e.At)
	if err != nil {
		return nil, err
	}
	out := make([]bot.Activity, 0, len(open))
	for _, p := range open {
		out = append(out, bot.Activity{ID: p.ID, Prompt: p.Kind == poll.KindPrompt, Options: len(p.Options), Tag: p.Tag,
			Points: p.Points, PersonaID: p.PersonaID, ClosesAt: p.ClosesAt})
	}
	return out, nil
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
}

func (r *Runner) cooldowns(ctx context.Context, tenantID, groupID int64) (map[string]time.Time, error) {
	rows, err := r.DB.R.QueryContext(ctx, `SELECT key, at FROM bot_cooldowns WHERE tenant_id = $1 AND group_id = $2`, tenantID, groupID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var k string
		var at int64
		if err := rows.Scan(&k, &at); err != nil {
			return nil, err
		}
		out[k] = store.Time(at)
	}
	return out, rows.Err()
}
