package report

import (
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
)

// Kind is what period a report covers.
type Kind string

// The kinds.
const (
	Weekly  Kind = "weekly"  // Monday to Sunday
	Monthly Kind = "monthly" // a calendar month
	Custom  Kind = "custom"  // any days, on demand
)

// Kinds lists the kinds.
var Kinds = []Kind{Weekly, Monthly, Custom}

// ParseKind reads a kind ("" is weekly).
func ParseKind(s string) (Kind, bool) {
	if s == "" {
		return Weekly, true
	}
	for _, k := range Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// Version is the shape of Report; stored reports carry the version they
// were built with.
const Version = 1

// Report is everything a review shows, for Period beside Prev (the period
// of the same length just before).
type Report struct {
	Version     int              `json:"version"`
	TenantID    int64            `json:"tenant_id"`
	Brand       string           `json:"brand"`
	Kind        Kind             `json:"kind"`
	Period      analytics.Period `json:"period"`
	Prev        analytics.Period `json:"prev"`
	Timezone    string           `json:"timezone"`
	GeneratedAt time.Time        `json:"generated_at"`

	Metrics     []Metric                `json:"metrics"` // every analytics.Defs entry, in its order
	Series      []Series                `json:"series"`  // the key metrics day by day
	Sources     []analytics.SourceRow   `json:"sources"`
	Funnel      analytics.Funnel        `json:"funnel"` // every live of the period
	Lives       []LiveFunnel            `json:"lives"`  // the period's top lives
	Cohorts     []analytics.Cohort      `json:"cohorts"`
	Heatmap     analytics.Heatmap       `json:"heatmap"`
	Health      []analytics.GroupHealth `json:"health"`
	Content     []analytics.ContentRow  `json:"content"`
	Attribution Attribution             `json:"attribution"`
	Capacity    []analytics.Advice      `json:"capacity"`
	Teardown    Teardown                `json:"teardown"`
	Findings    []Finding               `json:"findings"`
}

// Metric is one metric's value in the period and in the period before.
type Metric struct {
	Key  string          `json:"key"`
	Kind analytics.Kind  `json:"kind"`
	Unit analytics.Unit  `json:"unit"`
	Cur  analytics.Value `json:"cur"`
	Prev analytics.Value `json:"prev"`
}

// Change is the relative change from Prev to Cur (0.23 for +23 %). It is
// known only when both are numbers and Prev is above zero: a change from
// nothing is not a percentage.
func (m Metric) Change() (float64, bool) {
	if !m.Cur.OK() || !m.Prev.OK() {
		return 0, false
	}
	prev := m.Prev.Float()
	if prev <= 0 {
		return 0, false
	}
	return (m.Cur.Float() - prev) / prev, true
}

// Delta is Cur − Prev when both are numbers (for a ratio, the change in
// points: 0.05 is five percentage points).
func (m Metric) Delta() (float64, bool) {
	if !m.Cur.OK() || !m.Prev.OK() {
		return 0, false
	}
	return m.Cur.Float() - m.Prev.Float(), true
}

// Metric returns the report's metric by key.
func (r Report) Metric(key string) (Metric, bool) {
	for _, m := range r.Metrics {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

// SeriesKeys are the metrics a report shows day by day.
var SeriesKeys = []string{"gmv", "orders", "joins", "dau", "member_messages"}

// Series is one metric day by day in the period (Cur) and in the period
// before (Prev, the same number of days).
type Series struct {
	Key  string            `json:"key"`
	Unit analytics.Unit    `json:"unit"`
	Cur  []analytics.Point `json:"cur"`
	Prev []analytics.Point `json:"prev"`
}

// LiveFunnel is the funnel of one live of the period.
type LiveFunnel struct {
	LiveID int64            `json:"live_id"`
	Title  string           `json:"title"`
	Funnel analytics.Funnel `json:"funnel"`
}

// Attribution is the period's orders attributed (last touch) to lives,
// pushes and groups, each largest GMV first.
type Attribution struct {
	Lives  []analytics.Attributed `json:"lives"`
	Pushes []analytics.Attributed `json:"pushes"`
	Groups []analytics.Attributed `json:"groups"`
}

// Empty reports whether nothing happened in the period: no member joined,
// left, wrote, clicked or bought, and no engagement was counted.
func (r Report) Empty() bool {
	for _, m := range r.Metrics {
		if m.Unit == analytics.Percent || m.Unit == analytics.Days {
			continue
		}
		if m.Cur.OK() && m.Cur.Float() != 0 {
			return false
		}
	}
	return r.Heatmap.Total == 0
}
