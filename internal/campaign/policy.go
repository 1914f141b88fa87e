package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// Policy is how a tenant's campaigns may send.
type Policy struct {
	// QuietStart and QuietEnd ("HH:MM", tenant time) bound the quiet
	// hours, when nothing is sent: a job due then is deferred to their end.
	// The window may span midnight (22:00–08:00); equal times: none.
	QuietStart, QuietEnd string
	// SalesCap is how many sales sends (promo, live preview, flash sale) a
	// member receives privately, or a group receives as posts, in any
	// rolling CapWindow; the next ones are skipped.
	SalesCap  int
	CapWindow time.Duration
}

// DefaultPolicy is a tenant's policy until it sets its own: quiet from
// 22:00 to 08:00, at most 3 sales pushes in 7 days.
func DefaultPolicy() Policy {
	return Policy{QuietStart: "22:00", QuietEnd: "08:00", SalesCap: 3, CapWindow: 7 * 24 * time.Hour}
}

// Limits of a policy.
const (
	MaxSalesCap      = 50
	MaxCapWindowDays = 31
)

// Validate checks p; errors wrap ErrInvalid.
func (p Policy) Validate() error {
	_, okStart := ParseClock(p.QuietStart)
	_, okEnd := ParseClock(p.QuietEnd)
	days := int(p.CapWindow / (24 * time.Hour))
	switch {
	case !okStart || !okEnd:
		return invalid("quiet hours must be HH:MM to HH:MM")
	case p.SalesCap < 1 || p.SalesCap > MaxSalesCap:
		return invalid("the sales cap must be 1 to %d", MaxSalesCap)
	case p.CapWindow%(24*time.Hour) != 0 || days < 1 || days > MaxCapWindowDays:
		return invalid("the cap window must be 1 to %d whole days", MaxCapWindowDays)
	}
	return nil
}

// QuietUntil reports whether t falls in the quiet hours (in loc) and, if
// so, when they end: the next QuietEnd after t.
func (p Policy) QuietUntil(t time.Time, loc *time.Location) (time.Time, bool) {
	start, ok1 := ParseClock(p.QuietStart)
	end, ok2 := ParseClock(p.QuietEnd)
	if !ok1 || !ok2 || start == end {
		return time.Time{}, false
	}
	local := t.In(orUTC(loc))
	y, m, d := local.Date()
	// The wall-clock time of day (not the time since midnight, which a
	// daylight-saving change shifts by an hour).
	of := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	s, e := time.Duration(start)*time.Minute, time.Duration(end)*time.Minute
	quiet := of >= s && of < e
	if start > end { // spans midnight
		quiet = of >= s || of < e
	}
	if !quiet {
		return time.Time{}, false
	}
	until := time.Date(y, m, d, end/60, end%60, 0, 0, local.Location())
	if !until.After(local) {
		until = time.Date(y, m, d+1, end/60, end%60, 0, 0, local.Location())
	}
	return until.UTC(), true
}

// tenantPolicy is the tenant's stored policy, or def when it has none.
func tenantPolicy(ctx context.Context, q store.Querier, tenantID int64, def Policy) (Policy, error) {
	var p Policy
	var days int
	err := q.QueryRowContext(ctx, `SELECT quiet_start, quiet_end, sales_cap, cap_days FROM campaign_settings WHERE tenant_id = $1`,
		tenantID).Scan(&p.QuietStart, &p.QuietEnd, &p.SalesCap, &days)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return def, fmt.Errorf("campaign: policy: %w", err)
	}
	p.CapWindow = time.Duration(days) * 24 * time.Hour
	return p, nil
}

// Policy returns the tenant's sending policy (DefaultPolicy until set).
func (s *Service) Policy(ctx context.Context, tenantID int64) (Policy, error) {
	return tenantPolicy(ctx, s.db.R, tenantID, DefaultPolicy())
}

// SetPolicy stores the tenant's sending policy.
func (s *Service) SetPolicy(ctx context.Context, tenantID int64, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO campaign_settings (tenant_id, quiet_start, quiet_end, sales_cap, cap_days, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id) DO UPDATE SET quiet_start = excluded.quiet_start,
		quiet_end = excluded.quiet_end, sales_cap = excluded.sales_cap, cap_days = excluded.cap_days, updated_at = excluded.updated_at`,
		tenantID, p.QuietStart, p.QuietEnd, p.SalesCap, int(p.CapWindow/(24*time.Hour)), store.Millis(s.now()))
	if err != nil {
		return fmt.Errorf("campaign: set policy: %w", err)
	}
	return nil
}
