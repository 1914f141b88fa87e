// Package synth generates a brand's history — members, groups, lives,
// orders and the event log — deterministically from a seed, for the
// benchmarks of the analytics rollup and dashboard (`liveloop bench
// analytics`, internal/analytics/bench_test.go).
//
// The history is a realistic mix, not uniform noise: members join over the
// period (a launch week, then steadily), some leave and come back; group
// messages come mostly from a core of regulars, some reply to earlier
// messages, and the brand's staff and personas post between them; members
// check in once a day, click tracked links, comment in the lives held
// every third evening, and buy. Activity follows the hours of a Chinese
// community's day (peaks at noon and 20:00–22:00) and grows over the
// period. Events arrive in time order, except a few late ones.
//
// It writes what the analytics read — events through event.Log.AppendBatch,
// and the rows of tenants, staff, members, member tags, groups, group
// memberships, lives, campaign content, jobs and sends, orders and refunds
// by direct multi-row INSERTs matching their schemas — and nothing else
// (no points, no check-in rows, no outbox). It never runs against a brand
// that exists: its brands are new (slugs bench1, bench2, …).
package synth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// Plan is the history to generate.
type Plan struct {
	Events  int       // events in all brands (about: a day's first joins are never cut)
	Tenants int       // brands (default 1); the events are shared equally
	Members int       // members of each brand
	Groups  int       // groups of each brand (built-in web channel)
	Days    int       // days of history
	Seed    uint64    // the same seed and plan give the same history
	End     time.Time // the history ends at the start of this day (Asia/Shanghai); zero: today
	Batch   int       // events per transaction (default 5000)
}

// Progress is reported after each transaction.
type Progress struct {
	Events  int           // events stored so far
	Elapsed time.Duration // since the events began (the brands' setup excluded)
}

// Result is what Generate wrote.
type Result struct {
	Tenants    []int64 // the brands' ids, bench1 first
	Events     int     // events stored
	Orders     int
	Start, End time.Time
	Setup      time.Duration // creating brands, members and groups
	Elapsed    time.Duration // appending the events (and their orders)
}

// Zone is the brands' time zone.
const Zone = "Asia/Shanghai"

// Slug is the slug of the i-th brand (0-based).
func Slug(i int) string { return fmt.Sprintf("bench%d", i+1) }

// ErrExists is returned when the database already holds a generated brand.
var ErrExists = errors.New("synth: the database already holds a generated brand (bench1)")

func (p *Plan) defaults() error {
	if p.Tenants <= 0 {
		p.Tenants = 1
	}
	if p.Batch <= 0 {
		p.Batch = 5000
	}
	switch {
	case p.Events < 0 || p.Members <= 0 || p.Groups <= 0 || p.Days <= 0:
		return fmt.Errorf("synth: %w: events ≥ 0, members, groups and days > 0", store.ErrInvalid)
	case p.Groups > 1000 || p.Days > 3660:
		return fmt.Errorf("synth: %w: at most 1000 groups and 3660 days", store.ErrInvalid)
	}
	return nil
}

// Generate creates the plan's brands and appends their history; progress
// (optional) is called after every transaction.
func Generate(ctx context.Context, db *store.DB, p Plan, progress func(Progress)) (Result, error) {
	if err := p.defaults(); err != nil {
		return Result{}, err
	}
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		return Result{}, fmt.Errorf("synth: %w", err)
	}
	end := p.End
	if end.IsZero() {
		end = time.Now()
	}
	y, m, d := end.In(loc).Date()
	end = time.Date(y, m, d, 0, 0, 0, 0, loc)
	start := end.AddDate(0, 0, -p.Days)
	var exists int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants WHERE slug = $1`, Slug(0)).Scan(&exists); err != nil {
		return Result{}, fmt.Errorf("synth: %w", err)
	}
	if exists > 0 {
		return Result{}, ErrExists
	}
	g := newGen(db, p.Seed, p.Batch, "")
	res := Result{Start: start, End: end}
	began := time.Now()
	for i := 0; i < p.Tenants; i++ {
		b, err := g.setup(ctx, i, p, start, end, loc)
		if err != nil {
			return res, err
		}
		g.addBrand(b)
		res.Tenants = append(res.Tenants, b.tenantID)
	}
	res.Setup = time.Since(began)
	g.progress, g.began = progress, time.Now()
	if err := g.history(ctx, p, start, end, loc); err != nil {
		return res, err
	}
	for _, b := range g.brands {
		if err := g.writeMemberships(ctx, b); err != nil {
			return res, err
		}
	}
	res.Events, res.Orders, res.Elapsed = g.stored, g.orders, time.Since(g.began)
	return res, nil
}

// history appends the days' events, all brands' merged in time order.
func (g *gen) history(ctx context.Context, p Plan, start, end time.Time, loc *time.Location) error {
	quotas := dayQuotas(p.Events, p.Days, start, loc)
	for day := 0; day < p.Days; day++ {
		ds := start.AddDate(0, 0, day)
		de := ds.AddDate(0, 0, 1)
		if de.After(end) {
			de = end
		}
		var slots []slot
		for i, b := range g.brands {
			q := quotas[day] / len(g.brands)
			if i < quotas[day]%len(g.brands) {
				q++
			}
			slots = append(slots, g.daySlots(b, store.Millis(ds), store.Millis(de), q)...)
		}
		if err := g.emit(ctx, sortSlots(slots)); err != nil {
			return err
		}
	}
	return g.flush(ctx)
}

// dayQuotas shares n events among the days: activity grows over the
// period (from half the mean to one and a half) and is a quarter higher
// at weekends.
func dayQuotas(n, days int, start time.Time, loc *time.Location) []int {
	w := make([]float64, days)
	var total float64
	for d := range w {
		w[d] = 0.5 + float64(d)/float64(days)
		if wd := start.AddDate(0, 0, d).In(loc).Weekday(); wd == time.Saturday || wd == time.Sunday {
			w[d] *= 1.25
		}
		total += w[d]
	}
	out := make([]int, days)
	var cum float64
	prev := 0
	for d := range w {
		cum += w[d]
		upto := int(float64(n)*cum/total + 0.5)
		out[d] = upto - prev
		prev = upto
	}
	return out
}

// gen is one generation run: the random source, the brands, the batch
// being filled and what has been stored.
type gen struct {
	db       *store.DB
	r        *rand.Rand
	batch    int
	prefix   string // before every generated source id ("" for a history)
	seq      int64
	brands   []*brand
	byTenant map[int64]*brand
	pending  pending
	stored   int
	orders   int
	progress func(Progress)
	began    time.Time
}

func newGen(db *store.DB, seed uint64, batch int, prefix string) *gen {
	return &gen{db: db, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), batch: batch, prefix: prefix,
		byTenant: map[int64]*brand{}}
}

func (g *gen) addBrand(b *brand) {
	g.brands = append(g.brands, b)
	g.byTenant[b.tenantID] = b
}

// next is a new sequence number for source ids.
func (g *gen) next() int64 { g.seq++; return g.seq }

// Append appends n more events of the same mix to brand slug's history,
// starting just after its latest event and spread over the following
// span (the incremental step of the benchmark: new events arriving). It
// returns how many were stored.
func Append(ctx context.Context, db *store.DB, slug string, n int, span time.Duration, seed uint64) (int, error) {
	var maxID int64
	if err := db.R.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&maxID); err != nil {
		return 0, fmt.Errorf("synth: %w", err)
	}
	g := newGen(db, seed^uint64(maxID), 5000, fmt.Sprintf("x%d.", maxID))
	b, last, err := g.load(ctx, slug)
	if err != nil {
		return 0, err
	}
	g.addBrand(b)
	from := last + 1
	slots := g.daySlots(b, from, from+max(span.Milliseconds(), 1), n)
	if err := g.emit(ctx, sortSlots(slots)); err != nil {
		return g.stored, err
	}
	if err := g.flush(ctx); err != nil {
		return g.stored, err
	}
	return g.stored, g.writeMemberships(ctx, b)
}

// Brand is a generated brand's id and the time zone of its days.
func Brand(ctx context.Context, db *store.DB, slug string) (id int64, loc *time.Location, err error) {
	var tz string
	err = db.R.QueryRowContext(ctx, `SELECT id, timezone FROM tenants WHERE slug = $1`, slug).Scan(&id, &tz)
	if err != nil {
		return 0, nil, fmt.Errorf("synth: brand %s: %w", slug, err)
	}
	if loc, err = time.LoadLocation(tz); err != nil {
		return 0, nil, fmt.Errorf("synth: %w", err)
	}
	return id, loc, nil
}

// Last is the time of brand tenantID's latest event.
func Last(ctx context.Context, db *store.DB, tenantID int64) (time.Time, error) {
	var at int64
	// Among its latest rows by id: the log is in time order but for the
	// few late events (no full scan of a large log).
	err := db.R.QueryRowContext(ctx, `SELECT COALESCE(MAX(at), 0) FROM (SELECT at FROM events WHERE tenant_id = $1
		ORDER BY id DESC LIMIT 10000) t`, tenantID).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("synth: last event: %w", err)
	}
	return store.Time(at), nil
}
