package demo

import (
	"context"
	"errors"
	"fmt"
	"github.com/liveloop/liveloop/internal/campaign"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
)

// seedRoutine gives the demo brand its community routine: personas, the
// rules of seed 004's groups (welcome with a gift, passphrase check-in,
// keyword replies, points for taking part, group rules, wishlist), a
// reward store, and a month of check-ins, points and wishes so the
// leaderboard and the demand board have something to show.
func (g *generator) seedRoutine(ctx context.Context) error {
	if g.d.Bot == nil || g.d.Loyalty == nil {
		return nil
	}
	tid := g.tenant.ID
	personas := map[bot.Role]bot.Persona{}
	for _, p := range []bot.Persona{
		{Name: "助理小花", Role: bot.RoleAssistant}, {Name: "美妆顾问 Lily", Role: bot.RoleExpert},
		{Name: "主播 小满", Role: bot.RoleHost}, {Name: "花漾小助手", Role: bot.RoleBot},
	} {
		saved, err := g.d.Bot.SavePersona(ctx, tid, p)
		if err != nil {
			return err
		}
		personas[p.Role] = saved
	}
	assistant, helper := personas[bot.RoleAssistant].ID, personas[bot.RoleBot].ID
	rules := []bot.Rule{
		{Kind: bot.KindWelcome, PersonaID: assistant, Enabled: true, Welcome: &bot.WelcomeConfig{
			Template: "欢迎 {names} 加入{group}！🌸 {promise}\n群规：{rules}\n{gift}", GiftPoints: 10, GiftCoupon: "满 99 减 10，券码 NEW10", DebounceSeconds: 20}},
		{Kind: bot.KindCheckIn, PersonaID: assistant, Enabled: true, CheckIn: &bot.CheckInConfig{
			Question: "昨晚直播间抽中的幸运色是？", Answers: []string{"玫瑰红", "rose"}, Hint: "三个字，一种花的颜色",
			WindowStart: "08:00", WindowEnd: "23:00", Points: 5, StreakBonus: map[int]int64{7: 20, 30: 100}}},
		{Kind: bot.KindKeyword, PersonaID: helper, Enabled: true, Keyword: &bot.KeywordConfig{
			Mode: "contains", Pattern: "发货", Reply: "{name} 您好～现货 48 小时内发出，预售款以商品页为准 📦", CooldownSeconds: 120}},
		{Kind: bot.KindKeyword, PersonaID: helper, Enabled: true, Keyword: &bot.KeywordConfig{
			Mode: "pattern", Pattern: `(敏感肌|过敏).*(能用|可以用)`, Reply: "{name} 敏感肌建议先在耳后试用 24 小时，详细可以问顾问 Lily 哦", CooldownSeconds: 300}},
		{Kind: bot.KindDiscussion, PersonaID: helper, Enabled: true, Discussion: &bot.DiscussionConfig{PointsPerMessage: 1, DailyCap: 5, MinRunes: 4}},
		{Kind: bot.KindModeration, PersonaID: helper, Enabled: true, Moderation: &bot.ModerationConfig{
			NewMemberLinkHours: 24, FloodCount: 6, FloodSeconds: 10, BannedWords: []string{"代购", "加微信"},
			MuteMinutes: 30, WarnsBeforeMute: 2, MutesBeforeRemove: 3, WarnDecayHours: 72}},
		{Kind: bot.KindKeyword, PersonaID: assistant, Enabled: true, Keyword: &bot.KeywordConfig{
			Mode: "contains", Pattern: "订单", Reply: "{name} 您好，订单的事我私信您，方便的话告诉我订单号后四位～", CooldownSeconds: 0, Private: true}},
		{Kind: bot.KindWishlist, PersonaID: assistant, Enabled: true, Wishlist: &bot.WishlistConfig{Keywords: []string{"心愿", "心願", "wish"},
			Reminders: []string{"12:00", "20:00"}}},
	}
	for _, r := range rules {
		if _, err := g.d.Bot.SaveRule(ctx, tid, r); err != nil {
			return fmt.Errorf("rule %s: %w", r.Kind, err)
		}
	}
	for _, rw := range []loyalty.Reward{
		{Name: "精华小样 5ml", Description: "修护精华旅行装", Price: 30, Stock: 50},
		{Name: "满 199 减 30 券", Description: "直播间可用", Price: 80, Stock: 100},
		{Name: "明星面霜正装", Description: "每月限量", Price: 300, Stock: 5},
	} {
		rw.TenantID, rw.Active = tid, true
		if _, err := g.d.Loyalty.CreateReward(ctx, rw); err != nil {
			return err
		}
	}
	if err := g.seedCheckIns(ctx); err != nil {
		return err
	}
	if err := g.seedActivities(ctx, personas); err != nil {
		return err
	}
	if err := g.seedChannels(ctx, personas[bot.RoleBot].ID); err != nil {
		return err
	}
	return g.seedLive(ctx, personas[bot.RoleHost].ID, personas[bot.RoleAssistant].ID)
}

// seedLive schedules tomorrow evening's live with its product list: the
// operator starts it from the console and the groups are alerted.
func (g *generator) seedLive(ctx context.Context, host, assistant int64) error {
	if g.d.Lives == nil {
		return nil
	}
	at := g.end.Add(24*time.Hour + 20*time.Hour) // tomorrow 20:00, tenant time
	l, err := g.d.Lives.Schedule(ctx, live.Live{TenantID: g.tenant.ID, Title: "周五护肤专场：秋冬修护", HostPersonaID: host, ScheduledAt: at,
		StreamURL: "https://live.example.com/bloom", StaffID: g.staffID,
		Alert: live.Alert{Groups: []int64{g.groups[0].ID, g.groups[1].ID}, Repeat: 3, Interval: 10 * time.Minute, PersonaID: assistant},
		Products: []live.Product{
			{Position: 1, Name: "修护精华 30ml", Price: 12900, LivePrice: 9900, Stock: 200},
			{Position: 2, Name: "玫瑰红唇釉", Price: 8900, LivePrice: 6900, Stock: 150},
			{Position: 3, Name: "氨基酸洁面 120g", Price: 6900, LivePrice: 4900, Stock: 300},
			{Position: 4, Name: "冬季修护面霜（限量）", Price: 25900, LivePrice: 19900, Stock: 50},
			{Position: 5, Name: "敏感肌粉底液 小样装", Price: 5900, LivePrice: 3900, Stock: 0},
		}})
	if err != nil {
		return err
	}
	if err := g.seedRestock(ctx, l); err != nil {
		return err
	}
	return g.seedCampaigns(ctx, l, assistant)
}

// seedCampaigns fills the content library and arms two playbooks: the
// warm-up of tomorrow's live (its steps still to come show in the
// calendar; those already past when seeded are left out, as for any late
// playbook) and the new-member journey every joiner from now on gets.
func (g *generator) seedCampaigns(ctx context.Context, l live.Live, assistant int64) error {
	if g.d.Campaigns == nil {
		return nil
	}
	cs := g.d.Campaigns
	for _, c := range []campaign.Content{
		{Title: "干货：换季敏感肌三步修护", Type: campaign.TypeKnowledge, Variants: map[string]string{
			campaign.LocaleZhCN: "{name}，换季脸发红发痒？三步：温和洁面 → 修护精华 → 锁水面霜，先停用去角质一周。",
			campaign.LocaleZhTW: "{name}，換季臉發紅發癢？三步：溫和潔面 → 修護精華 → 鎖水面霜，先停用去角質一週。",
			campaign.LocaleEn:   "{name}, skin red and itchy as the season turns? Three steps: gentle cleanser → repair serum → a rich cream; skip exfoliants for a week."}},
		{Title: "生活：主播的周末早餐", Type: campaign.TypeLifestyle, Variants: map[string]string{
			campaign.LocaleZhCN: "周末早餐分享：燕麦 + 酸奶 + 蓝莓，大家的周末早餐吃什么？",
			campaign.LocaleZhTW: "週末早餐分享：燕麥 + 優格 + 藍莓，大家的週末早餐吃什麼？",
			campaign.LocaleEn:   "Weekend breakfast: oats, yoghurt and blueberries. What's yours?"}},
	} {
		c.TenantID, c.Format, c.PersonaID = g.tenant.ID, campaign.FormatText, assistant
		if _, err := cs.CreateContent(ctx, c); err != nil {
			return fmt.Errorf("demo: content: %w", err)
		}
	}
	var warmup, journey campaign.Playbook
	err := g.d.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if warmup, err = cs.WarmupFor(ctx, tx, l, campaign.TemplateOptions{PersonaID: assistant}); err != nil {
			return err
		}
		journey, err = cs.NewMemberJourney(ctx, tx, g.tenant.ID, campaign.TemplateOptions{PersonaID: assistant})
		return err
	})
	if err != nil {
		return fmt.Errorf("demo: playbook templates: %w", err)
	}
	for _, p := range []campaign.Playbook{warmup, journey} {
		p.Active = true
		saved, err := cs.SavePlaybook(ctx, p)
		if err != nil {
			return fmt.Errorf("demo: playbook %q: %w", p.Name, err)
		}
		if _, err := cs.Arm(ctx, g.tenant.ID, saved.ID); err != nil {
			return fmt.Errorf("demo: arm %q: %w", p.Name, err)
		}
	}
	return nil
}

// seedChannels connects a Telegram bot and a LINE account with placeholder
// credentials, so the channels page shows what a connected account looks
// like — and says plainly that these cannot connect.
func (g *generator) seedChannels(ctx context.Context, persona int64) error {
	if g.d.Accounts == nil {
		return nil
	}
	for _, c := range []struct {
		acc     account.Account
		secrets map[string]string
		why     string
	}{
		{account.Account{Kind: account.Telegram, Name: "花漾小助手 bot（演示）", Mode: "webhook"},
			map[string]string{"token": "1000000001:DEMO_placeholder_token_not_a_real_bot"},
			"demo placeholder token: liveloop cannot connect to Telegram with it — connect a bot with the token @BotFather gives you"},
		{account.Account{Kind: account.LINE, Name: "花漾美妆 LINE 官方帳號（演示）"},
			map[string]string{"channel_secret": "demo-placeholder-channel-secret", "access_token": "demo-placeholder-channel-access-token"},
			"demo placeholder credentials: liveloop cannot connect to LINE with them — paste your channel's secret and access token"},
	} {
		c.acc.TenantID, c.acc.PersonaID = g.tenant.ID, persona
		a, err := g.d.Accounts.Create(ctx, c.acc, c.secrets)
		if errors.Is(err, account.ErrNoKey) {
			return nil // PostgreSQL without an encryption key: no accounts
		}
		if err != nil {
			return fmt.Errorf("demo channel %s: %w", c.acc.Kind, err)
		}
		if err := g.d.Accounts.SetStatus(ctx, a.ID, "demo", c.why); err != nil {
			return err
		}
	}
	return nil
}

// seedCheckIns replays a month of check-ins: a core of regulars who check
// in most days (some on long streaks), occasional ones, and a few wishes.
func (g *generator) seedCheckIns(ctx context.Context) error {
	tid, group := g.tenant.ID, g.groups[0].ID
	wishes := []string{"敏感肌粉底液", "想要粉底液小样", "冬季修护面霜返场", "学生党平价套装", "无香精身体乳", "口红试色", "敏感肌粉底液！"}
	return g.d.DB.InTx(ctx, func(tx *store.Tx) error {
		for i, m := range g.members {
			joined, ok := m.joined[group]
			if !ok {
				continue
			}
			regular := i%3 == 0
			if !regular && i%5 != 0 {
				continue
			}
			streak, prev := 0, ""
			for day := g.start; day.Before(g.end); day = day.AddDate(0, 0, 1) {
				at := day.Add(time.Duration(8*60+g.rng.IntN(14*60)) * time.Minute)
				if at.Before(joined) || at.After(g.end) || (regular && g.rng.IntN(10) == 0) || (!regular && g.rng.IntN(3) > 0) {
					continue
				}
				d := at.In(g.loc).Format("2006-01-02")
				if prev != "" && at.In(g.loc).AddDate(0, 0, -1).Format("2006-01-02") == prev {
					streak++
				} else {
					streak = 1
				}
				prev = d
				var bonus int64
				if streak == 7 {
					bonus = 20
				}
				if err := g.d.Loyalty.CheckInTx(ctx, tx, loyalty.CheckIn{TenantID: tid, MemberID: m.id, GroupID: group,
					Day: d, At: at, Streak: streak, Points: 5, Bonus: bonus}); err != nil {
					return err
				}
			}
			if i%11 == 0 {
				if err := runner.AddWishTx(ctx, tx, tid, m.id, group, 0, wishes[g.rng.IntN(len(wishes))], joined.Add(48*time.Hour)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
