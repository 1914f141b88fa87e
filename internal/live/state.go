package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// Next decides the transition of a live in state from to state to: move is
// true when it changes state; false with a nil error when the live is
// already there (starting a live twice, ending it twice: a retry or a
// double click, which must not fire the alerts or the recap again).
//
//	to warming: from scheduled
//	to live:    from scheduled or warming
//	to ended:   from live
//
// An ended live never changes again (ErrEnded); the other refusals wrap
// ErrInvalid.
func Next(from, to State) (move bool, err error) {
	if from == to && (to == StateWarming || to == StateLive || to == StateEnded) {
		return false, nil
	}
	if from == StateEnded {
		return false, ErrEnded
	}
	switch {
	case to == StateWarming && from == StateScheduled,
		to == StateLive && (from == StateScheduled || from == StateWarming),
		to == StateEnded && from == StateLive:
		return true, nil
	case to == StateWarming && from == StateLive:
		return false, fmt.Errorf("%w: the live is already on", ErrInvalid)
	case to == StateEnded:
		return false, fmt.Errorf("%w: the live has not started", ErrInvalid)
	}
	return false, fmt.Errorf("%w: a live cannot go from %s to %s", ErrInvalid, from, to)
}

// Warm opens the room before the stream: scheduled → warming.
func (s *Service) Warm(ctx context.Context, tenantID, id int64) (Live, bool, error) {
	return s.move(ctx, tenantID, id, StateWarming)
}

// Start puts the live on air. started is false when it already was: the
// caller fires the live-start alerts only when it is true (the alert keys
// make a repeat harmless anyway).
func (s *Service) Start(ctx context.Context, tenantID, id int64) (l Live, started bool, err error) {
	return s.move(ctx, tenantID, id, StateLive)
}

// StartTx is Start inside tx at the given time, so the caller can enqueue
// the first alerts in the same transaction.
func (s *Service) StartTx(ctx context.Context, tx *store.Tx, tenantID, id int64, at time.Time) (Live, bool, error) {
	return s.moveTx(ctx, tx, tenantID, id, StateLive, at)
}

// End takes the live off air. ended is false when it already was; the
// caller posts the recap only when it is true.
func (s *Service) End(ctx context.Context, tenantID, id int64) (l Live, ended bool, err error) {
	return s.move(ctx, tenantID, id, StateEnded)
}

// EndTx is End inside tx at the given time, so the caller can enqueue the
// recap in the same transaction.
func (s *Service) EndTx(ctx context.Context, tx *store.Tx, tenantID, id int64, at time.Time) (Live, bool, error) {
	return s.moveTx(ctx, tx, tenantID, id, StateEnded, at)
}

func (s *Service) move(ctx context.Context, tenantID, id int64, to State) (l Live, moved bool, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		l, moved, err = s.moveTx(ctx, tx, tenantID, id, to, s.now().UTC())
		return err
	})
	return l, moved, err
}

// moveTx reads the state, decides with Next and moves with an UPDATE
// conditional on the state it read. On PostgreSQL a racing transition that
// committed first makes that UPDATE match nothing; the state is then read
// again and decided again (a second Start sees "live": nothing to do).
func (s *Service) moveTx(ctx context.Context, tx *store.Tx, tenantID, id int64, to State, at time.Time) (Live, bool, error) {
	for range 3 {
		l, err := getWith(ctx, tx, tenantID, id)
		if err != nil {
			return l, false, err
		}
		move, err := Next(l.State, to)
		if err != nil {
			return l, false, fmt.Errorf("live %d: %w", id, err)
		}
		if !move {
			return l, false, nil
		}
		ms := store.Millis(at)
		res, err := tx.ExecContext(ctx, `UPDATE lives SET state = $3,
			started_at = CASE WHEN $3 = 'live' THEN $5 ELSE started_at END,
			ended_at = CASE WHEN $3 = 'ended' THEN $5 ELSE ended_at END
			WHERE tenant_id = $1 AND id = $2 AND state = $4`, tenantID, id, string(to), string(l.State), ms)
		if err != nil {
			return l, false, fmt.Errorf("live %d: %s: %w", id, to, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		l.State = to
		var typ event.Type
		switch to {
		case StateLive:
			l.StartedAt, typ = store.Time(ms), event.LiveStarted
		case StateEnded:
			l.EndedAt, typ = store.Time(ms), event.LiveEnded
		default:
			return l, true, nil // warming up is not an event of the log
		}
		e := event.Event{TenantID: tenantID, Type: typ, Source: event.SourceLive, SourceID: fmt.Sprintf("%s:%d", to, id), At: at,
			Data: event.MustData(event.LiveData{LiveID: id})}
		if _, err := s.log.AppendTx(ctx, tx, &e); err != nil {
			return l, false, err
		}
		return l, true, nil
	}
	return Live{}, false, fmt.Errorf("live %d: %w: the live changed meanwhile, try again", id, store.ErrConflict)
}

// SwitchProduct puts a product of the live's list on show; only while the
// live is on. changed is false when it already was on show (no event, no
// second announcement).
func (s *Service) SwitchProduct(ctx context.Context, tenantID, liveID, productID int64) (p Product, changed bool, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, changed, err = s.SwitchProductTx(ctx, tx, tenantID, liveID, productID, s.now().UTC())
		return err
	})
	return p, changed, err
}

// SwitchProductTx is SwitchProduct inside tx, so the caller can enqueue the
// groups' "now live" message in the same transaction.
func (s *Service) SwitchProductTx(ctx context.Context, tx *store.Tx, tenantID, liveID, productID int64, at time.Time) (Product, bool, error) {
	l, err := get(ctx, tx, tenantID, liveID)
	if err != nil {
		return Product{}, false, err
	}
	if l.State != StateLive {
		return Product{}, false, fmt.Errorf("%w: products are switched only while the live is on (it is %s)", ErrInvalid, l.State)
	}
	p, err := product(ctx, tx, tenantID, liveID, productID)
	if err != nil {
		return p, false, notOnList(err, productID)
	}
	if l.CurrentProductID == p.ID {
		return p, false, nil
	}
	rev, err := s.bump(ctx, tx, tenantID, liveID, productID)
	if err != nil {
		return p, false, err
	}
	e := event.Event{TenantID: tenantID, Type: event.ProductSwitched, Source: event.SourceLive, SourceID: fmt.Sprintf("rev:%d:%d", liveID, rev),
		At: at, Data: event.MustData(event.LiveData{LiveID: liveID, ProductID: p.ID, Stock: &p.Stock})}
	_, err = s.log.AppendTx(ctx, tx, &e)
	return p, err == nil, err
}

// bump counts an in-live change of a live that is on, puts productID on
// show unless it is 0, and returns the change's number, which names its
// event.
func (s *Service) bump(ctx context.Context, tx *store.Tx, tenantID, liveID, productID int64) (int64, error) {
	var rev int64
	err := tx.QueryRowContext(ctx, `UPDATE lives SET revision = revision + 1,
		current_product_id = CASE WHEN $3 = 0 THEN current_product_id ELSE $3 END
		WHERE tenant_id = $1 AND id = $2 AND state = 'live' RETURNING revision`, tenantID, liveID, productID).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: the live is no longer on", ErrInvalid)
	}
	return rev, err
}

// notOnList turns "no such product of this live" into the operator's error.
func notOnList(err error, productID int64) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: product %d is not on this live's list", ErrInvalid, productID)
	}
	return err
}

// UpdateStock sets a product's stock ("only 12 left"). Before the live it
// prepares the list; while it is on it is also an event, which the live
// room and the groups show. An ended live's list is its record and stays.
func (s *Service) UpdateStock(ctx context.Context, tenantID, liveID, productID, stock int64) (Product, error) {
	if stock < 0 || stock > MaxStock {
		return Product{}, fmt.Errorf("%w: stock must be 0 to %d", ErrInvalid, MaxStock)
	}
	var p Product
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		l, err := get(ctx, tx, tenantID, liveID)
		if err != nil {
			return err
		}
		if l.State == StateEnded {
			return fmt.Errorf("live %d: %w", liveID, ErrEnded)
		}
		res, err := tx.ExecContext(ctx, `UPDATE live_products SET stock = $4 WHERE tenant_id = $1 AND live_id = $2 AND id = $3`,
			tenantID, liveID, productID, stock)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notOnList(store.ErrNotFound, productID)
		}
		if p, err = product(ctx, tx, tenantID, liveID, productID); err != nil {
			return err
		}
		if l.State != StateLive {
			return nil
		}
		rev, err := s.bump(ctx, tx, tenantID, liveID, 0)
		if err != nil {
			return err
		}
		e := event.Event{TenantID: tenantID, Type: event.LiveStockUpdated, Source: event.SourceLive, SourceID: fmt.Sprintf("rev:%d:%d", liveID, rev),
			At: s.now().UTC(), Data: event.MustData(event.LiveData{LiveID: liveID, ProductID: productID, Stock: &p.Stock})}
		_, err = s.log.AppendTx(ctx, tx, &e)
		return err
	})
	return p, err
}

// RescheduleTx moves a live that has not started to a new time, inside tx
// (the caller moves the live's pending campaign steps in the same
// transaction). A live already on air or ended cannot move.
func (s *Service) RescheduleTx(ctx context.Context, tx *store.Tx, tenantID, id int64, at time.Time) (Live, error) {
	if at.IsZero() {
		return Live{}, fmt.Errorf("%w: the new time is missing", ErrInvalid)
	}
	res, err := tx.ExecContext(ctx, `UPDATE lives SET scheduled_at = $3
		WHERE tenant_id = $1 AND id = $2 AND state IN ('scheduled','warming')`, tenantID, id, store.Millis(at))
	if err != nil {
		return Live{}, fmt.Errorf("live %d: reschedule: %w", id, err)
	}
	l, err := getWith(ctx, tx, tenantID, id)
	if err != nil {
		return l, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return l, fmt.Errorf("live %d: %w: a live that is %s cannot move", id, ErrInvalid, l.State)
	}
	return l, nil
}
