// Package store opens liveloop's database — SQLite (the embedded default,
// pure Go, no cgo) or PostgreSQL — runs its migrations, and gives the
// feature packages one way to run plain SQL on either.
//
// Every statement in liveloop is written once, with $1-style placeholders
// that both drivers bind, and scoped by tenant_id. Where the dialects
// really differ (row locking, identity columns) the caller asks
// DB.Dialect. Times are stored as int64 Unix milliseconds in UTC so that
// the same arithmetic works on both engines; see docs/architecture.md.
//
// The store owns no domain rules: it must not know what a member or a
// group is.
package store
