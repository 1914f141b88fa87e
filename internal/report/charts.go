package report

import (
	"fmt"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
)

// Charts is the data of a report's charts in display units (money in
// major units, ratios in percent), labels translated. A value that is not
// a number is null, which the charts show as a gap.
type Charts struct {
	Current  string        `json:"current"`
	Previous string        `json:"previous"`
	Series   []ChartSeries `json:"series"`
	Funnel   ChartBars     `json:"funnel"`
	Heatmap  ChartHeatmap  `json:"heatmap"`
	Sources  ChartBars     `json:"sources"`
	Content  ChartBars     `json:"content"` // clicks by content type × format
	Health   []ChartHealth `json:"health"`
}

// ChartSeries is one metric day by day, with the period before aligned by
// index (day 1 beside day 1).
type ChartSeries struct {
	Key   string     `json:"key"`
	Title string     `json:"title"`
	Unit  string     `json:"unit"`
	Days  []string   `json:"days"`
	Cur   []*float64 `json:"cur"`
	Prev  []*float64 `json:"prev"`
}

// ChartBars is a bar (or funnel) chart.
type ChartBars struct {
	Labels []string `json:"labels"`
	Values []int64  `json:"values"`
}

// ChartHeatmap is engagement by weekday (Monday first) and hour.
type ChartHeatmap struct {
	Days  []string   `json:"days"`
	Hours []string   `json:"hours"`
	Cells [][3]int64 `json:"cells"` // hour, day index, value (zero cells left out)
	Max   int64      `json:"max"`
}

// ChartHealth is one group's weekly health score.
type ChartHealth struct {
	Name   string     `json:"name"`
	Weeks  []string   `json:"weeks"`
	Scores []*float64 `json:"scores"`
}

// mondayFirst is the weekdays (0 Sunday) in the order the heatmap shows them.
var mondayFirst = []int{1, 2, 3, 4, 5, 6, 0}

func charts(cat *i18n.Catalog, lang string, r Report) Charts {
	c := Charts{Current: cat.T(lang, "report.current"), Previous: cat.T(lang, "report.previous"),
		Series: []ChartSeries{}, Health: []ChartHealth{}}
	for _, s := range r.Series {
		c.Series = append(c.Series, chartSeries(cat, lang, s))
	}
	if len(r.Funnel.Steps) > 0 && r.Funnel.Steps[0].Members > 0 {
		for _, st := range r.Funnel.Steps {
			c.Funnel.Labels = append(c.Funnel.Labels, named(cat, lang, "report.funnel."+st.Key, st.Key))
			c.Funnel.Values = append(c.Funnel.Values, st.Members)
		}
	}
	c.Heatmap = heatmapChart(cat, lang, r.Heatmap)
	for _, s := range r.Sources {
		c.Sources.Labels = append(c.Sources.Labels, SourceName(cat, lang, s.Source))
		c.Sources.Values = append(c.Sources.Values, s.Joins)
	}
	for _, row := range r.Content {
		if row.Clicks <= 0 {
			continue
		}
		c.Content.Labels = append(c.Content.Labels, named(cat, lang, "cp.type."+row.Type, row.Type)+" · "+
			named(cat, lang, "cp.format."+row.Format, row.Format))
		c.Content.Values = append(c.Content.Values, row.Clicks)
	}
	for _, h := range r.Health {
		ch := ChartHealth{Name: h.Name}
		for _, p := range h.WeeklyScore {
			ch.Weeks = append(ch.Weeks, p.Day.String())
			ch.Scores = append(ch.Scores, display(analytics.Count, p.Value))
		}
		c.Health = append(c.Health, ch)
	}
	return c
}

func chartSeries(cat *i18n.Catalog, lang string, s Series) ChartSeries {
	cs := ChartSeries{Key: s.Key, Title: MetricName(cat, lang, s.Key), Unit: string(s.Unit),
		Days: []string{}, Cur: []*float64{}, Prev: []*float64{}}
	for _, p := range s.Cur {
		cs.Days = append(cs.Days, p.Day.String())
		cs.Cur = append(cs.Cur, display(s.Unit, p.Value))
	}
	for _, p := range s.Prev {
		cs.Prev = append(cs.Prev, display(s.Unit, p.Value))
	}
	return cs
}

// display is a value in the unit a chart shows: nil when not a number.
func display(u analytics.Unit, v analytics.Value) *float64 {
	if !v.OK() {
		return nil
	}
	x := v.Float()
	switch u {
	case analytics.Money:
		x /= 100
	case analytics.Percent:
		x *= 100
	}
	return &x
}

func heatmapChart(cat *i18n.Catalog, lang string, h analytics.Heatmap) ChartHeatmap {
	c := ChartHeatmap{Cells: [][3]int64{}}
	for i, wd := range mondayFirst {
		c.Days = append(c.Days, cat.T(lang, fmt.Sprintf("report.weekday.%d", wd)))
		for hour := range 24 {
			if v := h.Cells[wd][hour]; v > 0 {
				c.Cells = append(c.Cells, [3]int64{int64(hour), int64(i), v})
				c.Max = max(c.Max, v)
			}
		}
	}
	for hour := range 24 {
		c.Hours = append(c.Hours, fmt.Sprintf("%02d", hour))
	}
	return c
}
