package web

import (
	"context"
	"net/http"
	"runtime/debug"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/live"
)

// section names one part of the dashboard; each is also a CSV file
// (/console/analytics/export/<section>.csv).
type section string

// The dashboard's sections.
const (
	secOverview    section = "overview"
	secTrend       section = "trend"
	secFunnel      section = "funnel"
	secCohorts     section = "cohorts"
	secSendTime    section = "sendtime"
	secSources     section = "sources"
	secAttribution section = "attribution"
	secHealth      section = "health"
	secCapacity    section = "capacity"
	secContent     section = "content"
)

var allSections = []section{secOverview, secTrend, secFunnel, secCohorts, secSendTime, secSources, secAttribution,
	secHealth, secCapacity, secContent}

// dashLoadLimit is how many analytics queries one page runs at a time.
const dashLoadLimit = 4

// dashboard is everything the analytics page shows. A section whose
// query failed has its Err set and nothing else.
type dashboard struct {
	Query    dashQuery
	Presets  []string
	Channels []string
	Groups   []community.Group
	Lives    []live.Live // of the period, for the funnel's selector
	Metrics  []metricOption

	Cards     []cardGroup
	CardsErr  bool
	Trend     trendSection
	Funnel    funnelSection
	Cohorts   cohortSection
	SendTime  sendTimeSection
	Sources   sourcesSection
	Attrib    attribSection
	Health    healthSection
	Capacity  capacitySection
	Content   contentSection
	ChartJSON chartData

	raw  rawData
	num  numbers
	lang string
	t    func(key string, args ...any) string // the page's language
}

// rawData is what the queries answered, kept for the CSV files.
type rawData struct {
	overview, previous map[string]analytics.Value
	series             [][]analytics.Point // by index of analytics.Defs (daily ones)
	seriesOK           []bool
	funnel             analytics.Funnel
	cohorts            []analytics.Cohort
	heatmap            analytics.Heatmap
	sources            []analytics.SourceRow
	lives, pushes      []analytics.Attributed
	groups             []analytics.Attributed
	health             []analytics.GroupHealth
	capacity           []analytics.Advice
	content            []analytics.ContentRow
}

// metricOption is one choice of the trend's metric selector.
type metricOption struct {
	Key, Name string
	Selected  bool
}

// CSV is the link to a section's CSV file with the page's filters.
func (d *dashboard) CSV(sec string) string {
	return "/console/analytics/export/" + sec + ".csv?" + d.Query.values().Encode()
}

// Hidden lists the filters as hidden inputs, for the forms that change one
// of them (the funnel's live).
func (d *dashboard) Hidden(except string) [][2]string {
	var out [][2]string
	v := d.Query.values()
	for _, k := range []string{"preset", "from", "to", "group", "channel", "live", "metric"} {
		if k != except && v.Get(k) != "" {
			out = append(out, [2]string{k, v.Get(k)})
		}
	}
	return out
}

// loadDashboard reads the filters and runs the wanted sections' queries,
// a few at a time; a failing query is logged and marks its section.
func (s *Server) loadDashboard(r *http.Request, c *staffCtx, want []section) (*dashboard, error) {
	ctx := r.Context()
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		return nil, err
	}
	svc := s.analytics()
	loc := c.Tenant.Location()
	q := parseDashQuery(r.URL.Query(), svc.Today(loc), groups)
	d := &dashboard{Query: q, Presets: periodPresets, Channels: channelKinds, Groups: groups, lang: c.Lang,
		num: numbers{currency: s.brandCurrency(ctx, c.Tenant.ID)},
		t:   func(key string, args ...any) string { return s.Catalog.T(c.Lang, key, args...) }}
	if d.Lives, err = s.periodLives(ctx, c, q.Period); err != nil {
		return nil, err
	}
	if q.LiveID != 0 && !hasLive(d.Lives, q.LiveID) {
		d.Query.LiveID = 0
	}
	s.runLoaders(ctx, d, d.Query.filter(c.Tenant), want)
	s.buildDashboard(d, want)
	return d, nil
}

// runLoaders runs the sections' queries, dashLoadLimit at a time. A query
// that panics (a bug) marks its section unavailable instead of taking the
// process down: it runs outside the request's goroutine and its recovery.
func (s *Server) runLoaders(ctx context.Context, d *dashboard, f analytics.Filter, want []section) {
	var g errgroup.Group
	g.SetLimit(dashLoadLimit)
	var mu sync.Mutex
	broken := map[section]bool{}
	for _, sec := range want {
		for _, load := range s.loaders(d, f, sec) {
			g.Go(func() error {
				defer func() {
					if v := recover(); v != nil {
						s.Logger.Error("web: analytics section panicked", "section", string(sec), "panic", v, "stack", string(debug.Stack()))
						mu.Lock()
						broken[sec] = true
						mu.Unlock()
					}
				}()
				load(ctx)
				return nil
			})
		}
	}
	g.Wait()
	for sec := range broken {
		d.setFailed(sec)
	}
}

// loader runs one query into d.raw (or marks its section failed).
type loader func(ctx context.Context)

// loaders are the queries of one section. Each writes its own fields of
// d.raw, or sets its section's Err.
func (s *Server) loaders(d *dashboard, f analytics.Filter, sec section) []loader {
	svc := s.analytics()
	fail := func(flag *bool, err error) bool {
		if err == nil {
			return false
		}
		s.Logger.Warn("web: analytics section unavailable", "section", string(sec), "tenant", f.TenantID, "err", err)
		*flag = true
		return true
	}
	switch sec {
	case secOverview:
		prev := f
		prev.Period = f.Period.Previous()
		return []loader{
			func(ctx context.Context) {
				v, err := svc.Overview(ctx, f)
				if !fail(&d.CardsErr, err) {
					d.raw.overview = v
				}
			},
			func(ctx context.Context) {
				// Without the previous period the cards still show, with no change.
				var none bool
				if v, err := svc.Overview(ctx, prev); !fail(&none, err) {
					d.raw.previous = v
				}
			},
		}
	case secTrend:
		return s.trendLoaders(d, f, fail)
	case secFunnel:
		return []loader{func(ctx context.Context) {
			v, err := svc.Funnel(ctx, f, d.Query.LiveID)
			if !fail(&d.Funnel.Err, err) {
				d.raw.funnel = v
			}
		}}
	case secCohorts:
		return []loader{func(ctx context.Context) {
			v, err := svc.Cohorts(ctx, f)
			if !fail(&d.Cohorts.Err, err) {
				d.raw.cohorts = v
			}
		}}
	case secSendTime:
		return []loader{func(ctx context.Context) {
			v, err := svc.Heatmap(ctx, f)
			if !fail(&d.SendTime.Err, err) {
				d.raw.heatmap = v
			}
		}}
	case secSources:
		return []loader{func(ctx context.Context) {
			v, err := svc.Sources(ctx, f)
			if !fail(&d.Sources.Err, err) {
				d.raw.sources = v
			}
		}}
	case secAttribution:
		return []loader{func(ctx context.Context) {
			lv, pu, gr, err := svc.Attribution(ctx, f)
			if !fail(&d.Attrib.Err, err) {
				d.raw.lives, d.raw.pushes, d.raw.groups = lv, pu, gr
			}
		}}
	case secHealth:
		return []loader{func(ctx context.Context) {
			v, err := svc.Health(ctx, f)
			if !fail(&d.Health.Err, err) {
				d.raw.health = v
			}
		}}
	case secCapacity:
		return []loader{func(ctx context.Context) {
			v, err := svc.Capacity(ctx, f.TenantID)
			if !fail(&d.Capacity.Err, err) {
				d.raw.capacity = v
			}
		}}
	case secContent:
		return []loader{func(ctx context.Context) {
			v, err := svc.Content(ctx, f)
			if !fail(&d.Content.Err, err) {
				d.raw.content = v
			}
		}}
	}
	return nil
}

// trendLoaders read every daily metric's series (the selector switches
// between them in the page); one failing leaves that metric out.
func (s *Server) trendLoaders(d *dashboard, f analytics.Filter, fail func(*bool, error) bool) []loader {
	d.raw.series = make([][]analytics.Point, len(analytics.Defs))
	d.raw.seriesOK = make([]bool, len(analytics.Defs))
	var out []loader
	for i, def := range analytics.Defs {
		if !def.Daily {
			continue
		}
		out = append(out, func(ctx context.Context) {
			var failed bool
			if v, err := s.analytics().Series(ctx, f, def.Key); !fail(&failed, err) {
				d.raw.series[i], d.raw.seriesOK[i] = v, true
			}
		})
	}
	return out
}

// brandCurrency is the currency of the brand's latest order (CNY when it
// has none).
func (s *Server) brandCurrency(ctx context.Context, tenantID int64) string {
	if s.Commerce == nil {
		return "CNY"
	}
	orders, err := s.Commerce.Orders(ctx, tenantID, commerce.OrderFilter{Limit: 1})
	if err != nil || len(orders) == 0 || orders[0].Currency == "" {
		return "CNY"
	}
	return orders[0].Currency
}

// periodLives are the lives that started in the period (tenant days),
// latest first, for the funnel's selector (the funnel counts from a
// live's start).
func (s *Server) periodLives(ctx context.Context, c *staffCtx, p analytics.Period) ([]live.Live, error) {
	if s.Lives == nil {
		return nil, nil
	}
	all, err := s.Lives.List(ctx, c.Tenant.ID, 500)
	if err != nil {
		return nil, err
	}
	loc := c.Tenant.Location()
	var out []live.Live
	for _, l := range all {
		if !l.StartedAt.IsZero() && p.Contains(analytics.DayOf(l.StartedAt, loc)) {
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	return out, nil
}

func hasLive(lives []live.Live, id int64) bool {
	for _, l := range lives {
		if l.ID == id {
			return true
		}
	}
	return false
}
