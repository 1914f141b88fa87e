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

// Kind says why points moved.
type Kind string

const (
	KindCheckIn    Kind = "checkin"
	KindStreak     Kind = "streak"
	KindDiscussion Kind = "discussion"
	KindActivity   Kind = "activity"
	KindWelcome    Kind = "welcome"
	KindRedemption Kind = "redemption"
	KindAdjust     Kind = "adjust"
	KindRefund     Kind = "refund"
)

// earning kinds count towards leaderboards and all-time earned points.
var earning = map[Kind]bool{KindCheckIn: true, KindStreak: true, KindDiscussion: true, KindActivity: true, KindWelcome: true}

// kinds are all the kinds the ledger takes (its CHECK constraint).
var kinds = map[Kind]bool{KindCheckIn: true, KindStreak: true, KindDiscussion: true, KindActivity: true, KindWelcome: true,
	KindRedemption: true, KindAdjust: true, KindRefund: true}

// Errors of the ledger.
var (
	ErrInsufficientPoints = errors.New("loyalty: not enough points")
	ErrOutOfStock         = errors.New("loyalty: out of stock")
	ErrAlreadyCheckedIn   = errors.New("loyalty: already checked in today")
)

// Entry is one row of the ledger.
type Entry struct {
	ID           int64
	TenantID     int64
	MemberID     int64
	Delta        int64
	Kind         Kind
	Ref          string // idempotency key: the same ref is applied once
	GroupID      int64
	StaffID      int64
	Note         string
	At           time.Time
	BalanceAfter int64
}

// Service is the loyalty store.
type Service struct {
	db  *store.DB
	log *event.Log
}

// NewService returns the service.
func NewService(db *store.DB, log *event.Log) *Service { return &Service{db: db, log: log} }

// pageSize bounds a list: 50 when unset, at most 1000.
func pageSize(limit int) int {
	if limit <= 0 {
		return 50
	}
	return min(limit, 1000)
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// AwardTx applies e inside tx. A ref seen before returns the stored entry
// and false, changing nothing. A debit that would take the balance below
// zero fails with ErrInsufficientPoints; a member of another tenant (or
// none) with store.ErrNotFound.
//
// The member's balance row is locked first (FOR UPDATE on PostgreSQL; on
// SQLite the write transaction already is exclusive), so concurrent awards
// of one member apply one after the other and the balance read is exact.
// The ledger insert itself skips a ref that another member's award took
// meanwhile (ON CONFLICT DO NOTHING), so no unique violation aborts tx.
func (s *Service) AwardTx(ctx context.Context, tx *store.Tx, e Entry) (Entry, bool, error) {
	e.Note = textnorm.Line(e.Note)
	switch {
	case e.TenantID == 0 || e.MemberID == 0 || e.Ref == "":
		return e, false, fmt.Errorf("%w: points without tenant, member or ref", store.ErrInvalid)
	case e.Delta == 0:
		return e, false, fmt.Errorf("%w: zero points", store.ErrInvalid)
	case !kinds[e.Kind]:
		return e, false, fmt.Errorf("%w: unknown kind of points %q", store.ErrInvalid, e.Kind)
	case !textnorm.Limit(e.Ref, 200) || !textnorm.Limit(e.Note, 200):
		return e, false, fmt.Errorf("%w: ref or note longer than 200 characters", store.ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	balance, err := s.lockBalance(ctx, tx, e.TenantID, e.MemberID)
	if err != nil {
		return e, false, err
	}
	if old, err := entryByRef(ctx, tx, e.TenantID, e.Ref); err == nil {
		return old, false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return e, false, err
	}
	e.BalanceAfter = balance + e.Delta
	if e.BalanceAfter < 0 {
		return e, false, ErrInsufficientPoints
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO points_ledger (tenant_id, member_id, delta, kind, ref, group_id, staff_id, note, at, balance_after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, ref) DO NOTHING RETURNING id`,
		e.TenantID, e.MemberID, e.Delta, string(e.Kind), e.Ref, nullID(e.GroupID), nullID(e.StaffID), e.Note,
		store.Millis(e.At), e.BalanceAfter).Scan(&e.ID)
	if errors.Is(err, sql.ErrNoRows) { // the same ref, for another member, committed meanwhile
		old, err := entryByRef(ctx, tx, e.TenantID, e.Ref)
		return old, false, err
	}
	if err != nil {
		return e, false, fmt.Errorf("loyalty: ledger: %w", err)
	}
	var earned int64
	if e.Delta > 0 && earning[e.Kind] {
		earned = e.Delta
	}
	if _, err := tx.ExecContext(ctx, `UPDATE point_balances SET balance = $3, earned = earned + $4 WHERE tenant_id = $1 AND member_id = $2`,
		e.TenantID, e.MemberID, e.BalanceAfter, earned); err != nil {
		return e, false, fmt.Errorf("loyalty: update balance: %w", err)
	}
	_, err = s.log.AppendTx(ctx, tx, &event.Event{TenantID: e.TenantID, Type: event.PointsChanged, Source: "loyalty",
		SourceID: "points:" + e.Ref, At: e.At, MemberID: e.MemberID, GroupID: e.GroupID, StaffID: e.StaffID,
		Data: event.MustData(map[string]any{"delta": e.Delta, "kind": e.Kind, "balance": e.BalanceAfter, "note": e.Note})})
	return e, true, err
}

// lockBalance returns a member's balance with the row locked for the rest
// of tx, creating the row (at 0) on the member's first points. The row is
// only created for a member of the tenant: that is where a wrong tenant or
// member id stops.
func (s *Service) lockBalance(ctx context.Context, tx *store.Tx, tenantID, memberID int64) (int64, error) {
	q := `SELECT balance FROM point_balances WHERE tenant_id = $1 AND member_id = $2`
	if s.db.Dialect == store.Postgres {
		q += ` FOR UPDATE`
	}
	var balance int64
	err := tx.QueryRowContext(ctx, q, tenantID, memberID).Scan(&balance)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO point_balances (tenant_id, member_id, balance, earned)
			SELECT tenant_id, id, 0, 0 FROM members WHERE tenant_id = $1 AND id = $2
			ON CONFLICT (tenant_id, member_id) DO NOTHING`, tenantID, memberID); err != nil {
			return 0, fmt.Errorf("loyalty: balance row: %w", err)
		}
		err = tx.QueryRowContext(ctx, q, tenantID, memberID).Scan(&balance)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: member %d", store.ErrNotFound, memberID)
	}
	if err != nil {
		return 0, fmt.Errorf("loyalty: balance: %w", err)
	}
	return balance, nil
}

// Award is AwardTx in its own transaction.
func (s *Service) Award(ctx context.Context, e Entry) (Entry, bool, error) {
	var created bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		e, created, err = s.AwardTx(ctx, tx, e)
		return err
	})
	return e, created, err
}

// Adjust is a staff correction, with a reason.
func (s *Service) Adjust(ctx context.Context, tenantID, memberID, staffID, delta int64, note string) (Entry, error) {
	if textnorm.Blank(note) {
		return Entry{}, fmt.Errorf("%w: say why the points change", store.ErrInvalid)
	}
	e, _, err := s.Award(ctx, Entry{TenantID: tenantID, MemberID: memberID, StaffID: staffID, Delta: delta, Kind: KindAdjust,
		Ref: "adjust:" + randomRef(), Note: note})
	return e, err
}

const entryCols = `id, tenant_id, member_id, delta, kind, ref, group_id, staff_id, note, at, balance_after`

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var kind string
	var group, staff sql.NullInt64
	var at int64
	err := sc.Scan(&e.ID, &e.TenantID, &e.MemberID, &e.Delta, &kind, &e.Ref, &group, &staff, &e.Note, &at, &e.BalanceAfter)
	if errors.Is(err, sql.ErrNoRows) {
		return e, store.ErrNotFound
	}
	e.Kind, e.GroupID, e.StaffID, e.At = Kind(kind), group.Int64, staff.Int64, store.Time(at)
	return e, err
}

func entryByRef(ctx context.Context, q store.Querier, tenantID int64, ref string) (Entry, error) {
	return scanEntry(q.QueryRowContext(ctx, `SELECT `+entryCols+` FROM points_ledger WHERE tenant_id = $1 AND ref = $2`, tenantID, ref))
}

// Balance is a member's points (0 when they have none yet).
func (s *Service) Balance(ctx context.Context, tenantID, memberID int64) (int64, error) {
	var b int64
	err := s.db.R.QueryRowContext(ctx, `SELECT balance FROM point_balances WHERE tenant_id = $1 AND member_id = $2`, tenantID, memberID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return b, err
}

// Ledger lists a member's entries, newest first.
func (s *Service) Ledger(ctx context.Context, tenantID, memberID int64, limit int) ([]Entry, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+entryCols+` FROM points_ledger WHERE tenant_id = $1 AND member_id = $2
		ORDER BY id DESC LIMIT $3`, tenantID, memberID, pageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("loyalty: ledger: %w", err)
	}
	return store.Collect(rows, scanEntry)
}
