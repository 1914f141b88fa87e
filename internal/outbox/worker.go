package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/store"
)

// Run sends due messages until ctx ends. It first recovers rows a previous
// process left in "sending". On shutdown it finishes the send in progress
// and records its result before returning.
func (o *Outbox) Run(ctx context.Context) error {
	release, err := o.lead(ctx)
	if err != nil || release == nil {
		return err
	}
	defer release()
	if err := o.Recover(ctx); err != nil {
		return err
	}
	ticker := time.NewTicker(o.Poll)
	defer ticker.Stop()
	for {
		n, err := o.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			o.log.Error("outbox: pass failed", "err", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if n == o.Batch {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-o.wake:
		}
	}
}

// outboxLockKey is the PostgreSQL advisory lock that makes one node of
// several the outbox's sender (centrifugo does the same): only that node
// recovers "sending" rows, so it never disturbs another node's send.
const outboxLockKey = 7_270_118

func (o *Outbox) lead(ctx context.Context) (func(), error) {
	return store.Lead(ctx, o.db, outboxLockKey, o.Poll)
}

// Recover settles rows left in "sending" by a process that stopped while
// sending them: resent where the channel's send is idempotent, marked
// unknown where a resend could deliver twice.
func (o *Outbox) Recover(ctx context.Context) error {
	rows, err := o.db.W.QueryContext(ctx, `SELECT DISTINCT channel FROM outbox WHERE state = 'sending'`)
	if err != nil {
		return fmt.Errorf("outbox: recover: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, name := range names {
		next, msg := Unknown, "interrupted while sending; the platform may have delivered it"
		if ch, ok := o.channels.Get(name); ok && ch.Capabilities().IdempotentSend {
			next, msg = Pending, "interrupted while sending; resent (idempotent channel)"
		}
		res, err := o.db.W.ExecContext(ctx, `UPDATE outbox SET state = $1, last_error = $2 WHERE state = 'sending' AND channel = $3`,
			string(next), msg, name)
		if err != nil {
			return fmt.Errorf("outbox: recover %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			o.log.Warn("outbox: recovered interrupted sends", "channel", name, "rows", n, "now", next)
		}
	}
	return nil
}

// claim moves up to Batch due rows to "sending" and returns them. The
// claim is one statement, so two workers (two nodes on PostgreSQL) never
// claim the same row.
func (o *Outbox) claim(ctx context.Context) ([]Item, error) {
	lock := ""
	if o.db.Dialect == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := o.db.W.QueryContext(ctx, `UPDATE outbox SET state = 'sending', attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`+lock+`)
		RETURNING `+itemCols, store.Millis(o.nowFn()), o.Batch)
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order guarantee; send in queue order.
	sortItems(items)
	return items, nil
}

func sortItems(items []Item) {
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && less(items[j], items[j-1]); j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
}

func less(a, b Item) bool {
	if !a.NextAttemptAt.Equal(b.NextAttemptAt) {
		return a.NextAttemptAt.Before(b.NextAttemptAt)
	}
	return a.ID < b.ID
}

// RunOnce claims and sends one batch; it returns how many rows it claimed.
func (o *Outbox) RunOnce(ctx context.Context) (int, error) {
	items, err := o.claim(ctx)
	if err != nil {
		return 0, err
	}
	for i, it := range items {
		if ctx.Err() != nil {
			// Hand the unsent rest back; nothing of them was attempted.
			return len(items), o.release(context.WithoutCancel(ctx), items[i:])
		}
		o.send(ctx, it)
	}
	return len(items), nil
}

func (o *Outbox) release(ctx context.Context, items []Item) error {
	for _, it := range items {
		if _, err := o.db.W.ExecContext(ctx, `UPDATE outbox SET state = 'pending', attempts = attempts - 1 WHERE id = $1 AND state = 'sending'`, it.ID); err != nil {
			return err
		}
	}
	return nil
}

func (o *Outbox) limiter(key string, perSecond float64, burst int) *rate.Limiter {
	o.mu.Lock()
	defer o.mu.Unlock()
	l, ok := o.paces[key]
	if !ok {
		l = rate.NewLimiter(rate.Limit(perSecond), burst)
		o.paces[key] = l
	}
	return l
}

// pace reserves a send slot under the channel's limits; it returns how
// long to wait when no slot is free now (and reserves nothing then).
func (o *Outbox) pace(ch channel.Channel, it Item) time.Duration {
	lim := ch.Limits()
	now := o.nowFn()
	var reservations []*rate.Reservation
	var wait time.Duration
	try := func(key string, perSecond float64, burst int) {
		if perSecond <= 0 || wait > 0 {
			return
		}
		r := o.limiter(key, perSecond, burst).ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			wait = d
			return
		}
		reservations = append(reservations, r)
	}
	try(ch.Name(), lim.PerSecond, max(1, int(lim.PerSecond)))
	if it.GroupID != 0 {
		try(fmt.Sprintf("%s/%d/g%d", ch.Name(), it.TenantID, it.GroupID), lim.PerGroupPerMinute/60, max(1, int(lim.PerGroupPerMinute/6)))
	} else {
		try(fmt.Sprintf("%s/%d/m%d", ch.Name(), it.TenantID, it.MemberID), lim.PerMemberPerSecond, 1)
	}
	if wait > 0 {
		for _, r := range reservations {
			r.CancelAt(now)
		}
	}
	return wait
}

func (o *Outbox) send(ctx context.Context, it Item) {
	ch, ok := o.channels.Get(it.Channel)
	if !ok {
		o.finish(ctx, it, Failed, "channel not configured: "+it.Channel, "", 0)
		return
	}
	var to string
	if o.Address != nil {
		var err error
		if to, err = o.Address(ctx, it); err != nil {
			// No address (a group the bot was removed from, a member who
			// blocked it): nothing was attempted, and no retry will help.
			o.finish(ctx, it, Failed, err.Error(), "", 0)
			return
		}
	}
	if wait := o.pace(ch, it); wait > 0 {
		// Not attempted: back to the queue without spending an attempt.
		o.finish(ctx, Item{ID: it.ID, Attempts: it.Attempts - 1}, Pending, "", "", wait)
		return
	}
	res, err := ch.Send(ctx, channel.Message{
		OutboxID: it.ID, TenantID: it.TenantID, IdemKey: it.IdemKey, GroupID: it.GroupID, MemberID: it.MemberID,
		StaffID: it.StaffID, SenderName: it.SenderName, PersonaID: it.PersonaID, AvatarURL: it.SenderAvatar, Text: it.Body,
		Buttons: it.Buttons, To: to, ReplyToken: it.ReplyToken, Card: it.Card,
	})
	if errors.Is(err, channel.ErrUnreachable) && o.OnUnreachable != nil {
		o.OnUnreachable(context.WithoutCancel(ctx), it, err)
	}
	var ra *channel.RetryAfter
	switch {
	case err == nil:
		o.finish(ctx, it, Sent, "", res.ExternalID, 0)
		if o.OnSent != nil {
			o.OnSent(it)
		}
	case errors.As(err, &ra):
		o.finish(ctx, Item{ID: it.ID, Attempts: it.Attempts - 1}, Pending, err.Error(), "", ra.Wait)
	case errors.Is(err, channel.ErrPermanent), errors.Is(err, channel.ErrUnreachable):
		o.finish(ctx, it, Failed, err.Error(), "", 0)
	case errors.Is(err, channel.ErrUncertain) && !ch.Capabilities().IdempotentSend:
		o.finish(ctx, it, Unknown, err.Error(), "", 0)
	case ctx.Err() != nil && !ch.Capabilities().IdempotentSend:
		o.finish(ctx, it, Unknown, "shutdown during send: "+err.Error(), "", 0)
	case it.Attempts >= MaxAttempts:
		o.finish(ctx, it, Failed, err.Error(), "", 0)
	default:
		o.finish(ctx, it, Pending, err.Error(), "", backoff(it.Attempts))
	}
}

// backoff is 2^attempts seconds, capped at ten minutes.
func backoff(attempts int) time.Duration {
	d := time.Second << min(attempts, 10)
	return min(d, 10*time.Minute)
}

// finish records a send's outcome. It runs even when ctx is cancelled (the
// send happened; its result must be kept).
func (o *Outbox) finish(ctx context.Context, it Item, state State, lastErr, externalID string, after time.Duration) {
	ctx = context.WithoutCancel(ctx)
	now := o.nowFn()
	var sentAt any
	if state == Sent {
		sentAt = store.Millis(now)
	}
	if len(lastErr) > 500 {
		lastErr = lastErr[:500]
	}
	_, err := o.db.W.ExecContext(ctx, `UPDATE outbox SET state = $2, attempts = $3, last_error = $4, external_id = $5,
		next_attempt_at = $6, sent_at = $7 WHERE id = $1`,
		it.ID, string(state), it.Attempts, strings.ToValidUTF8(lastErr, "?"), externalID, store.Millis(now.Add(after)), sentAt)
	if err != nil {
		o.log.Error("outbox: record outcome", "id", it.ID, "state", state, "err", err)
	}
}
