package outbox

import (
	"fmt"
	"sort"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
)

// Pacing keeps each channel within the rates it declares (channel.Limits).
// Each limit is a window: at most n sends in any span of w. A send counts
// from the moment liveloop heard back from the platform, not from when it
// started: the request reached the platform somewhere in between, so
// however it was delayed on the way, the platform never sees more than n
// within w. (A token bucket cannot promise that: one whose burst lets a
// second's worth out at once lets nearly two seconds' worth through within
// one second.)
//
//   - Limits.PerSecond, all sends of a channel (a bot, an account): n = the
//     rate, w = one second. Platforms count a second; a second's worth may
//     leave at once.
//   - Limits.PerGroupPerMinute: spread evenly, n = 1 and w = a minute / the
//     rate (Telegram's 20 → one send every 3 s). A minute's allowance spent
//     in a burst would keep to "20 a minute" only if the platform counted
//     exactly a minute; spread, it keeps to it over any window, and to
//     Telegram's request of about one message a second in a chat. A
//     broadcast loses nothing by it once it reaches more groups than the
//     channel's per-second rate needs (Telegram: 90).
//   - Limits.PerMemberPerSecond: as PerSecond, per member.
//
// Rates below one a unit become one send per 1/rate; fractions above one
// are rounded down.

// limit is at most n sends in any w.
type limit struct {
	n int
	w time.Duration
}

func perUnit(rate float64, unit time.Duration) limit {
	if rate >= 1 {
		return limit{n: int(rate), w: unit}
	}
	return spread(rate, unit)
}

func spread(rate float64, unit time.Duration) limit {
	return limit{n: 1, w: time.Duration(float64(unit) / rate)}
}

// limits are the windows that apply to a message on ch: the channel's own
// and its recipient's (the group, or the member of a direct message). A
// zero limit (n == 0) does not apply.
func limits(ch channel.Channel, it Item) (chKey string, chLim limit, toKey string, toLim limit) {
	l := ch.Limits()
	chKey = ch.Name()
	if l.PerSecond > 0 {
		chLim = perUnit(l.PerSecond, time.Second)
	}
	if it.GroupID != 0 {
		toKey = fmt.Sprintf("%s/%d/g%d", ch.Name(), it.TenantID, it.GroupID)
		if l.PerGroupPerMinute > 0 {
			toLim = spread(l.PerGroupPerMinute, time.Minute)
		}
	} else {
		toKey = fmt.Sprintf("%s/%d/m%d", ch.Name(), it.TenantID, it.MemberID)
		if l.PerMemberPerSecond > 0 {
			toLim = perUnit(l.PerMemberPerSecond, time.Second)
		}
	}
	return chKey, chLim, toKey, toLim
}

// pace is one limit's state for one key: when the latest sends were
// answered, a ring of up to n times.
type pace struct {
	limit
	done []time.Time // answer times, oldest at next once full
	next int
}

// wait is how long from now until a send is allowed; 0 if it is now.
func (p *pace) wait(now time.Time) time.Duration {
	if len(p.done) < p.n {
		return 0
	}
	return max(0, p.done[p.next].Add(p.w).Sub(now))
}

// sent records a send answered at at. Answers come in order: one worker
// sends one message at a time.
func (p *pace) sent(at time.Time) {
	if len(p.done) < p.n {
		p.done = append(p.done, at)
		return
	}
	p.done[p.next] = at
	p.next = (p.next + 1) % p.n
}

// idle: none of the key's sends can delay another any more.
func (p *pace) idle(now time.Time) bool {
	if len(p.done) == 0 {
		return true
	}
	newest := p.done[(p.next+len(p.done)-1)%len(p.done)]
	return !newest.Add(p.w).After(now)
}

// paceOf returns the state of key under lim (nil when lim does not
// apply). The caller holds o.mu.
func (o *Outbox) paceOf(key string, lim limit) *pace {
	if lim.n == 0 {
		return nil
	}
	p, ok := o.paces[key]
	if !ok || p.limit != lim {
		p = &pace{limit: lim}
		o.paces[key] = p
	}
	return p
}

// waits returns how long a message to it must wait for its channel (its
// limit, or a pause) and for its recipient's limit.
func (o *Outbox) waits(ch channel.Channel, it Item, now time.Time) (chWait, toWait time.Duration) {
	chKey, chLim, toKey, toLim := limits(ch, it)
	o.mu.Lock()
	defer o.mu.Unlock()
	chWait = max(0, o.held[chKey].Sub(now))
	if p := o.paceOf(chKey, chLim); p != nil {
		chWait = max(chWait, p.wait(now))
	}
	if p := o.paceOf(toKey, toLim); p != nil {
		toWait = p.wait(now)
	}
	return chWait, toWait
}

// sent records a send to it answered at at, under every limit it counts
// against.
func (o *Outbox) sent(ch channel.Channel, it Item, at time.Time) {
	chKey, chLim, toKey, toLim := limits(ch, it)
	o.mu.Lock()
	defer o.mu.Unlock()
	if p := o.paceOf(chKey, chLim); p != nil {
		p.sent(at)
	}
	if p := o.paceOf(toKey, toLim); p != nil {
		p.sent(at)
	}
}

// hold stops all sends of the channel until until, and its rows are not
// claimed before then. The worker holds a channel whose limit is spent for
// longer than it naps, and when the platform says to wait (429 with
// retry-after): that does not say whether the channel's limit or the
// chat's was hit, so the whole channel waits rather than sending on into
// the same flood control.
func (o *Outbox) hold(name string, until time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if until.After(o.held[name]) {
		o.held[name] = until
	}
}

// holds returns the channels held at now and the earliest end of a hold.
func (o *Outbox) holds(now time.Time) ([]string, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var names []string
	var soonest time.Time
	for name, until := range o.held {
		if !until.After(now) {
			delete(o.held, name)
			continue
		}
		names = append(names, name)
		if soonest.IsZero() || until.Before(soonest) {
			soonest = until
		}
	}
	sort.Strings(names)
	return names, soonest
}

// prune forgets keys whose past no longer matters (once a minute at most),
// so that a tenant writing to many groups and members over months does not
// grow the map without end.
func (o *Outbox) prune(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if now.Sub(o.pruned) < time.Minute {
		return
	}
	o.pruned = now
	for k, p := range o.paces {
		if p.idle(now) {
			delete(o.paces, k)
		}
	}
}
