//go:build !unix

package app

// lockFile is a no-op where flock is not available; SQLite's own locking
// (WAL, busy timeout) still keeps the data safe.
func lockFile(string) (func(), error) { return func() {}, nil }
