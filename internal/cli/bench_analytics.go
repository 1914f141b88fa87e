package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/analytics/synth"
	"github.com/liveloop/liveloop/internal/store"
)

const benchAnalyticsUsage = "bench analytics -db DSN|FILE [-events 10000000 -tenants 1 -members 50000 -groups 40 -days 180 -seed 1] [-skip-generate [-skip-rollup]] [-repeat 5]"

// benchAnalytics is `liveloop bench analytics`: it generates a brand's
// history (synth), rolls the log up from zero, measures the catch-up of a
// few new events, then the queries of one dashboard view over several
// periods. Run it on a scratch database: it adds brands bench1, bench2, ….
func benchAnalytics(e env, args []string) error {
	fs := flag.NewFlagSet("liveloop bench analytics", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dsn := fs.String("db", "", "a scratch database: a postgres:// URL or a SQLite file")
	var p synth.Plan
	fs.IntVar(&p.Events, "events", 10_000_000, "events to generate (in all brands)")
	fs.IntVar(&p.Tenants, "tenants", 1, "brands; the dashboard is measured on the first")
	fs.IntVar(&p.Members, "members", 50_000, "members of each brand")
	fs.IntVar(&p.Groups, "groups", 40, "groups of each brand")
	fs.IntVar(&p.Days, "days", 180, "days of history, ending today")
	fs.Uint64Var(&p.Seed, "seed", 1, "seed of the generated history")
	skipGen := fs.Bool("skip-generate", false, "reuse the history an earlier run generated in -db (the rollup is rebuilt from zero)")
	skipRollup := fs.Bool("skip-rollup", false, "with -skip-generate: keep the rollup as it is (only new events are rolled up)")
	more := fs.Int("incremental", 10_000, "new events appended after the full rollup, then caught up")
	repeat := fs.Int("repeat", 5, "measured views of each period (after one warm-up view)")
	periods := fs.String("periods", "7,30,90", "the dashboard's periods in days")
	top := fs.Int("top", 8, "slowest queries listed for each period")
	if err := fs.Parse(args); err != nil {
		return err
	}
	days, err := parsePeriods(*periods)
	switch {
	case err != nil:
		return err
	case *dsn == "":
		return errors.New("usage: liveloop " + benchAnalyticsUsage + " (-db is required: use a scratch database)")
	case *skipRollup && !*skipGen:
		return errors.New("-skip-rollup needs -skip-generate (a new history is always rolled up)")
	case *repeat < 1 || *more < 0:
		return errors.New("-repeat must be at least 1 and -incremental at least 0")
	}
	ctx := e.ctx
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "liveloop bench analytics — %s, %d CPUs, %s\n", db.Dialect, runtime.NumCPU(), runtime.Version())
	if !*skipGen {
		if err := benchGenerate(ctx, w, db, p); err != nil {
			return err
		}
	}
	rate, err := benchRollup(ctx, w, db, *skipGen, *skipRollup)
	if err != nil {
		return err
	}
	if *more > 0 {
		if err := benchIncremental(ctx, w, db, *more, p.Seed, rate); err != nil {
			return err
		}
	}
	if db.Dialect == store.Postgres {
		// A server's autovacuum vacuums and analyzes the tables that grew
		// by a fifth; a history written in minutes has not been yet.
		start := time.Now()
		if _, err := db.W.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			return err
		}
		fmt.Fprintf(w, "VACUUM ANALYZE (what autovacuum would have done): %s\n", time.Since(start).Round(time.Millisecond))
	}
	return benchDashboard(ctx, w, db, days, *repeat, *top)
}

func parsePeriods(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 731 {
			return nil, fmt.Errorf("-periods: %q is not a number of days (1–731)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchGenerate generates the history, printing its progress every ten
// seconds and its rate.
func benchGenerate(ctx context.Context, w io.Writer, db *store.DB, p synth.Plan) error {
	fmt.Fprintf(w, "generate: %s events, %d brand(s) × %s members in %d groups, %d days, seed %d\n",
		thousands(int64(p.Events)), max(p.Tenants, 1), thousands(int64(p.Members)), p.Groups, p.Days, p.Seed)
	var shown time.Duration
	res, err := synth.Generate(ctx, db, p, func(pr synth.Progress) {
		if pr.Elapsed-shown >= 10*time.Second {
			shown = pr.Elapsed
			fmt.Fprintf(w, "  … %s events in %s (%s/s)\n", thousands(int64(pr.Events)), pr.Elapsed.Round(time.Second), perSecond(pr.Events, pr.Elapsed))
		}
	})
	if errors.Is(err, synth.ErrExists) {
		return fmt.Errorf("%w: measure it again with -skip-generate, or use another database", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "generate: %s events and %s orders from %s to %s in %s: %s events/s (brands, members and groups first: %s)\n",
		thousands(int64(res.Events)), thousands(int64(res.Orders)), res.Start.Format(time.DateOnly), res.End.Add(-time.Millisecond).Format(time.DateOnly),
		res.Elapsed.Round(time.Millisecond), perSecond(res.Events, res.Elapsed), res.Setup.Round(time.Millisecond))
	return nil
}

// benchRollup rolls the log up from zero (after emptying the rollup of an
// earlier run), or only what is new with keep; it returns the rate.
func benchRollup(ctx context.Context, w io.Writer, db *store.DB, reused, keep bool) (float64, error) {
	r := analytics.NewRollup(db)
	what := "rollup from zero"
	switch {
	case keep:
		what = "rollup of what is new"
	case reused:
		if err := r.Rebuild(ctx); err != nil {
			return 0, err
		}
	}
	// Catchup's loop, with progress.
	start, shown, total := time.Now(), time.Duration(0), 0
	for {
		n, err := r.RunOnce(ctx)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			break
		}
		total += n
		if el := time.Since(start); el-shown >= 10*time.Second {
			shown = el
			fmt.Fprintf(w, "  … %s events in %s (%s/s)\n", thousands(int64(total)), el.Round(time.Second), perSecond(total, el))
		}
	}
	el := time.Since(start)
	fmt.Fprintf(w, "%s: %s events in %s: %s events/s\n", what, thousands(int64(total)), el.Round(time.Millisecond), perSecond(total, el))
	if total == 0 {
		return 0, nil
	}
	return float64(total) / el.Seconds(), nil
}

// benchIncremental appends n new events and times the catch-up, which
// reads only them.
func benchIncremental(ctx context.Context, w io.Writer, db *store.DB, n int, seed uint64, fullRate float64) error {
	stored, err := synth.Append(ctx, db, synth.Slug(0), n, 10*time.Minute, seed)
	if err != nil {
		return err
	}
	start := time.Now()
	read, err := analytics.NewRollup(db).Catchup(ctx)
	if err != nil {
		return err
	}
	el := time.Since(start)
	rate := float64(read) / max(el.Seconds(), 1e-9)
	fmt.Fprintf(w, "incremental: %s new events appended, caught up in %s (%s events read: %s events/s", thousands(int64(stored)),
		el.Round(100*time.Microsecond), thousands(int64(read)), thousands(int64(rate)))
	if fullRate > 0 {
		fmt.Fprintf(w, "; the full rollup ran at %s events/s", thousands(int64(fullRate)))
	}
	fmt.Fprintln(w, ")")
	return nil
}

// dashQuery is one query of a dashboard view.
type dashQuery struct {
	name string
	run  func(ctx context.Context) error
}

// dashboardQueries are the queries one view of the dashboard runs for f.
func dashboardQueries(svc *analytics.Service, f analytics.Filter) []dashQuery {
	qs := []dashQuery{{"Overview", func(ctx context.Context) error { _, err := svc.Overview(ctx, f); return err }}}
	for _, d := range analytics.Defs {
		if d.Daily {
			key := d.Key
			qs = append(qs, dashQuery{"Series " + key, func(ctx context.Context) error { _, err := svc.Series(ctx, f, key); return err }})
		}
	}
	return append(qs,
		dashQuery{"Sources", func(ctx context.Context) error { _, err := svc.Sources(ctx, f); return err }},
		dashQuery{"Funnel", func(ctx context.Context) error { _, err := svc.Funnel(ctx, f, 0); return err }},
		dashQuery{"Cohorts", func(ctx context.Context) error { _, err := svc.Cohorts(ctx, f); return err }},
		dashQuery{"Heatmap", func(ctx context.Context) error { _, err := svc.Heatmap(ctx, f); return err }},
		dashQuery{"Health", func(ctx context.Context) error { _, err := svc.Health(ctx, f); return err }},
		dashQuery{"Content", func(ctx context.Context) error { _, err := svc.Content(ctx, f); return err }},
		dashQuery{"Capacity", func(ctx context.Context) error { _, err := svc.Capacity(ctx, f.TenantID); return err }},
		dashQuery{"Attribution", func(ctx context.Context) error { _, _, _, err := svc.Attribution(ctx, f); return err }},
	)
}

// benchDashboard measures the views of the first brand's dashboard for
// each period ending on the day of its latest event.
func benchDashboard(ctx context.Context, w io.Writer, db *store.DB, periods []int, repeat, top int) error {
	tenantID, loc, err := synth.Brand(ctx, db, synth.Slug(0))
	if err != nil {
		return err
	}
	last, err := synth.Last(ctx, db, tenantID)
	if err != nil {
		return err
	}
	svc := analytics.New(db)
	svc.SetClock(func() time.Time { return last })
	today := svc.Today(loc)
	for _, n := range periods {
		f := analytics.Filter{TenantID: tenantID, Period: analytics.LastDays(today, n), Loc: loc}
		if err := benchPeriod(ctx, w, svc, f, repeat, top); err != nil {
			return err
		}
	}
	return nil
}

// benchPeriod runs one warm-up view and `repeat` measured views of f's
// dashboard, and prints the views' totals, the slowest queries and the
// queries that failed.
func benchPeriod(ctx context.Context, w io.Writer, svc *analytics.Service, f analytics.Filter, repeat, top int) error {
	qs := dashboardQueries(svc, f)
	times := make([][]time.Duration, len(qs))
	errs := make([]error, len(qs))
	var views []time.Duration
	var cold time.Duration
	fmt.Fprintf(w, "dashboard, %d days (%s … %s), %d queries a view; views:", f.Period.Days(), f.Period.From, f.Period.To-1, len(qs))
	for v := 0; v <= repeat; v++ {
		var total time.Duration
		for i, q := range qs {
			start := time.Now()
			err := q.run(ctx)
			d := time.Since(start)
			total += d
			if err != nil && errs[i] == nil {
				errs[i] = err
			}
			if v > 0 {
				times[i] = append(times[i], d)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(w, " %s", ms(total))
		if v == 0 {
			cold = total
		} else {
			views = append(views, total)
		}
	}
	fmt.Fprintln(w)
	lo, med, hi := spread(views)
	fmt.Fprintf(w, "  page view: min %s, median %s, max %s over %d views (the first, warm-up view: %s)\n", ms(lo), ms(med), ms(hi), len(views), ms(cold))
	order := make([]int, len(qs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { _, ma, _ := spread(times[a]); _, mb, _ := spread(times[b]); return int(mb - ma) })
	fmt.Fprintf(w, "  slowest queries (min / median / max):\n")
	for _, i := range order[:min(top, len(order))] {
		lo, med, hi := spread(times[i])
		fmt.Fprintf(w, "    %-26s %9s %9s %9s\n", qs[i].name, ms(lo), ms(med), ms(hi))
	}
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(w, "  error: %s: %v\n", qs[i].name, err)
		}
	}
	return nil
}

// spread is the minimum, median and maximum of ds.
func spread(ds []time.Duration) (lo, med, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[0], s[len(s)/2], s[len(s)-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func perSecond(n int, d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return thousands(int64(float64(n) / d.Seconds()))
}

// thousands writes n with thousands separators: 10,000,000.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
