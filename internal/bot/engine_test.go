package bot

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestWelcome(t *testing.T) {
	tpl := "欢迎 {names} 加入{group}！{gift}"
	tenantWide := welcomeRule(1, tpl, 10)
	own := inGroup(persona(welcomeRule(2, "欢迎来到{group}", 30), pHost), groupID)
	greet := func(r Rule) Welcome {
		return Welcome{PersonaID: r.PersonaID, RuleID: r.ID, Template: r.Welcome.Template, Name: "小美", DebounceSeconds: 20}
	}
	gift := func(n int64) Award {
		return Award{Points: n, Kind: "welcome", Ref: "welcome:1:7", Note: "welcome gift"}
	}
	staff := join(noon)
	staff.IsStaff = true
	runEval(t, []evalCase{
		{"greeting and gift", state(tenantWide), join(noon), []Action{greet(tenantWide), gift(10)}},
		{"no gift", state(welcomeRule(1, tpl, 0)), join(noon), []Action{greet(welcomeRule(1, tpl, 0))}},
		{"group's own rule first, one gift", state(tenantWide, own), join(noon), []Action{greet(own), gift(30), greet(tenantWide)}},
		{"disabled rule ignored", state(disabled(tenantWide)), join(noon), nil},
		{"another group's rule ignored", state(inGroup(tenantWide, 2)), join(noon), nil},
		{"rule without settings ignored", state(Rule{ID: 9, Kind: KindWelcome, Enabled: true}), join(noon), nil},
		{"staff joining is not greeted", state(tenantWide), staff, nil},
		{"other rules do not greet", state(keywordRule(3, MatchContains, "发货", "x", 0), discussionRule(4, 1, 5, 0)), join(noon), nil},
		{"unknown input kind", state(tenantWide), Input{Kind: "left", At: noon, GroupID: groupID}, nil},
	})
}

func TestKeyword(t *testing.T) {
	ship := keywordRule(1, MatchContains, "发货", "{name} 您好～{group} 现货 48 小时内发出 https://shop.example/ship", 120)
	exact := keywordRule(2, MatchExact, "发货时间", "exact", 0)
	re := keywordRule(3, MatchPattern, `(敏感肌|过敏).*(能用|可以用)`, "先在耳后试用", 0)
	vip := keywordRule(4, MatchContains, "VIP", "VIP 价", 0)
	reply := func(r Rule, text string) Reply { return Reply{PersonaID: pBot, Text: text, ReplyTo: eventID} }
	shipReply := reply(ship, "小美 您好～花漾美妆群 现货 48 小时内发出 https://shop.example/ship")
	cool := func(at time.Time) Cooldown { return Cooldown{Key: "kw:1", At: at} }
	cooling := func(last time.Time) State {
		s := state(ship, re)
		s.Cooldowns = map[string]time.Time{"kw:1": last}
		return s
	}
	runEval(t, []evalCase{
		{"contains, rendered, cooldown recorded", state(ship), say("请问什么时候发货？", noon), []Action{shipReply, cool(noon)}},
		{"no match", state(ship), say("好看", noon), nil},
		{"exact ignores case, width, end punctuation", state(exact), say("  发货时间？！", noon), []Action{reply(exact, "exact")}},
		{"exact is the whole message", state(exact), say("发货时间是多久", noon), nil},
		{"pattern", state(re), say("我是敏感肌，这个能用吗", noon), []Action{reply(re, "先在耳后试用")}},
		{"pattern no match", state(re), say("敏感肌怎么办", noon), nil},
		{"full-width and case folded", state(vip), say("ｖｉｐ价格多少", noon), []Action{reply(vip, "VIP 价")}},
		{"inside cooldown: silent", cooling(noon.Add(-119 * time.Second)), say("发货了吗", noon), nil},
		{"cooldown over", cooling(noon.Add(-120 * time.Second)), say("发货了吗", noon), []Action{shipReply, cool(noon)}},
		{"first match decides even while cooling", cooling(noon.Add(-time.Minute)), say("过敏能用吗 发货呢", noon), nil},
		{"second rule when the first does not match", cooling(noon.Add(-time.Minute)), say("过敏能用吗", noon), []Action{reply(re, "先在耳后试用")}},
		{"other rule's cooldown does not matter", func() State { s := state(re); s.Cooldowns = map[string]time.Time{"kw:1": noon}; return s }(),
			say("过敏可以用吗", noon), []Action{reply(re, "先在耳后试用")}},
		{"disabled rule ignored", state(disabled(ship)), say("发货", noon), nil},
		{"group's own rule first", state(vip, inGroup(keywordRule(5, MatchContains, "vip", "own", 0), groupID)), say("VIP", noon),
			[]Action{reply(vip, "own")}},
		{"reply and discussion points", state(ship, discussionRule(9, 1, 10, 4)), say("请问什么时候发货", noon),
			[]Action{shipReply, cool(noon), Award{Points: 1, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}}},
	})
}

func TestCommands(t *testing.T) {
	kw := keywordRule(1, MatchContains, "发货", "x", 0)
	ci := checkInRule(2, "08:00", "23:00")
	disc := discussionRule(3, 1, 10, 0)
	cmd := func(p int64, name string) []Action { return []Action{Command{PersonaID: p, Name: name}} }
	award := Award{Points: 1, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}
	runEval(t, []evalCase{
		{"积分", state(kw, ci, disc), say("积分", noon), cmd(pBot, "points")},
		{"積分 with punctuation", state(kw), say(" 積分？", noon), cmd(pBot, "points")},
		{"points in capitals", state(kw), say("POINTS", noon), cmd(pBot, "points")},
		{"slash command", state(kw), say("/points", noon), cmd(pBot, "points")},
		{"full-width", state(kw), say("ｐｏｉｎｔｓ", noon), cmd(pBot, "points")},
		{"排行榜", state(kw), say("排行榜", noon), cmd(pBot, "rank")},
		{"rank", state(kw), say("Rank!", noon), cmd(pBot, "rank")},
		{"幫助", state(kw), say("幫助", noon), cmd(pBot, "help")},
		{"help", state(kw), say("help", noon), cmd(pBot, "help")},
		{"persona: check-in rule without keyword rules", state(ci, disc), say("积分", noon), cmd(pAssistant, "points")},
		{"persona: first applicable rule otherwise", state(persona(disc, pHost)), say("积分", noon), cmd(pHost, "points")},
		{"no rules: nothing", state(), say("积分", noon), nil},
		{"inside a sentence: not a command", state(disc), say("积分怎么用", noon), []Action{award}},
		{"签到 without a check-in rule is chat", state(disc), say("签到", noon), []Action{award}},
		{"wins over a keyword rule", state(keywordRule(5, MatchExact, "积分", "kw", 0)), say("积分", noon), cmd(pBot, "points")},
	})
}

func TestDiscussion(t *testing.T) {
	d := discussionRule(1, 3, 10, 4)
	award := func(n int64) []Action {
		return []Action{Award{Points: n, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}}
	}
	today := func(n int64) State { return state(d).with(func(m *MemberState) { m.DiscussionToday = n }) }
	runEval(t, []evalCase{
		{"points", state(d), say("今天直播好看", noon), award(3)},
		{"too short", state(d), say("好的！！", noon), nil},
		{"spaces and end punctuation do not count", state(d), say("好 的 呀 ～～～", noon), nil},
		{"just enough", state(d), say("好的好的", noon), award(3)},
		{"partial award up to the cap", today(9), say("今天直播好看", noon), award(1)},
		{"zero after the cap", today(10), say("今天直播好看", noon), nil},
		{"over the cap (cap lowered)", today(12), say("今天直播好看", noon), nil},
		{"not for commands", state(d), say("排行榜", noon), []Action{Command{PersonaID: pBot, Name: "rank"}}},
		{"first discussion rule only", state(d, discussionRule(2, 5, 50, 0)), say("今天直播好看", noon), award(3)},
		{"disabled", state(disabled(d)), say("今天直播好看", noon), nil},
	})
}

func TestWishlist(t *testing.T) {
	w := wishlistRule(1)
	wish := func(text string) []Action { return []Action{Wish{PersonaID: pAssistant, Text: text}} }
	form := []Action{Command{PersonaID: pAssistant, Name: "wish"}}
	disc := discussionRule(2, 1, 10, 0)
	runEval(t, []evalCase{
		{"心愿 text", state(w), say("心愿 粉底液色号", noon), wish("粉底液色号")},
		{"full-width colon", state(w), say("心愿：想要 YSL 小金条", noon), wish("想要 YSL 小金条")},
		{"zh-TW", state(w), say("心願 卸妝油", noon), wish("卸妝油")},
		{"English", state(w), say("Wish: red lipstick", noon), wish("red lipstick")},
		{"心愿单 with text", state(w), say("心愿单 面膜", noon), wish("面膜")},
		{"keyword alone", state(w), say("心愿", noon), form},
		{"心愿单 alone", state(w), say("心愿单！", noon), form},
		{"wish list alone", state(w), say("wish list", noon), form},
		{"no separator: chat", state(w, disc), say("心愿是什么", noon), []Action{Award{Points: 1, Kind: "discussion", Ref: "discussion:100", Note: "discussion"}}},
		{"wishes is not wish", state(w), say("best wishes", noon), nil},
		{"custom keywords", state(wishlistRule(1, "许愿")), say("许愿 面膜", noon), wish("面膜")},
		{"custom keywords replace defaults", state(wishlistRule(1, "许愿")), say("心愿 面膜", noon), nil},
		{"wishes earn no discussion points", state(w, disc), say("心愿 粉底液色号", noon), wish("粉底液色号")},
	})
}

func TestStaffIgnored(t *testing.T) {
	in := say("https://spam.example 代购 积分", noon)
	in.IsStaff = true
	all := state(moderationRule(1, func(c *ModerationConfig) { c.BlockLinks = true }), keywordRule(2, MatchContains, "积分", "x", 0),
		discussionRule(3, 1, 10, 0))
	if got := Evaluate(all, in); got != nil {
		t.Fatalf("staff message: %s", show(got))
	}
}

func TestNilLocationIsUTC(t *testing.T) {
	s := state(checkInRule(1, "", ""))
	s.Loc = nil
	got := Evaluate(s, say("玫瑰红", utc("2026-11-23T23:30:00Z")))
	want := []Action{CheckIn{PersonaID: pAssistant, Day: "2026-11-23", Streak: 1, Points: 5}}
	if len(got) != 1 || got[0] != want[0] {
		t.Fatalf("got %s", show(got))
	}
}

func TestEvaluateIsPure(t *testing.T) {
	s := state(checkInRule(1, "08:00", "23:00"), keywordRule(2, MatchContains, "发货", "x", 60))
	s.Cooldowns = map[string]time.Time{}
	in := say("发货", noon)
	first := Evaluate(s, in)
	if len(s.Cooldowns) != 0 {
		t.Fatal("Evaluate changed the state")
	}
	if second := Evaluate(s, in); show(first) != show(second) {
		t.Fatalf("not deterministic: %s vs %s", show(first), show(second))
	}
}

// TestConcurrentEvaluate shares the pattern memo between goroutines (run
// with -race).
func TestConcurrentEvaluate(t *testing.T) {
	st := state(benchRules()...)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				Evaluate(st, say(benchMessages[(g+i)%len(benchMessages)], noon))
				Match(MatchPattern, fmt.Sprintf("x%d", (g*200+i)%50), "x1")
			}
		})
	}
	wg.Wait()
}
