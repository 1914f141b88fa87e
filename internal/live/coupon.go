package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Limits of a coupon drop.
const (
	MaxDropTitleRunes = 60
	MaxDropQuantity   = 100_000
	MaxDropWindow     = 24 * time.Hour
)

// Errors of a claim; they wrap store.ErrConflict, with the message after
// the last ": " for the member.
var (
	ErrDropNotOpen    = fmt.Errorf("live: %w: the coupon drop is not open yet", store.ErrConflict)
	ErrDropClosed     = fmt.Errorf("live: %w: the coupon drop has closed", store.ErrConflict)
	ErrDropGone       = fmt.Errorf("live: %w: all coupons of the drop are claimed", store.ErrConflict)
	ErrAlreadyClaimed = fmt.Errorf("live: %w: you already claimed this coupon", store.ErrConflict)
)

// Drop is a limited number of coupons a live hands out for a while; each
// member claims one at most. (The commerce issue makes the coupon redeemable;
// here the claim is the record.)
type Drop struct {
	ID        int64
	TenantID  int64
	LiveID    int64
	Title     string
	Quantity  int64
	Claimed   int64
	OpensAt   time.Time
	ClosesAt  time.Time
	CreatedAt time.Time
}

// Left is how many coupons remain.
func (d Drop) Left() int64 { return max(d.Quantity-d.Claimed, 0) }

// OpenAt reports whether claims are taken at t.
func (d Drop) OpenAt(t time.Time) bool { return !t.Before(d.OpensAt) && t.Before(d.ClosesAt) }

// Claim is a member's coupon of a drop; No is its number, 1..Quantity.
type Claim struct {
	DropID   int64
	MemberID int64
	No       int64
	At       time.Time
}

// ValidateDrop checks a drop as the host set it up, at now.
func ValidateDrop(d Drop, now time.Time) error {
	var problems []string
	switch t := strings.TrimSpace(d.Title); {
	case t == "":
		problems = append(problems, "coupon title is empty")
	case !textnorm.Limit(t, MaxDropTitleRunes):
		problems = append(problems, fmt.Sprintf("coupon title is longer than %d characters", MaxDropTitleRunes))
	}
	if d.Quantity < 1 || d.Quantity > MaxDropQuantity {
		problems = append(problems, fmt.Sprintf("quantity must be 1 to %d", MaxDropQuantity))
	}
	switch {
	case d.OpensAt.IsZero() || d.ClosesAt.IsZero():
		problems = append(problems, "opening and closing times are not set")
	case !d.ClosesAt.After(d.OpensAt) || !d.ClosesAt.After(now):
		problems = append(problems, "closing time must be after the opening and in the future")
	case d.ClosesAt.Sub(d.OpensAt) > MaxDropWindow:
		problems = append(problems, "a drop is open for at most 24 hours")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// CreateDrop stores a coupon drop of a live that has not ended. A zero
// OpensAt opens it now.
func (s *Service) CreateDrop(ctx context.Context, d Drop) (Drop, error) {
	now := s.now().UTC()
	d.Title, d.Claimed, d.CreatedAt = textnorm.Line(d.Title), 0, now
	if d.OpensAt.IsZero() {
		d.OpensAt = now
	}
	if err := ValidateDrop(d, now); err != nil {
		return d, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		l, err := get(ctx, tx, d.TenantID, d.LiveID)
		if err != nil {
			return err
		}
		if l.State == StateEnded {
			return fmt.Errorf("live %d: %w", l.ID, ErrEnded)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO live_coupon_drops (tenant_id, live_id, title, quantity, opens_at, closes_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, d.TenantID, d.LiveID, d.Title, d.Quantity,
			store.Millis(d.OpensAt), store.Millis(d.ClosesAt), store.Millis(now)).Scan(&d.ID)
	})
	return d, err
}

const dropCols = `id, tenant_id, live_id, title, quantity, claimed, opens_at, closes_at, created_at`

func scanDrop(r interface{ Scan(...any) error }) (Drop, error) {
	var d Drop
	var opens, closes, created int64
	err := r.Scan(&d.ID, &d.TenantID, &d.LiveID, &d.Title, &d.Quantity, &d.Claimed, &opens, &closes, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return d, store.ErrNotFound
	}
	d.OpensAt, d.ClosesAt, d.CreatedAt = store.Time(opens), store.Time(closes), store.Time(created)
	return d, err
}

// Drop returns one coupon drop of the tenant.
func (s *Service) Drop(ctx context.Context, tenantID, id int64) (Drop, error) {
	return getDrop(ctx, s.db.R, tenantID, id)
}

func getDrop(ctx context.Context, q store.Querier, tenantID, id int64) (Drop, error) {
	return scanDrop(q.QueryRowContext(ctx, `SELECT `+dropCols+` FROM live_coupon_drops WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// Drops returns a live's coupon drops, newest first.
func (s *Service) Drops(ctx context.Context, tenantID, liveID int64) ([]Drop, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+dropCols+` FROM live_coupon_drops WHERE tenant_id = $1 AND live_id = $2 ORDER BY id DESC`,
		tenantID, liveID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanDrop)
}

var errRepeat = errors.New("live: repeated claim")

// Claim gives member one coupon of the drop, atomically and within its
// quantity: any number of racing claims hand out exactly Quantity coupons,
// at most one per member. A member who already has one gets it back with
// ErrAlreadyClaimed (also once the drop is gone or closed).
//
// In one transaction: the coupon_claimed event goes first, under the
// source id claim:<drop>:<member>, so a member's second claim stops at its
// key before touching the drop (on PostgreSQL it waits for a racing twin
// and then finds its row); then the conditional increment
// (… WHERE claimed < quantity, within the window) takes a number, last but
// for the claim's insert, so the drop's hot row is locked for two
// statements and the commit, as loyalty's redemption does. The claim's
// keys, (drop, member) and (drop, number), hold the invariant in the
// database even against a caller that skips this function.
func (s *Service) Claim(ctx context.Context, tenantID, dropID, memberID int64) (Claim, error) {
	if memberID <= 0 {
		return Claim{}, fmt.Errorf("%w: identify yourself to claim a coupon", ErrInvalid)
	}
	var c Claim
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// Read through tx, never the pool: on PostgreSQL a transaction
		// waiting for a second connection can starve the pool.
		d, err := getDrop(ctx, tx, tenantID, dropID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if err := claimable(d, now); err != nil {
			return err
		}
		if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, memberID); err != nil || !ok {
			return orInvalid(err, "member %d is not one of yours", memberID)
		}
		e := event.Event{TenantID: tenantID, Type: event.CouponClaimed, Source: event.SourceLive,
			SourceID: fmt.Sprintf("claim:%d:%d", dropID, memberID), At: now, MemberID: memberID,
			Data: event.MustData(event.LiveData{LiveID: d.LiveID, DropID: dropID})}
		inserted, err := s.log.AppendTx(ctx, tx, &e)
		if err != nil {
			return err
		}
		if !inserted {
			return errRepeat
		}
		c = Claim{DropID: dropID, MemberID: memberID, At: now}
		err = tx.QueryRowContext(ctx, `UPDATE live_coupon_drops SET claimed = claimed + 1
			WHERE tenant_id = $1 AND id = $2 AND claimed < quantity AND opens_at <= $3 AND closes_at > $3
			RETURNING claimed`, tenantID, dropID, store.Millis(now)).Scan(&c.No)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrDropGone // a racing claim took the last one (the window was checked at this now)
		}
		if err != nil {
			return fmt.Errorf("live: claim drop %d: %w", dropID, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO live_coupon_claims (tenant_id, drop_id, member_id, claim_no, at) VALUES ($1, $2, $3, $4, $5)`,
			tenantID, dropID, memberID, c.No, store.Millis(now))
		return err
	})
	switch {
	case errors.Is(err, errRepeat) || store.IsUniqueViolation(err):
		first, ferr := s.claimOf(ctx, tenantID, dropID, memberID)
		if ferr != nil {
			return Claim{}, ferr
		}
		return first, ErrAlreadyClaimed
	case errors.Is(err, ErrDropGone) || errors.Is(err, ErrDropClosed):
		// A member who has a coupon is told so rather than that none are left.
		if first, ferr := s.claimOf(ctx, tenantID, dropID, memberID); ferr == nil {
			return first, ErrAlreadyClaimed
		}
	}
	return c, err
}

// claimable says why d takes no claim at now, if it does not.
func claimable(d Drop, now time.Time) error {
	switch {
	case now.Before(d.OpensAt):
		return ErrDropNotOpen
	case !now.Before(d.ClosesAt):
		return ErrDropClosed
	case d.Claimed >= d.Quantity:
		return ErrDropGone
	}
	return nil
}

func (s *Service) claimOf(ctx context.Context, tenantID, dropID, memberID int64) (Claim, error) {
	c := Claim{DropID: dropID, MemberID: memberID}
	var at int64
	err := s.db.R.QueryRowContext(ctx, `SELECT claim_no, at FROM live_coupon_claims WHERE tenant_id = $1 AND drop_id = $2 AND member_id = $3`,
		tenantID, dropID, memberID).Scan(&c.No, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, store.ErrNotFound
	}
	c.At = store.Time(at)
	return c, err
}

// Claims returns a drop's claims in the order they were taken.
func (s *Service) Claims(ctx context.Context, tenantID, dropID int64) ([]Claim, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT drop_id, member_id, claim_no, at FROM live_coupon_claims
		WHERE tenant_id = $1 AND drop_id = $2 ORDER BY claim_no`, tenantID, dropID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Claim, error) {
		var c Claim
		var at int64
		err := r.Scan(&c.DropID, &c.MemberID, &c.No, &at)
		c.At = store.Time(at)
		return c, err
	})
}
