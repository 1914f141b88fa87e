package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func hasTenant(t *testing.T, db *store.DB, slug string) bool {
	t.Helper()
	ok, err := store.Exists(context.Background(), db.R, `SELECT COUNT(*) FROM tenants WHERE slug = $1`, slug)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// waitFor polls cond (a state another goroutine reaches, not a duration):
// the deadline only turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// insertTenant is a request adding a tenant (the slug is unique).
func insertTenant(slug string) func(ctx context.Context, tx *store.Tx) error {
	return func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenants (slug, name, created_at) VALUES ($1, $1, 1)`, slug)
		return err
	}
}

func TestSavepoints(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		var ran []string
		hook := func(tx *store.Tx, name string) {
			tx.AfterCommit(func() { ran = append(ran, name) })
			tx.AfterCommitInOrder(func() { ran = append(ran, name+"(ordered)") })
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			addTenant(t, tx, "kept-before")
			hook(tx, "a")
			if err := tx.Savepoint(ctx, "outer"); err != nil {
				return err
			}
			addTenant(t, tx, "undone")
			hook(tx, "b")
			if err := tx.Savepoint(ctx, "inner"); err != nil {
				return err
			}
			addTenant(t, tx, "undone-inner")
			hook(tx, "c")
			// A failing statement: on PostgreSQL it aborts the transaction
			// until ROLLBACK TO.
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (slug, name, created_at) VALUES ('undone', 'x', 1)`); !store.IsUniqueViolation(err) {
				return fmt.Errorf("duplicate insert: %v, want a unique violation", err)
			}
			if err := tx.RollbackTo(ctx, "outer"); err != nil {
				return err
			}
			// The inner savepoint went with it.
			if err := tx.Release(ctx, "inner"); !errors.Is(err, store.ErrInvalid) {
				return fmt.Errorf("release of a rolled-back savepoint = %v, want ErrInvalid", err)
			}
			addTenant(t, tx, "kept-after")
			hook(tx, "d")
			if err := tx.Savepoint(ctx, "outer2"); err != nil {
				return err
			}
			addTenant(t, tx, "kept-released")
			hook(tx, "e")
			if err := tx.Release(ctx, "outer2"); err != nil {
				return err
			}
			if err := tx.Release(ctx, "outer"); err != nil {
				return err
			}
			if err := tx.Savepoint(ctx, "bad name; DROP TABLE tenants"); !errors.Is(err, store.ErrInvalid) {
				return fmt.Errorf("savepoint with a bad name = %v, want ErrInvalid", err)
			}
			if err := tx.RollbackTo(ctx, "never"); !errors.Is(err, store.ErrInvalid) {
				return fmt.Errorf("rollback to an unknown savepoint = %v, want ErrInvalid", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for slug, want := range map[string]bool{"kept-before": true, "undone": false, "undone-inner": false, "kept-after": true, "kept-released": true} {
			if got := hasTenant(t, db, slug); got != want {
				t.Errorf("tenant %s stored: %v, want %v", slug, got, want)
			}
		}
		want := fmt.Sprint([]string{"a(ordered)", "d(ordered)", "e(ordered)", "a", "d", "e"})
		if fmt.Sprint(ran) != want {
			t.Errorf("hooks run: %v, want %v", ran, want)
		}
	})
}

// blocker is a request that holds the group's worker until release is
// closed, so that the requests sent meanwhile form the next batch.
func blocker(started chan<- *store.Tx, release <-chan struct{}, slug string) func(ctx context.Context, tx *store.Tx) error {
	return func(ctx context.Context, tx *store.Tx) error {
		started <- tx
		<-release
		return insertTenant(slug)(ctx, tx)
	}
}

func TestGroupFailureIsolated(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		g := store.NewGroup(db, store.GroupOptions{MaxBatch: 64})
		addTenant(t, db.W, "taken")
		started, release := make(chan *store.Tx, 1), make(chan struct{})
		var first error
		var wg sync.WaitGroup
		wg.Go(func() { first = g.InTx(ctx, blocker(started, release, "first")) })
		firstTx := <-started

		boom := errors.New("boom")
		const n = 12
		errs := make([]error, n)
		txs := make([]*store.Tx, n)
		var hooks sync.Map
		for i := range n {
			wg.Go(func() {
				errs[i] = g.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
					txs[i] = tx
					slug := fmt.Sprintf("r%d", i)
					if err := insertTenant(slug)(ctx, tx); err != nil {
						return err
					}
					tx.AfterCommit(func() { hooks.Store(slug, true) })
					tx.AfterCommitInOrder(func() { hooks.Store(slug+"/ordered", true) })
					switch i {
					case 4: // fails after writing and registering hooks
						return boom
					case 7: // a failing statement (PostgreSQL: aborts the transaction until ROLLBACK TO)
						return insertTenant("taken")(ctx, tx)
					}
					return nil
				})
			})
		}
		waitFor(t, "the requests to queue", func() bool { return store.GroupQueued(g) == n })
		close(release)
		wg.Wait()
		if first != nil {
			t.Fatalf("first request: %v", first)
		}
		for i := range n {
			slug := fmt.Sprintf("r%d", i)
			_, hooked := hooks.Load(slug)
			_, ordered := hooks.Load(slug + "/ordered")
			switch i {
			case 4:
				if !errors.Is(errs[i], boom) {
					t.Errorf("request %d: %v, want its own error", i, errs[i])
				}
			case 7:
				if !store.IsUniqueViolation(errs[i]) {
					t.Errorf("request %d: %v, want a unique violation", i, errs[i])
				}
			default:
				if errs[i] != nil {
					t.Errorf("request %d: %v", i, errs[i])
				}
			}
			failed := i == 4 || i == 7
			if hasTenant(t, db, slug) == failed || hooked == failed || ordered == failed {
				t.Errorf("request %d (failed %v): stored %v, hooks run %v/%v", i, failed, hasTenant(t, db, slug), hooked, ordered)
			}
			if txs[i] != txs[0] || txs[i] == firstTx {
				t.Errorf("request %d ran in transaction %p, want the second batch's %p", i, txs[i], txs[0])
			}
		}
		if batches, requests := g.Stats(); batches != 2 || requests != n+1 {
			t.Errorf("stats: %d batches, %d requests; want 2, %d", batches, requests, n+1)
		}
		waitFor(t, "the worker to end", func() bool { return store.GroupIdle(g) })
	})
}

func TestGroupCancel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		g := store.NewGroup(db, store.GroupOptions{})
		done, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		if err := g.InTx(done, func(ctx context.Context, tx *store.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
			t.Fatalf("cancelled request: %v, ran %v; want context.Canceled, not run", err, ran)
		}

		// The first request's caller gives up while it runs: it still
		// commits, and says so.
		firstCtx, cancelFirst := context.WithCancel(context.Background())
		started, release := make(chan *store.Tx, 1), make(chan struct{})
		var first error
		var wg sync.WaitGroup
		wg.Go(func() { first = g.InTx(firstCtx, blocker(started, release, "running")) })
		<-started
		cancelFirst()

		// A queued request whose caller gives up is answered at once and
		// never runs.
		queuedCtx, cancelQueued := context.WithCancel(context.Background())
		var queuedRan atomic.Bool
		queuedDone := make(chan error, 1)
		go func() {
			queuedDone <- g.InTx(queuedCtx, func(ctx context.Context, tx *store.Tx) error {
				queuedRan.Store(true)
				return insertTenant("queued")(ctx, tx)
			})
		}()
		waitFor(t, "the request to queue", func() bool { return store.GroupQueued(g) == 1 })
		cancelQueued()
		queued := <-queuedDone // while the worker is still held by the first
		var other error
		wg.Go(func() { other = g.InTx(context.Background(), insertTenant("other")) })
		waitFor(t, "the other request to queue", func() bool { return store.GroupQueued(g) == 2 })
		close(release)
		wg.Wait()
		if first != nil || !hasTenant(t, db, "running") {
			t.Errorf("request cancelled while running: %v, stored %v; want nil, stored", first, hasTenant(t, db, "running"))
		}
		if !errors.Is(queued, context.Canceled) || queuedRan.Load() || hasTenant(t, db, "queued") {
			t.Errorf("request cancelled while queued: %v, ran %v; want context.Canceled, not run", queued, queuedRan.Load())
		}
		if other != nil || !hasTenant(t, db, "other") {
			t.Errorf("other request: %v", other)
		}
		waitFor(t, "the worker to end", func() bool { return store.GroupIdle(g) })
	})
}

func TestGroupCommitFailureFailsAll(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		// A deferred foreign key is checked at COMMIT: a request breaking
		// it makes the whole batch's commit fail.
		for _, q := range []string{
			`CREATE TABLE gparent (id BIGINT PRIMARY KEY)`,
			`CREATE TABLE gchild (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL REFERENCES gparent (id) DEFERRABLE INITIALLY DEFERRED)`,
		} {
			if _, err := db.W.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		g := store.NewGroup(db, store.GroupOptions{})
		started, release := make(chan *store.Tx, 1), make(chan struct{})
		var wg sync.WaitGroup
		var first error
		wg.Go(func() { first = g.InTx(ctx, blocker(started, release, "first")) })
		<-started
		errs := make([]error, 3)
		hooked := make([]atomic.Bool, 3)
		for i := range 3 {
			wg.Go(func() {
				errs[i] = g.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
					tx.AfterCommit(func() { hooked[i].Store(true) })
					if i == 1 {
						_, err := tx.ExecContext(ctx, `INSERT INTO gchild (id, parent_id) VALUES (1, 99)`)
						return err
					}
					return insertTenant(fmt.Sprintf("c%d", i))(ctx, tx)
				})
			})
		}
		waitFor(t, "the requests to queue", func() bool { return store.GroupQueued(g) == 3 })
		close(release)
		wg.Wait()
		if first != nil {
			t.Fatal(first)
		}
		for i := range 3 {
			if errs[i] == nil || hooked[i].Load() {
				t.Errorf("request %d of a batch whose commit failed: %v, hooks run %v; want an error, no hooks", i, errs[i], hooked[i].Load())
			}
		}
		if hasTenant(t, db, "c0") || hasTenant(t, db, "c2") {
			t.Error("a batch whose commit failed left rows behind")
		}
		if err := g.InTx(ctx, insertTenant("after")); err != nil {
			t.Fatalf("the group after a failed commit: %v", err)
		}
	})
}

func TestGroupPanic(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	g := store.NewGroup(db, store.GroupOptions{})
	ctx := context.Background()
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Errorf("recovered %v, want the request's panic", p)
			}
		}()
		g.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			insertTenant("panicked")(ctx, tx)
			panic("kaboom")
		})
	}()
	if err := g.InTx(ctx, insertTenant("next")); err != nil || hasTenant(t, db, "panicked") || !hasTenant(t, db, "next") {
		t.Fatalf("after a panic: %v", err)
	}
}

// TestGroupRace has 10,000 requests from 64 goroutines take units of one
// stock of 2,500 with a conditional decrement: exactly 2,500 succeed and
// each success's row is written, however the batches fall.
func TestGroupRace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		if _, err := db.W.ExecContext(ctx, `CREATE TABLE gstock (id BIGINT PRIMARY KEY, left_n BIGINT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `CREATE TABLE gtaken (id BIGINT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `INSERT INTO gstock (id, left_n) VALUES (1, 2500)`); err != nil {
			t.Fatal(err)
		}
		soldOut := errors.New("sold out")
		const requests, stock = 10_000, 2500
		var next, ok, hooks atomic.Int64
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for k := next.Add(1); k <= requests; k = next.Add(1) {
					err := db.InGroupTx(ctx, func(ctx context.Context, tx *store.Tx) error {
						if _, err := tx.ExecContext(ctx, `INSERT INTO gtaken (id) VALUES ($1)`, k); err != nil {
							return err
						}
						var left int64
						err := tx.QueryRowContext(ctx, `UPDATE gstock SET left_n = left_n - 1 WHERE id = 1 AND left_n > 0 RETURNING left_n`).Scan(&left)
						if err != nil {
							return soldOut // the insert above is rolled back with it
						}
						tx.AfterCommit(func() { hooks.Add(1) })
						return nil
					})
					switch {
					case err == nil:
						ok.Add(1)
					case !errors.Is(err, soldOut):
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		var left, taken int64
		db.R.QueryRowContext(ctx, `SELECT left_n FROM gstock WHERE id = 1`).Scan(&left)
		db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM gtaken`).Scan(&taken)
		if ok.Load() != stock || left != 0 || taken != stock || hooks.Load() != stock {
			t.Fatalf("%d succeeded, %d left, %d rows, %d hooks; want %d, 0, %d, %d", ok.Load(), left, taken, hooks.Load(), stock, stock, stock)
		}
	})
}

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "pg error " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

func TestRetryable(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]bool{
		nil:                  false,
		errors.New("boom"):   false,
		sqlStateErr("40P01"): true,
		fmt.Errorf("x: %w", sqlStateErr("40001")):               true,
		sqlStateErr("23505"):                                    false,
		errors.New("ERROR: deadlock detected (SQLSTATE 40P01)"): true,
	} {
		if got := store.Retryable(err); got != want {
			t.Errorf("Retryable(%v) = %v, want %v", err, got, want)
		}
	}
}

// TestGroupDeadlockRetried makes a batched request the victim of a
// PostgreSQL deadlock with another transaction: it is rolled back to its
// savepoint (its locks freed, so the other commits) and run again alone.
func TestGroupDeadlockRetried(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	for _, q := range []string{`CREATE TABLE glock (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)`, `INSERT INTO glock VALUES (1, 0), (2, 0)`} {
		if _, err := db.W.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	g := store.NewGroup(db, store.GroupOptions{})
	locked, otherWaits, otherDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	var wg sync.WaitGroup
	var groupErr, otherErr error
	wg.Go(func() {
		groupErr = g.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			if calls.Add(1) > 1 { // the retry, alone: no deadlock now
				// After the other transaction ends: started while it still
				// waited for row 1, the retry could take row 1 first and
				// deadlock again (a flake on a busy machine).
				<-otherDone
				_, err := tx.ExecContext(ctx, `UPDATE glock SET n = n + 1 WHERE id IN (1, 2)`)
				return err
			}
			// This side checks for deadlocks first, so it is the victim.
			if _, err := tx.ExecContext(ctx, `SET LOCAL deadlock_timeout = '20ms'`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE glock SET n = n + 1 WHERE id = 1`); err != nil {
				return err
			}
			close(locked)
			<-otherWaits
			_, err := tx.ExecContext(ctx, `UPDATE glock SET n = n + 1 WHERE id = 2`)
			return err
		})
	})
	wg.Go(func() {
		defer close(otherDone)
		otherErr = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL deadlock_timeout = '10s'`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE glock SET n = n + 10 WHERE id = 2`); err != nil {
				return err
			}
			<-locked
			go func() {
				// Tell the batch to go once this transaction waits on row 1.
				for {
					ok, err := store.Exists(ctx, db.R, `SELECT COUNT(*) FROM pg_stat_activity
						WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE glock SET n = n + 10 WHERE id = 1%'`)
					if ok || err != nil {
						break
					}
					time.Sleep(time.Millisecond)
				}
				close(otherWaits)
			}()
			_, err := tx.ExecContext(ctx, `UPDATE glock SET n = n + 10 WHERE id = 1`)
			return err
		})
	})
	wg.Wait()
	if groupErr != nil || otherErr != nil || calls.Load() != 2 {
		t.Fatalf("batched request: %v, other: %v, calls %d; want nil, nil, 2", groupErr, otherErr, calls.Load())
	}
	var sum int64
	db.R.QueryRowContext(ctx, `SELECT SUM(n) FROM glock`).Scan(&sum)
	if sum != 22 {
		t.Fatalf("sum %d, want 22 (each row +10 once and +1 once)", sum)
	}
}
