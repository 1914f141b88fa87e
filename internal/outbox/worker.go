package outbox

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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
		// Sleep until the next row is due or a held channel may send
		// again, if that comes before the next poll: paced rows are due
		// within milliseconds to seconds.
		due := o.dueTimer(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-o.wake:
		case <-due.C:
		}
		due.Stop()
	}
}

// dueTimer fires when the next row is due, or a held channel may send
// again, if that comes before the next poll; otherwise never.
func (o *Outbox) dueTimer(ctx context.Context) *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	if next := o.nextDue(ctx); !next.IsZero() {
		if d := next.Sub(o.nowFn()); d < o.Poll {
			t.Reset(max(time.Millisecond, d))
		}
	}
	return t
}

// nextDue is when the next pending row is due (now or earlier when one
// came due since the pass looked: the timer then fires at once), or a held
// channel may send again, whichever is sooner; zero when nothing waits.
// Rows of held channels wait for their hold, not their time.
func (o *Outbox) nextDue(ctx context.Context) time.Time {
	now := o.nowFn()
	held, soonest := o.holds(now)
	var args []any
	var ms sql.NullInt64
	err := o.db.R.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'`+
		notIn("channel", held, &args), args...).Scan(&ms)
	if err != nil && ctx.Err() == nil {
		o.log.Error("outbox: next due row", "err", err)
	}
	if t := store.Time(ms.Int64); ms.Valid && (soonest.IsZero() || t.Before(soonest)) {
		soonest = t
	}
	return soonest
}

// notIn is " AND col NOT IN ($n, …)" over values, appended to args; empty
// for no values.
func notIn(col string, values []string, args *[]any) string {
	if len(values) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" AND " + col + " NOT IN (")
	for i, v := range values {
		*args = append(*args, v)
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", len(*args))
	}
	b.WriteString(")")
	return b.String()
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

// claim moves up to Batch due rows to "sending" and returns them, oldest
// first; rows of held channels stay. The claim is one statement, so two
// workers (two nodes on PostgreSQL) never claim the same row.
//
// Rows are taken in the order they were queued (id), not by when they
// became due: a row paced to a later time must not be overtaken by a
// younger row to the same group that has been due all along. "id + 0"
// keeps the planners on the due index (then a sort of the due rows):
// ordered by the bare id, PostgreSQL walks the primary key through every
// sent row first (41 ms instead of 1.8 ms with 500,000 sent rows and
// 10,000 due, measured).
func (o *Outbox) claim(ctx context.Context) ([]Item, error) {
	lock := ""
	if o.db.Dialect == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	now := o.nowFn()
	held, _ := o.holds(now)
	args := []any{store.Millis(now), o.Batch}
	rows, err := o.db.W.QueryContext(ctx, `UPDATE outbox SET state = 'sending', attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1`+notIn("channel", held, &args)+`
		ORDER BY id + 0 LIMIT $2`+lock+`)
		RETURNING `+itemCols, args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order guarantee; send in queue order.
	slices.SortFunc(items, func(a, b Item) int { return cmp.Compare(a.ID, b.ID) })
	return items, nil
}

// RunOnce claims and sends one batch; it returns how many rows it claimed.
func (o *Outbox) RunOnce(ctx context.Context) (int, error) {
	o.prune(o.nowFn())
	items, err := o.claim(ctx)
	if err != nil {
		return 0, err
	}
	nap := o.Nap
	for i, it := range items {
		if ctx.Err() != nil {
			// Hand the unsent rest back; nothing of them was attempted.
			return len(items), o.release(ctx, items[i:])
		}
		o.send(ctx, it, &nap)
	}
	return len(items), nil
}

func (o *Outbox) release(ctx context.Context, items []Item) error {
	for _, it := range items {
		if err := o.putBack(ctx, it, it.LastError); err != nil {
			return err
		}
	}
	return nil
}

// putBack returns a claimed row to the queue unattempted, where it was:
// pending, its attempt given back, due as before. It runs even when ctx
// is cancelled.
func (o *Outbox) putBack(ctx context.Context, it Item, lastErr string) error {
	_, err := o.db.W.ExecContext(context.WithoutCancel(ctx), `UPDATE outbox SET state = 'pending', attempts = attempts - 1, last_error = $2
		WHERE id = $1 AND state = 'sending'`, it.ID, strings.ToValidUTF8(lastErr, "?"))
	if err != nil {
		return fmt.Errorf("outbox: put back %d: %w", it.ID, err)
	}
	return nil
}

// paced waits for its send slot when the wait fits in what is left of
// the pass's nap, and reports whether it may be sent now. Otherwise the
// row goes back to the queue: where it was, with its channel held, when
// the channel's limit (or a pause) is what it waits for; due when its
// slot comes, when its recipient's limit is.
func (o *Outbox) paced(ctx context.Context, ch channel.Channel, it Item, nap *time.Duration) bool {
	for {
		now := o.nowFn()
		chWait, toWait := o.waits(ch, it, now)
		wait := max(chWait, toWait)
		var err error
		switch {
		case wait == 0:
			return true
		case wait <= *nap:
			*nap -= wait
			if o.sleep(ctx, wait) == nil {
				continue
			}
			err = o.putBack(ctx, it, it.LastError)
		case chWait >= toWait:
			o.hold(ch.Name(), now.Add(chWait))
			err = o.putBack(ctx, it, it.LastError)
		default:
			// Not attempted: no attempt spent. The extra millisecond makes
			// the row due after the slot, not just before it (times are
			// stored in milliseconds).
			o.finish(ctx, Item{ID: it.ID, Attempts: it.Attempts - 1}, Pending, "", "", toWait+time.Millisecond)
		}
		if err != nil {
			o.log.Error("outbox: pacing", "err", err)
		}
		return false
	}
}

func (o *Outbox) send(ctx context.Context, it Item, nap *time.Duration) {
	ch, ok := o.channels.Get(it.Channel)
	if !ok {
		o.finish(ctx, it, Failed, "channel not configured: "+it.Channel, "", 0)
		return
	}
	if !o.paced(ctx, ch, it, nap) {
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
	res, err := ch.Send(ctx, channel.Message{
		OutboxID: it.ID, TenantID: it.TenantID, IdemKey: it.IdemKey, GroupID: it.GroupID, MemberID: it.MemberID,
		StaffID: it.StaffID, SenderName: it.SenderName, PersonaID: it.PersonaID, AvatarURL: it.SenderAvatar, Text: it.Body,
		Buttons: it.Buttons, To: to, ReplyToken: it.ReplyToken, Card: it.Card,
	})
	// Counted whatever the answer: the request may have reached the
	// platform, and no later than the answer came.
	answered := o.nowFn()
	o.sent(ch, it, answered)
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
		// Nothing of the channel goes out before the wait is over; the row
		// keeps its place in the queue, its attempt given back.
		o.hold(ch.Name(), answered.Add(ra.Wait))
		if err := o.putBack(ctx, it, err.Error()); err != nil {
			o.log.Error("outbox: record outcome", "id", it.ID, "err", err)
		}
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
