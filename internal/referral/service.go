// Package referral holds join codes that route across a set of groups
// (活码) and referral campaigns (裂变): personal invite links, invitees
// checked against fraud (self-invites, existing members, early leavers,
// many joins from one address), validated after a stay of D days, and
// rewards per threshold of valid invitees, each given once.
package referral

import (
	"context"
	"sync"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/store"
)

// GrantCouponFunc gives a member one coupon of a batch inside tx; ref makes
// it idempotent (the coupon feature's GrantTx fits).
type GrantCouponFunc func(ctx context.Context, tx *store.Tx, tenantID, batchID, memberID int64, ref string) error

// Service is the store of group sets and referral campaigns.
type Service struct {
	db        *store.DB
	community *community.Service
	loyalty   *loyalty.Service
	log       *event.Log
	notifier  *notify.Notifier
	cat       *i18n.Catalog

	// GrantCoupon gives coupon rewards; nil: campaigns cannot reward
	// coupons (creating one that does is refused).
	GrantCoupon GrantCouponFunc
	// MaxPerAddress invitees joining from one address (or one device)
	// within AddressWindow count; the extras are rejected as suspicious.
	MaxPerAddress int
	AddressWindow time.Duration

	mu  sync.Mutex
	now func() time.Time
}

// New returns the service.
func New(db *store.DB, comm *community.Service, loy *loyalty.Service, log *event.Log, n *notify.Notifier, cat *i18n.Catalog) *Service {
	return &Service{db: db, community: comm, loyalty: loy, log: log, notifier: n, cat: cat,
		MaxPerAddress: 3, AddressWindow: 10 * time.Minute, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// Now is the service's clock, in UTC.
func (s *Service) Now() time.Time {
	s.mu.Lock()
	f := s.now
	s.mu.Unlock()
	return f().UTC()
}
