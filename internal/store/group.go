package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Group commits many small write transactions as one: group commit.
//
// A write transaction's own cost — BEGIN IMMEDIATE and COMMIT on SQLite's
// single writer connection, a commit round trip and a WAL flush on
// PostgreSQL — dwarfs that of the few statements of a coupon or flash-sale
// claim, so a thousand members claiming at once queue on commits. A Group
// takes the requests waiting (up to MaxBatch), runs them in ONE
// transaction, each inside its own savepoint, and commits once:
//
//   - a request whose fn returns an error is rolled back to its savepoint —
//     its writes and the after-commit hooks it registered (an appended
//     event's publication) are dropped — and gets that error, unchanged;
//     the others carry on. On PostgreSQL the ROLLBACK TO also recovers the
//     transaction from a failed statement (a unique violation);
//   - if the batch itself fails (BEGIN, a savepoint statement, COMMIT),
//     nothing of it is written and every request not already refused gets
//     that error: none is retried blindly, since a commit that failed on a
//     lost connection may or may not have happened — the caller decides, as
//     with InTx;
//   - a request that failed on a deadlock or a serialization failure
//     (PostgreSQL: another transaction holds a row it needs in an order
//     that cannot be resolved) is run again, alone, in its own transaction
//     by its caller;
//   - a request whose ctx is done before the group takes it is answered
//     with ctx.Err() and never runs. Once taken it runs to completion (fn's
//     ctx keeps the caller's values but not its cancellation: a statement
//     cancelled half-way would break the connection — on PostgreSQL, the
//     whole batch's transaction), and its caller gets its true outcome.
//
// So a request's effects are all in or all out, and its caller learns
// which: when InTx returns nil the request is committed and its hooks have
// run, as with DB.InTx.
//
// The worker goroutines start when a request arrives and end as soon as
// nothing waits, so an idle Group holds no goroutine and needs no Close.
// Batches form by themselves: while one commits, the next requests queue.
// On SQLite the batches' statements are prepared once and reused
// (stmtcache.go): compiling SQL is most of a small write's cost there.
//
// This is hand-written: no library offers group commit over database/sql
// (pgx's batches pipeline statements of one caller, not transactions of
// many; SQLite drivers have nothing of the kind).
type Group struct {
	db      *DB
	max     int
	workers int

	mu      sync.Mutex
	queue   []*groupRequest
	running int // worker goroutines alive

	stmts *stmtCache // SQLite: the batches' prepared statements

	batches, requests atomic.Int64
}

// GroupOptions size a Group; zero values take the defaults.
type GroupOptions struct {
	// MaxBatch is the most requests in one transaction (default 64).
	MaxBatch int
	// Workers is the most batches in flight at once (default 1: on SQLite
	// there is one writer; on PostgreSQL concurrent batches of claims on
	// one hot row would only queue on its lock, and across different rows
	// they could deadlock one another).
	Workers int
}

// NewGroup returns a Group committing on db.
func NewGroup(db *DB, o GroupOptions) *Group {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 64
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	g := &Group{db: db, max: o.MaxBatch, workers: o.Workers}
	if db.Dialect == SQLite {
		g.stmts = newStmtCache()
	}
	return g
}

// InGroupTx runs fn like InTx, batched with other callers' requests by the
// database's shared Group (see Group). fn must be a short unit of work that
// reads and writes only through tx and starts no transaction; nor may a
// caller holding a transaction call it (on SQLite both would wait for the
// one writer connection forever).
func (db *DB) InGroupTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	db.groupOnce.Do(func() { db.group = NewGroup(db, GroupOptions{}) })
	return db.group.InTx(ctx, fn)
}

// GroupStats are the Stats of the database's shared Group (benchmarks:
// requests ÷ batches is the mean batch).
func (db *DB) GroupStats() (batches, requests int64) {
	db.groupOnce.Do(func() { db.group = NewGroup(db, GroupOptions{}) })
	return db.group.Stats()
}

type groupRequest struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *Tx) error
	done chan error // buffered: the worker never waits for the caller
	// Under Group.mu:
	taken   bool // a worker has it: it will be answered
	dropped bool // its caller gave up before it was taken
	// Set by the worker before done is sent:
	panicked any  // fn's panic, raised again in the caller
	retry    bool // failed on a deadlock: run it alone
}

// InTx runs fn in a transaction shared with other requests, inside its own
// savepoint; see Group for what is guaranteed. A panic in fn is raised
// again in the caller's goroutine.
func (g *Group) InTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &groupRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if g.running < g.workers {
		g.running++
		go g.work()
	}
	g.mu.Unlock()
	var err error
	select {
	case err = <-r.done:
	case <-ctx.Done():
		g.mu.Lock()
		if !r.taken {
			r.dropped = true
			g.mu.Unlock()
			return ctx.Err()
		}
		g.mu.Unlock()
		err = <-r.done
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	if r.retry {
		return g.db.InTx(ctx, func(tx *Tx) error { return fn(ctx, tx) })
	}
	return err
}

// Stats are how many batches the group committed or tried to, and how
// many requests they ran.
func (g *Group) Stats() (batches, requests int64) { return g.batches.Load(), g.requests.Load() }

// idle reports whether no worker is running (tests: no goroutine leaks).
func (g *Group) idle() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running == 0
}

// work runs batches until nothing waits, then ends.
func (g *Group) work() {
	for {
		batch := g.take()
		if batch == nil {
			return
		}
		g.run(batch)
	}
}

// take removes up to max requests from the queue for a batch; requests
// whose caller is gone are answered, not run. nil when the queue is empty
// (and the worker is then counted out, under the same lock a submitter
// checks).
func (g *Group) take() []*groupRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	var batch []*groupRequest
	n := 0
	for ; n < len(g.queue) && len(batch) < g.max; n++ {
		r := g.queue[n]
		g.queue[n] = nil
		switch {
		case r.dropped:
			continue
		case r.ctx.Err() != nil:
			r.taken = true
			r.done <- r.ctx.Err()
			continue
		}
		r.taken = true
		batch = append(batch, r)
	}
	g.queue = g.queue[n:]
	if len(g.queue) == 0 {
		g.queue = nil // let the array go
	}
	if len(batch) == 0 && len(g.queue) == 0 {
		g.running--
		return nil
	}
	return batch
}

// groupSavepoint is the savepoint each request runs in; released or rolled
// back before the next, so one name serves.
const groupSavepoint = "liveloop_group"

// run commits one batch and answers its requests.
func (g *Group) run(batch []*groupRequest) {
	g.batches.Add(1)
	g.requests.Add(int64(len(batch)))
	// The batch belongs to no one caller: a caller cancelling must not
	// abort the others' transaction.
	ctx := context.Background()
	results := make([]error, len(batch))
	ok := make([]bool, len(batch)) // ran and kept, pending the commit
	fail := func(err error) {
		for i := range batch {
			if ok[i] || (results[i] == nil && !batch[i].retry) {
				results[i] = err
			}
		}
	}
	sqlTx, err := g.db.W.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("store: begin: %w", err))
		g.answer(batch, results)
		return
	}
	tx := &Tx{Tx: sqlTx, cache: g.stmts}
	// One savepoint, moved past each request kept (RELEASE and SAVEPOINT
	// in one round trip) and kept where it is when a request is rolled
	// back to it: a request costs one statement more than alone.
	abort := func(err error) {
		_ = sqlTx.Rollback()
		fail(err)
		g.answer(batch, results)
	}
	if err := tx.Savepoint(ctx, groupSavepoint); err != nil {
		abort(err)
		return
	}
	for i, r := range batch {
		err := call(r, context.WithoutCancel(r.ctx), tx)
		keep := err == nil && r.panicked == nil
		results[i], ok[i] = err, keep
		var spErr error
		switch {
		case keep && i == len(batch)-1:
			// The commit releases it.
		case keep:
			spErr = tx.advance(ctx, groupSavepoint)
		default:
			spErr = tx.RollbackTo(ctx, groupSavepoint)
			r.retry = r.panicked == nil && Retryable(err)
		}
		if spErr != nil {
			// The transaction is in an unknown state: give it all up.
			abort(spErr)
			return
		}
	}
	if err := g.db.commit(tx); err != nil {
		fail(err)
	}
	g.answer(batch, results)
	if g.stmts != nil {
		g.stmts.prepare(ctx, g.db.W)
	}
}

func (g *Group) answer(batch []*groupRequest, results []error) {
	for i, r := range batch {
		r.done <- results[i]
	}
}

// call runs r's fn, catching a panic into r.panicked.
func call(r *groupRequest, ctx context.Context, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked = p
			err = fmt.Errorf("store: group request panicked: %v", p)
		}
	}()
	return r.fn(ctx, tx)
}

// Retryable reports whether err is a PostgreSQL deadlock (40P01) or
// serialization failure (40001): the transaction may succeed if run
// again.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		switch coded.SQLState() {
		case "40P01", "40001":
			return true
		}
		return false
	}
	s := err.Error()
	return strings.Contains(s, "SQLSTATE 40P01") || strings.Contains(s, "SQLSTATE 40001")
}
