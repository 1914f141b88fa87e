package report

import (
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/tenant"
)

// View is a stored report ready for a page in one language: every number
// formatted, every name translated. Member and group text stays plain
// text, for the templates to escape.
type View struct {
	ID        int64
	Title     string
	Brand     string
	Kind      Kind
	Period    string
	Prev      string
	Generated string
	Sent      string // "" when not sent
	Empty     bool   // nothing happened in the period
	Findings  []FindingRow
	Metrics   []MetricGroup
	Sources   []SourceRow
	Funnels   []FunnelView
	Cohorts   []CohortRow
	Health    []HealthRow
	Content   []ContentRow
	Lives     []AttrRow
	Pushes    []AttrRow
	Groups    []AttrRow
	Capacity  []CapacityRow
	Teardown  TeardownView
	Charts    Charts // the charts' data, read by static/report.js
}

// FindingRow is a finding's sentence and tone.
type FindingRow struct {
	Text string
	Tone Tone
}

// MetricGroup is the metrics of one kind (source, process, result).
type MetricGroup struct {
	Kind string
	Rows []MetricRow
}

// MetricRow is one metric: its value, the period before's, the change,
// and its definition.
type MetricRow struct {
	Key, Name, Def   string
	Cur, Prev, Delta string
	Tone             Tone
}

// SourceRow is one join source.
type SourceRow struct {
	Name                        string
	Joins, New, Returning, Prev string
}

// FunnelView is a funnel as a table.
type FunnelView struct {
	Title string // "" for all lives
	Steps []FunnelStepRow
}

// FunnelStepRow is one funnel step with the share of the step before.
type FunnelStepRow struct {
	Name, Members, Rate string
}

// CohortRow is one join cohort's retention.
type CohortRow struct {
	Week, Members, D1, D7, D30 string
}

// HealthRow is one group's health.
type HealthRow struct {
	Name, Class, PrevClass, Score string
	ClassKey                      string // for styling
	Reasons                       []string
}

// ContentRow is one content type × format's effectiveness.
type ContentRow struct {
	Type, Format                                    string
	Sends, Reach, Clicks, CTR, Replies, Orders, GMV string
}

// AttrRow is one attributed live, push or group.
type AttrRow struct {
	Label, Orders, GMV string
}

// CapacityRow is one capacity advice.
type CapacityRow struct {
	Text string
	Kind string
}

// NewView renders a stored report in lang.
func NewView(cat *i18n.Catalog, lang string, st Stored) View {
	r := st.Report
	loc := tenant.Tenant{Timezone: r.Timezone}.Location()
	v := View{ID: st.ID, Title: Title(cat, lang, st.Kind, st.Period), Brand: r.Brand, Kind: st.Kind,
		Period: DayRange(st.Period), Prev: DayRange(st.Period.Previous()), Generated: localTime(st.CreatedAt, loc),
		Sent: localTime(st.SentAt, loc), Empty: r.Empty()}
	for _, f := range r.Findings {
		v.Findings = append(v.Findings, FindingRow{Text: f.Text(cat, lang), Tone: f.Tone})
	}
	v.Metrics = metricGroups(cat, lang, r.Metrics)
	for _, s := range r.Sources {
		v.Sources = append(v.Sources, SourceRow{Name: SourceName(cat, lang, s.Source), Joins: FormatCount(s.Joins),
			New: FormatCount(s.New), Returning: FormatCount(s.Returning), Prev: FormatCount(s.Prev)})
	}
	v.Funnels = append(v.Funnels, funnelView(cat, lang, "", r.Funnel))
	for _, l := range r.Lives {
		v.Funnels = append(v.Funnels, funnelView(cat, lang, l.Title, l.Funnel))
	}
	for _, c := range r.Cohorts {
		v.Cohorts = append(v.Cohorts, CohortRow{Week: c.Week.String(), Members: FormatCount(c.Members),
			D1: retained(c.D1), D7: retained(c.D7), D30: retained(c.D30)})
	}
	v.Health = healthRows(cat, lang, r.Health)
	for _, c := range r.Content {
		v.Content = append(v.Content, contentRow(cat, lang, c))
	}
	v.Lives, v.Pushes, v.Groups = attrRows(r.Attribution.Lives), attrRows(r.Attribution.Pushes), attrRows(r.Attribution.Groups)
	for _, f := range capacityFindings(r) {
		v.Capacity = append(v.Capacity, CapacityRow{Text: f.Text(cat, lang), Kind: f.Key})
	}
	v.Teardown = teardownView(cat, lang, r.Teardown, loc)
	v.Charts = charts(cat, lang, r)
	return v
}

func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func metricGroups(cat *i18n.Catalog, lang string, ms []Metric) []MetricGroup {
	var out []MetricGroup
	for _, kind := range []analytics.Kind{analytics.Source, analytics.Process, analytics.Result} {
		g := MetricGroup{Kind: cat.T(lang, "report.kind."+string(kind))}
		for _, m := range ms {
			if m.Kind == kind {
				g.Rows = append(g.Rows, metricRow(cat, lang, m))
			}
		}
		if len(g.Rows) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// metricRow shows a metric; its change is relative for amounts and in
// points for ratios, "—" when there is nothing to compare with.
func metricRow(cat *i18n.Catalog, lang string, m Metric) MetricRow {
	row := MetricRow{Key: m.Key, Name: MetricName(cat, lang, m.Key), Def: named(cat, lang, "metric."+m.Key+".def", ""),
		Cur: FormatValue(m.Unit, m.Cur), Prev: FormatValue(m.Unit, m.Prev), Delta: NotANumber, Tone: Info}
	var d float64
	var ok bool
	if m.Unit == analytics.Percent {
		if d, ok = m.Delta(); ok {
			row.Delta = cat.T(lang, "report.points", fmt.Sprintf("%+.1f", d*100))
		}
	} else if d, ok = m.Change(); ok {
		row.Delta = fmt.Sprintf("%+.1f%%", d*100)
	}
	switch {
	case !ok || d == 0:
	case (d > 0) != lowerIsBetter[m.Key]:
		row.Tone = Good
	default:
		row.Tone = Bad
	}
	return row
}

func retained(r analytics.Retained) string {
	if r.Eligible <= 0 {
		return NotANumber
	}
	return FormatPercent(float64(r.Active) / float64(r.Eligible))
}

func funnelView(cat *i18n.Catalog, lang, title string, f analytics.Funnel) FunnelView {
	v := FunnelView{Title: title}
	for i, s := range f.Steps {
		row := FunnelStepRow{Name: named(cat, lang, "report.funnel."+s.Key, s.Key), Members: FormatCount(s.Members), Rate: NotANumber}
		if i > 0 && f.Steps[i-1].Members > 0 {
			row.Rate = FormatPercent(float64(s.Members) / float64(f.Steps[i-1].Members))
		}
		v.Steps = append(v.Steps, row)
	}
	return v
}

func className(cat *i18n.Catalog, lang, class string) string {
	if class == "" {
		return NotANumber
	}
	return named(cat, lang, analytics.HealthClassKey(class), class)
}

func healthRows(cat *i18n.Catalog, lang string, hs []analytics.GroupHealth) []HealthRow {
	var out []HealthRow
	for _, h := range hs {
		row := HealthRow{Name: h.Name, Class: className(cat, lang, h.Class), PrevClass: className(cat, lang, h.PrevClass),
			Score: fmt.Sprint(h.Score), ClassKey: h.Class}
		for _, why := range h.Why {
			row.Reasons = append(row.Reasons, analytics.HealthReasonText(cat, lang, why))
		}
		out = append(out, row)
	}
	return out
}

func contentRow(cat *i18n.Catalog, lang string, c analytics.ContentRow) ContentRow {
	ctr := NotANumber
	if c.Reach > 0 {
		ctr = FormatPercent(float64(c.Clicks) / float64(c.Reach))
	}
	return ContentRow{Type: named(cat, lang, "cp.type."+c.Type, c.Type), Format: named(cat, lang, "cp.format."+c.Format, c.Format),
		Sends: FormatCount(c.Sends), Reach: FormatCount(c.Reach), Clicks: FormatCount(c.Clicks), CTR: ctr,
		Replies: FormatCount(c.Replies), Orders: FormatCount(c.Orders), GMV: FormatMoney(c.GMV)}
}

func attrRows(as []analytics.Attributed) []AttrRow {
	var out []AttrRow
	for _, a := range as {
		out = append(out, AttrRow{Label: a.Label, Orders: FormatCount(a.Orders), GMV: FormatMoney(a.GMV)})
	}
	return out
}
