package loyalty

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Reward is something members buy with points.
type Reward struct {
	ID          int64
	TenantID    int64
	Name        string
	Description string
	Price       int64
	Stock       int64
	Active      bool
	CreatedAt   time.Time
}

func validateReward(r *Reward) error {
	r.Name, r.Description = textnorm.Line(r.Name), textnorm.Line(r.Description)
	switch {
	case r.Name == "" || !textnorm.Limit(r.Name, 60):
		return fmt.Errorf("%w: reward name must have 1–60 characters", store.ErrInvalid)
	case !textnorm.Limit(r.Description, 500):
		return fmt.Errorf("%w: description longer than 500 characters", store.ErrInvalid)
	case r.Price < 1 || r.Price > 1_000_000:
		return fmt.Errorf("%w: price must be 1–1,000,000 points", store.ErrInvalid)
	case r.Stock < 0 || r.Stock > 1_000_000:
		return fmt.Errorf("%w: stock must be 0–1,000,000", store.ErrInvalid)
	}
	return nil
}

// CreateReward adds a reward to the store.
func (s *Service) CreateReward(ctx context.Context, r Reward) (Reward, error) {
	if err := validateReward(&r); err != nil {
		return r, err
	}
	r.CreatedAt = time.Now().UTC()
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO rewards (tenant_id, name, description, price, stock, active, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, r.TenantID, r.Name, r.Description, r.Price, r.Stock, r.Active,
		store.Millis(r.CreatedAt)).Scan(&r.ID)
	return r, err
}

// UpdateReward changes a reward's name, price, stock or availability.
func (s *Service) UpdateReward(ctx context.Context, r Reward) error {
	if err := validateReward(&r); err != nil {
		return err
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE rewards SET name = $3, description = $4, price = $5, stock = $6, active = $7
		WHERE tenant_id = $1 AND id = $2`, r.TenantID, r.ID, r.Name, r.Description, r.Price, r.Stock, r.Active)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

const rewardCols = `id, tenant_id, name, description, price, stock, active, created_at`

func scanReward(sc interface{ Scan(...any) error }) (Reward, error) {
	var r Reward
	var created int64
	err := sc.Scan(&r.ID, &r.TenantID, &r.Name, &r.Description, &r.Price, &r.Stock, &r.Active, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.ErrNotFound
	}
	r.CreatedAt = store.Time(created)
	return r, err
}

// Reward returns one reward of the tenant.
func (s *Service) Reward(ctx context.Context, tenantID, id int64) (Reward, error) {
	return scanReward(s.db.R.QueryRowContext(ctx, `SELECT `+rewardCols+` FROM rewards WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// Rewards lists the tenant's rewards (only those on sale when activeOnly).
func (s *Service) Rewards(ctx context.Context, tenantID int64, activeOnly bool) ([]Reward, error) {
	q := `SELECT ` + rewardCols + ` FROM rewards WHERE tenant_id = $1`
	if activeOnly {
		q += ` AND active = true`
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY price, id`, tenantID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanReward)
}

// Redemption is a reward bought with points.
type Redemption struct {
	ID, TenantID, RewardID, MemberID int64
	Points                           int64
	At                               time.Time
	Ref                              string
	RewardName                       string
}

var errRepeat = errors.New("loyalty: repeated redemption")

// Redeem spends a member's points on a reward: one unit of stock and the
// price in points, both or neither. A repeated ref returns the first
// redemption without charging again.
//
// The conditional UPDATE of the reward's stock (… AND stock > 0) is what
// keeps stock exact under any number of racing redemptions. It comes last,
// just before the commit: on PostgreSQL it locks the reward's row, which
// every redemption of that reward needs, so the lock is held for one
// statement and the commit instead of the whole transaction
// (docs/benchmarks.md, "Redemption under contention"). A reward read as sold
// out or off sale fails at once, before any points move.
func (s *Service) Redeem(ctx context.Context, tenantID, memberID, rewardID int64, ref string) (Redemption, error) {
	if ref == "" || !textnorm.Limit(ref, 100) {
		return Redemption{}, fmt.Errorf("%w: redemption ref", store.ErrInvalid)
	}
	if red, err := s.redemptionByRef(ctx, s.db.R, tenantID, ref); err == nil {
		return sameRedemption(red, memberID, rewardID)
	}
	var red Redemption
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// Read through tx, never the pool: on PostgreSQL a transaction
		// waiting for a second connection can starve the pool.
		rw, err := scanReward(tx.QueryRowContext(ctx, `SELECT `+rewardCols+` FROM rewards WHERE tenant_id = $1 AND id = $2`, tenantID, rewardID))
		if err != nil {
			return err
		}
		if !rw.Active || rw.Stock == 0 {
			return ErrOutOfStock
		}
		now := time.Now().UTC()
		_, created, err := s.AwardTx(ctx, tx, Entry{TenantID: tenantID, MemberID: memberID, Delta: -rw.Price, Kind: KindRedemption,
			Ref: "redeem:" + ref, Note: rw.Name, At: now})
		if err != nil {
			return err
		}
		if !created {
			return errRepeat // a racing twin already paid
		}
		red = Redemption{TenantID: tenantID, RewardID: rewardID, MemberID: memberID, Points: rw.Price, At: now, Ref: ref, RewardName: rw.Name}
		if err := tx.QueryRowContext(ctx, `INSERT INTO redemptions (tenant_id, reward_id, member_id, points, at, ref)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, tenantID, rewardID, memberID, rw.Price, store.Millis(now), ref).Scan(&red.ID); err != nil {
			return fmt.Errorf("loyalty: redemption: %w", err)
		}
		if _, err := s.log.AppendTx(ctx, tx, &event.Event{TenantID: tenantID, Type: event.RewardRedeemed, Source: "loyalty",
			SourceID: "redeem:" + ref, At: now, MemberID: memberID,
			Data: event.MustData(map[string]any{"reward_id": rewardID, "reward": rw.Name, "points": rw.Price, "redemption_id": red.ID})}); err != nil {
			return err
		}
		return s.takeStock(ctx, tx, rw)
	})
	if errors.Is(err, errRepeat) || errors.Is(err, ErrOutOfStock) {
		// A twin of this ref may have committed meanwhile, maybe with the
		// last unit: answer as for a repeat.
		if first, ferr := s.redemptionByRef(ctx, s.db.R, tenantID, ref); ferr == nil {
			return sameRedemption(first, memberID, rewardID)
		} else if errors.Is(err, errRepeat) {
			return Redemption{}, fmt.Errorf("%w: points ref %q already used", store.ErrConflict, "redeem:"+ref)
		}
	}
	return red, err
}

// takeStock takes one unit of the reward rw, which must still be on sale
// at the price paid. On PostgreSQL a racing redemption that took the last
// unit makes the WHERE false once it commits: 0 rows, and tx rolls back.
func (s *Service) takeStock(ctx context.Context, tx *store.Tx, rw Reward) error {
	res, err := tx.ExecContext(ctx, `UPDATE rewards SET stock = stock - 1
		WHERE tenant_id = $1 AND id = $2 AND active = true AND stock > 0 AND price = $3`, rw.TenantID, rw.ID, rw.Price)
	if err != nil {
		return fmt.Errorf("loyalty: take stock: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var price int64
	if err := tx.QueryRowContext(ctx, `SELECT price FROM rewards WHERE tenant_id = $1 AND id = $2`, rw.TenantID, rw.ID).Scan(&price); err == nil && price != rw.Price {
		return fmt.Errorf("%w: the reward's price changed, try again", store.ErrConflict)
	}
	return ErrOutOfStock
}

// sameRedemption answers a repeated ref: the first redemption, unless the
// ref was used for another member or reward.
func sameRedemption(red Redemption, memberID, rewardID int64) (Redemption, error) {
	if red.MemberID != memberID || red.RewardID != rewardID {
		return Redemption{}, fmt.Errorf("%w: redemption ref already used", store.ErrConflict)
	}
	return red, nil
}

const redemptionSelect = `SELECT d.id, d.tenant_id, d.reward_id, d.member_id, d.points, d.at, d.ref, r.name
	FROM redemptions d JOIN rewards r ON r.id = d.reward_id AND r.tenant_id = d.tenant_id`

func scanRedemption(sc interface{ Scan(...any) error }) (Redemption, error) {
	var d Redemption
	var at int64
	err := sc.Scan(&d.ID, &d.TenantID, &d.RewardID, &d.MemberID, &d.Points, &at, &d.Ref, &d.RewardName)
	if errors.Is(err, sql.ErrNoRows) {
		return d, store.ErrNotFound
	}
	d.At = store.Time(at)
	return d, err
}

func (s *Service) redemptionByRef(ctx context.Context, q store.Querier, tenantID int64, ref string) (Redemption, error) {
	return scanRedemption(q.QueryRowContext(ctx, redemptionSelect+` WHERE d.tenant_id = $1 AND d.ref = $2`, tenantID, ref))
}

// Redemptions lists the tenant's latest redemptions.
func (s *Service) Redemptions(ctx context.Context, tenantID int64, limit int) ([]Redemption, error) {
	rows, err := s.db.R.QueryContext(ctx, redemptionSelect+` WHERE d.tenant_id = $1 ORDER BY d.id DESC LIMIT $2`, tenantID, pageSize(limit))
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanRedemption)
}
