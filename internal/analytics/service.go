package analytics

import (
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// Service answers the metric queries from the rollup tables.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns the service on db.
func New(db *store.DB) *Service { return &Service{db: db, now: time.Now} }

// SetClock replaces the clock (tests, the demo).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Today is the tenant's current day in loc.
func (s *Service) Today(loc *time.Location) Day { return DayOf(s.now(), loc) }
