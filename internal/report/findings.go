package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
)

// Finding is one plain-language conclusion of a report with the numbers
// it rests on. Key is its i18n template ("report.f.<rule>"); Args are
// typed values rendered in the reader's language (Text), so a stored
// report reads in every language.
type Finding struct {
	Key    string `json:"key"`
	Args   []Arg  `json:"args"`
	Tone   Tone   `json:"tone"`
	Weight int    `json:"weight"` // higher first; the top ones are sent to staff
}

// Tone says whether a finding is good news, bad news or neither.
type Tone string

// The tones.
const (
	Good Tone = "good"
	Bad  Tone = "bad"
	Info Tone = "info"
)

// Arg is one value of a finding, by kind:
//
//	text     S shown as is (a group's name, a live's title)
//	count    N a whole number
//	pct      N a ratio, shown as a percentage ("12.5%")
//	change   N a relative change, shown by size ("23%")
//	points   N a difference of ratios, in percentage points ("5.0")
//	value    N in unit S (FormatValue)
//	metric   S a metric key, shown by name
//	class    S a health class
//	weekday  N 0 Sunday … 6 Saturday
//	hour     N 0–23, shown "20:00"
//	day      N an analytics.Day
//	ctype    S a content type
//	cformat  S a content format
//	step     S a funnel step
//	source   S a join source ("" unknown)
//	key      S an i18n key
type Arg struct {
	K string  `json:"k"`
	S string  `json:"s,omitempty"`
	N float64 `json:"n,omitempty"`
}

func text(s string) Arg                     { return Arg{K: "text", S: s} }
func count(n int64) Arg                     { return Arg{K: "count", N: float64(n)} }
func pct(r float64) Arg                     { return Arg{K: "pct", N: r} }
func value(u analytics.Unit, v float64) Arg { return Arg{K: "value", S: string(u), N: v} }
func keyed(kind, s string) Arg              { return Arg{K: kind, S: s} }
func num(kind string, n int) Arg            { return Arg{K: kind, N: float64(n)} }
func ratio(kind string, n float64) Arg      { return Arg{K: kind, N: n} }
func prevName(k Kind) Arg                   { return Arg{K: "key", S: "report.prev." + string(k)} }
func finding(key string, t Tone, w int, a ...Arg) Finding {
	return Finding{Key: "report.f." + key, Args: a, Tone: t, Weight: w}
}

// Text renders the finding in lang.
func (f Finding) Text(cat *i18n.Catalog, lang string) string {
	args := make([]any, len(f.Args))
	for i, a := range f.Args {
		args[i] = a.Text(cat, lang)
	}
	return cat.T(lang, f.Key, args...)
}

// Text renders one argument in lang.
func (a Arg) Text(cat *i18n.Catalog, lang string) string {
	switch a.K {
	case "count":
		return FormatCount(int64(math.Round(a.N)))
	case "pct":
		return FormatPercent(a.N)
	case "change":
		return FormatChange(a.N)
	case "points":
		return fmt.Sprintf("%.1f", math.Abs(a.N)*100)
	case "value":
		return formatNumber(analytics.Unit(a.S), a.N)
	case "metric":
		return MetricName(cat, lang, a.S)
	case "class":
		return named(cat, lang, analytics.HealthClassKey(a.S), a.S)
	case "weekday":
		return cat.T(lang, fmt.Sprintf("report.weekday.%d", int(a.N)))
	case "hour":
		return fmt.Sprintf("%02d:00", int(a.N))
	case "day":
		return analytics.Day(a.N).String()
	case "ctype":
		return named(cat, lang, "cp.type."+a.S, a.S)
	case "cformat":
		return named(cat, lang, "cp.format."+a.S, a.S)
	case "step":
		return named(cat, lang, "report.funnel."+a.S, a.S)
	case "source":
		return SourceName(cat, lang, a.S)
	case "key":
		return cat.T(lang, a.S)
	}
	return a.S
}

// SourceName is a join source's label: a join code's own label, or the
// name of a kind of source.
func SourceName(cat *i18n.Catalog, lang, s string) string {
	switch s {
	case "":
		return cat.T(lang, "report.source.unknown")
	case "referral", "live", "direct":
		return cat.T(lang, "report.source."+s)
	}
	return s
}

// Thresholds of the rules.
const (
	minMove      = 0.10 // a relative change worth telling: 10 %
	minRateMove  = 0.05 // a ratio's change worth telling: 5 points
	maxMoves     = 3    // amounts and counts told
	maxRateMoves = 2    // ratios told
	maxFindings  = 12
)

// lowerIsBetter are the metrics whose rise is bad news.
var lowerIsBetter = map[string]bool{"leaves": true, "brand_share": true, "repurchase_cycle": true}

// fromZeroKeys are the metrics whose first appearance is told.
var fromZeroKeys = []string{"orders", "gmv", "joins"}

// Findings derives the report's findings by rules, most important first
// (at most maxFindings). A period without any activity gets one finding
// saying so, plus the capacity advice, which is about the groups as they
// are.
func Findings(r Report) []Finding {
	var out []Finding
	if r.Empty() {
		out = append(out, finding("no_activity", Info, 100, num("day", int(r.Period.From)), num("day", int(r.Period.To-1))))
		out = append(out, capacityFindings(r)...)
		return out
	}
	for _, rule := range []func(Report) []Finding{moveFindings, rateFindings, fromZeroFindings, slotFindings, contentFindings,
		healthFindings, attributionFindings, capacityFindings, funnelFindings, sourceFindings, mixFindings} {
		out = append(out, rule(r)...)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return cmp.Compare(b.Weight, a.Weight) })
	return out[:min(len(out), maxFindings)]
}

// moveFindings tells the largest relative changes of counts and amounts
// ("GMV rose 23% vs last week"), only where the period before was above
// zero.
func moveFindings(r Report) []Finding {
	type move struct {
		m Metric
		c float64
	}
	var moves []move
	for _, m := range r.Metrics {
		if m.Unit == analytics.Percent {
			continue
		}
		if c, ok := m.Change(); ok && math.Abs(c) >= minMove {
			moves = append(moves, move{m, c})
		}
	}
	slices.SortStableFunc(moves, func(a, b move) int { return cmp.Compare(math.Abs(b.c), math.Abs(a.c)) })
	var out []Finding
	for _, mv := range moves[:min(len(moves), maxMoves)] {
		key, tone := "up", Good
		if mv.c < 0 {
			key, tone = "down", Bad
		}
		if lowerIsBetter[mv.m.Key] {
			tone = flip(tone)
		}
		w := 40 + int(math.Min(math.Abs(mv.c), 1)*40)
		out = append(out, finding(key, tone, w, keyed("metric", mv.m.Key), ratio("change", mv.c),
			value(mv.m.Unit, mv.m.Cur.Float()), value(mv.m.Unit, mv.m.Prev.Float()), prevName(r.Kind)))
	}
	return out
}

// rateFindings tells the largest changes of ratios, in points.
func rateFindings(r Report) []Finding {
	type move struct {
		m Metric
		d float64
	}
	var moves []move
	for _, m := range r.Metrics {
		if m.Unit != analytics.Percent {
			continue
		}
		if d, ok := m.Delta(); ok && math.Abs(d) >= minRateMove {
			moves = append(moves, move{m, d})
		}
	}
	slices.SortStableFunc(moves, func(a, b move) int { return cmp.Compare(math.Abs(b.d), math.Abs(a.d)) })
	var out []Finding
	for _, mv := range moves[:min(len(moves), maxRateMoves)] {
		key, tone := "rate_up", Good
		if mv.d < 0 {
			key, tone = "rate_down", Bad
		}
		if lowerIsBetter[mv.m.Key] {
			tone = flip(tone)
		}
		w := 40 + int(math.Min(math.Abs(mv.d)/0.5, 1)*40)
		out = append(out, finding(key, tone, w, keyed("metric", mv.m.Key), ratio("points", mv.d),
			value(analytics.Percent, mv.m.Cur.Float()), value(analytics.Percent, mv.m.Prev.Float()), prevName(r.Kind)))
	}
	return out
}

func flip(t Tone) Tone {
	switch t {
	case Good:
		return Bad
	case Bad:
		return Good
	}
	return t
}

// fromZeroFindings tells orders, GMV or joins that appeared after a
// period without any (a change from zero is not a percentage).
func fromZeroFindings(r Report) []Finding {
	var out []Finding
	for _, key := range fromZeroKeys {
		m, ok := r.Metric(key)
		if !ok || !m.Prev.OK() || !m.Cur.OK() || m.Prev.Float() != 0 || m.Cur.Float() <= 0 {
			continue
		}
		out = append(out, finding("from_zero", Good, 35, keyed("metric", key), value(m.Unit, m.Cur.Float()), prevName(r.Kind)))
	}
	return out
}

// slotFindings tells the weekday and hour with the most engagement.
func slotFindings(r Report) []Finding {
	h := r.Heatmap
	if h.Total <= 0 || h.BestDay < 0 || h.BestDay > 6 || h.BestHour < 0 || h.BestHour > 23 {
		return nil
	}
	cell := h.Cells[h.BestDay][h.BestHour]
	if cell <= 0 {
		return nil
	}
	return []Finding{finding("best_slot", Info, 45, num("weekday", h.BestDay), num("hour", h.BestHour),
		count(cell), pct(float64(cell)/float64(h.Total)))}
}

// contentFindings tells the content type and format with the highest
// click rate (clicks per member reached), among at least two that reached
// someone.
func contentFindings(r Report) []Finding {
	var best *analytics.ContentRow
	reached := 0
	for i, c := range r.Content {
		if c.Reach <= 0 {
			continue
		}
		reached++
		if c.Clicks <= 0 {
			continue
		}
		if best == nil || c.Clicks*best.Reach > best.Clicks*c.Reach {
			best = &r.Content[i]
		}
	}
	if best == nil || reached < 2 {
		return nil
	}
	return []Finding{finding("best_content", Good, 42, keyed("ctype", best.Type), keyed("cformat", best.Format),
		pct(float64(best.Clicks)/float64(best.Reach)), count(best.Clicks), count(best.Reach))}
}

// healthFindings tells the groups whose health class changed from the
// period before.
func healthFindings(r Report) []Finding {
	var out []Finding
	for _, g := range r.Health {
		if g.PrevClass == "" || g.PrevClass == analytics.NotEnoughYet || g.Class == analytics.NotEnoughYet || g.Class == g.PrevClass {
			continue
		}
		tone, w := Bad, 70
		if g.Class == analytics.Spontaneous {
			tone, w = Good, 55
		}
		out = append(out, finding("health_moved", tone, w, text(g.Name), keyed("class", g.PrevClass), keyed("class", g.Class),
			count(int64(g.Score))))
	}
	return out
}

// attributionFindings tells the live, push and group that brought the
// most attributed GMV.
func attributionFindings(r Report) []Finding {
	var out []Finding
	for _, x := range []struct {
		key  string
		list []analytics.Attributed
		w    int
	}{{"top_live", r.Attribution.Lives, 60}, {"top_push", r.Attribution.Pushes, 50}, {"top_group", r.Attribution.Groups, 48}} {
		var best *analytics.Attributed
		for i, a := range x.list {
			if a.GMV > 0 && (best == nil || a.GMV > best.GMV) {
				best = &x.list[i]
			}
		}
		if best != nil {
			out = append(out, finding(x.key, Good, x.w, text(best.Label), value(analytics.Money, float64(best.GMV)), count(best.Orders)))
		}
	}
	return out
}

// capacityFindings turns capacity advice into findings.
func capacityFindings(r Report) []Finding {
	var out []Finding
	for _, a := range r.Capacity {
		switch a.Kind {
		case "over_cap":
			out = append(out, finding("over_cap", Bad, 75, text(a.Name), count(a.Members), count(a.Cap)))
		case "near_cap":
			out = append(out, finding("near_cap", Info, 50, text(a.Name), count(a.Members), count(a.Cap)))
		case "silent":
			out = append(out, finding("silent", Bad, 65, text(a.Name), count(a.Members)))
		case "too_small":
			out = append(out, finding("too_small", Info, 30, text(a.Name), count(a.Members)))
		}
	}
	return out
}

// funnelFindings tells the funnel step where the most members were lost
// (the lowest share reaching the next step).
func funnelFindings(r Report) []Finding {
	st := r.Funnel.Steps
	best, bestRate := -1, 2.0
	for i := 1; i < len(st); i++ {
		if st[i-1].Members <= 0 {
			continue
		}
		if rate := float64(st[i].Members) / float64(st[i-1].Members); rate < bestRate {
			best, bestRate = i, rate
		}
	}
	if best < 0 || bestRate >= 1 {
		return nil
	}
	return []Finding{finding("funnel_drop", Bad, 44, keyed("step", st[best-1].Key), keyed("step", st[best].Key),
		count(st[best].Members), count(st[best-1].Members), pct(bestRate))}
}

// sourceFindings tells which source brought the most joins.
func sourceFindings(r Report) []Finding {
	var total int64
	var best *analytics.SourceRow
	for i, s := range r.Sources {
		total += s.Joins
		if s.Joins > 0 && (best == nil || s.Joins > best.Joins) {
			best = &r.Sources[i]
		}
	}
	if best == nil || total <= 0 {
		return nil
	}
	return []Finding{finding("top_source", Info, 38, keyed("source", best.Source), count(best.Joins), pct(float64(best.Joins)/float64(total)))}
}

// mixFindings checks what ran against the playbooks: sales over 30 % of
// the sends (the 7:3 rule), and steps skipped or failed.
func mixFindings(r Report) []Finding {
	var out []Finding
	m := r.Teardown.Mix
	if s, ok := m.SentShare(); ok && s > SalesShareMax {
		out = append(out, finding("mix_over", Bad, 52, pct(s), count(int64(m.SentSales)), count(int64(m.SentValue+m.SentSales))))
	}
	missed, planned := 0, 0
	runs := slices.Clone(r.Teardown.Private)
	for _, g := range r.Teardown.Groups {
		runs = append(runs, g.Runs...)
	}
	for _, run := range runs {
		switch run.State {
		case "cancelled":
			continue
		case "skipped", "failed":
			missed++
		}
		planned++
	}
	if missed > 0 {
		out = append(out, finding("steps_missed", Bad, 46, count(int64(missed)), count(int64(planned))))
	}
	return out
}
