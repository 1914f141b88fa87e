package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// Log appends to and reads the event log.
type Log struct {
	db  *store.DB
	bus Bus
}

// NewLog returns a Log on db that publishes appended events on bus.
func NewLog(db *store.DB, bus Bus) *Log { return &Log{db: db, bus: bus} }

// Bus is the bus the log publishes on.
func (l *Log) Bus() Bus { return l.bus }

// ErrInvalid is returned for an event that lacks its tenant, type, source or
// source id.
var ErrInvalid = errors.New("event: invalid")

const insertCols = `(tenant_id, type, source, source_id, at, member_id, group_id, staff_id, data)`

func check(e *Event) error {
	switch {
	case e.TenantID == 0:
		return fmt.Errorf("%w: no tenant", ErrInvalid)
	case e.Type == "":
		return fmt.Errorf("%w: no type", ErrInvalid)
	case e.Source == "" || e.SourceID == "":
		return fmt.Errorf("%w: %s without source id", ErrInvalid, e.Type)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	if len(e.Data) == 0 {
		e.Data = []byte("{}")
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// AppendTx appends e inside tx. It reports whether the event was new; a
// repeat of the same (tenant, source, source id) stores nothing and returns
// false. A new event gets its ID and is published once tx commits.
func (l *Log) AppendTx(ctx context.Context, tx *store.Tx, e *Event) (bool, error) {
	if err := check(e); err != nil {
		return false, err
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO events `+insertCols+`
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, source, source_id) DO NOTHING RETURNING id`,
		e.TenantID, string(e.Type), e.Source, e.SourceID, store.Millis(e.At),
		nullID(e.MemberID), nullID(e.GroupID), nullID(e.StaffID), string(e.Data),
	).Scan(&e.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("event: append %s: %w", e.Type, err)
	}
	ev := *e
	tx.AfterCommit(func() { l.publish(ev) })
	return true, nil
}

// Append appends one event in its own transaction; see AppendTx.
func (l *Log) Append(ctx context.Context, e *Event) (bool, error) {
	var inserted bool
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		inserted, err = l.AppendTx(ctx, tx, e)
		return err
	})
	return inserted, err
}

// batchRows bounds one multi-row INSERT: 9 parameters a row stays far
// below both engines' parameter limits.
const batchRows = 500

// AppendBatch appends events in one transaction and returns how many were
// new; duplicates (within the batch or of stored events) are dropped. The
// IDs of new events are set in place.
func (l *Log) AppendBatch(ctx context.Context, events []Event) (int, error) {
	var n int
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = l.AppendBatchTx(ctx, tx, events)
		return err
	})
	return n, err
}

// AppendBatchTx is AppendBatch inside tx.
func (l *Log) AppendBatchTx(ctx context.Context, tx *store.Tx, events []Event) (int, error) {
	total := 0
	for start := 0; start < len(events); start += batchRows {
		chunk := events[start:min(start+batchRows, len(events))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO events ` + insertCols + ` VALUES `)
		args := make([]any, 0, len(chunk)*9)
		index := make(map[string]int, len(chunk))
		for i := range chunk {
			e := &chunk[i]
			if err := check(e); err != nil {
				return 0, err
			}
			if i > 0 {
				sb.WriteByte(',')
			}
			n := len(args)
			fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9)
			args = append(args, e.TenantID, string(e.Type), e.Source, e.SourceID, store.Millis(e.At),
				nullID(e.MemberID), nullID(e.GroupID), nullID(e.StaffID), string(e.Data))
			key := fmt.Sprintf("%d\x00%s\x00%s", e.TenantID, e.Source, e.SourceID)
			if _, dup := index[key]; !dup {
				index[key] = i
			}
		}
		sb.WriteString(` ON CONFLICT (tenant_id, source, source_id) DO NOTHING RETURNING id, tenant_id, source, source_id`)
		rows, err := tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return total, fmt.Errorf("event: append batch: %w", err)
		}
		var published []Event
		for rows.Next() {
			var id, tenant int64
			var source, sourceID string
			if err := rows.Scan(&id, &tenant, &source, &sourceID); err != nil {
				rows.Close()
				return total, err
			}
			i := index[fmt.Sprintf("%d\x00%s\x00%s", tenant, source, sourceID)]
			chunk[i].ID = id
			published = append(published, chunk[i])
			total++
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return total, err
		}
		rows.Close()
		if len(published) > 0 {
			tx.AfterCommit(func() { l.publish(published...) })
		}
	}
	return total, nil
}

func (l *Log) publish(events ...Event) {
	if l.bus == nil {
		return
	}
	if err := l.bus.Publish(context.Background(), events...); err != nil {
		// The rows are committed; readers that missed the live
		// notification catch up from the log (history on reconnect).
		slog.Warn("event: publish failed", "err", err, "events", len(events))
	}
}
