package analytics_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/demo"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// This file recomputes every number of the analytics service on the demo
// brand straight from the raw tables (events, orders, order_refunds,
// group_members, member_tags, the campaign and track tables), in plain Go,
// from the definitions the console prints next to each number
// (metric.<key>.def) — not from the rollup tables — and compares.

// demoNow is 23:30 in Shanghai on Monday 23 November 2026; the demo's
// history is the 30 days before (24 October – 22 November).
var demoNow = time.Date(2026, 11, 23, 15, 30, 0, 0, time.UTC)

// rawEvent is one row of the log as the independent computation reads it.
type rawEvent struct {
	id                   int64
	typ                  event.Type
	source, sourceID     string
	at                   int64
	member, group, staff int64
	data                 string
	persona, replyTo     int64
	fromMember           bool
	join                 event.JoinData
	track                event.TrackData
	platformKind         string
	platformCount        int64
}

type rawMembership struct {
	group, member int64
	joined, end   int64 // end: left or removed, math.MaxInt64 when still in
}

type rawOrder struct {
	id, member, amount, paid, refundedTotal int64
	hasMember                               bool
}

type rawRefund struct{ order, amount, at int64 }

type rawAttribution struct{ order, live, content, group, at int64 }

type rawSend struct {
	job, member, group, at int64
	content                int64
}

// rawData is the demo brand's raw tables.
type rawData struct {
	tenant     int64
	loc        *time.Location
	today      analytics.Day
	events     []rawEvent // by id
	byID       map[int64]*rawEvent
	staffTag   map[int64]bool
	channel    map[int64]string // group → channel
	members    []rawMembership
	orders     []rawOrder
	orderByID  map[int64]rawOrder
	refunds    []rawRefund
	attributed []rawAttribution
	sends      []rawSend
	contents   map[int64]bool
	lives      map[int64][3]int64 // id → start, end, created
}

func loadRaw(t *testing.T, db *store.DB, tenantID int64, loc *time.Location, today analytics.Day) *rawData {
	t.Helper()
	r := &rawData{tenant: tenantID, loc: loc, today: today, byID: map[int64]*rawEvent{}, staffTag: map[int64]bool{},
		channel: map[int64]string{}, orderByID: map[int64]rawOrder{}, contents: map[int64]bool{}, lives: map[int64][3]int64{}}
	query := func(q string, scan func(rows *sql.Rows) error, args ...any) {
		t.Helper()
		rows, err := db.R.Query(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	query(`SELECT id, type, source, source_id, at, COALESCE(member_id, 0), COALESCE(group_id, 0), COALESCE(staff_id, 0), data
		FROM events WHERE tenant_id = $1 ORDER BY id`, func(rows *sql.Rows) error {
		var e rawEvent
		var typ string
		if err := rows.Scan(&e.id, &typ, &e.source, &e.sourceID, &e.at, &e.member, &e.group, &e.staff, &e.data); err != nil {
			return err
		}
		e.typ = event.Type(typ)
		var m event.MessageData
		_ = json.Unmarshal([]byte(e.data), &m)
		e.persona, e.replyTo, e.fromMember = m.PersonaID, m.ReplyTo, m.FromMember
		_ = json.Unmarshal([]byte(e.data), &e.join)
		_ = json.Unmarshal([]byte(e.data), &e.track)
		var p event.LivePlatformData
		_ = json.Unmarshal([]byte(e.data), &p)
		e.platformKind, e.platformCount = p.Kind, p.Count
		r.events = append(r.events, e)
		return nil
	}, tenantID)
	for i := range r.events {
		r.byID[r.events[i].id] = &r.events[i]
	}
	query(`SELECT member_id FROM member_tags WHERE tenant_id = $1 AND tag = $2`, func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		r.staffTag[id] = true
		return err
	}, tenantID, analytics.StaffTag)
	query(`SELECT id, channel FROM community_groups WHERE tenant_id = $1`, func(rows *sql.Rows) error {
		var id int64
		var ch string
		err := rows.Scan(&id, &ch)
		r.channel[id] = ch
		return err
	}, tenantID)
	query(`SELECT group_id, member_id, joined_at, left_at, removed_at FROM group_members WHERE tenant_id = $1`, func(rows *sql.Rows) error {
		var m rawMembership
		var left, removed sql.NullInt64
		if err := rows.Scan(&m.group, &m.member, &m.joined, &left, &removed); err != nil {
			return err
		}
		m.end = math.MaxInt64
		if left.Valid {
			m.end = left.Int64
		}
		if removed.Valid && removed.Int64 < m.end {
			m.end = removed.Int64
		}
		r.members = append(r.members, m)
		return nil
	}, tenantID)
	query(`SELECT id, member_id, amount_minor, paid_at, refunded_minor FROM orders WHERE tenant_id = $1`, func(rows *sql.Rows) error {
		var o rawOrder
		var member sql.NullInt64
		if err := rows.Scan(&o.id, &member, &o.amount, &o.paid, &o.refundedTotal); err != nil {
			return err
		}
		o.member, o.hasMember = member.Int64, member.Valid
		r.orders = append(r.orders, o)
		r.orderByID[o.id] = o
		return nil
	}, tenantID)
	query(`SELECT order_id, amount_minor, refunded_at FROM order_refunds WHERE tenant_id = $1`, func(rows *sql.Rows) error {
		var f rawRefund
		err := rows.Scan(&f.order, &f.amount, &f.at)
		r.refunds = append(r.refunds, f)
		return err
	}, tenantID)
	query(`SELECT order_id, live_id, content_id, group_id, at FROM order_attribution WHERE tenant_id = $1`, func(rows *sql.Rows) error {
		var a rawAttribution
		err := rows.Scan(&a.order, &a.live, &a.content, &a.group, &a.at)
		r.attributed = append(r.attributed, a)
		return err
	}, tenantID)
	query(`SELECT s.job_id, s.member_id, s.group_id, s.sent_at, j.content_id FROM campaign_sends s
		JOIN campaign_jobs j ON j.id = s.job_id WHERE s.tenant_id = $1 AND s.outcome = 'sent'`, func(rows *sql.Rows) error {
		var s rawSend
		err := rows.Scan(&s.job, &s.member, &s.group, &s.at, &s.content)
		r.sends = append(r.sends, s)
		return err
	}, tenantID)
	query(`SELECT id FROM campaign_content WHERE tenant_id = $1`, func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		r.contents[id] = true
		return err
	}, tenantID)
	query(`SELECT id, started_at, ended_at, created_at FROM lives WHERE tenant_id = $1`, func(rows *sql.Rows) error {
		var id int64
		var v [3]int64
		err := rows.Scan(&id, &v[0], &v[1], &v[2])
		r.lives[id] = v
		return err
	}, tenantID)
	return r
}

// day is the tenant-local day of a Unix ms instant, computed from the
// calendar date (not through analytics.DayOf).
func (r *rawData) day(ms int64) analytics.Day {
	y, m, d := time.UnixMilli(ms).In(r.loc).Date()
	return analytics.Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// bounds is the period's first instant and the one after its end (ms).
func (r *rawData) bounds(p analytics.Period) (int64, int64) {
	start := func(d analytics.Day) int64 {
		y, m, dd := time.Unix(int64(d)*86400, 0).UTC().Date()
		return time.Date(y, m, dd, 0, 0, 0, 0, r.loc).UnixMilli()
	}
	return start(p.From), start(p.To)
}

// inScope: a row of group g counts under f (without a filter, rows
// outside any group count too).
func (r *rawData) inScope(f analytics.Filter, g int64) bool {
	switch {
	case f.GroupID != 0:
		return g == f.GroupID
	case f.Channel != "":
		ch, ok := r.channel[g]
		return ok && (ch == f.Channel || strings.HasPrefix(ch, f.Channel+"/"))
	}
	return true
}

// brand: the message is the brand's — a scheduled post (outbox), a
// staff member's, a persona's, one without a member, or a staff-tagged
// account's.
func (r *rawData) brand(e *rawEvent) bool {
	return e.source == event.SourceOutbox || e.staff != 0 || e.persona != 0 || e.member == 0 || r.staffTag[e.member]
}

// author identifies who wrote a message, for "another author's".
func (r *rawData) author(e *rawEvent) string {
	if e.member != 0 && e.staff == 0 && e.persona == 0 && e.source != event.SourceOutbox {
		return fmt.Sprintf("m%d", e.member)
	}
	return fmt.Sprintf("b%d:%d", e.staff, e.persona)
}

func (r *rawData) groupMessage(e *rawEvent) bool { return e.typ == event.Message && e.group != 0 }

// actionTypes are what a member does (metric.active_members.def: a
// message, a check-in, a click, a vote, a live comment, a claim, an order…).
var actionTypes = map[event.Type]bool{
	event.CheckedIn: true, event.LinkClicked: true, event.LiveEntered: true, event.LiveComment: true,
	event.PollVoted: true, event.PromptEntry: true, event.WishAdded: true, event.RewardRedeemed: true,
	event.FlashClaimed: true, event.ChainJoined: true, event.PresaleReserved: true, event.CouponClaimed: true,
	event.OrderPaid: true, event.LiveMemberLiked: true,
}

// action is the member and the group (0: outside groups) of an event that
// is a member doing something, ok false for other events.
func (r *rawData) action(e *rawEvent) (member, group int64, ok bool) {
	switch {
	case e.typ == event.Message:
		if e.group == 0 || r.brand(e) {
			return 0, 0, false
		}
		return e.member, e.group, true
	case e.typ == event.DirectMessage:
		return e.member, 0, e.fromMember && e.member != 0
	case actionTypes[e.typ]:
		return e.member, e.group, e.member != 0
	}
	return 0, 0, false
}

// answered is whom a member message answered: 1 a member, 2 the brand, 0
// nobody. Its reply target, else the group's previous message (by time)
// when that is another author's within 5 minutes.
func (r *rawData) answered(byGroup map[int64][]*rawEvent, e *rawEvent) int {
	kind := func(x *rawEvent) int {
		if r.brand(x) {
			return 2
		}
		return 1
	}
	if e.replyTo != 0 {
		if x, ok := r.byID[e.replyTo]; ok {
			return kind(x)
		}
	}
	list := byGroup[e.group]
	i := sort.Search(len(list), func(i int) bool {
		return list[i].at > e.at || (list[i].at == e.at && list[i].id >= e.id)
	})
	if i == 0 {
		return 0
	}
	prev := list[i-1]
	if r.author(prev) == r.author(e) || e.at-prev.at > int64(analytics.TurnWindow/time.Millisecond) {
		return 0
	}
	return kind(prev)
}

func (r *rawData) messagesByGroup() map[int64][]*rawEvent {
	out := map[int64][]*rawEvent{}
	for i := range r.events {
		e := &r.events[i]
		if r.groupMessage(e) {
			out[e.group] = append(out[e.group], e)
		}
	}
	for _, l := range out {
		sort.Slice(l, func(i, j int) bool { return l[i].at < l[j].at || (l[i].at == l[j].at && l[i].id < l[j].id) })
	}
	return out
}

// firstJoins is each member's earliest join: its event.
func (r *rawData) firstJoins() map[int64]*rawEvent {
	out := map[int64]*rawEvent{}
	for i := range r.events {
		e := &r.events[i]
		if e.typ != event.MemberJoined || e.member == 0 {
			continue
		}
		if f, ok := out[e.member]; !ok || e.at < f.at {
			out[e.member] = e
		}
	}
	return out
}

// membersIn is the distinct members of f's groups at some time in
// [from, to] (a membership that began before to and had not ended
// before from).
func (r *rawData) membersIn(f analytics.Filter, from, to int64) int64 {
	set := map[int64]bool{}
	for _, m := range r.members {
		if m.group == 0 || !r.inScope(f, m.group) {
			continue
		}
		if m.joined < to && m.end >= from {
			set[m.member] = true
		}
	}
	return int64(len(set))
}

func ratio(num, den int64) analytics.Value {
	return analytics.Value{Num: float64(num), Den: float64(den), Ratio: true}
}

// overview recomputes every metric of Defs for f.
func (r *rawData) overview(f analytics.Filter, funnel analytics.Funnel, content [2]int64) map[string]analytics.Value {
	p := f.Period
	from, to := r.bounds(p)
	days := int64(max(min(p.To, r.today+1)-p.From, 0)) // the days begun
	byGroup := r.messagesByGroup()
	var joins, leaves, memberMsgs, allMsgs, brandMsgs, toMember, toBrand, checkins, clicks int64
	active := map[int64]bool{}
	activeDays := map[[2]int64]bool{}
	posters := map[int64]bool{}
	for i := range r.events {
		e := &r.events[i]
		d := r.day(e.at)
		if !p.Contains(d) {
			continue
		}
		if m, g, ok := r.action(e); ok && r.inScope(f, g) {
			active[m] = true
			activeDays[[2]int64{int64(d), m}] = true
		}
		if !r.inScope(f, e.group) {
			continue
		}
		switch e.typ {
		case event.MemberJoined:
			joins++
		case event.MemberLeft, event.MemberRemoved:
			leaves++
		case event.CheckedIn:
			checkins++
		case event.LinkClicked:
			clicks++
		case event.Message:
			if e.group == 0 {
				continue
			}
			allMsgs++
			if r.brand(e) {
				brandMsgs++
				continue
			}
			memberMsgs++
			posters[e.member] = true
			switch r.answered(byGroup, e) {
			case 1:
				toMember++
			case 2:
				toBrand++
			}
		}
	}
	var newMembers int64
	for _, e := range r.firstJoins() {
		if p.Contains(r.day(e.at)) && r.inScope(f, e.group) {
			newMembers++
		}
	}
	members := r.membersIn(f, from, to)
	atStart := r.membersIn(f, from, from)

	// Results: orders paid in the period (with a group or channel filter,
	// those of members of those groups).
	inGroups := map[int64]bool{}
	for _, m := range r.members {
		if (f.GroupID != 0 || f.Channel != "") && r.inScope(f, m.group) {
			inGroups[m.member] = true
		}
	}
	keep := func(o rawOrder) bool {
		return f.GroupID == 0 && f.Channel == "" || o.hasMember && inGroups[o.member]
	}
	var orders, paid, refunded int64
	perBuyer := map[int64]int64{}
	for _, o := range r.orders {
		if o.paid < from || o.paid >= to || !keep(o) {
			continue
		}
		orders++
		paid += o.amount
		if o.hasMember {
			perBuyer[o.member]++
		}
	}
	for _, rf := range r.refunds {
		if rf.at >= from && rf.at < to && keep(r.orderByID[rf.order]) {
			refunded += rf.amount
		}
	}
	var repeat, memberBuyers int64
	for m, n := range perBuyer {
		if n >= 2 {
			repeat++
		}
		for _, gm := range r.members {
			if gm.member == m && r.inScope(f, gm.group) && gm.joined < to && gm.end >= from {
				memberBuyers++
				break
			}
		}
	}
	// Repurchase cycle: the median gap (days) of consecutive orders of a
	// buyer of the period whose later order is in the period.
	var gaps []float64
	byMember := map[int64][]int64{}
	for _, o := range r.orders {
		if o.hasMember && perBuyer[o.member] > 0 && o.paid < to {
			byMember[o.member] = append(byMember[o.member], o.paid)
		}
	}
	for _, list := range byMember {
		slices.Sort(list)
		for i := 1; i < len(list); i++ {
			if list[i] >= from {
				gaps = append(gaps, float64(list[i]-list[i-1])/86400000)
			}
		}
	}
	cycle := analytics.Value{Ratio: true}
	if len(gaps) > 0 {
		slices.Sort(gaps)
		n := len(gaps)
		med := gaps[n/2]
		if n%2 == 0 {
			med = (gaps[n/2-1] + gaps[n/2]) / 2
		}
		cycle = analytics.Value{Num: med}
	}
	return map[string]analytics.Value{
		"joins":             {Num: float64(joins)},
		"new_members":       {Num: float64(newMembers)},
		"returning_members": {Num: float64(max(joins-newMembers, 0))},
		"leaves":            {Num: float64(leaves)},
		"growth_rate":       ratio(joins-leaves, atStart),
		"active_members":    {Num: float64(len(active))},
		"dau":               ratio(int64(len(activeDays)), days),
		"member_messages":   {Num: float64(memberMsgs)},
		"messages_per_day":  ratio(memberMsgs, days),
		"interaction_rate":  ratio(int64(len(posters)), members),
		"m2m_ratio":         ratio(toMember, toMember+toBrand),
		"brand_share":       ratio(brandMsgs, allMsgs),
		"checkin_rate":      ratio(checkins, members*days),
		"clicks":            {Num: float64(clicks)},
		"ctr":               ratio(content[0], content[1]),
		"acquisition_rate":  ratio(funnel.Steps[1].Members, funnel.Steps[0].Members),
		"orders":            {Num: float64(orders)},
		"gmv":               {Num: float64(paid - refunded)},
		"aov":               ratio(paid, orders),
		"buyers":            {Num: float64(len(perBuyer))},
		"conversion_rate":   ratio(memberBuyers, members),
		"repurchase_rate":   ratio(repeat, int64(len(perBuyer))),
		"repurchase_cycle":  cycle,
	}
}

// contentTotals is the clicks on pushed content and its reach over the
// period (metric.ctr.def): clicks of tracked links of a content item;
// reach: the members of the group a post went to when it was sent, or the
// member a private message went to.
func (r *rawData) contentTotals(p analytics.Period) [2]int64 {
	from, to := r.bounds(p)
	var clicks, reach int64
	for i := range r.events {
		e := &r.events[i]
		if e.typ == event.LinkClicked && e.track.ContentID != 0 && r.contents[e.track.ContentID] && p.Contains(r.day(e.at)) {
			clicks++
		}
	}
	for _, s := range r.sends {
		if s.at < from || s.at >= to || !r.contents[s.content] {
			continue
		}
		if s.member != 0 {
			reach++
			continue
		}
		for _, m := range r.members {
			if m.group == s.group && m.joined <= s.at && m.end > s.at {
				reach++
			}
		}
	}
	return [2]int64{clicks, reach}
}

// funnel recomputes one live's funnel (Funnel's doc comment).
func (r *rawData) funnel(liveID int64, now int64) [5]int64 {
	lv := r.lives[liveID]
	start, end := lv[0], lv[1]
	if end == 0 {
		end = now
	}
	const day = int64(24 * time.Hour / time.Millisecond)
	var peak int64
	entered, joined, clicked := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for i := range r.events {
		e := &r.events[i]
		switch {
		case e.typ == event.LivePlatform && e.source == fmt.Sprintf("liveapi:%d", liveID) && e.platformKind == "viewers":
			peak = max(peak, e.platformCount)
		case e.typ == event.LiveEntered && e.source == event.SourceTrack && strings.HasPrefix(e.sourceID, fmt.Sprintf("enter:%d:", liveID)) && e.member != 0:
			entered[e.member] = true
		case e.typ == event.MemberJoined && e.join.LiveID == liveID && e.at >= start && e.at < end+day && e.member != 0:
			joined[e.member] = true
		case e.typ == event.LinkClicked && e.track.LiveID == liveID && e.at >= start-day && e.at < end+day && e.member != 0:
			clicked[e.member] = true
		}
	}
	audience := map[int64]bool{}
	for _, s := range []map[int64]bool{entered, joined, clicked} {
		for m := range s {
			audience[m] = true
		}
	}
	bought, count := map[int64]bool{}, map[int64]int{}
	for _, o := range r.orders {
		if !o.hasMember || !audience[o.member] || o.paid < start {
			continue
		}
		if o.paid < end+day {
			bought[o.member] = true
		}
		if o.paid < start+30*day {
			count[o.member]++
		}
	}
	var repeat int64
	for m := range bought {
		if count[m] >= 2 {
			repeat++
		}
	}
	return [5]int64{max(peak, int64(len(entered))), int64(len(joined)), int64(len(clicked)), int64(len(bought)), repeat}
}

// series recomputes the daily metrics day by day: each day is a period
// of its own (dau: that day's active members).
func (r *rawData) series(f analytics.Filter) map[string][]analytics.Value {
	out := map[string][]analytics.Value{}
	for i := 0; i < f.Period.Days(); i++ {
		d := f.Period.From + analytics.Day(i)
		one := f
		one.Period = analytics.Period{From: d, To: d + 1}
		v := r.overview(one, analytics.Funnel{Steps: make([]analytics.FunnelStep, 2)}, [2]int64{})
		v["dau"] = analytics.Value{Num: v["active_members"].Num}
		for k, x := range v {
			out[k] = append(out[k], x)
		}
	}
	return out
}

func sameValue(a, b analytics.Value) bool {
	if a.OK() != b.OK() {
		return false
	}
	if !a.OK() {
		return true
	}
	return math.Abs(a.Float()-b.Float()) < 1e-9
}

func show(v analytics.Value) string {
	if !v.OK() {
		return "—"
	}
	if v.Ratio {
		return fmt.Sprintf("%g/%g=%.6f", v.Num, v.Den, v.Float())
	}
	return fmt.Sprintf("%g", v.Num)
}

// seedDemo seeds the demo brand with every optional part, as `liveloop
// demo` does, and rolls it up.
func seedDemoBrand(t *testing.T, db *store.DB) (tenant.Tenant, *analytics.Service) {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	d := demo.Deps{DB: db, Tenants: tenant.NewService(db), Members: member.NewService(db, log),
		Community: community.NewService(db, log), Log: log, Bot: runner.NewStore(db), Loyalty: loyalty.NewService(db, log),
		Polls: poll.New(db, log), Lives: live.New(db, log), Campaigns: campaign.New(db, func() time.Time { return demoNow })}
	res, _, err := demo.Seed(ctx, d, 7, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
		t.Fatal(err)
	}
	svc := analytics.New(db)
	svc.SetClock(func() time.Time { return demoNow })
	return res.Tenant, svc
}

// TestIndependentDemo compares Overview, Series, Sources, Cohorts, the
// funnel of the demo's past live, the heatmap and attribution with the
// independent computation, for several periods and filters.
func TestIndependentDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tn, svc := seedDemoBrand(t, db)
		loc := tn.Location()
		today := analytics.DayOf(demoNow, loc)
		raw := loadRaw(t, db, tn.ID, loc, today)
		var groups []int64
		for g := range raw.channel {
			groups = append(groups, g)
		}
		slices.Sort(groups)
		oct27, _ := analytics.ParseDay("2026-10-27")
		nov5, _ := analytics.ParseDay("2026-11-05")
		filters := map[string]analytics.Filter{
			"last 7":        {Period: analytics.LastDays(today, 7)},
			"last 30":       {Period: analytics.LastDays(today, 30)},
			"month end":     {Period: analytics.Period{From: oct27, To: nov5}},
			"one group":     {Period: analytics.LastDays(today, 30), GroupID: groups[len(groups)-1]},
			"first group":   {Period: analytics.Period{From: oct27, To: nov5}, GroupID: groups[0]},
			"channel web":   {Period: analytics.LastDays(today, 30), Channel: "web"},
			"channel tg":    {Period: analytics.LastDays(today, 30), Channel: "telegram"},
			"previous 30":   {Period: analytics.LastDays(today, 30).Previous()},
			"last 14 to -1": {Period: analytics.LastDays(today-1, 14)},
		}
		for name, f := range filters {
			f.TenantID, f.Loc = tn.ID, loc
			got, err := svc.Overview(ctx, f)
			if err != nil {
				t.Fatalf("%s: overview: %v", name, err)
			}
			fn, err := svc.Funnel(ctx, f, 0)
			if err != nil {
				t.Fatal(err)
			}
			// The funnel of the period's lives, recomputed live by live.
			var wantFn [5]int64
			from, to := raw.bounds(f.Period)
			for id, lv := range raw.lives {
				if lv[0] > 0 && lv[0] >= from && lv[0] < to {
					one := raw.funnel(id, store.Millis(demoNow))
					for i := range wantFn {
						wantFn[i] += one[i]
					}
				}
			}
			for i, st := range fn.Steps {
				if st.Members != wantFn[i] {
					t.Errorf("%s: funnel %s = %d, independently %d", name, st.Key, st.Members, wantFn[i])
				}
			}
			want := raw.overview(f, fn, raw.contentTotals(f.Period))
			for _, def := range analytics.Defs {
				if !sameValue(got[def.Key], want[def.Key]) {
					t.Errorf("%s: %s = %s, independently %s", name, def.Key, show(got[def.Key]), show(want[def.Key]))
				}
			}
			if name == "last 30" && (want["orders"].Num == 0 || want["member_messages"].Num == 0 || want["joins"].Num == 0 ||
				want["clicks"].Num == 0 || !want["m2m_ratio"].OK() || !want["repurchase_cycle"].OK()) {
				t.Fatalf("the demo's last 30 days are too empty to check: %v", want)
			}
			series := raw.series(f)
			for _, def := range analytics.Defs {
				if !def.Daily {
					continue
				}
				pts, err := svc.Series(ctx, f, def.Key)
				if err != nil {
					t.Fatalf("%s: series %s: %v", name, def.Key, err)
				}
				ws := series[def.Key]
				if len(pts) != len(ws) {
					t.Fatalf("%s: series %s has %d days, want %d", name, def.Key, len(pts), len(ws))
				}
				for i, pt := range pts {
					if pt.Day != f.Period.From+analytics.Day(i) || !sameValue(pt.Value, ws[i]) {
						t.Errorf("%s: series %s on %s = %s, independently %s", name, def.Key, pt.Day, show(pt.Value), show(ws[i]))
					}
				}
			}
			if name == "last 30" {
				// None of the checks below is vacuous on the demo.
				src, _ := svc.Sources(ctx, f)
				coh, _ := svc.Cohorts(ctx, f)
				heat, _ := svc.Heatmap(ctx, f)
				lives, pushes, _, _ := svc.Attribution(ctx, f)
				health, _ := svc.Health(ctx, f)
				// (The demo's campaigns are all ahead: the content table's
				// sends and replies are 0 here; TestContentHandChecked
				// covers them.)
				if len(src) < 2 || len(coh) < 4 || heat.Total == 0 || len(lives) == 0 || len(pushes) == 0 || len(health) < 4 || wantFn[0] == 0 {
					t.Fatalf("the demo's last 30 days lack data: %d sources, %d cohorts, heatmap %d, %d lives %d pushes, %d groups' health, "+
						"funnel %v", len(src), len(coh), heat.Total, len(lives), len(pushes), len(health), wantFn)
				}
			}
			checkSources(t, name, svc, raw, f)
			checkCohorts(t, name, svc, raw, f)
			checkHeatmap(t, name, svc, raw, f)
			checkAttribution(t, name, svc, raw, f)
			checkHealth(t, name, svc, raw, f)
			checkContent(t, name, db, svc, raw, f)
		}
		// The demo's past live (last Friday's), on its own.
		for id, lv := range raw.lives {
			if lv[0] == 0 {
				continue
			}
			fn, err := svc.Funnel(ctx, analytics.Filter{TenantID: tn.ID, Loc: loc}, id)
			if err != nil {
				t.Fatal(err)
			}
			want := raw.funnel(id, store.Millis(demoNow))
			for i, st := range fn.Steps {
				if st.Members != want[i] {
					t.Errorf("live %d: funnel %s = %d, independently %d", id, st.Key, st.Members, want[i])
				}
			}
		}
	})
}

func checkSources(t *testing.T, name string, svc *analytics.Service, raw *rawData, f analytics.Filter) {
	t.Helper()
	got, err := svc.Sources(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	src := func(j event.JoinData) string {
		switch {
		case j.Source != "":
			return j.Source
		case j.ReferrerID != 0:
			return "referral"
		case j.LiveID != 0:
			return "live"
		}
		return "direct"
	}
	want := map[string]*analytics.SourceRow{}
	row := func(s string) *analytics.SourceRow {
		if want[s] == nil {
			want[s] = &analytics.SourceRow{Source: s}
		}
		return want[s]
	}
	prev := f.Period.Previous()
	for i := range raw.events {
		e := &raw.events[i]
		if e.typ != event.MemberJoined || !raw.inScope(f, e.group) {
			continue
		}
		switch d := raw.day(e.at); {
		case f.Period.Contains(d):
			row(src(e.join)).Joins++
		case prev.Contains(d):
			row(src(e.join)).Prev++
		}
	}
	for _, e := range raw.firstJoins() {
		if f.Period.Contains(raw.day(e.at)) && raw.inScope(f, e.group) {
			row(src(e.join)).New++
		}
	}
	n := 0
	for _, w := range want {
		w.Returning = max(w.Joins-w.New, 0)
		if w.Joins > 0 || w.New > 0 {
			n++
		}
	}
	if len(got) != n {
		t.Errorf("%s: %d sources, independently %d", name, len(got), n)
	}
	for _, g := range got {
		if w := want[g.Source]; w == nil || *w != g {
			t.Errorf("%s: source %+v, independently %+v", name, g, w)
		}
	}
}

func checkCohorts(t *testing.T, name string, svc *analytics.Service, raw *rawData, f analytics.Filter) {
	t.Helper()
	got, err := svc.Cohorts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	// Who did anything on which day (any group).
	did := map[[2]int64]bool{}
	for i := range raw.events {
		if m, _, ok := raw.action(&raw.events[i]); ok {
			did[[2]int64{m, int64(raw.day(raw.events[i].at))}] = true
		}
	}
	want := map[analytics.Day]*analytics.Cohort{}
	for m, e := range raw.firstJoins() {
		if !raw.inScope(f, e.group) {
			continue
		}
		first := raw.day(e.at)
		week := analytics.Week(first).From
		if !f.Period.Contains(week) {
			continue // the cohorts whose Monday is in the period
		}
		c := want[week]
		if c == nil {
			c = &analytics.Cohort{Week: week}
			want[week] = c
		}
		c.Members++
		for _, x := range []struct {
			n    analytics.Day
			into *analytics.Retained
		}{{1, &c.D1}, {7, &c.D7}, {30, &c.D30}} {
			if first+x.n < raw.today { // day N is over
				x.into.Eligible++
				if did[[2]int64{m, int64(first + x.n)}] {
					x.into.Active++
				}
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d cohorts, independently %d", name, len(got), len(want))
	}
	for _, g := range got {
		if w := want[g.Week]; w == nil || *w != g {
			t.Errorf("%s: cohort %+v, independently %+v", name, g, w)
		}
	}
}

func checkHeatmap(t *testing.T, name string, svc *analytics.Service, raw *rawData, f analytics.Filter) {
	t.Helper()
	got, err := svc.Heatmap(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var want [7][24]int64
	for i := range raw.events {
		e := &raw.events[i]
		if e.group == 0 || !raw.inScope(f, e.group) || !f.Period.Contains(raw.day(e.at)) {
			continue
		}
		if (e.typ == event.Message && !raw.brand(e)) || e.typ == event.LinkClicked {
			lt := time.UnixMilli(e.at).In(raw.loc)
			want[lt.Weekday()][lt.Hour()]++
		}
	}
	if got.Cells != want {
		t.Errorf("%s: heatmap %v, independently %v", name, got.Cells, want)
	}
}

func checkAttribution(t *testing.T, name string, svc *analytics.Service, raw *rawData, f analytics.Filter) {
	t.Helper()
	lives, pushes, groups, err := svc.Attribution(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	from, to := raw.bounds(f.Period)
	type sum struct{ orders, gmv int64 }
	want := map[string]sum{}
	for _, a := range raw.attributed {
		if a.at < from || a.at >= to {
			continue
		}
		if (f.GroupID != 0 || f.Channel != "") && (a.group == 0 || !raw.inScope(f, a.group)) {
			continue
		}
		o := raw.orderByID[a.order]
		net := o.amount - o.refundedTotal
		for _, k := range []string{fmt.Sprintf("live:%d", a.live), fmt.Sprintf("content:%d", a.content), fmt.Sprintf("group:%d", a.group)} {
			if strings.HasSuffix(k, ":0") {
				continue
			}
			s := want[k]
			s.orders++
			s.gmv += net
			want[k] = s
		}
	}
	n := 0
	for _, list := range [][]analytics.Attributed{lives, pushes, groups} {
		for _, a := range list {
			n++
			if w := want[a.Key]; w.orders != a.Orders || w.gmv != a.GMV {
				t.Errorf("%s: attributed %s = %d orders %d, independently %+v", name, a.Key, a.Orders, a.GMV, w)
			}
		}
	}
	if n != len(want) {
		t.Errorf("%s: %d attributed rows, independently %d", name, n, len(want))
	}
}

// TestCohortIsTheWholeWeek: a cohort is the members whose first join was
// in its week, even when the period ends before the week does. The
// period Mon 2 – Tue 3 (To the 4th) holds the Monday of the week of the
// 2nd, whose cohort is B, C, D, E (TestSeriesAndCohorts), not only the
// two who joined on the period's days (B, C).
func TestCohortIsTheWholeWeek(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.seed()
		f.catchup()
		flt := f.filter(0, "")
		flt.Period.To = flt.Period.From + 2
		cohorts, err := f.svc.Cohorts(context.Background(), flt)
		if err != nil {
			t.Fatal(err)
		}
		// As over the whole week: 4 members, 3 active the day after.
		if len(cohorts) != 1 || cohorts[0].Members != 4 || cohorts[0].D1 != (analytics.Retained{Active: 3, Eligible: 4}) {
			t.Fatalf("cohorts %+v, want the week's 4 members", cohorts)
		}
	})
}

// TestPerDayOverTheDaysBegun: "this week" on its Saturday evening is 6
// days old, and a per-day average is over those 6 days, not over the
// Sunday that has not come (the dashboard's "this week" and "this
// month" presets end in the future).
func TestPerDayOverTheDaysBegun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.seed()
		f.catchup()
		f.svc.SetClock(func() time.Time { return at(7, 20, 0) })
		got, err := f.svc.Overview(context.Background(), f.filter(0, ""))
		if err != nil {
			t.Fatal(err)
		}
		// The week's numbers (TestOverviewHandChecked) over Mon–Sat:
		// 11 member-days, 8 member messages, 3 check-ins of 6 members.
		checkValues(t, got, map[string]float64{"dau": 11.0 / 6, "messages_per_day": 8.0 / 6, "checkin_rate": 3.0 / 36})
		// A period that has not begun has no days: not a number.
		later := f.filter(0, "")
		later.Period = analytics.Period{From: later.Period.To, To: later.Period.To + 7}
		got, err = f.svc.Overview(context.Background(), later)
		if err != nil {
			t.Fatal(err)
		}
		checkValues(t, got, map[string]float64{"dau": math.NaN(), "messages_per_day": math.NaN(), "checkin_rate": math.NaN()})
	})
}

// checkHealth recomputes each group's health signals for the period
// (HealthSignals' doc comments) and the class and score from them.
func checkHealth(t *testing.T, name string, svc *analytics.Service, raw *rawData, f analytics.Filter) {
	t.Helper()
	got, err := svc.Health(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	from, to := raw.bounds(f.Period)
	byGroup := raw.messagesByGroup()
	for _, h := range got {
		var msgs, brand, persona, memberMsgs, toMember, toBrand, brandToMember int64
		talk := map[int64]int64{}
		for _, e := range byGroup[h.GroupID] {
			if !f.Period.Contains(raw.day(e.at)) {
				continue
			}
			msgs++
			kind := raw.answered(byGroup, e)
			if raw.brand(e) {
				brand++
				if e.persona != 0 {
					persona++
				}
				if kind == 1 {
					brandToMember++
				}
				continue
			}
			memberMsgs++
			talk[e.member]++
			switch kind {
			case 1:
				toMember++
			case 2:
				toBrand++
			}
		}
		var counts []int64
		for _, n := range talk {
			counts = append(counts, n)
		}
		slices.Sort(counts)
		slices.Reverse(counts)
		var top3 int64
		for i := 0; i < len(counts) && i < 3; i++ {
			top3 += counts[i]
		}
		var members int64
		for _, m := range raw.members {
			if m.group == h.GroupID && m.joined < to && m.end >= from {
				members++
			}
		}
		div := func(n, d int64) float64 {
			if d == 0 {
				return 0
			}
			return float64(n) / float64(d)
		}
		want := analytics.HealthSignals{Messages: msgs, MemberMessages: memberMsgs, BrandShare: div(brand, msgs),
			PersonaShare: div(persona, msgs), MemberToMember: div(toMember, toMember+toBrand), MemberToBrand: div(toBrand, toMember+toBrand),
			Top3Share: div(top3, memberMsgs), Posters: int64(len(talk)), Members: members,
			BrandAnswered: math.Min(1, div(brandToMember, memberMsgs))}
		g := h.Signals
		if g.Messages != want.Messages || g.MemberMessages != want.MemberMessages || g.Posters != want.Posters || g.Members != want.Members ||
			math.Abs(g.BrandShare-want.BrandShare) > 1e-9 || math.Abs(g.PersonaShare-want.PersonaShare) > 1e-9 ||
			math.Abs(g.MemberToMember-want.MemberToMember) > 1e-9 || math.Abs(g.MemberToBrand-want.MemberToBrand) > 1e-9 ||
			math.Abs(g.Top3Share-want.Top3Share) > 1e-9 || math.Abs(g.BrandAnswered-want.BrandAnswered) > 1e-9 {
			t.Errorf("%s: group %d health signals %+v, independently %+v", name, h.GroupID, g, want)
		}
		if class, _ := analytics.Classify(want); h.Class != class || h.Score != analytics.Score(want) {
			t.Errorf("%s: group %d class %s score %d, independently %s %d", name, h.GroupID, h.Class, h.Score, class, analytics.Score(want))
		}
	}
}

// TestDaylightSavingDays: a tenant in New York has a 25-hour day (Sunday
// 1 November 2026, 01:00–02:00 twice) and a 23-hour one (Sunday 8 March
// 2026, no 02:00). Days, hours and cohorts follow the local clock.
func TestDaylightSavingDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := db.W.ExecContext(ctx, `UPDATE tenants SET timezone = 'America/New_York' WHERE id = $1`, f.tenant); err != nil {
			t.Fatal(err)
		}
		ny, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Skip(err)
		}
		utc := func(s string) time.Time {
			v, err := time.Parse(time.RFC3339, s)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		// B joins at 00:30 EDT on the 1st (04:30 UTC); he talks at
		// 01:30 EDT (05:30 UTC) and C at 01:30 EST (06:30 UTC): both
		// in the local hour 1 of Sunday the 1st; C again at 23:30 EST
		// (04:30 UTC on the 2nd): still the 1st, hour 23. B is back at
		// 00:30 EST on the 2nd (05:30 UTC): his day 1.
		f.join("B", f.g1, utc("2026-11-01T04:30:00Z"), "poster")
		f.say("n1", "B", f.g1, utc("2026-11-01T05:30:00Z"), "")
		f.say("n2", "C", f.g1, utc("2026-11-01T06:30:00Z"), "")
		f.say("n3", "C", f.g1, utc("2026-11-02T04:30:00Z"), "")
		f.say("n4", "B", f.g1, utc("2026-11-02T05:30:00Z"), "")
		f.commerce.SetClock(func() time.Time { return utc("2026-12-31T12:00:00Z") })
		f.order("d1", "A", 1000, utc("2026-11-02T04:45:00Z")) // 23:45 EST on the 1st
		// 8 March: 03:30 EDT is 07:30 UTC (02:00 never came); 23:30 EDT
		// is 03:30 UTC on the 9th.
		f.say("s1", "D", f.g1, utc("2026-03-08T07:30:00Z"), "")
		f.say("s2", "D", f.g1, utc("2026-03-09T03:30:00Z"), "")
		f.catchup()
		f.svc.SetClock(func() time.Time { return utc("2026-12-31T12:00:00Z") })

		nov1 := analytics.DayOf(utc("2026-11-01T12:00:00Z"), ny)
		flt := analytics.Filter{TenantID: f.tenant, Period: analytics.Period{From: nov1, To: nov1 + 2}, Loc: ny}
		msgs, err := f.svc.Series(ctx, flt, "member_messages")
		if err != nil {
			t.Fatal(err)
		}
		gmv, err := f.svc.Series(ctx, flt, "gmv")
		if err != nil {
			t.Fatal(err)
		}
		// The 1st: n1, n2, n3 = 3; the 2nd: n4. The order is the 1st's.
		if msgs[0].Value.Num != 3 || msgs[1].Value.Num != 1 || gmv[0].Value.Num != 1000 || gmv[1].Value.Num != 0 {
			t.Errorf("messages %+v, gmv %+v", msgs, gmv)
		}
		h, err := f.svc.Heatmap(ctx, flt)
		if err != nil {
			t.Fatal(err)
		}
		// Sunday hour 1: n1 and n2; hour 23: n3; Monday hour 0: n4.
		if h.Cells[time.Sunday][1] != 2 || h.Cells[time.Sunday][23] != 1 || h.Cells[time.Monday][0] != 1 || h.Total != 4 {
			t.Errorf("heatmap Sunday %v Monday %v total %d", h.Cells[time.Sunday], h.Cells[time.Monday], h.Total)
		}
		week := analytics.Week(nov1 - 1) // Monday 26 October – Sunday 1 November
		cohorts, err := f.svc.Cohorts(ctx, analytics.Filter{TenantID: f.tenant, Period: week, Loc: ny})
		if err != nil {
			t.Fatal(err)
		}
		if len(cohorts) != 1 || cohorts[0].Members != 1 || cohorts[0].D1 != (analytics.Retained{Active: 1, Eligible: 1}) {
			t.Errorf("cohorts %+v", cohorts)
		}
		mar8 := analytics.DayOf(utc("2026-03-08T12:00:00Z"), ny)
		spring := analytics.Filter{TenantID: f.tenant, Period: analytics.Period{From: mar8, To: mar8 + 1}, Loc: ny}
		h, err = f.svc.Heatmap(ctx, spring)
		if err != nil {
			t.Fatal(err)
		}
		ov, err := f.svc.Overview(ctx, spring)
		if err != nil {
			t.Fatal(err)
		}
		if h.Cells[time.Sunday][3] != 1 || h.Cells[time.Sunday][23] != 1 || h.Total != 2 || ov["member_messages"].Num != 2 {
			t.Errorf("8 March: heatmap %v, member messages %v", h.Cells[time.Sunday], ov["member_messages"])
		}
	})
}

// checkContent recomputes the content table (Content's doc comment) by
// content type and format.
func checkContent(t *testing.T, name string, db *store.DB, svc *analytics.Service, raw *rawData, f analytics.Filter) {
	t.Helper()
	got, err := svc.Content(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	kind := map[int64]string{} // content → "type/format"
	rows, err := db.R.Query(`SELECT id, type, format FROM campaign_content WHERE tenant_id = $1`, raw.tenant)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var typ, format string
		if err := rows.Scan(&id, &typ, &format); err != nil {
			t.Fatal(err)
		}
		kind[id] = typ + "/" + format
	}
	rows.Close()
	jobContent := map[string]int64{} // campaign job key → content
	rows, err = db.R.Query(`SELECT key, content_id FROM campaign_jobs WHERE tenant_id = $1`, raw.tenant)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key string
		var c int64
		if err := rows.Scan(&key, &c); err != nil {
			t.Fatal(err)
		}
		jobContent[key] = c
	}
	rows.Close()
	from, to := raw.bounds(f.Period)
	want := map[string]*analytics.ContentRow{}
	row := func(content int64) *analytics.ContentRow {
		k := kind[content]
		if want[k] == nil {
			typ, format, _ := strings.Cut(k, "/")
			want[k] = &analytics.ContentRow{Type: typ, Format: format}
		}
		return want[k]
	}
	jobs := map[string]map[int64]bool{}
	for _, s := range raw.sends {
		if s.at < from || s.at >= to || kind[s.content] == "" {
			continue
		}
		r := row(s.content)
		if jobs[kind[s.content]] == nil {
			jobs[kind[s.content]] = map[int64]bool{}
		}
		jobs[kind[s.content]][s.job] = true
		r.Sends = int64(len(jobs[kind[s.content]]))
		if s.member != 0 {
			r.Reach++
			continue
		}
		for _, m := range raw.members {
			if m.group == s.group && m.joined <= s.at && m.end > s.at {
				r.Reach++
			}
		}
	}
	// Replies: a member's group message within 30 minutes after the
	// group's latest push of a content item.
	byGroup := raw.messagesByGroup()
	for _, list := range byGroup {
		var push *rawEvent
		for _, e := range list {
			if e.source == event.SourceOutbox && jobContent[e.sourceID] != 0 {
				push = e
				continue
			}
			if raw.brand(e) || push == nil || !f.Period.Contains(raw.day(e.at)) || kind[jobContent[push.sourceID]] == "" {
				continue
			}
			if e.at-push.at <= int64(analytics.ReplyWindow/time.Millisecond) {
				row(jobContent[push.sourceID]).Replies++
			}
		}
	}
	for i := range raw.events {
		e := &raw.events[i]
		if e.typ == event.LinkClicked && kind[e.track.ContentID] != "" && f.Period.Contains(raw.day(e.at)) {
			row(e.track.ContentID).Clicks++
		}
	}
	for _, a := range raw.attributed {
		if a.at >= from && a.at < to && a.content != 0 && kind[a.content] != "" {
			o := raw.orderByID[a.order]
			r := row(a.content)
			r.Orders++
			r.GMV += o.amount - o.refundedTotal
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d content rows, independently %d", name, len(got), len(want))
	}
	for _, g := range got {
		if w := want[g.Type+"/"+g.Format]; w == nil || *w != g {
			t.Errorf("%s: content %+v, independently %+v", name, g, w)
		}
	}
}

// TestLateMessageTakesItsTurn: a message that reaches the log after the
// one that followed it in time (a redelivery, an import, a post recorded
// late) becomes that one's previous message: A at 10:00, B at 10:04,
// then the brand's post of 10:02 arrives. By time, B answered the brand
// (not A) and the brand answered A — whether the late post is rolled up
// in the same batch as B's message, in a later pass, or one event per
// batch.
func TestLateMessageTakesItsTurn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, c := range []struct {
			name  string
			batch int
			split bool // roll up before the late post arrives
		}{{"one batch", 2000, false}, {"later pass", 2000, true}, {"batch of 1", 1, false}} {
			f := newFixture(t, db)
			if _, err := db.W.Exec(`UPDATE tenants SET slug = $1 WHERE id = $2`, fmt.Sprint("late-", c.batch, c.split), f.tenant); err != nil {
				t.Fatal(err)
			}
			f.roll.Batch = c.batch
			f.say("a", "A", f.g1, at(2, 10, 0), "")
			f.say("b", "B", f.g1, at(2, 10, 4), "")
			if c.split {
				f.catchup()
			}
			f.say("post", "", f.g1, at(2, 10, 2), "")
			f.catchup()
			sum := func(metric string) int64 {
				return count(t, db, `SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric = $2`, f.tenant, metric)
			}
			bToMember := count(t, db, `SELECT COALESCE(SUM(to_member), 0) FROM an_member_day WHERE tenant_id = $1 AND member_id = $2`, f.tenant, f.m["B"])
			bToBrand := count(t, db, `SELECT COALESCE(SUM(to_brand), 0) FROM an_member_day WHERE tenant_id = $1 AND member_id = $2`, f.tenant, f.m["B"])
			if sum("to_member") != 0 || sum("to_brand") != 1 || sum("brand_to_member") != 1 || bToMember != 0 || bToBrand != 1 {
				t.Errorf("%s: to_member %d, to_brand %d, brand_to_member %d; B's to_member %d, to_brand %d; want 0 1 1, 0 1",
					c.name, sum("to_member"), sum("to_brand"), sum("brand_to_member"), bToMember, bToBrand)
			}
		}
	})
}
