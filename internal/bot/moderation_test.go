package bot

import (
	"testing"
	"time"
)

func TestModeration(t *testing.T) {
	links := moderationRule(1, func(c *ModerationConfig) { c.BlockLinks = true })
	newbies := moderationRule(1, func(c *ModerationConfig) { c.NewMemberLinkHours = 24 })
	banned := moderationRule(1, func(c *ModerationConfig) { c.BannedWords = []string{"代购", "加微信", "Free Money"} })
	flood := moderationRule(1, func(c *ModerationConfig) { c.FloodCount, c.FloodSeconds = 5, 10 })
	disc := discussionRule(2, 1, 10, 0)
	award := Award{Points: 1, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}
	warn := func(reason string) []Action {
		return []Action{Moderate{RuleID: 1, Action: "warn", Reason: reason, Hide: true}}
	}
	joined := func(r Rule, ago time.Duration) State {
		return state(r, disc).with(func(m *MemberState) { m.JoinedAt = noon.Add(-ago) })
	}
	recent := func(r Rule, ago ...int) State {
		return state(r, disc).with(func(m *MemberState) {
			for _, s := range ago {
				m.RecentMessages = append(m.RecentMessages, noon.Add(-time.Duration(s)*time.Second))
			}
		})
	}
	runEval(t, []evalCase{
		{"https link", state(links, disc), say("看这里 https://spam.example/x", noon), warn("link")},
		{"www", state(links), say("www.spam-shop.net", noon), warn("link")},
		{"bare domain with path", state(links), say("加我 abc.com/x", noon), warn("link")},
		{"t.me", state(links), say("进群 t.me/deals", noon), warn("link")},
		{"full-width dot", state(links), say("abc．com", noon), warn("link")},
		{"moderated message earns nothing", state(links, disc, keywordRule(3, MatchContains, "看", "x", 0)), say("看 https://a.cn", noon), warn("link")},
		{"decimal discount is not a link", state(links, disc), say("今天3.5折，1.5元包邮", noon), []Action{award}},
		{"node.js is not a link", state(links, disc), say("学node.js", noon), []Action{award}},
		{"new member's link", joined(newbies, 2*time.Hour), say("https://a.cn", noon), warn("new_member_link")},
		{"new member, 23:59 after joining", joined(newbies, 24*time.Hour-time.Minute), say("abc.com", noon), warn("new_member_link")},
		{"member of a day may link", joined(newbies, 24*time.Hour), say("https://a.cn", noon), []Action{award}},
		{"unknown join time is not new", state(newbies, disc), say("https://a.cn", noon), []Action{award}},
		{"new member without a link", joined(newbies, time.Hour), say("大家好", noon), []Action{award}},
		{"banned word", state(banned, disc), say("专业代购，私聊", noon), warn("banned_word")},
		{"banned word with spaces", state(banned), say("加 微 信 领福利", noon), warn("banned_word")},
		{"banned word full-width and case", state(banned), say("ＦＲＥＥ  money here", noon), warn("banned_word")},
		{"no banned word", state(banned, disc), say("代言人是谁", noon), []Action{award}},
		{"flood: 6 messages in 10 s", recent(flood, 9, 7, 5, 3, 1), say("刷", noon), warn("flood")},
		{"5 messages in 10 s is fine", recent(flood, 7, 5, 3, 1), say("刷", noon), []Action{award}},
		{"10 s ago is outside the window", recent(flood, 10, 7, 5, 3, 1), say("刷", noon), []Action{award}},
		{"disabled moderation ignored", state(disabled(links), disc), say("https://a.cn", noon), []Action{award}},
		{"links allowed when neither rule is on", state(moderationRule(1, nil), disc), say("https://a.cn", noon), []Action{award}},
	})
}

func TestEscalation(t *testing.T) {
	mk := func(f func(*ModerationConfig)) Rule {
		return moderationRule(1, func(c *ModerationConfig) {
			c.BannedWords = []string{"代购"}
			if f != nil {
				f(c)
			}
		})
	}
	r := mk(nil) // warn twice, then mute 30 min; after 3 mutes remove; warnings last 72 h
	member := func(r Rule, mutes int, warnsAgo ...time.Duration) State {
		return state(r).with(func(m *MemberState) {
			m.Mutes = mutes
			for _, d := range warnsAgo {
				m.Warns = append(m.Warns, noon.Add(-d))
			}
		})
	}
	mod := func(action string, until time.Time) []Action {
		return []Action{Moderate{RuleID: 1, Action: action, Reason: "banned_word", Until: until, Hide: true}}
	}
	var none time.Time
	h := time.Hour
	runEval(t, []evalCase{
		{"first offence warns", member(r, 0), say("代购", noon), mod("warn", none)},
		{"second offence warns", member(r, 0, h), say("代购", noon), mod("warn", none)},
		{"third offence mutes", member(r, 0, 2*h, h), say("代购", noon), mod("mute", noon.Add(30*time.Minute))},
		{"decayed warning does not count", member(r, 0, 73*h, h), say("代购", noon), mod("warn", none)},
		{"warning just inside decay counts", member(r, 0, 72*h-time.Second, h), say("代购", noon), mod("mute", noon.Add(30*time.Minute))},
		{"no decay: old warnings count", member(mk(func(c *ModerationConfig) { c.WarnDecayHours = 0 }), 0, 1000*h, 900*h), say("代购", noon),
			mod("mute", noon.Add(30*time.Minute))},
		{"muted before, still warned: mutes again", member(r, 2, 3*h, 2*h), say("代购", noon), mod("mute", noon.Add(30*time.Minute))},
		{"after 3 mutes: remove", member(r, 3, 3*h, 2*h), say("代购", noon), mod("remove", none)},
		{"3 mutes but warnings decayed: warn", member(r, 3, 100*h, 90*h), say("代购", noon), mod("warn", none)},
		{"never remove when 0", member(mk(func(c *ModerationConfig) { c.MutesBeforeRemove = 0 }), 50, h, h), say("代购", noon),
			mod("mute", noon.Add(30*time.Minute))},
		{"no warnings: mute at once", member(mk(func(c *ModerationConfig) { c.WarnsBeforeMute = 0 }), 0), say("代购", noon),
			mod("mute", noon.Add(30*time.Minute))},
	})
}

func TestFloodEscalatesOncePerBurst(t *testing.T) {
	r := moderationRule(1, func(c *ModerationConfig) { c.FloodCount, c.FloodSeconds = 5, 10 })
	burst := func(warnsAgo ...time.Duration) State {
		return state(r).with(func(m *MemberState) {
			for s := 9; s >= 0; s-- {
				m.RecentMessages = append(m.RecentMessages, noon.Add(-time.Duration(s)*time.Second))
			}
			for _, d := range warnsAgo {
				m.Warns = append(m.Warns, noon.Add(-d))
			}
		})
	}
	flood := func(action string, until time.Time) []Action {
		return []Action{Moderate{RuleID: 1, Action: action, Reason: "flood", Until: until, Hide: true}}
	}
	runEval(t, []evalCase{
		{"first flooding message warns", burst(), say("刷", noon), flood("warn", time.Time{})},
		{"the rest of the burst is only hidden", burst(3 * time.Second), say("刷", noon), flood("hide", time.Time{})},
		{"flooding on after the window: warn again", burst(11 * time.Second), say("刷", noon), flood("warn", time.Time{})},
		{"and then mute", burst(time.Minute, 11*time.Second), say("刷", noon), flood("mute", noon.Add(30*time.Minute))},
	})
}

func TestMutedMemberHidden(t *testing.T) {
	kw := keywordRule(2, MatchContains, "发货", "x", 0)
	muted := func(until time.Time) State {
		return state(kw, discussionRule(3, 1, 10, 0)).with(func(m *MemberState) { m.MutedUntil = until })
	}
	hide := []Action{Moderate{Action: "hide", Reason: "muted", Hide: true}}
	runEval(t, []evalCase{
		{"muted: hidden, nothing else", muted(noon.Add(time.Minute)), say("发货了吗", noon), hide},
		{"muted even without a moderation rule or any rule", state().with(func(m *MemberState) { m.MutedUntil = noon.Add(time.Second) }),
			say("hi", noon), hide},
		{"mute over", muted(noon), say("发货了吗", noon), []Action{Reply{PersonaID: pBot, Text: "x", ReplyTo: eventID},
			Award{Points: 1, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}}},
	})
}
