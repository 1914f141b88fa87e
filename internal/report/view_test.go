package report

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
)

// A report's view: values formatted by unit, "—" for what is not a
// number, charts only with data, money in major units and ratios in
// percent for the charts, the heatmap Monday first.
func TestView(t *testing.T) {
	cat := i18n.MustLoad()
	r := with(with(activity(quiet()), "gmv", n(12345), n(0)), "interaction_rate", rt(1, 8), rt(0, 0))
	r.Series = []Series{{Key: "gmv", Unit: analytics.Money, Cur: []analytics.Point{{Day: week.From, Value: n(12345)}},
		Prev: []analytics.Point{{Day: week.From - 7, Value: n(0)}}},
		{Key: "interaction_rate", Unit: analytics.Percent, Cur: []analytics.Point{{Day: week.From, Value: rt(1, 4)}, {Day: week.From + 1, Value: rt(0, 0)}}}}
	r.Funnel.Steps = []analytics.FunnelStep{{Key: "viewers", Members: 0}, {Key: "joined", Members: 0}}
	r.Content = []analytics.ContentRow{{Type: "knowledge", Format: "text", Reach: 8, Clicks: 1}, {Type: "promo", Format: "image", Reach: 0}}
	r.Heatmap.Cells[0][9], r.Heatmap.Cells[1][20] = 2, 5 // Sunday 09:00, Monday 20:00
	v := NewView(cat, "en", Stored{ID: 9, Kind: Weekly, Period: week, Report: r})

	row := func(key string) MetricRow {
		for _, g := range v.Metrics {
			for _, m := range g.Rows {
				if m.Key == key {
					return m
				}
			}
		}
		t.Fatalf("no row %s", key)
		return MetricRow{}
	}
	// GMV 123.45 after 0: no change to show; 1 of 8 = 12.5 % after nothing.
	if m := row("gmv"); m.Cur != "123.45" || m.Prev != "0.00" || m.Delta != "—" {
		t.Errorf("gmv row %+v", m)
	}
	if m := row("interaction_rate"); m.Cur != "12.5%" || m.Prev != "—" || m.Delta != "—" {
		t.Errorf("interaction rate row %+v", m)
	}
	c := v.Charts
	if c.Funnel.Values != nil {
		t.Errorf("a funnel without viewers is charted: %+v", c.Funnel)
	}
	if !slices.Equal(c.Content.Values, []int64{1}) {
		t.Errorf("content chart %+v: only what was clicked", c.Content)
	}
	if got := *c.Series[0].Cur[0]; got != 123.45 {
		t.Errorf("gmv charted as %v, want 123.45", got)
	}
	if got := c.Series[1].Cur; *got[0] != 25 || got[1] != nil {
		t.Errorf("ratio charted as %v, want 25 and a gap", got)
	}
	// Monday is row 0, Sunday row 6: [hour, row, value].
	if !slices.Equal(c.Heatmap.Cells, [][3]int64{{20, 0, 5}, {9, 6, 2}}) || c.Heatmap.Max != 5 || c.Heatmap.Days[0] != "Monday" {
		t.Errorf("heatmap %+v", c.Heatmap)
	}
	b, err := json.Marshal(v)
	if err != nil || strings.Contains(string(b), "NaN") || strings.Contains(string(b), "%!") {
		t.Errorf("view %s %v", b, err)
	}
}
