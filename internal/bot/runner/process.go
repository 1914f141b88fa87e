package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
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
	lang     string
	loc      *time.Location // the tenant's

	b  *batch      // the batch the event is in
	gs *groupState // the group's state in the batch
	p  *person     // the member's state in the batch
	gm *inGroup    // the member's state in the group; nil when no rule acts there

	// replyToken is the platform's token for answering the event (LINE):
	// free where a push costs quota. The first message to the group takes
	// it (a token answers once).
	replyToken string
}

// process evaluates a batch of events in order and applies their actions
// and the cursor's advance past the last one in one transaction. Any
// failure rolls the whole batch back.
func (r *Runner) process(ctx context.Context, evs []event.Event) error {
	b, err := r.prepare(ctx, evs)
	if err != nil {
		return err
	}
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		b.tx = tx
		if err := r.load(ctx, b); err != nil {
			return err
		}
		for _, e := range evs {
			if err := r.step(ctx, b, e); err != nil {
				return fmt.Errorf("bot: event %d: %w", e.ID, err)
			}
		}
		return r.advance(ctx, tx, evs[len(evs)-1].ID)
	})
}

// step evaluates one event of the batch and applies its actions.
func (r *Runner) step(ctx context.Context, b *batch, e event.Event) error {
	if e.Type == event.MemberJoined && r.OnJoin != nil && e.MemberID != 0 {
		if err := r.OnJoin(ctx, b.tx, e); err != nil {
			return fmt.Errorf("on join: %w", err)
		}
	}
	gs, p, ok := b.lookup(e)
	if !ok {
		return nil // not a member acting in a group now, or gone
	}
	ts := b.tenants[e.TenantID]
	t := turn{e: e, tenant: ts.tenant, loc: ts.loc, lang: ts.lang, group: gs.group, member: p.m, rules: gs.rules, personas: gs.personas,
		b: b, gs: gs, p: p, gm: gs.members[p.m.ID]}
	in := bot.Input{EventID: e.ID, At: e.At, GroupID: e.GroupID, MemberID: e.MemberID, MemberName: t.member.DisplayName}
	switch e.Type {
	case event.MemberJoined:
		in.Kind = bot.InputJoined
	case event.Message:
		var d event.MessageData
		if err := e.Decode(&d); err != nil {
			return nil
		}
		in.Kind, in.Text, in.IsStaff = bot.InputMessage, d.Text, e.StaffID != 0
		t.replyToken = d.ReplyToken
	}
	st, err := r.state(ctx, &t)
	if err != nil {
		return err
	}
	for i, a := range bot.Evaluate(st, in) {
		if err := r.apply(ctx, b.tx, &t, i, a); err != nil {
			return fmt.Errorf("action %T: %w", a, err)
		}
	}
	return nil
}

// state is what the rules of the event's group read, as of the actions
// applied so far in the batch.
func (r *Runner) state(ctx context.Context, t *turn) (bot.State, error) {
	loc := t.loc
	st := bot.State{Loc: loc, Rules: t.rules, Cooldowns: t.gs.cooldowns}
	st.Group = bot.GroupInfo{ID: t.group.ID, Name: t.group.Name, Rules: t.group.Rules, Promise: t.group.Promise}
	if t.e.Type == event.Message {
		st.Activities = t.gs.activities
		st.Sales = t.gs.sales
	}
	if len(t.rules) == 0 || t.gm == nil {
		return st, nil // nothing will act: no member state
	}
	n := t.gs.needs
	ms := bot.MemberState{JoinedAt: t.gm.joinedAt, MutedUntil: t.gm.mutedUntil, Warns: t.gm.warns, Mutes: t.gm.mutes}
	var err error
	if n.CheckIn {
		if ms.LastCheckInDay, ms.Streak, err = t.b.checkIn(ctx, r, t.p); err != nil {
			return st, err
		}
	}
	if n.Discussion {
		if ms.DiscussionToday, err = t.b.discussionSince(ctx, t.p, store.Millis(startOfDay(t.e.At, loc))); err != nil {
			return st, err
		}
	}
	if n.Flood > 0 {
		// Earlier messages of this member in this group within the
		// window, newest last.
		from := t.e.At.Add(-n.Flood)
		for _, m := range t.gm.recent {
			if m.id < t.e.ID && !m.at.Before(from) {
				ms.RecentMessages = append(ms.RecentMessages, m.at)
			}
		}
	}
	st.Member = ms
	return st, nil
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
}
