package analytics

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// Health classes of a group (seed 002): spontaneous (自发参与型, members
// talk to each other), self-talk (自说自话型, the brand's scheduled posts
// and little else), scripted (自导自演型, the brand's posts cheered by its
// own accounts/personas), self-centred (自我中心型, the brand pushes and
// does not answer members).
const (
	Spontaneous  = "spontaneous"
	SelfTalk     = "self_talk"
	Scripted     = "scripted"
	SelfCentred  = "self_centred"
	NotEnoughYet = "not_enough" // too few messages to tell
)

// GroupHealth is one group's class for the period, the signals it was
// told from, a 0–100 score and the weekly trend of the score.
type GroupHealth struct {
	GroupID     int64         `json:"group_id"`
	Name        string        `json:"name"`
	Class       string        `json:"class"`
	PrevClass   string        `json:"prev_class"` // the class of the previous period
	Score       int           `json:"score"`
	Reasons     []string      `json:"reasons"` // the i18n keys of Why, in order
	Why         []Reason      `json:"why"`     // the reasons with their arguments: render with HealthReasonText
	Signals     HealthSignals `json:"signals"`
	WeeklyScore []Point       `json:"weekly_score"` // 4–8 weeks, one point per week (Day = Monday)
}

// HealthSignals are the measured inputs of the classification.
type HealthSignals struct {
	Messages       int64   `json:"messages"`         // all group messages
	MemberMessages int64   `json:"member_messages"`  // messages of members (not staff-tagged)
	BrandShare     float64 `json:"brand_share"`      // staff + persona messages / messages
	PersonaShare   float64 `json:"persona_share"`    // persona messages / messages
	MemberToMember float64 `json:"member_to_member"` // member→member interactions / member interactions
	MemberToBrand  float64 `json:"member_to_brand"`  // member→brand interactions / member interactions
	Top3Share      float64 `json:"top3_share"`       // messages of the 3 most talkative members / member messages
	Posters        int64   `json:"posters"`          // members who posted
	Members        int64   `json:"members"`          // members of the group
	BrandAnswered  float64 `json:"brand_answered"`   // member messages the brand answered / member messages
}

// Heatmap is member engagement (messages + clicks) by local weekday
// (0 Sunday) and hour over the period, with the best slot. Without any
// engagement (Total 0) there is no best slot: HasBest is false and
// BestDay, BestHour are 0.
type Heatmap struct {
	GroupID  int64        `json:"group_id"`
	Cells    [7][24]int64 `json:"cells"`
	BestDay  int          `json:"best_day"`
	BestHour int          `json:"best_hour"`
	HasBest  bool         `json:"has_best"`
	Total    int64        `json:"total"`
}

// ContentRow is one content type × format's effectiveness in the period.
type ContentRow struct {
	Type    string `json:"type"`   // knowledge, promo, …
	Format  string `json:"format"` // text, image, video
	Sends   int64  `json:"sends"`  // pushes sent
	Reach   int64  `json:"reach"`  // recipients (members of the groups / DMs)
	Clicks  int64  `json:"clicks"`
	Replies int64  `json:"replies"`
	Orders  int64  `json:"orders"` // attributed (last touch)
	GMV     int64  `json:"gmv"`
}

// Advice is one capacity finding about a group.
type Advice struct {
	GroupID int64  `json:"group_id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"` // over_cap, near_cap, too_small, silent
	Members int64  `json:"members"`
	Cap     int64  `json:"cap"`
}

// HealthWeeks is how many weeks the score's trend covers; a group created
// within them shows HealthWeeksYoung.
const (
	HealthWeeks      = 8
	HealthWeeksYoung = 4
)

// healthGroup is a group Health reports on.
type healthGroup struct {
	id      int64
	name    string
	created time.Time
}

// Health classifies each group of f (or f.GroupID) over f's period: its
// class and the previous period's (Classify), its score (Score) and the
// score week by week over the last HealthWeeks weeks up to the period's
// end (HealthWeeksYoung for a group created within them; a week without
// messages is not a number). Groups archived before the period are left
// out (a group's creation date does not limit it: history can be imported
// from before it). An empty period gives no rows.
func (s *Service) Health(ctx context.Context, f Filter) ([]GroupHealth, error) {
	out := []GroupHealth{}
	if f.Period.Days() <= 0 {
		return out, nil
	}
	loc := orUTC(f.Loc)
	groups, err := s.healthGroups(ctx, f, loc)
	if err != nil || len(groups) == 0 {
		return out, err
	}
	ids := make([]int64, len(groups))
	for i, g := range groups {
		ids[i] = g.id
	}
	prev := f.Period.Previous()
	periods, err := s.healthCounts(ctx, f.TenantID, ids, prev.From, f.Period.Days(), 2, loc)
	if err != nil {
		return nil, err
	}
	weekFrom := Week(f.Period.To-1).From - Day(7*(HealthWeeks-1))
	weeks, err := s.healthCounts(ctx, f.TenantID, ids, weekFrom, 7, HealthWeeks, loc)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		sig := periods[g.id][1].signals()
		class, why := Classify(sig)
		prevClass, _ := Classify(periods[g.id][0].signals())
		h := GroupHealth{GroupID: g.id, Name: g.name, Class: class, PrevClass: prevClass, Score: Score(sig),
			Why: why, Signals: sig}
		for _, r := range why {
			h.Reasons = append(h.Reasons, r.Key)
		}
		first := 0
		if g.created.After(weekFrom.Start(loc)) {
			first = HealthWeeks - HealthWeeksYoung
		}
		for w := first; w < HealthWeeks; w++ {
			h.WeeklyScore = append(h.WeeklyScore, weekPoint(weekFrom+Day(7*w), weeks[g.id][w].signals()))
		}
		out = append(out, h)
	}
	return out, nil
}

// weekPoint is one week's score: not a number without messages.
func weekPoint(monday Day, s HealthSignals) Point {
	if s.Messages == 0 {
		return Point{Day: monday, Value: Value{Ratio: true}}
	}
	return Point{Day: monday, Value: Value{Num: float64(Score(s))}}
}

func (s *Service) healthGroups(ctx context.Context, f Filter, loc *time.Location) ([]healthGroup, error) {
	q := `SELECT id, name, created_at FROM community_groups WHERE tenant_id = $1
		AND (archived_at IS NULL OR archived_at >= $2)`
	args := []any{f.TenantID, store.Millis(f.Period.From.Start(loc))}
	switch {
	case f.GroupID != 0:
		q += ` AND id = $3`
		args = append(args, f.GroupID)
	case f.Channel != "":
		// A channel kind holds its accounts' groups ("telegram/1").
		q += ` AND (channel = $3 OR channel LIKE $4)`
		args = append(args, f.Channel, f.Channel+"/%")
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: health groups: %w", err)
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (healthGroup, error) {
		var g healthGroup
		var created int64
		err := r.Scan(&g.id, &g.name, &created)
		g.created = store.Time(created)
		return g, err
	})
}

// groupCounts are the raw counts one group's signals come from, over one
// bucket of days.
type groupCounts struct {
	messages, brand, persona, memberMsgs int64 // an_daily
	toMember, toBrand, brandToMember     int64 // an_daily
	top3, talk, posters                  int64 // an_member_day: the 3 most talkative members' messages, all, members who wrote
	members                              int64 // group_members overlapping the bucket
}

// addDaily adds an an_daily counter.
func (c *groupCounts) addDaily(metric string, v int64) {
	switch metric {
	case "messages":
		c.messages += v
	case "brand_messages":
		c.brand += v
	case "persona_messages":
		c.persona += v
	case "member_messages":
		c.memberMsgs += v
	case "to_member":
		c.toMember += v
	case "to_brand":
		c.toBrand += v
	case "brand_to_member":
		c.brandToMember += v
	}
}

// signals derives the health signals; every ratio over nothing is 0.
func (c groupCounts) signals() HealthSignals {
	answers := c.toMember + c.toBrand
	return HealthSignals{
		Messages:       c.messages,
		MemberMessages: c.memberMsgs,
		BrandShare:     ratio(c.brand, c.messages),
		PersonaShare:   ratio(c.persona, c.messages),
		MemberToMember: ratio(c.toMember, answers),
		MemberToBrand:  ratio(c.toBrand, answers),
		Top3Share:      ratio(c.top3, c.talk),
		Posters:        c.posters,
		Members:        c.members,
		BrandAnswered:  math.Min(1, ratio(c.brandToMember, c.memberMsgs)),
	}
}

// healthCounts reads n buckets of width days from `from` for the groups:
// group → bucket → counts.
func (s *Service) healthCounts(ctx context.Context, tenantID int64, groups []int64, from Day, width, n int, loc *time.Location) (map[int64][]groupCounts, error) {
	out := make(map[int64][]groupCounts, len(groups))
	for _, g := range groups {
		out[g] = make([]groupCounts, n)
	}
	to := from + Day(width*n)
	steps := []func() error{
		func() error { return s.dailyCounts(ctx, tenantID, from, to, width, out) },
		func() error { return s.talkCounts(ctx, tenantID, from, to, width, out) },
		func() error { return s.memberCounts(ctx, tenantID, from, width, n, loc, out) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bucketOf is the counts of group g's bucket b, nil when g is not asked
// for or b is out of range.
func bucketOf(out map[int64][]groupCounts, g, b int64) *groupCounts {
	bs, ok := out[g]
	if !ok || b < 0 || b >= int64(len(bs)) {
		return nil
	}
	return &bs[b]
}

func (s *Service) dailyCounts(ctx context.Context, tenantID int64, from, to Day, width int, out map[int64][]groupCounts) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT group_id, metric, (day - $2) / $3, SUM(value) FROM an_daily
		WHERE tenant_id = $1 AND day >= $2 AND day < $4 AND group_id <> 0 AND metric IN
		('messages','brand_messages','persona_messages','member_messages','to_member','to_brand','brand_to_member')
		GROUP BY 1, 2, 3`, tenantID, int64(from), width, int64(to))
	if err != nil {
		return fmt.Errorf("analytics: health daily: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g, b, v int64
		var metric string
		if err := rows.Scan(&g, &metric, &b, &v); err != nil {
			return fmt.Errorf("analytics: health daily: %w", err)
		}
		if c := bucketOf(out, g, b); c != nil {
			c.addDaily(metric, v)
		}
	}
	return rows.Err()
}

// talkCounts reads, per group and bucket, the messages of the three most
// talkative members, of all members, and how many members wrote.
func (s *Service) talkCounts(ctx context.Context, tenantID int64, from, to Day, width int, out map[int64][]groupCounts) error {
	rows, err := s.db.R.QueryContext(ctx, `WITH w AS (
			SELECT group_id, (day - $2) / $3 AS b, member_id, SUM(messages) AS n FROM an_member_day
			WHERE tenant_id = $1 AND day >= $2 AND day < $4 AND group_id <> 0 GROUP BY 1, 2, 3),
		r AS (SELECT group_id, b, n, ROW_NUMBER() OVER (PARTITION BY group_id, b ORDER BY n DESC, member_id) AS rn
			FROM w WHERE n > 0)
		SELECT group_id, b, SUM(CASE WHEN rn <= 3 THEN n ELSE 0 END), SUM(n), COUNT(*) FROM r GROUP BY 1, 2`,
		tenantID, int64(from), width, int64(to))
	if err != nil {
		return fmt.Errorf("analytics: health talk: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g, b, top3, talk, posters int64
		if err := rows.Scan(&g, &b, &top3, &talk, &posters); err != nil {
			return fmt.Errorf("analytics: health talk: %w", err)
		}
		if c := bucketOf(out, g, b); c != nil {
			c.top3, c.talk, c.posters = top3, talk, posters
		}
	}
	return rows.Err()
}

// memberCounts counts, per group and bucket, the memberships that
// overlapped the bucket: joined before its end, not left or removed
// before its start.
func (s *Service) memberCounts(ctx context.Context, tenantID int64, from Day, width, n int, loc *time.Location, out map[int64][]groupCounts) error {
	args := []any{tenantID, store.Millis((from + Day(width*n)).Start(loc))}
	var cols strings.Builder
	for b := 0; b < n; b++ {
		start, end := from+Day(width*b), from+Day(width*(b+1))
		args = append(args, store.Millis(start.Start(loc)), store.Millis(end.Start(loc)))
		fmt.Fprintf(&cols, `, SUM(CASE WHEN joined_at < $%[2]d AND (left_at IS NULL OR left_at >= $%[1]d)
			AND (removed_at IS NULL OR removed_at >= $%[1]d) THEN 1 ELSE 0 END)`, len(args)-1, len(args))
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT group_id`+cols.String()+` FROM group_members
		WHERE tenant_id = $1 AND joined_at < $2 GROUP BY group_id`, args...)
	if err != nil {
		return fmt.Errorf("analytics: health members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g int64
		counts := make([]int64, n)
		dest := []any{&g}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("analytics: health members: %w", err)
		}
		for b, v := range counts {
			if c := bucketOf(out, g, int64(b)); c != nil {
				c.members = v
			}
		}
	}
	return rows.Err()
}

// orUTC is loc, or UTC when nil.
func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
