package export

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// Kind is what a file holds.
type Kind string

// The kinds of export.
const (
	Members  Kind = "members"  // people (not merged away), by when they first came
	Orders   Kind = "orders"   // orders, by when they were paid
	Events   Kind = "events"   // the whole event log
	Messages Kind = "messages" // group messages (not those moderation hid)
)

// Kinds lists every kind, in the order the console shows them.
var Kinds = []Kind{Members, Orders, Events, Messages}

// ParseKind reads a kind's name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w: export: %q is not one of members, orders, events, messages", store.ErrInvalid, s)
}

// Request is one export: a tenant's rows of a kind whose time (a member's
// first arrival, an order's payment, an event's) is in [From, To). A zero
// From or To leaves that side open. Times are written in Loc.
type Request struct {
	TenantID int64
	Kind     Kind
	From, To time.Time
	Loc      *time.Location
}

// kind is how one Kind is read: its header, its query (for the dialect;
// $1 tenant, $2 from, $3 to, in ms) and how a row becomes cells.
type kind struct {
	header []string
	query  func(d store.Dialect) string
	row    func(rows *sql.Rows, loc *time.Location) ([]string, error)
}

func kindOf(k Kind) (kind, error) {
	switch k {
	case Members:
		return members, nil
	case Orders:
		return orders, nil
	case Events:
		return events, nil
	case Messages:
		return messages, nil
	}
	_, err := ParseKind(string(k))
	return kind{}, err
}

// flushEvery is how many rows are buffered before they are sent on.
const flushEvery = 256

// Write streams the export to w and returns how many rows (not counting
// the header) it wrote. An error after the first bytes leaves w with a
// truncated file; the caller says so where it can.
func Write(ctx context.Context, db *store.DB, req Request, w io.Writer) (int64, error) {
	k, err := kindOf(req.Kind)
	if err != nil {
		return 0, err
	}
	if req.Loc == nil {
		req.Loc = time.UTC
	}
	tx, err := readTx(ctx, db)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	from, to := bounds(req.From, req.To)
	rows, err := tx.QueryContext(ctx, k.query(db.Dialect), req.TenantID, from, to)
	if err != nil {
		return 0, fmt.Errorf("export: %s: %w", req.Kind, err)
	}
	defer rows.Close()
	n, err := copyRows(rows, k, req.Loc, w)
	if err != nil {
		return n, fmt.Errorf("export: %s: %w", req.Kind, err)
	}
	return n, nil
}

func copyRows(rows *sql.Rows, k kind, loc *time.Location, w io.Writer) (int64, error) {
	cw, err := NewWriter(w)
	if err != nil {
		return 0, err
	}
	if err := cw.Write(k.header...); err != nil {
		return 0, err
	}
	var n int64
	for rows.Next() {
		cells, err := k.row(rows, loc)
		if err != nil {
			return n, err
		}
		if err := cw.Write(cells...); err != nil {
			return n, err
		}
		if n++; n%flushEvery == 0 {
			if err := cw.Flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, cw.Flush()
}

// readTx opens a read-only transaction: one snapshot for the whole file
// (REPEATABLE READ on PostgreSQL; a WAL read transaction on SQLite, on the
// reader pool, so writers are not held up).
func readTx(ctx context.Context, db *store.DB) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect == store.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.R.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("export: begin: %w", err)
	}
	return tx, nil
}

// bounds is the period in ms, open sides made unbounded.
func bounds(from, to time.Time) (int64, int64) {
	f, t := int64(0), int64(math.MaxInt64)
	if !from.IsZero() {
		f = store.Millis(from)
	}
	if !to.IsZero() {
		t = store.Millis(to)
	}
	return f, t
}

// list is a correlated subquery joining the values v of inner (ordered by
// its column k) with "; ", or "" when there are none.
func list(d store.Dialect, inner string) string {
	if d == store.Postgres {
		return `COALESCE((SELECT string_agg(v, '; ' ORDER BY k) FROM (` + inner + `) s), '')`
	}
	return `COALESCE((SELECT group_concat(v, '; ') FROM (` + inner + ` ORDER BY k) s), '')`
}

// stamp is an instant in ISO 8601 with the zone's offset.
func stamp(ms int64, loc *time.Location) string {
	if ms == 0 {
		return ""
	}
	return store.Time(ms).In(loc).Format(time.RFC3339)
}

// amount is minor units as a plain decimal ("1234.50").
func amount(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

func id(v sql.NullInt64) string {
	if !v.Valid || v.Int64 == 0 {
		return ""
	}
	return fmt.Sprint(v.Int64)
}

// Days reads a period given as days in loc ("2026-11-01", "2026-11-30",
// the last day included) into the instants [from, to) of a Request; an
// empty day leaves its side open.
func Days(from, to string, loc *time.Location) (time.Time, time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = time.ParseInLocation(time.DateOnly, from, loc); err != nil {
			return f, t, fmt.Errorf("%w: export: from %q is not a date (YYYY-MM-DD)", store.ErrInvalid, from)
		}
	}
	if to != "" {
		last, err := time.ParseInLocation(time.DateOnly, to, loc)
		if err != nil {
			return f, t, fmt.Errorf("%w: export: to %q is not a date (YYYY-MM-DD)", store.ErrInvalid, to)
		}
		t = time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, loc)
	}
	if !f.IsZero() && !t.IsZero() && !f.Before(t) {
		return f, t, fmt.Errorf("%w: export: from %s is after to %s", store.ErrInvalid, from, to)
	}
	return f, t, nil
}
