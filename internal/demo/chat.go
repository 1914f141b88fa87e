package demo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
)

// isLiveNight: lives on Tuesday, Thursday and Saturday evenings.
func isLiveNight(day time.Time) bool {
	switch day.Weekday() {
	case time.Tuesday, time.Thursday, time.Saturday:
		return true
	}
	return false
}

// chat writes one group's month.
type chat struct {
	*generator
	index int // of the group, for source ids
	group community.Group
	spec  groupSpec
	pool  []demoMember // the group's members, by join time
	core  []demoMember // the regulars among them, who say most
	evs   []event.Event
}

// seedMessages writes the month of chat of every group, in time order, in
// one transaction.
func (g *generator) seedMessages(ctx context.Context) error {
	var evs []event.Event
	for gi, gr := range g.groups {
		c := &chat{generator: g, index: gi + 1, group: gr, spec: groups[gi]}
		for i, m := range g.members {
			if _, ok := m.joined[gr.ID]; ok {
				c.pool = append(c.pool, m)
				if i%6 == 0 {
					c.core = append(c.core, m)
				}
			}
		}
		byJoin := func(a, b demoMember) int { return a.joined[gr.ID].Compare(b.joined[gr.ID]) }
		slices.SortStableFunc(c.pool, byJoin)
		slices.SortStableFunc(c.core, byJoin)
		for day, n := g.start, 0; day.Before(g.end); day, n = day.AddDate(0, 0, 1), n+1 {
			c.day(day, n)
		}
		// Same-instant messages keep their order (the sort is stable), so
		// that seeding stays deterministic.
		slices.SortStableFunc(c.evs, func(a, b event.Event) int { return a.At.Compare(b.At) })
		for i := range c.evs {
			c.evs[i].SourceID = fmt.Sprintf("msg-%d-%d", c.index, i+1)
		}
		evs = append(evs, c.evs...)
	}
	slices.SortStableFunc(evs, func(a, b event.Event) int { return a.At.Compare(b.At) })
	_, err := g.d.Log.AppendBatch(ctx, evs)
	return err
}

func (c *chat) add(at time.Time, memberID, staffID int64, sender, text string) {
	if !at.Before(c.end) {
		return
	}
	c.evs = append(c.evs, event.Event{TenantID: c.tenant.ID, Type: event.Message, Source: event.SourceDemo,
		At: at, MemberID: memberID, StaffID: staffID, GroupID: c.group.ID,
		Data: event.MustData(event.MessageData{Text: text, SenderName: sender})})
}

func (c *chat) staff(at time.Time, persona, text string) { c.add(at, 0, c.staffID, persona, text) }

func (c *chat) say(at time.Time, m demoMember, text string) { c.add(at, m.id, 0, m.name, text) }

// speaker picks who is talking at a time: a regular half the time, anyone
// in the group otherwise; ok is false if that one is not in the group then.
func (c *chat) speaker(at time.Time) (demoMember, bool) {
	list := c.pool
	if c.rng.IntN(2) == 0 {
		list = c.core
	}
	n := sort.Search(len(list), func(i int) bool { return list[i].joined[c.group.ID].After(at) })
	if n == 0 {
		return demoMember{}, false
	}
	m := list[c.rng.IntN(n)]
	left, gone := m.left[c.group.ID]
	return m, !gone || at.Before(left)
}

// poisson draws how many messages come in an hour with mean lambda.
func (c *chat) poisson(lambda float64) int {
	limit, k, p := math.Exp(-lambda), 0, c.rng.Float64()
	for p > limit {
		k++
		p *= c.rng.Float64()
	}
	return k
}

// within is a random time in [from, from+d).
func (c *chat) within(from time.Time, d time.Duration) time.Time {
	return from.Add(time.Duration(c.rng.Int64N(int64(d))))
}

func (c *chat) day(day time.Time, n int) {
	live := isLiveNight(day)
	c.routine(day, n, live)
	for h := range 24 {
		lambda := hourWeights[h] * c.spec.chat * 4.2
		if c.pushy(n) {
			lambda *= pushyChat
		}
		if live && h >= 19 && h <= 22 {
			lambda *= c.spec.live
		}
		if wd := day.Weekday(); (wd == time.Saturday || wd == time.Sunday) && h >= 9 && h < 18 {
			lambda *= 1.3
		}
		hour := day.Add(time.Duration(h) * time.Hour)
		var last string
		for range c.poisson(lambda) {
			at := c.within(hour, time.Hour)
			m, ok := c.speaker(at)
			text := c.line(h, live, last, m.name)
			if ok {
				c.say(at, m, text)
				last = m.name
			}
		}
	}
}

// line is what a member says at local hour h; last is who spoke before.
func (c *chat) line(h int, live bool, last, name string) string {
	liveShare := 0.25
	if c.group.Kind == community.Booster {
		liveShare = 0.5
	}
	if live && h >= 20 && h < 23 && c.rng.Float64() < liveShare {
		return c.pick(liveLines)
	}
	switch r := c.rng.IntN(20); {
	case r < 6:
		return c.pick(c.spec.lines)
	case r < 10 && last != "" && last != name:
		return "@" + last + " " + c.pick(replyLines)
	case r < 12:
		for _, t := range timedLines {
			if h >= t.from && h < t.to {
				return c.pick(t.lines)
			}
		}
	case r == 12:
		return c.pick(memberLines) + c.pick(emojis)
	}
	return c.pick(memberLines)
}

// routine is the staff's day (seed 004): check-in at 08:30 with members
// answering, a knowledge post at noon in the vertical group, wishlist
// prompts, welcomes of the day's newcomers, and on live nights the
// preview, the live-start alerts and (in the booster group) the lottery.
func (c *chat) routine(day time.Time, n int, live bool) {
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	c.staff(at(8, 30), assistant, checkInPrompt)
	c.replies(at(8, 31), 90*time.Minute, 0.04, checkInLines)
	if c.group.Kind == community.Vertical {
		c.staff(at(12, 10), expert, expertPosts[n%len(expertPosts)])
		c.replies(at(12, 12), 40*time.Minute, 0.01, knowledgeReplies)
	}
	if wd := day.Weekday(); wd == time.Monday || wd == time.Friday {
		c.staff(at(18, 0), assistant, wishPrompt)
		c.replies(at(18, 2), time.Hour, 0.015, wishLines)
	}
	if c.pushy(n) {
		for h := 10; h <= 21; h++ {
			c.staff(at(h, 45), assistant, referralPush)
		}
	}
	for _, m := range c.pool {
		if j := m.joined[c.group.ID]; !j.Before(day) && j.Before(day.AddDate(0, 0, 1)) {
			c.staff(j.Add(time.Duration(1+c.rng.IntN(3))*time.Minute), assistant, fmt.Sprintf(welcomeText, m.name))
		}
	}
	if !live {
		return
	}
	theme := liveThemes[n%len(liveThemes)]
	c.staff(at(17, 30), assistant, fmt.Sprintf(previewText, theme))
	c.staff(at(20, 0), host, fmt.Sprintf(startText, theme))
	c.staff(at(20, 30), assistant, fmt.Sprintf(againText, theme))
	if c.group.Kind != community.Booster {
		return
	}
	// The booster group's lottery: like and comment, post a screenshot.
	c.staff(at(20, 40), host, midText)
	c.staff(at(22, 50), host, endText)
	var winners []demoMember
	for range 12 {
		if m, ok := c.speaker(at(23, 0)); ok && !slices.ContainsFunc(winners, func(w demoMember) bool { return w.id == m.id }) && len(winners) < 3 {
			winners = append(winners, m)
		}
	}
	if len(winners) == 3 {
		c.staff(at(23, 5), assistant, fmt.Sprintf(lotteryText, winners[0].name, winners[1].name, winners[2].name))
		c.say(at(23, 7+c.rng.IntN(10)), winners[0], winnerText)
	}
}

// In its last ten days the referral group is pushed hard: an invite
// reminder every hour, 10:00–21:00, and its members go quieter. The
// dashboard's health table shows it move from spontaneous to self-centred
// (the brand posts half the messages and answers almost none).
const (
	pushyDays    = 10
	pushyChat    = 0.35 // members' hourly chatter, times this
	referralPush = "邀请好友入群：每邀请 1 位送小样，满 3 位送正装，专属链接见群公告👆"
)

func (c *chat) pushy(n int) bool { return c.group.Kind == community.Referral && n >= days-pushyDays }

// replies has a share of the group's members answer a staff post within d.
func (c *chat) replies(from time.Time, d time.Duration, share float64, lines []string) {
	for range c.poisson(share * float64(len(c.pool))) {
		at := c.within(from, d)
		m, ok := c.speaker(at)
		text := c.pick(lines)
		if ok {
			c.say(at, m, text)
		}
	}
}
