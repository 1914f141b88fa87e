package synth

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// pending is the batch being filled: its events, and the rows some of
// them need written in the same transaction.
type pending struct {
	events []event.Event
	orders []order
	jobs   []job
}

// order is an orders row and the index of its event (and its refund's).
type order struct {
	b        *brand
	ext      string
	member   int64 // 0: not matched
	amount   int64
	paid     int64
	refundAt int64
	ev       int
	refundEv int // -1: not refunded
}

// job is a campaign push: a sent job of a content item to a group, whose
// key is the outbox message's source id.
type job struct {
	b       *brand
	key     string
	content int64
	group   int64
	at      int64
}

// recentMessages is how many of a group's latest messages a reply may
// answer.
const recentMessages = 32

// flush writes the batch in one transaction: its orders, refunds and
// campaign jobs, then its events through the log.
func (g *gen) flush(ctx context.Context) error {
	p := &g.pending
	if len(p.events) == 0 {
		return nil
	}
	err := g.db.InTx(ctx, func(tx *store.Tx) error {
		if err := g.writeOrders(ctx, tx); err != nil {
			return err
		}
		if err := g.writeJobs(ctx, tx); err != nil {
			return err
		}
		n, err := event.NewLog(g.db, nil).AppendBatchTx(ctx, tx, p.events)
		if err != nil {
			return fmt.Errorf("synth: events: %w", err)
		}
		if n != len(p.events) {
			return fmt.Errorf("synth: %d of %d events stored (a repeated source id)", n, len(p.events))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range p.events {
		if e.Type == event.Message && e.GroupID != 0 {
			b := g.byTenant[e.TenantID]
			if b == nil {
				continue
			}
			r := append(b.recent[e.GroupID], e.ID)
			if len(r) > recentMessages {
				r = r[len(r)-recentMessages:]
			}
			b.recent[e.GroupID] = r
		}
	}
	g.stored += len(p.events)
	g.orders += len(p.orders)
	p.events, p.orders, p.jobs = p.events[:0], p.orders[:0], p.jobs[:0]
	if g.progress != nil {
		g.progress(Progress{Events: g.stored, Elapsed: time.Since(g.began)})
	}
	return nil
}

// writeOrders inserts the batch's orders and refunds and completes their
// events with the orders' ids.
func (g *gen) writeOrders(ctx context.Context, tx *store.Tx) error {
	p := &g.pending
	if len(p.orders) == 0 {
		return nil
	}
	rows := make([][]any, len(p.orders))
	for i, o := range p.orders {
		var member any
		matched := ""
		if o.member != 0 {
			member, matched = o.member, "channel"
		}
		refunded := int64(0)
		if o.refundEv >= 0 {
			refunded = o.amount
		}
		rows[i] = []any{o.b.tenantID, o.ext, "api", member, matched, o.amount, "CNY", o.paid, refunded, o.paid}
	}
	ids := map[[2]any]int64{}
	err := insertReturning(ctx, tx, g.db.Dialect, `orders (tenant_id, external_id, source, member_id, matched_by, amount_minor,
		currency, paid_at, refunded_minor, created_at)`, rows, `RETURNING id, tenant_id, external_id`, func(r *sql.Rows) error {
		var id, tenant int64
		var ext string
		err := r.Scan(&id, &tenant, &ext)
		ids[[2]any{tenant, ext}] = id
		return err
	})
	if err != nil {
		return fmt.Errorf("synth: orders: %w", err)
	}
	var refunds [][]any
	for _, o := range p.orders {
		id := ids[[2]any{o.b.tenantID, o.ext}]
		d := event.OrderData{OrderID: id, ExternalID: o.ext, Origin: "api", AmountMinor: o.amount, Currency: "CNY"}
		if o.member != 0 {
			d.MatchedBy = "channel"
		}
		p.events[o.ev].Data = event.MustData(d)
		if o.refundEv >= 0 {
			d.RefundID = "R1"
			p.events[o.refundEv].SourceID = fmt.Sprintf("refund:%d:R1", id)
			p.events[o.refundEv].Data = event.MustData(d)
			refunds = append(refunds, []any{o.b.tenantID, id, "R1", o.amount, o.refundAt, o.refundAt})
		}
	}
	if err := insertRows(ctx, tx, g.db.Dialect, `order_refunds (tenant_id, order_id, external_id, amount_minor, refunded_at, created_at)`, refunds); err != nil {
		return fmt.Errorf("synth: refunds: %w", err)
	}
	return nil
}

// writeJobs inserts the batch's campaign pushes: a sent job and its send
// to the group.
func (g *gen) writeJobs(ctx context.Context, tx *store.Tx) error {
	p := &g.pending
	if len(p.jobs) == 0 {
		return nil
	}
	rows := make([][]any, len(p.jobs))
	for i, j := range p.jobs {
		rows[i] = []any{j.b.tenantID, 0, 0, j.group, j.content, contentKinds[contentIndex(j.b, j.content)][0], j.key,
			j.at, j.at, "sent", 1, j.at, j.at}
	}
	ids := map[[2]any]int64{}
	err := insertReturning(ctx, tx, g.db.Dialect, `campaign_jobs (tenant_id, playbook_id, step_id, group_id, content_id, content_type,
		key, run_at, anchor_at, state, sent, created_at, done_at)`, rows, `RETURNING id, tenant_id, key`, func(r *sql.Rows) error {
		var id, tenant int64
		var key string
		err := r.Scan(&id, &tenant, &key)
		ids[[2]any{tenant, key}] = id
		return err
	})
	if err != nil {
		return fmt.Errorf("synth: campaign jobs: %w", err)
	}
	sends := make([][]any, len(p.jobs))
	for i, j := range p.jobs {
		sends[i] = []any{j.b.tenantID, ids[[2]any{j.b.tenantID, j.key}], j.group, j.at, "sent"}
	}
	if err := insertRows(ctx, tx, g.db.Dialect, `campaign_sends (tenant_id, job_id, group_id, sent_at, outcome)`, sends); err != nil {
		return fmt.Errorf("synth: campaign sends: %w", err)
	}
	return nil
}

func contentIndex(b *brand, id int64) int {
	for i, c := range b.contents {
		if c == id {
			return i
		}
	}
	return 0
}

// rowsPerStatement bounds a multi-row INSERT: SQLite finds each $N by a
// linear search of the statement's parameters, so its statements stay
// short (as event.batchRows explains).
func rowsPerStatement(d store.Dialect) int {
	if d == store.SQLite {
		return 20
	}
	return 500
}

// insertRows inserts rows into head ("table (cols)") in multi-row
// statements, each followed by tail (an ON CONFLICT clause, or nothing).
func insertRows(ctx context.Context, tx *store.Tx, d store.Dialect, head string, rows [][]any, tail ...string) error {
	return insertReturning(ctx, tx, d, head, rows, strings.Join(tail, " "), nil)
}

// insertReturning is insertRows whose tail returns rows, read by scan.
func insertReturning(ctx context.Context, tx *store.Tx, d store.Dialect, head string, rows [][]any, tail string, scan func(*sql.Rows) error) error {
	per := rowsPerStatement(d)
	verb := "INSERT INTO " + head + " VALUES "
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var sb strings.Builder
		sb.WriteString(verb)
		var args []any
		for i, row := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('(')
			for c := range row {
				if c > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "$%d", len(args)+c+1)
			}
			sb.WriteByte(')')
			args = append(args, row...)
		}
		sb.WriteString(" " + tail)
		if scan == nil {
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return err
			}
			continue
		}
		r, err := tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return err
		}
		for r.Next() {
			if err := scan(r); err != nil {
				r.Close()
				return err
			}
		}
		r.Close()
		if err := r.Err(); err != nil {
			return err
		}
	}
	return nil
}
