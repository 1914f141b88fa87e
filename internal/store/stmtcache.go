package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// stmtCache keeps statements prepared on SQLite's writer connection for the
// group committer's transactions. Compiling a statement (parsing and code
// generation) is most of what a small write costs SQLite — more than half
// of a coupon claim's CPU — and database/sql prepares afresh on every
// call. The batch cannot prepare on the pool while its transaction holds
// the one writer connection, so a statement first met in a batch runs
// unprepared and is prepared after the commit, for the batches after.
// (PostgreSQL needs none of this: pgx caches prepared statements per
// connection itself.)
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	wanted  map[string]bool
	refused map[string]bool // failed to prepare: not tried again
}

// maxCachedStmts bounds the cache: the group runs a few fixed statements;
// a caller building SQL text per call would otherwise fill it.
const maxCachedStmts = 128

func newStmtCache() *stmtCache {
	return &stmtCache{stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}, refused: map[string]bool{}}
}

// get returns the prepared statement for query, or nil (and notes it as
// wanted) when there is none yet.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[query]; st != nil {
		return st
	}
	if !c.refused[query] && len(c.stmts)+len(c.wanted) < maxCachedStmts && !strings.Contains(query, ";") {
		c.wanted[query] = true
	}
	return nil
}

// prepare prepares the statements wanted since the last call, on w; called
// outside any transaction of w.
func (c *stmtCache) prepare(ctx context.Context, w *sql.DB) {
	c.mu.Lock()
	var todo []string
	for q := range c.wanted {
		todo = append(todo, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range todo {
		st, err := w.PrepareContext(ctx, q)
		c.mu.Lock()
		if err != nil {
			c.refused[q] = true
		} else {
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

// cached is the statement query bound to tx, if the cache has it.
func (tx *Tx) cached(ctx context.Context, query string) *sql.Stmt {
	if tx.cache == nil {
		return nil
	}
	if st := tx.bound[query]; st != nil {
		return st
	}
	st := tx.cache.get(query)
	if st == nil {
		return nil
	}
	if tx.bound == nil {
		tx.bound = map[string]*sql.Stmt{}
	}
	st = tx.Tx.StmtContext(ctx, st)
	tx.bound[query] = st
	return st
}

// ExecContext is sql.Tx's, through a cached statement when there is one.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.cached(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryContext is sql.Tx's, through a cached statement when there is one.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := tx.cached(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext is sql.Tx's, through a cached statement when there is
// one.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := tx.cached(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

// readStmts caches statements prepared on SQLite's reader pool (ReadRow).
type readStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// ReadRow is db.R.QueryRowContext for a hot read whose text is fixed (a
// claim's pre-check): on SQLite through a statement prepared once per
// reader connection instead of compiled on every call. Not for SQL built
// per call: the cache keeps every text it is given.
func (db *DB) ReadRow(ctx context.Context, query string, args ...any) *sql.Row {
	if db.Dialect != SQLite {
		return db.R.QueryRowContext(ctx, query, args...)
	}
	db.reads.mu.Lock()
	st := db.reads.m[query]
	if st == nil {
		var err error
		if st, err = db.R.PrepareContext(ctx, query); err != nil {
			db.reads.mu.Unlock()
			return db.R.QueryRowContext(ctx, query, args...) // reports the error
		}
		if db.reads.m == nil {
			db.reads.m = map[string]*sql.Stmt{}
		}
		db.reads.m[query] = st
	}
	db.reads.mu.Unlock()
	return st.QueryRowContext(ctx, args...)
}
