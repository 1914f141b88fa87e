package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// BestWindow is how far back BestHour looks.
const BestWindow = 28 * 24 * time.Hour

// BestHour is the hour of the day (in loc) at which the group's members
// wrote most messages over the 28 days before now; DefaultBestHour when
// they wrote none. Ties go to the earlier hour. Hours are counted by the
// hour of UTC they fall in, so in a zone offset by a half hour the answer
// is the local hour that bucket starts in.
func BestHour(ctx context.Context, q store.Querier, tenantID, groupID int64, loc *time.Location, now time.Time) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT at / 3600000, COUNT(*) FROM events
		WHERE tenant_id = $1 AND group_id = $2 AND type = 'message' AND member_id IS NOT NULL AND source <> 'outbox'
		AND at >= $3 AND at < $4 GROUP BY at / 3600000`,
		tenantID, groupID, store.Millis(now.Add(-BestWindow)), store.Millis(now))
	if err != nil {
		return DefaultBestHour, fmt.Errorf("campaign: best hour: %w", err)
	}
	defer rows.Close()
	var byHour [24]int64
	for rows.Next() {
		var bucket, n int64
		if err := rows.Scan(&bucket, &n); err != nil {
			return DefaultBestHour, err
		}
		byHour[time.UnixMilli(bucket*3600000).In(orUTC(loc)).Hour()] += n
	}
	if err := rows.Err(); err != nil {
		return DefaultBestHour, err
	}
	best, most := DefaultBestHour, int64(0)
	for h, n := range byHour {
		if n > most {
			best, most = h, n
		}
	}
	return best, nil
}

// BestTimes gives each BestTime job its group's best hour (a private
// message step: the segment's group, else its first group; none: the
// default hour) and the run time that follows.
func BestTimes(ctx context.Context, q store.Querier, tenantID int64, jobs []Job, loc *time.Location, now time.Time) ([]Job, error) {
	hours := map[int64]int{0: DefaultBestHour}
	for i := range jobs {
		j := &jobs[i]
		if !j.BestTime {
			continue
		}
		h, ok := hours[j.bestGroup]
		if !ok {
			var err error
			if h, err = BestHour(ctx, q, tenantID, j.bestGroup, loc, now); err != nil {
				return jobs, err
			}
			hours[j.bestGroup] = h
		}
		j.Clock, j.Minutes = fmt.Sprintf("%02d:00", h), 0
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
