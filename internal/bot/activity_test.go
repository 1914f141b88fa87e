package bot

import (
	"testing"
	"time"
)

func TestActivities(t *testing.T) {
	poll := Activity{ID: 5, Options: 3, PersonaID: pHost, ClosesAt: noon.Add(time.Hour)}
	prompt := Activity{ID: 6, Prompt: true, Tag: "#晒单", Points: 10, PersonaID: pHost, ClosesAt: noon.Add(time.Hour)}
	with := func(st State, as ...Activity) State { st.Activities = as; return st }
	vote := func(poll int64, c int) []Action { return []Action{Vote{PollID: poll, Choice: c}} }
	entry := func(text string) []Action {
		return []Action{Entry{PromptID: 6, PersonaID: pHost, Points: 10, Text: text}}
	}
	disc := discussionRule(2, 1, 10, 0)
	link := moderationRule(1, func(c *ModerationConfig) { c.BlockLinks = true })
	runEval(t, []evalCase{
		{"a number votes", with(state(), poll), say("2", noon), vote(5, 2)},
		{"full-width digit", with(state(), poll), say("３", noon), vote(5, 3)},
		{"with a vote word", with(state(), poll), say("投 1", noon), vote(5, 1)},
		{"zh-TW vote word", with(state(), poll), say("選2", noon), vote(5, 2)},
		{"English", with(state(), poll), say("Vote 3", noon), vote(5, 3)},
		{"hash", with(state(), poll), say("#1", noon), vote(5, 1)},
		{"out of range", with(state(), poll), say("4", noon), nil},
		{"zero", with(state(), poll), say("0", noon), nil},
		{"leading zero", with(state(), poll), say("01", noon), nil},
		{"a number inside a sentence is chat", with(state(disc), poll), say("我要2个", noon), []Action{Award{Points: 1, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}}},
		{"no poll: a number is chat", state(disc), say("2", noon), []Action{Award{Points: 1, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}}},
		{"after the deadline", with(state(), poll), say("2", noon.Add(time.Hour)), nil},
		{"newest poll wins", with(state(), poll, Activity{ID: 9, Options: 2, ClosesAt: noon.Add(time.Minute)}), say("1", noon), vote(9, 1)},
		{"newest closed: the older takes it", with(state(), poll, Activity{ID: 9, Options: 2, ClosesAt: noon}), say("1", noon), vote(5, 1)},
		{"out of the newest's range: the older takes it", with(state(), poll, Activity{ID: 9, Options: 2, ClosesAt: noon.Add(time.Minute)}), say("3", noon), vote(5, 3)},
		{"prompt entry", with(state(), prompt), say("#晒单 粉底液到了，超好用", noon), entry("#晒单 粉底液到了，超好用")},
		{"tag anywhere, full-width hash", with(state(), prompt), say("今天收到啦 ＃晒单", noon), entry("今天收到啦 ＃晒单")},
		{"no tag: chat", with(state(disc), prompt), say("粉底液到了", noon), []Action{Award{Points: 1, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}}},
		{"prompt closed", with(state(), prompt), say("#晒单 到了", noon.Add(2*time.Hour)), nil},
		{"moderation first", with(state(link), prompt), say("#晒单 https://spam.example", noon), []Action{Moderate{RuleID: 1, Action: "warn", Reason: "link", Hide: true}}},
		{"staff never vote", with(state(), poll), func() Input { in := say("1", noon); in.IsStaff = true; return in }(), nil},
	})
}

func TestParseVote(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want int
	}{{"1", 3, 1}, {"10", 10, 10}, {"11", 10, 0}, {"投票 2", 3, 2}, {"vote", 3, 0}, {"", 3, 0}, {"1.5", 3, 0}, {"-1", 3, 0}, {"+1", 3, 0}, {"100", 10, 0}} {
		got, ok := parseVote(fold(c.in), c.n)
		if (c.want == 0) == ok || got != c.want {
			t.Errorf("parseVote(%q, %d) = %d, %v; want %d", c.in, c.n, got, ok, c.want)
		}
	}
}
