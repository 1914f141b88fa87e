package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// Deps are the services a report reads (and, to send one, the outbox).
type Deps struct {
	DB        *store.DB
	Analytics *analytics.Service
	Tenants   *tenant.Service
	Community *community.Service
	Bot       *runner.Store
	Campaigns *campaign.Service
	Lives     *live.Service
	Outbox    *outbox.Outbox // sending only
	Catalog   *i18n.Catalog  // sending only
	PublicURL string         // scheme://host, for the console link of a sent report
	Now       func() time.Time
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// MaxDays bounds a report's period (a custom one): a little over a year.
const MaxDays = 400

// topLives is how many of the period's lives get a funnel of their own.
const topLives = 3

// Build gathers the report of one brand for period p: the metrics of p
// and of the period before, the key series, sources, funnels, cohorts,
// the send-time heatmap, community health, content effectiveness,
// attribution, capacity advice, the teardown and the findings. A query
// that fails fails the report (a report is kept as it was made, so it is
// made whole or not at all).
func Build(ctx context.Context, d Deps, tenantID int64, kind Kind, p analytics.Period) (Report, error) {
	if p.Days() <= 0 || p.Days() > MaxDays {
		return Report{}, fmt.Errorf("%w: report: a period of %d days (1 to %d)", store.ErrInvalid, p.Days(), MaxDays)
	}
	t, err := d.Tenants.Get(ctx, tenantID)
	if err != nil {
		return Report{}, fmt.Errorf("report: brand %d: %w", tenantID, err)
	}
	loc := t.Location()
	r := Report{Version: Version, TenantID: t.ID, Brand: t.Name, Kind: kind, Period: p, Prev: p.Previous(),
		Timezone: t.Timezone, GeneratedAt: d.now().UTC()}
	f := analytics.Filter{TenantID: t.ID, Period: p, Loc: loc}
	fp := f
	fp.Period = r.Prev
	steps := []struct {
		name string
		run  func() error
	}{
		{"metrics", func() (err error) { r.Metrics, err = metrics(ctx, d.Analytics, f, fp); return }},
		{"series", func() (err error) { r.Series, err = series(ctx, d.Analytics, f, fp); return }},
		{"sources", func() (err error) { r.Sources, err = d.Analytics.Sources(ctx, f); return }},
		{"attribution", func() (err error) {
			a := &r.Attribution
			a.Lives, a.Pushes, a.Groups, err = d.Analytics.Attribution(ctx, f)
			return
		}},
		{"funnel", func() (err error) { r.Funnel, err = d.Analytics.Funnel(ctx, f, 0); return }},
		{"lives", func() (err error) { r.Lives, err = liveFunnels(ctx, d, f, r.Attribution.Lives); return }},
		{"cohorts", func() (err error) { r.Cohorts, err = d.Analytics.Cohorts(ctx, f); return }},
		{"heatmap", func() (err error) { r.Heatmap, err = d.Analytics.Heatmap(ctx, f); return }},
		{"health", func() (err error) { r.Health, err = d.Analytics.Health(ctx, f); return }},
		{"content", func() (err error) { r.Content, err = d.Analytics.Content(ctx, f); return }},
		{"capacity", func() (err error) { r.Capacity, err = d.Analytics.Capacity(ctx, t.ID); return }},
		{"teardown", func() (err error) { r.Teardown, err = buildTeardown(ctx, d, t.ID, p, loc); return }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return Report{}, fmt.Errorf("report: %s of %s: %w", s.name, t.Slug, err)
		}
	}
	r.Findings = Findings(r)
	return r, nil
}

// metrics is every Def's value in f's period and in fp's.
func metrics(ctx context.Context, a *analytics.Service, f, fp analytics.Filter) ([]Metric, error) {
	cur, err := a.Overview(ctx, f)
	if err != nil {
		return nil, err
	}
	prev, err := a.Overview(ctx, fp)
	if err != nil {
		return nil, err
	}
	out := make([]Metric, 0, len(analytics.Defs))
	for _, def := range analytics.Defs {
		out = append(out, Metric{Key: def.Key, Kind: def.Kind, Unit: def.Unit, Cur: cur[def.Key], Prev: prev[def.Key]})
	}
	return out, nil
}

// series is SeriesKeys day by day, in f's period and in fp's.
func series(ctx context.Context, a *analytics.Service, f, fp analytics.Filter) ([]Series, error) {
	var out []Series
	for _, key := range SeriesKeys {
		def, ok := analytics.DefOf(key)
		if !ok || !def.Daily {
			continue
		}
		cur, err := a.Series(ctx, f, key)
		if err != nil {
			return nil, err
		}
		prev, err := a.Series(ctx, fp, key)
		if err != nil {
			return nil, err
		}
		out = append(out, Series{Key: key, Unit: def.Unit, Cur: cur, Prev: prev})
	}
	return out, nil
}

// liveFunnels is the funnel of each of the period's top lives: those that
// started (or were scheduled) in the period, most attributed GMV first,
// then the latest.
func liveFunnels(ctx context.Context, d Deps, f analytics.Filter, attributed []analytics.Attributed) ([]LiveFunnel, error) {
	lives, err := d.Lives.List(ctx, f.TenantID, 200)
	if err != nil {
		return nil, fmt.Errorf("report: lives: %w", err)
	}
	gmv := map[string]int64{}
	for _, a := range attributed {
		gmv[a.Key] = a.GMV
	}
	from, to := f.Period.From.Start(f.Loc), f.Period.To.Start(f.Loc)
	var in []live.Live
	for _, l := range lives {
		at := l.StartedAt
		if at.IsZero() {
			at = l.ScheduledAt
		}
		if !at.Before(from) && at.Before(to) {
			in = append(in, l)
		}
	}
	slices.SortStableFunc(in, func(a, b live.Live) int {
		return cmp.Compare(gmv[fmt.Sprintf("live:%d", b.ID)], gmv[fmt.Sprintf("live:%d", a.ID)])
	})
	out := []LiveFunnel{}
	for _, l := range in[:min(len(in), topLives)] {
		fn, err := d.Analytics.Funnel(ctx, f, l.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, LiveFunnel{LiveID: l.ID, Title: l.Title, Funnel: fn})
	}
	return out, nil
}

// PeriodOf is the period of a weekly or monthly report holding day d.
func PeriodOf(kind Kind, d analytics.Day) analytics.Period {
	if kind == Monthly {
		return analytics.Month(d)
	}
	return analytics.Week(d)
}
