package store

import (
	"context"
	"fmt"
)

// InstanceSecret returns the installation-wide value stored under key,
// storing gen() first if there is none. Concurrent first calls (two nodes
// starting together) agree on one value.
func (db *DB) InstanceSecret(ctx context.Context, key string, gen func() string) (string, error) {
	if _, err := db.W.ExecContext(ctx, `INSERT INTO instance_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, gen()); err != nil {
		return "", fmt.Errorf("store: instance setting %s: %w", key, err)
	}
	var v string
	if err := db.W.QueryRowContext(ctx, `SELECT value FROM instance_settings WHERE key = $1`, key).Scan(&v); err != nil {
		return "", fmt.Errorf("store: instance setting %s: %w", key, err)
	}
	return v, nil
}
