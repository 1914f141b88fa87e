package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
	"github.com/liveloop/liveloop/internal/track"
)

// Deps are what the runner reads and writes through.
type Deps struct {
	DB        *store.DB
	Log       *event.Log
	Store     *Store
	Tenants   *tenant.Service
	Members   *member.Service
	Community *community.Service
	Loyalty   *loyalty.Service
	Outbox    *outbox.Outbox
	Polls     *poll.Service
	Lives     *live.Service
	Sales     *sale.Service // flash sales, chain orders, presales (nil: none)
	Catalog   *i18n.Catalog
	Logger    *slog.Logger
	PublicURL string // scheme://host, for links in messages (the wishlist form)
	// Track makes the links of the live's posts tracked links (nil: they
	// go as they are).
	Track *track.Service
	// Enforce carries a mute or removal out on the group's platform (nil:
	// the built-in web community, where liveloop's records are the rule).
	Enforce func(ctx context.Context, g community.Group, memberID int64, action string, until time.Time)
	// OnJoin, if set, is told of every member_joined event inside the
	// batch's transaction (the campaign engine enrolls the member in the
	// new-member journeys): a failure rolls the batch back and it is
	// retried, so the journey is scheduled exactly when the join is.
	OnJoin func(ctx context.Context, tx *store.Tx, e event.Event) error
	// OnLive, if set, is told inside the transaction that put a live on
	// air (ended false) or ended it (the campaign engine cancels stale
	// warm-up steps and arms the post-live playbooks).
	OnLive func(ctx context.Context, tx *store.Tx, tenantID, liveID int64, ended bool) error
}

// Runner applies the rules to the event log.
type Runner struct {
	Deps
	wake  chan struct{}
	Poll  time.Duration
	Batch int
	nowFn func() time.Time

	lastRemind time.Time // when the wishlist reminders were last looked at
}

// New returns a runner.
func New(d Deps) *Runner {
	return &Runner{Deps: d, wake: make(chan struct{}, 1), Poll: time.Second, Batch: 200, nowFn: time.Now}
}

const cursorName = "bot"

// Init places the cursor (at the end of the log on a new installation)
// before anything can append: call it before serving, so the first events
// of a fresh install are not skipped by a runner that started late.
func (r *Runner) Init(ctx context.Context) error {
	_, err := r.cursor(ctx)
	return err
}

// Wake makes the runner look at the log now (the bus calls it).
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run reads the log until ctx ends. On PostgreSQL one node runs it at a
// time (advisory lock), so each event is acted on once.
func (r *Runner) Run(ctx context.Context) error {
	release, err := store.Lead(ctx, r.DB, leadKey, r.Poll)
	if err != nil || release == nil {
		return err
	}
	defer release()
	unsubscribe := r.Log.Bus().Subscribe(func(e event.Event) {
		if e.Type == event.MemberJoined || e.Type == event.Message {
			r.Wake()
		}
	})
	defer unsubscribe()
	t := time.NewTicker(r.Poll)
	defer t.Stop()
	for {
		n, err := r.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.Logger.Error("bot: pass failed", "err", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if n == r.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.wake:
		}
	}
}

const leadKey = 7_270_119

// RunOnce processes the events after the cursor and returns how many it
// read. They are acted on in one transaction with the cursor's advance
// past them all: a transaction per event would cost a commit (an fsync on
// PostgreSQL) and a dozen reads per event. If that fails, the batch is
// rolled back and redone one event per transaction, so that one failing
// event is skipped without holding up or losing the others.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	cursor, err := r.cursor(ctx)
	if err != nil {
		return 0, err
	}
	evs, err := r.Log.After(ctx, cursor, r.Batch, event.MemberJoined, event.Message)
	if err != nil {
		return 0, err
	}
	if err := r.liveAlerts(ctx); err != nil && ctx.Err() == nil {
		r.Logger.Error("bot: live alerts", "err", err)
	}
	if err := r.closeDue(ctx); err != nil && ctx.Err() == nil {
		r.Logger.Error("bot: closing due polls", "err", err)
	}
	if err := r.salesPass(ctx); err != nil && ctx.Err() == nil {
		r.Logger.Error("bot: sales", "err", err)
	}
	if now := r.nowFn(); now.Sub(r.lastRemind) >= 30*time.Second {
		r.lastRemind = now
		if err := r.remindWishes(ctx); err != nil && ctx.Err() == nil {
			r.Logger.Error("bot: wish reminders", "err", err)
		}
	}
	if len(evs) == 0 {
		return 0, nil
	}
	if len(evs) > 1 {
		err := r.process(ctx, evs)
		if err == nil {
			return len(evs), nil
		}
		if ctx.Err() != nil {
			return 0, nil
		}
		r.Logger.Warn("bot: batch failed; acting on its events one at a time", "events", len(evs), "err", err)
	}
	for i, e := range evs {
		if err := r.process(ctx, evs[i:i+1]); err != nil {
			if ctx.Err() != nil {
				return 0, nil
			}
			// A failing event must not stop the routine of every group:
			// log it, skip it (the cursor moves on), and carry on.
			r.Logger.Error("bot: event failed; skipped", "event", e.ID, "tenant", e.TenantID, "type", e.Type, "err", err)
			if err := r.advance(ctx, nil, e.ID); err != nil {
				return 0, err
			}
		}
	}
	return len(evs), nil
}

func (r *Runner) cursor(ctx context.Context) (int64, error) {
	var id int64
	err := r.DB.W.QueryRowContext(ctx, `SELECT last_event_id FROM bot_cursor WHERE name = $1`, cursorName).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// A new installation starts at the end of the log: the rules act
		// on what happens from now on, not on imported or demo history.
		if err := r.DB.W.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&id); err != nil {
			return 0, err
		}
		_, err = r.DB.W.ExecContext(ctx, `INSERT INTO bot_cursor (name, last_event_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, cursorName, id)
		return id, err
	}
	return id, err
}

func (r *Runner) advance(ctx context.Context, tx *store.Tx, id int64) error {
	q := store.Querier(r.DB.W)
	if tx != nil {
		q = tx
	}
	_, err := q.ExecContext(ctx, `UPDATE bot_cursor SET last_event_id = $2 WHERE name = $1 AND last_event_id < $2`, cursorName, id)
	if err != nil {
		return fmt.Errorf("bot: advance cursor: %w", err)
	}
	return nil
}
