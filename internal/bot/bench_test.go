package bot

import (
	"fmt"
	"testing"
	"time"
)

// benchRules are 50 rules of one group: welcome, check-in, discussion,
// moderation (new-member links, flood, 20 banned words), wishlist, and 45
// keyword rules (15 exact, 15 contains, 15 patterns).
func benchRules() []Rule {
	rules := []Rule{
		welcomeRule(1, "欢迎 {names} 加入{group}！{promise} {gift}", 10),
		checkInRule(2, "08:00", "23:00"),
		discussionRule(3, 1, 10, 4),
		moderationRule(4, func(c *ModerationConfig) {
			c.NewMemberLinkHours, c.FloodCount, c.FloodSeconds = 24, 6, 10
			for i := range 20 {
				c.BannedWords = append(c.BannedWords, fmt.Sprintf("违禁词%d", i))
			}
		}),
		wishlistRule(5),
	}
	for i := range 15 {
		id := int64(10 + 3*i)
		rules = append(rules,
			keywordRule(id, MatchExact, fmt.Sprintf("营业时间%d", i), "{name} 您好，10:00–22:00", 60),
			keywordRule(id+1, MatchContains, fmt.Sprintf("产品%d号", i), "{name} 详情见 https://shop.example/p/1", 60),
			keywordRule(id+2, MatchPattern, fmt.Sprintf(`(敏感肌|过敏).*(能用|可以用).*%d`, i), "{name} 建议先试用", 300))
	}
	return rules
}

// benchMessages mix what a group sends: chat, keyword hits, commands,
// check-in answers, wishes, links and a banned word.
var benchMessages = []string{
	"今天直播间的口红色号好好看呀", "请问产品7号什么时候发货", "积分", "玫瑰红", "心愿 想要粉底液小样",
	"我是敏感肌这个能用吗14", "哈哈哈", "https://spam.example/x 点击领取", "营业时间3", "签到 蓝色",
	"主播今天穿的外套是哪家的", "违禁词7 私聊", "排行榜", "好的谢谢～", "3.5折太划算了，1.5元包邮",
}

func BenchmarkEvaluate(b *testing.B) {
	st := state(benchRules()...)
	start := local(shanghai, "2026-11-23 10:00")
	st.Member = MemberState{JoinedAt: start.Add(-2 * time.Hour), LastCheckInDay: "2026-11-22", Streak: 3, DiscussionToday: 4,
		RecentMessages: []time.Time{start.Add(-50 * time.Second), start.Add(-20 * time.Second)}}
	st.Cooldowns = map[string]time.Time{"kw:10": start.Add(-time.Hour), "kw:11": start.Add(-30 * time.Second)}
	inputs := make([]Input, len(benchMessages)+1)
	for i, m := range benchMessages {
		inputs[i] = say(m, start.Add(time.Duration(i)*time.Minute))
	}
	inputs[len(benchMessages)] = join(start)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Evaluate(st, inputs[i%len(inputs)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
