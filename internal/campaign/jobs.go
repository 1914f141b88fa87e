package campaign

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// LateLimit is how late a step may still be scheduled: when a playbook is
// armed (or a live moved) after a step's time has passed by more than
// this, the step is left out rather than sent out of its moment.
const LateLimit = time.Hour

// Schedule stores jobs in tx and reports how many it added. A key that
// exists is left as it is — expanding again adds nothing, and a job
// already sent is never sent again — with one exception: a cancelled job
// (its step changed, its playbook was paused) is revived as pending with
// the new time, so arming a playbook again after an edit schedules it.
func (s *Service) Schedule(ctx context.Context, tx *store.Tx, jobs []Job) (int, error) {
	now := store.Millis(s.now())
	n := 0
	for _, j := range jobs {
		res, err := tx.ExecContext(ctx, `INSERT INTO campaign_jobs (tenant_id, playbook_id, step_id, live_id, member_id, group_id,
			content_id, content_type, key, run_at, anchor_at, offset_days, offset_minutes, clock, state, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE((SELECT type FROM campaign_content WHERE tenant_id = $1 AND id = $7), ''),
				$8, $9, $10, $11, $12, $13, 'pending', $14)
			ON CONFLICT (tenant_id, key) DO UPDATE SET state = 'pending', reason = '', run_at = excluded.run_at,
				anchor_at = excluded.anchor_at, offset_days = excluded.offset_days, offset_minutes = excluded.offset_minutes,
				clock = excluded.clock, content_id = excluded.content_id, content_type = excluded.content_type,
				lease_until = 0, attempts = 0, done_at = 0
			WHERE campaign_jobs.state = 'cancelled'`,
			j.TenantID, j.PlaybookID, j.StepID, j.LiveID, j.MemberID, j.GroupID, j.ContentID, j.Key,
			store.Millis(j.RunAt), store.Millis(j.AnchorAt), j.Days, j.Minutes, j.Clock, now)
		if err != nil {
			return n, fmt.Errorf("campaign: schedule %s: %w", j.Key, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

// cancelPending cancels the tenant's pending jobs matching cond ($2… are
// args) with the reason.
func cancelPending(ctx context.Context, q store.Querier, now time.Time, tenantID int64, cond, reason string, args ...any) error {
	_, err := q.ExecContext(ctx, fmt.Sprintf(`UPDATE campaign_jobs SET state = 'cancelled', reason = $%d, done_at = $%d
		WHERE tenant_id = $1 AND state = 'pending' AND `+cond, len(args)+2, len(args)+3),
		append(append([]any{tenantID}, args...), reason, store.Millis(now))...)
	if err != nil {
		return fmt.Errorf("campaign: cancel jobs: %w", err)
	}
	return nil
}

// Cancel cancels the playbook's pending jobs (those sent stay sent) and
// reports how many.
func (s *Service) Cancel(ctx context.Context, tx *store.Tx, tenantID, playbookID int64) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE campaign_jobs SET state = 'cancelled', reason = 'cancelled', done_at = $3
		WHERE tenant_id = $1 AND playbook_id = $2 AND state = 'pending'`, tenantID, playbookID, store.Millis(s.now()))
	if err != nil {
		return 0, fmt.Errorf("campaign: cancel playbook %d: %w", playbookID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Reanchor moves the pending jobs of the playbooks that follow the live's
// start to its new start, each the way Expand places it (same day offset
// and local time of day, or same minute offset); jobs already sent stay
// as they are. A job whose new time has passed by more than LateLimit is
// cancelled with the reason. It reports how many jobs moved.
func (s *Service) Reanchor(ctx context.Context, tx *store.Tx, tenantID, liveID int64, newStart time.Time) (int, error) {
	b, err := loadBrand(ctx, tx, tenantID)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+jobCols+` FROM campaign_jobs WHERE tenant_id = $1 AND live_id = $2 AND state = 'pending'
		AND playbook_id IN (SELECT id FROM campaign_playbooks WHERE tenant_id = $1 AND anchor = 'live_start')`, tenantID, liveID)
	if err != nil {
		return 0, err
	}
	jobs, err := store.Collect(rows, scanJob)
	if err != nil {
		return 0, err
	}
	now := s.now()
	moved := 0
	for _, j := range jobs {
		j = j.Reanchored(newStart, b.loc)
		if j.RunAt.Before(now.Add(-LateLimit)) {
			if err := cancelPending(ctx, tx, now, tenantID, `id = $2`, "live moved: the step's time has passed", j.ID); err != nil {
				return moved, err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaign_jobs SET run_at = $3, anchor_at = $4, reason = ''
			WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`, tenantID, j.ID, store.Millis(j.RunAt), store.Millis(j.AnchorAt)); err != nil {
			return moved, fmt.Errorf("campaign: reanchor job %d: %w", j.ID, err)
		}
		moved++
	}
	return moved, nil
}

const jobCols = `id, tenant_id, playbook_id, step_id, live_id, member_id, group_id, content_id, content_type, key, run_at, anchor_at,
	offset_days, offset_minutes, clock, state, reason, lease_until, attempts, sent, skipped, created_at, done_at`

func scanJob(r interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var typ, state string
	var runAt, anchorAt, lease, created, done int64
	err := r.Scan(&j.ID, &j.TenantID, &j.PlaybookID, &j.StepID, &j.LiveID, &j.MemberID, &j.GroupID, &j.ContentID, &typ, &j.Key,
		&runAt, &anchorAt, &j.Days, &j.Minutes, &j.Clock, &state, &j.Reason, &lease, &j.Attempts, &j.Sent, &j.Skipped, &created, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return j, store.ErrNotFound
	}
	j.ContentType, j.State = Type(typ), JobState(state)
	j.RunAt, j.AnchorAt, j.LeaseUntil, j.CreatedAt, j.DoneAt = store.Time(runAt), store.Time(anchorAt), store.Time(lease), store.Time(created), store.Time(done)
	return j, err
}

// Claim takes up to limit due jobs for a worker, across tenants: pending
// jobs whose time has come, and running jobs whose lease ended (a crashed
// or stalled worker's). Each comes back running, leased until now+lease,
// its Attempts one higher — the claim the worker must still hold to
// finish it. One statement: on PostgreSQL the rows are locked with SKIP
// LOCKED, so two workers never take the same job; on SQLite the single
// writer runs one claim at a time.
func (s *Service) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Job, error) {
	lock := ""
	if s.db.Dialect == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.db.W.QueryContext(ctx, `UPDATE campaign_jobs SET state = 'running', lease_until = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM campaign_jobs
			WHERE (state = 'pending' AND run_at <= $1) OR (state = 'running' AND lease_until <= $1)
			ORDER BY run_at, id LIMIT $3`+lock+`)
		RETURNING `+jobCols, store.Millis(now), store.Millis(now.Add(lease)), limit)
	if err != nil {
		return nil, fmt.Errorf("campaign: claim: %w", err)
	}
	jobs, err := store.Collect(rows, scanJob)
	if err != nil {
		return nil, err
	}
	sortJobs(jobs)
	return jobs, nil
}

// sortJobs puts jobs in queue order (RETURNING gives none).
func sortJobs(jobs []Job) {
	slices.SortFunc(jobs, func(a, b Job) int {
		return cmp.Or(a.RunAt.Compare(b.RunAt), cmp.Compare(a.ID, b.ID))
	})
}

// Jobs returns the tenant's jobs of a playbook (0: all) in queue order.
func (s *Service) Jobs(ctx context.Context, tenantID, playbookID int64) ([]Job, error) {
	cond, args := `tenant_id = $1`, []any{tenantID}
	if playbookID > 0 {
		cond, args = cond+` AND playbook_id = $2`, append(args, playbookID)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+jobCols+` FROM campaign_jobs WHERE `+cond+` ORDER BY run_at, id`, args...)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanJob)
}

// GetJob returns one job of the tenant.
func (s *Service) GetJob(ctx context.Context, tenantID, id int64) (Job, error) {
	return scanJob(s.db.R.QueryRowContext(ctx, `SELECT `+jobCols+` FROM campaign_jobs WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// Send is one recipient of a job: queued in the outbox, or skipped with
// the reason.
type Send struct {
	JobID    int64
	MemberID int64 // a private message
	GroupID  int64 // a group post
	Sales    bool
	At       time.Time
	Outcome  string // "sent" (queued in the outbox) or "skipped"
	Reason   string
}

// Sends returns the recipients of one of the tenant's jobs.
func (s *Service) Sends(ctx context.Context, tenantID, jobID int64) ([]Send, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT job_id, member_id, group_id, sales, sent_at, outcome, reason FROM campaign_sends
		WHERE tenant_id = $1 AND job_id = $2 ORDER BY id`, tenantID, jobID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Send, error) {
		var sd Send
		var at int64
		err := r.Scan(&sd.JobID, &sd.MemberID, &sd.GroupID, &sd.Sales, &at, &sd.Outcome, &sd.Reason)
		sd.At = store.Time(at)
		return sd, err
	})
}
