package tenant

import (
	"context"

	"github.com/liveloop/liveloop/internal/store"
)

// SetStaffLocale stores a staff member's language choice ("" for the
// browser's).
func (s *Service) SetStaffLocale(ctx context.Context, tenantID, staffID int64, locale string) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE staff SET locale = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, staffID, locale)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
