package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
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
	tx.AfterCommitInOrder(func() { l.publish(ev) })
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

// batchRows bounds one multi-row INSERT: 9 or 10 parameters a row stays
// far below both engines' parameter limits. SQLite's is much smaller
// because it finds each $N placeholder by a linear search of the
// statement's parameters (when parsing and again when binding), so a
// statement costs the square of its rows: 500 rows a statement appended
// five times slower than 20 (docs/benchmarks.md).
func batchRows(d store.Dialect) int {
	if d == store.SQLite {
		return 20
	}
	return 500
}

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
//
// On PostgreSQL, transactions appending overlapping batches wait for each
// other's uncommitted rows; inserting in different orders, two of them
// could each hold a row the other waits for (a deadlock). So there the rows
// go in in one global order, by (tenant, source, source id), under ids
// drawn beforehand in the batch's own order, which the log keeps.
func (l *Log) AppendBatchTx(ctx context.Context, tx *store.Tx, events []Event) (int, error) {
	for i := range events {
		if err := check(&events[i]); err != nil {
			return 0, err
		}
	}
	order := make([]int, len(events)) // insertion order: indexes into events
	for i := range order {
		order[i] = i
	}
	var ids []int64 // on PostgreSQL, the id of events[i]
	if l.db.Dialect == store.Postgres && len(events) > 1 {
		sort.SliceStable(order, func(a, b int) bool { return keyLess(&events[order[a]], &events[order[b]]) })
		var err error
		if ids, err = drawIDs(ctx, tx, len(events)); err != nil {
			return 0, err
		}
	}
	cols, perRow := insertCols, 9
	if ids != nil {
		cols, perRow = `(id, `+insertCols[1:], 10
	}
	var inserted []int
	rowsPer := batchRows(l.db.Dialect)
	for start := 0; start < len(order); start += rowsPer {
		chunk := order[start:min(start+rowsPer, len(order))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO events ` + cols + ` VALUES `)
		args := make([]any, 0, len(chunk)*perRow)
		index := make(map[string]int, len(chunk))
		for j, i := range chunk {
			e := &events[i]
			if j > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('(')
			for k := 1; k <= perRow; k++ {
				if k > 1 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "$%d", len(args)+k)
			}
			sb.WriteByte(')')
			if ids != nil {
				args = append(args, ids[i])
			}
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
			return len(inserted), fmt.Errorf("event: append batch: %w", err)
		}
		for rows.Next() {
			var id, tenant int64
			var source, sourceID string
			if err := rows.Scan(&id, &tenant, &source, &sourceID); err != nil {
				rows.Close()
				return len(inserted), err
			}
			i := index[fmt.Sprintf("%d\x00%s\x00%s", tenant, source, sourceID)]
			events[i].ID = id
			inserted = append(inserted, i)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return len(inserted), err
		}
		rows.Close()
	}
	if len(inserted) > 0 {
		slices.Sort(inserted) // publish in the batch's (and the ids') order
		published := make([]Event, len(inserted))
		for j, i := range inserted {
			published[j] = events[i]
		}
		tx.AfterCommitInOrder(func() { l.publish(published...) })
	}
	return len(inserted), nil
}

func keyLess(a, b *Event) bool {
	if a.TenantID != b.TenantID {
		return a.TenantID < b.TenantID
	}
	if a.Source != b.Source {
		return a.Source < b.Source
	}
	return a.SourceID < b.SourceID
}

// drawIDs takes n ids from the events' identity sequence, ascending.
func drawIDs(ctx context.Context, tx *store.Tx, n int) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('events', 'id')::regclass AS seq)
		SELECT nextval(s.seq) FROM s, generate_series(1, $1)`, n)
	if err != nil {
		return nil, fmt.Errorf("event: draw ids: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("event: drew %d ids, want %d", len(ids), n)
	}
	slices.Sort(ids)
	return ids, nil
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
