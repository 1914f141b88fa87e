package analytics

import (
	"fmt"
	"time"
)

// Day is a tenant-local calendar day: days since 1970-01-01.
type Day int

// DayOf is the day t falls on in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Date is the day's date (UTC midnight of it).
func (d Day) Date() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Start is the instant the day begins in loc.
func (d Day) Start(loc *time.Location) time.Time {
	y, m, dd := d.Date().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// Weekday of the day.
func (d Day) Weekday() time.Weekday { return d.Date().Weekday() }

// String is the ISO date, "2026-11-23".
func (d Day) String() string { return d.Date().Format(time.DateOnly) }

// ParseDay reads an ISO date.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("analytics: %q is not a date (YYYY-MM-DD)", s)
	}
	return Day(t.Unix() / 86400), nil
}

// Period is the days From (inclusive) to To (exclusive).
type Period struct{ From, To Day }

// Days is the period's length.
func (p Period) Days() int { return int(p.To - p.From) }

// Previous is the period of the same length just before p.
func (p Period) Previous() Period { return Period{From: p.From - Day(p.Days()), To: p.From} }

// Contains reports whether d is in p.
func (p Period) Contains(d Day) bool { return d >= p.From && d < p.To }

// LastDays is the n days ending with (and including) today.
func LastDays(today Day, n int) Period { return Period{From: today - Day(n) + 1, To: today + 1} }

// Week is the Monday-to-Sunday week holding d.
func Week(d Day) Period {
	off := (int(d.Weekday()) + 6) % 7 // Monday 0
	from := d - Day(off)
	return Period{From: from, To: from + 7}
}

// Month is the calendar month holding d.
func Month(d Day) Period {
	y, m, _ := d.Date().Date()
	from := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	return Period{From: Day(from.Unix() / 86400), To: Day(to.Unix() / 86400)}
}

// Filter scopes a query: one tenant, a period, and optionally one group
// or the groups of one channel kind ("web", "telegram", "line").
type Filter struct {
	TenantID int64
	Period   Period
	GroupID  int64  // 0: all groups
	Channel  string // "": all channels
	Loc      *time.Location
}

// Value is one metric's value for a period: a count or an amount (Den 0),
// or a ratio Num/Den. A ratio over nothing (Den 0 where a ratio is
// expected) is not a number: OK is false, and pages show "—", never NaN.
type Value struct {
	Num   float64 `json:"num"`
	Den   float64 `json:"den,omitempty"`
	Ratio bool    `json:"ratio,omitempty"`
}

// OK reports whether the value is a number.
func (v Value) OK() bool { return !v.Ratio || v.Den > 0 }

// Float is the value (0 when not OK).
func (v Value) Float() float64 {
	if !v.Ratio {
		return v.Num
	}
	if v.Den == 0 {
		return 0
	}
	return v.Num / v.Den
}

// Point is one day of a series.
type Point struct {
	Day   Day   `json:"day"`
	Value Value `json:"value"`
}
