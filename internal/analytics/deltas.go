package analytics

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// deltas is what one batch adds to the rollup tables, summed per key so
// each row is written once per batch.
type deltas struct {
	daily    map[dailyKey]int64
	hourly   map[hourKey]int64
	members  map[memberDayKey]*memberDay
	joins    map[[2]int64]firstJoin
	contents map[contentKey]int64
	tails    map[[2]int64]int64 // (tenant, group) → latest message folded (ms)
}

type dailyKey struct {
	tenant int64
	metric string
	day    Day
	group  int64
}

type hourKey struct {
	tenant, group int64
	metric        string
	day           Day
	hour          int
}

type memberDayKey struct {
	tenant int64
	day    Day
	group  int64
	member int64
}

type memberDay struct{ actions, messages, toMember, toBrand int64 }

type firstJoin struct {
	at     int64
	day    Day
	group  int64
	source string
}

type contentKey struct {
	tenant, content int64
	metric          string
	day             Day
}

func newDeltas() *deltas {
	return &deltas{daily: map[dailyKey]int64{}, hourly: map[hourKey]int64{}, members: map[memberDayKey]*memberDay{},
		joins: map[[2]int64]firstJoin{}, contents: map[contentKey]int64{}, tails: map[[2]int64]int64{}}
}

// tail records a group's latest message folded (see tailMetric).
func (d *deltas) tail(tenant, group, at int64) {
	k := [2]int64{tenant, group}
	d.tails[k] = max(d.tails[k], at)
}

func (d *deltas) add(tenant int64, metric string, day Day, group, n int64) {
	d.daily[dailyKey{tenant, metric, day, group}] += n
}

func (d *deltas) hour(tenant, group int64, metric string, day Day, hour int, n int64) {
	d.hourly[hourKey{tenant, group, metric, day, hour}] += n
}

func (d *deltas) member(tenant int64, day Day, group, member int64) *memberDay {
	k := memberDayKey{tenant, day, group, member}
	m := d.members[k]
	if m == nil {
		m = &memberDay{}
		d.members[k] = m
	}
	return m
}

// join keeps the member's earliest join of the batch.
func (d *deltas) join(tenant, member int64, at time.Time, day Day, group int64, source string) {
	k := [2]int64{tenant, member}
	ms := store.Millis(at)
	if j, ok := d.joins[k]; ok && j.at <= ms {
		return
	}
	d.joins[k] = firstJoin{at: ms, day: day, group: group, source: source}
}

func (d *deltas) content(tenant, content int64, metric string, day Day, n int64) {
	d.contents[contentKey{tenant, content, metric, day}] += n
}

// upsertRows is how many rows one multi-row upsert carries: few enough
// for SQLite's parameter search (see event.batchRows) and both engines'
// parameter limits.
func upsertRows(d store.Dialect) int {
	if d == store.SQLite {
		return 25
	}
	return 400
}

// apply adds the deltas to the tables. Rows go in key order, so two
// passes (which the cursor keeps from both committing) never deadlock.
func (d *deltas) apply(ctx context.Context, tx *store.Tx, dialect store.Dialect) error {
	dk := slices.SortedFunc(maps.Keys(d.daily), func(a, b dailyKey) int {
		return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.metric, b.metric), cmp.Compare(a.day, b.day), cmp.Compare(a.group, b.group))
	})
	err := upsert(ctx, tx, dialect, `an_daily (tenant_id, metric, day, group_id, value)`, 5, len(dk),
		`(tenant_id, metric, day, group_id) DO UPDATE SET value = an_daily.value + excluded.value`,
		func(i int) []any { k := dk[i]; return []any{k.tenant, k.metric, int(k.day), k.group, d.daily[k]} })
	if err != nil {
		return err
	}
	hk := slices.SortedFunc(maps.Keys(d.hourly), func(a, b hourKey) int {
		return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.group, b.group), cmp.Compare(a.metric, b.metric),
			cmp.Compare(a.day, b.day), cmp.Compare(a.hour, b.hour))
	})
	err = upsert(ctx, tx, dialect, `an_hourly (tenant_id, group_id, metric, day, hour, value)`, 6, len(hk),
		`(tenant_id, group_id, metric, day, hour) DO UPDATE SET value = an_hourly.value + excluded.value`,
		func(i int) []any {
			k := hk[i]
			return []any{k.tenant, k.group, k.metric, int(k.day), k.hour, d.hourly[k]}
		})
	if err != nil {
		return err
	}
	mk := slices.SortedFunc(maps.Keys(d.members), func(a, b memberDayKey) int {
		return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.day, b.day), cmp.Compare(a.group, b.group), cmp.Compare(a.member, b.member))
	})
	err = upsert(ctx, tx, dialect, `an_member_day (tenant_id, day, group_id, member_id, actions, messages, to_member, to_brand)`, 8, len(mk),
		`(tenant_id, day, group_id, member_id) DO UPDATE SET actions = an_member_day.actions + excluded.actions,
			messages = an_member_day.messages + excluded.messages, to_member = an_member_day.to_member + excluded.to_member,
			to_brand = an_member_day.to_brand + excluded.to_brand`,
		func(i int) []any {
			k := mk[i]
			m := d.members[k]
			return []any{k.tenant, int(k.day), k.group, k.member, m.actions, m.messages, m.toMember, m.toBrand}
		})
	if err != nil {
		return err
	}
	jk := slices.SortedFunc(maps.Keys(d.joins), func(a, b [2]int64) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	// The earliest join wins, whichever order the joins were read in.
	err = upsert(ctx, tx, dialect, `an_members (tenant_id, member_id, first_at, first_day, group_id, source)`, 6, len(jk),
		`(tenant_id, member_id) DO UPDATE SET first_at = excluded.first_at, first_day = excluded.first_day,
			group_id = excluded.group_id, source = excluded.source WHERE excluded.first_at < an_members.first_at`,
		func(i int) []any {
			k := jk[i]
			j := d.joins[k]
			return []any{k[0], k[1], j.at, int(j.day), j.group, j.source}
		})
	if err != nil {
		return err
	}
	tk := slices.SortedFunc(maps.Keys(d.tails), func(a, b [2]int64) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	// Not added: the later of the two times is kept.
	err = upsert(ctx, tx, dialect, `an_daily (tenant_id, metric, day, group_id, value)`, 5, len(tk),
		`(tenant_id, metric, day, group_id) DO UPDATE SET value = excluded.value WHERE excluded.value > an_daily.value`,
		func(i int) []any { k := tk[i]; return []any{k[0], tailMetric, 0, k[1], d.tails[k]} })
	if err != nil {
		return err
	}
	ck := slices.SortedFunc(maps.Keys(d.contents), func(a, b contentKey) int {
		return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.content, b.content), cmp.Compare(a.metric, b.metric), cmp.Compare(a.day, b.day))
	})
	return upsert(ctx, tx, dialect, `an_content (tenant_id, content_id, metric, day, value)`, 5, len(ck),
		`(tenant_id, content_id, metric, day) DO UPDATE SET value = an_content.value + excluded.value`,
		func(i int) []any { k := ck[i]; return []any{k.tenant, k.content, k.metric, int(k.day), d.contents[k]} })
}

// upsert inserts n rows of width columns into table in multi-row
// statements ending in ON CONFLICT conflict.
func upsert(ctx context.Context, tx *store.Tx, dialect store.Dialect, table string, width, n int,
	conflict string, row func(int) []any) error {
	per := upsertRows(dialect)
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " VALUES ")
		args := make([]any, 0, (end-start)*width)
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			sb.WriteByte('(')
			for c := 0; c < width; c++ {
				if c > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "$%d", len(args)+c+1)
			}
			sb.WriteByte(')')
			args = append(args, row(i)...)
		}
		sb.WriteString(" ON CONFLICT " + conflict)
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("analytics: upsert %s: %w", strings.Fields(table)[0], err)
		}
	}
	return nil
}
