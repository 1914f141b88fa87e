package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/liveloop/liveloop/internal/analytics"
)

// noValue is what the dashboard shows for a value that is not a number (a
// ratio over nothing): never NaN.
const noValue = "—"

// numbers formats metric values for people: counts with thousands
// separators, percentages and per-day averages with one decimal, money in
// the brand's currency.
type numbers struct {
	currency string // ISO code, "CNY"
}

// currencySymbols are the currencies a brand is likely to sell in.
var currencySymbols = map[string]string{
	"CNY": "¥", "RMB": "¥", "TWD": "NT$", "HKD": "HK$", "MOP": "MOP$", "USD": "$", "SGD": "S$", "MYR": "RM",
	"EUR": "€", "GBP": "£", "JPY": "¥", "KRW": "₩",
}

// symbol is the currency's sign ("¥"), or its code and a space.
func (n numbers) symbol() string {
	if s, ok := currencySymbols[n.currency]; ok {
		return s
	}
	if n.currency == "" {
		return "¥"
	}
	return n.currency + " "
}

// value is v shown in its unit, or "—".
func (n numbers) value(v analytics.Value, u analytics.Unit) string {
	if !v.OK() || !finite(v.Float()) {
		return noValue
	}
	f := v.Float()
	switch u {
	case analytics.Percent:
		return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
	case analytics.Money:
		return n.symbol() + money(int64(math.Round(f))).String()
	case analytics.PerDay, analytics.Days:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return digits(int64(math.Round(f)))
}

// minor is an amount in minor units shown in the brand's currency.
func (n numbers) minor(v int64) string { return n.symbol() + money(v).String() }

// change describes cur against prev: the relative change of a count or an
// amount ("+12.5%"), the difference in percentage points of a rate
// ("-2.1 pp"). dir is "up", "down", "flat" or "" when there is nothing to
// compare (either side not a number, or a relative change from zero).
func change(cur, prev analytics.Value, u analytics.Unit) (text, dir string) {
	if !cur.OK() || !prev.OK() {
		return noValue, ""
	}
	c, p := cur.Float(), prev.Float()
	var d float64
	unit := "%"
	if u == analytics.Percent {
		d, unit = (c-p)*100, " pp"
	} else {
		if p == 0 {
			return noValue, ""
		}
		d = (c - p) / math.Abs(p) * 100
	}
	if !finite(d) {
		return noValue, ""
	}
	d = math.Round(d*10) / 10
	switch {
	case d > 0:
		return "+" + strconv.FormatFloat(d, 'f', 1, 64) + unit, "up"
	case d < 0:
		return strconv.FormatFloat(d, 'f', 1, 64) + unit, "down"
	}
	return "0.0" + unit, "flat"
}

// plot is v as a chart or CSV number in its unit's display scale
// (percent 0–100, money in major units), rounded to two decimals; nil when
// v is not a number, so charts show a gap and JSON never holds NaN.
func plot(v analytics.Value, u analytics.Unit) *float64 {
	if !v.OK() {
		return nil
	}
	f := v.Float()
	switch u {
	case analytics.Percent:
		f *= 100
	case analytics.Money:
		f /= 100
	}
	if !finite(f) {
		return nil
	}
	f = math.Round(f*100) / 100
	return &f
}

// plain is a plotted number for a CSV cell ("" for none).
func plain(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// pct is part/whole in percent with one decimal, or nil.
func pct(part, whole int64) *float64 {
	if whole <= 0 {
		return nil
	}
	f := math.Round(float64(part)/float64(whole)*1000) / 10
	return &f
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// digits is n with thousands separators: 12,345.
func digits(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// share is a 0–1 fraction as a percentage with one decimal.
func share(f float64) string {
	if !finite(f) {
		return noValue
	}
	return fmt.Sprintf("%.1f%%", f*100)
}
