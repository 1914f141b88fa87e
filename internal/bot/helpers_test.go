package bot

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai and Asia/Taipei on any machine
)

var (
	shanghai = mustLoc("Asia/Shanghai")
	taipei   = mustLoc("Asia/Taipei")
)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// local parses "2006-01-02 15:04[:05]" in loc.
func local(loc *time.Location, s string) time.Time {
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout += ":05"
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

// utc parses an RFC 3339 instant.
func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The fixtures: group 1 "花漾美妆群", member 7 "小美", event 100.
const (
	groupID  = 1
	memberID = 7
	eventID  = 100
)

// Personas of the fixtures.
const (
	pAssistant = 11
	pBot       = 12
	pHost      = 13
)

func state(rules ...Rule) State {
	return State{Loc: shanghai, Group: GroupInfo{ID: groupID, Name: "花漾美妆群", Rules: "不发广告", Promise: "每周福利"}, Rules: rules}
}

func (s State) with(f func(*MemberState)) State {
	f(&s.Member)
	return s
}

func say(text string, at time.Time) Input {
	return Input{Kind: InputMessage, EventID: eventID, At: at, GroupID: groupID, MemberID: memberID, MemberName: "小美", Text: text}
}

func join(at time.Time) Input {
	return Input{Kind: InputJoined, EventID: eventID, At: at, GroupID: groupID, MemberID: memberID, MemberName: "小美"}
}

// noon is an ordinary moment inside every window of the fixtures.
var noon = local(shanghai, "2026-11-23 12:00")

func welcomeRule(id int64, tpl string, gift int64) Rule {
	return Rule{ID: id, Kind: KindWelcome, PersonaID: pAssistant, Enabled: true,
		Welcome: &WelcomeConfig{Template: tpl, GiftPoints: gift, DebounceSeconds: 20}}
}

func keywordRule(id int64, mode MatchMode, pattern, reply string, cooldown int) Rule {
	return Rule{ID: id, Kind: KindKeyword, PersonaID: pBot, Enabled: true,
		Keyword: &KeywordConfig{Mode: mode, Pattern: pattern, Reply: reply, CooldownSeconds: cooldown}}
}

func checkInRule(id int64, start, end string) Rule {
	return Rule{ID: id, Kind: KindCheckIn, PersonaID: pAssistant, Enabled: true, CheckIn: &CheckInConfig{
		Question: "昨晚直播间的幸运色是？", Answers: []string{"玫瑰红", "Rose"}, Hint: "一种花的颜色",
		WindowStart: start, WindowEnd: end, Points: 5, StreakBonus: map[int]int64{7: 20, 30: 100}}}
}

func discussionRule(id, per, limit int64, minRunes int) Rule {
	return Rule{ID: id, Kind: KindDiscussion, PersonaID: pBot, Enabled: true,
		Discussion: &DiscussionConfig{PointsPerMessage: per, DailyCap: limit, MinRunes: minRunes}}
}

func moderationRule(id int64, f func(*ModerationConfig)) Rule {
	c := &ModerationConfig{MuteMinutes: 30, WarnsBeforeMute: 2, MutesBeforeRemove: 3, WarnDecayHours: 72}
	if f != nil {
		f(c)
	}
	return Rule{ID: id, Kind: KindModeration, PersonaID: pBot, Enabled: true, Moderation: c}
}

func wishlistRule(id int64, keywords ...string) Rule {
	return Rule{ID: id, Kind: KindWishlist, PersonaID: pAssistant, Enabled: true, Wishlist: &WishlistConfig{Keywords: keywords}}
}

func disabled(r Rule) Rule { r.Enabled = false; return r }

func inGroup(r Rule, g int64) Rule { r.GroupID = g; return r }

func persona(r Rule, p int64) Rule { r.PersonaID = p; return r }

// evalCase is one row of the engine's tables.
type evalCase struct {
	name string
	st   State
	in   Input
	want []Action
}

func runEval(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Evaluate(c.st, c.in)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Evaluate(%q)\n got: %s\nwant: %s", c.in.Text, show(got), show(c.want))
			}
			checkNeeds(t, c)
		})
	}
}

// show prints actions one per line, readable in a failure.
func show(as []Action) string {
	if as == nil {
		return "nil"
	}
	var b strings.Builder
	for _, a := range as {
		if m, ok := a.(Moderate); ok && !m.Until.IsZero() {
			fmt.Fprintf(&b, "\n  %#v (until %s)", a, m.Until.Format(time.RFC3339))
			continue
		}
		fmt.Fprintf(&b, "\n  %#v", a)
	}
	return b.String()
}
