package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/tenant"
)

// canAnalyse reports whether a staff role may see the numbers and export
// the data: owners, operators and analysts; hosts run lives, not reviews.
func canAnalyse(r tenant.Role) bool {
	return r == tenant.Owner || r == tenant.Operator || r == tenant.Analyst
}

// analystRoute is staffRoute for the dashboard and the exports: other
// roles get 403.
func (s *Server) analystRoute(p string, h staffHandler) Route {
	return s.staffRoute(p, func(w http.ResponseWriter, r *http.Request, c *staffCtx) {
		if !canAnalyse(c.Staff.Role) {
			s.deny(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		h(w, r, c)
	})
}

// The period presets of the dashboard's filter.
var periodPresets = []string{"7d", "30d", "90d", "this_week", "last_week", "this_month", "last_month", "custom"}

const (
	defaultPreset = "30d"
	maxPeriodDays = 731 // two years of daily points at most
)

// channelKinds are the channel filter's choices.
var channelKinds = []string{"web", "telegram", "line"}

// dashQuery is the dashboard's filters, as the GET form sends them and as
// every CSV link repeats them.
type dashQuery struct {
	Preset   string
	From, To string // the period's first and last day (To inclusive, as people say it)
	GroupID  int64
	Channel  string
	LiveID   int64  // the funnel's live (0: all lives of the period)
	Metric   string // the trend's metric
	Period   analytics.Period
	Problem  string // catalogue key of a refused filter, or ""
}

// presetPeriod is the period a preset names, today being today.
func presetPeriod(preset string, today analytics.Day) (analytics.Period, bool) {
	switch preset {
	case "7d":
		return analytics.LastDays(today, 7), true
	case "30d":
		return analytics.LastDays(today, 30), true
	case "90d":
		return analytics.LastDays(today, 90), true
	case "this_week":
		return analytics.Week(today), true
	case "last_week":
		return analytics.Week(analytics.Week(today).From - 1), true
	case "this_month":
		return analytics.Month(today), true
	case "last_month":
		return analytics.Month(analytics.Month(today).From - 1), true
	}
	return analytics.Period{}, false
}

// customPeriod reads a custom period: both days, from ≤ to, at most
// maxPeriodDays long.
func customPeriod(from, to string) (analytics.Period, bool) {
	f, err1 := analytics.ParseDay(from)
	t, err2 := analytics.ParseDay(to)
	if err1 != nil || err2 != nil || t < f || int(t-f) >= maxPeriodDays {
		return analytics.Period{}, false
	}
	return analytics.Period{From: f, To: t + 1}, true
}

// parseDashQuery reads the filters; a filter that cannot be used falls
// back to its default, with Problem saying so.
func parseDashQuery(q url.Values, today analytics.Day, groups []community.Group) dashQuery {
	d := dashQuery{Preset: q.Get("preset"), Channel: q.Get("channel"), Metric: q.Get("metric")}
	if d.Preset == "" {
		d.Preset = defaultPreset
		if q.Get("from") != "" || q.Get("to") != "" {
			d.Preset = "custom"
		}
	}
	var ok bool
	if d.Preset == "custom" {
		d.Period, ok = customPeriod(q.Get("from"), q.Get("to"))
	} else {
		d.Period, ok = presetPeriod(d.Preset, today)
	}
	if !ok {
		d.Preset, d.Problem = defaultPreset, "dash.bad_period"
		d.Period, _ = presetPeriod(defaultPreset, today)
	}
	d.From, d.To = d.Period.From.String(), (d.Period.To - 1).String()
	if gid, _ := strconv.ParseInt(q.Get("group"), 10, 64); gid > 0 && hasGroup(groups, gid) {
		d.GroupID = gid
	}
	if !oneOf(d.Channel, channelKinds) {
		d.Channel = ""
	}
	if def, ok := analytics.DefOf(d.Metric); !ok || !def.Daily {
		d.Metric = firstDaily()
	}
	d.LiveID, _ = strconv.ParseInt(q.Get("live"), 10, 64)
	return d
}

func hasGroup(groups []community.Group, id int64) bool {
	for _, g := range groups {
		if g.ID == id {
			return true
		}
	}
	return false
}

func oneOf(s string, list []string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func firstDaily() string {
	for _, d := range analytics.Defs {
		if d.Daily {
			return d.Key
		}
	}
	return ""
}

// values is the query for links: the same filters again.
func (d dashQuery) values() url.Values {
	v := url.Values{"preset": {d.Preset}, "from": {d.From}, "to": {d.To}, "metric": {d.Metric}}
	if d.GroupID != 0 {
		v.Set("group", strconv.FormatInt(d.GroupID, 10))
	}
	if d.Channel != "" {
		v.Set("channel", d.Channel)
	}
	if d.LiveID != 0 {
		v.Set("live", strconv.FormatInt(d.LiveID, 10))
	}
	return v
}

// filter is the analytics filter of the query for the tenant.
func (d dashQuery) filter(t tenant.Tenant) analytics.Filter {
	return analytics.Filter{TenantID: t.ID, Period: d.Period, GroupID: d.GroupID, Channel: d.Channel, Loc: t.Location()}
}

// analytics is the metric service (one on the database when the wiring
// gave none).
func (s *Server) analytics() *analytics.Service {
	if s.Analytics == nil {
		return analytics.New(s.DB)
	}
	return s.Analytics
}

// analyticsPage is the dashboard: metric cards by kind with their
// definitions and changes, and the charts, each with its CSV. A query
// that fails leaves its card "unavailable" (and is logged); the page
// still renders.
func (s *Server) analyticsPage(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	d, err := s.loadDashboard(r, c, allSections)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "analytics", s.staffPage(c, s.Catalog.T(c.Lang, "dash.title"), "analytics", d))
}
