package web

import (
	"fmt"
	"math"
	"strconv"

	"github.com/liveloop/liveloop/internal/analytics"
)

// cardGroup is the metric cards of one kind (source, process, result).
type cardGroup struct {
	Kind, Title string
	Cards       []metricCard
}

// metricCard is one metric: its value, the previous period's, the change
// and the definition shown beside it.
type metricCard struct {
	Key, Name, Def    string
	Value, Prev       string
	Change, Direction string
}

type trendSection struct{ Err, Empty bool }

type funnelSection struct {
	Err, Empty bool
	Steps      []funnelRow
}

type funnelRow struct{ Name, Members, Share string }

type cohortSection struct{ Err, Empty bool }

type sendTimeSection struct {
	Err, Empty bool
	Best       string
}

type sourcesSection struct {
	Err, Empty bool
	Rows       []analytics.SourceRow
	Labels     []string
}

type attribSection struct {
	Err                   bool
	Lives, Pushes, Groups []attribRow
}

// attribTable is one of the attribution tables (lives, pushes, groups).
type attribTable struct {
	Kind, Title, Column string // Title and Column are catalogue keys
	Rows                []attribRow
}

// Tables lists the three tables in order.
func (a attribSection) Tables() []attribTable {
	return []attribTable{
		{"live", "dash.attribution.lives", "dash.attribution.live", a.Lives},
		{"push", "dash.attribution.pushes", "dash.attribution.push", a.Pushes},
		{"group", "dash.attribution.groups", "dash.group", a.Groups},
	}
}

type attribRow struct {
	Label  string
	Orders int64
	GMV    string
}

type healthSection struct {
	Err, Empty bool
	Rows       []healthRow
}

type healthRow struct {
	Name, Class, ClassKey, ClassDef, Prev string
	Changed                               bool
	Score                                 int
	Reasons                               []string
	Spark                                 int // index in the charts' sparks; -1 without points
	BrandShare, M2M, Top3                 string
}

type capacitySection struct {
	Err, Empty bool
	Items      []capacityItem
}

type capacityItem struct{ Kind, Text string }

type contentSection struct {
	Err, Empty bool
	Rows       []dashContentRow
}

type dashContentRow struct {
	Type, Format                          string
	Sends, Reach, Clicks, Replies, Orders int64
	GMV                                   string
}

// chartData is what static/analytics.js draws, given to the page as JSON
// (html/template escapes it inside its script element). Numbers that are
// not numbers are null, never NaN.
type chartData struct {
	Trend    *trendChart  `json:"trend,omitempty"`
	Funnel   *funnelChart `json:"funnel,omitempty"`
	Cohorts  *heatChart   `json:"cohorts,omitempty"`
	SendTime *heatChart   `json:"sendtime,omitempty"`
	Sources  *barChart    `json:"sources,omitempty"`
	Sparks   []sparkLine  `json:"sparks,omitempty"`
}

type trendChart struct {
	Days     []string      `json:"days"`
	Series   []trendSeries `json:"series"`
	Selected string        `json:"selected"`
}

type trendSeries struct {
	Key    string     `json:"key"`
	Name   string     `json:"name"`
	Unit   string     `json:"unit"`
	Values []*float64 `json:"values"`
}

type funnelChart struct {
	Steps []namedValue `json:"steps"`
}

type namedValue struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

// heatChart is a grid of cells [x, y, value]; a cell that is not a number
// is left out.
type heatChart struct {
	X     []string     `json:"x"`
	Y     []string     `json:"y"`
	Cells [][3]float64 `json:"cells"`
	Max   float64      `json:"max"`
	Unit  string       `json:"unit"` // "%" or ""
}

type barChart struct {
	Categories []string    `json:"categories"`
	Series     []barSeries `json:"series"`
}

type barSeries struct {
	Name   string  `json:"name"`
	Stack  string  `json:"stack,omitempty"`
	Values []int64 `json:"values"`
}

type sparkLine struct {
	Days   []string   `json:"days"`
	Values []*float64 `json:"values"`
}

// buildDashboard turns the queries' answers into the page's sections.
func (s *Server) buildDashboard(d *dashboard, want []section) {
	d.Metrics = s.metricOptions(d)
	for _, sec := range want {
		switch sec {
		case secOverview:
			d.Cards = s.cards(d)
		case secTrend:
			d.ChartJSON.Trend = s.trend(d)
		case secFunnel:
			d.ChartJSON.Funnel = s.funnel(d)
		case secCohorts:
			d.ChartJSON.Cohorts = s.cohorts(d)
		case secSendTime:
			d.ChartJSON.SendTime = s.sendTime(d)
		case secSources:
			d.ChartJSON.Sources = s.sources(d)
		case secAttribution:
			s.attribution(d)
		case secHealth:
			s.health(d)
		case secCapacity:
			s.capacity(d)
		case secContent:
			s.content(d)
		}
	}
}

// metricName is a metric's name, or its key while the catalogue lacks it.
func (s *Server) metricName(lang, key string) string {
	if s.Catalog.Has("metric." + key) {
		return s.Catalog.T(lang, "metric."+key)
	}
	return key
}

// metricDef is a metric's definition, or "".
func (s *Server) metricDef(lang, key string) string {
	if s.Catalog.Has("metric." + key + ".def") {
		return s.Catalog.T(lang, "metric."+key+".def")
	}
	return ""
}

// label translates key, or returns fallback when no catalogue has it.
func (s *Server) label(lang, key, fallback string) string {
	if s.Catalog.Has(key) {
		return s.Catalog.T(lang, key)
	}
	return fallback
}

func (s *Server) metricOptions(d *dashboard) []metricOption {
	var out []metricOption
	for _, def := range analytics.Defs {
		if def.Daily {
			out = append(out, metricOption{Key: def.Key, Name: s.metricName(d.lang, def.Key), Selected: def.Key == d.Query.Metric})
		}
	}
	return out
}

func (s *Server) cards(d *dashboard) []cardGroup {
	var out []cardGroup
	for _, kind := range []analytics.Kind{analytics.Source, analytics.Process, analytics.Result} {
		g := cardGroup{Kind: string(kind), Title: d.t("dash.kind." + string(kind))}
		for _, def := range analytics.Defs {
			if def.Kind != kind {
				continue
			}
			c := metricCard{Key: def.Key, Name: s.metricName(d.lang, def.Key), Def: s.metricDef(d.lang, def.Key),
				Value: noValue, Prev: noValue, Change: noValue}
			cur, ok := d.raw.overview[def.Key]
			if ok {
				c.Value = d.num.value(cur, def.Unit)
			}
			if prev, okPrev := d.raw.previous[def.Key]; okPrev {
				c.Prev = d.num.value(prev, def.Unit)
				if ok {
					c.Change, c.Direction = change(cur, prev, def.Unit)
				}
			}
			g.Cards = append(g.Cards, c)
		}
		out = append(out, g)
	}
	return out
}

func (s *Server) trend(d *dashboard) *trendChart {
	ch := &trendChart{Selected: d.Query.Metric}
	d.Trend.Err = true
	d.Trend.Empty = true
	for i, def := range analytics.Defs {
		if !def.Daily || i >= len(d.raw.seriesOK) || !d.raw.seriesOK[i] {
			continue
		}
		d.Trend.Err = false
		points := d.raw.series[i]
		if ch.Days == nil {
			for _, p := range points {
				ch.Days = append(ch.Days, p.Day.String())
			}
		}
		ser := trendSeries{Key: def.Key, Name: s.metricName(d.lang, def.Key), Unit: string(def.Unit), Values: make([]*float64, len(ch.Days))}
		for j, p := range points {
			if j < len(ser.Values) {
				ser.Values[j] = plot(p.Value, def.Unit)
				if v := ser.Values[j]; v != nil && *v != 0 {
					d.Trend.Empty = false
				}
			}
		}
		ch.Series = append(ch.Series, ser)
	}
	if d.Trend.Err {
		return nil
	}
	return ch // also when Empty: the CSV still lists the days
}

func (s *Server) funnel(d *dashboard) *funnelChart {
	if d.Funnel.Err {
		return nil
	}
	ch := &funnelChart{}
	var first int64
	d.Funnel.Empty = true
	for i, st := range d.raw.funnel.Steps {
		if i == 0 {
			first = st.Members
		}
		if st.Members > 0 {
			d.Funnel.Empty = false
		}
		name := s.label(d.lang, "dash.funnel."+st.Key, st.Key)
		share := noValue
		if p := pct(st.Members, first); p != nil {
			share = strconv.FormatFloat(*p, 'f', 1, 64) + "%"
		}
		d.Funnel.Steps = append(d.Funnel.Steps, funnelRow{Name: name, Members: digits(st.Members), Share: share})
		ch.Steps = append(ch.Steps, namedValue{Name: name, Value: st.Members})
	}
	if d.Funnel.Empty {
		return nil
	}
	return ch
}

// cohortCell is one cohort's retention on day N, in percent, or nil when
// none of its members has reached day N yet.
func cohortCell(r analytics.Retained) *float64 { return pct(r.Active, r.Eligible) }

func (s *Server) cohorts(d *dashboard) *heatChart {
	if d.Cohorts.Err {
		return nil
	}
	ch := &heatChart{X: []string{"D1", "D7", "D30"}, Unit: "%", Max: 100}
	for y, c := range d.raw.cohorts {
		ch.Y = append(ch.Y, d.t("dash.cohorts.week", c.Week.String(), digits(c.Members)))
		for x, r := range []analytics.Retained{c.D1, c.D7, c.D30} {
			if v := cohortCell(r); v != nil {
				ch.Cells = append(ch.Cells, [3]float64{float64(x), float64(y), *v})
			}
		}
	}
	if len(ch.Cells) == 0 {
		d.Cohorts.Empty = true
		return nil
	}
	return ch
}

// weekdays are the heatmap's rows, Monday first (time.Weekday numbers).
var weekdays = []int{1, 2, 3, 4, 5, 6, 0}

func (s *Server) sendTime(d *dashboard) *heatChart {
	if d.SendTime.Err {
		return nil
	}
	h := d.raw.heatmap
	if h.Total == 0 {
		d.SendTime.Empty = true
		return nil
	}
	d.SendTime.Best = analytics.HeatmapBestText(s.Catalog, d.lang, h)
	ch := &heatChart{}
	for hr := 0; hr < 24; hr++ {
		ch.X = append(ch.X, fmt.Sprintf("%02d", hr))
	}
	for y, wd := range weekdays {
		ch.Y = append(ch.Y, d.t(fmt.Sprintf("dash.weekday.%d", wd)))
		for hr, n := range h.Cells[wd] {
			ch.Cells = append(ch.Cells, [3]float64{float64(hr), float64(y), float64(n)})
			ch.Max = math.Max(ch.Max, float64(n))
		}
	}
	return ch
}

// sourceLabel names a join source: a join code's label as the brand wrote
// it, or a known source translated.
func (s *Server) sourceLabel(lang, src string) string {
	if src == "" {
		return s.Catalog.T(lang, "dash.source.unknown")
	}
	return s.label(lang, "dash.source."+src, src)
}

func (s *Server) sources(d *dashboard) *barChart {
	if d.Sources.Err {
		return nil
	}
	d.Sources.Rows = d.raw.sources
	if len(d.raw.sources) == 0 {
		d.Sources.Empty = true
		return nil
	}
	ch := &barChart{Series: []barSeries{
		{Name: d.t("dash.sources.new"), Stack: "now"}, {Name: d.t("dash.sources.returning"), Stack: "now"},
		{Name: d.t("dash.sources.prev")},
	}}
	for _, r := range d.raw.sources {
		l := s.sourceLabel(d.lang, r.Source)
		d.Sources.Labels = append(d.Sources.Labels, l)
		ch.Categories = append(ch.Categories, l)
		ch.Series[0].Values = append(ch.Series[0].Values, r.New)
		ch.Series[1].Values = append(ch.Series[1].Values, r.Returning)
		ch.Series[2].Values = append(ch.Series[2].Values, r.Prev)
	}
	return ch
}

func (s *Server) attribution(d *dashboard) {
	rows := func(list []analytics.Attributed) []attribRow {
		var out []attribRow
		for _, a := range list {
			out = append(out, attribRow{Label: a.Label, Orders: a.Orders, GMV: d.num.minor(a.GMV)})
		}
		return out
	}
	d.Attrib.Lives, d.Attrib.Pushes, d.Attrib.Groups = rows(d.raw.lives), rows(d.raw.pushes), rows(d.raw.groups)
}

func (s *Server) health(d *dashboard) {
	if d.Health.Err {
		return
	}
	d.Health.Empty = len(d.raw.health) == 0
	for _, h := range d.raw.health {
		sh := sharesOf(h.Signals)
		row := healthRow{Name: h.Name, Class: s.className(d.lang, h.Class), ClassKey: h.Class,
			ClassDef: s.label(d.lang, analytics.HealthClassKey(h.Class)+".def", ""),
			Prev:     s.className(d.lang, h.PrevClass), Changed: h.PrevClass != "" && h.PrevClass != h.Class,
			Score: h.Score, Spark: -1, BrandShare: share(sh.brand), M2M: share(sh.m2m), Top3: share(sh.top3)}
		for _, r := range h.Why {
			row.Reasons = append(row.Reasons, analytics.HealthReasonText(s.Catalog, d.lang, r))
		}
		if sp, ok := spark(h.WeeklyScore); ok {
			row.Spark = len(d.ChartJSON.Sparks)
			d.ChartJSON.Sparks = append(d.ChartJSON.Sparks, sp)
		}
		d.Health.Rows = append(d.Health.Rows, row)
	}
}

// healthShares are a group's health ratios as the page shows them: NaN
// ("—", an empty CSV cell) for a ratio over nothing, as the metric cards
// show it, where the analytics signals hold 0.
type healthShares struct{ brand, persona, m2m, top3, answered float64 }

func sharesOf(g analytics.HealthSignals) healthShares {
	sh := healthShares{g.BrandShare, g.PersonaShare, g.MemberToMember, g.Top3Share, g.BrandAnswered}
	if g.Messages == 0 {
		sh.brand, sh.persona = math.NaN(), math.NaN()
	}
	if g.MemberToMember+g.MemberToBrand == 0 { // no member message answered anyone
		sh.m2m = math.NaN()
	}
	if g.MemberMessages == 0 {
		sh.top3, sh.answered = math.NaN(), math.NaN()
	}
	return sh
}

func (s *Server) className(lang, class string) string {
	if class == "" {
		return ""
	}
	return s.label(lang, analytics.HealthClassKey(class), class)
}

// spark is a health score's weekly points, if any week has one.
func spark(points []analytics.Point) (sparkLine, bool) {
	var sp sparkLine
	has := false
	for _, p := range points {
		v := plot(p.Value, analytics.Count)
		has = has || v != nil
		sp.Days = append(sp.Days, p.Day.String())
		sp.Values = append(sp.Values, v)
	}
	return sp, has
}

func (s *Server) capacity(d *dashboard) {
	if d.Capacity.Err {
		return
	}
	d.Capacity.Empty = len(d.raw.capacity) == 0
	for _, a := range d.raw.capacity {
		d.Capacity.Items = append(d.Capacity.Items, capacityItem{Kind: a.Kind, Text: analytics.AdviceText(s.Catalog, d.lang, a)})
	}
}

func (s *Server) content(d *dashboard) {
	if d.Content.Err {
		return
	}
	d.Content.Empty = len(d.raw.content) == 0
	for _, c := range d.raw.content {
		d.Content.Rows = append(d.Content.Rows, dashContentRow{
			Type: s.label(d.lang, "cp.type."+c.Type, c.Type), Format: s.label(d.lang, "cp.format."+c.Format, c.Format),
			Sends: c.Sends, Reach: c.Reach, Clicks: c.Clicks, Replies: c.Replies, Orders: c.Orders, GMV: d.num.minor(c.GMV)})
	}
}
