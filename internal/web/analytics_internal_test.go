package web

import (
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/export"
	"github.com/liveloop/liveloop/internal/i18n"
)

func day(t *testing.T, s string) analytics.Day {
	t.Helper()
	d, err := analytics.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The presets, for "today" Wednesday 2026-11-25 (hand-checked on a
// calendar: that week runs Mon 23 – Sun 29; the previous one 16 – 22).
func TestDashPeriods(t *testing.T) {
	today := day(t, "2026-11-25")
	groups := []community.Group{{ID: 7}}
	joins := firstDaily() // the trend's default metric
	cases := []struct {
		query                    string
		preset, from, to         string
		problem, channel, metric string
		group, live              int64
	}{
		{"", "30d", "2026-10-27", "2026-11-25", "", "", joins, 0, 0},
		{"preset=7d", "7d", "2026-11-19", "2026-11-25", "", "", joins, 0, 0},
		{"preset=90d", "90d", "2026-08-28", "2026-11-25", "", "", joins, 0, 0},
		{"preset=this_week", "this_week", "2026-11-23", "2026-11-29", "", "", joins, 0, 0},
		{"preset=last_week", "last_week", "2026-11-16", "2026-11-22", "", "", joins, 0, 0},
		{"preset=this_month", "this_month", "2026-11-01", "2026-11-30", "", "", joins, 0, 0},
		{"preset=last_month", "last_month", "2026-10-01", "2026-10-31", "", "", joins, 0, 0},
		// A custom period without a preset; the last day is included.
		{"from=2026-02-01&to=2026-02-28&group=7&channel=line&metric=gmv&live=3", "custom", "2026-02-01", "2026-02-28", "", "line", "gmv", 7, 3},
		{"preset=custom&from=2026-02-28&to=2026-02-01", "30d", "2026-10-27", "2026-11-25", "dash.bad_period", "", joins, 0, 0},
		{"preset=custom&from=2020-01-01&to=2026-01-01", "30d", "2026-10-27", "2026-11-25", "dash.bad_period", "", joins, 0, 0},
		{"preset=bogus", "30d", "2026-10-27", "2026-11-25", "dash.bad_period", "", joins, 0, 0},
		// Another tenant's group, an unknown channel, a scalar metric: dropped.
		{"group=8&channel=fax&metric=aov", "30d", "2026-10-27", "2026-11-25", "", "", joins, 0, 0},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.query)
		q := parseDashQuery(v, today, groups)
		if q.Preset != c.preset || q.From != c.from || q.To != c.to || q.Problem != c.problem || q.Channel != c.channel ||
			q.Metric != c.metric || q.GroupID != c.group || q.LiveID != c.live {
			t.Errorf("%q: got %s %s..%s %q ch=%q m=%q g=%d l=%d", c.query, q.Preset, q.From, q.To, q.Problem, q.Channel, q.Metric, q.GroupID, q.LiveID)
		}
		if q.Period.Days() != int(day(t, q.To)-day(t, q.From))+1 {
			t.Errorf("%q: period %+v does not end the day after %s", c.query, q.Period, q.To)
		}
		// The CSV links repeat the same filters.
		again := parseDashQuery(q.values(), today, groups)
		again.Problem = q.Problem
		if again != q {
			t.Errorf("%q: the link's query reads back as %+v, not %+v", c.query, again, q)
		}
	}
}

func TestDashNumbers(t *testing.T) {
	n := numbers{currency: "CNY"}
	ratio := func(num, den float64) analytics.Value { return analytics.Value{Num: num, Den: den, Ratio: true} }
	count := func(v float64) analytics.Value { return analytics.Value{Num: v} }
	values := []struct {
		v    analytics.Value
		unit analytics.Unit
		want string
	}{
		{count(12345), analytics.Count, "12,345"},
		{count(0), analytics.Count, "0"},
		{ratio(1, 3), analytics.Percent, "33.3%"}, // 1/3 = 0.3333 → 33.3%
		{ratio(0, 0), analytics.Percent, "—"},     // a ratio over nothing is not a number
		{ratio(2, 0), analytics.Money, "—"},
		{ratio(123456, 10), analytics.Money, "¥123.46"}, // AOV 12,345.6 minor units → ¥123.46
		{count(1234567_89), analytics.Money, "¥1,234,567.89"},
		{ratio(7, 2), analytics.PerDay, "3.5"},
		{count(math.NaN()), analytics.Count, "—"},
	}
	for _, c := range values {
		if got := n.value(c.v, c.unit); got != c.want {
			t.Errorf("value(%+v, %s) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
	if got := (numbers{currency: "TWD"}).minor(5000); got != "NT$50.00" {
		t.Errorf("TWD: %q", got)
	}
	if got := (numbers{currency: "XYZ"}).minor(5000); got != "XYZ 50.00" {
		t.Errorf("an unknown currency: %q", got)
	}

	changes := []struct {
		cur, prev analytics.Value
		unit      analytics.Unit
		text, dir string
	}{
		{count(120), count(100), analytics.Count, "+20.0%", "up"},  // (120-100)/100
		{count(75), count(100), analytics.Money, "-25.0%", "down"}, // (75-100)/100
		{count(5), count(0), analytics.Count, "—", ""},             // from zero: no relative change
		{count(0), count(0), analytics.Count, "—", ""},
		{count(100), count(100), analytics.Count, "0.0%", "flat"},
		{ratio(1, 4), ratio(1, 5), analytics.Percent, "+5.0 pp", "up"}, // 25% vs 20%
		{ratio(1, 4), ratio(0, 0), analytics.Percent, "—", ""},
		{count(-50), count(-100), analytics.Count, "+50.0%", "up"}, // a negative base: the change against its size
	}
	for _, c := range changes {
		if text, dir := change(c.cur, c.prev, c.unit); text != c.text || dir != c.dir {
			t.Errorf("change(%+v, %+v, %s) = %q %q, want %q %q", c.cur, c.prev, c.unit, text, dir, c.text, c.dir)
		}
	}

	if p := plot(ratio(1, 8), analytics.Percent); p == nil || *p != 12.5 {
		t.Errorf("plot 1/8 as percent: %v", p)
	}
	if p := plot(count(12345), analytics.Money); p == nil || *p != 123.45 {
		t.Errorf("plot money: %v", p)
	}
	if p := plot(ratio(1, 0), analytics.Percent); p != nil {
		t.Errorf("plot of a ratio over nothing: %v", *p)
	}
	b, err := json.Marshal(trendSeries{Values: []*float64{plot(ratio(0, 0), analytics.Percent), plot(count(1), analytics.Count)}})
	if err != nil || !strings.Contains(string(b), `"values":[null,1]`) {
		t.Errorf("series JSON %s %v", b, err)
	}
}

// Every catalogue key the dashboard builds at run time exists in every
// language (the catalogue test finds only the literal ones).
func TestDashKeys(t *testing.T) {
	cat := i18n.MustLoad()
	var keys []string
	for _, p := range periodPresets {
		keys = append(keys, "dash.preset."+p)
	}
	for _, c := range channelKinds {
		keys = append(keys, "dash.channel."+c)
	}
	for _, k := range []analytics.Kind{analytics.Source, analytics.Process, analytics.Result} {
		keys = append(keys, "dash.kind."+string(k))
	}
	for _, wd := range weekdays {
		keys = append(keys, "dash.weekday."+string(rune('0'+wd)))
	}
	for _, step := range []string{"viewers", "joined", "clicked", "bought", "repeat"} {
		keys = append(keys, "dash.funnel."+step)
	}
	for _, tb := range (attribSection{}).Tables() {
		keys = append(keys, tb.Title, tb.Column)
	}
	for _, k := range export.Kinds {
		keys = append(keys, "export.kind."+string(k), "export.kind."+string(k)+".def")
	}
	for _, k := range keys {
		if !cat.Has(k) {
			t.Errorf("%s is missing from a catalogue", k)
		}
	}
	if len(keys) < 30 {
		t.Fatalf("only %d keys", len(keys))
	}
}
