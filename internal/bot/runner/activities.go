package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// ButtonData is the payload of a poll option's button: "poll:<id>:<n>".
func ButtonData(pollID int64, choice int) string { return fmt.Sprintf("poll:%d:%d", pollID, choice) }

// ParseButtonData reads a poll button's payload.
func ParseButtonData(data string) (pollID int64, choice int, ok bool) {
	if _, err := fmt.Sscanf(data, "poll:%d:%d", &pollID, &choice); err != nil || ButtonData(pollID, choice) != data {
		return 0, 0, false
	}
	return pollID, choice, true
}

// StartActivity stores a new poll or prompt and, in the same transaction,
// queues its announcement to the group from its persona: the question,
// the numbered options (or how to enter) and the deadline, with a button
// per option where the channel shows buttons.
func (r *Runner) StartActivity(ctx context.Context, p poll.Poll) (poll.Poll, error) {
	g, err := r.Community.Group(ctx, p.TenantID, p.GroupID)
	if err != nil {
		return p, fmt.Errorf("%w: %v", poll.ErrInvalid, err)
	}
	if _, err := r.persona(ctx, p.TenantID, p.PersonaID); err != nil {
		return p, err // an operator's choice: refused, not replaced
	}
	sp, err := r.speaker(ctx, p.TenantID, p.PersonaID)
	if err != nil {
		return p, err
	}
	tn, lang, persona := sp.tenant, sp.lang, sp.persona
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		if p, err = r.Polls.CreateTx(ctx, tx, p); err != nil {
			return err
		}
		deadline := p.ClosesAt.In(tn.Location()).Format("01-02 15:04")
		var b strings.Builder
		var buttons []channel.Button
		if p.Kind == poll.KindPoll {
			b.WriteString(r.Catalog.T(lang, "bot.poll_open", p.Question))
			for i, o := range p.Options {
				fmt.Fprintf(&b, "\n%d. %s", i+1, o)
				buttons = append(buttons, channel.Button{Label: o, Data: ButtonData(p.ID, i+1)})
			}
			b.WriteString("\n" + r.Catalog.T(lang, "bot.poll_how", deadline))
		} else {
			b.WriteString(r.Catalog.T(lang, "bot.prompt_open", p.Question, p.Tag, deadline))
			if p.Points > 0 {
				b.WriteString(" " + r.Catalog.T(lang, "bot.prompt_points", p.Points))
			}
		}
		_, _, err := r.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: p.TenantID, Channel: g.Channel, GroupID: g.ID,
			SenderName: persona.Name, PersonaID: persona.ID, SenderAvatar: persona.AvatarURL, StaffID: p.StaffID,
			Body: b.String(), Buttons: buttons, IdemKey: fmt.Sprintf("poll:%d:open", p.ID)})
		return err
	})
	return p, err
}

// speaker is who speaks for the brand outside a member's turn (an
// announcement, a reminder, a live alert): the tenant, its language and a
// persona — the default name when none is set or it was deleted since.
type speaker struct {
	tenant  tenant.Tenant
	lang    string
	persona bot.Persona
}

func (r *Runner) speaker(ctx context.Context, tenantID, personaID int64) (speaker, error) {
	tn, err := r.Tenants.Get(ctx, tenantID)
	if err != nil {
		return speaker{}, err
	}
	sp := speaker{tenant: tn, lang: r.Catalog.Pick("", tn.Locale)}
	if personaID != 0 {
		if p, err := r.Store.Persona(ctx, tenantID, personaID); err == nil {
			sp.persona = p
		}
	}
	if sp.persona.Name == "" {
		sp.persona.Name = r.Catalog.T(sp.lang, "bot.default_persona")
	}
	return sp, nil
}

// persona returns the tenant's persona id, or the default one for 0.
func (r *Runner) persona(ctx context.Context, tenantID, id int64) (bot.Persona, error) {
	if id == 0 {
		return bot.Persona{}, nil
	}
	p, err := r.Store.Persona(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("%w: unknown persona", poll.ErrInvalid)
	}
	return p, err
}

// closeDue announces the result of every activity whose deadline has
// passed: the close and the announcement are one transaction, so a result
// is announced once however many passes or nodes see it due.
func (r *Runner) closeDue(ctx context.Context) error {
	if r.Polls == nil {
		return nil
	}
	now := r.nowFn()
	due, err := r.Polls.Due(ctx, now, 50)
	if err != nil {
		return err
	}
	for _, p := range due {
		if err := r.announceResult(ctx, p, now); err != nil {
			r.Logger.Error("bot: announce result", "poll", p.ID, "tenant", p.TenantID, "err", err)
		}
	}
	return nil
}

func (r *Runner) announceResult(ctx context.Context, p poll.Poll, now time.Time) error {
	g, err := r.Community.Group(ctx, p.TenantID, p.GroupID)
	if err != nil {
		return err
	}
	sp, err := r.speaker(ctx, p.TenantID, p.PersonaID)
	if err != nil {
		return err
	}
	lang, persona := sp.lang, sp.persona
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		res, done, err := r.Polls.CloseTx(ctx, tx, p, now)
		if err != nil || !done {
			return err
		}
		var b strings.Builder
		if p.Kind == poll.KindPoll {
			b.WriteString(r.Catalog.T(lang, "bot.poll_result", p.Question, res.Total))
			for i, o := range p.Options {
				fmt.Fprintf(&b, "\n%d. %s — %d (%d%%)", i+1, o, res.Counts[i], res.Percent(i))
			}
		} else {
			b.WriteString(r.Catalog.T(lang, "bot.prompt_result", p.Question, res.Total, res.Members))
		}
		_, _, err = r.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: p.TenantID, Channel: g.Channel, GroupID: g.ID,
			SenderName: persona.Name, PersonaID: persona.ID, SenderAvatar: persona.AvatarURL,
			Body: b.String(), IdemKey: fmt.Sprintf("poll:%d:result", p.ID)})
		return err
	})
}

// vote applies a Vote: silently (the live tally answers); a closed poll or
// a member who left since is not an error of the event.
func (r *Runner) vote(ctx context.Context, tx *store.Tx, t *turn, a bot.Vote) error {
	_, err := r.Polls.VoteTx(ctx, tx, t.tenant.ID, a.PollID, t.member.ID, a.Choice, t.e.At, "poll", fmt.Sprintf("msg:%d", t.e.ID))
	if errors.Is(err, poll.ErrClosed) || errors.Is(err, poll.ErrNotMember) || errors.Is(err, poll.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// entry applies an Entry: stored once per message; the member's first
// entry earns the points and a thank-you.
func (r *Runner) entry(ctx context.Context, tx *store.Tx, t *turn, a bot.Entry, key string) error {
	p, err := r.Polls.GetIn(ctx, tx, t.tenant.ID, a.PromptID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, first, err := r.Polls.EntryTx(ctx, tx, p, t.member.ID, t.e.ID, a.Text, t.e.At)
	if err != nil || !first {
		return err
	}
	if a.Points > 0 {
		if err := r.award(ctx, tx, t, loyalty.Entry{TenantID: t.tenant.ID, MemberID: t.member.ID, Delta: a.Points,
			Kind: loyalty.KindActivity, Ref: fmt.Sprintf("prompt:%d:%d", p.ID, t.member.ID), GroupID: t.group.ID,
			Note: p.Question, At: t.e.At}); err != nil {
			return err
		}
		balance, err := t.b.balance(ctx, t.p)
		if err != nil {
			return err
		}
		return r.say(ctx, tx, t, a.PersonaID, r.t(t, "bot.entry_points", t.member.DisplayName, a.Points, balance), key, time.Time{})
	}
	return r.say(ctx, tx, t, a.PersonaID, r.t(t, "bot.entry_thanks", t.member.DisplayName), key, time.Time{})
}
