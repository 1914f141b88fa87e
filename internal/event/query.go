package event

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/liveloop/liveloop/internal/store"
)

const selectCols = `id, tenant_id, type, source, source_id, at, member_id, group_id, staff_id, data`

func scan(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var typ, data string
		var at int64
		var member, group, staff sql.NullInt64
		if err := rows.Scan(&e.ID, &e.TenantID, &typ, &e.Source, &e.SourceID, &at, &member, &group, &staff, &data); err != nil {
			return nil, fmt.Errorf("event: scan: %w", err)
		}
		e.Type, e.At, e.Data = Type(typ), store.Time(at), []byte(data)
		e.MemberID, e.GroupID, e.StaffID = member.Int64, group.Int64, staff.Int64
		out = append(out, e)
	}
	return out, rows.Err()
}

// notHidden leaves out messages moderation hid.
const notHidden = `NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.tenant_id = events.tenant_id AND h.event_id = events.id)`

// GroupMessages returns up to limit message events of a group, oldest
// first. With afterID > 0 it returns those after it (catching up a
// reconnecting client); otherwise the latest ones.
func (l *Log) GroupMessages(ctx context.Context, tenantID, groupID, afterID int64, limit int) ([]Event, error) {
	var rows *sql.Rows
	var err error
	if afterID > 0 {
		rows, err = l.db.R.QueryContext(ctx, `SELECT `+selectCols+` FROM events
			WHERE tenant_id = $1 AND group_id = $2 AND type = $3 AND id > $4 AND `+notHidden+`
			ORDER BY id LIMIT $5`, tenantID, groupID, string(Message), afterID, limit)
	} else {
		rows, err = l.db.R.QueryContext(ctx, `SELECT `+selectCols+` FROM (
			SELECT `+selectCols+` FROM events
			WHERE tenant_id = $1 AND group_id = $2 AND type = $3 AND `+notHidden+`
			ORDER BY id DESC LIMIT $4) latest ORDER BY id`, tenantID, groupID, string(Message), limit)
	}
	if err != nil {
		return nil, fmt.Errorf("event: group messages: %w", err)
	}
	return scan(rows)
}

// DirectMessages returns up to limit messages of a member's private
// thread, oldest first: after afterID when it is > 0, else the latest.
func (l *Log) DirectMessages(ctx context.Context, tenantID, memberID, afterID int64, limit int) ([]Event, error) {
	q := `SELECT ` + selectCols + ` FROM (
		SELECT ` + selectCols + ` FROM events
		WHERE tenant_id = $1 AND member_id = $2 AND type = $3 AND id > $4
		ORDER BY id DESC LIMIT $5) latest ORDER BY id`
	if afterID > 0 {
		q = `SELECT ` + selectCols + ` FROM events
		WHERE tenant_id = $1 AND member_id = $2 AND type = $3 AND id > $4 ORDER BY id LIMIT $5`
	}
	rows, err := l.db.R.QueryContext(ctx, q, tenantID, memberID, string(DirectMessage), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("event: direct messages: %w", err)
	}
	return scan(rows)
}

// LiveComments returns up to limit comments of a live room, oldest first:
// after afterID when it is > 0, else the latest.
func (l *Log) LiveComments(ctx context.Context, tenantID, liveID, afterID int64, limit int) ([]Event, error) {
	prefix := fmt.Sprintf("l%d:%%", liveID)
	q := `SELECT ` + selectCols + ` FROM (
		SELECT ` + selectCols + ` FROM events
		WHERE tenant_id = $1 AND type = $2 AND source = 'web' AND source_id LIKE $3 AND id > $4
		ORDER BY id DESC LIMIT $5) latest ORDER BY id`
	if afterID > 0 {
		q = `SELECT ` + selectCols + ` FROM events
		WHERE tenant_id = $1 AND type = $2 AND source = 'web' AND source_id LIKE $3 AND id > $4 ORDER BY id LIMIT $5`
	}
	rows, err := l.db.R.QueryContext(ctx, q, tenantID, string(LiveComment), prefix, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("event: live comments: %w", err)
	}
	return scan(rows)
}

// LastLiveLikes returns the latest live_liked event of a live (ID 0:
// none yet).
func (l *Log) LastLiveLikes(ctx context.Context, tenantID, liveID int64) (Event, error) {
	rows, err := l.db.R.QueryContext(ctx, `SELECT `+selectCols+` FROM events WHERE tenant_id = $1 AND type = $2 AND source = 'live'
		AND source_id LIKE $3 ORDER BY id DESC LIMIT 1`, tenantID, string(LiveLiked), fmt.Sprintf("likes:%d:%%", liveID))
	if err != nil {
		return Event{}, err
	}
	evs, err := scan(rows)
	if err != nil || len(evs) == 0 {
		return Event{}, err
	}
	return evs[0], nil
}

// MemberTimeline returns the latest events of the given member ids (a
// person and the records merged into it), newest first.
func (l *Log) MemberTimeline(ctx context.Context, tenantID int64, memberIDs []int64, limit int) ([]Event, error) {
	if len(memberIDs) == 0 {
		return nil, nil
	}
	args := []any{tenantID}
	ph := make([]string, len(memberIDs))
	for i, id := range memberIDs {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	args = append(args, limit)
	rows, err := l.db.R.QueryContext(ctx, `SELECT `+selectCols+` FROM events
		WHERE tenant_id = $1 AND member_id IN (`+strings.Join(ph, ",")+`)
		ORDER BY at DESC, id DESC LIMIT $`+fmt.Sprint(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("event: member timeline: %w", err)
	}
	return scan(rows)
}

// Count returns how many events of a type a tenant has.
func (l *Log) Count(ctx context.Context, tenantID int64, t Type) (int64, error) {
	var n int64
	err := l.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2`, tenantID, string(t)).Scan(&n)
	return n, err
}

// BySource returns the tenant's event stored under a source and its source
// id (the one a duplicate append was recognised as), or store.ErrNotFound.
func (l *Log) BySource(ctx context.Context, tenantID int64, source, sourceID string) (Event, error) {
	rows, err := l.db.R.QueryContext(ctx, `SELECT `+selectCols+` FROM events
		WHERE tenant_id = $1 AND source = $2 AND source_id = $3`, tenantID, source, sourceID)
	if err != nil {
		return Event{}, fmt.Errorf("event: by source: %w", err)
	}
	es, err := scan(rows)
	if err != nil {
		return Event{}, err
	}
	if len(es) == 0 {
		return Event{}, store.ErrNotFound
	}
	return es[0], nil
}

// After returns up to limit events with ids above afterID, of the given
// types, in id order: how a consumer (the rule runner) reads the log from
// its cursor.
func (l *Log) After(ctx context.Context, afterID int64, limit int, types ...Type) ([]Event, error) {
	args := []any{afterID}
	ph := make([]string, len(types))
	for i, t := range types {
		args = append(args, string(t))
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	args = append(args, limit)
	rows, err := l.db.R.QueryContext(ctx, `SELECT `+selectCols+` FROM events WHERE id > $1 AND type IN (`+strings.Join(ph, ",")+`)
		ORDER BY id LIMIT $`+fmt.Sprint(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("event: after %d: %w", afterID, err)
	}
	return scan(rows)
}
