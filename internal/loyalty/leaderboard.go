package loyalty

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// Period is a leaderboard's time span.
type Period string

const (
	Week    Period = "week"  // since Monday 00:00 in the tenant's zone
	Month   Period = "month" // since the 1st, 00:00
	AllTime Period = "all"
)

// Rank is one line of a leaderboard.
type Rank struct {
	MemberID int64
	Name     string
	Points   int64
	Position int // equal points share a position (1, 1, 3)
}

// Since is when a period that contains now began, in loc.
func (p Period) Since(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	switch p {
	case Week:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case Month:
		return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	}
	return time.Time{}
}

// Until is when the period that contains now ends (zero for all time), so
// that a past week's board, asked for with a now in that week, is that week's.
func (p Period) Until(now time.Time, loc *time.Location) time.Time {
	switch since := p.Since(now, loc); p {
	case Week:
		return since.AddDate(0, 0, 7)
	case Month:
		return since.AddDate(0, 1, 0)
	}
	return time.Time{}
}

// Leaderboard ranks members by the points they earned in the period
// (check-ins, streaks, taking part, activities, welcome gifts — not
// adjustments or spending), in one group or the whole tenant (groupID 0).
func (s *Service) Leaderboard(ctx context.Context, tenantID, groupID int64, p Period, now time.Time, loc *time.Location, limit int) ([]Rank, error) {
	if p != Week && p != Month && p != AllTime {
		return nil, fmt.Errorf("%w: leaderboard period %q", store.ErrInvalid, p)
	}
	if loc == nil {
		loc = time.UTC
	}
	limit = pageSize(limit)
	until := int64(math.MaxInt64)
	if p != AllTime {
		until = store.Millis(p.Until(now, loc))
	}
	args := []any{tenantID, store.Millis(p.Since(now, loc)), until}
	where := `l.tenant_id = $1 AND l.at >= $2 AND l.at < $3 AND l.delta > 0
		AND l.kind IN ('checkin','streak','discussion','activity','welcome')`
	if groupID != 0 {
		args = append(args, groupID)
		where += ` AND l.group_id = $4`
	}
	args = append(args, limit)
	rows, err := s.db.R.QueryContext(ctx, fmt.Sprintf(`SELECT l.member_id, m.display_name, SUM(l.delta) AS pts
		FROM points_ledger l JOIN members m ON m.id = l.member_id AND m.tenant_id = l.tenant_id
		WHERE %s GROUP BY l.member_id, m.display_name ORDER BY pts DESC, l.member_id LIMIT $%d`, where, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("loyalty: leaderboard: %w", err)
	}
	defer rows.Close()
	var out []Rank
	for rows.Next() {
		var r Rank
		if err := rows.Scan(&r.MemberID, &r.Name, &r.Points); err != nil {
			return nil, err
		}
		r.Position = len(out) + 1
		if n := len(out); n > 0 && out[n-1].Points == r.Points {
			r.Position = out[n-1].Position
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
