package analytics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// TurnWindow is how soon after another author's message a message without
// an explicit reply counts as answering it (a conversational turn).
const TurnWindow = 5 * time.Minute

// ReplyWindow is how long after a push of a content item a member's
// message in the group counts as a reply to it.
const ReplyWindow = 30 * time.Minute

// StaffTag marks a member record as one of the brand's own accounts (an
// operator's personal account on a platform): their messages count as the
// brand's, not a member's.
const StaffTag = "staff"

const cursorName = "analytics"

// Rollup adds the log's new events to the rollup tables.
//
// One pass reads a batch of events after the cursor, folds it into
// in-memory deltas, and adds the deltas and moves the cursor in one
// transaction: a crash before the commit replays the batch, after it
// never does. The cursor is only moved forward by the pass that read
// from it (a conditional update), so two nodes running passes at once
// cannot count a batch twice: the second one's transaction rolls back.
type Rollup struct {
	db *store.DB
	// Batch is how many events one transaction takes (default 2000).
	Batch int
	// locs caches the tenants' time zones; tags the staff-tagged
	// members (reloaded every pass: a tag added now counts from now).
	// The app's loop and callers of Catchup share one Rollup: mu guards
	// locs.
	mu   sync.Mutex
	locs map[int64]*time.Location
}

// NewRollup returns the rollup on db.
func NewRollup(db *store.DB) *Rollup {
	return &Rollup{db: db, Batch: 2000, locs: map[int64]*time.Location{}}
}

// Catchup rolls up everything committed before it was called. On
// PostgreSQL that may mean waiting for transactions that were running at
// the call to end (their events cannot be passed over; see horizon): it
// waits up to CatchupWait, then reports ErrBehind with what it did.
func (r *Rollup) Catchup(ctx context.Context) (int, error) {
	var target uint64
	if r.db.Dialect == store.Postgres {
		var xmax string
		if err := r.db.R.QueryRowContext(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text`).Scan(&xmax); err != nil {
			return 0, fmt.Errorf("analytics: catch up: %w", err)
		}
		target, _ = strconv.ParseUint(xmax, 10, 64)
	}
	deadline := time.Now().Add(CatchupWait)
	total := 0
	for {
		n, err := r.drain(ctx)
		total += n
		if err != nil || target == 0 {
			return total, err
		}
		h, err := r.horizon(ctx)
		if err != nil {
			return total, err
		}
		if h >= target {
			// Every transaction of the call's time has ended; one more
			// pass takes what they wrote.
			n, err := r.drain(ctx)
			return total + n, err
		}
		if time.Now().After(deadline) {
			return total, ErrBehind
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// CatchupWait bounds how long Catchup waits for running transactions.
var CatchupWait = 30 * time.Second

// ErrBehind: Catchup waited CatchupWait for transactions still running.
var ErrBehind = errors.New("analytics: transactions still running; the rollup will take their events when they end")

// drain runs batches until a pass finds nothing to read.
func (r *Rollup) drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.RunOnce(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Run rolls up every interval until ctx ends.
func (r *Rollup) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.drain(ctx); err != nil && ctx.Err() == nil {
			slog.Error("analytics: rollup", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

type cursor struct{ tx, id int64 }

// row is one event as the rollup reads it.
type row struct {
	event.Event
	tx int64
}

// RunOnce rolls up one batch after the cursor and returns how many events
// it read (0: caught up). When the batch fails it is redone one event a
// transaction, and an event that fails alone is logged and skipped (the
// cursor moves past it): one event the rollup cannot fold must not stop
// every dashboard for good.
func (r *Rollup) RunOnce(ctx context.Context) (int, error) {
	cur, err := r.cursor(ctx)
	if err != nil {
		return 0, err
	}
	rows, err := r.read(ctx, cur)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	err = r.commit(ctx, cur, rows, true)
	if errors.Is(err, errRace) {
		return 0, nil // another pass took this batch
	}
	if err == nil {
		return len(rows), nil
	}
	if ctx.Err() != nil {
		return 0, err
	}
	if len(rows) > 1 {
		slog.Warn("analytics: batch failed; rolling up its events one at a time", "events", len(rows), "err", err)
	}
	for i := range rows {
		err := r.commit(ctx, cur, rows[i:i+1], true)
		if err != nil && !errors.Is(err, errRace) && ctx.Err() == nil {
			e := rows[i]
			slog.Error("analytics: event failed; skipped", "event", e.ID, "tenant", e.TenantID, "type", e.Type, "err", err)
			err = r.commit(ctx, cur, rows[i:i+1], false)
		}
		if errors.Is(err, errRace) {
			return i, nil
		}
		if err != nil {
			return i, err
		}
		cur = cursor{tx: rows[i].tx, id: rows[i].ID}
	}
	return len(rows), nil
}

// commit moves the cursor from cur past rows and, with fold, adds what
// they count, in one transaction. The cursor's row is updated first, so
// a second pass from cur (another node) or a Rebuild waits for this one
// to end and then finds the cursor moved: the pass that is second rolls
// back; a rebuild deletes what this one added.
func (r *Rollup) commit(ctx context.Context, cur cursor, rows []row, fold bool) error {
	next := cursor{tx: rows[len(rows)-1].tx, id: rows[len(rows)-1].ID}
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE analytics_cursor SET last_tx = $1, last_id = $2
			WHERE name = $3 AND last_tx = $4 AND last_id = $5`, next.tx, next.id, cursorName, cur.tx, cur.id)
		if err != nil {
			return fmt.Errorf("analytics: advance cursor: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errRace
		}
		if !fold {
			return nil
		}
		d, err := r.fold(ctx, tx, rows)
		if err != nil {
			return err
		}
		return d.apply(ctx, tx, r.db.Dialect)
	})
}

var errRace = errors.New("analytics: cursor moved by another pass")

func (r *Rollup) cursor(ctx context.Context) (cursor, error) {
	var c cursor
	err := r.db.W.QueryRowContext(ctx, `SELECT last_tx, last_id FROM analytics_cursor WHERE name = $1`, cursorName).Scan(&c.tx, &c.id)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = r.db.W.ExecContext(ctx, `INSERT INTO analytics_cursor (name, last_tx, last_id) VALUES ($1, 0, 0)
			ON CONFLICT (name) DO NOTHING`, cursorName)
		return cursor{}, err
	}
	if err != nil {
		return c, fmt.Errorf("analytics: cursor: %w", err)
	}
	return c, nil
}

// read returns the next batch after c. On PostgreSQL it reads in (tx, id)
// order, only rows of transactions below the horizon (see horizon): a
// transaction that drew a lower id but commits later is either visible
// already or at or above the horizon, so the cursor never passes an event
// that is not yet visible. (Ordered by id alone, a long transaction's
// events would be skipped.) On SQLite one writer at a time gives ids in
// commit order.
func (r *Rollup) read(ctx context.Context, c cursor) ([]row, error) {
	const cols = `id, tenant_id, type, source, source_id, at, member_id, group_id, staff_id, data`
	var rows *sql.Rows
	var err error
	if r.db.Dialect == store.Postgres {
		h, herr := r.horizon(ctx)
		if herr != nil {
			return nil, herr
		}
		if uint64(c.tx) >= h {
			return nil, nil
		}
		// A statement after the horizon's: every transaction below it
		// had ended before this snapshot was taken.
		// The text of tx is named apart: an output column named tx
		// would be what ORDER BY tx sorts by — as text ("10" before
		// "9"), through a sort of every row after the cursor.
		rows, err = r.db.R.QueryContext(ctx, `SELECT `+cols+`, tx::text AS tx_text FROM events
			WHERE (tx, id) > ($1::text::xid8, $2) AND tx < $3::text::xid8
			ORDER BY tx, id LIMIT $4`, strconv.FormatInt(c.tx, 10), c.id, strconv.FormatUint(h, 10), r.Batch)
	} else {
		rows, err = r.db.R.QueryContext(ctx, `SELECT `+cols+`, 0 FROM events WHERE id > $1 ORDER BY id LIMIT $2`, c.id, r.Batch)
	}
	if err != nil {
		return nil, fmt.Errorf("analytics: read log: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var e row
		var typ, data, txs string
		var at int64
		var member, group, staff sql.NullInt64
		if err := rows.Scan(&e.ID, &e.TenantID, &typ, &e.Source, &e.SourceID, &at, &member, &group, &staff, &data, &txs); err != nil {
			return nil, fmt.Errorf("analytics: scan: %w", err)
		}
		e.Type, e.At, e.Data = event.Type(typ), store.Time(at), []byte(data)
		e.MemberID, e.GroupID, e.StaffID = member.Int64, group.Int64, staff.Int64
		e.tx, _ = strconv.ParseInt(txs, 10, 64)
		out = append(out, e)
	}
	return out, rows.Err()
}

// horizon is the lowest transaction id that may still write events: the
// lowest of the transactions running in this database (sessions of the
// same role, the one liveloop writes with), or, with none running, the
// next one to start. Every transaction below it has committed or
// aborted. (pg_snapshot_xmin would do the same but counts every database
// of the cluster, so one long transaction elsewhere stalls the rollup.)
// pg_stat_activity gives 32-bit ids; they are widened with the epoch of
// the snapshot's xmax, which no running transaction is above.
func (r *Rollup) horizon(ctx context.Context) (uint64, error) {
	rows, err := r.db.R.QueryContext(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text, backend_xid::text
		FROM (SELECT 1) one LEFT JOIN pg_stat_activity a ON a.datname = current_database() AND a.backend_xid IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("analytics: horizon: %w", err)
	}
	defer rows.Close()
	var h uint64
	first := true
	for rows.Next() {
		var xmaxS string
		var xidS sql.NullString
		if err := rows.Scan(&xmaxS, &xidS); err != nil {
			return 0, fmt.Errorf("analytics: horizon: %w", err)
		}
		xmax, err := strconv.ParseUint(xmaxS, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("analytics: horizon: %w", err)
		}
		if first {
			h, first = xmax, false
		}
		if !xidS.Valid {
			continue
		}
		x, err := strconv.ParseUint(xidS.String, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("analytics: horizon: %w", err)
		}
		full := xmax&^0xffffffff | x
		if full > xmax {
			full -= 1 << 32
		}
		h = min(h, full)
	}
	return h, rows.Err()
}

// Author kinds of a message.
const (
	authorMember = iota + 1
	authorBrand
)

// lastMsg is the latest message of a group the fold has seen.
type lastMsg struct {
	id     int64
	at     time.Time
	author string // "m<member>" or "b<staff/persona/source>"
	kind   int
}

// push is the latest content item pushed to a group.
type push struct {
	content int64
	at      time.Time
}

// folder holds what one batch needs while it is folded.
type folder struct {
	r      *Rollup
	q      store.Querier
	d      *deltas
	staff  map[int64]map[int64]bool // tenant → staff-tagged members
	last   map[[2]int64]*lastMsg    // (tenant, group) → latest message
	pushes map[[2]int64]push        // (tenant, group) → latest content push
	tails  map[[2]int64]*tail       // (tenant, group) → its latest message folded
	tx     int64                    // the transaction of the event being folded (PostgreSQL)
}

// tail is when a group's latest message folded was (Unix ms): before
// this batch (stored, kept in an_daily as tailMetric) and now.
type tail struct{ stored, now int64 }

// tailMetric is the an_daily row (day 0) holding, per group, the time
// of its latest message rolled up: not a counter but a maximum. A message
// at or before it is late: it may have come between two messages
// already folded.
const tailMetric = "message_tail"

func (r *Rollup) fold(ctx context.Context, q store.Querier, rows []row) (*deltas, error) {
	f := &folder{r: r, q: q, d: newDeltas(), staff: map[int64]map[int64]bool{},
		last: map[[2]int64]*lastMsg{}, pushes: map[[2]int64]push{}, tails: map[[2]int64]*tail{}}
	for i := range rows {
		f.tx = rows[i].tx
		if err := f.event(ctx, &rows[i].Event); err != nil {
			return nil, err
		}
	}
	return f.d, nil
}

// foldedBefore is the condition on events of those folded before the
// event being folded, whose id is the query's $6: on SQLite a lower id,
// on PostgreSQL a lower (tx, id) (the order the log is read in; its tx is
// the extra argument returned, $7).
func (f *folder) foldedBefore() (string, []any) {
	if f.r.db.Dialect == store.Postgres {
		return " AND (tx, id) < ($7::text::xid8, $6)", []any{strconv.FormatInt(f.tx, 10)}
	}
	return " AND id < $6", nil
}

// groupTail is the tail of e's group, read once a batch.
func (f *folder) groupTail(ctx context.Context, e *event.Event) (*tail, error) {
	key := [2]int64{e.TenantID, e.GroupID}
	if t, ok := f.tails[key]; ok {
		return t, nil
	}
	var at int64
	err := f.q.QueryRowContext(ctx, `SELECT value FROM an_daily WHERE tenant_id = $1 AND metric = $2 AND day = 0 AND group_id = $3`,
		e.TenantID, tailMetric, e.GroupID).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("analytics: group tail: %w", err)
	}
	t := &tail{stored: at, now: at}
	f.tails[key] = t
	return t, nil
}

func (r *Rollup) loc(ctx context.Context, q store.Querier, tenantID int64) (*time.Location, error) {
	r.mu.Lock()
	l, ok := r.locs[tenantID]
	r.mu.Unlock()
	if ok {
		return l, nil
	}
	var tz string
	err := q.QueryRowContext(ctx, `SELECT timezone FROM tenants WHERE id = $1`, tenantID).Scan(&tz)
	if err != nil {
		return nil, fmt.Errorf("analytics: tenant %d: %w", tenantID, err)
	}
	l, err = time.LoadLocation(tz)
	if err != nil {
		l = time.UTC
	}
	r.mu.Lock()
	r.locs[tenantID] = l
	r.mu.Unlock()
	return l, nil
}

// ForgetZones drops the cached time zones (a tenant changed theirs; the
// days already rolled up stay as they were until a rebuild).
func (r *Rollup) ForgetZones() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.locs = map[int64]*time.Location{}
}

func (f *folder) isStaff(ctx context.Context, tenantID, memberID int64) (bool, error) {
	set, ok := f.staff[tenantID]
	if !ok {
		rows, err := f.q.QueryContext(ctx, `SELECT member_id FROM member_tags WHERE tenant_id = $1 AND tag = $2`, tenantID, StaffTag)
		if err != nil {
			return false, fmt.Errorf("analytics: staff tags: %w", err)
		}
		set = map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return false, err
			}
			set[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
		f.staff[tenantID] = set
	}
	return set[memberID], nil
}

// memberActions are the event types that are a member doing something
// (what "active" means): besides group messages, handled apart.
var memberActions = map[event.Type]bool{
	event.CheckedIn: true, event.LinkClicked: true, event.LiveEntered: true, event.LiveComment: true,
	event.PollVoted: true, event.PromptEntry: true, event.WishAdded: true, event.RewardRedeemed: true,
	event.FlashClaimed: true, event.ChainJoined: true, event.PresaleReserved: true, event.CouponClaimed: true,
	event.OrderPaid: true, event.LiveMemberLiked: true,
}

func (f *folder) event(ctx context.Context, e *event.Event) error {
	loc, err := f.r.loc(ctx, f.q, e.TenantID)
	if err != nil {
		return err
	}
	at := e.At.In(loc)
	day := DayOf(at, loc)
	t := e.TenantID
	d := f.d
	switch e.Type {
	case event.Message:
		if e.GroupID == 0 {
			return nil
		}
		return f.message(ctx, e, day, at.Hour())
	case event.DirectMessage:
		var m event.MessageData
		_ = e.Decode(&m)
		if m.FromMember && e.MemberID != 0 {
			d.member(t, day, 0, e.MemberID).actions++
		}
		return nil
	case event.MemberJoined:
		var j event.JoinData
		_ = e.Decode(&j)
		src := joinSource(j)
		d.add(t, "joins", day, e.GroupID, 1)
		d.add(t, "joins_src:"+src, day, e.GroupID, 1)
		if e.MemberID != 0 {
			d.join(t, e.MemberID, e.At, day, e.GroupID, src)
		}
	case event.MemberLeft, event.MemberRemoved:
		d.add(t, "leaves", day, e.GroupID, 1)
	case event.CheckedIn:
		d.add(t, "checkins", day, e.GroupID, 1)
	case event.LinkClicked:
		d.add(t, "clicks", day, e.GroupID, 1)
		if e.GroupID != 0 {
			d.hour(t, e.GroupID, "clicks", day, at.Hour(), 1)
		}
		var td event.TrackData
		_ = e.Decode(&td)
		if td.ContentID != 0 {
			d.content(t, td.ContentID, "clicks", day, 1)
		}
	case event.LiveEntered:
		d.add(t, "live_entries", day, e.GroupID, 1)
	case event.CouponIssued:
		d.add(t, "coupons_issued", day, 0, 1)
	case event.CouponRedeemed:
		d.add(t, "coupons_redeemed", day, 0, 1)
	case event.OrderPaid, event.OrderRefunded:
		var o event.OrderData
		_ = e.Decode(&o)
		if e.Type == event.OrderPaid {
			d.add(t, "orders", day, 0, 1)
			d.add(t, "gmv", day, 0, o.AmountMinor)
		} else {
			d.add(t, "refunds", day, 0, 1)
			d.add(t, "refund_amount", day, 0, o.AmountMinor)
		}
	}
	if memberActions[e.Type] && e.MemberID != 0 {
		d.member(t, day, e.GroupID, e.MemberID).actions++
	}
	return nil
}

// joinSource is the attribution bucket of a join.
func joinSource(j event.JoinData) string {
	switch {
	case j.Source != "":
		return j.Source
	case j.ReferrerID != 0:
		return "referral"
	case j.LiveID != 0:
		return "live"
	}
	return "direct"
}

// message folds a group message: who wrote it (a member or the brand),
// whom it answered, and whether it replied to a content push.
func (f *folder) message(ctx context.Context, e *event.Event, day Day, hour int) error {
	var m event.MessageData
	_ = e.Decode(&m)
	t, g, d := e.TenantID, e.GroupID, f.d
	kind, author := authorMember, fmt.Sprintf("m%d", e.MemberID)
	switch {
	case e.Source == event.SourceOutbox || e.StaffID != 0 || m.PersonaID != 0 || e.MemberID == 0:
		kind, author = authorBrand, fmt.Sprintf("b%d:%d", e.StaffID, m.PersonaID)
		switch {
		case m.PersonaID != 0:
			d.add(t, "persona_messages", day, g, 1)
		case e.StaffID != 0:
			d.add(t, "staff_messages", day, g, 1)
		}
	default:
		staff, err := f.isStaff(ctx, t, e.MemberID)
		if err != nil {
			return err
		}
		if staff {
			kind = authorBrand
			d.add(t, "staff_messages", day, g, 1)
		}
	}
	d.add(t, "messages", day, g, 1)
	if kind == authorBrand {
		d.add(t, "brand_messages", day, g, 1)
		d.hour(t, g, "brand_messages", day, hour, 1)
	} else {
		d.add(t, "member_messages", day, g, 1)
		d.hour(t, g, "member_messages", day, hour, 1)
		md := d.member(t, day, g, e.MemberID)
		md.actions++
		md.messages++
	}

	tl, err := f.groupTail(ctx, e)
	if err != nil {
		return err
	}
	target, err := f.answered(ctx, e, m, author, tl)
	if err != nil {
		return err
	}
	if store.Millis(e.At) <= tl.now {
		// Late: the message after it (already folded) answered another.
		if err := f.retakeTurn(ctx, e, author, kind, tl); err != nil {
			return err
		}
	}
	tl.now = max(tl.now, store.Millis(e.At))
	d.tail(t, g, tl.now)
	f.countTurn(t, g, day, kind, e.MemberID, target, 1)
	key := [2]int64{t, g}
	if prev, ok := f.last[key]; !ok || !prev.at.After(e.At) {
		f.last[key] = &lastMsg{id: e.ID, at: e.At, author: author, kind: kind}
	}

	if kind == authorBrand && e.Source == event.SourceOutbox {
		content, err := f.pushedContent(ctx, t, e.SourceID)
		if err != nil {
			return err
		}
		if content != 0 {
			if p, ok := f.pushes[key]; !ok || !p.at.After(e.At) {
				f.pushes[key] = push{content: content, at: e.At}
			}
			d.content(t, content, "sends", day, 1)
		}
	} else if kind == authorMember {
		p, ok := f.pushes[key]
		if !ok || p.at.After(e.At) {
			if p, err = f.lastPush(ctx, t, g, e.At); err != nil {
				return err
			}
			f.pushes[key] = p
		}
		if p.content != 0 && !e.At.Before(p.at) && e.At.Sub(p.at) <= ReplyWindow {
			d.content(t, p.content, "replies", day, 1)
		}
	}
	return nil
}

// answered is the kind of author a message answered: its explicit reply
// target, else the previous message of the group by another author
// within TurnWindow; 0 for none.
func (f *folder) answered(ctx context.Context, e *event.Event, m event.MessageData, author string, tl *tail) (int, error) {
	if m.ReplyTo != 0 {
		var member, staff sql.NullInt64
		var source, data string
		err := f.q.QueryRowContext(ctx, `SELECT member_id, staff_id, source, data FROM events WHERE tenant_id = $1 AND id = $2`,
			e.TenantID, m.ReplyTo).Scan(&member, &staff, &source, &data)
		if err == nil {
			k, _, err := f.kindOf(ctx, e.TenantID, member.Int64, staff.Int64, source, data)
			return k, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("analytics: reply target: %w", err)
		}
	}
	prev, err := f.previous(ctx, e, tl)
	if err != nil {
		return 0, err
	}
	return turn(author, e.At, prev), nil
}

// turn is the kind of author a message of author at `at` answered
// without an explicit reply: prev's, when prev is another author's
// within TurnWindow before it; 0 for none.
func turn(author string, at time.Time, prev *lastMsg) int {
	if prev == nil || prev.author == author {
		return 0
	}
	if gap := at.Sub(prev.at); gap < 0 || gap > TurnWindow {
		return 0
	}
	return prev.kind
}

// previous is the group's message before e (by time, then id) among
// those folded before it, within TurnWindow; nil for none. Only messages
// folded before count, so that a message's turn is settled by what the
// rollup has seen, whatever the batches: a late message corrects the
// turn of the one after it (retakeTurn).
func (f *folder) previous(ctx context.Context, e *event.Event, tl *tail) (*lastMsg, error) {
	// The batch's latest message, when nothing folded before the batch
	// is later: then it is the latest message folded.
	if prev, ok := f.last[[2]int64{e.TenantID, e.GroupID}]; ok && !prev.at.After(e.At) && store.Millis(prev.at) >= tl.stored {
		return prev, nil
	}
	// Read through the (tenant, type, at) index within the window only.
	folded, args := f.foldedBefore()
	var member, staff sql.NullInt64
	var source, data string
	var id, at int64
	err := f.q.QueryRowContext(ctx, `SELECT id, at, member_id, staff_id, source, data FROM events
		WHERE tenant_id = $1 AND type = $2 AND at >= $3 AND at <= $4 AND group_id = $5 AND (at < $4 OR id < $6)`+folded+`
		ORDER BY at DESC, id DESC LIMIT 1`,
		append([]any{e.TenantID, string(event.Message), store.Millis(e.At.Add(-TurnWindow)), store.Millis(e.At), e.GroupID, e.ID}, args...)...,
	).Scan(&id, &at, &member, &staff, &source, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("analytics: previous message: %w", err)
	}
	k, a, err := f.kindOf(ctx, e.TenantID, member.Int64, staff.Int64, source, data)
	if err != nil {
		return nil, err
	}
	return &lastMsg{id: id, at: store.Time(at), author: a, kind: k}, nil
}

// retakeTurn corrects the message that follows a late message e in its
// group (by time, among those folded, within TurnWindow): without an
// explicit reply it answered e's previous message, and now answers e.
func (f *folder) retakeTurn(ctx context.Context, e *event.Event, author string, kind int, tl *tail) error {
	folded, args := f.foldedBefore()
	var member, staff sql.NullInt64
	var source, data string
	var id, at int64
	err := f.q.QueryRowContext(ctx, `SELECT id, at, member_id, staff_id, source, data FROM events
		WHERE tenant_id = $1 AND type = $2 AND at >= $3 AND at <= $4 AND group_id = $5 AND (at > $3 OR id > $6)`+folded+`
		ORDER BY at, id LIMIT 1`,
		append([]any{e.TenantID, string(event.Message), store.Millis(e.At), store.Millis(e.At.Add(TurnWindow)), e.GroupID, e.ID}, args...)...,
	).Scan(&id, &at, &member, &staff, &source, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("analytics: next message: %w", err)
	}
	var nm event.MessageData
	_ = (event.Event{Data: []byte(data)}).Decode(&nm)
	if nm.ReplyTo != 0 {
		var one int
		err := f.q.QueryRowContext(ctx, `SELECT 1 FROM events WHERE tenant_id = $1 AND id = $2`, e.TenantID, nm.ReplyTo).Scan(&one)
		if err == nil {
			return nil // it answered its reply target
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("analytics: reply target: %w", err)
		}
	}
	nKind, nAuthor, err := f.kindOf(ctx, e.TenantID, member.Int64, staff.Int64, source, data)
	if err != nil {
		return err
	}
	prev, err := f.previous(ctx, e, tl)
	if err != nil {
		return err
	}
	nAt := store.Time(at)
	was, now := turn(nAuthor, nAt, prev), turn(nAuthor, nAt, &lastMsg{id: e.ID, at: e.At, author: author, kind: kind})
	if was == now {
		return nil
	}
	loc, err := f.r.loc(ctx, f.q, e.TenantID)
	if err != nil {
		return err
	}
	f.countTurn(e.TenantID, e.GroupID, DayOf(nAt, loc), nKind, member.Int64, was, -1)
	f.countTurn(e.TenantID, e.GroupID, DayOf(nAt, loc), nKind, member.Int64, now, 1)
	return nil
}

// countTurn adds n to the counters of a message of kind (by member)
// that answered target.
func (f *folder) countTurn(t, g int64, day Day, kind int, member int64, target int, n int64) {
	d := f.d
	switch {
	case kind == authorMember && target == authorMember:
		d.add(t, "to_member", day, g, n)
		d.member(t, day, g, member).toMember += n
	case kind == authorMember && target == authorBrand:
		d.add(t, "to_brand", day, g, n)
		d.member(t, day, g, member).toBrand += n
	case kind == authorBrand && target == authorMember:
		d.add(t, "brand_to_member", day, g, n)
	}
}

// kindOf is the author kind and key of a stored message.
func (f *folder) kindOf(ctx context.Context, tenantID, member, staff int64, source, data string) (int, string, error) {
	var m event.MessageData
	if data != "" {
		_ = (event.Event{Data: []byte(data)}).Decode(&m)
	}
	if source == event.SourceOutbox || staff != 0 || m.PersonaID != 0 || member == 0 {
		return authorBrand, fmt.Sprintf("b%d:%d", staff, m.PersonaID), nil
	}
	isStaff, err := f.isStaff(ctx, tenantID, member)
	if err != nil {
		return 0, "", err
	}
	if isStaff {
		return authorBrand, fmt.Sprintf("m%d", member), nil
	}
	return authorMember, fmt.Sprintf("m%d", member), nil
}

// pushedContent is the content item of the campaign job whose key an
// outbox message was sent under (0: not a campaign push).
func (f *folder) pushedContent(ctx context.Context, tenantID int64, key string) (int64, error) {
	if key == "" {
		return 0, nil
	}
	var content int64
	err := f.q.QueryRowContext(ctx, `SELECT content_id FROM campaign_jobs WHERE tenant_id = $1 AND key = $2`, tenantID, key).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("analytics: push content: %w", err)
	}
	return content, nil
}

// lastPush is the latest campaign push to a group within ReplyWindow
// before at (content 0: none).
func (f *folder) lastPush(ctx context.Context, tenantID, groupID int64, at time.Time) (push, error) {
	var pushed, content int64
	err := f.q.QueryRowContext(ctx, `SELECT e.at, j.content_id FROM events e
		JOIN campaign_jobs j ON j.tenant_id = e.tenant_id AND j.key = e.source_id
		WHERE e.tenant_id = $1 AND e.type = $2 AND e.at >= $3 AND e.at <= $4 AND e.group_id = $5 AND e.source = $6
		ORDER BY e.at DESC, e.id DESC LIMIT 1`, tenantID, string(event.Message), store.Millis(at.Add(-ReplyWindow)), store.Millis(at),
		groupID, event.SourceOutbox).Scan(&pushed, &content)
	if errors.Is(err, sql.ErrNoRows) {
		return push{at: at}, nil
	}
	if err != nil {
		return push{}, fmt.Errorf("analytics: last push: %w", err)
	}
	return push{content: content, at: store.Time(pushed)}, nil
}

// Rebuild empties the rollup tables and moves the cursor back to the
// start, so the next passes replay the whole log (after a tenant's time
// zone changed, or a staff tag was added to past messages' authors).
func (r *Rollup) Rebuild(ctx context.Context) error {
	r.ForgetZones()
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		// The cursor first: a pass still running (another node) is
		// waited for, so what it adds is deleted below, not kept and
		// replayed; a later one finds the cursor moved and rolls back.
		if _, err := tx.ExecContext(ctx, `UPDATE analytics_cursor SET last_tx = 0, last_id = 0 WHERE name = $1`, cursorName); err != nil {
			return fmt.Errorf("analytics: rebuild: %w", err)
		}
		for _, t := range []string{"an_daily", "an_hourly", "an_member_day", "an_members", "an_content"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return fmt.Errorf("analytics: rebuild %s: %w", t, err)
			}
		}
		return nil
	})
}
