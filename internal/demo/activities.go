package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
)

// seedActivities gives the main group what a newcomer should find there:
// a poll decided two days ago (with its result), a poll open now with
// votes coming in, a "share your haul" prompt with entries, and a private
// thread between the assistant and a regular.
func (g *generator) seedActivities(ctx context.Context, personas map[bot.Role]bot.Persona) error {
	if g.d.Polls == nil {
		return nil
	}
	grp := g.groups[0]
	host, assistant := personas[bot.RoleHost], personas[bot.RoleAssistant]
	var active []demoMember
	for _, m := range g.members {
		if j, ok := m.joined[grp.ID]; ok && j.Before(g.end.Add(-72*time.Hour)) && m.left[grp.ID].IsZero() {
			active = append(active, m)
		}
	}
	if len(active) < 20 {
		return nil
	}
	tid := g.tenant.ID
	announce := func(tx *store.Tx, key string, at time.Time, p bot.Persona, text string) error {
		_, err := g.d.Log.AppendTx(ctx, tx, &event.Event{TenantID: tid, Type: event.Message, Source: event.SourceDemo,
			SourceID: key, At: at, GroupID: grp.ID, StaffID: g.staffID,
			Data: event.MustData(event.MessageData{Text: text, SenderName: p.Name, PersonaID: p.ID})})
		return err
	}
	numbered := func(p poll.Poll) string {
		var b strings.Builder
		fmt.Fprintf(&b, "📊 投票：%s", p.Question)
		for i, o := range p.Options {
			fmt.Fprintf(&b, "\n%d. %s", i+1, o)
		}
		b.WriteString("\n回复选项编号即可投票（或点按钮）")
		return b.String()
	}
	return g.d.DB.InTx(ctx, func(tx *store.Tx) error {
		// A poll decided two days ago: 下周返场哪款.
		past := g.end.Add(-52 * time.Hour) // two days ago, 20:00
		decided, err := g.d.Polls.CreateTx(ctx, tx, poll.Poll{TenantID: tid, GroupID: grp.ID, Kind: poll.KindPoll,
			Question: "下周返场哪一款？", Options: []string{"修护精华", "玫瑰红唇釉", "氨基酸洁面"}, PersonaID: host.ID,
			StaffID: g.staffID, CreatedAt: past, ClosesAt: g.end.Add(48 * time.Hour)})
		if err != nil {
			return err
		}
		if err := announce(tx, "demo-poll-1-open", past, host, numbered(decided)); err != nil {
			return err
		}
		for i, m := range active[:min(len(active), 60)] {
			choice := []int{1, 2, 2, 3, 2}[g.rng.IntN(5)]
			at := past.Add(time.Duration(1+i) * time.Minute)
			if _, err := g.d.Polls.VoteTx(ctx, tx, tid, decided.ID, m.id, choice, at, event.SourceDemo, fmt.Sprintf("demo-vote-1-%d", m.id)); err != nil {
				return err
			}
		}
		res, _, err := g.d.Polls.CloseTx(ctx, tx, decided, past.Add(26*time.Hour))
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "📊 投票结果：%s（共 %d 票）", decided.Question, res.Total)
		for i, o := range decided.Options {
			fmt.Fprintf(&b, "\n%d. %s — %d (%d%%)", i+1, o, res.Counts[i], res.Percent(i))
		}
		if err := announce(tx, "demo-poll-1-result", past.Add(26*time.Hour), host, b.String()); err != nil {
			return err
		}

		// A poll open now, closing the day after tomorrow at 20:00.
		open, err := g.d.Polls.CreateTx(ctx, tx, poll.Poll{TenantID: tid, GroupID: grp.ID, Kind: poll.KindPoll,
			Question: "周五直播先上哪个专场？", Options: []string{"秋冬护肤", "彩妆新品", "香氛礼盒", "学生党平价"}, PersonaID: host.ID,
			StaffID: g.staffID, CreatedAt: g.end.Add(-4 * time.Hour), ClosesAt: g.end.Add(44 * time.Hour)})
		if err != nil {
			return err
		}
		if err := announce(tx, "demo-poll-2-open", open.CreatedAt, host, numbered(open)); err != nil {
			return err
		}
		for i, m := range active[:min(len(active), 35)] {
			at := open.CreatedAt.Add(time.Duration(2+i*3) * time.Minute)
			if _, err := g.d.Polls.VoteTx(ctx, tx, tid, open.ID, m.id, 1+g.rng.IntN(len(open.Options)), at, event.SourceDemo,
				fmt.Sprintf("demo-vote-2-%d", m.id)); err != nil {
				return err
			}
		}

		// A prompt: 晒单 with the tag, ten points for a first entry.
		prompt, err := g.d.Polls.CreateTx(ctx, tx, poll.Poll{TenantID: tid, GroupID: grp.ID, Kind: poll.KindPrompt,
			Question: "晒出你的战利品，分享使用感受", Tag: "#晒单", Points: 10, PersonaID: assistant.ID,
			StaffID: g.staffID, CreatedAt: g.end.Add(-30 * time.Hour), ClosesAt: g.end.Add(6 * 24 * time.Hour)})
		if err != nil {
			return err
		}
		if err := announce(tx, "demo-prompt-1-open", prompt.CreatedAt, assistant, "📸 晒出你的战利品，分享使用感受 —— 发消息时带上 #晒单 即可参加，首次参与得 10 积分。"); err != nil {
			return err
		}
		hauls := []string{"#晒单 修护精华到啦，包装好精致", "#晒单 玫瑰红唇釉上嘴超显白！", "#晒单 洁面用了一周，皮肤不紧绷", "#晒单 直播间抢到的面霜，冲！",
			"#晒单 小样也好用，下次买正装", "#晒单 给妈妈买的套装她很喜欢"}
		for i, m := range active[:8] {
			at := prompt.CreatedAt.Add(time.Duration(20+i*47) * time.Minute)
			e := event.Event{TenantID: tid, Type: event.Message, Source: event.SourceDemo, SourceID: fmt.Sprintf("demo-haul-%d", i),
				At: at, MemberID: m.id, GroupID: grp.ID, Data: event.MustData(event.MessageData{Text: hauls[i%len(hauls)], SenderName: m.name})}
			if _, err := g.d.Log.AppendTx(ctx, tx, &e); err != nil {
				return err
			}
			_, first, err := g.d.Polls.EntryTx(ctx, tx, prompt, m.id, e.ID, hauls[i%len(hauls)], at)
			if err != nil {
				return err
			}
			if first && g.d.Loyalty != nil {
				if _, _, err := g.d.Loyalty.AwardTx(ctx, tx, loyalty.Entry{TenantID: tid, MemberID: m.id, Delta: 10, Kind: loyalty.KindActivity,
					Ref: fmt.Sprintf("prompt:%d:%d", prompt.ID, m.id), GroupID: grp.ID, Note: prompt.Question, At: at}); err != nil {
					return err
				}
			}
		}

		// A private thread: the assistant follows up an order question.
		m := active[0]
		thread := []struct {
			fromMember bool
			text       string
		}{
			{false, fmt.Sprintf("%s 您好，我是助理小花～看到您在群里问订单，方便告诉我订单号后四位吗？", m.name)},
			{true, "你好，是 3721"},
			{false, "查到啦：已经从杭州仓发出，预计后天到，到了记得来群里 #晒单 哦 🌸"},
			{true, "好的谢谢！"},
		}
		for i, msg := range thread {
			d := event.MessageData{Text: msg.text, SenderName: assistant.Name, PersonaID: assistant.ID}
			staff := g.staffID
			if msg.fromMember {
				d, staff = event.MessageData{Text: msg.text, SenderName: m.name, FromMember: true}, 0
			}
			if _, err := g.d.Log.AppendTx(ctx, tx, &event.Event{TenantID: tid, Type: event.DirectMessage, Source: event.SourceDemo,
				SourceID: fmt.Sprintf("demo-dm-%d", i), At: g.end.Add(-time.Duration(10-i) * time.Hour), MemberID: m.id, StaffID: staff,
				Data: event.MustData(d)}); err != nil {
				return err
			}
		}
		return nil
	})
}
