package bot

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzRules are rules of every kind, all acting at once.
func fuzzRules() []Rule {
	rules := demoRules()
	rules = append(rules, moderationRule(20, func(c *ModerationConfig) {
		c.BlockLinks, c.FloodCount, c.FloodSeconds, c.BannedWords = true, 3, 5, []string{"spam", "加微信"}
	}))
	return rules
}

var fuzzLocs = []*time.Location{shanghai, taipei, time.UTC, time.FixedZone("odd", -(9*3600 + 30*60)), nil}

func FuzzEvaluate(f *testing.F) {
	seeds := []string{"", "签到 玫瑰红", "玫瑰红", "积分", "心愿 粉底液", "https://a.cn", "代购", "发货", "我敏感肌能用吗",
		"\xff\xfe\xfd", strings.Repeat("签到 ", 1000), strings.Repeat("a.com ", 500), "{name}{{", "签到\x00玫瑰红", "心愿单"}
	for i, s := range seeds {
		f.Add(s, int64(1795000000+i*3600), int64(i*1800), uint8(i), int64(i-3), int64(i))
	}
	rules := fuzzRules()
	f.Fuzz(func(t *testing.T, text string, at, joinedAgo int64, flags uint8, lastDay, today int64) {
		in := Input{Kind: InputMessage, EventID: 1, At: time.Unix(at, 0), GroupID: 1, MemberID: 2, MemberName: text, Text: text, IsStaff: flags&1 != 0}
		if flags&2 != 0 {
			in.Kind = InputJoined
		}
		st := State{Loc: fuzzLocs[int(flags>>2)%len(fuzzLocs)], Group: GroupInfo{ID: 1, Name: text}, Rules: rules}
		st.Member = MemberState{JoinedAt: in.At.Add(-time.Duration(joinedAgo) * time.Second), DiscussionToday: today % 20,
			LastCheckInDay: in.At.AddDate(0, 0, int(lastDay%5)).Format(dayLayout), Streak: int(lastDay % 40),
			Warns: []time.Time{in.At.Add(-time.Hour)}, Mutes: int(flags >> 5), MutedUntil: in.At.Add(time.Duration(lastDay) * time.Minute)}
		for i := range int(flags >> 4) {
			st.Member.RecentMessages = append(st.Member.RecentMessages, in.At.Add(-time.Duration(i)*time.Second))
		}
		got := Evaluate(st, in)
		if again := Evaluate(st, in); !reflect.DeepEqual(got, again) {
			t.Fatalf("not deterministic: %s vs %s", show(got), show(again))
		}
		checkActions(t, st, in, got)
	})
}

// checkActions asserts what must hold of any evaluation.
func checkActions(t *testing.T, st State, in Input, got []Action) {
	t.Helper()
	if in.IsStaff && got != nil {
		t.Fatalf("staff input: %s", show(got))
	}
	for _, a := range got {
		switch a := a.(type) {
		case Moderate:
			if len(got) != 1 {
				t.Fatalf("a moderated message got more: %s", show(got))
			}
		case Award:
			if a.Points <= 0 || a.Ref == "" {
				t.Fatalf("award %#v", a)
			}
			if a.Kind == AwardDiscussion && st.Member.DiscussionToday+a.Points > 5 {
				t.Fatalf("cap exceeded: %d + %d", st.Member.DiscussionToday, a.Points)
			}
		case CheckIn:
			if _, err := time.Parse(dayLayout, a.Day); err != nil || a.Streak < 1 {
				t.Fatalf("check-in %#v", a)
			}
		case Wish:
			if Normalize(a.Text) == "" || !utf8.ValidString(a.Text) && utf8.ValidString(in.Text) {
				t.Fatalf("wish %#v", a)
			}
		case Reply, Welcome, Command, Cooldown:
		default:
			t.Fatalf("unknown action %T", a)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add(uint8(0), "发货", "请问发货？")
	f.Add(uint8(1), "ＶＩＰ", "vip")
	f.Add(uint8(2), `(敏感肌|过敏).*(能用|可以用)`, "过敏可以用吗")
	f.Add(uint8(2), `(a+)+$`, strings.Repeat("a", 4096)+"!")
	f.Add(uint8(2), `(a|b`, "a")
	f.Add(uint8(2), `\xff`, "\xff\xfe")
	f.Add(uint8(1), "\xff", "\xff\xfe\xfd")
	f.Add(uint8(0), "签到", strings.Repeat("签到 ", 1000))
	f.Add(uint8(3), "a", "a")
	modes := []MatchMode{MatchExact, MatchContains, MatchPattern, "unknown"}
	f.Fuzz(func(t *testing.T, mode uint8, pattern, text string) {
		m := modes[int(mode)%len(modes)]
		got := Match(m, pattern, text)
		switch m {
		case MatchContains:
			if got != (fold(pattern) != "" && strings.Contains(fold(text), fold(pattern))) {
				t.Fatalf("contains(%q, %q) = %v", pattern, text, got)
			}
		case MatchExact:
			if Match(MatchExact, text, text) != (Normalize(text) != "") {
				t.Fatalf("exact(%q, itself) wrong", text)
			}
		case "unknown":
			if got {
				t.Fatal("unknown mode matched")
			}
		}
		if n := Normalize(text); Normalize(n) != n || !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q is not a fixed point", text, n)
		}
		_ = HasLink(text)
		_, _ = cutWord(text, pattern)
		if ValidatePattern(pattern) == nil && Match(MatchPattern, pattern, "") {
			t.Fatalf("valid pattern %q matches an empty message", pattern)
		}
	})
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"欢迎 {names} 加入{group}", "{{", "{", "{a", "{a}", "}{", "{{{name}}}", "\xff{name}"} {
		f.Add(s, "小美")
	}
	f.Fuzz(func(t *testing.T, tpl, value string) {
		_ = ValidateTemplate(tpl, WelcomePlaceholders...)
		out := Render(tpl, map[string]string{"name": value})
		if !strings.Contains(tpl, "{") && out != tpl {
			t.Fatalf("Render(%q) = %q changed a template without placeholders", tpl, out)
		}
		if ValidateTemplate(tpl) == nil && !strings.Contains(tpl, "{{") && Render(tpl, nil) != tpl {
			t.Fatalf("a valid template without placeholders changed: %q", tpl)
		}
	})
}

// TestHugeInput sends a mebibyte of text of every kind through the whole
// engine and the matcher (no timing: benchmarks measure speed).
func TestHugeInput(t *testing.T) {
	st := State{Loc: shanghai, Group: GroupInfo{ID: 1}, Rules: fuzzRules()}
	for _, text := range []string{
		strings.Repeat("a", 1<<20) + "!",
		strings.Repeat("签到 玫瑰红 ", 1<<16),
		strings.Repeat("\xff\xfe", 1<<19),
		strings.Repeat("a.b.c.d.", 1<<17) + "com",
		"心愿 " + strings.Repeat("粉底液", 1<<18),
	} {
		got := Evaluate(st, say(text, noon))
		checkActions(t, st, say(text, noon), got)
		for _, m := range []MatchMode{MatchExact, MatchContains, MatchPattern} {
			Match(m, `(a+)+$|(签到\s*)+x`, text)
		}
	}
}
