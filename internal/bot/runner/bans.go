package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Ban is a person banned from every group of a tenant.
type Ban struct {
	MemberID int64
	Member   string
	Reason   string
	StaffID  int64
	At       time.Time
}

// Ban bans a person tenant-wide: out of every group now, and no join link
// lets them back in (community.JoinTx checks the list).
func (s *Store) Ban(ctx context.Context, groups *community.Service, tenantID, memberID, staffID int64, reason string) error {
	reason = textnorm.Line(reason)
	if !textnorm.Limit(reason, 200) {
		return fmt.Errorf("%w: reason longer than 200 characters", store.ErrInvalid)
	}
	memberships, err := groups.MemberGroups(ctx, tenantID, memberID)
	if err != nil {
		return err
	}
	if len(memberships) == 0 {
		var n int
		if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, memberID).Scan(&n); err != nil || n == 0 {
			return store.ErrNotFound
		}
	}
	now := time.Now().UTC()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO bans (tenant_id, member_id, reason, staff_id, at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, tenantID, memberID, reason, staffID, store.Millis(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already banned
		}
		for _, ms := range memberships {
			if !ms.Active() {
				continue
			}
			if err := groups.RemoveTx(ctx, tx, tenantID, ms.GroupID, memberID, staffID, "console"); err != nil {
				return err
			}
		}
		return recordAction(ctx, tx, tenantID, Action{MemberID: memberID, Action: "ban", Reason: reason, StaffID: staffID, At: now})
	})
}

// Unban lifts a tenant-wide ban (the person may join by link again).
func (s *Store) Unban(ctx context.Context, tenantID, memberID, staffID int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM bans WHERE tenant_id = $1 AND member_id = $2`, tenantID, memberID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return recordAction(ctx, tx, tenantID, Action{MemberID: memberID, Action: "unban", StaffID: staffID, At: time.Now().UTC()})
	})
}

// Bans lists the tenant's ban list.
func (s *Store) Bans(ctx context.Context, tenantID int64) ([]Ban, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT b.member_id, m.display_name, b.reason, COALESCE(b.staff_id, 0), b.at FROM bans b
		JOIN members m ON m.id = b.member_id AND m.tenant_id = b.tenant_id WHERE b.tenant_id = $1 ORDER BY b.at DESC`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Ban
	for rows.Next() {
		var b Ban
		var at int64
		if err := rows.Scan(&b.MemberID, &b.Member, &b.Reason, &b.StaffID, &at); err != nil {
			return nil, err
		}
		b.At = store.Time(at)
		out = append(out, b)
	}
	return out, rows.Err()
}
