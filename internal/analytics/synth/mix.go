package synth

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// kind is what a slot of the timeline becomes.
type kind uint8

const (
	kFirstJoin kind = iota // a member's first join (their home group, and their second one)
	kMessage               // a member's group message
	kBrand                 // a post by the brand: a persona, the staff, an operator's own account
	kCheckin
	kClick
	kChurn // a member leaves their home group, or one who left comes back
	kOrder
	kComment // a live comment
	kEnter   // a member enters a live room
	kVote
)

// mix is the share of each kind among a day's events besides first joins
// and churn, which together take ChurnShare of them.
var mix = []struct {
	k kind
	w float64
}{{kMessage, .70}, {kBrand, .08}, {kCheckin, .08}, {kClick, .05}, {kOrder, .02}, {kComment, .02}, {kEnter, .01}, {kVote, .01}}

// ChurnShare is the share of joins and leaves among the events.
const ChurnShare = 0.03

// Other shares of the mix.
const (
	ReplyShare    = 0.25  // member messages that reply to an earlier message of the group
	LateShare     = 0.001 // events that arrive 1–48 hours after they happened
	PushShare     = 0.05  // persona posts that are campaign pushes of a content item
	RefundShare   = 0.03  // orders refunded
	MatchedShare  = 0.85  // orders matched to a member
	KnownClickers = 0.8   // clicks by a known member
)

// hourWeights is a community's day (local hours): quiet at night, busy at
// lunch and in the evening.
var hourWeights = [24]float64{2, 1, 1, .5, .5, .5, 1, 2, 4, 5, 5, 6, 8, 7, 5, 5, 5, 6, 7, 9, 12, 12, 10, 5}

var hourCum = func() [24]float64 {
	var c [24]float64
	var s float64
	for h, w := range hourWeights {
		s += w
		c[h] = s
	}
	return c
}()

// slot is one event (or two: a first join of two groups) of the timeline.
type slot struct {
	at   int64
	kind kind
	b    *brand
	k    int // kFirstJoin: the member
}

func sortSlots(s []slot) []slot {
	slices.SortStableFunc(s, func(a, b slot) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	return s
}

// daySlots draws brand b's timeline of [from, to) (ms) holding about
// quota events: the first joins that fall in it, then the rest of the mix
// at times drawn by hourWeights (uniformly in a window shorter than a day).
func (g *gen) daySlots(b *brand, from, to int64, quota int) []slot {
	var out []slot
	joins := 0
	for b.next < len(b.joinAt) && b.joinAt[b.next] < to {
		k := b.next
		b.next++
		out = append(out, slot{at: b.joinAt[k], kind: kFirstJoin, b: b, k: k})
		joins++
		if b.second[k] >= 0 {
			joins++
		}
	}
	others := quota - joins
	if others <= 0 {
		return out
	}
	churn := max(0, ChurnShare*float64(quota)-float64(joins)) / float64(others)
	var total float64
	for _, m := range mix {
		total += m.w
	}
	for i := 0; i < others; i++ {
		k := kChurn
		if u := g.r.Float64(); u >= churn {
			u = (u - churn) / (1 - churn) * total
			for _, m := range mix {
				if k = m.k; u < m.w {
					break
				}
				u -= m.w
			}
		}
		at := g.timeIn(from, to)
		if k == kComment || k == kEnter {
			if l, ok := b.liveIn(from, to); ok {
				at = l.start + g.r.Int64N(l.end-l.start)
			} else {
				k = kVote
			}
		}
		out = append(out, slot{at: at, kind: k, b: b})
	}
	return out
}

// timeIn draws a time of [from, to): by the hour of the day for a whole
// day, uniformly in a shorter window.
func (g *gen) timeIn(from, to int64) int64 {
	const hour = int64(time.Hour / time.Millisecond)
	if to-from < 20*hour {
		return from + g.r.Int64N(max(to-from, 1))
	}
	u := g.r.Float64() * hourCum[23]
	h, _ := slices.BinarySearch(hourCum[:], u)
	return min(from+int64(h)*hour+g.r.Int64N(hour), to-1)
}

// liveIn is the first live that starts in [from, to).
func (b *brand) liveIn(from, to int64) (live, bool) {
	for _, l := range b.lives {
		if l.start >= from && l.start < to {
			return l, true
		}
	}
	return live{}, false
}

// emit turns the slots into events, in order, flushing full batches.
func (g *gen) emit(ctx context.Context, slots []slot) error {
	for _, s := range slots {
		g.dayOf(s.b, s.at)
		g.slot(s)
		if len(g.pending.events) >= g.batch {
			if err := g.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// dayOf moves brand b to the tenant day of at (a new day: nobody has
// checked in yet).
func (g *gen) dayOf(b *brand, at int64) {
	y, m, d := store.Time(at).In(b.loc).Date()
	start := store.Millis(time.Date(y, m, d, 0, 0, 0, 0, b.loc))
	if start != b.day {
		b.day = start
		clear(b.checked)
	}
}

func (g *gen) slot(s slot) {
	b := s.b
	switch s.kind {
	case kFirstJoin:
		g.firstJoin(b, s.k, s.at)
		return
	case kBrand:
		g.brandPost(b, s.at)
		return
	}
	k, ok := g.pickMember(b)
	if !ok {
		g.brandPost(b, s.at) // nobody has joined yet
		return
	}
	switch s.kind {
	case kMessage:
		g.message(b, k, s.at)
	case kCheckin:
		g.checkin(b, k, s.at)
	case kClick:
		g.click(b, k, s.at)
	case kChurn:
		g.churn(b, k, s.at)
	case kOrder:
		g.order(b, k, s.at)
	case kComment, kEnter:
		g.liveEvent(b, k, s.at, s.kind == kEnter)
	case kVote:
		g.vote(b, k, s.at)
	}
}

// pickMember draws a member who has joined, not the operator's own
// account: a quarter of the time anyone, otherwise one of a core of
// regulars (the earliest members, with a cubic bias: the first tenth of
// the members draw 46 % of those picks, 0.1^(1/3)); one who left is
// redrawn twice.
func (g *gen) pickMember(b *brand) (int, bool) {
	n := b.joined - 1 // members[1:joined]
	if n <= 0 {
		return 0, false
	}
	k := 0
	for try := 0; try < 3; try++ {
		if g.r.IntN(4) != 0 {
			u := g.r.Float64()
			k = 1 + int(float64(n)*u*u*u)
		} else {
			k = 1 + g.r.IntN(n)
		}
		if b.outAt[k] == 0 {
			break
		}
	}
	return k, true
}

// groupOf is the group a member acts in: their home group, or now and
// then their second one.
func (g *gen) groupOf(b *brand, k int) int64 {
	if b.second[k] >= 0 && g.r.IntN(10) < 3 {
		return b.groups[b.second[k]]
	}
	return b.groups[b.home[k]]
}

func (g *gen) add(b *brand, e event.Event) int {
	e.TenantID = b.tenantID
	g.pending.events = append(g.pending.events, e)
	return len(g.pending.events) - 1
}

// late moves a few events' time back: delivered hours after they
// happened (an import, a platform's retry).
func (g *gen) late(at int64) int64 {
	if g.r.Float64() < LateShare {
		return at - int64(time.Hour/time.Millisecond)*(1+g.r.Int64N(48))
	}
	return at
}

func (g *gen) firstJoin(b *brand, k int, at int64) {
	b.joined = max(b.joined, k+1)
	b.lastIn[k] = at
	src, jd := g.joinSource(b, at)
	for _, gi := range []int{b.home[k], b.second[k]} {
		if gi < 0 {
			continue
		}
		jd.JoinCode, jd.Source = fmt.Sprintf("jc%d", gi+1), src
		g.add(b, event.Event{Type: event.MemberJoined, Source: event.SourceWeb,
			SourceID: fmt.Sprintf("%sjoin:%d:%d:0", g.prefix, b.groups[gi], b.members[k]), At: store.Time(at),
			MemberID: b.members[k], GroupID: b.groups[gi], Data: event.MustData(jd)})
	}
}

// joinSource draws what brought a member: a poster's join code, a live
// (the one of the day before), a member's invite, or nothing known.
func (g *gen) joinSource(b *brand, at int64) (string, event.JoinData) {
	u := g.r.Float64()
	switch {
	case u < 0.40:
		return "poster", event.JoinData{}
	case u < 0.65:
		if l, ok := b.liveAt(at, int64(24*time.Hour/time.Millisecond)); ok {
			return "live", event.JoinData{LiveID: l.id}
		}
		return "poster", event.JoinData{}
	case u < 0.80 && b.joined > 1:
		return "referral", event.JoinData{ReferrerID: b.members[g.r.IntN(b.joined)]}
	}
	return "", event.JoinData{}
}

var phrases = []string{"今天的面霜到了吗？", "打卡", "主播几点开播呀", "求链接🙏", "这个颜色好看", "已下单～", "谢谢小助理",
	"有没有优惠券", "上次买的精华很好用", "同问", "哈哈哈哈", "早上好", "晚上见", "敏感肌能用吗", "几号发货", "好评！",
	"第一次来，请多关照", "拼团还差一个人", "想要这个的小号", "回购第三次了"}

func (g *gen) text() string {
	p := phrases[g.r.IntN(len(phrases))]
	if g.r.IntN(3) == 0 {
		return fmt.Sprintf("%s %d", p, g.r.IntN(1000))
	}
	return p
}

func (g *gen) message(b *brand, k int, at int64) {
	gid := g.groupOf(b, k)
	d := event.MessageData{Text: g.text(), SenderName: b.names[k]}
	if r := b.recent[gid]; len(r) > 0 && g.r.Float64() < ReplyShare {
		d.ReplyTo = r[g.r.IntN(len(r))]
	}
	g.add(b, event.Event{Type: event.Message, Source: event.SourceWeb, SourceID: fmt.Sprintf("%sm%d", g.prefix, g.next()),
		At: store.Time(g.late(at)), MemberID: b.members[k], GroupID: gid, Data: event.MustData(d)})
}

// brandPost is a post of the brand in a group drawn by size: one in ten
// by the operator's own (staff-tagged) member account, the others through
// the outbox by a persona (some of them campaign pushes) or the staff.
func (g *gen) brandPost(b *brand, at int64) {
	gid := b.groups[g.pickGroup(b)]
	e := event.Event{Type: event.Message, Source: event.SourceOutbox, SourceID: fmt.Sprintf("%sob%d", g.prefix, g.next()),
		At: store.Time(at), GroupID: gid}
	d := event.MessageData{Text: g.text()}
	switch u := g.r.Float64(); {
	case u < 0.1 && b.joined > 0:
		e.Source, e.MemberID, d.SenderName = event.SourceWeb, b.members[0], b.names[0]
	case u < 0.46:
		e.StaffID, d.SenderName = b.staffID, "店长"
	default:
		d.PersonaID, d.SenderName = 1+g.r.Int64N(3), "小助理"
		if g.r.Float64() < PushShare {
			g.pending.jobs = append(g.pending.jobs, job{b: b, key: e.SourceID, content: b.contents[g.r.IntN(len(b.contents))], group: gid, at: at})
		}
	}
	e.Data = event.MustData(d)
	g.add(b, e)
}

// checkin is a member's check-in of the day; one who has checked in
// today writes a message instead.
func (g *gen) checkin(b *brand, k int, at int64) {
	for try := 0; b.checked[k] && try < 3; try++ {
		k, _ = g.pickMember(b)
	}
	if b.checked[k] {
		g.message(b, k, at)
		return
	}
	b.checked[k] = true
	day := store.Time(at).In(b.loc).Format(time.DateOnly)
	g.add(b, event.Event{Type: event.CheckedIn, Source: "loyalty", SourceID: fmt.Sprintf("%scheckin:%d:%s", g.prefix, b.members[k], day),
		At: store.Time(at), MemberID: b.members[k], GroupID: b.groups[b.home[k]],
		Data: event.MustData(map[string]any{"day": day, "streak": 1, "points": 5})})
}

var linkKinds = []string{"product", "product", "coupon", "step", "other"}

// click is a click on a tracked link posted in a group: by a known member
// or an anonymous visitor; a live-start alert's link in the day after a
// live started.
func (g *gen) click(b *brand, k int, at int64) {
	at = g.late(at)
	e := event.Event{Type: event.LinkClicked, Source: event.SourceTrack, At: store.Time(at)}
	if g.r.Float64() < KnownClickers {
		e.MemberID, e.GroupID = b.members[k], g.groupOf(b, k)
	} else {
		e.GroupID = b.groups[g.pickGroup(b)]
	}
	td := event.TrackData{LinkID: 1 + g.r.Int64N(400), Kind: linkKinds[g.r.IntN(len(linkKinds))]}
	if l, ok := b.liveAt(at, int64(24*time.Hour/time.Millisecond)); ok && g.r.IntN(5) < 2 {
		td.Kind, td.LiveID = "alert", l.id
	}
	e.SourceID = fmt.Sprintf("%sclick:%d:v%d:%d", g.prefix, td.LinkID, g.next(), at/60000)
	e.Data = event.MustData(td)
	g.add(b, e)
}

// churn is a member leaving their home group, or (half the time, when
// someone has left) one who left coming back.
func (g *gen) churn(b *brand, k int, at int64) {
	if len(b.outList) > 0 && g.r.IntN(2) == 0 {
		i := g.r.IntN(len(b.outList))
		k = b.outList[i]
		b.outList[i] = b.outList[len(b.outList)-1]
		b.outList = b.outList[:len(b.outList)-1]
		b.outAt[k], b.lastIn[k] = 0, at
		b.touch(k)
		src, jd := g.joinSource(b, at)
		jd.JoinCode, jd.Source = fmt.Sprintf("jc%d", b.home[k]+1), src
		g.add(b, event.Event{Type: event.MemberJoined, Source: event.SourceWeb,
			SourceID: fmt.Sprintf("%sjoin:%d:%d:%d", g.prefix, b.groups[b.home[k]], b.members[k], g.next()), At: store.Time(at),
			MemberID: b.members[k], GroupID: b.groups[b.home[k]], Data: event.MustData(jd)})
		return
	}
	if b.outAt[k] != 0 {
		g.message(b, k, at)
		return
	}
	b.outAt[k] = at
	b.outList = append(b.outList, k)
	b.touch(k)
	g.add(b, event.Event{Type: event.MemberLeft, Source: event.SourceWeb,
		SourceID: fmt.Sprintf("%sleave:%d:%d:%d", g.prefix, b.groups[b.home[k]], b.members[k], g.next()), At: store.Time(at),
		MemberID: b.members[k], GroupID: b.groups[b.home[k]]})
}

// order is an order paid through the shop API: by a member (matched by
// their channel identity) or by a buyer not matched to one; a few are
// refunded two hours later.
func (g *gen) order(b *brand, k int, at int64) {
	o := order{b: b, ext: fmt.Sprintf("%sB%d", g.prefix, g.next()), paid: at, refundEv: -1}
	if g.r.Float64() < MatchedShare {
		o.member = b.members[k]
	}
	o.amount = int64(990 * (1 + g.r.IntN(30)))
	if g.r.IntN(20) == 0 {
		o.amount *= 5 // a few large baskets
	}
	o.ev = g.add(b, event.Event{Type: event.OrderPaid, Source: event.SourceShop, SourceID: "order:" + o.ext, At: store.Time(at), MemberID: o.member})
	if g.r.Float64() < RefundShare {
		o.refundAt = at + int64(2*time.Hour/time.Millisecond)
		o.refundEv = g.add(b, event.Event{Type: event.OrderRefunded, Source: event.SourceShop, At: store.Time(o.refundAt), MemberID: o.member})
	}
	g.pending.orders = append(g.pending.orders, o)
}

// liveEvent is a comment in the live running at `at`, or a member's first
// entry into its room (a member already in writes a comment).
func (g *gen) liveEvent(b *brand, k int, at int64, enter bool) {
	l, ok := b.liveAt(at, int64(3*time.Hour/time.Millisecond))
	if !ok {
		g.vote(b, k, at)
		return
	}
	if enter {
		for try := 0; b.entered[[2]int64{l.id, b.members[k]}] && try < 3; try++ {
			k, _ = g.pickMember(b)
		}
		key := [2]int64{l.id, b.members[k]}
		if !b.entered[key] {
			b.entered[key] = true
			g.add(b, event.Event{Type: event.LiveEntered, Source: event.SourceTrack,
				SourceID: fmt.Sprintf("%senter:%d:%d", g.prefix, l.id, b.members[k]), At: store.Time(at), MemberID: b.members[k],
				Data: event.MustData(event.TrackData{LiveID: l.id})})
			return
		}
	}
	g.add(b, event.Event{Type: event.LiveComment, Source: event.SourceWeb,
		SourceID: fmt.Sprintf("%sl%d:m%d:c%d", g.prefix, l.id, b.members[k], g.next()), At: store.Time(at), MemberID: b.members[k],
		Data: event.MustData(event.MessageData{Text: g.text(), SenderName: b.names[k], ReplyTo: l.id})})
}

// vote is a vote in the day's poll of the member's group.
func (g *gen) vote(b *brand, k int, at int64) {
	at = g.late(at)
	g.add(b, event.Event{Type: event.PollVoted, Source: event.SourceWeb, SourceID: fmt.Sprintf("%svote:%d", g.prefix, g.next()),
		At: store.Time(at), MemberID: b.members[k], GroupID: b.groups[b.home[k]],
		Data: event.MustData(event.PollData{PollID: 1 + at/int64(24*time.Hour/time.Millisecond), Choice: 1 + g.r.IntN(4)})})
}
