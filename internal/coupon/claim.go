package coupon

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// windowRefusal says why b takes no claim at now, if it does not (the
// batch's own state: disabled, not open, closed).
func windowRefusal(b Batch, now time.Time) error {
	switch {
	case !b.DisabledAt.IsZero():
		return ErrDisabled
	case now.Before(b.OpensAt):
		return ErrNotOpen
	case !b.ClosesAt.IsZero() && !now.Before(b.ClosesAt):
		return ErrClosed
	}
	return nil
}

// audienceRefusal checks every condition of b's audience for the member,
// and names the first that fails.
func (s *Service) audienceRefusal(ctx context.Context, q store.Querier, b Batch, memberID int64, now time.Time) error {
	a := b.Audience
	if a.GroupID != 0 {
		in, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3
			AND left_at IS NULL AND removed_at IS NULL`, b.TenantID, a.GroupID, memberID)
		if err != nil {
			return err
		}
		if !in {
			return refuse("audience_group", "this coupon is for the members of one group")
		}
	}
	if a.MinTierRank > 0 {
		if s.TierRank == nil {
			return refuse("audience_tier", "this coupon is for members of a tier")
		}
		rank, err := s.TierRank(ctx, q, b.TenantID, memberID)
		if err != nil {
			return err
		}
		if rank < a.MinTierRank {
			return refuse("audience_tier", "this coupon is for members of a higher tier")
		}
	}
	if a.Segment != nil && !a.Segment.Empty() {
		in, err := campaign.MemberIn(ctx, q, b.TenantID, memberID, *a.Segment, now)
		if err != nil {
			return err
		}
		if !in {
			return refuse("audience_segment", "this coupon is for a chosen set of members")
		}
	}
	if a.LiveID != 0 {
		watched, err := store.Exists(ctx, q, `SELECT
			(SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND member_id = $2 AND type = $4 AND source_id LIKE $5)
			+ (SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND member_id = $2 AND type = $6 AND source_id = $7)
			+ (SELECT COUNT(*) FROM live_coupon_claims c JOIN live_coupon_drops d ON d.tenant_id = c.tenant_id AND d.id = c.drop_id
				WHERE c.tenant_id = $1 AND c.member_id = $2 AND d.live_id = $3)`,
			b.TenantID, memberID, a.LiveID, string(event.LiveComment), fmt.Sprintf("l%d:%%", a.LiveID),
			string(event.LiveMemberLiked), fmt.Sprintf("liked:%d:%d", a.LiveID, memberID))
		if err != nil {
			return err
		}
		if !watched {
			return refuse("audience_live", "this coupon is for the viewers who took part in a live")
		}
	}
	if a.NewWithinDays > 0 {
		since := store.Millis(now.AddDate(0, 0, -a.NewWithinDays))
		isNew, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND id = $2 AND created_at >= $3`,
			b.TenantID, memberID, since)
		if err != nil {
			return err
		}
		if !isNew {
			return refuse("audience_new", "this coupon is for members who joined in the last %d days", a.NewWithinDays)
		}
	}
	return nil
}

func held(ctx context.Context, q store.Querier, tenantID, batchID, memberID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT held FROM coupon_holders WHERE tenant_id = $1 AND batch_id = $2 AND member_id = $3`,
		tenantID, batchID, memberID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

func hasFree(ctx context.Context, q store.Querier, tenantID, batchID int64) (bool, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM coupon_codes WHERE batch_id = $1 AND tenant_id = $2 AND member_id = 0 LIMIT 1`,
		batchID, tenantID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Claim hands the member one code of the batch: within the claim window,
// to the audience, within the per-member limit and the stock, however
// many claims race.
//
// Everything that can refuse without writing is read first (the window,
// the limit, the stock, the audience), so a sold-out batch answers from
// the read pool. Then one transaction: the member's holder row is counted
// up only while held < per_member (a conditional upsert: a member's own
// racing claims queue on that row; a claim racing the batch's closing by
// a moment may still be served), a free code is taken (on PostgreSQL
// with FOR UPDATE SKIP LOCKED, so claims by different members take
// different rows instead of queueing on a counter) and coupon_issued is
// appended. No row, no code: the stock cannot be exceeded.
//
// The transaction is shared: claims arriving together are group-committed
// (store.DB.InGroupTx), each in its own savepoint, so a refused claim
// (over the limit, sold out) is rolled back alone and a thousand members
// claiming at once pay for a few commits, not a thousand.
func (s *Service) Claim(ctx context.Context, tenantID, batchID, memberID int64) (Code, error) {
	now := s.now().UTC()
	b, err := s.claimable(ctx, tenantID, batchID, memberID, now)
	if err != nil {
		return Code{}, err
	}
	var c Code
	err = s.db.InGroupTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `INSERT INTO coupon_holders (tenant_id, batch_id, member_id, held) VALUES ($1, $2, $3, 1)
			ON CONFLICT (batch_id, member_id) DO UPDATE SET held = coupon_holders.held + 1 WHERE coupon_holders.held < $4
			RETURNING held`, tenantID, batchID, memberID, b.PerMember).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLimit
		}
		if err != nil {
			return fmt.Errorf("coupon: claim batch %d: %w", batchID, err)
		}
		c, err = s.take(ctx, tx, b, memberID, fmt.Sprintf("claim:%d:%d", memberID, n), now)
		return err
	})
	return c, err
}

// claimable is the read-only part of a claim: one statement reads the
// batch, whether the member is the tenant's, what they hold and whether a
// code is left; then the audience.
func (s *Service) claimable(ctx context.Context, tenantID, batchID, memberID int64, now time.Time) (Batch, error) {
	if memberID <= 0 {
		return Batch{}, fmt.Errorf("%w: identify yourself to claim a coupon", store.ErrInvalid)
	}
	var isMember, n, free int
	b, err := scanBatch(s.db.ReadRow(ctx, `SELECT `+batchCols+`,
		(SELECT COUNT(*) FROM members m WHERE m.tenant_id = b.tenant_id AND m.id = $3 AND m.merged_into IS NULL),
		COALESCE((SELECT h.held FROM coupon_holders h WHERE h.tenant_id = b.tenant_id AND h.batch_id = b.id AND h.member_id = $3), 0),
		(SELECT COUNT(*) FROM (SELECT 1 FROM coupon_codes c WHERE c.batch_id = b.id AND c.tenant_id = b.tenant_id AND c.member_id = 0 LIMIT 1) x)
		FROM coupon_batches b WHERE b.tenant_id = $1 AND b.id = $2`, tenantID, batchID, memberID), &isMember, &n, &free)
	switch {
	case err != nil:
		return b, err
	case isMember == 0:
		return b, fmt.Errorf("%w: member %d is not one of yours", store.ErrInvalid, memberID)
	}
	if err := windowRefusal(b, now); err != nil {
		return b, err
	}
	if n >= b.PerMember {
		return b, ErrLimit
	}
	if free == 0 {
		return b, ErrSoldOut
	}
	return b, s.audienceRefusal(ctx, s.db.R, b, memberID, now)
}

// take gives the member a free code of b under ref, with its validity,
// and appends coupon_issued; ErrSoldOut when none is left.
func (s *Service) take(ctx context.Context, tx *store.Tx, b Batch, memberID int64, ref string, now time.Time) (Code, error) {
	from, until := b.ValidFrom, b.ValidUntil
	if b.ValidDays > 0 {
		from, until = now, now.AddDate(0, 0, b.ValidDays)
	}
	takeSQL := `UPDATE coupon_codes SET member_id = $3, ref = $4, claimed_at = $5, valid_from = $6, valid_until = $7
		WHERE id = (SELECT id FROM coupon_codes WHERE batch_id = $2 AND tenant_id = $1 AND member_id = 0 ORDER BY id LIMIT 1%s)
		RETURNING ` + codeColsBare
	args := []any{b.TenantID, b.ID, memberID, ref, store.Millis(now), store.Millis(from), store.Millis(until)}
	locks := []string{""}
	if s.db.Dialect == store.Postgres {
		// Skip the rows racing claims hold; if that finds none, wait for
		// them (a claim that rolls back frees its row), so "sold out" is
		// only ever said of a batch with no code left.
		locks = []string{" FOR UPDATE SKIP LOCKED", " FOR UPDATE"}
	}
	var c Code
	var err error
	for _, lock := range locks {
		c, err = scanCode(tx.QueryRowContext(ctx, fmt.Sprintf(takeSQL, lock), args...))
		if !errors.Is(err, store.ErrNotFound) {
			break
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return c, ErrSoldOut
	}
	if err != nil {
		return c, fmt.Errorf("coupon: take a code of batch %d: %w", b.ID, err)
	}
	e := event.Event{TenantID: b.TenantID, Type: event.CouponIssued, Source: event.SourceCoupon, SourceID: fmt.Sprintf("issued:%d", c.ID),
		At: now, MemberID: memberID, Data: event.MustData(event.CouponData{BatchID: b.ID, CodeID: c.ID, Ref: ref})}
	if _, err := s.log.AppendTx(ctx, tx, &e); err != nil {
		return c, err
	}
	return c, nil
}

// codeColsBare are codeCols for a statement on coupon_codes alone.
var codeColsBare = strings.ReplaceAll(codeCols, "c.", "")

// GrantTx gives the member a code of the batch inside the caller's
// transaction, for a feature that decided who gets one (a perk, a tier's
// bundle, a referral reward): it skips the audience, the claim window and
// the per-member limit, but not the stock (ErrSoldOut) nor a disabled
// batch. It is idempotent by ref: the same ref returns the code it gave
// the first time and changes nothing. Two transactions granting the same
// ref at once: the second fails on the unique (batch, ref) and a retry
// finds the first's code.
func (s *Service) GrantTx(ctx context.Context, tx *store.Tx, tenantID, batchID, memberID int64, ref string) (Code, error) {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "" || len(ref) > MaxRefLen:
		return Code{}, fmt.Errorf("%w: a grant needs a reference of 1 to %d characters", store.ErrInvalid, MaxRefLen)
	case strings.HasPrefix(ref, "claim:"):
		return Code{}, fmt.Errorf("%w: grant references cannot start with claim:", store.ErrInvalid)
	case memberID <= 0:
		return Code{}, fmt.Errorf("%w: a grant needs a member", store.ErrInvalid)
	}
	c, err := scanCode(tx.QueryRowContext(ctx, `SELECT `+codeCols+` FROM coupon_codes c WHERE c.tenant_id = $1 AND c.batch_id = $2 AND c.ref = $3`,
		tenantID, batchID, ref))
	if err == nil {
		if c.MemberID != memberID {
			return Code{}, fmt.Errorf("coupon: %w: reference %q was granted to another member", store.ErrConflict, ref)
		}
		return c, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return Code{}, err
	}
	b, err := getBatch(ctx, tx, tenantID, batchID)
	if err != nil {
		return Code{}, err
	}
	if !b.DisabledAt.IsZero() {
		return Code{}, ErrDisabled
	}
	if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, memberID); err != nil || !ok {
		return Code{}, orInvalid(err, "member %d is not one of yours", memberID)
	}
	c, err = s.take(ctx, tx, b, memberID, ref, s.now().UTC())
	if store.IsUniqueViolation(err) {
		return Code{}, fmt.Errorf("coupon: %w: reference %q is being granted by another transaction", store.ErrConflict, ref)
	}
	return c, err
}

// OwnerOf is the member a handed-out code belongs to (order matching by
// coupon code); store.ErrNotFound for an unknown or unclaimed code.
func (s *Service) OwnerOf(ctx context.Context, q store.Querier, tenantID int64, code string) (int64, error) {
	var m int64
	err := q.QueryRowContext(ctx, `SELECT member_id FROM coupon_codes WHERE tenant_id = $1 AND code = $2 AND member_id <> 0`,
		tenantID, NormalizeCode(code)).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	return m, err
}

// Offer is a batch as one member sees it: how many they hold, how many are
// left, and why they cannot claim (nil: they can).
type Offer struct {
	Batch   Batch
	Held    int
	Refusal error
}

// Offers are the tenant's batches a member may see at now — not disabled,
// not closed — each with whether the member can claim it and why not.
func (s *Service) Offers(ctx context.Context, tenantID, memberID int64) ([]Offer, error) {
	now := s.now().UTC()
	bs, err := s.Batches(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []Offer
	for _, b := range bs {
		if !b.DisabledAt.IsZero() || (!b.ClosesAt.IsZero() && !now.Before(b.ClosesAt)) {
			continue
		}
		n, err := held(ctx, s.db.R, tenantID, b.ID, memberID)
		if err != nil {
			return nil, err
		}
		o := Offer{Batch: b, Held: n}
		switch {
		case now.Before(b.OpensAt):
			o.Refusal = ErrNotOpen
		case n >= b.PerMember:
			o.Refusal = ErrLimit
		case b.Left() == 0:
			o.Refusal = ErrSoldOut
		default:
			if o.Refusal = s.audienceRefusal(ctx, s.db.R, b, memberID, now); o.Refusal != nil && Reason(o.Refusal) == "" {
				return nil, o.Refusal
			}
		}
		out = append(out, o)
	}
	return out, nil
}
