package campaign_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/store"
)

func mustLoc(t testing.TB, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func TestValidateText(t *testing.T) {
	for _, text := range []string{"", "hello {name}", "{live_title} {live_time} {countdown} {link} {brand}", "表情 {^_^} 和 { name }", "{}"} {
		if err := campaign.ValidateText(text); err != nil {
			t.Errorf("ValidateText(%q) = %v", text, err)
		}
	}
	err := campaign.ValidateText("hi {nmae}, see {link} and {coupon_code}")
	if !errors.Is(err, store.ErrInvalid) || !errors.Is(err, campaign.ErrInvalid) {
		t.Fatalf("unknown placeholder: %v, want ErrInvalid", err)
	}
	for _, want := range []string{"{nmae}", "{coupon_code}"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if unknown, _, _ := strings.Cut(err.Error(), "(known"); strings.Contains(unknown, "{link}") {
		t.Errorf("error %q names a known placeholder as unknown", err)
	}
}

func TestCountdown(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		locale string
		want   string
	}{
		{3 * 24 * time.Hour, "zh-CN", "3 天"},
		{3*24*time.Hour - 5*time.Second, "zh-CN", "3 天"}, // a job a few seconds late still says 3 days
		{3*24*time.Hour - 5*time.Second, "en", "3 days"},
		{24 * time.Hour, "en", "1 day"},
		{10 * time.Hour, "zh-CN", "10 小时"},
		{2 * time.Hour, "zh-TW", "2 小時"},
		{1 * time.Hour, "en", "1 hour"},
		{10 * time.Minute, "zh-CN", "10 分钟"},
		{10*time.Minute - 3*time.Second, "zh-TW", "10 分鐘"},
		{20 * time.Second, "en", "1 minute"},
		{0, "zh-CN", "现在"},
		{-time.Minute, "en", "now"},
		{5 * time.Minute, "fr", "5 分钟"}, // unknown locale: the default's words
	} {
		if got := campaign.Countdown(c.d, c.locale); got != c.want {
			t.Errorf("Countdown(%v, %s) = %q, want %q", c.d, c.locale, got, c.want)
		}
	}
}

func TestRender(t *testing.T) {
	sh := mustLoc(t, "Asia/Shanghai")
	now := time.Date(2026, 3, 9, 10, 0, 0, 0, sh)
	live := time.Date(2026, 3, 12, 20, 0, 0, 0, sh)
	c := campaign.Content{Variants: map[string]string{
		"zh-CN": "{name}，「{live_title}」{live_time} 开播，还有 {countdown}！{link} —{brand}",
		"zh-TW": "{name}，「{live_title}」{live_time} 開播，還有 {countdown}！",
		"en":    "{name}: “{live_title}” on {live_time}, in {countdown}. {unknown}",
	}}
	v := campaign.Vars{Name: "小美", Brand: "花花", LiveTitle: "春季新品", LiveAt: live, Now: now, Loc: sh, Link: "https://x.test/l"}
	for _, tc := range []struct {
		name             string
		locale, fallback string
		group            bool
		content          campaign.Content
		want             string
	}{
		{"dm zh-CN", "zh-CN", "", false, c, "小美，「春季新品」3月12日 20:00 开播，还有 3 天！https://x.test/l —花花"},
		{"group post greets everyone", "zh-CN", "", true, c, "大家，「春季新品」3月12日 20:00 开播，还有 3 天！https://x.test/l —花花"},
		{"zh-TW words", "zh-Hant", "", false, c, "小美，「春季新品」3月12日 20:00 開播，還有 3 天！"},
		{"en words; an unknown placeholder stays as typed", "en-US", "", true, c, "everyone: “春季新品” on Mar 12, 20:00, in 3 days. {unknown}"},
		{"missing locale → fallback", "ja", "zh-TW", false, c, "小美，「春季新品」3月12日 20:00 開播，還有 3 天！"},
		{"missing locale and fallback → zh-CN", "ja", "ko", false, c, "小美，「春季新品」3月12日 20:00 开播，还有 3 天！https://x.test/l —花花"},
		{"only one variant → that one", "zh-CN", "", false, campaign.Content{Variants: map[string]string{"en": "hi {name}"}}, "hi 小美"},
		{"no live → empty live fields", "zh-CN", "", false, campaign.Content{Variants: map[string]string{"zh-CN": "[{live_title}][{countdown}]"}}, "[][]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := v
			v.Group = tc.group
			if strings.HasPrefix(tc.name, "no live") {
				v.LiveTitle, v.LiveAt = "", time.Time{}
			}
			if got := campaign.Render(tc.content, tc.locale, tc.fallback, v); got != tc.want {
				t.Errorf("Render = %q\nwant     %q", got, tc.want)
			}
		})
	}
}

func TestQuietUntil(t *testing.T) {
	sh := mustLoc(t, "Asia/Shanghai")
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, sh) }
	p := campaign.DefaultPolicy()
	for _, c := range []struct {
		t     time.Time
		quiet bool
		until time.Time
	}{
		{at(2, 21, 59), false, time.Time{}},
		{at(2, 22, 0), true, at(3, 8, 0)},
		{at(2, 23, 0), true, at(3, 8, 0)},
		{at(3, 0, 30), true, at(3, 8, 0)},
		{at(3, 7, 59), true, at(3, 8, 0)},
		{at(3, 8, 0), false, time.Time{}},
		{at(3, 12, 0), false, time.Time{}},
	} {
		until, quiet := p.QuietUntil(c.t, sh)
		if quiet != c.quiet || !until.Equal(c.until) {
			t.Errorf("QuietUntil(%v) = %v, %v; want %v, %v", c.t, until.In(sh), quiet, c.until, c.quiet)
		}
	}
	// On the day Berlin moves to summer time, 08:30 is after the quiet
	// hours by the clock on the wall, though only 7½ hours after midnight.
	berlin := mustLoc(t, "Europe/Berlin")
	if _, quiet := p.QuietUntil(time.Date(2026, 3, 29, 8, 30, 0, 0, berlin), berlin); quiet {
		t.Error("08:30 on the DST day is quiet")
	}
	if until, quiet := p.QuietUntil(time.Date(2026, 3, 29, 7, 30, 0, 0, berlin), berlin); !quiet || !until.Equal(time.Date(2026, 3, 29, 8, 0, 0, 0, berlin)) {
		t.Errorf("07:30 on the DST day: %v %v", until, quiet)
	}
	day := campaign.Policy{QuietStart: "13:00", QuietEnd: "14:00"}
	if until, quiet := day.QuietUntil(at(2, 13, 30), sh); !quiet || !until.Equal(at(2, 14, 0)) {
		t.Errorf("a window within the day: %v %v", until, quiet)
	}
	if _, quiet := (campaign.Policy{QuietStart: "22:00", QuietEnd: "22:00"}).QuietUntil(at(2, 22, 30), sh); quiet {
		t.Error("equal start and end should mean no quiet hours")
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := campaign.DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []campaign.Policy{
		{QuietStart: "25:00", QuietEnd: "08:00", SalesCap: 3, CapWindow: 7 * 24 * time.Hour},
		{QuietStart: "22:00", QuietEnd: "08:00", SalesCap: 0, CapWindow: 7 * 24 * time.Hour},
		{QuietStart: "22:00", QuietEnd: "08:00", SalesCap: 3, CapWindow: 36 * time.Hour},
	} {
		if err := p.Validate(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", p, err)
		}
	}
}

func TestExpand(t *testing.T) {
	sh, tp, berlin := mustLoc(t, "Asia/Shanghai"), mustLoc(t, "Asia/Taipei"), mustLoc(t, "Europe/Berlin")
	groups := campaign.Target{Kind: campaign.TargetGroups, Groups: []int64{12, 13}}
	dm := campaign.Target{Kind: campaign.TargetDM, Segment: campaign.Segment{GroupID: 12}}
	warmup := campaign.Playbook{ID: 7, TenantID: 1, Anchor: campaign.AnchorLiveStart, LiveID: 5, Steps: []campaign.Step{
		{ID: 1, Days: -7, At: "20:00", ContentID: 1, Target: groups},
		{ID: 2, Days: -1, At: "10:00", ContentID: 2, Target: groups},
		{ID: 3, Days: 0, Minutes: -10, ContentID: 3, Target: dm},
		{ID: 4, Days: -2, ContentID: 4, Target: dm},                 // the anchor's local time, two calendar days before
		{ID: 5, Days: -1, BestTime: true, ContentID: 5, Target: dm}, // best time: the default hour until BestTimes
	}}
	type want struct {
		key   string
		local string // run time in the zone, "2006-01-02 15:04 MST"
	}
	for _, c := range []struct {
		name   string
		loc    *time.Location
		anchor time.Time
		want   []want
	}{
		{"Shanghai", sh, time.Date(2026, 3, 12, 20, 0, 0, 0, sh), []want{
			{"pb7:s1:g12:l5", "2026-03-05 20:00"}, {"pb7:s1:g13:l5", "2026-03-05 20:00"},
			{"pb7:s2:g12:l5", "2026-03-11 10:00"}, {"pb7:s2:g13:l5", "2026-03-11 10:00"},
			{"pb7:s3:dm:l5", "2026-03-12 19:50"},
			{"pb7:s4:dm:l5", "2026-03-10 20:00"},
			{"pb7:s5:dm:l5", "2026-03-11 20:00"},
		}},
		{"Taipei, across a month end", tp, time.Date(2026, 3, 3, 0, 5, 0, 0, tp), []want{
			{"pb7:s1:g12:l5", "2026-02-24 20:00"}, {"pb7:s1:g13:l5", "2026-02-24 20:00"},
			{"pb7:s2:g12:l5", "2026-03-02 10:00"}, {"pb7:s2:g13:l5", "2026-03-02 10:00"},
			{"pb7:s3:dm:l5", "2026-03-02 23:55"}, // 10 minutes before 00:05 is the day before
			{"pb7:s4:dm:l5", "2026-03-01 00:05"},
			{"pb7:s5:dm:l5", "2026-03-02 20:00"},
		}},
		// Europe/Berlin moves to summer time on 2026-03-29 at 02:00: the
		// live on the 30th at 20:00 CEST; T-1 at 10:00 is 10:00 local on the
		// 29th (08:00 UTC), and T-2 at the anchor's time is 20:00 CET on the
		// 28th (19:00 UTC) — not 48 hours before (18:00 UTC).
		{"Berlin across the March change", berlin, time.Date(2026, 3, 30, 20, 0, 0, 0, berlin), []want{
			{"pb7:s1:g12:l5", "2026-03-23 20:00"}, {"pb7:s1:g13:l5", "2026-03-23 20:00"},
			{"pb7:s2:g12:l5", "2026-03-29 10:00"}, {"pb7:s2:g13:l5", "2026-03-29 10:00"},
			{"pb7:s3:dm:l5", "2026-03-30 19:50"},
			{"pb7:s4:dm:l5", "2026-03-28 20:00"},
			{"pb7:s5:dm:l5", "2026-03-29 20:00"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			jobs := campaign.Expand(warmup, c.anchor, c.loc, campaign.LiveOccurrence(5))
			if len(jobs) != len(c.want) {
				t.Fatalf("%d jobs, want %d: %+v", len(jobs), len(c.want), jobs)
			}
			for i, j := range jobs {
				if got := j.RunAt.In(c.loc).Format("2006-01-02 15:04"); j.Key != c.want[i].key || got != c.want[i].local {
					t.Errorf("job %d = %s at %s, want %s at %s", i, j.Key, got, c.want[i].key, c.want[i].local)
				}
				if j.RunAt.Location() != time.UTC || j.LiveID != 5 || j.TenantID != 1 || j.State != campaign.JobPending {
					t.Errorf("job %d: %+v", i, j)
				}
			}
			if jobs[0].GroupID != 12 || jobs[1].GroupID != 13 || jobs[4].GroupID != 0 {
				t.Errorf("targets: %d %d %d", jobs[0].GroupID, jobs[1].GroupID, jobs[4].GroupID)
			}
		})
	}
	t.Run("Berlin T-1 10:00 in UTC", func(t *testing.T) {
		jobs := campaign.Expand(warmup, time.Date(2026, 3, 30, 20, 0, 0, 0, berlin), berlin, "l5")
		if got := jobs[2].RunAt; !got.Equal(time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("T-1 10:00 CEST = %v UTC, want 08:00", got)
		}
		if got := jobs[0].RunAt; !got.Equal(time.Date(2026, 3, 23, 19, 0, 0, 0, time.UTC)) {
			t.Errorf("T-7 20:00 CET = %v UTC, want 19:00", got)
		}
		if got := jobs[5].RunAt; !got.Equal(time.Date(2026, 3, 28, 19, 0, 0, 0, time.UTC)) {
			t.Errorf("T-2 at the anchor's time = %v UTC, want 19:00 (20:00 CET)", got)
		}
	})
	t.Run("a live moved after expansion", func(t *testing.T) {
		first := time.Date(2026, 3, 20, 20, 0, 0, 0, berlin)
		moved := time.Date(2026, 3, 30, 21, 0, 0, 0, berlin) // ten days later, an hour later, across the change
		before := campaign.Expand(warmup, first, berlin, "l5")
		after := campaign.Expand(warmup, moved, berlin, "l5")
		for i := range before {
			if before[i].Key != after[i].Key {
				t.Errorf("job %d changed key: %s → %s (a moved live must keep its jobs)", i, before[i].Key, after[i].Key)
			}
			if got := before[i].Reanchored(moved, berlin); !got.RunAt.Equal(after[i].RunAt) || !got.AnchorAt.Equal(moved) {
				t.Errorf("job %d reanchored to %v, expanding again gives %v", i, got.RunAt, after[i].RunAt)
			}
		}
		if got := after[2].RunAt.In(berlin).Format("01-02 15:04"); got != "03-29 10:00" {
			t.Errorf("T-1 10:00 after the move: %s", got)
		}
		if got := after[4].RunAt.In(berlin).Format("01-02 15:04"); got != "03-30 20:50" {
			t.Errorf("T-0 -10 min after the move: %s", got)
		}
	})
	t.Run("member journey and date occurrences", func(t *testing.T) {
		j := campaign.Playbook{ID: 3, Anchor: campaign.AnchorMemberJoin, Steps: []campaign.Step{{ID: 9, Days: 1, At: "20:00", Target: dm}}}
		jobs := campaign.Expand(j, time.Date(2026, 3, 1, 23, 30, 0, 0, sh), sh, campaign.MemberOccurrence(42))
		if len(jobs) != 1 || jobs[0].MemberID != 42 || jobs[0].LiveID != 0 || jobs[0].Key != "pb3:s9:dm:m42" {
			t.Fatalf("%+v", jobs)
		}
		if got := jobs[0].RunAt.In(sh).Format("01-02 15:04"); got != "03-02 20:00" {
			t.Errorf("day 1 at 20:00 = %s", got)
		}
		d := campaign.Playbook{ID: 4, Anchor: campaign.AnchorDate, AnchorAt: time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)}
		if got := campaign.OccurrenceOf(d, 0, sh); got != "2026-03-02" {
			t.Errorf("date occurrence in Shanghai = %s", got)
		}
	})
}

func TestMix(t *testing.T) {
	sh := mustLoc(t, "Asia/Shanghai")
	at := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, sh) }
	job := func(d int, typ campaign.Type, group int64, state campaign.JobState) campaign.Job {
		return campaign.Job{RunAt: at(d), ContentType: typ, GroupID: group, State: state}
	}
	jobs := []campaign.Job{
		// week of 2 March: 7 value, 3 sales → no warning
		job(2, campaign.TypeKnowledge, 1, campaign.JobSent), job(2, campaign.TypeLifestyle, 1, campaign.JobSent),
		job(3, campaign.TypeKnowledge, 1, campaign.JobPending), job(3, campaign.TypeRecap, 1, campaign.JobPending),
		job(4, campaign.TypeActivity, 1, campaign.JobPending), job(5, campaign.TypeKnowledge, 1, campaign.JobPending),
		job(6, campaign.TypeKnowledge, 1, campaign.JobPending),
		job(4, campaign.TypePromo, 1, campaign.JobPending), job(5, campaign.TypeLivePreview, 1, campaign.JobPending),
		job(8, campaign.TypeFlashSale, 1, campaign.JobPending), // Sunday the 8th: same ISO week
		job(6, campaign.TypePromo, 1, campaign.JobCancelled),   // not counted
		job(6, campaign.TypePromo, 2, campaign.JobSkipped),     // not counted
		// week of 9 March: 1 value, 4 sales to group 2 → warning, over the cap of 3
		job(9, campaign.TypeKnowledge, 2, campaign.JobPending),
		job(9, campaign.TypePromo, 2, campaign.JobPending), job(10, campaign.TypePromo, 2, campaign.JobPending),
		job(11, campaign.TypePromo, 2, campaign.JobPending), job(12, campaign.TypePromo, 2, campaign.JobPending),
	}
	weeks := campaign.Mix(jobs, sh, 3)
	if len(weeks) != 2 {
		t.Fatalf("%+v", weeks)
	}
	w1, w2 := weeks[0], weeks[1]
	if w1.Year != 2026 || w1.Week != 10 || w1.Value != 7 || w1.Sales != 3 || w1.Warning || w1.OverCap {
		t.Errorf("week 10: %+v", w1)
	}
	if !w1.Start.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, sh)) {
		t.Errorf("week 10 starts %v", w1.Start)
	}
	if w2.Week != 11 || w2.Value != 1 || w2.Sales != 4 || !w2.Warning || !w2.OverCap {
		t.Errorf("week 11: %+v", w2)
	}
}

func TestTypeSales(t *testing.T) {
	sales := map[campaign.Type]bool{campaign.TypePromo: true, campaign.TypeLivePreview: true, campaign.TypeFlashSale: true}
	for _, typ := range campaign.Types {
		if typ.Sales() != sales[typ] {
			t.Errorf("%s.Sales() = %v", typ, typ.Sales())
		}
	}
}
