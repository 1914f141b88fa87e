package community

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

type eventAppender interface {
	AppendTx(ctx context.Context, tx *store.Tx, e *event.Event) (bool, error)
}

// Errors of membership.
var (
	ErrRemoved = errors.New("community: removed from this group")
	ErrFull    = errors.New("community: group is full")
	ErrNotIn   = errors.New("community: not a member of this group")
	ErrBanned  = errors.New("community: banned by this brand")
)

// Membership is one member's place in a group.
type Membership struct {
	GroupID     int64
	MemberID    int64
	DisplayName string
	JoinedAt    time.Time
	LeftAt      time.Time
	RemovedAt   time.Time
	MutedUntil  time.Time
	JoinCodeID  int64
}

// Active reports whether the member is in the group now.
func (m Membership) Active() bool { return m.LeftAt.IsZero() && m.RemovedAt.IsZero() }

// JoinRequest says who joins which group, how and when.
type JoinRequest struct {
	TenantID int64
	GroupID  int64
	MemberID int64
	JoinCode JoinCode // zero when staff add a member
	Source   string   // event source (channel) of the join
	SourceID string   // the channel's id for this join; "" to derive one
	At       time.Time
	// Attribution is what brought the member (track.JoinTx): its Source,
	// when set, replaces the join code's label in the event; JoinCode is
	// always the code's.
	Attribution event.JoinData
}

// JoinTx puts a member into a group inside tx and records member_joined. It
// reports false when the member was already in. A removed member cannot
// rejoin through a link (ErrRemoved); a full group admits no one (ErrFull).
func (s *Service) JoinTx(ctx context.Context, tx *store.Tx, r JoinRequest) (bool, error) {
	if r.At.IsZero() {
		r.At = time.Now().UTC()
	}
	if s.db.Dialect == store.Postgres {
		// Joins of one group run one after the other, so that two of them
		// cannot both see the last free place (READ COMMITTED would let
		// them). On SQLite the write transaction already does this.
		err := tx.QueryRowContext(ctx, `SELECT id FROM community_groups WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			r.TenantID, r.GroupID).Scan(new(int64))
		if errors.Is(err, sql.ErrNoRows) {
			return false, store.ErrNotFound
		}
		if err != nil {
			return false, fmt.Errorf("community: join: %w", err)
		}
	}
	var banned int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM bans WHERE tenant_id = $1 AND member_id = $2`, r.TenantID, r.MemberID).Scan(&banned); err != nil {
		return false, fmt.Errorf("community: join: %w", err)
	}
	if banned > 0 {
		return false, ErrBanned
	}
	var removed, left sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT removed_at, left_at FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3`,
		r.TenantID, r.GroupID, r.MemberID).Scan(&removed, &left)
	existing := err == nil
	switch {
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("community: join: %w", err)
	case existing && removed.Valid:
		return false, ErrRemoved
	case existing && !left.Valid:
		return false, nil
	}
	var capacity, count, isTenants int
	err = tx.QueryRowContext(ctx, `SELECT g.capacity, (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id
		AND gm.left_at IS NULL AND gm.removed_at IS NULL),
		(SELECT COUNT(*) FROM members m WHERE m.tenant_id = $1 AND m.id = $3)
		FROM community_groups g WHERE g.tenant_id = $1 AND g.id = $2 AND g.archived_at IS NULL`,
		r.TenantID, r.GroupID, r.MemberID).Scan(&capacity, &count, &isTenants)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if err != nil || isTenants == 0 {
		// An unknown or archived group, or a member of another tenant.
		return false, store.ErrNotFound
	}
	if count >= capacity {
		return false, ErrFull
	}
	var code any
	if r.JoinCode.ID != 0 {
		code = r.JoinCode.ID
	}
	if existing {
		_, err = tx.ExecContext(ctx, `UPDATE group_members SET joined_at = $4, left_at = NULL, join_code_id = $5
			WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3`, r.TenantID, r.GroupID, r.MemberID, store.Millis(r.At), code)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO group_members (tenant_id, group_id, member_id, joined_at, join_code_id)
			VALUES ($1, $2, $3, $4, $5)`, r.TenantID, r.GroupID, r.MemberID, store.Millis(r.At), code)
	}
	if err != nil {
		return false, fmt.Errorf("community: join: %w", err)
	}
	if r.SourceID == "" {
		// The membership row already makes a repeated join a no-op; the id
		// only has to be unique, even for two joins in one millisecond.
		r.SourceID = "join:" + strconv.FormatInt(r.GroupID, 10) + ":" + strconv.FormatInt(r.MemberID, 10) + ":" + uniqueSuffix()
	}
	jd := r.Attribution
	jd.JoinCode = r.JoinCode.Code
	if jd.Source == "" {
		jd.Source = r.JoinCode.Source
	}
	_, err = s.log.AppendTx(ctx, tx, &event.Event{
		TenantID: r.TenantID, Type: event.MemberJoined, Source: r.Source, SourceID: r.SourceID, At: r.At,
		MemberID: r.MemberID, GroupID: r.GroupID, Data: event.MustData(jd),
	})
	return err == nil, err
}

// Join is JoinTx in its own transaction.
func (s *Service) Join(ctx context.Context, r JoinRequest) (bool, error) {
	var joined bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		joined, err = s.JoinTx(ctx, tx, r)
		return err
	})
	return joined, err
}

// Leave records that a member left a group by themselves.
func (s *Service) Leave(ctx context.Context, tenantID, groupID, memberID int64, source string) error {
	return s.end(ctx, tenantID, groupID, memberID, 0, "left_at", event.MemberLeft, source)
}

// Remove takes a member out of a group; they cannot rejoin by link.
func (s *Service) Remove(ctx context.Context, tenantID, groupID, memberID, staffID int64) error {
	return s.end(ctx, tenantID, groupID, memberID, staffID, "removed_at", event.MemberRemoved, event.SourceConsole)
}

func (s *Service) end(ctx context.Context, tenantID, groupID, memberID, staffID int64, col string, typ event.Type, source string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.endTx(ctx, tx, tenantID, groupID, memberID, staffID, col, typ, source)
	})
}

// LeaveTx records, inside tx, that a member left at `at`, as a platform
// reported it: sourceID is the platform's id for the leave, so a
// redelivered leave is stored once. Leaving when not in is ErrNotIn.
func (s *Service) LeaveTx(ctx context.Context, tx *store.Tx, tenantID, groupID, memberID int64, source, sourceID string, at time.Time) error {
	return s.endAt(ctx, tx, tenantID, groupID, memberID, 0, "left_at", event.MemberLeft, source, sourceID, at)
}

// RemoveTx is Remove inside tx (the rule runner removes members as part of
// the transaction that acts on the offending message).
func (s *Service) RemoveTx(ctx context.Context, tx *store.Tx, tenantID, groupID, memberID, staffID int64, source string) error {
	return s.endTx(ctx, tx, tenantID, groupID, memberID, staffID, "removed_at", event.MemberRemoved, source)
}

func (s *Service) endTx(ctx context.Context, tx *store.Tx, tenantID, groupID, memberID, staffID int64, col string, typ event.Type, source string) error {
	return s.endAt(ctx, tx, tenantID, groupID, memberID, staffID, col, typ, source, "", time.Now().UTC())
}

func (s *Service) endAt(ctx context.Context, tx *store.Tx, tenantID, groupID, memberID, staffID int64, col string, typ event.Type,
	source, sourceID string, now time.Time) error {
	if sourceID == "" {
		sourceID = fmt.Sprintf("%s:%d:%d:%s", typ, groupID, memberID, uniqueSuffix())
	}
	// col is one of two constants, never input.
	res, err := tx.ExecContext(ctx, `UPDATE group_members SET `+col+` = $4
		WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3 AND left_at IS NULL AND removed_at IS NULL`,
		tenantID, groupID, memberID, store.Millis(now))
	if err != nil {
		return fmt.Errorf("community: %s: %w", typ, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotIn
	}
	_, err = s.log.AppendTx(ctx, tx, &event.Event{
		TenantID: tenantID, Type: typ, Source: source, SourceID: sourceID, At: now,
		MemberID: memberID, GroupID: groupID, StaffID: staffID,
	})
	return err
}

// uniqueSuffix is a random hex string for source ids that are not given by
// a platform.
func uniqueSuffix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// IsMember reports whether a member is in a group now.
func (s *Service) IsMember(ctx context.Context, tenantID, groupID, memberID int64) (bool, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3
		AND left_at IS NULL AND removed_at IS NULL`, tenantID, groupID, memberID).Scan(&n)
	return n > 0, err
}

// Membership returns a member's record in a group, active or not.
func (s *Service) Membership(ctx context.Context, tenantID, groupID, memberID int64) (Membership, error) {
	rows, err := s.db.R.QueryContext(ctx, membershipSelect+` WHERE gm.tenant_id = $1 AND gm.group_id = $2 AND gm.member_id = $3`, tenantID, groupID, memberID)
	if err != nil {
		return Membership{}, err
	}
	ms, err := scanMemberships(rows)
	if err != nil {
		return Membership{}, err
	}
	if len(ms) == 0 {
		return Membership{}, store.ErrNotFound
	}
	return ms[0], nil
}

const membershipSelect = `SELECT gm.group_id, gm.member_id, m.display_name, gm.joined_at, gm.left_at, gm.removed_at, gm.join_code_id, gm.muted_until
	FROM group_members gm JOIN members m ON m.id = gm.member_id AND m.tenant_id = gm.tenant_id`

func scanMemberships(rows *sql.Rows) ([]Membership, error) {
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var joined int64
		var left, removed, code, muted sql.NullInt64
		if err := rows.Scan(&m.GroupID, &m.MemberID, &m.DisplayName, &joined, &left, &removed, &code, &muted); err != nil {
			return nil, err
		}
		m.JoinedAt, m.LeftAt, m.RemovedAt, m.JoinCodeID = store.Time(joined), store.NullMillis(left), store.NullMillis(removed), code.Int64
		m.MutedUntil = store.NullMillis(muted)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Members lists a group's active members, latest joiners first.
func (s *Service) Members(ctx context.Context, tenantID, groupID int64, limit, offset int) ([]Membership, error) {
	rows, err := s.db.R.QueryContext(ctx, membershipSelect+` WHERE gm.tenant_id = $1 AND gm.group_id = $2
		AND gm.left_at IS NULL AND gm.removed_at IS NULL ORDER BY gm.joined_at DESC, gm.member_id DESC LIMIT $3 OFFSET $4`,
		tenantID, groupID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("community: members: %w", err)
	}
	return scanMemberships(rows)
}

// MemberGroups lists every group a member is or was in.
func (s *Service) MemberGroups(ctx context.Context, tenantID, memberID int64) ([]Membership, error) {
	rows, err := s.db.R.QueryContext(ctx, membershipSelect+` WHERE gm.tenant_id = $1 AND gm.member_id = $2 ORDER BY gm.joined_at`, tenantID, memberID)
	if err != nil {
		return nil, err
	}
	return scanMemberships(rows)
}

// MoveMemberships is the member.MergeHook of this package: the merged
// record's memberships move to the person, unless the person already has
// one in that group.
func MoveMemberships(ctx context.Context, tx *store.Tx, tenantID, from, to int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE group_members SET member_id = $3 WHERE tenant_id = $1 AND member_id = $2
		AND group_id NOT IN (SELECT group_id FROM group_members WHERE tenant_id = $1 AND member_id = $3)`, tenantID, from, to)
	if err != nil {
		return fmt.Errorf("community: move memberships: %w", err)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM group_members WHERE tenant_id = $1 AND member_id = $2`, tenantID, from)
	return err
}
