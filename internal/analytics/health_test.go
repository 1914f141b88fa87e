package analytics_test

import (
	"slices"
	"testing"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
)

// reasonLines flattens reasons to "key args… (✗ when not met)" lines.
func reasonLines(rs []analytics.Reason) []string {
	var out []string
	for _, r := range rs {
		s := r.Key
		for _, a := range r.Args {
			s += " " + a
		}
		if !r.Met {
			s += " ✗"
		}
		out = append(out, s)
	}
	return out
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		s     analytics.HealthSignals
		class string
		why   []string
	}{
		{"29 messages are too few", analytics.HealthSignals{Messages: 29, BrandShare: 1}, analytics.NotEnoughYet,
			[]string{"health.why.messages 29 30"}},
		{"nothing at all", analytics.HealthSignals{}, analytics.NotEnoughYet, []string{"health.why.messages 0 30"}},
		// Brand 50 % ≥ 40, personas 25 % ≥ 20, 70 % of member answers to
		// the brand > 50.
		{"scripted", analytics.HealthSignals{Messages: 100, BrandShare: 0.5, PersonaShare: 0.25, MemberToBrand: 0.7,
			MemberToMember: 0.3, Posters: 30, Members: 100, BrandAnswered: 0.5}, analytics.Scripted,
			[]string{"health.why.brand_share 50% ≥ 40%", "health.why.persona_share 25% ≥ 20%", "health.why.member_to_brand 70% > 50%"}},
		// Exactly half of the answers to the brand is not "more than to
		// members": not scripted; brand 70 % and 2 posters of 100 (2 % <
		// 5 %): self-talk.
		{"self-talk", analytics.HealthSignals{Messages: 100, BrandShare: 0.7, PersonaShare: 0.3, MemberToBrand: 0.5,
			MemberToMember: 0.5, Posters: 2, Members: 100}, analytics.SelfTalk,
			[]string{"health.why.brand_share 70% ≥ 60%", "health.why.poster_rate 2% < 5%"}},
		// Brand exactly 40 % (≥ holds), answered 5 % < 10 %; 20 posters of
		// 100 is not self-talk.
		{"self-centred", analytics.HealthSignals{Messages: 100, BrandShare: 0.4, MemberToMember: 0.6, MemberToBrand: 0.4,
			Top3Share: 0.3, Posters: 20, Members: 100, BrandAnswered: 0.05}, analytics.SelfCentred,
			[]string{"health.why.brand_share 40% ≥ 40%", "health.why.brand_answered 5% < 10%"}},
		{"spontaneous", analytics.HealthSignals{Messages: 100, BrandShare: 0.3, MemberToMember: 0.6, MemberToBrand: 0.4,
			Top3Share: 0.5, Posters: 20, Members: 100, BrandAnswered: 0.2}, analytics.Spontaneous,
			[]string{"health.why.member_to_member 60% ≥ 50%", "health.why.top3_share 50% ≤ 60%", "health.why.brand_share 30% ≤ 40%"}},
		// No class fits. Misses (distance of each failed rule):
		//   scripted     brand .3→.4 (.1) + persona .05→.2 (.15)        = .25
		//   self-talk    brand .3→.6 (.3) + posters 10 % not < 5 % (.05) = .35
		//   self-centred brand .3→.4 (.1) + answered 20 % not < 10 (.1) = .20
		//   spontaneous  m2m .3→.5 (.2) + top3 .7→.6 (.1)               = .30
		// → self-centred, the nearest.
		{"nearest", analytics.HealthSignals{Messages: 100, BrandShare: 0.3, PersonaShare: 0.05, MemberToMember: 0.3,
			MemberToBrand: 0.7, Top3Share: 0.7, Posters: 10, Members: 100, BrandAnswered: 0.2}, analytics.SelfCentred,
			[]string{"health.why.nearest", "health.why.brand_share 30% ≥ 40% ✗", "health.why.brand_answered 20% < 10% ✗"}},
	} {
		class, why := analytics.Classify(c.s)
		if class != c.class || !slices.Equal(reasonLines(why), c.why) {
			t.Errorf("%s: %s %q, want %s %q", c.name, class, reasonLines(why), c.class, c.why)
		}
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		s    analytics.HealthSignals
		want int
	}{
		{"no messages", analytics.HealthSignals{}, 0},
		// m2m .6·.35 = .21; (1 − .2)·.25 = .2; spread (1 − .5)·.15 = .075;
		// participation 10/100 = 10 % of the full 20 % → .5·.15 = .075;
		// responsiveness 10 % of the full 20 % → .5·.10 = .05.
		// .21 + .2 + .075 + .075 + .05 = .61 → 61.
		{"mixed", analytics.HealthSignals{Messages: 100, BrandShare: 0.2, MemberToMember: 0.6, Top3Share: 0.5,
			Posters: 10, Members: 100, BrandAnswered: 0.1}, 61},
		// Only the brand writes: every term is 0.
		{"brand only", analytics.HealthSignals{Messages: 50, BrandShare: 1, Members: 40}, 0},
		// Members only, talking to each other, half of them posting, the
		// brand answering 90 % (both capped at full marks), the top 3 writing
		// 40 %: .35 + .25 + .15·(1 − .4) + .15 + .10 = .94 → 94.
		{"best", analytics.HealthSignals{Messages: 100, MemberToMember: 1, Top3Share: 0.4, Posters: 50, Members: 100,
			BrandAnswered: 0.9}, 94},
	} {
		if got := analytics.Score(c.s); got != c.want {
			t.Errorf("%s: score %d, want %d", c.name, got, c.want)
		}
	}
}

// Every class, reason, capacity kind and weekday reads in every locale.
func TestHealthTexts(t *testing.T) {
	t.Parallel()
	cat := i18n.MustLoad()
	keys := []string{"health.why.messages", "health.why.nearest", "health.score", "health.score.def", "insight.heatmap.best",
		"insight.heatmap.none"}
	for _, c := range []string{analytics.Spontaneous, analytics.SelfTalk, analytics.Scripted, analytics.SelfCentred, analytics.NotEnoughYet} {
		keys = append(keys, analytics.HealthClassKey(c), analytics.HealthClassKey(c)+".def")
	}
	for _, s := range []string{"brand_share", "persona_share", "member_to_brand", "member_to_member", "poster_rate", "brand_answered", "top3_share"} {
		keys = append(keys, "health.why."+s)
	}
	for _, k := range []string{analytics.OverCap, analytics.NearCap, analytics.Silent, analytics.TooSmall} {
		keys = append(keys, "insight.capacity."+k)
	}
	for _, k := range keys {
		if !cat.Has(k) {
			t.Errorf("%s is not in every catalogue", k)
		}
	}
	r := analytics.Reason{Key: "health.why.brand_share", Args: []string{"30%", "≥", "40%"}}
	want := map[string]string{
		"en":    "✗ Brand messages (staff, personas, pushes) are 30% of all (rule: ≥ 40%)",
		"zh-CN": "✗ 品牌方消息（员工、人设、推送）占全部消息的 30%（规则：≥ 40%）",
		"zh-TW": "✗ 品牌方訊息（員工、人設、推播）佔全部訊息的 30%（規則：≥ 40%）",
	}
	for locale, w := range want {
		if got := analytics.HealthReasonText(cat, locale, r); got != w {
			t.Errorf("%s: %q, want %q", locale, got, w)
		}
	}
	a := analytics.Advice{Name: "护肤群", Kind: analytics.Silent, Members: 120, Cap: 500}
	if got := analytics.AdviceText(cat, "zh-CN", a); got != "护肤群：最近 7 天没有成员发言" {
		t.Errorf("silent advice: %q", got)
	}
	a.Kind = analytics.OverCap
	if got := analytics.AdviceText(cat, "en", a); got != "护肤群 has 120 members, past its soft cap of 500: open a new group and point the join code at it" {
		t.Errorf("over-cap advice: %q", got)
	}
	h := analytics.Heatmap{BestDay: 3, BestHour: 9, HasBest: true, Total: 1}
	if got := analytics.HeatmapBestText(cat, "zh-TW", h); got != "最佳時間：週三 09:00" {
		t.Errorf("best slot: %q", got)
	}
	if got := analytics.HeatmapBestText(cat, "en", analytics.Heatmap{}); got != "No member engagement in this period yet" {
		t.Errorf("no best slot: %q", got)
	}
}
