package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

func nowMillis() int64 { return time.Now().UnixMilli() }

// ErrBackupUnsupported is returned by Backup on PostgreSQL, whose backups
// belong to pg_dump; PostgresBackupRecipe says how.
var ErrBackupUnsupported = errors.New("store: online backup is for SQLite; use pg_dump on PostgreSQL")

// Backup writes a consistent copy of a SQLite database to dest while the
// database stays in use (VACUUM INTO reads one snapshot; writers go on).
// dest must not exist yet.
func (db *DB) Backup(ctx context.Context, dest string) error {
	if db.Dialect != SQLite {
		return ErrBackupUnsupported
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("store: backup target %s already exists", dest)
	}
	if _, err := db.W.ExecContext(ctx, `VACUUM INTO $1`, dest); err != nil {
		return fmt.Errorf("store: backup to %s: %w", dest, err)
	}
	return nil
}

// PostgresBackupRecipe is printed by `liveloop backup` on PostgreSQL.
func (db *DB) PostgresBackupRecipe() string {
	return fmt.Sprintf(`liveloop keeps PostgreSQL backups to PostgreSQL's own tools:

  pg_dump --format=custom --file=liveloop-$(date +%%Y%%m%%d).dump '%s'

Restore into an empty database with:

  pg_restore --dbname='<target url>' --no-owner liveloop-YYYYMMDD.dump
`, redactDSN(db.dsn))
}
