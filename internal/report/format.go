package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
)

// NotANumber is what a page shows for a value that is not a number (a
// ratio over nothing).
const NotANumber = "—"

// FormatValue shows a metric's value by its unit: counts with thousands
// separators, averages and days with one decimal, ratios as a percentage
// with one decimal, money (minor units) with two decimals.
func FormatValue(u analytics.Unit, v analytics.Value) string {
	if !v.OK() {
		return NotANumber
	}
	return formatNumber(u, v.Float())
}

func formatNumber(u analytics.Unit, x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return NotANumber
	}
	switch u {
	case analytics.Percent:
		return FormatPercent(x)
	case analytics.Money:
		return FormatMoney(int64(math.Round(x)))
	case analytics.PerDay, analytics.Days:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return FormatCount(int64(math.Round(x)))
}

// FormatPercent shows a ratio as a percentage with one decimal ("12.5%").
func FormatPercent(ratio float64) string {
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
		return NotANumber
	}
	return strconv.FormatFloat(ratio*100, 'f', 1, 64) + "%"
}

// FormatChange shows a relative change's size without its sign: whole
// percent from 10 % up ("23%"), one decimal below ("4.5%").
func FormatChange(c float64) string {
	c = math.Abs(c)
	if math.IsNaN(c) || math.IsInf(c, 0) {
		return NotANumber
	}
	if c >= 0.1 {
		return strconv.FormatFloat(c*100, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(c*100, 'f', 1, 64) + "%"
}

// FormatCount shows a whole number with thousands separators.
func FormatCount(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// FormatMoney shows minor units as 1,234.50.
func FormatMoney(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%s.%02d", sign, FormatCount(minor/100), minor%100)
}

// MetricName is a metric's name in lang (its key when the catalogue has
// none).
func MetricName(cat *i18n.Catalog, lang, key string) string {
	return named(cat, lang, "metric."+key, key)
}

// named translates key, or shows fallback when no catalogue has it.
func named(cat *i18n.Catalog, lang, key, fallback string) string {
	if t := cat.T(lang, key); t != key {
		return t
	}
	return fallback
}

// DayRange shows a period as its first and last day ("2026-11-16 – 2026-11-22").
func DayRange(p analytics.Period) string {
	return p.From.String() + " – " + (p.To - 1).String()
}
