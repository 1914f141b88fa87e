package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// ReadyHour is the tenant-local hour after which the report of a week
// (on the Monday after it) or of a month (on the 1st after it) is made.
const ReadyHour = 6

// Due is a report the schedule should have made.
type Due struct {
	Kind   Kind
	Period analytics.Period
}

// DueAt is the latest week and the latest month whose report is due at
// now in loc: the week before the current one once Monday 06:00 has
// passed (before that, the one before it, made last Monday), and the same
// for months from the 1st 06:00.
func DueAt(now time.Time, loc *time.Location) []Due {
	today := analytics.DayOf(now, loc)
	week := analytics.Week(today)
	lastWeek := analytics.Week(week.From - 1)
	if now.Before(readyAt(week.From, loc)) {
		lastWeek = analytics.Week(lastWeek.From - 1)
	}
	month := analytics.Month(today)
	lastMonth := analytics.Month(month.From - 1)
	if now.Before(readyAt(month.From, loc)) {
		lastMonth = analytics.Month(lastMonth.From - 1)
	}
	return []Due{{Weekly, lastWeek}, {Monthly, lastMonth}}
}

// readyAt is ReadyHour on day d in loc.
func readyAt(d analytics.Day, loc *time.Location) time.Time {
	y, m, dd := d.Date().Date()
	return time.Date(y, m, dd, ReadyHour, 0, 0, 0, loc)
}

// Run is what one pass of the schedule did for one brand's report.
type Run struct {
	TenantID int64
	ReportID int64
	Kind     Kind
	Period   analytics.Period
	Created  bool // made by this pass
	Sent     bool // queued to the staff group by this pass
}

// RunDue makes, for every brand, the weekly and monthly reports due at
// now that do not exist yet (none that fell due before the brand was
// created), and sends each due report not sent yet to the brand's
// staff group when one is set. It is idempotent: the history holds one
// report per period and the outbox one message per report and group, so
// a repeated pass, or a second node, adds nothing. A brand whose report
// fails does not stop the others; the errors are joined.
func (s *Service) RunDue(ctx context.Context, now time.Time) ([]Run, error) {
	brands, err := s.brands(ctx)
	if err != nil {
		return nil, err
	}
	var out []Run
	var errs []error
	for _, b := range brands {
		for _, due := range DueAt(now, b.loc) {
			if !readyAt(due.Period.To, b.loc).After(b.created) {
				continue // the brand did not exist then
			}
			run, err := s.runOne(ctx, b.id, due)
			if err != nil {
				errs = append(errs, fmt.Errorf("report: brand %d %s %s: %w", b.id, due.Kind, DayRange(due.Period), err))
				continue
			}
			out = append(out, run)
		}
	}
	return out, errors.Join(errs...)
}

func (s *Service) runOne(ctx context.Context, tenantID int64, due Due) (Run, error) {
	st, created, err := s.Generate(ctx, tenantID, due.Kind, due.Period, 0)
	if err != nil {
		return Run{}, err
	}
	run := Run{TenantID: tenantID, ReportID: st.ID, Kind: due.Kind, Period: due.Period, Created: created}
	if !st.SentAt.IsZero() {
		return run, nil
	}
	set, err := s.Settings(ctx, tenantID)
	if err != nil || set.SendGroupID == 0 {
		return run, err
	}
	run.Sent, err = s.Send(ctx, tenantID, st.ID, set.SendGroupID)
	return run, err
}

type brand struct {
	id      int64
	loc     *time.Location
	created time.Time
}

// brands lists every brand with its time zone and creation time.
func (s *Service) brands(ctx context.Context) ([]brand, error) {
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT id, timezone, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("report: brands: %w", err)
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (brand, error) {
		var b brand
		var tz string
		var created int64
		err := r.Scan(&b.id, &tz, &created)
		b.loc, b.created = tenant.Tenant{Timezone: tz}.Location(), store.Time(created)
		return b, err
	})
}

// ParsePeriod reads a report's period as people give it: for a weekly or
// monthly report the week or month holding from ("YYYY-MM-DD"); for a
// custom one from to to, both days included, at most MaxDays.
func ParsePeriod(kind Kind, from, to string) (analytics.Period, error) {
	f, err := analytics.ParseDay(from)
	if err != nil {
		return analytics.Period{}, fmt.Errorf("%w: report: %w", store.ErrInvalid, err)
	}
	if kind != Custom {
		return PeriodOf(kind, f), nil
	}
	t, err := analytics.ParseDay(to)
	if err != nil {
		return analytics.Period{}, fmt.Errorf("%w: report: %w", store.ErrInvalid, err)
	}
	p := analytics.Period{From: f, To: t + 1}
	if t < f || p.Days() > MaxDays {
		return analytics.Period{}, fmt.Errorf("%w: report: %s to %s is not a period of 1 to %d days", store.ErrInvalid, from, to, MaxDays)
	}
	return p, nil
}

// LastPeriod is the last whole week or month before now in loc (for a
// custom kind, the last week).
func LastPeriod(kind Kind, now time.Time, loc *time.Location) analytics.Period {
	today := analytics.DayOf(now, loc)
	cur := PeriodOf(kind, today)
	return PeriodOf(kind, cur.From-1)
}
