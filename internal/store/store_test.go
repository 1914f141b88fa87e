package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func addTenant(t *testing.T, q store.Querier, slug string) int64 {
	t.Helper()
	var id int64
	err := q.QueryRowContext(context.Background(), `INSERT INTO tenants (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id`,
		slug, "Tenant "+slug, int64(1)).Scan(&id)
	if err != nil {
		t.Fatalf("insert tenant %s: %v", slug, err)
	}
	return id
}

func countTenants(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrationHistoriesMatch(t *testing.T) {
	t.Parallel()
	lite, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.Migrations(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != i+1 || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %d %s, postgres %d %s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.DSN(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ms, err := store.Migrations(d)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := db.Pending(ctx); err != nil || p != len(ms) {
				t.Fatalf("fresh database: Pending = %d, %v; want %d", p, err, len(ms))
			}
			if n, err := db.Migrate(ctx); err != nil || n != len(ms) {
				t.Fatalf("first Migrate = %d, %v; want %d", n, err, len(ms))
			}
			if n, err := db.Migrate(ctx); err != nil || n != 0 {
				t.Fatalf("second Migrate = %d, %v; want 0", n, err)
			}
			if p, err := db.Pending(ctx); err != nil || p != 0 {
				t.Fatalf("after Migrate: Pending = %d, %v; want 0", p, err)
			}
			if v, err := db.SchemaVersion(ctx); err != nil || v != len(ms) {
				t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(ms))
			}
			var rows int
			if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
				t.Fatalf("schema_migrations has %d rows (%v), want %d", rows, err, len(ms))
			}
			for _, table := range []string{"tenants", "staff", "sessions", "members", "identities", "member_tags",
				"community_groups", "join_codes", "group_members", "events", "outbox"} {
				var n int
				if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
					t.Errorf("table %s: %v", table, err)
				}
			}
		})
	}
}

// Two processes (two nodes, or `liveloop migrate` beside a starting
// server) migrating one fresh database at the same time apply each
// migration once and both succeed.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := storetest.DSN(t, d)
			dbs := make([]*store.DB, 3)
			for i := range dbs {
				db, err := store.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				dbs[i] = db
			}
			ms, _ := store.Migrations(d)
			applied := make([]int, len(dbs))
			errs := make([]error, len(dbs))
			var wg sync.WaitGroup
			for i, db := range dbs {
				wg.Go(func() { applied[i], errs[i] = db.Migrate(ctx) })
			}
			wg.Wait()
			total := 0
			for i := range dbs {
				if errs[i] != nil {
					t.Errorf("Migrate %d: %v", i, errs[i])
				}
				total += applied[i]
			}
			if total != len(ms) {
				t.Errorf("migrations applied %d times in all, want %d", total, len(ms))
			}
			if p, err := dbs[0].Pending(ctx); err != nil || p != 0 {
				t.Errorf("Pending = %d, %v", p, err)
			}
		})
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		if _, err := db.W.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err == nil {
			t.Error("Migrate on a schema newer than the binary succeeded")
		}
		if _, err := db.Pending(ctx); err == nil {
			t.Error("Pending on a schema newer than the binary succeeded")
		}
	})
}

func TestInTx(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		boom := errors.New("boom")
		ran := 0
		err := db.InTx(ctx, func(tx *store.Tx) error {
			addTenant(t, tx, "rolled-back")
			tx.AfterCommit(func() { ran++ })
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want the function's error", err)
		}
		if n := countTenants(t, db); n != 0 || ran != 0 {
			t.Fatalf("after rollback: %d tenants, %d hooks run; want 0, 0", n, ran)
		}
		var seenInside int
		err = db.InTx(ctx, func(tx *store.Tx) error {
			addTenant(t, tx, "committed")
			tx.AfterCommit(func() { ran++ })
			tx.AfterCommit(func() { seenInside = ran }) // hooks run in order
			if ran != 0 {
				t.Error("AfterCommit hook ran before commit")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := countTenants(t, db); n != 1 || ran != 1 || seenInside != 1 {
			t.Fatalf("after commit: %d tenants, ran %d, second hook saw %d; want 1, 1, 1", n, ran, seenInside)
		}
	})
}

func TestIsUniqueViolation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		addTenant(t, db.W, "dup")
		_, err := db.W.ExecContext(context.Background(), `INSERT INTO tenants (slug, name, created_at) VALUES ('dup', 'x', 1)`)
		if err == nil || !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate slug: err = %v, IsUniqueViolation = %v", err, store.IsUniqueViolation(err))
		}
		_, err = db.W.ExecContext(context.Background(), `INSERT INTO staff (tenant_id, email, name, password_hash, created_at) VALUES (424242, 'a@b', 'a', 'x', 1)`)
		if err == nil || store.IsUniqueViolation(err) {
			t.Fatalf("foreign-key violation: err = %v, IsUniqueViolation = %v; want an error that is not a unique violation", err, store.IsUniqueViolation(err))
		}
	})
}

func TestBackup(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		dest := filepath.Join(t.TempDir(), "backup.db")
		if db.Dialect == store.Postgres {
			if err := db.Backup(ctx, dest); !errors.Is(err, store.ErrBackupUnsupported) {
				t.Fatalf("Backup on PostgreSQL = %v, want ErrBackupUnsupported", err)
			}
			if _, err := os.Stat(dest); err == nil {
				t.Fatal("Backup on PostgreSQL wrote a file")
			}
			return
		}
		for i := range 50 {
			addTenant(t, db.W, fmt.Sprintf("shop-%d", i))
		}
		if err := db.Backup(ctx, dest); err != nil {
			t.Fatal(err)
		}
		addTenant(t, db.W, "after-backup") // not in the copy

		copyDB, err := store.Open(ctx, dest)
		if err != nil {
			t.Fatal(err)
		}
		defer copyDB.Close()
		if p, err := copyDB.Pending(ctx); err != nil || p != 0 {
			t.Fatalf("backup: Pending = %d, %v; want 0", p, err)
		}
		if n := countTenants(t, copyDB); n != 50 {
			t.Fatalf("backup has %d tenants, want 50", n)
		}
		var name string
		if err := copyDB.R.QueryRowContext(ctx, `SELECT name FROM tenants WHERE slug = 'shop-49'`).Scan(&name); err != nil || name != "Tenant shop-49" {
			t.Fatalf("backup row: %q, %v", name, err)
		}

		before, err := os.ReadFile(dest)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Backup(ctx, dest); err == nil {
			t.Fatal("Backup over an existing file succeeded")
		}
		after, _ := os.ReadFile(dest)
		if string(before) != string(after) {
			t.Fatal("refused Backup changed the existing file")
		}
	})
}

// A second process opening the same SQLite file (the CLI beside a running
// server) writes beside the first: WAL and the busy timeout make them wait
// for each other instead of failing, and no write is lost.
func TestSQLiteTwoOpenersWriteConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first := storetest.Open(t, store.SQLite)
	second, err := store.Open(ctx, first.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if p, err := second.Pending(ctx); err != nil || p != 0 {
		t.Fatalf("second opener: Pending = %d, %v", p, err)
	}

	const perWriter = 200
	var wg sync.WaitGroup
	errs := make(chan error, 4*perWriter)
	for w, db := range []*store.DB{first, second, first, second} {
		wg.Go(func() {
			for i := range perWriter {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO tenants (slug, name, created_at) VALUES ($1, 'x', 1)`, fmt.Sprintf("w%d-%d", w, i))
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Readers on both handles run beside the writers.
	wg.Go(func() {
		for range 100 {
			for _, db := range []*store.DB{first, second} {
				var n int
				if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
					errs <- err
					return
				}
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, db := range []*store.DB{first, second} {
		if n := countTenants(t, db); n != 4*perWriter {
			t.Errorf("%d tenants seen, want %d", n, 4*perWriter)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := store.Open(ctx, ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	for _, prefix := range []string{"", "sqlite://", "file:"} {
		path := filepath.Join(t.TempDir(), "sub", "dir", "x.db")
		db, err := store.Open(ctx, prefix+path)
		if err != nil {
			t.Fatalf("Open(%q): %v", prefix+path, err)
		}
		if db.Dialect != store.SQLite || db.Path() != path {
			t.Errorf("Open(%q): dialect %s, path %q", prefix+path, db.Dialect, db.Path())
		}
		var mode string
		if err := db.W.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v", mode, err)
		}
		var fk int
		if err := db.R.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("reader foreign_keys = %d, %v", fk, err)
		}
		db.Close()
	}
}

// Advisory locks are database-wide; a leader is per schema: two liveloops
// in two schemas of one PostgreSQL database each lead, two in one schema
// do not.
func TestLeadIsPerSchema(t *testing.T) {
	a, b := storetest.Open(t, store.Postgres), storetest.Open(t, store.Postgres)
	ctx := context.Background()
	release, err := store.Lead(ctx, a, 424242, 10*time.Millisecond)
	if err != nil || release == nil {
		t.Fatalf("first lead: %v", err)
	}
	defer release()
	other, err := store.Lead(ctx, b, 424242, 10*time.Millisecond)
	if err != nil || other == nil {
		t.Fatalf("another schema's lead: %v", err)
	}
	other()
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	second, err := store.Lead(wctx, a, 424242, 10*time.Millisecond)
	if err != nil || second != nil {
		t.Fatalf("a second leader in the same schema: release %v, err %v", second != nil, err)
	}
}
