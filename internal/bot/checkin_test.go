package bot

import (
	"testing"
	"time"
)

func TestCheckIn(t *testing.T) {
	day := checkInRule(1, "08:00", "23:00")
	ok := func(d string, streak int, bonus int64) []Action {
		return []Action{CheckIn{PersonaID: pAssistant, Day: d, Streak: streak, Points: 5, Bonus: bonus}}
	}
	cmd := func(name, arg string) []Action { return []Action{Command{PersonaID: pAssistant, Name: name, Arg: arg}} }
	last := func(d string, streak int) State {
		return state(day).with(func(m *MemberState) { m.LastCheckInDay, m.Streak = d, streak })
	}
	at := func(s string) time.Time { return local(shanghai, "2026-11-23 "+s) }
	runEval(t, []evalCase{
		{"plain answer", state(day), say("玫瑰红", noon), ok("2026-11-23", 1, 0)},
		{"plain answer, punctuation and spaces", state(day), say(" 玫瑰 红！", noon), ok("2026-11-23", 1, 0)},
		{"签到 answer", state(day), say("签到 玫瑰红", noon), ok("2026-11-23", 1, 0)},
		{"簽到：ROSE！", state(day), say("簽到：ROSE！", noon), ok("2026-11-23", 1, 0)},
		{"checkin rose", state(day), say("checkin rose", noon), ok("2026-11-23", 1, 0)},
		{"check-in rose", state(day), say("Check-in: rose", noon), ok("2026-11-23", 1, 0)},
		{"full-width answer", state(day), say("ＲＯＳＥ", noon), ok("2026-11-23", 1, 0)},
		{"wrong answer after 签到 gets the hint", state(day), say("签到 蓝色", noon), cmd("checkin_wrong", "蓝色")},
		{"a plain wrong message is chat", state(day), say("蓝色", noon), nil},
		{"签到玫瑰红 glued", state(day), say("签到玫瑰红！", noon), ok("2026-11-23", 1, 0)},
		{"签到了吗 is chat, not an answer", state(day), say("签到了吗", noon), nil},
		{"签到 alone: the question", state(day), say("签到", noon), cmd("checkin_question", "2026-11-23")},
		{"打卡 alone", state(day), say("打卡！", noon), cmd("checkin_question", "2026-11-23")},
		{"before the window", state(day), say("玫瑰红", at("07:59")), cmd("checkin_closed", "")},
		{"window opens", state(day), say("玫瑰红", at("08:00")), ok("2026-11-23", 1, 0)},
		{"last minute", state(day), say("玫瑰红", at("22:59:59")), ok("2026-11-23", 1, 0)},
		{"window end is excluded", state(day), say("玫瑰红", at("23:00")), cmd("checkin_closed", "")},
		{"签到 alone when closed", state(day), say("签到", at("23:30")), cmd("checkin_closed", "")},
		{"wrong answer when closed", state(day), say("签到 蓝色", at("06:00")), cmd("checkin_closed", "")},
		{"already today", last("2026-11-23", 1), say("玫瑰红", noon), cmd("checkin_done", "2026-11-23")},
		{"签到 alone, already today", last("2026-11-23", 1), say("签到", noon), cmd("checkin_done", "2026-11-23")},
		{"wrong answer, already today", last("2026-11-23", 1), say("签到 蓝色", noon), cmd("checkin_done", "2026-11-23")},
		{"streak continues", last("2026-11-22", 3), say("玫瑰红", noon), ok("2026-11-23", 4, 0)},
		{"streak across a month", state(day).with(func(m *MemberState) { m.LastCheckInDay, m.Streak = "2026-11-30", 2 }),
			say("玫瑰红", local(shanghai, "2026-12-01 09:00")), ok("2026-12-01", 3, 0)},
		{"a missed day resets the streak", last("2026-11-21", 9), say("玫瑰红", noon), ok("2026-11-23", 1, 0)},
		{"bonus on day 7", last("2026-11-22", 6), say("玫瑰红", noon), ok("2026-11-23", 7, 20)},
		{"no bonus on day 8", last("2026-11-22", 7), say("玫瑰红", noon), ok("2026-11-23", 8, 0)},
		{"exact keys only: none on day 14", last("2026-11-22", 13), say("玫瑰红", noon), ok("2026-11-23", 14, 0)},
		{"bonus on day 30", last("2026-11-22", 29), say("玫瑰红", noon), ok("2026-11-23", 30, 100)},
		{"disabled rule: chat", state(disabled(day)), say("玫瑰红", noon), nil},
		{"answers earn no discussion points", state(day, discussionRule(2, 1, 10, 0)), say("玫瑰红", noon), ok("2026-11-23", 1, 0)},
	})
}

// TestCheckInAcrossMidnight covers windows crossing midnight and day
// boundaries at 16:00 UTC (midnight in Asia/Shanghai and Asia/Taipei).
func TestCheckInAcrossMidnight(t *testing.T) {
	night := checkInRule(1, "20:00", "02:00")
	allDay := checkInRule(1, "", "")
	ok := func(d string, streak int) []Action {
		return []Action{CheckIn{PersonaID: pAssistant, Day: d, Streak: streak, Points: 5}}
	}
	closed := []Action{Command{PersonaID: pAssistant, Name: "checkin_closed"}}
	in := func(loc *time.Location, s State) State { s.Loc = loc; return s }
	last := func(loc *time.Location, r Rule, d string, streak int) State {
		return in(loc, state(r).with(func(m *MemberState) { m.LastCheckInDay, m.Streak = d, streak }))
	}
	runEval(t, []evalCase{
		{"Shanghai 21:00 counts for today", state(night), say("玫瑰红", local(shanghai, "2026-11-23 21:00")), ok("2026-11-23", 1)},
		{"Shanghai 01:00 counts for the day before", state(night), say("玫瑰红", local(shanghai, "2026-11-24 01:00")), ok("2026-11-23", 1)},
		{"the same instant in UTC", state(night), say("玫瑰红", utc("2026-11-23T17:00:00Z")), ok("2026-11-23", 1)},
		{"Shanghai 00:00 exactly", state(night), say("玫瑰红", utc("2026-11-23T16:00:00Z")), ok("2026-11-23", 1)},
		{"Shanghai 02:00 closed", state(night), say("玫瑰红", local(shanghai, "2026-11-24 02:00")), closed},
		{"Shanghai 19:59 closed", state(night), say("玫瑰红", local(shanghai, "2026-11-23 19:59")), closed},
		{"Shanghai noon closed", state(night), say("玫瑰红", noon), closed},
		{"done at 21:00, again at 01:00: same window", last(shanghai, night, "2026-11-23", 1),
			say("玫瑰红", local(shanghai, "2026-11-24 01:00")), []Action{Command{PersonaID: pAssistant, Name: "checkin_done", Arg: "2026-11-23"}}},
		{"after midnight continues the streak", last(shanghai, night, "2026-11-22", 4),
			say("玫瑰红", local(shanghai, "2026-11-24 01:30")), ok("2026-11-23", 5)},
		{"the next evening continues it", last(shanghai, night, "2026-11-23", 5),
			say("玫瑰红", local(shanghai, "2026-11-24 20:00")), ok("2026-11-24", 6)},
		{"Taipei 00:30 counts for the day before", in(taipei, state(night)), say("rose", utc("2026-11-23T16:30:00Z")), ok("2026-11-23", 1)},
		{"Taipei 01:59:59", in(taipei, state(night)), say("rose", utc("2026-11-23T17:59:59Z")), ok("2026-11-23", 1)},
		{"Taipei 02:00 closed", in(taipei, state(night)), say("rose", utc("2026-11-23T18:00:00Z")), closed},
		{"Taipei all day: 23:59:59 is the 23rd", in(taipei, state(allDay)), say("rose", utc("2026-11-23T15:59:59Z")), ok("2026-11-23", 1)},
		{"Taipei all day: 00:00 is the 24th", in(taipei, state(allDay)), say("rose", utc("2026-11-23T16:00:00Z")), ok("2026-11-24", 1)},
		{"Taipei: checked in at 23:59, again at 00:00 is a new day", last(taipei, allDay, "2026-11-23", 2),
			say("rose", utc("2026-11-23T16:00:00Z")), ok("2026-11-24", 3)},
		{"UTC tenant at 16:30 UTC is still the 23rd", in(time.UTC, state(allDay)), say("rose", utc("2026-11-23T16:30:00Z")), ok("2026-11-23", 1)},
		{"Shanghai tenant at 16:30 UTC is the 24th", state(allDay), say("rose", utc("2026-11-23T16:30:00Z")), ok("2026-11-24", 1)},
		{"window to 24:00", state(checkInRule(1, "08:00", "24:00")), say("rose", local(shanghai, "2026-11-23 23:59")), ok("2026-11-23", 1)},
	})
}

func TestOpenDay(t *testing.T) {
	cases := []struct {
		start, end string
		at         time.Time
		day        string
		open       bool
	}{
		{"08:00", "23:00", local(shanghai, "2026-11-23 08:00"), "2026-11-23", true},
		{"08:00", "23:00", local(shanghai, "2026-11-23 23:00"), "2026-11-23", false},
		{"20:00", "02:00", local(shanghai, "2026-12-01 00:10"), "2026-11-30", true},
		{"20:00", "02:00", local(shanghai, "2027-01-01 01:00"), "2026-12-31", true},
		{"08:00", "08:00", local(shanghai, "2026-11-24 07:59"), "2026-11-23", true}, // 24 hours from 08:00
		{"00:00", "00:00", local(shanghai, "2026-11-24 00:00"), "2026-11-24", true},
		{"8:00", "23:00", local(shanghai, "2026-11-23 08:30"), "2026-11-23", true},
		{"０８：００", "２３：００", local(shanghai, "2026-11-23 08:30"), "2026-11-23", true},
		{"25:00", "23:00", local(shanghai, "2026-11-23 08:30"), "", false}, // invalid: never open
	}
	for _, c := range cases {
		cfg := CheckInConfig{WindowStart: c.start, WindowEnd: c.end}
		day, open := cfg.OpenDay(c.at, shanghai)
		if open != c.open || (c.open && day != c.day) {
			t.Errorf("%s–%s at %s: (%q, %v), want (%q, %v)", c.start, c.end, c.at, day, open, c.day, c.open)
		}
	}
}

func TestNextStreak(t *testing.T) {
	cases := []struct {
		last   string
		streak int
		day    string
		want   int
	}{
		{"", 0, "2026-11-23", 1},
		{"2026-11-22", 3, "2026-11-23", 4},
		{"2026-11-22", 0, "2026-11-23", 2}, // a last day means at least one
		{"2026-11-21", 3, "2026-11-23", 1},
		{"2026-02-28", 1, "2026-03-01", 2},
		{"2028-02-28", 1, "2028-03-01", 1}, // leap year: the 29th was missed
		{"garbage", 5, "2026-11-23", 1},
		{"2026-11-22", 5, "garbage", 1},
	}
	for _, c := range cases {
		if got := nextStreak(c.last, c.streak, c.day); got != c.want {
			t.Errorf("nextStreak(%q, %d, %q) = %d, want %d", c.last, c.streak, c.day, got, c.want)
		}
	}
}
