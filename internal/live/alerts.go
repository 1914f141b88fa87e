package live

import (
	"fmt"
	"time"
)

// AlertAt is when alert n (1-based) of l is due: the first at the start,
// then one every interval.
func AlertAt(l Live, n int) time.Time {
	return l.StartedAt.Add(time.Duration(n-1) * l.Alert.Interval)
}

// AlertsDue returns the numbers (1..Repeat) of l's live-start alerts whose
// time has come by now, in order: none before the start, none once the
// live has ended, none without alert groups.
//
// It returns every due number, not only the newest, so a scheduler that
// missed a tick still sends each; it enqueues one message per number and
// group under AlertKey, and the outbox's unique key stores each once
// however often it asks. A scheduler back from a long outage may send only
// the last due number instead, rather than a burst of stale reminders.
func AlertsDue(l Live, now time.Time) []int {
	if !alerting(l) || now.Before(l.StartedAt) {
		return nil
	}
	n := 1
	if l.Alert.Interval > 0 {
		n += int(now.Sub(l.StartedAt) / l.Alert.Interval)
	}
	n = min(n, l.Alert.Repeat)
	due := make([]int, n)
	for i := range due {
		due[i] = i + 1
	}
	return due
}

// NextAlert is when l's next alert after now falls due, for a scheduler
// that sleeps until then; ok is false when no more will.
func NextAlert(l Live, now time.Time) (at time.Time, ok bool) {
	if !alerting(l) {
		return time.Time{}, false
	}
	next := len(AlertsDue(l, now)) + 1
	if next > l.Alert.Repeat {
		return time.Time{}, false
	}
	return AlertAt(l, next), true
}

// alerting reports whether l is on air with alerts to send.
func alerting(l Live) bool {
	return l.State == StateLive && !l.StartedAt.IsZero() && len(l.Alert.Groups) > 0 && l.Alert.Repeat > 0
}

// AlertKey is the outbox idempotency key of alert n of live liveID to a
// group: a live started twice, or a scheduler asking twice, enqueues each
// alert once.
func AlertKey(liveID int64, n int, groupID int64) string {
	return fmt.Sprintf("live:%d:alert:%d:%d", liveID, n, groupID)
}

// RecapData is what the end-of-live recap says: the products shown, those
// that sold out, how long the live ran.
type RecapData struct {
	LiveID   int64
	Title    string
	Duration time.Duration // zero if the live never started
	Products []Product     // by position
	SoldOut  []Product     // stock 0, by position
}

// Recap gathers the recap of l (with its products, as Get returns it).
func Recap(l Live) RecapData {
	r := RecapData{LiveID: l.ID, Title: l.Title, Products: l.Products}
	if !l.StartedAt.IsZero() && l.EndedAt.After(l.StartedAt) {
		r.Duration = l.EndedAt.Sub(l.StartedAt)
	}
	for _, p := range l.Products {
		if p.SoldOut() {
			r.SoldOut = append(r.SoldOut, p)
		}
	}
	return r
}

// RecapKey is the outbox idempotency key of the recap of a live to a group.
func RecapKey(liveID, groupID int64) string {
	return fmt.Sprintf("live:%d:recap:%d", liveID, groupID)
}
