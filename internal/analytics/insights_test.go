package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// The insights fixture writes the rollup tables directly (the functions
// under test read only those and the groups, memberships, campaign and
// order tables). The brand is in Asia/Shanghai; the reviewed period is
// the week Monday 2 – Sunday 8 March 2026.
//
// Groups: G1 (web, cap 6, created 1 Jan), G2 (web, cap 4, created 20 Feb),
// G3 (telegram/1, cap 500, created 5 Mar), G4 (archived).
// Members m1…m7:
//   - G1: m1…m5 since 1 Jan; m6 from Mon 2 Mar 05:00 local (Sun 1 Mar
//     21:00 UTC); m7 from 1 Jan, left 25 Feb.
//   - G2: m1…m6 since 20 Feb; m6 removed Wed 4 Mar.
//   - G3: m1, m2.
type insFx struct {
	t       *testing.T
	db      *store.DB
	svc     *analytics.Service
	tenant  int64
	other   int64
	loc     *time.Location
	g       [5]int64 // g[1]…g[4]
	m       [8]int64 // m[1]…m[7]
	content [4]int64 // c[1]…c[3]
}

func insLoc(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// insAt is a local time of the fixture in 2026.
func (f *insFx) at(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, f.loc)
}

// day is the tenant day of a March date (0 is 28 February, -1 the 27th).
func (f *insFx) day(d int) int64 { return int64(analytics.DayOf(f.at(time.March, d, 12), f.loc)) }

func (f *insFx) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.W.Exec(q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f *insFx) id(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.W.QueryRow(q+` RETURNING id`, args...).Scan(&id); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func newInsFx(t *testing.T, db *store.DB) *insFx {
	f := &insFx{t: t, db: db, svc: analytics.New(db), loc: insLoc(t)}
	jan1 := store.Millis(f.at(time.January, 1, 9))
	f.tenant = f.id(`INSERT INTO tenants (slug, name, timezone, created_at) VALUES ('ins', 'Ins', 'Asia/Shanghai', $1)`, jan1)
	f.other = f.id(`INSERT INTO tenants (slug, name, timezone, created_at) VALUES ('rival', 'Rival', 'Asia/Shanghai', $1)`, jan1)
	group := func(name, channel string, capacity int, created time.Time) int64 {
		return f.id(`INSERT INTO community_groups (tenant_id, channel, name, kind, capacity, created_at) VALUES ($1, $2, $3, 'vertical', $4, $5)`,
			f.tenant, channel, name, capacity, store.Millis(created))
	}
	f.g[1] = group("G1", "web", 6, f.at(time.January, 1, 9))
	f.g[2] = group("G2", "web", 4, f.at(time.February, 20, 9))
	f.g[3] = group("G3", "telegram/1", 500, f.at(time.March, 5, 9)) // a group of Telegram account 1
	f.g[4] = group("G4", "web", 500, f.at(time.January, 1, 9))
	f.exec(`UPDATE community_groups SET archived_at = $1 WHERE id = $2`, store.Millis(f.at(time.February, 1, 9)), f.g[4])
	for i := 1; i <= 7; i++ {
		f.m[i] = f.id(`INSERT INTO members (tenant_id, display_name, created_at) VALUES ($1, $2, $3)`, f.tenant, fmt.Sprint("m", i), jan1)
	}
	join := func(g, m int64, at time.Time) {
		f.exec(`INSERT INTO group_members (tenant_id, group_id, member_id, joined_at) VALUES ($1, $2, $3, $4)`, f.tenant, g, m, store.Millis(at))
	}
	for i := 1; i <= 5; i++ {
		join(f.g[1], f.m[i], f.at(time.January, 1, 9))
	}
	join(f.g[1], f.m[6], f.at(time.March, 2, 5))
	join(f.g[1], f.m[7], f.at(time.January, 1, 9))
	f.exec(`UPDATE group_members SET left_at = $1 WHERE group_id = $2 AND member_id = $3`, store.Millis(f.at(time.February, 25, 9)), f.g[1], f.m[7])
	for i := 1; i <= 6; i++ {
		join(f.g[2], f.m[i], f.at(time.February, 20, 9))
	}
	f.exec(`UPDATE group_members SET removed_at = $1 WHERE group_id = $2 AND member_id = $3`, store.Millis(f.at(time.March, 4, 9)), f.g[2], f.m[6])
	join(f.g[3], f.m[1], f.at(time.March, 5, 10))
	join(f.g[3], f.m[2], f.at(time.March, 5, 10))
	return f
}

// daily writes an_daily counters of a group on a March day.
func (f *insFx) daily(tenant, group int64, day int, counts map[string]int64) {
	f.t.Helper()
	for metric, v := range counts {
		f.exec(`INSERT INTO an_daily (tenant_id, metric, day, group_id, value) VALUES ($1, $2, $3, $4, $5)`, tenant, metric, f.day(day), group, v)
	}
}

// talk writes the member's an_member_day messages in a group on a day.
func (f *insFx) talk(group int64, day int, member int64, messages int64) {
	f.t.Helper()
	f.exec(`INSERT INTO an_member_day (tenant_id, day, group_id, member_id, actions, messages) VALUES ($1, $2, $3, $4, $5, $5)`,
		f.tenant, f.day(day), group, member, messages)
}

// seedHealth writes the groups' conversation counters.
func (f *insFx) seedHealth() {
	g1, g2 := f.g[1], f.g[2]
	// G1 in the week (Mon 2 and Thu 5 March):
	f.daily(f.tenant, g1, 2, map[string]int64{"messages": 20, "member_messages": 16, "brand_messages": 4, "persona_messages": 2,
		"to_member": 8, "to_brand": 2, "brand_to_member": 3})
	f.daily(f.tenant, g1, 5, map[string]int64{"messages": 20, "member_messages": 18, "brand_messages": 2,
		"to_member": 4, "to_brand": 2, "brand_to_member": 1})
	// Its members: 3 3 3 3 2 2 on the 2nd (16), 3 each on the 5th (18).
	for i, n := range []int64{3, 3, 3, 3, 2, 2} {
		f.talk(g1, 2, f.m[i+1], n)
		f.talk(g1, 5, f.m[i+1], 3)
	}
	// G1 in the week before (Fri 27 Feb): the brand wrote half and
	// answered one of m1's 15 messages.
	f.daily(f.tenant, g1, -1, map[string]int64{"messages": 30, "member_messages": 15, "brand_messages": 15,
		"to_member": 1, "to_brand": 5, "brand_to_member": 1})
	f.talk(g1, -1, f.m[1], 15)
	// G2: the brand's posts only (Tue 3 March).
	f.daily(f.tenant, g2, 3, map[string]int64{"messages": 40, "brand_messages": 40, "persona_messages": 5})
	// After the week, and another brand's counters on G1's id: not counted.
	f.daily(f.tenant, g1, 9, map[string]int64{"messages": 500, "brand_messages": 500})
	f.daily(f.other, g1, 3, map[string]int64{"messages": 900, "brand_messages": 900, "member_messages": 0})
}

func (f *insFx) filter(loc *time.Location) analytics.Filter {
	from := analytics.Day(f.day(2))
	return analytics.Filter{TenantID: f.tenant, Period: analytics.Period{From: from, To: from + 7}, Loc: loc}
}

// weekly flattens a trend: the score, or "-" for a week without messages.
func weekly(ps []analytics.Point) []string {
	var out []string
	for _, p := range ps {
		if !p.Value.OK() {
			out = append(out, "-")
		} else {
			out = append(out, fmt.Sprint(p.Value.Float()))
		}
	}
	return out
}

func TestHealthHandChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newInsFx(t, db)
		f.seedHealth()
		ctx := context.Background()
		got, err := f.svc.Health(ctx, f.filter(f.loc))
		if err != nil {
			t.Fatal(err)
		}
		// G4 was archived before the period: three rows.
		if len(got) != 3 || got[0].GroupID != f.g[1] || got[1].GroupID != f.g[2] || got[2].GroupID != f.g[3] {
			t.Fatalf("groups: %+v", got)
		}
		g1, g2, g3 := got[0], got[1], got[2]

		// G1 in the week: 40 messages, 34 by members, 6 by the brand (2 by
		// personas). Member answers: 12 to members, 4 to the brand. The
		// brand answered members 4 times. Members wrote 6 6 6 6 5 5: the
		// top 3 wrote 18 of 34. Members: m1…m5, m6 (joined in the week);
		// m7 left before it: 6, all of whom wrote.
		s := g1.Signals
		want := analytics.HealthSignals{Messages: 40, MemberMessages: 34, BrandShare: 6.0 / 40, PersonaShare: 2.0 / 40,
			MemberToMember: 12.0 / 16, MemberToBrand: 4.0 / 16, Top3Share: 18.0 / 34, Posters: 6, Members: 6, BrandAnswered: 4.0 / 34}
		if s != want {
			t.Errorf("G1 signals %+v\nwant %+v", s, want)
		}
		// m2m 75 % ≥ 50, top 3 53 % ≤ 60, brand 15 % ≤ 40: spontaneous.
		if g1.Class != analytics.Spontaneous || !slices.Equal(reasonLines(g1.Why), []string{"health.why.member_to_member 75% ≥ 50%",
			"health.why.top3_share 53% ≤ 60%", "health.why.brand_share 15% ≤ 40%"}) {
			t.Errorf("G1: %s %q", g1.Class, reasonLines(g1.Why))
		}
		if !slices.Equal(g1.Reasons, []string{"health.why.member_to_member", "health.why.top3_share", "health.why.brand_share"}) {
			t.Errorf("G1 reason keys %q", g1.Reasons)
		}
		// Score: .35·.75 = .2625; .25·(1 − .15) = .2125; spread .15·16/34 =
		// .070588; participation 6/6 ≥ 20 % → .15; responsiveness (4/34)/.2 =
		// .588235 → .058824. Sum .754412 → 75.
		if g1.Score != 75 {
			t.Errorf("G1 score %d, want 75", g1.Score)
		}
		// The week before: 30 messages, brand 15 (50 % ≥ 40 %), no persona
		// (not scripted), 50 % < 60 % (not self-talk), answered 1/15 = 7 % <
		// 10 %: self-centred.
		if g1.PrevClass != analytics.SelfCentred {
			t.Errorf("G1 previous class %s, want self_centred", g1.PrevClass)
		}
		// Trend: 8 weeks from Mon 12 Jan (G1 is older). Only the last two
		// have messages. Week of 23 Feb: m2m 1/6, brand .5, only m1 wrote
		// (top 3 = 100 %, spread 0), members m1…m5 and m7 (left on the 25th)
		// = 6, m6 joined after the week: participation (1/6)/.2 = .833333;
		// answered (1/15)/.2 = .333333.
		// .35/6 + .25·.5 + 0 + .15·.833333 + .10·.333333
		// = .058333 + .125 + .125 + .033333 = .341667 → 34.
		if w := weekly(g1.WeeklyScore); !slices.Equal(w, []string{"-", "-", "-", "-", "-", "-", "34", "75"}) ||
			g1.WeeklyScore[0].Day != analytics.Day(f.day(2)-49) {
			t.Errorf("G1 trend %q from %v", w, g1.WeeklyScore[0].Day)
		}

		// G2: 40 messages, all the brand's (5 by personas: 12.5 % < 20 %,
		// not scripted); no member wrote (0 of 5 < 5 %): self-talk, score 0.
		// Members: m1…m5; m6 was removed in the week (still counted, a
		// member for part of it): 6.
		if g2.Class != analytics.SelfTalk || g2.Score != 0 || g2.Signals.Members != 6 || g2.Signals.BrandShare != 1 {
			t.Errorf("G2: %s %d %+v", g2.Class, g2.Score, g2.Signals)
		}
		if !slices.Equal(reasonLines(g2.Why), []string{"health.why.brand_share 100% ≥ 60%", "health.why.poster_rate 0% < 5%"}) {
			t.Errorf("G2 reasons %q", reasonLines(g2.Why))
		}
		// Created 20 Feb, within the 8 weeks: 4 weeks, the last scored 0.
		if w := weekly(g2.WeeklyScore); !slices.Equal(w, []string{"-", "-", "-", "0"}) {
			t.Errorf("G2 trend %q", w)
		}
		if g2.PrevClass != analytics.NotEnoughYet {
			t.Errorf("G2 previous %s", g2.PrevClass)
		}

		// G3: nothing to go on; ratios 0, never NaN.
		if g3.Class != analytics.NotEnoughYet || g3.Score != 0 || g3.Signals != (analytics.HealthSignals{Members: 2}) ||
			!slices.Equal(reasonLines(g3.Why), []string{"health.why.messages 0 30"}) {
			t.Errorf("G3: %+v", g3)
		}
		if _, err := json.Marshal(got); err != nil { // a NaN would not encode
			t.Errorf("encode: %v", err)
		}

		// One group, one channel.
		one, err := f.svc.Health(ctx, analytics.Filter{TenantID: f.tenant, Period: f.filter(f.loc).Period, GroupID: f.g[2], Loc: f.loc})
		if err != nil || len(one) != 1 || one[0].GroupID != f.g[2] {
			t.Errorf("G2 only: %+v %v", one, err)
		}
		tg, err := f.svc.Health(ctx, analytics.Filter{TenantID: f.tenant, Period: f.filter(f.loc).Period, Channel: "telegram", Loc: f.loc})
		if err != nil || len(tg) != 1 || tg[0].GroupID != f.g[3] {
			t.Errorf("telegram: %+v %v", tg, err)
		}
		// Another brand has none of these groups.
		if rival, err := f.svc.Health(ctx, analytics.Filter{TenantID: f.other, Period: f.filter(f.loc).Period}); err != nil || len(rival) != 0 {
			t.Errorf("rival: %+v %v", rival, err)
		}
	})
}

// A membership's moment is placed in the tenant's days: m6 joined G1 at
// 05:00 on 2 March in Shanghai (21:00 on 1 March in UTC). Read with the
// tenant's zone they were not a member in the week of 23 February; read
// in UTC, whose 2 March starts 8 hours later, they were.
func TestHealthMembersInTheTenantsDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newInsFx(t, db)
		f.seedHealth()
		got, err := f.svc.Health(context.Background(), f.filter(time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		// Week of 23 Feb in UTC: 7 members, participation (1/7)/.2 =
		// .714286: .058333 + .125 + .15·.714286 + .033333 = .323810 → 32
		// (34 in the tenant's zone, above).
		if w := weekly(got[0].WeeklyScore); w[6] != "32" {
			t.Errorf("G1 trend read in UTC %q, want 32 for the week of 23 Feb", w)
		}
	})
}

func TestHeatmapHandChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newInsFx(t, db)
		ctx := context.Background()
		hourly := func(tenant, group int64, metric string, day, hour int, v int64) {
			f.exec(`INSERT INTO an_hourly (tenant_id, group_id, metric, day, hour, value) VALUES ($1, $2, $3, $4, $5, $6)`,
				tenant, group, metric, f.day(day), hour, v)
		}
		g1, g2 := f.g[1], f.g[2]
		hourly(f.tenant, g1, "member_messages", 2, 20, 5) // Mon 20:00: 5 messages + 2 clicks = 7
		hourly(f.tenant, g1, "clicks", 2, 20, 2)
		hourly(f.tenant, g1, "member_messages", 4, 20, 7)  // Wed 20:00: 7, ties Monday's: Monday is earlier
		hourly(f.tenant, g1, "member_messages", 8, 9, 3)   // Sun 09:00: 3
		hourly(f.tenant, g1, "brand_messages", 4, 21, 50)  // the brand's: not engagement
		hourly(f.tenant, g1, "member_messages", 9, 20, 99) // Monday after the week
		hourly(f.tenant, g2, "member_messages", 3, 10, 4)  // G2, Tue 10:00: 4
		hourly(f.tenant, f.g[3], "clicks", 7, 8, 2)        // G3 (telegram/1), Sat 08:00: 2
		hourly(f.other, g1, "member_messages", 2, 20, 1000)

		h, err := f.svc.Heatmap(ctx, analytics.Filter{TenantID: f.tenant, Period: f.filter(f.loc).Period, GroupID: g1, Loc: f.loc})
		if err != nil {
			t.Fatal(err)
		}
		var want [7][24]int64
		want[time.Monday][20], want[time.Wednesday][20], want[time.Sunday][9] = 7, 7, 3
		if h.Cells != want || h.Total != 17 || !h.HasBest || h.BestDay != int(time.Monday) || h.BestHour != 20 || h.GroupID != g1 {
			t.Errorf("G1 heatmap: total %d best %d %02d:00 (%v), cells %v", h.Total, h.BestDay, h.BestHour, h.HasBest, h.Cells)
		}
		// All groups: G2's Tuesday 10:00 and G3's Saturday 08:00 too (23).
		// A row's day is already the tenant's day: the filter's zone does
		// not move it.
		all, err := f.svc.Heatmap(ctx, analytics.Filter{TenantID: f.tenant, Period: f.filter(f.loc).Period, Loc: time.UTC})
		want[time.Tuesday][10], want[time.Saturday][8] = 4, 2
		if err != nil || all.Cells != want || all.Total != 23 || all.BestDay != int(time.Monday) || all.BestHour != 20 {
			t.Errorf("all groups: %+v %v", all, err)
		}
		// Telegram: G3 alone.
		tg, err := f.svc.Heatmap(ctx, analytics.Filter{TenantID: f.tenant, Period: f.filter(f.loc).Period, Channel: "telegram"})
		if err != nil || tg.Total != 2 || tg.BestDay != int(time.Saturday) || tg.BestHour != 8 || !tg.HasBest {
			t.Errorf("telegram: %+v %v", tg, err)
		}
		// LINE has no group: no best slot.
		line, err := f.svc.Heatmap(ctx, analytics.Filter{TenantID: f.tenant, Period: f.filter(f.loc).Period, Channel: "line"})
		if err != nil || line.Total != 0 || line.HasBest || line.Cells != ([7][24]int64{}) {
			t.Errorf("line: %+v %v", line, err)
		}
		// Wednesday alone wins a week without the Monday.
		wed, err := f.svc.Heatmap(ctx, analytics.Filter{TenantID: f.tenant, GroupID: g1,
			Period: analytics.Period{From: analytics.Day(f.day(3)), To: analytics.Day(f.day(9))}})
		if err != nil || wed.BestDay != int(time.Wednesday) || wed.BestHour != 20 || wed.Total != 10 {
			t.Errorf("from Tuesday: %+v %v", wed, err)
		}
	})
}

func TestContentHandChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newInsFx(t, db)
		ctx := context.Background()
		ms := func(month time.Month, day, hour int) int64 { return store.Millis(f.at(month, day, hour)) }
		content := func(tenant int64, typ, format string) int64 {
			return f.id(`INSERT INTO campaign_content (tenant_id, title, type, format, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
				tenant, typ+" "+format, typ, format, ms(time.January, 1, 9))
		}
		c1, c2, c3 := content(f.tenant, "knowledge", "text"), content(f.tenant, "promo", "image"), content(f.tenant, "promo", "image")
		rivalContent := content(f.other, "knowledge", "text")
		job := func(key string, content, group int64) int64 {
			return f.id(`INSERT INTO campaign_jobs (tenant_id, playbook_id, step_id, group_id, content_id, key, run_at, anchor_at, created_at, state)
				VALUES ($1, 1, 1, $2, $3, $4, 0, 0, 0, 'sent')`, f.tenant, group, content, key)
		}
		send := func(job, member, group int64, outcome string, at int64) {
			f.exec(`INSERT INTO campaign_sends (tenant_id, job_id, member_id, group_id, sent_at, outcome) VALUES ($1, $2, $3, $4, $5, $6)`,
				f.tenant, job, member, group, at, outcome)
		}
		j1, j2, j3, j4 := job("j1", c1, f.g[1]), job("j2", c2, 0), job("j3", c3, f.g[2]), job("j4", c1, f.g[1])
		send(j1, 0, f.g[1], "sent", ms(time.March, 2, 20))    // G1 at Mon 20:00: m1…m5, m6 (joined 05:00); m7 left: reach 6
		send(j2, f.m[1], 0, "sent", ms(time.March, 3, 12))    // a private message: reach 1
		send(j2, f.m[2], 0, "sent", ms(time.March, 3, 12))    // reach 1
		send(j2, f.m[3], 0, "skipped", ms(time.March, 3, 12)) // skipped: no reach
		send(j3, 0, f.g[2], "sent", ms(time.March, 5, 20))    // G2 on Thu: m1…m5 (m6 removed Wed): reach 5
		send(j4, 0, f.g[1], "sent", ms(time.March, 9, 20))    // after the week
		counter := func(tenant, content int64, metric string, day int, v int64) {
			f.exec(`INSERT INTO an_content (tenant_id, content_id, metric, day, value) VALUES ($1, $2, $3, $4, $5)`,
				tenant, content, metric, f.day(day), v)
		}
		counter(f.tenant, c1, "clicks", 2, 4)
		counter(f.tenant, c1, "replies", 2, 3)
		counter(f.tenant, c2, "clicks", 3, 2)
		counter(f.tenant, c3, "replies", 5, 1)
		counter(f.tenant, c3, "clicks", 9, 10)          // after the week
		counter(f.other, rivalContent, "clicks", 2, 50) // another brand's
		counter(f.other, c1, "clicks", 2, 70)           // another brand's rows on this brand's id

		// Orders attributed to c2's link: 100.00 refunded 20.00, and 50.00;
		// one to c1 after the week; one to a live (no content).
		link := f.id(`INSERT INTO links (tenant_id, code, url, kind, content_id, created_at) VALUES ($1, 'lnk1', 'https://shop.test', 'step', $2, 0)`,
			f.tenant, c2)
		order := func(ext string, member int64, amount, refunded, paid, content int64) {
			o := f.id(`INSERT INTO orders (tenant_id, external_id, source, member_id, amount_minor, refunded_minor, paid_at, created_at)
				VALUES ($1, $2, 'api', $3, $4, $5, $6, $6)`, f.tenant, ext, member, amount, refunded, paid)
			f.exec(`INSERT INTO order_attribution (tenant_id, order_id, member_id, last_link_id, first_link_id, content_id, at)
				VALUES ($1, $2, $3, $4, $4, $5, $6)`, f.tenant, o, member, link, content, paid)
		}
		order("o1", f.m[1], 10000, 2000, ms(time.March, 3, 13), c2)
		order("o2", f.m[2], 5000, 0, ms(time.March, 4, 13), c2)
		order("o3", f.m[3], 7000, 0, ms(time.March, 10, 13), c1)
		order("o4", f.m[4], 3000, 0, ms(time.March, 4, 13), 0)

		got, err := f.svc.Content(ctx, f.filter(f.loc))
		if err != nil {
			t.Fatal(err)
		}
		// knowledge/text: j1 (reach 6), 4 clicks, 3 replies, no order.
		// promo/image: j2 (reach 2) + j3 (reach 5) = 2 sends, reach 7; 2
		// clicks, 1 reply; orders o1 + o2 = 2, GMV 8000 + 5000 = 13000.
		want := []analytics.ContentRow{
			{Type: "knowledge", Format: "text", Sends: 1, Reach: 6, Clicks: 4, Replies: 3},
			{Type: "promo", Format: "image", Sends: 2, Reach: 7, Clicks: 2, Replies: 1, Orders: 2, GMV: 13000},
		}
		if !slices.Equal(got, want) {
			t.Errorf("content:\n%+v\nwant\n%+v", got, want)
		}
		if rival, err := f.svc.Content(ctx, analytics.Filter{TenantID: f.other, Period: f.filter(f.loc).Period}); err != nil ||
			!slices.Equal(rival, []analytics.ContentRow{{Type: "knowledge", Format: "text", Clicks: 50}}) {
			t.Errorf("rival: %+v %v", rival, err)
		}
	})
}

func TestCapacityHandChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newInsFx(t, db)
		f.seedHealth()
		// Tue 10 March, noon: the silence window is 4–10 March; "too small"
		// needs a group created by 24 February.
		f.svc.SetClock(func() time.Time { return f.at(time.March, 10, 12) })
		got, err := f.svc.Capacity(context.Background(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, a := range got {
			lines = append(lines, fmt.Sprintf("%s %s %d/%d", a.Kind, a.Name, a.Members, a.Cap))
		}
		// G1: m1…m6 now (m7 left) of cap 6: 6 ≥ 5.4 → near cap, not over;
		// members wrote on the 5th: not silent; 6 < 200 since January: too
		// small. G2: m1…m5 (m6 removed) of cap 4 → over; no member message
		// since it began (20 Feb): silent; too small. G3: created 5 March,
		// too young for either. G4: archived.
		want := []string{"over_cap G2 5/4", "near_cap G1 6/6", "silent G2 5/4", "too_small G1 6/6", "too_small G2 5/4"}
		if !slices.Equal(lines, want) {
			t.Errorf("advice %q, want %q", lines, want)
		}
		// A week later G1's last member message (5 March) is out of the
		// window (11–17 March): silent too.
		f.svc.SetClock(func() time.Time { return f.at(time.March, 17, 12) })
		got, err = f.svc.Capacity(context.Background(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		silent := 0
		for _, a := range got {
			if a.Kind == analytics.Silent {
				silent++
			}
		}
		// G1, G2, and G3 (12 days old now, at least 7): 3.
		if silent != 3 {
			t.Errorf("silent a week later: %d, want 3 (%+v)", silent, got)
		}
		if _, err := f.svc.Capacity(context.Background(), 999999); err == nil {
			t.Error("an unknown tenant gave advice")
		}
	})
}

// A period without days gives nothing; one without data gives the groups
// as not enough, with no NaN anywhere.
func TestInsightsEmptyPeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newInsFx(t, db)
		f.seedHealth()
		ctx := context.Background()
		d := analytics.Day(f.day(2))
		none := analytics.Filter{TenantID: f.tenant, Period: analytics.Period{From: d, To: d}, Loc: f.loc}
		h, err := f.svc.Health(ctx, none)
		if err != nil || len(h) != 0 || h == nil {
			t.Errorf("health of no days: %+v %v", h, err)
		}
		c, err := f.svc.Content(ctx, none)
		if err != nil || len(c) != 0 || c == nil {
			t.Errorf("content of no days: %+v %v", c, err)
		}
		if hm, err := f.svc.Heatmap(ctx, none); err != nil || hm.Total != 0 || hm.HasBest {
			t.Errorf("heatmap of no days: %+v %v", hm, err)
		}
		// 12–18 January: no message in any group; G4 was archived after it.
		jan12 := analytics.DayOf(f.at(time.January, 12, 12), f.loc)
		quiet := analytics.Filter{TenantID: f.tenant, Period: analytics.Period{From: jan12, To: jan12 + 7}, Loc: f.loc}
		h, err = f.svc.Health(ctx, quiet)
		if err != nil || len(h) != 4 || h[3].GroupID != f.g[4] {
			t.Fatalf("health of a quiet period: %+v %v", h, err)
		}
		for _, g := range h {
			if g.Class != analytics.NotEnoughYet || g.PrevClass != analytics.NotEnoughYet || g.Score != 0 || g.Signals.BrandShare != 0 {
				t.Errorf("quiet period: %+v", g)
			}
		}
		if _, err := json.Marshal(h); err != nil {
			t.Error(err)
		}
	})
}

// End to end: real events through the log and the rollup. Two groups of
// the same brand, the week of 2 March 2026 in Shanghai:
//   - Chat: six members A…F; on each weekday Mon–Fri at 20:00 they write
//     one after another, a minute apart (30 messages; each but the first
//     of a round answers a member: 25 member→member turns). On Monday a
//     persona answers F within the minute (brand→member).
//     A clicks a content item's link in Chat on Wednesday at 21:10.
//   - Posts: 30 persona posts, an hour apart; A is its only member.
func TestInsightsFromTheLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		loc := insLoc(t)
		log := event.NewLog(db, event.NewLocalBus())
		tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "e2e", Name: "E2E", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		comm := community.NewService(db, log)
		newGroup := func(name string) int64 {
			g, _, err := comm.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "web", Name: name, Kind: community.Vertical, Capacity: 500})
			if err != nil {
				t.Fatal(err)
			}
			return g.ID
		}
		chat, posts := newGroup("Chat"), newGroup("Posts")
		ms := member.NewService(db, log)
		names := []string{"A", "B", "C", "D", "E", "F"}
		ids := map[string]int64{}
		before := time.Date(2026, 2, 20, 9, 0, 0, 0, loc)
		for _, n := range names {
			m, err := ms.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: n}, member.Identity{Channel: "web", ExternalID: "e2e-" + n})
			if err != nil {
				t.Fatal(err)
			}
			ids[n] = m.ID
			if _, err := comm.Join(ctx, community.JoinRequest{TenantID: tn.ID, GroupID: chat, MemberID: m.ID, Source: "web", At: before}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := comm.Join(ctx, community.JoinRequest{TenantID: tn.ID, GroupID: posts, MemberID: ids["A"], Source: "web", At: before}); err != nil {
			t.Fatal(err)
		}
		n := 0
		appendEvent := func(e event.Event) {
			n++
			e.TenantID, e.SourceID = tn.ID, fmt.Sprint("e2e-", n)
			if _, err := log.Append(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		say := func(group int64, who string, at time.Time) {
			e := event.Event{Type: event.Message, Source: "web", At: at, GroupID: group, MemberID: ids[who],
				Data: event.MustData(event.MessageData{Text: "hi"})}
			if who == "" {
				e.Source, e.MemberID, e.Data = event.SourceOutbox, 0, event.MustData(event.MessageData{Text: "hi", PersonaID: 3})
			}
			appendEvent(e)
		}
		for d := 2; d <= 6; d++ {
			for i, who := range names {
				say(chat, who, time.Date(2026, 3, d, 20, i, 0, 0, loc))
			}
		}
		say(chat, "", time.Date(2026, 3, 2, 20, 5, 30, 0, loc))
		for i := 0; i < 30; i++ {
			say(posts, "", time.Date(2026, 3, 3, 0, 0, 0, 0, loc).Add(time.Duration(i)*time.Hour))
		}
		var content int64
		if err := db.W.QueryRow(`INSERT INTO campaign_content (tenant_id, title, type, format, created_at, updated_at)
			VALUES ($1, 'tips', 'knowledge', 'video', 0, 0) RETURNING id`, tn.ID).Scan(&content); err != nil {
			t.Fatal(err)
		}
		appendEvent(event.Event{Type: event.LinkClicked, Source: event.SourceTrack, At: time.Date(2026, 3, 4, 21, 10, 0, 0, loc),
			MemberID: ids["A"], GroupID: chat, Data: event.MustData(event.TrackData{LinkID: 1, ContentID: content})})
		if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
			t.Fatal(err)
		}

		svc := analytics.New(db)
		from := analytics.DayOf(time.Date(2026, 3, 2, 12, 0, 0, 0, loc), loc)
		f := analytics.Filter{TenantID: tn.ID, Period: analytics.Period{From: from, To: from + 7}, Loc: loc}
		h, err := svc.Health(ctx, f)
		if err != nil || len(h) != 2 {
			t.Fatalf("health: %+v %v", h, err)
		}
		// Chat: 31 messages, 30 by members (5 each: the top 3 wrote 15),
		// 1 by the brand. Member answers: 25, all to members; the brand
		// answered 1. Score: .35·1 + .25·30/31 (.241935) + .15·.5 (.075) +
		// .15·1 (6 of 6 wrote) + .10·(1/30)/.2 (.016667) = .833602 → 83.
		want := analytics.HealthSignals{Messages: 31, MemberMessages: 30, BrandShare: 1.0 / 31, PersonaShare: 1.0 / 31,
			MemberToMember: 1, Top3Share: 0.5, Posters: 6, Members: 6, BrandAnswered: 1.0 / 30}
		if h[0].GroupID != chat || h[0].Class != analytics.Spontaneous || h[0].Score != 83 || h[0].Signals != want {
			t.Errorf("Chat: %s %d %+v\nwant signals %+v", h[0].Class, h[0].Score, h[0].Signals, want)
		}
		// Posts: 30 persona posts, its one member silent: brand 100 % ≥ 60,
		// posters 0 % < 5: self-talk (not scripted: no member answered).
		if h[1].GroupID != posts || h[1].Class != analytics.SelfTalk || h[1].Signals.Messages != 30 || h[1].Signals.Members != 1 {
			t.Errorf("Posts: %s %+v", h[1].Class, h[1].Signals)
		}
		// Chat's heatmap: 6 member messages at 20:00 Mon–Fri (the brand's
		// not counted), the click Wed 21:00. Ties: Monday 20:00.
		hm, err := svc.Heatmap(ctx, analytics.Filter{TenantID: tn.ID, Period: f.Period, GroupID: chat})
		if err != nil {
			t.Fatal(err)
		}
		var cells [7][24]int64
		for d := time.Monday; d <= time.Friday; d++ {
			cells[d][20] = 6
		}
		cells[time.Wednesday][21] = 1
		if hm.Cells != cells || hm.Total != 31 || hm.BestDay != int(time.Monday) || hm.BestHour != 20 {
			t.Errorf("heatmap: total %d best %d %d cells %v", hm.Total, hm.BestDay, hm.BestHour, hm.Cells)
		}
		c, err := svc.Content(ctx, f)
		if err != nil || !slices.Equal(c, []analytics.ContentRow{{Type: "knowledge", Format: "video", Clicks: 1}}) {
			t.Errorf("content: %+v %v", c, err)
		}
	})
}
