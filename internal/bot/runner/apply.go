package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
)

// apply carries out one action of the turn inside tx. i numbers the
// action so each message it sends has its own idempotency key.
func (r *Runner) apply(ctx context.Context, tx *store.Tx, t *turn, i int, a bot.Action) error {
	key := fmt.Sprintf("bot:%d:%d", t.e.ID, i)
	switch a := a.(type) {
	case bot.Reply:
		if a.Private {
			return r.dm(ctx, tx, t, a.PersonaID, a.Text, key)
		}
		return r.say(ctx, tx, t, a.PersonaID, a.Text, key, time.Time{})
	case bot.Welcome:
		return r.welcome(ctx, tx, t, a)
	case bot.Award:
		return r.award(ctx, tx, t, loyalty.Entry{TenantID: t.tenant.ID, MemberID: t.member.ID, Delta: a.Points,
			Kind: loyalty.Kind(a.Kind), Ref: a.Ref, GroupID: t.group.ID, Note: a.Note, At: t.e.At})
	case bot.CheckIn:
		return r.checkIn(ctx, tx, t, a, key)
	case bot.Command:
		text, err := r.answer(ctx, tx, t, a)
		if err != nil {
			return err
		}
		return r.say(ctx, tx, t, a.PersonaID, text, key, time.Time{})
	case bot.Moderate:
		return r.moderate(ctx, tx, t, a, key)
	case bot.Cooldown:
		if _, err := tx.ExecContext(ctx, `INSERT INTO bot_cooldowns (tenant_id, group_id, key, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, group_id, key) DO UPDATE SET at = excluded.at`, t.tenant.ID, t.group.ID, a.Key, store.Millis(a.At)); err != nil {
			return err
		}
		t.gs.cooldowns[a.Key] = a.At // as the row now says, for the batch's later events
		return nil
	case bot.Wish:
		return r.wish(ctx, tx, t, a, key)
	case bot.Vote:
		return r.vote(ctx, tx, t, a)
	case bot.Entry:
		return r.entry(ctx, tx, t, a, key)
	}
	if ok, err := r.applySale(ctx, tx, t, a, key); ok {
		return err
	}
	return fmt.Errorf("unknown action %T", a)
}

func (r *Runner) t(t *turn, key string, args ...any) string { return r.Catalog.T(t.lang, key, args...) }

// award adds a ledger entry for the turn's member and keeps the batch's
// view of their balance and discussion points current. An entry whose ref
// was applied before changes nothing, here as in the ledger.
func (r *Runner) award(ctx context.Context, tx *store.Tx, t *turn, e loyalty.Entry) error {
	e, created, err := r.Loyalty.AwardTx(ctx, tx, e)
	if err == nil && created {
		t.p.earned(e.Kind, e.Delta, e.BalanceAfter, e.At)
	}
	return err
}

// say queues a message from a persona to the turn's group.
func (r *Runner) say(ctx context.Context, tx *store.Tx, t *turn, personaID int64, text, key string, at time.Time) error {
	p, ok := t.personas[personaID]
	if !ok {
		p = bot.Persona{Name: r.t(t, "bot.default_persona")}
	}
	it := outbox.Item{TenantID: t.tenant.ID, Channel: t.group.Channel, GroupID: t.group.ID,
		SenderName: p.Name, PersonaID: p.ID, SenderAvatar: p.AvatarURL, Body: text, IdemKey: key, NextAttemptAt: at}
	if at.IsZero() {
		// An answer sent now may use the event's reply token; a delayed
		// one (a debounced welcome) would find it expired.
		it.ReplyToken, t.replyToken = t.replyToken, ""
	}
	_, _, err := r.Outbox.EnqueueTx(ctx, tx, it)
	return err
}

// dm queues a private message from a persona to the turn's member, on the
// channel of the group they wrote in.
func (r *Runner) dm(ctx context.Context, tx *store.Tx, t *turn, personaID int64, text, key string) error {
	p, ok := t.personas[personaID]
	if !ok {
		p = bot.Persona{Name: r.t(t, "bot.default_persona")}
	}
	_, _, err := r.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: t.tenant.ID, Channel: t.group.Channel, MemberID: t.member.ID,
		SenderName: p.Name, PersonaID: p.ID, SenderAvatar: p.AvatarURL, Body: text, IdemKey: key})
	return err
}

func (r *Runner) checkIn(ctx context.Context, tx *store.Tx, t *turn, a bot.CheckIn, key string) error {
	err := r.Loyalty.CheckInTx(ctx, tx, loyalty.CheckIn{TenantID: t.tenant.ID, MemberID: t.member.ID, GroupID: t.group.ID,
		Day: a.Day, At: t.e.At, Streak: a.Streak, Points: a.Points, Bonus: a.Bonus})
	if errors.Is(err, loyalty.ErrAlreadyCheckedIn) {
		// The batch's view of the check-ins was behind the database's
		// key: read it again for the batch's later events.
		t.p.checkInKnown = false
		return r.say(ctx, tx, t, a.PersonaID, r.t(t, "bot.checkin_done", t.member.DisplayName), key, time.Time{})
	}
	if err != nil {
		return err
	}
	if t.p.checkInKnown && a.Day > t.p.lastDay {
		t.p.lastDay, t.p.streak = a.Day, a.Streak
	}
	t.p.balance = nil // the check-in's ledger entries moved it: read it again
	balance, err := t.b.balance(ctx, t.p)
	if err != nil {
		return err
	}
	text := r.t(t, "bot.checkin_ok", t.member.DisplayName, a.Streak, a.Points, balance)
	if a.Bonus > 0 {
		text += r.t(t, "bot.checkin_bonus", a.Streak, a.Bonus)
	}
	return r.say(ctx, tx, t, a.PersonaID, text, key, time.Time{})
}

// answer renders a command's reply with the data it needs, read through
// tx so that it includes what the batch applied before.
func (r *Runner) answer(ctx context.Context, tx *store.Tx, t *turn, c bot.Command) (string, error) {
	name := t.member.DisplayName
	switch c.Name {
	case "points":
		balance, err := t.b.balance(ctx, t.p)
		return r.t(t, "bot.points", name, balance), err
	case "rank":
		return r.rankText(ctx, tx, t)
	case "checkin_question", "checkin_closed", "checkin_wrong":
		cfg := t.checkInConfig()
		if cfg == nil {
			return r.t(t, "bot.help"), nil
		}
		switch c.Name {
		case "checkin_closed":
			return r.t(t, "bot.checkin_closed", cfg.WindowStart, cfg.WindowEnd), nil
		case "checkin_wrong":
			return r.t(t, "bot.checkin_wrong", name, cfg.Hint), nil
		}
		return r.t(t, "bot.checkin_question", cfg.Question), nil
	case "checkin_done":
		return r.t(t, "bot.checkin_done", name), nil
	case "wish":
		return r.t(t, "bot.wish_how"), nil
	}
	return r.t(t, "bot.help"), nil
}

func (t *turn) checkInConfig() *bot.CheckInConfig {
	for _, rule := range t.rules {
		if rule.Kind == bot.KindCheckIn && rule.CheckIn != nil {
			return rule.CheckIn
		}
	}
	return nil
}

func (r *Runner) rankText(ctx context.Context, tx *store.Tx, t *turn) (string, error) {
	ranks, err := weekRanks(ctx, tx, t.tenant.ID, t.group.ID, t.e.At, t.loc, 100)
	if err != nil {
		// On PostgreSQL a failed statement aborts the transaction: the
		// batch must fail, not go on as if the answer were "help".
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.t(t, "bot.rank_title"))
	mine := 0
	for i, rk := range ranks {
		if i < 5 {
			fmt.Fprintf(&b, "\n%d. %s  %d", rk.Position, rk.Name, rk.Points)
		}
		if rk.MemberID == t.member.ID {
			mine = rk.Position
		}
	}
	if len(ranks) == 0 {
		b.WriteString("\n" + r.t(t, "bot.rank_empty"))
	}
	if mine > 0 {
		b.WriteString("\n" + r.t(t, "bot.rank_you", t.member.DisplayName, mine))
	}
	return b.String(), nil
}

// moderate carries out a moderation action and records it.
func (r *Runner) moderate(ctx context.Context, tx *store.Tx, t *turn, m bot.Moderate, key string) error {
	now := t.e.At
	a := Action{GroupID: t.group.ID, MemberID: t.member.ID, Action: m.Action, Reason: m.Reason, RuleID: m.RuleID, EventID: t.e.ID, Until: m.Until, At: now}
	if m.Hide || m.Action == "hide" {
		if err := r.hideTx(ctx, tx, t.tenant.ID, t.group.ID, t.e.ID, m.Reason, now); err != nil {
			return err
		}
	}
	reason := r.t(t, "bot.reason."+m.Reason)
	var notice string
	switch m.Action {
	case "hide":
		if err := recordAction(ctx, tx, t.tenant.ID, a); err != nil {
			return err
		}
		return nil // a muted member's message: hidden without a word
	case "warn":
		notice = r.t(t, "bot.warned", t.member.DisplayName, reason)
	case "mute":
		if _, err := tx.ExecContext(ctx, `UPDATE group_members SET muted_until = $4 WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3`,
			t.tenant.ID, t.group.ID, t.member.ID, store.Millis(m.Until)); err != nil {
			return err
		}
		notice = r.t(t, "bot.muted", t.member.DisplayName, reason, m.Until.In(t.loc).Format("15:04"))
	case "remove":
		err := r.Community.RemoveTx(ctx, tx, t.tenant.ID, t.group.ID, t.member.ID, 0, "bot")
		if err != nil && !errors.Is(err, community.ErrNotIn) {
			return err
		}
		notice = r.t(t, "bot.removed", t.member.DisplayName, reason)
	default:
		return fmt.Errorf("moderation action %q", m.Action)
	}
	if err := recordAction(ctx, tx, t.tenant.ID, a); err != nil {
		return err
	}
	if r.Enforce != nil && (m.Action == "mute" || m.Action == "remove") {
		// On a platform the mute or removal must also happen there; after
		// the commit, so it never outruns the record.
		g, member, until := t.group, t.member.ID, m.Until
		tx.AfterCommit(func() { go r.Enforce(context.WithoutCancel(ctx), g, member, m.Action, until) })
	}
	// What the rows now say, for the batch's later events of the member.
	if gm := t.gm; gm != nil {
		switch m.Action {
		case "warn":
			gm.warns = append(gm.warns, now)
		case "mute":
			gm.mutes++
			gm.mutedUntil = m.Until
		}
	}
	return r.say(ctx, tx, t, t.moderationPersona(m.RuleID), notice, key, time.Time{})
}

func (t *turn) moderationPersona(ruleID int64) int64 {
	for _, rule := range t.rules {
		if rule.ID == ruleID {
			return rule.PersonaID
		}
	}
	return 0
}

// wish stores a member's wish for the demand board and thanks them.
func (r *Runner) wish(ctx context.Context, tx *store.Tx, t *turn, w bot.Wish, key string) error {
	if err := AddWishTx(ctx, tx, t.tenant.ID, t.member.ID, t.group.ID, t.e.ID, w.Text, t.e.At); err != nil {
		return err
	}
	return r.say(ctx, tx, t, w.PersonaID, r.t(t, "bot.wish_ok", t.member.DisplayName, w.Text), key, time.Time{})
}

// welcome greets joiners. With a debounce window, joiners arriving while a
// greeting still waits in the outbox are added to it: one message greets
// them all, as real groups do.
func (r *Runner) welcome(ctx context.Context, tx *store.Tx, t *turn, w bot.Welcome) error {
	vars := func(names []string) map[string]string {
		return map[string]string{"names": strings.Join(names, "、"), "name": strings.Join(names, "、"), "group": t.group.Name,
			"rules": t.group.Rules, "promise": t.group.Promise, "gift": t.giftText(r, w.RuleID)}
	}
	key := fmt.Sprintf("welcome:%d:%d:%d", t.group.ID, w.RuleID, t.e.ID)
	if w.DebounceSeconds <= 0 {
		return r.say(ctx, tx, t, w.PersonaID, bot.Render(w.Template, vars([]string{w.Name})), key, time.Time{})
	}
	var outboxID int64
	var raw string
	err := tx.QueryRowContext(ctx, `SELECT b.outbox_id, b.names FROM welcome_batches b JOIN outbox o ON o.id = b.outbox_id
		WHERE b.tenant_id = $1 AND b.group_id = $2 AND b.rule_id = $3 AND o.state = 'pending'
		ORDER BY b.outbox_id DESC LIMIT 1`, t.tenant.ID, t.group.ID, w.RuleID).Scan(&outboxID, &raw)
	if err == nil {
		var names []string
		json.Unmarshal([]byte(raw), &names)
		names = append(names, w.Name)
		b, _ := json.Marshal(names)
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET body = $3 WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`,
			t.tenant.ID, outboxID, bot.Render(w.Template, vars(names)))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			_, err = tx.ExecContext(ctx, `UPDATE welcome_batches SET names = $3 WHERE tenant_id = $1 AND outbox_id = $2`, t.tenant.ID, outboxID, string(b))
			return err
		}
	}
	due := t.e.At
	if now := time.Now(); due.Before(now) {
		due = now
	}
	due = due.Add(time.Duration(w.DebounceSeconds) * time.Second)
	if err := r.say(ctx, tx, t, w.PersonaID, bot.Render(w.Template, vars([]string{w.Name})), key, due); err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE tenant_id = $1 AND idem_key = $2`, t.tenant.ID, key).Scan(&outboxID)
	if err != nil {
		return err
	}
	b, _ := json.Marshal([]string{w.Name})
	_, err = tx.ExecContext(ctx, `INSERT INTO welcome_batches (tenant_id, outbox_id, group_id, rule_id, names) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, t.tenant.ID, outboxID, t.group.ID, w.RuleID, string(b))
	return err
}

func (t *turn) giftText(r *Runner, ruleID int64) string {
	for _, rule := range t.rules {
		if rule.ID != ruleID || rule.Welcome == nil {
			continue
		}
		var parts []string
		if rule.Welcome.GiftPoints > 0 {
			parts = append(parts, r.t(t, "bot.gift_points", rule.Welcome.GiftPoints))
		}
		if c := rule.Welcome.GiftCoupon; c != "" {
			parts = append(parts, r.t(t, "bot.gift_coupon", c))
		}
		return strings.Join(parts, " ")
	}
	return ""
}
