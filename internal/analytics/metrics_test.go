package analytics_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// shanghai is the fixture brand's zone (UTC+8, no DST).
var shanghai = time.FixedZone("CST", 8*3600)

// at is a local time of the fixture: March 2026 (Monday the 2nd starts
// the reviewed week).
func at(day, hour, min int) time.Time { return time.Date(2026, 3, day, hour, min, 0, 0, shanghai) }

// fx is the hand-checked fixture: 2 groups, 5 members and a staff account,
// 10 messages, 3 check-ins, 2 clicks, 8 orders and a refund. The expected
// numbers are worked out next to each assertion.
type fx struct {
	t        *testing.T
	db       *store.DB
	log      *event.Log
	svc      *analytics.Service
	roll     *analytics.Rollup
	tenant   int64
	g1, g2   int64
	m        map[string]int64
	msgIDs   map[string]int64
	comm     *community.Service
	commerce *commerce.Service
}

func newFixture(t *testing.T, db *store.DB) *fx {
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "fx", Name: "FX", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fx{t: t, db: db, log: log, svc: analytics.New(db), roll: analytics.NewRollup(db), tenant: tn.ID,
		m: map[string]int64{}, msgIDs: map[string]int64{}, comm: community.NewService(db, log)}
	// "Today" is well after the week, so every cohort day is over.
	f.svc.SetClock(func() time.Time { return at(31, 12, 0).AddDate(0, 1, 0) })
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.commerce = commerce.New(db, log, ob, i18n.MustLoad())
	f.commerce.SetClock(func() time.Time { return at(31, 12, 0) })

	g1, _, err := f.comm.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "web", Name: "G1", Kind: "vertical", Capacity: 500})
	if err != nil {
		t.Fatal(err)
	}
	g2, _, err := f.comm.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "telegram/1", ExternalID: "-100", Name: "G2", Kind: "vertical", Capacity: 500})
	if err != nil {
		t.Fatal(err)
	}
	f.g1, f.g2 = g1.ID, g2.ID
	members := member.NewService(db, log)
	for i, name := range []string{"A", "B", "C", "D", "E", "S"} {
		m, err := members.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: name, Phone: fmt.Sprintf("1380000000%d", i+1)},
			member.Identity{Channel: "web", ExternalID: "fx-" + name})
		if err != nil {
			t.Fatal(err)
		}
		f.m[name] = m.ID
	}
	if err := members.AddTag(ctx, tn.ID, f.m["S"], analytics.StaffTag); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fx) join(name string, group int64, when time.Time, source string) {
	f.t.Helper()
	_, err := f.comm.Join(context.Background(), community.JoinRequest{TenantID: f.tenant, GroupID: group, MemberID: f.m[name],
		JoinCode: community.JoinCode{Code: "c-" + source, Source: source}, Source: "web", At: when})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) leave(name string, group int64, when time.Time) {
	f.t.Helper()
	err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		return f.comm.LeaveTx(context.Background(), tx, f.tenant, group, f.m[name], "web", "leave-"+name, when)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// say appends a group message: by a member (name), or by the brand
// (name "" with a persona).
func (f *fx) say(key, name string, group int64, when time.Time, replyTo string) {
	f.t.Helper()
	e := event.Event{TenantID: f.tenant, Type: event.Message, Source: "web", SourceID: key, At: when, GroupID: group}
	d := event.MessageData{Text: key, ReplyTo: f.msgIDs[replyTo]}
	if name == "" {
		e.Source, d.PersonaID = event.SourceOutbox, 7
	} else {
		e.MemberID = f.m[name]
	}
	e.Data = event.MustData(d)
	if _, err := f.log.Append(context.Background(), &e); err != nil {
		f.t.Fatal(err)
	}
	f.msgIDs[key] = e.ID
}

func (f *fx) append(e event.Event) bool {
	f.t.Helper()
	e.TenantID = f.tenant
	ok, err := f.log.Append(context.Background(), &e)
	if err != nil {
		f.t.Fatal(err)
	}
	return ok
}

func (f *fx) order(id, name string, amount int64, when time.Time) {
	f.t.Helper()
	o := commerce.Order{TenantID: f.tenant, ExternalID: id, Source: "api", AmountMinor: amount, Currency: "CNY", PaidAt: when}
	if name != "" {
		o.Phone = fmt.Sprintf("1380000000%d", map[string]int{"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}[name])
	}
	if _, _, err := f.commerce.Record(context.Background(), o); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) seed() {
	f.t.Helper()
	// Joins. Before the week: S (staff) and A in G1.
	f.join("S", f.g1, at(1, 9, 0).AddDate(0, -1, 0), "poster")
	f.join("A", f.g1, at(20, 9, 0).AddDate(0, -1, 0), "poster")
	// In the week (Mon 2 … Sun 8): B, C (G1), D (G2, 00:30 local on the
	// 4th = the 3rd in UTC: the tenant's day is the 4th), E (G2, then G1).
	f.join("B", f.g1, at(2, 10, 0), "poster")
	f.join("C", f.g1, at(3, 23, 30), "poster")
	f.join("D", f.g2, at(4, 0, 30), "live")
	f.join("E", f.g2, at(5, 9, 0), "referral")
	f.join("E", f.g1, at(6, 9, 0), "poster")
	f.leave("A", f.g1, at(7, 12, 0))

	// Messages.
	f.say("m1", "", f.g1, at(2, 10, 0), "")    // brand (persona)
	f.say("m2", "A", f.g1, at(2, 10, 2), "")   // turn after the brand → to_brand
	f.say("m3", "B", f.g1, at(2, 10, 3), "")   // turn after A → to_member
	f.say("m4", "B", f.g1, at(2, 10, 30), "")  // after B itself → none
	f.say("m5", "S", f.g1, at(2, 10, 31), "")  // staff-tagged: brand, after B → brand_to_member
	f.say("m6", "A", f.g1, at(2, 10, 32), "")  // after S (brand) → to_brand
	f.say("m7", "B", f.g1, at(4, 20, 0), "")   // nothing within 5 min → none
	f.say("m8", "C", f.g1, at(4, 20, 9), "m7") // explicit reply to B → to_member
	f.say("m9", "E", f.g2, at(5, 9, 30), "")   // none
	f.say("m10", "D", f.g2, at(5, 9, 31), "")  // after E → to_member

	// Check-ins and clicks.
	for i, c := range []struct {
		name string
		when time.Time
	}{{"A", at(2, 8, 0)}, {"B", at(2, 8, 1)}, {"B", at(3, 8, 0)}} {
		f.append(event.Event{Type: event.CheckedIn, Source: "web", SourceID: fmt.Sprint("ci", i), At: c.when, MemberID: f.m[c.name], GroupID: f.g1})
	}
	f.append(event.Event{Type: event.LinkClicked, Source: event.SourceTrack, SourceID: "k1", At: at(4, 21, 0), MemberID: f.m["C"], GroupID: f.g1})
	f.append(event.Event{Type: event.LinkClicked, Source: event.SourceTrack, SourceID: "k2", At: at(5, 21, 0), GroupID: f.g1})

	// Orders: C before the week; in the week A ×2, B, C, one unmatched;
	// D after the week (00:30 on Monday the 9th local).
	f.order("o0", "C", 3000, at(25, 12, 0).AddDate(0, -1, 0))
	f.order("o1", "A", 10000, at(3, 12, 0))
	f.order("o2", "B", 8000, at(5, 12, 0))
	f.order("o3", "", 2000, at(5, 13, 0))
	f.order("o4", "A", 5000, at(6, 12, 0))
	f.order("o5", "C", 3000, at(7, 12, 0))
	f.order("o6", "D", 9900, at(9, 0, 30))
	if _, _, err := f.commerce.RecordRefund(context.Background(), commerce.RefundInput{TenantID: f.tenant, OrderExtID: "o1",
		ExternalID: "r1", AmountMinor: 1000, At: at(8, 12, 0)}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) catchup() {
	f.t.Helper()
	if _, err := f.roll.Catchup(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func week() analytics.Period {
	from := analytics.DayOf(at(2, 0, 0), shanghai)
	return analytics.Period{From: from, To: from + 7}
}

func (f *fx) filter(group int64, channel string) analytics.Filter {
	return analytics.Filter{TenantID: f.tenant, Period: week(), GroupID: group, Channel: channel, Loc: shanghai}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func checkValues(t *testing.T, got map[string]analytics.Value, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		v, ok := got[k]
		if !ok {
			t.Errorf("%s missing", k)
			continue
		}
		if math.IsNaN(w) {
			if v.OK() {
				t.Errorf("%s = %v, want not a number", k, v.Float())
			}
			continue
		}
		if !v.OK() || !near(v.Float(), w) {
			t.Errorf("%s = %v (%+v), want %v", k, v.Float(), v, w)
		}
	}
}

func TestOverviewHandChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.seed()
		f.catchup()
		got, err := f.svc.Overview(context.Background(), f.filter(0, ""))
		if err != nil {
			t.Fatal(err)
		}
		checkValues(t, got, map[string]float64{
			// Joins in the week: B, C, D, E (G2), E (G1) = 5; first joins
			// B, C, D, E = 4 new; 5 − 4 = 1 returning (E into G1); A left.
			"joins": 5, "new_members": 4, "returning_members": 1, "leaves": 1,
			// Members at Monday 00:00: S and A = 2; (5 − 1) / 2 = 200 %.
			"growth_rate": 2,
			// Active (any action): A, B, C, D, E = 5 (S is the brand).
			// Member-days: Mon A, B; Tue B (check-in), A (order); Wed B, C;
			// Thu E, D, B (order); Fri A (order); Sat C (order) = 11 / 7.
			"active_members": 5, "dau": 11.0 / 7,
			// Member messages: m2 m3 m4 m6 m7 m8 m9 m10 = 8.
			"member_messages": 8, "messages_per_day": 8.0 / 7,
			// Members in the week: A, S, B, C, D, E = 6; posters 5.
			"interaction_rate": 5.0 / 6,
			// Answers: to a member m3 m8 m10 (3), to the brand m2 m6 (2).
			"m2m_ratio": 3.0 / 5,
			// Brand messages m1 (persona), m5 (staff tag) of 10.
			"brand_share": 2.0 / 10,
			// 3 check-ins / (6 members × 7 days).
			"checkin_rate": 3.0 / 42,
			"clicks":       2,
			// Orders paid in the week: o1 o2 o3 o4 o5 = 5, paid 28,000;
			// refund 1,000 on Sunday: GMV 27,000; AOV 28,000 / 5.
			"orders": 5, "gmv": 27000, "aov": 5600,
			// Buyers A, B, C (o3 has no buyer); all three were members:
			// 3 / 6. A bought twice: 1 / 3.
			"buyers": 3, "conversion_rate": 0.5, "repurchase_rate": 1.0 / 3,
			// Gaps ending in the week: A 3rd→6th = 3 days, C Feb 25th →
			// Mar 7th = 10 days: median 6.5.
			"repurchase_cycle": 6.5,
		})

		// G2 only (the channel "telegram" is G2 too): D and E joined, both
		// new; members D, E; both posted; m10 answered E.
		for _, flt := range []analytics.Filter{f.filter(f.g2, ""), f.filter(0, "telegram")} {
			got, err = f.svc.Overview(context.Background(), flt)
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, got, map[string]float64{
				"joins": 2, "new_members": 2, "returning_members": 0, "leaves": 0,
				"growth_rate":     math.NaN(), // nobody at the start
				"member_messages": 2, "interaction_rate": 1, "m2m_ratio": 1, "brand_share": 0,
				// Orders of G2's members (D, E) in the week: none (D's is
				// on the 9th).
				"orders": 0, "gmv": 0, "aov": math.NaN(), "buyers": 0, "repurchase_rate": math.NaN(),
				"repurchase_cycle": math.NaN(),
			})
		}
	})
}

func TestSeriesAndCohorts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.seed()
		f.catchup()
		ctx := context.Background()
		joins, err := f.svc.Series(ctx, f.filter(0, ""), "joins")
		if err != nil {
			t.Fatal(err)
		}
		// Mon B, Tue C, Wed D (00:30 local: the 4th, not the 3rd), Thu E,
		// Fri E, Sat —, Sun —.
		want := []float64{1, 1, 1, 1, 1, 0, 0}
		if len(joins) != 7 {
			t.Fatalf("%d points", len(joins))
		}
		for i, p := range joins {
			if p.Value.Float() != want[i] {
				t.Errorf("joins on %s = %v, want %v", p.Day, p.Value.Float(), want[i])
			}
		}
		gmv, err := f.svc.Series(ctx, f.filter(0, ""), "gmv")
		if err != nil {
			t.Fatal(err)
		}
		// Tue 10,000; Thu 8,000 + 2,000; Fri 5,000; Sat 3,000; Sun −1,000.
		for i, w := range []float64{0, 10000, 0, 10000, 5000, 3000, -1000} {
			if gmv[i].Value.Float() != w {
				t.Errorf("gmv on %s = %v, want %v", gmv[i].Day, gmv[i].Value.Float(), w)
			}
		}
		m2m, _ := f.svc.Series(ctx, f.filter(0, ""), "m2m_ratio")
		// Mon: m3 to a member, m2 m6 to the brand: 1/3; Tue: nothing
		// (not a number); Wed: m8 1/1.
		if !near(m2m[0].Value.Float(), 1.0/3) || m2m[1].Value.OK() || m2m[2].Value.Float() != 1 {
			t.Errorf("m2m series %+v", m2m[:3])
		}

		cohorts, err := f.svc.Cohorts(ctx, f.filter(0, ""))
		if err != nil {
			t.Fatal(err)
		}
		// One cohort (week of Mon 2nd): B, C, D, E. Active the next day:
		// B (Tue check-in), C (Thu? no: C joined Tue night, Wed m8 → yes),
		// D (joined Wed, Thu m10 → yes), E (joined Thu, Fri nothing) = 3.
		// Day 7 and 30: nobody.
		if len(cohorts) != 1 || cohorts[0].Members != 4 || cohorts[0].D1 != (analytics.Retained{Active: 3, Eligible: 4}) ||
			cohorts[0].D7 != (analytics.Retained{Active: 0, Eligible: 4}) || cohorts[0].D30.Active != 0 {
			t.Errorf("cohorts %+v", cohorts)
		}

		sources, err := f.svc.Sources(ctx, f.filter(0, ""))
		if err != nil {
			t.Fatal(err)
		}
		// poster: B, C, E(G1) = 3 joins, new B, C; live: D; referral: E.
		wantSrc := map[string][2]int64{"poster": {3, 2}, "live": {1, 1}, "referral": {1, 1}}
		if len(sources) != 3 || sources[0].Source != "poster" {
			t.Fatalf("sources %+v", sources)
		}
		for _, s := range sources {
			if w := wantSrc[s.Source]; s.Joins != w[0] || s.New != w[1] {
				t.Errorf("source %+v, want joins/new %v", s, w)
			}
		}
	})
}

// TestLateAndDuplicateEvents: an event appended after its day was rolled
// up lands on its day; a duplicate delivery changes nothing; a second
// catch-up with nothing new changes nothing.
func TestLateAndDuplicateEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.seed()
		f.catchup()
		ctx := context.Background()
		before, _ := f.svc.Series(ctx, f.filter(0, ""), "member_messages")

		// A day late: B wrote on Tuesday, delivered now.
		f.say("late", "B", f.g1, at(3, 21, 0), "")
		// A duplicate of m9 (same source id): not a new row.
		if f.append(event.Event{Type: event.Message, Source: "web", SourceID: "m9", At: at(5, 9, 30), MemberID: f.m["E"], GroupID: f.g2}) {
			t.Fatal("duplicate stored")
		}
		f.catchup()
		f.catchup()
		after, _ := f.svc.Series(ctx, f.filter(0, ""), "member_messages")
		for i := range after {
			want := before[i].Value.Float()
			if i == 1 { // Tuesday
				want++
			}
			if after[i].Value.Float() != want {
				t.Errorf("%s: %v, want %v", after[i].Day, after[i].Value.Float(), want)
			}
		}
		// Tuesday's DAU: B (check-in and now a message) and A (order)
		// stays 2 — the late message is B's second action that day.
		dau, _ := f.svc.Series(ctx, f.filter(0, ""), "dau")
		if dau[1].Value.Float() != 2 {
			t.Errorf("Tuesday DAU %v", dau[1].Value.Float())
		}

		// Rebuilding replays the log to the same numbers.
		o1, _ := f.svc.Overview(ctx, f.filter(0, ""))
		if err := f.roll.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		f.catchup()
		o2, _ := f.svc.Overview(ctx, f.filter(0, ""))
		for k, v := range o1 {
			if o2[k] != v {
				t.Errorf("after rebuild %s = %+v, want %+v", k, o2[k], v)
			}
		}
	})
}

// TestEmptyPeriod: a period without data gives zeros and not-a-number
// ratios, never an error or NaN.
func TestEmptyPeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.catchup()
		got, err := f.svc.Overview(context.Background(), f.filter(0, ""))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range got {
			if math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0) {
				t.Errorf("%s = %v", k, v.Float())
			}
			if v.OK() && v.Float() != 0 {
				t.Errorf("%s = %v on an empty brand", k, v.Float())
			}
		}
		for _, d := range analytics.Defs {
			if !d.Daily {
				continue
			}
			pts, err := f.svc.Series(context.Background(), f.filter(0, ""), d.Key)
			if err != nil || len(pts) != 7 {
				t.Errorf("series %s: %d points, %v", d.Key, len(pts), err)
			}
		}
		fn, err := f.svc.Funnel(context.Background(), f.filter(0, ""), 0)
		if err != nil || len(fn.Steps) != 5 || fn.Steps[0].Members != 0 {
			t.Errorf("funnel %+v %v", fn, err)
		}
	})
}

// TestSlowTransactionIsNotSkipped: on PostgreSQL an event whose
// transaction drew its id first but commits last is still counted (the
// rollup reads below the oldest running transaction, in commit-safe
// order). On SQLite writers are serialised, so the case cannot arise.
func TestSlowTransactionIsNotSkipped(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	f := newFixture(t, db)
	f.join("A", f.g1, at(1, 9, 0), "poster")
	f.catchup()
	ctx := context.Background()

	slow, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	if _, err := slow.ExecContext(ctx, `INSERT INTO events (tenant_id, type, source, source_id, at, member_id, group_id, data)
		VALUES ($1, 'message', 'web', 'slow', $2, $3, $4, '{}')`, f.tenant, store.Millis(at(2, 10, 0)), f.m["A"], f.g1); err != nil {
		t.Fatal(err)
	}
	f.say("fast", "A", f.g1, at(2, 10, 1), "") // a later id, committed first
	// Passes while the slow transaction runs (Catchup would wait for it).
	for {
		n, err := f.roll.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	f.catchup()
	got, err := f.svc.Overview(ctx, f.filter(0, ""))
	if err != nil {
		t.Fatal(err)
	}
	if n := got["member_messages"].Float(); n != 2 {
		t.Fatalf("member messages %v, want 2 (the slow transaction's event was skipped)", n)
	}
}

// TestEveryMetricIsDefined: each metric has a name and a definition in
// every locale, shown next to its number.
func TestEveryMetricIsDefined(t *testing.T) {
	cat := i18n.MustLoad()
	for _, d := range analytics.Defs {
		for _, key := range []string{"metric." + d.Key, "metric." + d.Key + ".def", "metric.kind." + string(d.Kind)} {
			if !cat.Has(key) {
				t.Errorf("%s missing", key)
			}
			for _, lang := range []string{"en", "zh-CN", "zh-TW"} {
				if s := cat.T(lang, key); s == "" || s == key {
					t.Errorf("%s: %s untranslated", lang, key)
				}
			}
		}
	}
}
