package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Lead waits until this process may run the singleton worker named by key
// (the outbox sender, the rule runner). On SQLite one process owns the file
// (serve's lock), so it returns at once; on PostgreSQL it takes an advisory
// lock on a connection it holds until release is called. Advisory locks are
// database-wide, so the lock is keyed by the schema too: two liveloops in
// two schemas of one database (tests, or staging beside production) each
// have their own leader. It returns a nil
// release when ctx ends first.
func Lead(ctx context.Context, db *DB, key int64, poll time.Duration) (release func(), err error) {
	if db.Dialect != Postgres {
		return func() {}, nil
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	logged := false
	for {
		conn, err := db.W.Conn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			return nil, fmt.Errorf("store: lock connection: %w", err)
		}
		var got bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext(current_schema()), CAST($1 AS INTEGER))`, key).Scan(&got); err != nil {
			conn.Close()
			if ctx.Err() != nil {
				return nil, nil
			}
			return nil, fmt.Errorf("store: advisory lock %d: %w", key, err)
		}
		if got {
			return func() {
				conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtext(current_schema()), CAST($1 AS INTEGER))`, key)
				conn.Close()
			}, nil
		}
		conn.Close()
		if !logged {
			slog.Info("another node holds this worker's lock; standing by", "lock", key)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-ticker.C:
		}
	}
}
