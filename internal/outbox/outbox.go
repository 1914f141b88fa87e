package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// State of an outbox row.
type State string

const (
	Pending State = "pending"
	Sending State = "sending"
	Sent    State = "sent"
	Failed  State = "failed"
	Unknown State = "unknown"
)

// MaxAttempts bounds retries of transient failures.
const MaxAttempts = 8

// Item is one outbox row.
type Item struct {
	ID            int64
	TenantID      int64
	Channel       string
	IdemKey       string
	GroupID       int64
	MemberID      int64
	StaffID       int64
	SenderName    string
	PersonaID     int64
	SenderAvatar  string
	Body          string
	Buttons       []channel.Button // inline buttons, where the channel shows them
	ReplyToken    string           // a platform reply token for this message (LINE), if any
	Card          *channel.Card    // a product or coupon card, where the channel shows cards
	State         State
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	ExternalID    string
	CreatedAt     time.Time
	SentAt        time.Time
}

// Outbox stores and sends outbound messages.
type Outbox struct {
	db       *store.DB
	channels *channel.Registry
	log      *slog.Logger
	wake     chan struct{}

	// Poll is how often the worker looks for due rows when not woken.
	Poll time.Duration
	// Batch is how many rows one pass claims.
	Batch int
	// OnSent is called after a row is recorded as sent (metrics).
	OnSent func(Item)
	// Address returns the platform address (chat or user id) of a row's
	// recipient, or an error wrapping channel.ErrUnreachable; nil sends
	// without one (the web community needs none).
	Address func(ctx context.Context, it Item) (string, error)
	// OnUnreachable is called when a platform says the recipient is gone
	// (bot removed, user blocked it), to mark the group or identity.
	OnUnreachable func(ctx context.Context, it Item, err error)

	// Nap is how long one pass may wait, in all, for send slots under the
	// channels' limits (the gaps within a second's worth of sends). A
	// longer wait hands the rows back to the queue: a row claimed is in
	// "sending", and a crash then leaves it unknown.
	Nap time.Duration

	mu     sync.Mutex
	paces  map[string]*pace     // channel, channel+group or channel+member → its limit's state
	held   map[string]time.Time // channel → no send, and no claim, before then
	pruned time.Time
	nowFn  func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// New returns an outbox sending through the registry's channels.
func New(db *store.DB, channels *channel.Registry, log *slog.Logger) *Outbox {
	return &Outbox{db: db, channels: channels, log: log, wake: make(chan struct{}, 1),
		Poll: time.Second, Batch: 100, Nap: 100 * time.Millisecond,
		paces: map[string]*pace{}, held: map[string]time.Time{}, nowFn: time.Now, sleep: sleep}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrInvalid is returned for a message that cannot be queued.
var ErrInvalid = errors.New("outbox: invalid message")

// EnqueueTx queues a message inside tx. It reports false (and queues
// nothing) when a message with the same idempotency key exists.
func (o *Outbox) EnqueueTx(ctx context.Context, tx *store.Tx, it Item) (int64, bool, error) {
	it.Body = strings.TrimSpace(textnorm.Clean(it.Body))
	it.SenderName = textnorm.Line(it.SenderName)
	ch, ok := o.channels.Get(it.Channel)
	switch {
	case !ok:
		return 0, false, fmt.Errorf("%w: unknown channel %q", ErrInvalid, it.Channel)
	case it.TenantID == 0 || it.IdemKey == "":
		return 0, false, fmt.Errorf("%w: no tenant or idempotency key", ErrInvalid)
	case it.GroupID == 0 && it.MemberID == 0:
		return 0, false, fmt.Errorf("%w: no recipient", ErrInvalid)
	case textnorm.Blank(it.Body):
		return 0, false, fmt.Errorf("%w: empty message", ErrInvalid)
	case ch.Capabilities().MaxTextLen > 0 && !textnorm.Limit(it.Body, ch.Capabilities().MaxTextLen):
		return 0, false, fmt.Errorf("%w: message longer than %d characters", ErrInvalid, ch.Capabilities().MaxTextLen)
	}
	now := o.nowFn().UTC()
	if it.NextAttemptAt.IsZero() {
		it.NextAttemptAt = now
	}
	buttons := ""
	if len(it.Buttons) > 0 {
		b, err := json.Marshal(it.Buttons)
		if err != nil {
			return 0, false, fmt.Errorf("%w: buttons: %v", ErrInvalid, err)
		}
		buttons = string(b)
	}
	card := ""
	if it.Card != nil {
		b, _ := json.Marshal(it.Card)
		card = string(b)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO outbox (tenant_id, channel, idem_key, group_id, member_id, staff_id,
		sender_name, body, state, next_attempt_at, created_at, persona_id, sender_avatar, buttons, reply_token, card)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (tenant_id, idem_key) DO NOTHING RETURNING id`,
		it.TenantID, it.Channel, it.IdemKey, nullID(it.GroupID), nullID(it.MemberID), nullID(it.StaffID),
		it.SenderName, it.Body, store.Millis(it.NextAttemptAt), store.Millis(now), nullID(it.PersonaID), it.SenderAvatar, buttons, it.ReplyToken, card).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("outbox: enqueue: %w", err)
	}
	tx.AfterCommit(o.Wake)
	return id, true, nil
}

// Enqueue queues a message in its own transaction.
func (o *Outbox) Enqueue(ctx context.Context, it Item) (int64, bool, error) {
	var id int64
	var created bool
	err := o.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, created, err = o.EnqueueTx(ctx, tx, it)
		return err
	})
	return id, created, err
}

// Wake makes the worker look for due rows now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const itemCols = `id, tenant_id, channel, idem_key, group_id, member_id, staff_id, sender_name, body, state, attempts,
	next_attempt_at, last_error, external_id, created_at, sent_at, persona_id, sender_avatar, buttons, reply_token, card`

func scanItems(rows *sql.Rows) ([]Item, error) {
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var group, member, staff, sent, persona sql.NullInt64
		var next, created int64
		var state, buttons, card string
		if err := rows.Scan(&it.ID, &it.TenantID, &it.Channel, &it.IdemKey, &group, &member, &staff, &it.SenderName,
			&it.Body, &state, &it.Attempts, &next, &it.LastError, &it.ExternalID, &created, &sent, &persona, &it.SenderAvatar, &buttons, &it.ReplyToken, &card); err != nil {
			return nil, err
		}
		if card != "" {
			it.Card = new(channel.Card)
			if err := json.Unmarshal([]byte(card), it.Card); err != nil {
				return nil, fmt.Errorf("outbox %d: card: %w", it.ID, err)
			}
		}
		if buttons != "" {
			if err := json.Unmarshal([]byte(buttons), &it.Buttons); err != nil {
				return nil, fmt.Errorf("outbox %d: buttons: %w", it.ID, err)
			}
		}
		it.GroupID, it.MemberID, it.StaffID, it.PersonaID = group.Int64, member.Int64, staff.Int64, persona.Int64
		it.State, it.NextAttemptAt, it.CreatedAt, it.SentAt = State(state), store.Time(next), store.Time(created), store.NullMillis(sent)
		out = append(out, it)
	}
	return out, rows.Err()
}

// Get returns one row of the tenant.
func (o *Outbox) Get(ctx context.Context, tenantID, id int64) (Item, error) {
	rows, err := o.db.R.QueryContext(ctx, `SELECT `+itemCols+` FROM outbox WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return Item{}, err
	}
	items, err := scanItems(rows)
	if err != nil {
		return Item{}, err
	}
	if len(items) == 0 {
		return Item{}, store.ErrNotFound
	}
	return items[0], nil
}

// Counts returns how many rows of the tenant are in each state.
func (o *Outbox) Counts(ctx context.Context, tenantID int64) (map[State]int, error) {
	rows, err := o.db.R.QueryContext(ctx, `SELECT state, COUNT(*) FROM outbox WHERE tenant_id = $1 GROUP BY state`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[State]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[State(s)] = n
	}
	return out, rows.Err()
}
