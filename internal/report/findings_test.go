package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
)

// week is the week of Monday 2026-11-16.
var week = analytics.Week(mustDay("2026-11-18"))

func mustDay(s string) analytics.Day {
	d, err := analytics.ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

// quiet is a weekly report in which nothing happened: every count zero,
// every ratio over nothing.
func quiet() Report {
	r := Report{Version: Version, Kind: Weekly, Period: week, Prev: week.Previous(), Timezone: "Asia/Shanghai"}
	for _, d := range analytics.Defs {
		v := analytics.Value{}
		if d.Unit == analytics.Percent {
			v.Ratio = true
		}
		r.Metrics = append(r.Metrics, Metric{Key: d.Key, Kind: d.Kind, Unit: d.Unit, Cur: v, Prev: v})
	}
	return r
}

// with sets a metric's values.
func with(r Report, key string, cur, prev analytics.Value) Report {
	for i := range r.Metrics {
		if r.Metrics[i].Key == key {
			r.Metrics[i].Cur, r.Metrics[i].Prev = cur, prev
			return r
		}
	}
	panic("no metric " + key)
}

func n(x float64) analytics.Value         { return analytics.Value{Num: x} }
func rt(num, den float64) analytics.Value { return analytics.Value{Num: num, Den: den, Ratio: true} }

func keys(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.TrimPrefix(f.Key, "report.f."))
	}
	return out
}

// activity makes a report not empty without giving any rule a reason to
// speak: ten member messages in both periods.
func activity(r Report) Report { return with(r, "member_messages", n(10), n(10)) }

func TestFindings(t *testing.T) {
	cat := i18n.MustLoad()
	gmvName, rateName := MetricName(cat, "en", "gmv"), MetricName(cat, "en", "interaction_rate")
	tests := []struct {
		name string
		r    Report
		want []string // finding keys, in order
		text string   // the first finding in English, when given
	}{
		{"nothing happened", quiet(), []string{"no_activity"},
			"No activity from 2026-11-16 to 2026-11-22: nobody joined, wrote, clicked or bought."},
		{"nothing happened, a group over its cap", func() Report {
			r := quiet()
			r.Capacity = []analytics.Advice{{Name: "护肤交流群", Kind: "over_cap", Members: 520, Cap: 500}}
			return r
		}(), []string{"no_activity", "over_cap"}, ""},
		// GMV 12,300 minor units against 10,000: (12300 − 10000) / 10000 = 23 %.
		{"GMV rose 23%", with(activity(quiet()), "gmv", n(12300), n(10000)), []string{"up"},
			gmvName + " rose 23% vs last week: 123.00, up from 100.00."},
		// A fall of 4.5 %: 9,550 against 10,000 — under the 10 % worth telling.
		{"a small move is not told", with(activity(quiet()), "gmv", n(9550), n(10000)), nil, ""},
		// Nothing the week before: no percentage, the first orders are told.
		{"from zero", with(with(activity(quiet()), "gmv", n(5000), n(0)), "orders", n(2), n(0)),
			[]string{"from_zero", "from_zero"}, MetricName(cat, "en", "orders") + ": 2, after none last week."},
		// 30 of 100 members posted against 20 of 100: +10 points.
		{"a ratio in points", with(activity(quiet()), "interaction_rate", rt(30, 100), rt(20, 100)), []string{"rate_up"},
			rateName + " rose 10.0 points vs last week: 30.0%, up from 20.0%."},
		{"a ratio over nothing is not compared", with(activity(quiet()), "interaction_rate", rt(30, 100), rt(0, 0)), nil, ""},
		// Wednesday (3) 20:00 holds 40 of 160: 25 %.
		{"best slot", func() Report {
			r := activity(quiet())
			r.Heatmap.Cells[3][20], r.Heatmap.Cells[1][9] = 40, 120
			r.Heatmap.BestDay, r.Heatmap.BestHour, r.Heatmap.Total = 3, 20, 160
			return r
		}(), []string{"best_slot"}, "Wednesday 20:00 had the highest engagement: 40 member messages and clicks, 25.0% of the period's."},
		// knowledge/text: 10 clicks of 80 reached = 12.5 %; promo/image 5 of 100 = 5 %.
		{"best content", func() Report {
			r := activity(quiet())
			r.Content = []analytics.ContentRow{{Type: "promo", Format: "image", Sends: 3, Reach: 100, Clicks: 5},
				{Type: "knowledge", Format: "text", Sends: 2, Reach: 80, Clicks: 10}}
			return r
		}(), []string{"best_content"}, ""},
		{"one content type is not the highest of anything", func() Report {
			r := activity(quiet())
			r.Content = []analytics.ContentRow{{Type: "knowledge", Format: "text", Reach: 80, Clicks: 10}}
			return r
		}(), nil, ""},
		{"health moves", func() Report {
			r := activity(quiet())
			r.Health = []analytics.GroupHealth{
				{Name: "新人群", Class: analytics.Spontaneous, PrevClass: analytics.SelfTalk, Score: 71},
				{Name: "护肤交流群", Class: analytics.SelfTalk, PrevClass: analytics.Spontaneous, Score: 22},
				{Name: "VIP", Class: analytics.Spontaneous, PrevClass: analytics.NotEnoughYet, Score: 64},
				{Name: "点赞群", Class: analytics.Scripted, PrevClass: analytics.Scripted, Score: 30},
			}
			return r
		}(), []string{"health_moved", "health_moved"}, "Group 护肤交流群 moved from Spontaneous to Self-talk (health score 22)."},
		{"top live", func() Report {
			r := activity(quiet())
			r.Attribution.Lives = []analytics.Attributed{{Key: "live:2", Label: "<b>春季新品</b>", Orders: 3, GMV: 50000},
				{Key: "live:1", Label: "冬季", Orders: 9, GMV: 20000}}
			return r
		}(), []string{"top_live"}, "Live <b>春季新品</b> brought the most attributed GMV: 500.00 from 3 orders."},
		// viewers 200 → joined 40 (20 %) → clicked 30 (75 %) → bought 6 (20 %) → repeat 3 (50 %):
		// the first lowest share is viewers → joined.
		{"funnel drop", func() Report {
			r := activity(quiet())
			r.Funnel.Steps = []analytics.FunnelStep{{Key: "viewers", Members: 200}, {Key: "joined", Members: 40}, {Key: "clicked", Members: 30}, {Key: "bought", Members: 6}, {Key: "repeat", Members: 3}}
			return r
		}(), []string{"funnel_drop"}, "The funnel lost the most between live viewers and joined: 40 of 200 went on (20.0%)."},
		{"no funnel without viewers", func() Report {
			r := activity(quiet())
			r.Funnel.Steps = []analytics.FunnelStep{{Key: "viewers", Members: 0}, {Key: "joined", Members: 0}}
			return r
		}(), nil, ""},
		// 4 promo of 9 sent: 44.4 % > 30 %; 2 of 4 steps (a cancelled one not counted) skipped or failed.
		{"mix and missed steps", func() Report {
			r := activity(quiet())
			r.Teardown.Mix = Mix{PlannedValue: 6, PlannedSales: 4, SentValue: 5, SentSales: 4}
			r.Teardown.Groups = []GroupTeardown{{Runs: []StepRun{{State: "sent"}, {State: "skipped"}, {State: "cancelled"}}}}
			r.Teardown.Private = []StepRun{{State: "failed"}, {State: "pending"}}
			return r
		}(), []string{"mix_over", "steps_missed"}, "Sales content was 44.4% of what was sent (4 of 9), above the 7:3 rule's 30%."},
		// 30 of 40 joins by one code: 75 %.
		{"top source", func() Report {
			r := activity(quiet())
			r.Sources = []analytics.SourceRow{{Source: "", Joins: 10}, {Source: "直播间二维码", Joins: 30}}
			return r
		}(), []string{"top_source"}, "直播间二维码 brought the most joins: 30 (75.0% of all)."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := Findings(tc.r)
			if got := keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("findings %v, want %v", got, tc.want)
			}
			if tc.text != "" {
				if got := fs[0].Text(cat, "en"); got != tc.text {
					t.Errorf("text:\n got %q\nwant %q", got, tc.text)
				}
			}
		})
	}
}

// everything is a report in which every rule finds something.
func everything() Report {
	r := quiet()
	r = with(r, "gmv", n(12300), n(10000))
	r = with(r, "orders", n(4), n(0))
	r = with(r, "leaves", n(2), n(10))
	r = with(r, "interaction_rate", rt(30, 100), rt(20, 100))
	r = with(r, "brand_share", rt(10, 100), rt(50, 100))
	r.Heatmap.Cells[0][0], r.Heatmap.BestDay, r.Heatmap.BestHour, r.Heatmap.Total = 5, 0, 0, 5
	r.Content = []analytics.ContentRow{{Type: "knowledge", Format: "text", Reach: 80, Clicks: 10}, {Type: "x", Format: "y", Reach: 10}}
	r.Health = []analytics.GroupHealth{{Name: "g", Class: analytics.SelfCentred, PrevClass: analytics.Spontaneous}}
	r.Attribution = Attribution{Lives: []analytics.Attributed{{Label: "l", GMV: 1}}, Pushes: []analytics.Attributed{{Label: "p", GMV: 1}},
		Groups: []analytics.Attributed{{Label: "g", GMV: 1}}}
	r.Capacity = []analytics.Advice{{Name: "a", Kind: "over_cap"}, {Name: "b", Kind: "near_cap"}, {Name: "c", Kind: "silent"}, {Name: "d", Kind: "too_small"}}
	r.Funnel.Steps = []analytics.FunnelStep{{Key: "viewers", Members: 10}, {Key: "joined", Members: 1}}
	r.Sources = []analytics.SourceRow{{Source: "referral", Joins: 1}}
	r.Teardown.Mix = Mix{SentSales: 1}
	r.Teardown.Private = []StepRun{{State: "failed"}}
	return r
}

// Every finding renders in every language from the catalogue: no missing
// key, no formatting error, no NaN or Inf — and the rules can produce
// every finding the catalogue has a sentence for.
func TestFindingsRenderInEveryLanguage(t *testing.T) {
	cat := i18n.MustLoad()
	all := slices.Concat(Findings(quiet()), moveFindings(everything()), rateFindings(everything()), fromZeroFindings(everything()),
		slotFindings(everything()), contentFindings(everything()), healthFindings(everything()), attributionFindings(everything()),
		capacityFindings(everything()), funnelFindings(everything()), sourceFindings(everything()), mixFindings(everything()))
	seen := map[string]bool{}
	for _, f := range all {
		seen[f.Key] = true
		if !cat.Has(f.Key) {
			t.Errorf("%s: not in every catalogue", f.Key)
		}
		for _, a := range f.Args {
			key := map[string]string{"weekday": fmt.Sprintf("report.weekday.%d", int(a.N)), "key": a.S, "step": "report.funnel." + a.S}[a.K]
			if key != "" && !cat.Has(key) {
				t.Errorf("%s: argument key %s not in every catalogue", f.Key, key)
			}
		}
		for _, lang := range i18n.Languages {
			s := f.Text(cat, lang)
			for _, bad := range []string{"%!", "NaN", "Inf", "report.", "<nil>"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s in %s: %q contains %q", f.Key, lang, s, bad)
				}
			}
		}
	}
	for _, key := range cat.Keys("en") {
		if strings.HasPrefix(key, "report.f.") && !seen[key] {
			t.Errorf("%s: no rule produced it", key)
		}
	}
	for d := range 7 {
		if !cat.Has(fmt.Sprintf("report.weekday.%d", d)) {
			t.Errorf("weekday %d not in every catalogue", d)
		}
	}
}

func TestChange(t *testing.T) {
	tests := []struct {
		m           Metric
		change      float64
		ok          bool
		description string
	}{
		{Metric{Cur: n(123), Prev: n(100)}, 0.23, true, "+23 %"},
		{Metric{Cur: n(5), Prev: n(0)}, 0, false, "from zero: not a percentage"},
		{Metric{Cur: n(0), Prev: n(0)}, 0, false, "zero to zero"},
		{Metric{Cur: n(5), Prev: n(-10)}, 0, false, "from a negative (refunds above sales)"},
		{Metric{Cur: rt(1, 4), Prev: rt(1, 2)}, -0.5, true, "25 % against 50 %"},
		{Metric{Cur: rt(1, 4), Prev: rt(0, 0)}, 0, false, "a ratio over nothing"},
	}
	for _, tc := range tests {
		c, ok := tc.m.Change()
		if ok != tc.ok || (ok && (c-tc.change > 1e-9 || tc.change-c > 1e-9)) {
			t.Errorf("%s: %v %v, want %v %v", tc.description, c, ok, tc.change, tc.ok)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{FormatValue(analytics.Count, n(1234567)), "1,234,567"},
		{FormatValue(analytics.Money, n(-123456)), "-1,234.56"},
		{FormatValue(analytics.Percent, rt(1, 8)), "12.5%"},
		{FormatValue(analytics.Percent, rt(1, 0)), "—"},
		{FormatValue(analytics.PerDay, n(7.26)), "7.3"},
		{FormatChange(0.2349), "23%"},
		{FormatChange(-0.045), "4.5%"},
		{FormatPercent(0.0 / zero), "—"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%d: %q, want %q", i, tc.got, tc.want)
		}
	}
}

var zero = 0.0
