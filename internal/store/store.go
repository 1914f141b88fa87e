package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Sentinel errors the feature packages return and the web layer maps once.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrForbidden = errors.New("forbidden")
	ErrInvalid   = errors.New("invalid")
)

// Querier is what both *sql.DB and *sql.Tx offer; repository functions take
// one so they run inside or outside a transaction alike.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open liveloop database.
//
// On SQLite there are two pools over the same file, as pocketbase does: a
// single-connection writer (SQLite admits one writer at a time; queueing in
// Go is cheaper than spinning on SQLITE_BUSY) and a reader pool that WAL lets
// run beside it. On PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	W       *sql.DB // writes and transactions
	R       *sql.DB // reads that need no transaction
	path    string  // SQLite file path ("" for PostgreSQL)
	dsn     string
	// ordered serialises a commit with its ordered hooks (publishing
	// events), so events are published in the order they committed.
	ordered sync.Mutex
	// group batches small write transactions (InGroupTx, group.go).
	groupOnce sync.Once
	group     *Group
	reads     readStmts // ReadRow's prepared statements (SQLite)
}

// Open opens the database named by dsn: a postgres:// or postgresql:// URL,
// or a SQLite file path (optionally prefixed with sqlite:// or file:).
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	return openSQLite(ctx, path)
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect postgres %s: %w", redactDSN(dsn), err)
	}
	return &DB{Dialect: Postgres, W: db, R: db, dsn: dsn}, nil
}

// sqlitePragmas are set on every connection. busy_timeout comes first so that
// switching to WAL waits instead of failing when another process holds the
// file; synchronous=NORMAL is durable across application crashes in WAL mode
// (a power loss may lose the last commits, never corrupt the file).
var sqlitePragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"synchronous(NORMAL)",
	"foreign_keys(ON)",
	"temp_store(MEMORY)",
	"cache_size(-32000)",
}

func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction, so
	// two writers queue on busy_timeout instead of one failing at commit.
	q.Set("_txlock", "immediate")
	if readOnly {
		q.Set("mode", "ro")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("store: %s: cannot use WAL mode (got %q, %v)", path, mode, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{Dialect: SQLite, W: w, R: r, path: path, dsn: path}, nil
}

// Path is the SQLite file path, or "" on PostgreSQL.
func (db *DB) Path() string { return db.path }

// Close closes both pools.
func (db *DB) Close() error {
	err := db.W.Close()
	if db.R != db.W {
		err = errors.Join(err, db.R.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.R.PingContext(ctx) }

// Tx is a write transaction with hooks that run only after it commits
// (publishing events, waking workers: nothing a rollback must undo).
type Tx struct {
	*sql.Tx
	after   []func()
	ordered []func()
	saves   []savepoint // open savepoints, innermost last
	// cache: prepared statements (a group batch on SQLite; stmtcache.go),
	// bound: those bound to this transaction.
	cache *stmtCache
	bound map[string]*sql.Stmt
}

// savepoint is an open SAVEPOINT and how many hooks were registered when
// it was set, so rolling back to it drops the hooks registered since.
type savepoint struct {
	name           string
	after, ordered int
}

// AfterCommit registers fn to run once the transaction has committed.
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// AfterCommitInOrder registers fn to run once the transaction has
// committed, before any transaction committing after it runs its own: the
// event log publishes this way, so subscribers (a live room's comments)
// see events in commit order — on SQLite, id order (on PostgreSQL, as
// nearly as commits return). fn must not block or start a transaction.
func (tx *Tx) AfterCommitInOrder(fn func()) { tx.ordered = append(tx.ordered, fn) }

// InTx runs fn in a write transaction: committed if fn returns nil, rolled
// back otherwise, so nothing half-written stays in the database.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	return db.commit(tx)
}

// commit commits tx and runs its hooks: the ordered ones first, in commit
// order (see AfterCommitInOrder), then the others.
func (db *DB) commit(tx *Tx) error {
	sqlTx := tx.Tx
	if len(tx.ordered) > 0 && db.Dialect == SQLite {
		// Free on SQLite, whose commits are serial anyway. On PostgreSQL
		// this would serialise every event-writing commit of the process
		// (and ids from a sequence are not in commit order to begin with):
		// there the hooks run in the order commits return.
		db.ordered.Lock()
		err := sqlTx.Commit()
		if err == nil {
			for _, f := range tx.ordered {
				f()
			}
		}
		db.ordered.Unlock()
		if err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
	} else {
		if err := sqlTx.Commit(); err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
		for _, f := range tx.ordered {
			f()
		}
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || // SQLite
		strings.Contains(s, "SQLSTATE 23505") // PostgreSQL
}

// Millis converts t to the stored form: Unix milliseconds, UTC.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Time converts a stored Unix-millisecond value back; 0 is the zero time.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// NullMillis converts a nullable stored time.
func NullMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return Time(v.Int64)
}

// redactDSN hides a password in a connection URL so it can be logged.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// Collect reads every row with scan and closes rows: the one loop that
// repository functions returning a list would otherwise each write again.
func Collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Exists runs a COUNT(*) query and reports whether it counted anything.
func Exists(ctx context.Context, q Querier, query string, args ...any) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, query, args...).Scan(&n)
	return n > 0, err
}
