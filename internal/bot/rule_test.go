package bot

import (
	"errors"
	"strings"
	"testing"
)

// demoRules are valid rules of every kind (as the demo brand configures).
func demoRules() []Rule {
	return []Rule{
		welcomeRule(1, "欢迎 {names} 加入{group}！🌸 {promise}\n群规：{rules}\n{gift}", 10),
		keywordRule(2, MatchContains, "发货", "{name} 您好～现货 48 小时内发出 https://shop.example/a?b=1", 120),
		keywordRule(3, MatchPattern, `(敏感肌|过敏).*(能用|可以用)`, "{name} 建议先试用", 300),
		keywordRule(4, MatchExact, "营业时间", "10:00–22:00", 0),
		checkInRule(5, "08:00", "23:00"),
		checkInRule(6, "20:00", "02:00"),
		checkInRule(7, "", ""),
		discussionRule(8, 1, 5, 4),
		moderationRule(9, func(c *ModerationConfig) {
			c.NewMemberLinkHours, c.FloodCount, c.FloodSeconds, c.BannedWords = 24, 6, 10, []string{"代购", "加微信"}
		}),
		wishlistRule(10),
		wishlistRule(11, "心愿", "心願", "wish"),
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, r := range demoRules() {
		if err := r.Validate(); err != nil {
			t.Errorf("rule %d (%s): %v", r.ID, r.Kind, err)
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	kw := func(mode MatchMode, pattern, reply string) Rule { return keywordRule(1, mode, pattern, reply, 0) }
	ci := func(f func(*CheckInConfig)) Rule { r := checkInRule(1, "08:00", "23:00"); f(r.CheckIn); return r }
	mod := func(f func(*ModerationConfig)) Rule { return moderationRule(1, f) }
	cases := []struct {
		name string
		rule Rule
		want string // in the message
	}{
		{"bad pattern", kw(MatchPattern, "(a|b", "x"), "pattern: missing closing ) in `(a|b`"},
		{"bad repetition", kw(MatchPattern, "a**", "x"), "pattern: invalid nested repetition operator in `**`"},
		{"Perl lookahead", kw(MatchPattern, "a(?=b)", "x"), "pattern: invalid or unsupported Perl syntax in `(?=`"},
		{"pattern too long", kw(MatchPattern, strings.Repeat("a", 201), "x"), "pattern: 201 characters, at most 200"},
		{"pattern matching everything", kw(MatchPattern, "x*", "x"), "pattern: matches an empty message"},
		{"full-width in a pattern", kw(MatchPattern, "（敏感肌|过敏)", "x"), "pattern: full-width '（'"},
		{"exact command word", kw(MatchExact, "積分", "x"), `pattern: "積分" is a built-in command`},
		{"empty contains", kw(MatchContains, "  ！", "x"), "pattern: write the word to match"},
		{"contains too long", kw(MatchContains, strings.Repeat("字", 201), "x"), "pattern: 201 characters, at most 200"},
		{"unknown mode", kw("regex", "a", "x"), `mode: "regex" is not one of exact, contains, pattern`},
		{"reply placeholder", kw(MatchContains, "a", "hi {nmae}"), "reply: unknown placeholder {nmae} (use {name}, {group})"},
		{"empty reply", kw(MatchContains, "a", " "), "reply: write the message"},
		{"negative cooldown", keywordRule(1, MatchContains, "a", "x", -1), "cooldown seconds: -1 is outside"},
		{"welcome placeholder", welcomeRule(1, "欢迎 {nmae}", 0), "template: unknown placeholder {nmae} (use {names}, {name}, {group}, {rules}, {promise}, {gift})"},
		{"two unknown placeholders", welcomeRule(1, "{a}{b}{a}", 0), "template: unknown placeholders {a}, {b}"},
		{"unclosed placeholder", welcomeRule(1, "欢迎 {names 来", 0), "template: unclosed placeholder {names"},
		{"negative gift", welcomeRule(1, "hi", -5), "gift points: -5 is outside 0–1000000"},
		{"no answers", ci(func(c *CheckInConfig) { c.Answers = nil }), "answers: give at least one accepted answer"},
		{"blank answer", ci(func(c *CheckInConfig) { c.Answers = []string{"玫瑰红", " ！ "} }), `answers: " ！ " is empty`},
		{"answer is a command", ci(func(c *CheckInConfig) { c.Answers = []string{"积分"} }), `answers: "积分" is a command`},
		{"no question", ci(func(c *CheckInConfig) { c.Question = "" }), "question: write today's question"},
		{"bad start", ci(func(c *CheckInConfig) { c.WindowStart = "25:00" }), `window: "25:00" is not a time of day (write HH:MM, e.g. 08:00)`},
		{"bad end", ci(func(c *CheckInConfig) { c.WindowEnd = "23:60" }), `window: "23:60" is not a time of day`},
		{"not a time", ci(func(c *CheckInConfig) { c.WindowEnd = "11pm" }), `window: "11pm" is not a time of day`},
		{"24:00 cannot start", ci(func(c *CheckInConfig) { c.WindowStart = "24:00" }), `window: "24:00" is not a time of day`},
		{"half a window", ci(func(c *CheckInConfig) { c.WindowEnd = "" }), "window: set both the opening and the closing time"},
		{"negative points", ci(func(c *CheckInConfig) { c.Points = -1 }), "points: -1 is outside"},
		{"bad streak bonus", ci(func(c *CheckInConfig) { c.StreakBonus = map[int]int64{-1: -1} }), "streak bonus: write day=points"},
		{"zero discussion points", discussionRule(1, 0, 10, 0), "points per message: 0 is outside 1–1000000"},
		{"zero cap", discussionRule(1, 1, 0, 0), "daily cap: 0 is outside"},
		{"negative flood", mod(func(c *ModerationConfig) { c.FloodCount, c.FloodSeconds = -1, 10 }), "flood count: -1 is outside"},
		{"half a flood rule", mod(func(c *ModerationConfig) { c.FloodCount = 5 }), "flood: set both"},
		{"flood window beyond history", mod(func(c *ModerationConfig) { c.FloodCount, c.FloodSeconds = 5, 3600 }), "flood seconds: 3600 is outside 0–600"},
		{"no mute length", mod(func(c *ModerationConfig) { c.MuteMinutes = 0 }), "mute minutes: 0 is outside"},
		{"empty banned word", mod(func(c *ModerationConfig) { c.BannedWords = []string{"代购", " "} }), "banned words: remove the empty entry"},
		{"empty wish keyword", wishlistRule(1, ""), "keywords: remove the empty entry"},
		{"unknown kind", Rule{Kind: "poll", Enabled: true}, `kind: "poll" is not one of`},
		{"missing settings", Rule{Kind: KindKeyword}, "keyword: settings missing"},
		{"settings of another kind", Rule{Kind: KindWelcome, Welcome: &WelcomeConfig{Template: "hi"}, Wishlist: &WishlistConfig{}},
			"welcome: settings of other kinds present ([welcome wishlist])"},
		{"negative ids", func() Rule { r := wishlistRule(1); r.GroupID = -1; return r }(), "group and persona ids must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.rule.Validate()
			if !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("Validate() = %v, want ErrInvalidRule", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	r := checkInRule(1, "25:00", "23:00")
	r.CheckIn.Answers, r.CheckIn.Points = nil, -3
	err := r.Validate()
	for _, want := range []string{"answers:", "window:", "points:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want %q", err, want)
		}
	}
}

func TestAppliesTo(t *testing.T) {
	r := wishlistRule(1)
	if !r.AppliesTo(5) || !inGroup(r, 5).AppliesTo(5) || inGroup(r, 6).AppliesTo(5) || disabled(r).AppliesTo(5) {
		t.Fatal("AppliesTo")
	}
	if (Rule{Kind: KindWishlist, Enabled: true}).AppliesTo(5) {
		t.Fatal("a rule without settings applies")
	}
}

func TestDueReminder(t *testing.T) {
	c := &WishlistConfig{Reminders: []string{"12:00", "20:00", "２０:３０"}}
	for _, tc := range []struct {
		at   string
		want string
	}{
		{"2026-11-23 11:59", ""},
		{"2026-11-23 12:00", "2026-11-23 12:00"},
		{"2026-11-23 12:59", "2026-11-23 12:00"},
		{"2026-11-23 13:00", ""}, // an hour late: skipped, not posted late
		{"2026-11-23 20:10", "2026-11-23 20:00"},
		{"2026-11-23 20:45", "2026-11-23 20:30"}, // the latest slot wins
		{"2026-11-24 00:10", ""},
	} {
		got, ok := c.DueReminder(local(taipei, tc.at), taipei)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q %v, want %q", tc.at, got, ok, tc.want)
		}
	}
	// The tenant's zone decides: 12:00 in Shanghai is 04:00 UTC.
	if got, _ := c.DueReminder(utc("2026-11-23T04:05:00Z"), shanghai); got != "2026-11-23 12:00" {
		t.Errorf("Shanghai: %q", got)
	}
	bad := wishlistRule(1)
	bad.Wishlist.Reminders = []string{"25:00"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "reminders") {
		t.Errorf("invalid reminder accepted: %v", err)
	}
}
