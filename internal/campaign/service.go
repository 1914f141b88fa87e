package campaign

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// Service stores the library, the playbooks and the queue of a database.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns the service, reading the time from now (nil: time.Now).
func New(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, now: now}
}

// brand is what a job needs to know about its tenant.
type brand struct {
	name, locale string
	loc          *time.Location
}

func loadBrand(ctx context.Context, q store.Querier, tenantID int64) (brand, error) {
	var t tenant.Tenant
	err := q.QueryRowContext(ctx, `SELECT name, timezone, locale FROM tenants WHERE id = $1`, tenantID).Scan(&t.Name, &t.Timezone, &t.Locale)
	if errors.Is(err, sql.ErrNoRows) {
		return brand{}, store.ErrNotFound
	}
	if err != nil {
		return brand{}, err
	}
	return brand{name: t.Name, locale: t.Locale, loc: t.Location()}, nil
}

// Location is the tenant's time zone (UTC if it cannot be loaded).
func (s *Service) Location(ctx context.Context, tenantID int64) (*time.Location, error) {
	b, err := loadBrand(ctx, s.db.R, tenantID)
	return b.loc, err
}
