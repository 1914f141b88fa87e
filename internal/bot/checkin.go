package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dayLayout is the format of a tenant day.
const dayLayout = "2006-01-02"

// window is a check-in window in minutes after local midnight, [start, end).
// end ≤ start crosses midnight.
type window struct {
	start, end int
	allDay     bool
}

// parseWindow reads "HH:MM" bounds; both empty means all day, and the end
// may be "24:00".
func parseWindow(start, end string) (window, error) {
	start, end = strings.TrimSpace(start), strings.TrimSpace(end)
	if start == "" && end == "" {
		return window{allDay: true}, nil
	}
	if start == "" || end == "" {
		return window{}, fmt.Errorf("set both the opening and the closing time, or neither for all day")
	}
	s, err := parseClock(start, false)
	if err != nil {
		return window{}, err
	}
	e, err := parseClock(end, true)
	if err != nil {
		return window{}, err
	}
	return window{start: s, end: e}, nil
}

// parseClock reads "HH:MM" (full-width digits allowed) as minutes after
// midnight; "24:00" only as an end.
func parseClock(s string, isEnd bool) (int, error) {
	bad := fmt.Errorf("%q is not a time of day (write HH:MM, e.g. 08:00)", s)
	hh, mm, ok := strings.Cut(fold(s), ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, bad
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || hh[0] == '+' || mm[0] == '+' {
		return 0, bad
	}
	if h == 24 && m == 0 && isEnd {
		return 24 * 60, nil
	}
	if h > 23 {
		return 0, bad
	}
	return h*60 + m, nil
}

// OpenDay reports whether the check-in window is open at the instant at in
// the tenant's time zone loc, and the tenant day a check-in then counts for:
// the local date, or for a window crossing midnight the date it opened. An
// invalid window is never open.
func (c *CheckInConfig) OpenDay(at time.Time, loc *time.Location) (day string, open bool) {
	w, err := parseWindow(c.WindowStart, c.WindowEnd)
	if err != nil {
		return "", false
	}
	local := at.In(loc)
	m := local.Hour()*60 + local.Minute()
	today := local.Format(dayLayout)
	switch {
	case w.allDay:
		return today, true
	case w.start < w.end:
		return today, m >= w.start && m < w.end
	case m >= w.start:
		return today, true
	case m < w.end:
		return time.Date(local.Year(), local.Month(), local.Day()-1, 12, 0, 0, 0, loc).Format(dayLayout), true
	}
	return today, false
}

// Accepts reports whether answer is one of the accepted answers, compared
// normalised and without inner spaces.
func (c *CheckInConfig) Accepts(answer string) bool {
	a := compact(Normalize(answer))
	if a == "" {
		return false
	}
	for _, ok := range c.Answers {
		if compact(Normalize(ok)) == a {
			return true
		}
	}
	return false
}

// nextStreak is the streak of a check-in on day after the member's last
// check-in: one more if the last was the day before, else 1.
func nextStreak(last string, streak int, day string) int {
	if last != "" && last == prevDay(day) {
		return max(streak, 1) + 1
	}
	return 1
}

// prevDay returns the tenant day before day ("" if day is not a date).
func prevDay(day string) string {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -1).Format(dayLayout)
}

// checkedIn reports whether the member already checked in on day (or later).
func (e *eval) checkedIn(day string) bool {
	last := e.st.Member.LastCheckInDay
	return last != "" && last >= day
}

// checkInQuestion answers "签到" alone: closed, already done, or the question.
func (e *eval) checkInQuestion(r *Rule) []Action {
	day, open := r.CheckIn.OpenDay(e.in.At, e.loc)
	switch {
	case !open:
		return e.command(r.PersonaID, CmdCheckInClosed, "")
	case e.checkedIn(day):
		return e.command(r.PersonaID, CmdCheckInDone, day)
	}
	return e.command(r.PersonaID, CmdCheckInQuestion, day)
}

// checkInAttempt handles an answer: given explicitly ("签到 X") any answer is
// an attempt; given as a plain message only an accepted answer is.
func (e *eval) checkInAttempt(r *Rule, answer string, explicit bool) ([]Action, bool) {
	cfg := r.CheckIn
	correct := cfg.Accepts(answer)
	if !explicit && !correct {
		return nil, false
	}
	day, open := cfg.OpenDay(e.in.At, e.loc)
	switch {
	case !open:
		return e.command(r.PersonaID, CmdCheckInClosed, ""), true
	case e.checkedIn(day):
		return e.command(r.PersonaID, CmdCheckInDone, day), true
	case !correct:
		return e.command(r.PersonaID, CmdCheckInWrong, answer), true
	}
	streak := nextStreak(e.st.Member.LastCheckInDay, e.st.Member.Streak, day)
	return []Action{CheckIn{PersonaID: r.PersonaID, Day: day, Streak: streak, Points: cfg.Points, Bonus: cfg.StreakBonus[streak]}}, true
}
