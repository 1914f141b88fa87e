package campaign

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
)

// TemplateOptions adjust a ready-made playbook.
type TemplateOptions struct {
	// Groups the posts go to: default the live's alert groups, else all
	// the tenant's groups.
	Groups []int64
	// Link is {link}: default the live's stream URL. Without one the texts
	// that would point to it leave it out.
	Link      string
	PersonaID int64 // who speaks (0: the brand)
}

// draft is one step of a template: its content and its timing.
type draft struct {
	typ     Type
	title   map[string]string
	text    map[string]string // with " {link}" where the link goes
	days    int
	at      string
	minutes int
}

// WarmupFor creates, in tx, the content of a warm-up for the live (in
// zh-CN, zh-TW and en) and returns the warm-up playbook, not yet saved,
// for the operator to review: T-7 the story, T-3 spoilers naming the
// first products of its list, T-1 the perks and a guess-the-lucky-bag
// prompt, T-0 at 10:00 the countdown, and 10 minutes before the start
// "about to start". Three of the five are sales content — the default cap
// of a group's week.
func (s *Service) WarmupFor(ctx context.Context, tx *store.Tx, l live.Live, o TemplateOptions) (Playbook, error) {
	products := map[string]string{LocaleZhCN: "好几样大家一直在问的好物", LocaleZhTW: "好幾樣大家一直在問的好物", LocaleEn: "several things you keep asking for"}
	var names []string
	for i, p := range l.Products {
		if i == 5 {
			break
		}
		names = append(names, strings.NewReplacer("{", "｛", "}", "｝").Replace(p.Name))
	}
	if len(names) > 0 {
		products = map[string]string{LocaleZhCN: strings.Join(names, "、"), LocaleZhTW: strings.Join(names, "、"), LocaleEn: strings.Join(names, ", ")}
	}
	countdown := draft{typ: TypeLivePreview, days: 0, at: "10:00",
		title: map[string]string{LocaleZhCN: "当天倒计时", LocaleZhTW: "當天倒數", LocaleEn: "Countdown on the day"},
		text: map[string]string{
			LocaleZhCN: "今天 {live_time}「{live_title}」开播，倒计时 {countdown}！先设好提醒 👉 {link}",
			LocaleZhTW: "今天 {live_time}「{live_title}」開播，倒數 {countdown}！先設好提醒 👉 {link}",
			LocaleEn:   "Today at {live_time}: “{live_title}” — {countdown} to go! Set a reminder 👉 {link}"}}
	if local := l.ScheduledAt; !local.IsZero() {
		if loc, err := s.locationIn(ctx, tx, l.TenantID); err == nil {
			if t := local.In(loc); t.Hour()*60+t.Minute() < 10*60+40 {
				countdown.at, countdown.minutes = "", -120 // a morning live: two hours before instead
			}
		}
	}
	drafts := []draft{
		{typ: TypeLifestyle, days: -7, at: "20:00",
			title: map[string]string{LocaleZhCN: "T-7 故事", LocaleZhTW: "T-7 故事", LocaleEn: "T-7 story"},
			text: map[string]string{
				LocaleZhCN: "{name}，{live_time} 我们有一场特别的直播「{live_title}」。这一周会陆续和大家聊聊这次选品背后的故事，记得常来群里看看 ☺",
				LocaleZhTW: "{name}，{live_time} 我們有一場特別的直播「{live_title}」。這一週會陸續和大家聊聊這次選品背後的故事，記得常來群裡看看 ☺",
				LocaleEn:   "Hi {name}! On {live_time} we go live with something special: “{live_title}”. All week we'll share the story behind what we picked — stay tuned ☺"}},
		{typ: TypeLivePreview, days: -3, at: "20:00",
			title: map[string]string{LocaleZhCN: "T-3 剧透", LocaleZhTW: "T-3 劇透", LocaleEn: "T-3 spoilers"},
			text: map[string]string{
				LocaleZhCN: "「{live_title}」剧透来啦：这次会上 " + products[LocaleZhCN] + "！还有 {countdown} 开播，{live_time} 不见不散。",
				LocaleZhTW: "「{live_title}」劇透來囉：這次會上 " + products[LocaleZhTW] + "！還有 {countdown} 開播，{live_time} 不見不散。",
				LocaleEn:   "Sneak peek of “{live_title}”: we'll have " + products[LocaleEn] + "! {countdown} to go — see you on {live_time}."}},
		{typ: TypeActivity, days: -1, at: "20:00",
			title: map[string]string{LocaleZhCN: "T-1 福利预告 + 猜福袋", LocaleZhTW: "T-1 福利預告 + 猜福袋", LocaleEn: "T-1 perks + guess the lucky bag"},
			text: map[string]string{
				LocaleZhCN: "明天「{live_title}」直播间福利预告：直播专享价、限量优惠券，还有神秘福袋 🎁 来猜猜福袋里装的是什么？在群里留言，猜中的朋友有惊喜！",
				LocaleZhTW: "明天「{live_title}」直播間福利預告：直播專享價、限量優惠券，還有神秘福袋 🎁 來猜猜福袋裡裝的是什麼？在群裡留言，猜中的朋友有驚喜！",
				LocaleEn:   "Tomorrow's “{live_title}” perks: live-only prices, limited coupons and a mystery lucky bag 🎁 Guess what's inside — reply here, the right guesses get a surprise!"}},
		countdown,
		{typ: TypeLivePreview, days: 0, minutes: -10,
			title: map[string]string{LocaleZhCN: "开播前 10 分钟", LocaleZhTW: "開播前 10 分鐘", LocaleEn: "10 minutes before"},
			text: map[string]string{
				LocaleZhCN: "「{live_title}」还有 {countdown} 就开播啦，马上进直播间 👉 {link}",
				LocaleZhTW: "「{live_title}」還有 {countdown} 就開播囉，馬上進直播間 👉 {link}",
				LocaleEn:   "“{live_title}” starts in {countdown} — join now 👉 {link}"}},
	}
	if o.Link == "" {
		o.Link = l.StreamURL
	}
	groups, err := s.templateGroups(ctx, tx, l.TenantID, o.Groups, l.Alert.Groups)
	if err != nil {
		return Playbook{}, err
	}
	p := Playbook{TenantID: l.TenantID, Name: l.Title, Kind: KindWarmup, Anchor: AnchorLiveStart, LiveID: l.ID, Active: true}
	return s.fromDrafts(ctx, tx, p, drafts, o, Target{Kind: TargetGroups, Groups: groups})
}

// NewMemberJourney creates, in tx, the content of a new member's first
// week and returns the journey (anchored on each member's join; private
// messages to the member), not yet saved: day 0 a welcome, day 1 a
// knowledge post, day 3 a check-in reminder, day 7 a first-purchase
// coupon (the only sales step).
func (s *Service) NewMemberJourney(ctx context.Context, tx *store.Tx, tenantID int64, o TemplateOptions) (Playbook, error) {
	drafts := []draft{
		{typ: TypeLifestyle, days: 0, minutes: 5,
			title: map[string]string{LocaleZhCN: "新人欢迎", LocaleZhTW: "新人歡迎", LocaleEn: "Welcome"},
			text: map[string]string{
				LocaleZhCN: "{name}，欢迎加入 {brand}！这里每周有干货分享、直播预告和会员专属福利，有问题随时私信我～",
				LocaleZhTW: "{name}，歡迎加入 {brand}！這裡每週有乾貨分享、直播預告和會員專屬福利，有問題隨時私訊我～",
				LocaleEn:   "Welcome to {brand}, {name}! Every week there are tips, live previews and member perks here — message me any time."}},
		{typ: TypeKnowledge, days: 1, at: "20:00",
			title: map[string]string{LocaleZhCN: "第 1 天 干货", LocaleZhTW: "第 1 天 乾貨", LocaleEn: "Day 1 tips"},
			text: map[string]string{
				LocaleZhCN: "{name}，送你一个小知识：挑选之前先看清成分和使用方法，用得对才用得久。群里每周都有这样的干货，欢迎常来看看！",
				LocaleZhTW: "{name}，送你一個小知識：挑選之前先看清成分和使用方法，用得對才用得久。群裡每週都有這樣的乾貨，歡迎常來看看！",
				LocaleEn:   "{name}, a quick tip: check what's inside and how to use it before you pick — used right, it lasts. The group has tips like this every week!"}},
		{typ: TypeActivity, days: 3, at: "20:00",
			title: map[string]string{LocaleZhCN: "第 3 天 签到提醒", LocaleZhTW: "第 3 天 簽到提醒", LocaleEn: "Day 3 check-in reminder"},
			text: map[string]string{
				LocaleZhCN: "{name}，别忘了每天在群里签到领积分哦，积分可以兑换好礼～",
				LocaleZhTW: "{name}，別忘了每天在群裡簽到領積分喔，積分可以兌換好禮～",
				LocaleEn:   "{name}, don't forget to check in in the group every day — points add up to rewards!"}},
		{typ: TypePromo, days: 7, at: "20:00",
			title: map[string]string{LocaleZhCN: "第 7 天 首单券", LocaleZhTW: "第 7 天 首單券", LocaleEn: "Day 7 first-order coupon"},
			text: map[string]string{
				LocaleZhCN: "{name}，谢谢你这一周的陪伴！送你一张新人首单优惠券，下单时使用 👉 {link}",
				LocaleZhTW: "{name}，謝謝你這一週的陪伴！送你一張新人首單優惠券，下單時使用 👉 {link}",
				LocaleEn:   "Thanks for your first week, {name}! Here's a first-order coupon for you 👉 {link}"}},
	}
	p := Playbook{TenantID: tenantID, Kind: KindNewMember, Anchor: AnchorMemberJoin, Active: true}
	return s.fromDrafts(ctx, tx, p, drafts, o, Target{Kind: TargetDM})
}

// PostLive creates, in tx, the content of the follow-up after a live and
// returns it (anchored on the live's end; posts to the groups), not yet
// saved: 30 minutes after the end the recap, day 1 the answers to the
// questions asked, day 3 the last call on the live's prices.
func (s *Service) PostLive(ctx context.Context, tx *store.Tx, l live.Live, o TemplateOptions) (Playbook, error) {
	drafts := []draft{
		{typ: TypeRecap, days: 0, minutes: 30,
			title: map[string]string{LocaleZhCN: "直播回顾", LocaleZhTW: "直播回顧", LocaleEn: "Recap"},
			text: map[string]string{
				LocaleZhCN: "「{live_title}」圆满结束，谢谢{name}的陪伴！错过的朋友可以看回放 👉 {link}",
				LocaleZhTW: "「{live_title}」圓滿結束，謝謝{name}的陪伴！錯過的朋友可以看回放 👉 {link}",
				LocaleEn:   "“{live_title}” is a wrap — thank you, {name}! Missed it? Watch the replay 👉 {link}"}},
		{typ: TypeKnowledge, days: 1, at: "20:00",
			title: map[string]string{LocaleZhCN: "直播答疑", LocaleZhTW: "直播答疑", LocaleEn: "Your questions answered"},
			text: map[string]string{
				LocaleZhCN: "昨天「{live_title}」里大家问得最多的使用问题，我们整理好了；还有疑问的直接在群里问，我们一一解答。",
				LocaleZhTW: "昨天「{live_title}」裡大家問得最多的使用問題，我們整理好了；還有疑問的直接在群裡問，我們一一解答。",
				LocaleEn:   "We've gathered the questions you asked most during “{live_title}” — ask anything else here and we'll answer."}},
		{typ: TypePromo, days: 3, at: "20:00",
			title: map[string]string{LocaleZhCN: "直播价最后提醒", LocaleZhTW: "直播價最後提醒", LocaleEn: "Last call on live prices"},
			text: map[string]string{
				LocaleZhCN: "「{live_title}」的直播价只剩最后几件了，需要的朋友抓紧 👉 {link}",
				LocaleZhTW: "「{live_title}」的直播價只剩最後幾件了，需要的朋友把握機會 👉 {link}",
				LocaleEn:   "Only a few left at the “{live_title}” live price — grab yours 👉 {link}"}},
	}
	if o.Link == "" {
		o.Link = l.StreamURL
	}
	groups, err := s.templateGroups(ctx, tx, l.TenantID, o.Groups, l.Alert.Groups)
	if err != nil {
		return Playbook{}, err
	}
	p := Playbook{TenantID: l.TenantID, Name: l.Title, Kind: KindPostLive, Anchor: AnchorLiveEnd, LiveID: l.ID, Active: true}
	return s.fromDrafts(ctx, tx, p, drafts, o, Target{Kind: TargetGroups, Groups: groups})
}

// templateNames name the ready-made playbooks (a live's title follows).
var templateNames = map[Kind]map[string]string{
	KindWarmup:    {LocaleZhCN: "预热 · ", LocaleZhTW: "預熱 · ", LocaleEn: "Warm-up · "},
	KindNewMember: {LocaleZhCN: "新人旅程", LocaleZhTW: "新人旅程", LocaleEn: "New member journey"},
	KindPostLive:  {LocaleZhCN: "直播后跟进 · ", LocaleZhTW: "直播後跟進 · ", LocaleEn: "After the live · "},
}

// fromDrafts creates the drafts' content and returns p with their steps.
func (s *Service) fromDrafts(ctx context.Context, tx *store.Tx, p Playbook, drafts []draft, o TemplateOptions, target Target) (Playbook, error) {
	b, err := loadBrand(ctx, tx, p.TenantID)
	if err != nil {
		return p, err
	}
	titleLocale := CanonicalLocale(b.locale)
	if titleLocale == "" {
		titleLocale = LocaleZhCN
	}
	p.Name = strings.TrimSpace(templateNames[p.Kind][titleLocale] + p.Name)
	for _, d := range drafts {
		variants := map[string]string{}
		for l, text := range d.text {
			if o.Link == "" {
				text = strings.TrimSpace(strings.NewReplacer(" 👉 {link}", "", "{link}", "").Replace(text))
			}
			variants[l] = text
		}
		format := FormatText
		if o.Link != "" && strings.Contains(d.text[LocaleZhCN], "{link}") {
			format = FormatLink
		}
		c, err := s.CreateContentTx(ctx, tx, Content{TenantID: p.TenantID, Title: d.title[titleLocale], Type: d.typ, Format: format,
			Tags: []string{string(p.Kind)}, PersonaID: o.PersonaID, Variants: variants, LinkURL: o.Link})
		if err != nil {
			return p, fmt.Errorf("campaign: template %s: %w", p.Kind, err)
		}
		p.Steps = append(p.Steps, Step{Days: d.days, At: d.at, Minutes: d.minutes, ContentID: c.ID, ContentType: c.Type,
			Target: Target{Kind: target.Kind, Groups: target.Groups, Segment: target.Segment}})
	}
	for i := range p.Steps {
		p.Steps[i].Position = i + 1
	}
	return p, nil
}

// templateGroups is the groups a template posts to: those asked for, else
// the live's alert groups, else all the tenant's groups.
func (s *Service) templateGroups(ctx context.Context, q store.Querier, tenantID int64, asked, alert []int64) ([]int64, error) {
	if len(asked) > 0 {
		return asked, nil
	}
	if len(alert) > 0 {
		return alert, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id FROM community_groups WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY id LIMIT $2`,
		tenantID, MaxStepGroups)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

func (s *Service) locationIn(ctx context.Context, q store.Querier, tenantID int64) (*time.Location, error) {
	b, err := loadBrand(ctx, q, tenantID)
	return b.loc, err
}
