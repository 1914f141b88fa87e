package member

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// Merge folds the record `from` into the person `into` (the same human seen
// on two channels): identities and tags move, later merges follow the chain,
// registered hooks move the rest, and a member_merged event records it. Past
// events keep their member ids; timelines read them through RecordIDs.
func (s *Service) Merge(ctx context.Context, tenantID, into, from int64, staffID int64) error {
	if into == from {
		return fmt.Errorf("%w: cannot merge a member into itself", store.ErrInvalid)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		// On PostgreSQL both records are locked, in id order, so that merges
		// racing for one record run one after the other and the later one
		// sees the earlier one's result.
		lock := ""
		if s.db.Dialect == store.Postgres {
			lock = " FOR UPDATE"
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, merged_into FROM members WHERE tenant_id = $1 AND id IN ($2, $3) ORDER BY id`+lock,
			tenantID, into, from)
		if err != nil {
			return fmt.Errorf("member: merge %d into %d: %w", from, into, err)
		}
		found := 0
		var already int64
		for rows.Next() {
			var id int64
			var merged sql.NullInt64
			if err := rows.Scan(&id, &merged); err != nil {
				rows.Close()
				return err
			}
			found++
			if merged.Valid {
				already = id
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("member: merge %d into %d: %w", from, into, err)
		}
		if found != 2 {
			return store.ErrNotFound
		}
		if already != 0 {
			return fmt.Errorf("%w: member %d was already merged", store.ErrConflict, already)
		}
		stmts := []string{
			`UPDATE identities SET member_id = $3 WHERE tenant_id = $1 AND member_id = $2`,
			`INSERT INTO member_tags (tenant_id, member_id, tag, created_at)
				SELECT tenant_id, $3, tag, created_at FROM member_tags WHERE tenant_id = $1 AND member_id = $2
				ON CONFLICT DO NOTHING`,
			`DELETE FROM member_tags WHERE tenant_id = $1 AND member_id = $2`,
			`UPDATE members SET merged_into = $3 WHERE tenant_id = $1 AND merged_into = $2`,
			`UPDATE members SET merged_into = $3 WHERE tenant_id = $1 AND id = $2`,
			// The person keeps contact details the merged record had and it lacked.
			`UPDATE members SET
				phone = CASE WHEN phone = '' THEN (SELECT phone FROM members WHERE tenant_id = $1 AND id = $2) ELSE phone END,
				email = CASE WHEN email = '' THEN (SELECT email FROM members WHERE tenant_id = $1 AND id = $2) ELSE email END,
				opted_out = (opted_out OR (SELECT opted_out FROM members WHERE tenant_id = $1 AND id = $2))
			 WHERE tenant_id = $1 AND id = $3`,
		}
		for _, q := range stmts {
			args := []any{tenantID, from, into}
			if !strings.Contains(q, "$3") {
				args = args[:2] // PostgreSQL refuses arguments a statement does not use
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("member: merge %d into %d: %w", from, into, err)
			}
		}
		for _, h := range s.onMerge {
			if err := h(ctx, tx, tenantID, from, into); err != nil {
				return err
			}
		}
		_, err = s.log.AppendTx(ctx, tx, &event.Event{
			TenantID: tenantID, Type: event.MemberMerged, Source: event.SourceConsole,
			SourceID: "merge:" + strconv.FormatInt(from, 10), At: time.Now(),
			MemberID: into, StaffID: staffID,
			Data: event.MustData(map[string]int64{"merged_member_id": from}),
		})
		return err
	})
}
