package campaign

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// CalendarEntry is one job as the calendar shows it.
type CalendarEntry struct {
	Job
	Title     string // the content's title
	Playbook  string // the playbook's name
	GroupName string // the group of a post; "" for private messages
}

// WeekMix is the content mix of one ISO week (in the tenant's zone):
// value against sales sends planned or made, one per job (a post in a
// group, or a step's private messages).
type WeekMix struct {
	Year, Week int
	Start      time.Time // Monday 00:00, tenant time
	Value      int
	Sales      int
	// Warning: sales are more than 30 % of the week (the 7:3 rule).
	Warning bool
	// OverCap: some group gets, or a private-message audience would get,
	// more sales sends this week than the tenant's cap allows in its
	// window — the extra ones will be skipped.
	OverCap bool
}

// Calendar is what will go out (and went out) between two times.
type Calendar struct {
	Entries []CalendarEntry
	Weeks   []WeekMix
}

// counted reports whether a job counts in the mix: it is planned or done,
// not cancelled, skipped or failed.
func counted(s JobState) bool { return s == JobPending || s == JobRunning || s == JobSent }

// Mix counts jobs per ISO week in loc; salesCap is the tenant's sales cap.
func Mix(jobs []Job, loc *time.Location, salesCap int) []WeekMix {
	type key struct{ year, week int }
	weeks := map[key]*WeekMix{}
	groupSales := map[key]map[int64]int{}
	for _, j := range jobs {
		if !counted(j.State) {
			continue
		}
		local := j.RunAt.In(orUTC(loc))
		y, w := local.ISOWeek()
		k := key{y, w}
		wm := weeks[k]
		if wm == nil {
			wd := (int(local.Weekday()) + 6) % 7 // Monday 0
			ly, lm, ld := local.Date()
			wm = &WeekMix{Year: y, Week: w, Start: time.Date(ly, lm, ld-wd, 0, 0, 0, 0, local.Location())}
			weeks[k], groupSales[k] = wm, map[int64]int{}
		}
		if !j.ContentType.Sales() {
			wm.Value++
			continue
		}
		wm.Sales++
		groupSales[k][j.GroupID]++ // 0: the private messages
		if salesCap > 0 && groupSales[k][j.GroupID] > salesCap {
			wm.OverCap = true
		}
	}
	out := make([]WeekMix, 0, len(weeks))
	for _, wm := range weeks {
		wm.Warning = wm.Sales*10 > (wm.Sales+wm.Value)*3
		out = append(out, *wm)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Start.Before(out[b].Start) })
	return out
}

// Calendar lists the tenant's jobs that run in [from, to) with their
// content, playbook and group, and the weekly mix.
func (s *Service) Calendar(ctx context.Context, tenantID int64, from, to time.Time) (Calendar, error) {
	b, err := loadBrand(ctx, s.db.R, tenantID)
	if err != nil {
		return Calendar{}, err
	}
	pol, err := tenantPolicy(ctx, s.db.R, tenantID, DefaultPolicy())
	if err != nil {
		return Calendar{}, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+jobColsJ+`, COALESCE(c.title, ''), COALESCE(p.name, ''), COALESCE(g.name, '')
		FROM campaign_jobs j
		LEFT JOIN campaign_content c ON c.tenant_id = j.tenant_id AND c.id = j.content_id
		LEFT JOIN campaign_playbooks p ON p.tenant_id = j.tenant_id AND p.id = j.playbook_id
		LEFT JOIN community_groups g ON g.tenant_id = j.tenant_id AND g.id = j.group_id
		WHERE j.tenant_id = $1 AND j.run_at >= $2 AND j.run_at < $3 ORDER BY j.run_at, j.id`,
		tenantID, store.Millis(from), store.Millis(to))
	if err != nil {
		return Calendar{}, fmt.Errorf("campaign: calendar: %w", err)
	}
	entries, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (CalendarEntry, error) {
		var e CalendarEntry
		var extra [3]string
		j, err := scanJob(scanTail{r, []any{&extra[0], &extra[1], &extra[2]}})
		e.Job, e.Title, e.Playbook, e.GroupName = j, extra[0], extra[1], extra[2]
		return e, err
	})
	if err != nil {
		return Calendar{}, err
	}
	jobs := make([]Job, len(entries))
	for i, e := range entries {
		jobs[i] = e.Job
	}
	return Calendar{Entries: entries, Weeks: Mix(jobs, b.loc, pol.SalesCap)}, nil
}

// jobColsJ is jobCols qualified by the alias j.
var jobColsJ = qualify(jobCols, "j.")

func qualify(cols, prefix string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// scanTail scans a row of job columns followed by more.
type scanTail struct {
	r    interface{ Scan(...any) error }
	tail []any
}

func (s scanTail) Scan(dest ...any) error { return s.r.Scan(append(dest, s.tail...)...) }
