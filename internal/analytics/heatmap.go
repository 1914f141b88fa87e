package analytics

import (
	"context"
	"fmt"

	"github.com/liveloop/liveloop/internal/i18n"
)

// EngagementMetrics are the an_hourly metrics a heatmap cell adds up:
// members' group messages and clicks on tracked links posted in groups.
// The scheduler's best time (campaign.GroupEngagement) counts the same.
var EngagementMetrics = []string{"member_messages", "clicks"}

// Heatmap is f's engagement (member messages + clicks, an_hourly) over f's
// period by the local weekday of each tenant day and the local hour, for
// one group (f.GroupID), the groups of one channel (f.Channel) or all
// groups. The best slot is the largest cell, a tie going to the earliest
// in the week, weeks starting on Monday (as Week does).
func (s *Service) Heatmap(ctx context.Context, f Filter) (Heatmap, error) {
	h := Heatmap{GroupID: f.GroupID}
	if f.Period.Days() <= 0 {
		return h, nil
	}
	q := `SELECT day, hour, SUM(value) FROM an_hourly WHERE tenant_id = $1 AND metric IN ($2, $3)
		AND day >= $4 AND day < $5`
	args := []any{f.TenantID, EngagementMetrics[0], EngagementMetrics[1], int64(f.Period.From), int64(f.Period.To)}
	switch {
	case f.GroupID != 0:
		q += ` AND group_id = $6`
		args = append(args, f.GroupID)
	case f.Channel != "":
		q += ` AND group_id IN (SELECT id FROM community_groups WHERE tenant_id = $1 AND (channel = $6 OR channel LIKE $7))`
		args = append(args, f.Channel, f.Channel+"/%")
	}
	rows, err := s.db.R.QueryContext(ctx, q+` GROUP BY day, hour`, args...)
	if err != nil {
		return h, fmt.Errorf("analytics: heatmap: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, hour, n int64
		if err := rows.Scan(&day, &hour, &n); err != nil {
			return h, fmt.Errorf("analytics: heatmap: %w", err)
		}
		if hour < 0 || hour > 23 {
			continue
		}
		h.Cells[Day(day).Weekday()][hour] += n
		h.Total += n
	}
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("analytics: heatmap: %w", err)
	}
	h.BestDay, h.BestHour, h.HasBest = bestSlot(h.Cells)
	return h, nil
}

// bestSlot is the largest cell, Monday 00:00 first; none when all are 0.
func bestSlot(cells [7][24]int64) (day, hour int, ok bool) {
	var most int64
	for i := 0; i < 7; i++ {
		d := (i + 1) % 7 // Monday … Sunday
		for hr, n := range cells[d] {
			if n > most {
				day, hour, most = d, hr, n
			}
		}
	}
	return day, hour, most > 0
}

// HeatmapBestText is the best slot in locale ("Wednesday 20:00"), or
// that there is none yet.
func HeatmapBestText(cat *i18n.Catalog, locale string, h Heatmap) string {
	if !h.HasBest {
		return cat.T(locale, "insight.heatmap.none")
	}
	day := cat.T(locale, fmt.Sprintf("insight.weekday.%d", h.BestDay))
	return cat.T(locale, "insight.heatmap.best", day, h.BestHour)
}
