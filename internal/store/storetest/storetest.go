// Package storetest gives tests a migrated database on each engine, so that
// every storage test runs against SQLite and PostgreSQL alike.
//
// PostgreSQL is reached at LIVELOOP_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable); each test gets
// its own schema, dropped afterwards. When no server answers, the PostgreSQL
// half is skipped with the reason printed — set LIVELOOP_REQUIRE_POSTGRES=1
// (CI does) to make that a failure instead.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/liveloop/liveloop/internal/store"
)

// PostgresURL is the server the tests use.
func PostgresURL() string {
	if u := os.Getenv("LIVELOOP_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	pgOnce sync.Once
	pgErr  error
)

func postgresReachable() error {
	pgOnce.Do(func() {
		db, err := sql.Open("pgx", PostgresURL())
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		pgErr = db.Ping()
	})
	return pgErr
}

// Dialects lists the engines to test on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// Each runs fn once per engine as subtests named after the engine.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// DSN returns a fresh, empty database for the engine; it is removed when
// the test ends.
func DSN(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "liveloop.db")
	}
	if err := postgresReachable(); err != nil {
		if os.Getenv("LIVELOOP_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL required but not reachable at %s: %v", PostgresURL(), err)
		}
		t.Skipf("PostgreSQL not reachable at %s (%v): skipping the PostgreSQL half", PostgresURL(), err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	sep := "?"
	if strings.Contains(PostgresURL(), "?") {
		sep = "&"
	}
	return PostgresURL() + sep + "search_path=" + schema
}

// Open returns a migrated database on the engine, closed when the test ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), DSN(t, d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}
