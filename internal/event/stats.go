package event

import (
	"context"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// CountSince returns how many events of a type a tenant has had since t.
func (l *Log) CountSince(ctx context.Context, tenantID int64, t Type, since time.Time) (int64, error) {
	var n int64
	err := l.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2 AND at >= $3`,
		tenantID, string(t), store.Millis(since)).Scan(&n)
	return n, err
}
