package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// Series is one metric of Defs day by day over f's period: every day is
// present; a day without data is a zero count or a not-a-number ratio.
func (s *Service) Series(ctx context.Context, f Filter, key string) ([]Point, error) {
	def, ok := DefOf(key)
	if !ok || !def.Daily {
		return nil, fmt.Errorf("analytics: %w: no daily series %q", store.ErrInvalid, key)
	}
	sc := s.scope(f)
	p := f.Period
	out := make([]Point, 0, max(p.Days(), 0))
	for d := p.From; d < p.To; d++ {
		out = append(out, Point{Day: d})
	}
	if len(out) == 0 {
		return out, nil
	}
	at := func(d Day) *Value { return &out[d-p.From].Value }
	switch key {
	case "joins", "leaves", "member_messages", "clicks":
		byDay, err := s.dailyByDay(ctx, sc, key)
		if err != nil {
			return nil, err
		}
		for d, n := range byDay {
			at(d).Num = float64(n)
		}
	case "new_members", "returning_members":
		news, err := s.newByDay(ctx, sc)
		if err != nil {
			return nil, err
		}
		joins := map[Day]int64{}
		if key == "returning_members" {
			if joins, err = s.dailyByDay(ctx, sc, "joins"); err != nil {
				return nil, err
			}
		}
		for i := range out {
			d := out[i].Day
			if key == "new_members" {
				out[i].Value.Num = float64(news[d])
			} else {
				out[i].Value.Num = float64(max(joins[d]-news[d], 0))
			}
		}
	case "dau":
		rows, err := s.db.R.QueryContext(ctx, `SELECT day, COUNT(DISTINCT member_id) FROM an_member_day
			WHERE tenant_id = $1 AND day >= $2 AND day < $3`+sc.groupWhere("group_id")+` GROUP BY day`,
			f.TenantID, int(p.From), int(p.To))
		if err != nil {
			return nil, fmt.Errorf("analytics: dau: %w", err)
		}
		counts, err := byDay(rows)
		if err != nil {
			return nil, err
		}
		for d, n := range counts {
			at(d).Num = float64(n)
		}
	case "m2m_ratio", "brand_share":
		num, den := "to_member", "to_brand"
		if key == "brand_share" {
			num, den = "brand_messages", "messages"
		}
		a, err := s.dailyByDay(ctx, sc, num)
		if err != nil {
			return nil, err
		}
		b, err := s.dailyByDay(ctx, sc, den)
		if err != nil {
			return nil, err
		}
		for i := range out {
			d := out[i].Day
			total := b[d]
			if key == "m2m_ratio" {
				total += a[d]
			}
			out[i].Value = Value{Num: float64(a[d]), Den: float64(total), Ratio: true}
		}
	case "orders", "gmv":
		if err := s.ordersByDay(ctx, sc, key, at); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("analytics: no daily series for %q", key)
	}
	return out, nil
}

func (s *Service) dailyByDay(ctx context.Context, sc *scope, metric string) (map[Day]int64, error) {
	p := sc.f.Period
	rows, err := s.db.R.QueryContext(ctx, `SELECT day, SUM(value) FROM an_daily
		WHERE tenant_id = $1 AND metric = $2 AND day >= $3 AND day < $4`+sc.groupWhere("group_id")+` GROUP BY day`,
		sc.f.TenantID, metric, int(p.From), int(p.To))
	if err != nil {
		return nil, fmt.Errorf("analytics: %s by day: %w", metric, err)
	}
	return byDay(rows)
}

func (s *Service) newByDay(ctx context.Context, sc *scope) (map[Day]int64, error) {
	p := sc.f.Period
	rows, err := s.db.R.QueryContext(ctx, `SELECT first_day, COUNT(*) FROM an_members
		WHERE tenant_id = $1 AND first_day >= $2 AND first_day < $3`+sc.groupWhere("group_id")+` GROUP BY first_day`,
		sc.f.TenantID, int(p.From), int(p.To))
	if err != nil {
		return nil, fmt.Errorf("analytics: new by day: %w", err)
	}
	return byDay(rows)
}

// ordersByDay fills orders (count) or gmv (paid minus refunded, each on
// its own day) from the orders table, as Overview counts them.
func (s *Service) ordersByDay(ctx context.Context, sc *scope, key string, at func(Day) *Value) error {
	inGroups := ""
	if sc.groups {
		inGroups = ` AND o.member_id IN (SELECT member_id FROM group_members WHERE tenant_id = $1` + sc.groupWhere("group_id") + `)`
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT o.paid_at, o.amount_minor FROM orders o
		WHERE o.tenant_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3`+inGroups, sc.f.TenantID, sc.from, sc.to)
	if err != nil {
		return fmt.Errorf("analytics: orders by day: %w", err)
	}
	for rows.Next() {
		var paid, amount int64
		if err := rows.Scan(&paid, &amount); err != nil {
			rows.Close()
			return err
		}
		v := at(DayOf(store.Time(paid), sc.loc))
		if key == "orders" {
			v.Num++
		} else {
			v.Num += float64(amount)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || key == "orders" {
		return err
	}
	rows, err = s.db.R.QueryContext(ctx, `SELECT rf.refunded_at, rf.amount_minor FROM order_refunds rf JOIN orders o ON o.id = rf.order_id
		WHERE rf.tenant_id = $1 AND rf.refunded_at >= $2 AND rf.refunded_at < $3`+inGroups, sc.f.TenantID, sc.from, sc.to)
	if err != nil {
		return fmt.Errorf("analytics: refunds by day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var when, amount int64
		if err := rows.Scan(&when, &amount); err != nil {
			return err
		}
		at(DayOf(store.Time(when), sc.loc)).Num -= float64(amount)
	}
	return rows.Err()
}

// Sources is the joins of f's period by source (join attribution), most
// joins first, with the previous period's joins of each source.
func (s *Service) Sources(ctx context.Context, f Filter) ([]SourceRow, error) {
	sc := s.scope(f)
	bySource := map[string]*SourceRow{}
	row := func(src string) *SourceRow {
		if r, ok := bySource[src]; ok {
			return r
		}
		r := &SourceRow{Source: src}
		bySource[src] = r
		return r
	}
	for i, p := range []Period{f.Period, f.Period.Previous()} {
		rows, err := s.db.R.QueryContext(ctx, `SELECT metric, SUM(value) FROM an_daily
			WHERE tenant_id = $1 AND metric LIKE 'joins_src:%' AND day >= $2 AND day < $3`+sc.groupWhere("group_id")+` GROUP BY metric`,
			f.TenantID, int(p.From), int(p.To))
		if err != nil {
			return nil, fmt.Errorf("analytics: sources: %w", err)
		}
		m, err := store.CollectMap[string, int64](rows)
		if err != nil {
			return nil, err
		}
		for metric, n := range m {
			r := row(strings.TrimPrefix(metric, "joins_src:"))
			if i == 0 {
				r.Joins = n
			} else {
				r.Prev = n
			}
		}
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT source, COUNT(*) FROM an_members
		WHERE tenant_id = $1 AND first_day >= $2 AND first_day < $3`+sc.groupWhere("group_id")+` GROUP BY source`,
		f.TenantID, int(f.Period.From), int(f.Period.To))
	if err != nil {
		return nil, fmt.Errorf("analytics: new by source: %w", err)
	}
	news, err := store.CollectMap[string, int64](rows)
	if err != nil {
		return nil, err
	}
	for src, n := range news {
		row(src).New = n
	}
	out := make([]SourceRow, 0, len(bySource))
	for _, r := range bySource {
		r.Returning = max(r.Joins-r.New, 0)
		if r.Joins > 0 || r.New > 0 {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Joins != out[j].Joins {
			return out[i].Joins > out[j].Joins
		}
		return out[i].Source < out[j].Source
	})
	return out, nil
}

// Cohorts is the weekly join cohorts whose Monday is in f's period: the
// members whose first join was that week (in f's groups), and of them
// how many did anything on the 1st, 7th and 30th day after their join
// day — counted only over the members for whom that day is over.
func (s *Service) Cohorts(ctx context.Context, f Filter) ([]Cohort, error) {
	sc := s.scope(f)
	from := Week(f.Period.From).From
	if from < f.Period.From {
		from += 7
	}
	// The last cohort is the week of the period's last Monday, whole:
	// its days after the period's end are still its members' join days.
	to := Week(f.Period.To - 1).To
	today := s.Today(sc.loc)
	rows, err := s.db.R.QueryContext(ctx, `SELECT m.first_day,
		EXISTS (SELECT 1 FROM an_member_day a WHERE a.tenant_id = m.tenant_id AND a.member_id = m.member_id AND a.day = m.first_day + 1 AND a.actions > 0),
		EXISTS (SELECT 1 FROM an_member_day a WHERE a.tenant_id = m.tenant_id AND a.member_id = m.member_id AND a.day = m.first_day + 7 AND a.actions > 0),
		EXISTS (SELECT 1 FROM an_member_day a WHERE a.tenant_id = m.tenant_id AND a.member_id = m.member_id AND a.day = m.first_day + 30 AND a.actions > 0)
		FROM an_members m WHERE m.tenant_id = $1 AND m.first_day >= $2 AND m.first_day < $3`+sc.groupWhere("m.group_id"),
		f.TenantID, int(from), int(to))
	if err != nil {
		return nil, fmt.Errorf("analytics: cohorts: %w", err)
	}
	defer rows.Close()
	byWeek := map[Day]*Cohort{}
	for rows.Next() {
		var first int
		var d1, d7, d30 bool
		if err := rows.Scan(&first, &d1, &d7, &d30); err != nil {
			return nil, err
		}
		w := Week(Day(first)).From
		c := byWeek[w]
		if c == nil {
			c = &Cohort{Week: w}
			byWeek[w] = c
		}
		c.Members++
		for _, r := range []struct {
			n      Day
			active bool
			into   *Retained
		}{{1, d1, &c.D1}, {7, d7, &c.D7}, {30, d30, &c.D30}} {
			if Day(first)+r.n < today { // that day is over
				r.into.Eligible++
				if r.active {
					r.into.Active++
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Cohort, 0, len(byWeek))
	for _, c := range byWeek {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Week < out[j].Week })
	return out, nil
}

// Funnel is live viewers → joined → clicked → bought → bought again, for
// one live (liveID > 0) or summed over the lives that started in f's
// period. For a live that ran from start to end:
//   - viewers: the larger of the platform's peak concurrent viewers and
//     the members who entered its live room;
//   - joined: members who joined a group through the live (its room, its
//     alert's link, its join code);
//   - clicked: members who clicked a tracked link of the live;
//   - bought: members of any of the above who paid an order between the
//     start and 24 h after the end;
//   - repeat: of those, the ones who paid another order within 30 days
//     of the start.
func (s *Service) Funnel(ctx context.Context, f Filter, liveID int64) (Funnel, error) {
	sc := s.scope(f)
	q := `SELECT id, started_at, ended_at FROM lives WHERE tenant_id = $1 AND started_at > 0 AND `
	args := []any{f.TenantID}
	if liveID > 0 {
		q += `id = $2`
		args = append(args, liveID)
	} else {
		q += `started_at >= $2 AND started_at < $3`
		args = append(args, sc.from, sc.to)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return Funnel{}, fmt.Errorf("analytics: funnel lives: %w", err)
	}
	type live struct{ id, start, end int64 }
	var lives []live
	for rows.Next() {
		var l live
		if err := rows.Scan(&l.id, &l.start, &l.end); err != nil {
			rows.Close()
			return Funnel{}, err
		}
		lives = append(lives, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Funnel{}, err
	}
	fn := Funnel{LiveID: liveID, Steps: []FunnelStep{{Key: "viewers"}, {Key: "joined"}, {Key: "clicked"}, {Key: "bought"}, {Key: "repeat"}}}
	now := store.Millis(s.now())
	for _, l := range lives {
		end := l.end
		if end == 0 {
			end = now
		}
		counts, err := s.liveFunnel(ctx, f.TenantID, l.id, l.start, end)
		if err != nil {
			return Funnel{}, err
		}
		for i := range fn.Steps {
			fn.Steps[i].Members += counts[i]
		}
	}
	return fn, nil
}

func (s *Service) liveFunnel(ctx context.Context, tenantID, liveID, start, end int64) ([5]int64, error) {
	var out [5]int64
	var peak int64
	// Platform reports of the live (source liveapi:<id>, unique index).
	rows, err := s.db.R.QueryContext(ctx, `SELECT data FROM events WHERE tenant_id = $1 AND source = $2 AND type = $3`,
		tenantID, fmt.Sprintf("liveapi:%d", liveID), string(event.LivePlatform))
	if err != nil {
		return out, fmt.Errorf("analytics: funnel platform: %w", err)
	}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			rows.Close()
			return out, err
		}
		var d event.LivePlatformData
		if (event.Event{Data: []byte(data)}).Decode(&d) == nil && d.Kind == "viewers" && d.Count > peak {
			peak = d.Count
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	// Read through (tenant, type, at) from the live's creation (no entry
	// is older): the LIKE cannot use an index, and "member_id IS NOT NULL"
	// would lead SQLite to (tenant, member_id), every event with a member.
	entered, err := s.memberSet(ctx, `SELECT member_id FROM events WHERE tenant_id = $1 AND type = $4
		AND at >= (SELECT created_at FROM lives WHERE tenant_id = $1 AND id = $5)
		AND source = $2 AND source_id LIKE $3 AND COALESCE(member_id, 0) <> 0`,
		tenantID, event.SourceTrack, fmt.Sprintf("enter:%d:%%", liveID), string(event.LiveEntered), liveID)
	if err != nil {
		return out, err
	}
	joined, err := s.eventMembers(ctx, tenantID, event.MemberJoined, start, end+int64(24*time.Hour/time.Millisecond), func(data []byte) bool {
		var j event.JoinData
		return (event.Event{Data: data}).Decode(&j) == nil && j.LiveID == liveID
	})
	if err != nil {
		return out, err
	}
	clicked, err := s.eventMembers(ctx, tenantID, event.LinkClicked, start-int64(24*time.Hour/time.Millisecond), end+int64(24*time.Hour/time.Millisecond), func(data []byte) bool {
		var t event.TrackData
		return (event.Event{Data: data}).Decode(&t) == nil && t.LiveID == liveID
	})
	if err != nil {
		return out, err
	}
	audience := map[int64]bool{}
	for _, set := range []map[int64]bool{entered, joined, clicked} {
		for m := range set {
			audience[m] = true
		}
	}
	bought, repeat, err := s.buyersOf(ctx, tenantID, audience, start, end+int64(24*time.Hour/time.Millisecond), start+int64(30*24*time.Hour/time.Millisecond))
	if err != nil {
		return out, err
	}
	out[0] = max(peak, int64(len(entered)))
	out[1], out[2], out[3], out[4] = int64(len(joined)), int64(len(clicked)), bought, repeat
	return out, nil
}

func (s *Service) memberSet(ctx context.Context, q string, args ...any) (map[int64]bool, error) {
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: members: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// eventMembers is the members of the events of a type in [from, to)
// whose data keep accepts (read through the (tenant, type, at) index).
func (s *Service) eventMembers(ctx context.Context, tenantID int64, t event.Type, from, to int64, keep func([]byte) bool) (map[int64]bool, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT member_id, data FROM events WHERE tenant_id = $1 AND type = $2 AND at >= $3 AND at < $4
		AND member_id IS NOT NULL`, tenantID, string(t), from, to)
	if err != nil {
		return nil, fmt.Errorf("analytics: %s members: %w", t, err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		var data string
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		if keep([]byte(data)) {
			out[id] = true
		}
	}
	return out, rows.Err()
}

// buyersOf counts the members of set who paid an order in [from, to), and
// of them those who paid at least two in [from, repeatTo).
func (s *Service) buyersOf(ctx context.Context, tenantID int64, set map[int64]bool, from, to, repeatTo int64) (bought, repeat int64, err error) {
	if len(set) == 0 {
		return 0, 0, nil
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT member_id, paid_at FROM orders WHERE tenant_id = $1 AND paid_at >= $2 AND paid_at < $3
		AND member_id IS NOT NULL`, tenantID, from, max(to, repeatTo))
	if err != nil {
		return 0, 0, fmt.Errorf("analytics: funnel orders: %w", err)
	}
	defer rows.Close()
	inWindow := map[int64]bool{}
	count := map[int64]int{}
	for rows.Next() {
		var m, at int64
		if err := rows.Scan(&m, &at); err != nil {
			return 0, 0, err
		}
		if !set[m] {
			continue
		}
		if at < to {
			inWindow[m] = true
		}
		if at < repeatTo {
			count[m]++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for m := range inWindow {
		bought++
		if count[m] >= 2 {
			repeat++
		}
	}
	return bought, repeat, nil
}

// byDay reads (day, count) rows into a map.
func byDay(rows *sql.Rows) (map[Day]int64, error) {
	m, err := store.CollectMap[int, int64](rows)
	if err != nil {
		return nil, err
	}
	out := make(map[Day]int64, len(m))
	for d, n := range m {
		out[Day(d)] = n
	}
	return out, nil
}
