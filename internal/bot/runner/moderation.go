package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// Action is one row of the moderation audit log.
type Action struct {
	ID       int64
	GroupID  int64
	MemberID int64
	Member   string
	Action   string // warn, mute, remove, hide, ban, unban, unmute
	Reason   string
	RuleID   int64
	StaffID  int64 // 0 when a rule acted
	EventID  int64
	Until    time.Time
	At       time.Time
	UndoneAt time.Time
}

func nullable(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// recordAction writes one audit row.
func recordAction(ctx context.Context, q store.Querier, tenantID int64, a Action) error {
	var until any
	if !a.Until.IsZero() {
		until = store.Millis(a.Until)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO moderation_actions (tenant_id, group_id, member_id, action, reason, rule_id, staff_id, event_id, until, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, tenantID, nullable(a.GroupID), a.MemberID, a.Action, a.Reason,
		nullable(a.RuleID), nullable(a.StaffID), nullable(a.EventID), until, store.Millis(a.At))
	return err
}

// hideTx hides a message from the group's history and tells connected
// clients (a message_hidden event they act on).
func (r *Runner) hideTx(ctx context.Context, tx *store.Tx, tenantID, groupID, eventID int64, reason string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO hidden_messages (tenant_id, event_id, reason, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, tenantID, eventID, reason, store.Millis(at)); err != nil {
		return err
	}
	_, err := r.Log.AppendTx(ctx, tx, &event.Event{TenantID: tenantID, Type: event.MessageHidden, Source: "bot",
		SourceID: fmt.Sprintf("hide:%d", eventID), At: at, GroupID: groupID,
		Data: event.MustData(map[string]any{"event_id": eventID, "reason": reason})})
	return err
}

// Actions lists the tenant's moderation log, newest first.
func (s *Store) Actions(ctx context.Context, tenantID int64, limit int) ([]Action, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT a.id, a.group_id, a.member_id, m.display_name, a.action, a.reason, a.rule_id, a.staff_id,
		a.event_id, a.until, a.at, a.undone_at FROM moderation_actions a JOIN members m ON m.id = a.member_id AND m.tenant_id = a.tenant_id
		WHERE a.tenant_id = $1 ORDER BY a.id DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Action
	for rows.Next() {
		var a Action
		var group, rule, staff, ev, until, undone sql.NullInt64
		var at int64
		if err := rows.Scan(&a.ID, &group, &a.MemberID, &a.Member, &a.Action, &a.Reason, &rule, &staff, &ev, &until, &at, &undone); err != nil {
			return nil, err
		}
		a.GroupID, a.RuleID, a.StaffID, a.EventID = group.Int64, rule.Int64, staff.Int64, ev.Int64
		a.Until, a.At, a.UndoneAt = store.NullMillis(until), store.Time(at), store.NullMillis(undone)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Undo reverses a moderation action (a staff decision): a mute is lifted,
// a warning stops counting, a hidden message shows again, a ban ends.
// Removal is undone by re-admitting the member to the group.
func (s *Store) Undo(ctx context.Context, tenantID, actionID, staffID int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var a Action
		var group, ev sql.NullInt64
		var undone sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT member_id, group_id, action, event_id, undone_at FROM moderation_actions
			WHERE tenant_id = $1 AND id = $2`, tenantID, actionID).Scan(&a.MemberID, &group, &a.Action, &ev, &undone)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if undone.Valid {
			return fmt.Errorf("%w: already undone", store.ErrConflict)
		}
		now := store.Millis(time.Now())
		var q string
		var args []any
		switch a.Action {
		case "mute":
			q, args = `UPDATE group_members SET muted_until = NULL WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3`, []any{tenantID, group.Int64, a.MemberID}
		case "remove":
			q, args = `UPDATE group_members SET removed_at = NULL, left_at = NULL WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3`, []any{tenantID, group.Int64, a.MemberID}
		case "ban":
			q, args = `DELETE FROM bans WHERE tenant_id = $1 AND member_id = $2`, []any{tenantID, a.MemberID}
		case "hide":
			q, args = `DELETE FROM hidden_messages WHERE tenant_id = $1 AND event_id = $2`, []any{tenantID, ev.Int64}
		}
		if q != "" {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE moderation_actions SET undone_at = $3, undone_by = $4 WHERE tenant_id = $1 AND id = $2`,
			tenantID, actionID, now, staffID)
		if err == nil && s.OnUndo != nil && group.Valid {
			// On a platform the lifted mute must be lifted there too.
			member, action := a.MemberID, a.Action
			tx.AfterCommit(func() { go s.OnUndo(context.WithoutCancel(ctx), tenantID, group.Int64, member, action) })
		}
		return err
	})
}
