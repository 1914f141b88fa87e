package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// scope is a Filter turned into SQL: the tenant, the period's bounds in
// days and in Unix ms, and a condition on a group id column.
type scope struct {
	f          Filter
	loc        *time.Location
	from, to   int64 // ms: the period's first instant and the one after its end
	groups     bool  // a group or channel filter is set
	args       []any
	groupWhere func(col string) string // " AND <col> IN (…)" or ""
}

func (s *Service) scope(f Filter) *scope {
	loc := f.Loc
	if loc == nil {
		loc = time.UTC
	}
	sc := &scope{f: f, loc: loc, from: store.Millis(f.Period.From.Start(loc)), to: store.Millis(f.Period.To.Start(loc))}
	sc.groupWhere = func(string) string { return "" }
	switch {
	case f.GroupID != 0:
		sc.groups = true
		sc.groupWhere = func(col string) string { return fmt.Sprintf(" AND %s = %d", col, f.GroupID) }
	case f.Channel != "":
		sc.groups = true
		// The channel kind is a fixed word checked by the caller
		// (ValidChannel), so it may be inlined; the tenant id is a number.
		sc.groupWhere = func(col string) string {
			return fmt.Sprintf(" AND %s IN (SELECT id FROM community_groups WHERE tenant_id = %d AND (channel = '%s' OR channel LIKE '%s/%%'))",
				col, f.TenantID, f.Channel, f.Channel)
		}
	}
	return sc
}

// ValidChannel reports whether c is a channel kind a Filter accepts.
func ValidChannel(c string) bool {
	return c == "" || c == "web" || c == "telegram" || c == "line"
}

// sumDaily is the sum of an_daily metrics over the period (and the
// scope's groups; rows outside groups count only without a group filter).
func (s *Service) sumDaily(ctx context.Context, sc *scope, p Period, metrics ...string) (map[string]int64, error) {
	ph := make([]string, len(metrics))
	args := []any{sc.f.TenantID, int(p.From), int(p.To)}
	for i, m := range metrics {
		args = append(args, m)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT metric, SUM(value) FROM an_daily
		WHERE tenant_id = $1 AND day >= $2 AND day < $3 AND metric IN (`+strings.Join(ph, ",")+`)`+sc.groupWhere("group_id")+`
		GROUP BY metric`, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: sum: %w", err)
	}
	out, err := store.CollectMap[string, int64](rows)
	if err != nil {
		return nil, fmt.Errorf("analytics: sum: %w", err)
	}
	return out, nil
}

// membersBetween is how many distinct members were in the scope's groups
// at some time in [from, to) (ms): joined before to, not gone before from.
func (s *Service) membersBetween(ctx context.Context, sc *scope, from, to int64) (int64, error) {
	var n int64
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT member_id) FROM group_members
		WHERE tenant_id = $1 AND joined_at < $2 AND COALESCE(left_at, removed_at, $3) >= $3`+sc.groupWhere("group_id"),
		sc.f.TenantID, to, from).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("analytics: members: %w", err)
	}
	return n, nil
}

// Overview is every scalar metric of Defs for f, keyed by Def.Key. The
// definitions (also in the i18n catalogue, "metric.<key>.def"):
//
//   - joins: member_joined events in the period; new_members: members
//     whose first join ever was in the period (in the filter's groups);
//     returning_members: joins − new_members (joins of people who had
//     been members before); leaves: members who left or were removed.
//   - growth_rate: (joins − leaves) / members at the period's start.
//   - active_members: distinct members who did anything (a message, a
//     check-in, a click, a vote, a live comment, a claim, an order…);
//     dau: the average over the period's days of that day's active members
//     (here and below, "days" are the period's days up to today).
//   - member_messages: group messages by members; messages_per_day:
//     member_messages / days.
//   - interaction_rate: members who posted in a group / members of the
//     groups at some time in the period.
//   - m2m_ratio: member messages answering a member / member messages
//     answering anyone (a reply, or a message within TurnWindow after
//     another author's); brand_share: the brand's messages (staff,
//     personas, scheduled posts, staff-tagged accounts) / all messages.
//   - checkin_rate: check-ins / (members × days).
//   - clicks: tracked-link clicks; ctr: clicks on pushed content /
//     its reach (Content).
//   - acquisition_rate: the funnel's joined / viewers (Funnel).
//   - orders: orders paid in the period; gmv: their amounts minus the
//     refunds made in the period; aov: paid amounts / orders; buyers:
//     members with an order paid in the period; conversion_rate: buyers /
//     members; repurchase_rate: buyers with ≥ 2 orders in the period /
//     buyers; repurchase_cycle: the median of the days between a buyer's
//     consecutive orders, for the pairs whose later order is in the period.
func (s *Service) Overview(ctx context.Context, f Filter) (map[string]Value, error) {
	sc := s.scope(f)
	p := f.Period
	// The per-day averages are over the period's days that have begun: a
	// period running into the future ("this week", "this month") has
	// no data for its days to come.
	days := float64(max(min(p.To, s.Today(sc.loc)+1)-p.From, 0))
	sums, err := s.sumDaily(ctx, sc, p, "joins", "leaves", "member_messages", "messages", "brand_messages",
		"to_member", "to_brand", "checkins", "clicks")
	if err != nil {
		return nil, err
	}
	newMembers, err := s.newMembers(ctx, sc, p)
	if err != nil {
		return nil, err
	}
	members, err := s.membersBetween(ctx, sc, sc.from, sc.to)
	if err != nil {
		return nil, err
	}
	atStart, err := s.membersBetween(ctx, sc, sc.from, sc.from)
	if err != nil {
		return nil, err
	}
	act, err := s.activity(ctx, sc, p)
	if err != nil {
		return nil, err
	}
	res, err := s.results(ctx, sc)
	if err != nil {
		return nil, err
	}
	v := map[string]Value{
		"joins":             {Num: float64(sums["joins"])},
		"new_members":       {Num: float64(newMembers)},
		"returning_members": {Num: float64(max(sums["joins"]-newMembers, 0))},
		"leaves":            {Num: float64(sums["leaves"])},
		"growth_rate":       ratioOf(sums["joins"]-sums["leaves"], atStart),
		"active_members":    {Num: float64(act.active)},
		"dau":               {Num: float64(act.memberDays), Den: days, Ratio: true},
		"member_messages":   {Num: float64(sums["member_messages"])},
		"messages_per_day":  {Num: float64(sums["member_messages"]), Den: days, Ratio: true},
		"interaction_rate":  ratioOf(act.posters, members),
		"m2m_ratio":         ratioOf(sums["to_member"], sums["to_member"]+sums["to_brand"]),
		"brand_share":       ratioOf(sums["brand_messages"], sums["messages"]),
		"checkin_rate":      {Num: float64(sums["checkins"]), Den: float64(members) * days, Ratio: true},
		"clicks":            {Num: float64(sums["clicks"])},
		"orders":            {Num: float64(res.orders)},
		"gmv":               {Num: float64(res.paid - res.refunded)},
		"aov":               ratioOf(res.paid, res.orders),
		"buyers":            {Num: float64(res.buyers)},
		"conversion_rate":   ratioOf(res.memberBuyers, members),
		"repurchase_rate":   ratioOf(res.repeat, res.buyers),
		"repurchase_cycle":  res.cycle,
	}
	// ctr and acquisition_rate read the content and funnel queries; a
	// failure there leaves them not-a-number rather than failing the page.
	v["ctr"] = Value{Ratio: true}
	if rows, err := s.Content(ctx, f); err == nil {
		var clicks, reach int64
		for _, r := range rows {
			clicks += r.Clicks
			reach += r.Reach
		}
		v["ctr"] = ratioOf(clicks, reach)
	}
	v["acquisition_rate"] = Value{Ratio: true}
	if fn, err := s.Funnel(ctx, f, 0); err == nil && len(fn.Steps) >= 2 {
		v["acquisition_rate"] = ratioOf(fn.Steps[1].Members, fn.Steps[0].Members)
	}
	return v, nil
}

func ratioOf(num, den int64) Value { return Value{Num: float64(num), Den: float64(den), Ratio: true} }

// newMembers counts the members whose first join was in p (in the
// scope's groups).
func (s *Service) newMembers(ctx context.Context, sc *scope, p Period) (int64, error) {
	var n int64
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM an_members WHERE tenant_id = $1 AND first_day >= $2 AND first_day < $3`+
		sc.groupWhere("group_id"), sc.f.TenantID, int(p.From), int(p.To)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("analytics: new members: %w", err)
	}
	return n, nil
}

type activity struct{ active, memberDays, posters int64 }

// activity reads an_member_day over p: distinct active members, active
// member-days, distinct members who posted.
func (s *Service) activity(ctx context.Context, sc *scope, p Period) (activity, error) {
	var a activity
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT member_id), COUNT(DISTINCT CASE WHEN messages > 0 THEN member_id END)
		FROM an_member_day WHERE tenant_id = $1 AND day >= $2 AND day < $3`+sc.groupWhere("group_id"),
		sc.f.TenantID, int(p.From), int(p.To)).Scan(&a.active, &a.posters)
	if err != nil {
		return a, fmt.Errorf("analytics: activity: %w", err)
	}
	// The distinct (day, member) pairs, counted day by day: read through
	// the primary key's (tenant, day) range, the period's rows only
	// (DISTINCT day, member_id had SQLite read every member-day of the
	// tenant through (tenant, member_id, day)).
	err = s.db.R.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(DISTINCT member_id) AS n FROM an_member_day
		WHERE tenant_id = $1 AND day >= $2 AND day < $3`+sc.groupWhere("group_id")+` GROUP BY day) d`,
		sc.f.TenantID, int(p.From), int(p.To)).Scan(&a.memberDays)
	if err != nil {
		return a, fmt.Errorf("analytics: member days: %w", err)
	}
	return a, nil
}

type results struct {
	orders, paid, refunded int64
	buyers, memberBuyers   int64 // buyers; those of them who were members of the scope's groups
	repeat                 int64
	cycle                  Value
}

// results reads the orders table for the period. With a group filter,
// only the orders of members of those groups count.
func (s *Service) results(ctx context.Context, sc *scope) (results, error) {
	var r results
	inGroups := ""
	if sc.groups {
		inGroups = ` AND o.member_id IN (SELECT member_id FROM group_members WHERE tenant_id = $1` + sc.groupWhere("group_id") + `)`
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT o.member_id, o.amount_minor FROM orders o
		WHERE o.tenant_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3`+inGroups, sc.f.TenantID, sc.from, sc.to)
	if err != nil {
		return r, fmt.Errorf("analytics: orders: %w", err)
	}
	perBuyer := map[int64]int64{}
	for rows.Next() {
		var member sql.NullInt64
		var amount int64
		if err := rows.Scan(&member, &amount); err != nil {
			rows.Close()
			return r, err
		}
		r.orders++
		r.paid += amount
		if member.Valid {
			perBuyer[member.Int64]++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	r.buyers = int64(len(perBuyer))
	for _, n := range perBuyer {
		if n >= 2 {
			r.repeat++
		}
	}
	err = s.db.R.QueryRowContext(ctx, `SELECT COALESCE(SUM(rf.amount_minor), 0) FROM order_refunds rf JOIN orders o ON o.id = rf.order_id
		WHERE rf.tenant_id = $1 AND rf.refunded_at >= $2 AND rf.refunded_at < $3`+inGroups, sc.f.TenantID, sc.from, sc.to).Scan(&r.refunded)
	if err != nil {
		return r, fmt.Errorf("analytics: refunds: %w", err)
	}
	// Buyers who were members of the groups in the period.
	err = s.db.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT o.member_id) FROM orders o
		JOIN group_members gm ON gm.tenant_id = o.tenant_id AND gm.member_id = o.member_id
		WHERE o.tenant_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3
		AND gm.joined_at < $3 AND COALESCE(gm.left_at, gm.removed_at, $2) >= $2`+sc.groupWhere("gm.group_id"),
		sc.f.TenantID, sc.from, sc.to).Scan(&r.memberBuyers)
	if err != nil {
		return r, fmt.Errorf("analytics: member buyers: %w", err)
	}
	r.cycle, err = s.repurchaseCycle(ctx, sc, perBuyer)
	return r, err
}

// repurchaseCycle is the median of the days between consecutive orders of
// the period's buyers, over the pairs whose later order is in the period.
func (s *Service) repurchaseCycle(ctx context.Context, sc *scope, buyers map[int64]int64) (Value, error) {
	var gaps []float64
	ids := make([]int64, 0, len(buyers))
	for id := range buyers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		ph := make([]string, len(part))
		args := []any{sc.f.TenantID, sc.to}
		for i, id := range part {
			args = append(args, id)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		rows, err := s.db.R.QueryContext(ctx, `SELECT member_id, paid_at FROM orders
			WHERE tenant_id = $1 AND paid_at < $2 AND member_id IN (`+strings.Join(ph, ",")+`) ORDER BY member_id, paid_at`, args...)
		if err != nil {
			return Value{}, fmt.Errorf("analytics: repurchase cycle: %w", err)
		}
		var last, lastAt int64
		for rows.Next() {
			var m, at int64
			if err := rows.Scan(&m, &at); err != nil {
				rows.Close()
				return Value{}, err
			}
			if m == last && at >= sc.from {
				gaps = append(gaps, float64(at-lastAt)/float64(24*time.Hour/time.Millisecond))
			}
			last, lastAt = m, at
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return Value{}, err
		}
	}
	if len(gaps) == 0 {
		return Value{Ratio: true}, nil // no repeat purchase: not a number
	}
	slices.Sort(gaps)
	n := len(gaps)
	med := gaps[n/2]
	if n%2 == 0 {
		med = (gaps[n/2-1] + gaps[n/2]) / 2
	}
	return Value{Num: med}, nil
}
