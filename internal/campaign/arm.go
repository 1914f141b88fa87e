package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// BestWindow is how far back BestHour looks.
const BestWindow = 28 * 24 * time.Hour

// Engagement is a group's member engagement by local weekday × hour.
type Engagement [7][24]int64

// GroupEngagement is the group's member engagement over the 28 days before
// now by weekday and hour in loc: its members' messages and the clicks on
// tracked links posted in it, as the analytics rollup counts them by
// tenant day and local hour (an_hourly; the metrics of
// analytics.EngagementMetrics, which the dashboard's send-time heatmap
// shows). The window is cut at whole local hours: it starts with the hour
// now-28d falls in and ends before the hour now falls in. The rollup runs
// in the background, so the latest minutes may not be counted yet.
func GroupEngagement(ctx context.Context, q store.Querier, tenantID, groupID int64, loc *time.Location, now time.Time) (Engagement, error) {
	var e Engagement
	loc = orUTC(loc)
	fromDay, fromHour := localHour(now.Add(-BestWindow), loc)
	toDay, toHour := localHour(now, loc)
	rows, err := q.QueryContext(ctx, `SELECT day, hour, SUM(value) FROM an_hourly
		WHERE tenant_id = $1 AND group_id = $2 AND metric IN ('member_messages', 'clicks')
		AND day >= $3 AND day <= $4 AND day * 24 + hour >= $5 AND day * 24 + hour < $6 GROUP BY day, hour`,
		tenantID, groupID, fromDay, toDay, fromDay*24+fromHour, toDay*24+toHour)
	if err != nil {
		return e, fmt.Errorf("campaign: engagement: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, hour, n int64
		if err := rows.Scan(&day, &hour, &n); err != nil {
			return e, fmt.Errorf("campaign: engagement: %w", err)
		}
		if hour < 0 || hour > 23 {
			continue
		}
		wd := time.Unix(day*86400, 0).UTC().Weekday()
		e[wd][hour] += n
	}
	return e, rows.Err()
}

// localHour is the tenant day (days since 1970-01-01 of the local date,
// as analytics.DayOf counts them) and the local hour t falls in.
func localHour(t time.Time, loc *time.Location) (day, hour int64) {
	l := t.In(loc)
	y, m, d := l.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400, int64(l.Hour())
}

// Best is the busiest hour of that weekday; of the whole week when the
// weekday has no messages; DefaultBestHour when the group has none. Ties
// go to the earlier hour.
func (e Engagement) Best(day time.Weekday) int {
	if h, ok := busiest(e[day]); ok {
		return h
	}
	return e.BestOfWeek()
}

// BestOfWeek is the busiest hour over all weekdays together.
func (e Engagement) BestOfWeek() int {
	var week [24]int64
	for d := range e {
		for h, n := range e[d] {
			week[h] += n
		}
	}
	if h, ok := busiest(week); ok {
		return h
	}
	return DefaultBestHour
}

func busiest(hours [24]int64) (int, bool) {
	best, most := 0, int64(0)
	for h, n := range hours {
		if n > most {
			best, most = h, n
		}
	}
	return best, most > 0
}

// BestHour is the hour of the day (in loc) at which the group's members
// engaged most (GroupEngagement) over the 28 days before now, all weekdays
// together; DefaultBestHour without any engagement.
func BestHour(ctx context.Context, q store.Querier, tenantID, groupID int64, loc *time.Location, now time.Time) (int, error) {
	e, err := GroupEngagement(ctx, q, tenantID, groupID, loc, now)
	if err != nil {
		return DefaultBestHour, err
	}
	return e.BestOfWeek(), nil
}

// BestTimes gives each BestTime job its group's best hour for the weekday
// it falls on (a private message step: the segment's group, else its
// first group; none: the default hour) and the run time that follows.
func BestTimes(ctx context.Context, q store.Querier, tenantID int64, jobs []Job, loc *time.Location, now time.Time) ([]Job, error) {
	grids := map[int64]Engagement{0: {}}
	for i := range jobs {
		j := &jobs[i]
		if !j.BestTime {
			continue
		}
		e, ok := grids[j.bestGroup]
		if !ok {
			var err error
			if e, err = GroupEngagement(ctx, q, tenantID, j.bestGroup, loc, now); err != nil {
				return jobs, err
			}
			grids[j.bestGroup] = e
		}
		day := runAt(j.AnchorAt, loc, j.Days, "12:00", 0).In(orUTC(loc)).Weekday()
		j.Clock, j.Minutes = fmt.Sprintf("%02d:00", e.Best(day)), 0
		j.RunAt = runAt(j.AnchorAt, loc, j.Days, j.Clock, 0)
	}
	return jobs, nil
}

// Arm schedules an active playbook anchored to a live or a date: it
// expands the playbook from its anchor (a live's scheduled start, or its
// end once it ended), gives best-time steps their hour, leaves out steps
// already more than LateLimit past, and schedules the rest. Arming again
// adds nothing (and revives jobs cancelled by an edit, at their new
// time). A paused playbook, or one following a live that has not ended
// yet (live_end), schedules nothing. Member journeys are armed per member
// by Enroll.
func (s *Service) Arm(ctx context.Context, tenantID, playbookID int64) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = s.ArmTx(ctx, tx, tenantID, playbookID)
		return err
	})
	return n, err
}

// ArmTx is Arm inside tx (saving a playbook and arming it commit together).
func (s *Service) ArmTx(ctx context.Context, tx *store.Tx, tenantID, playbookID int64) (int, error) {
	p, err := getPlaybook(ctx, tx, tenantID, playbookID)
	if err != nil {
		return 0, err
	}
	if !p.Active || p.Anchor == AnchorMemberJoin {
		return 0, nil
	}
	anchor := p.AnchorAt
	if p.Anchor == AnchorLiveStart || p.Anchor == AnchorLiveEnd {
		var scheduled, ended int64
		if err := tx.QueryRowContext(ctx, `SELECT scheduled_at, ended_at FROM lives WHERE tenant_id = $1 AND id = $2`,
			tenantID, p.LiveID).Scan(&scheduled, &ended); err != nil {
			return 0, fmt.Errorf("campaign: playbook %d: live %d: %w", p.ID, p.LiveID, err)
		}
		anchor = store.Time(scheduled)
		if p.Anchor == AnchorLiveEnd {
			anchor = store.Time(ended)
		}
	}
	if anchor.IsZero() {
		return 0, nil
	}
	return s.plan(ctx, tx, p, anchor, "")
}

// ArmLiveTx arms every active playbook that follows the live, inside tx:
// after the live moved (steps that were too late before may now be due)
// and when it ends (post-live playbooks start from its end).
func (s *Service) ArmLiveTx(ctx context.Context, tx *store.Tx, tenantID, liveID int64) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM campaign_playbooks WHERE tenant_id = $1 AND live_id = $2 AND active
		AND anchor IN ('live_start','live_end') ORDER BY id`, tenantID, liveID)
	if err != nil {
		return 0, fmt.Errorf("campaign: playbooks of live %d: %w", liveID, err)
	}
	ids, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		k, err := s.ArmTx(ctx, tx, tenantID, id)
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// LiveMovedOn is told, inside the transaction that moved the live, that
// it went on air or ended. On air: the warm-up's steps still pending are
// stale ("starts in 10 minutes" after the start) and are cancelled with
// the reason. Ended: the post-live playbooks are armed from the end.
func (s *Service) LiveMovedOn(ctx context.Context, tx *store.Tx, tenantID, liveID int64, ended bool) error {
	if ended {
		_, err := s.ArmLiveTx(ctx, tx, tenantID, liveID)
		return err
	}
	return cancelPending(ctx, tx, s.now().UTC(), tenantID, `live_id = $2 AND playbook_id IN
		(SELECT id FROM campaign_playbooks WHERE tenant_id = $1 AND live_id = $2 AND anchor = 'live_start')`,
		ReasonLiveStarted, liveID)
}

// Enroll schedules the tenant's active member journeys for a member who
// joined at joinedAt (the lead calls it on member_joined). Enrolling
// again adds nothing: the keys carry the member.
func (s *Service) Enroll(ctx context.Context, tx *store.Tx, tenantID, memberID int64, joinedAt time.Time) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM campaign_playbooks WHERE tenant_id = $1 AND anchor = 'member_join' AND active ORDER BY id`, tenantID)
	if err != nil {
		return 0, err
	}
	pids, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range pids {
		p, err := getPlaybook(ctx, tx, tenantID, id)
		if err != nil {
			return n, err
		}
		k, err := s.plan(ctx, tx, p, joinedAt, MemberOccurrence(memberID))
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// plan expands p for one occurrence ("": the live's or the date's) and
// schedules what is not too late.
func (s *Service) plan(ctx context.Context, tx *store.Tx, p Playbook, anchor time.Time, occurrence string) (int, error) {
	b, err := loadBrand(ctx, tx, p.TenantID)
	if err != nil {
		return 0, err
	}
	if occurrence == "" {
		occurrence = OccurrenceOf(p, 0, b.loc)
	}
	now := s.now()
	jobs, err := BestTimes(ctx, tx, p.TenantID, Expand(p, anchor, b.loc, occurrence), b.loc, now)
	if err != nil {
		return 0, err
	}
	due := jobs[:0]
	for _, j := range jobs {
		if !j.RunAt.Before(now.Add(-LateLimit)) {
			due = append(due, j)
		}
	}
	return s.Schedule(ctx, tx, due)
}
