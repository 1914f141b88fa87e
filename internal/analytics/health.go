package analytics

import (
	"fmt"
	"math"

	"github.com/liveloop/liveloop/internal/i18n"
)

// The health thresholds (seed 002), in one place. A group's class for a
// period is the first of these rules that holds, in this order:
//
//  1. not_enough: fewer than MinHealthMessages messages in the period.
//  2. scripted: brand share ≥ 40 %, persona share ≥ 20 %, and members
//     answer the brand more than each other (member→brand > 50 % of the
//     member messages that answered someone).
//  3. self_talk: brand share ≥ 60 % and under 5 % of the members posted.
//  4. self_centred: brand share ≥ 40 % and the brand answered under 10 %
//     of the member messages.
//  5. spontaneous: member→member ≥ 50 % of the member answers, the three
//     most talkative members wrote ≤ 60 % of the member messages, and
//     brand share ≤ 40 %.
//  6. otherwise the nearest class: the one whose rules miss by the least
//     in total (each missed rule adds the distance of its signal from the
//     limit; signals are ratios in 0–1), the tie going to the earlier rule.
//     Its reasons start with health.why.nearest and mark the missed rules.
const (
	MinHealthMessages     = 30
	ScriptedBrandShare    = 0.4
	ScriptedPersonaShare  = 0.2
	ScriptedToBrand       = 0.5 // member answers to the brand, strictly above
	SelfTalkBrandShare    = 0.6
	SelfTalkPosterRate    = 0.05 // posters / members, strictly below
	SelfCentredBrandShare = 0.4
	SelfCentredAnswered   = 0.10 // brand answers / member messages, strictly below
	SpontaneousM2M        = 0.5
	SpontaneousTop3       = 0.6
	SpontaneousBrandShare = 0.4
)

// The health score (0–100): how close a group is to a spontaneous one.
//
//	score = round(100 × (0.35·m2m + 0.25·(1 − brand_share) + 0.15·spread
//	                     + 0.15·participation + 0.10·responsiveness))
//
// where m2m is MemberToMember; spread is 1 − Top3Share (0 when no member
// wrote); participation is posters/members over ScoreFullPosterRate,
// capped at 1 (0 without members); responsiveness is BrandAnswered over
// ScoreFullAnswered, capped at 1. A period without messages scores 0.
const (
	ScoreFullPosterRate = 0.2 // 20 % of the members posting earns the full participation weight
	ScoreFullAnswered   = 0.2 // the brand answering 20 % of member messages earns the full responsiveness weight
)

// Reason is one line of why a group got its class: an i18n key
// (health.why.*) and its arguments, already formatted ("45%", "≥"), so
// every locale renders it the same way. Met is false for a rule of the
// nearest class that does not hold.
type Reason struct {
	Key  string   `json:"key"`
	Args []string `json:"args,omitempty"`
	Met  bool     `json:"met"`
}

// HealthReasonText renders r in locale; a rule of the nearest class that
// does not hold is marked "✗ ".
func HealthReasonText(cat *i18n.Catalog, locale string, r Reason) string {
	args := make([]any, len(r.Args))
	for i, a := range r.Args {
		args[i] = a
	}
	s := cat.T(locale, r.Key, args...)
	if !r.Met {
		s = "✗ " + s
	}
	return s
}

// HealthClassKey is the i18n key of a class's name (health.class.<class>);
// health.class.<class>.def is its one-line definition.
func HealthClassKey(class string) string { return "health.class." + class }

// rule is one condition of a class: a signal compared with a limit.
type rule struct {
	signal string // the signal's name, also its i18n key health.why.<signal>
	op     string // ">=", ">", "<=", "<"
	limit  float64
}

// classRules are the classes with their rules, in the order they are
// tried.
var classRules = []struct {
	class string
	rules []rule
}{
	{Scripted, []rule{{"brand_share", ">=", ScriptedBrandShare}, {"persona_share", ">=", ScriptedPersonaShare},
		{"member_to_brand", ">", ScriptedToBrand}}},
	{SelfTalk, []rule{{"brand_share", ">=", SelfTalkBrandShare}, {"poster_rate", "<", SelfTalkPosterRate}}},
	{SelfCentred, []rule{{"brand_share", ">=", SelfCentredBrandShare}, {"brand_answered", "<", SelfCentredAnswered}}},
	{Spontaneous, []rule{{"member_to_member", ">=", SpontaneousM2M}, {"top3_share", "<=", SpontaneousTop3},
		{"brand_share", "<=", SpontaneousBrandShare}}},
}

// value is the named signal of s.
func (s HealthSignals) value(name string) float64 {
	switch name {
	case "brand_share":
		return s.BrandShare
	case "persona_share":
		return s.PersonaShare
	case "member_to_brand":
		return s.MemberToBrand
	case "member_to_member":
		return s.MemberToMember
	case "poster_rate":
		return ratio(s.Posters, s.Members)
	case "brand_answered":
		return s.BrandAnswered
	case "top3_share":
		return s.Top3Share
	}
	return 0
}

// missBy is how far v is from meeting the rule (0: it holds). A strict
// limit met with equality misses by a hair, so it never ties a rule that
// holds.
func (r rule) missBy(v float64) float64 {
	const hair = 1e-6
	switch r.op {
	case ">=":
		return math.Max(0, r.limit-v)
	case ">":
		if v > r.limit {
			return 0
		}
		return r.limit - v + hair
	case "<=":
		return math.Max(0, v-r.limit)
	case "<":
		if v < r.limit {
			return 0
		}
		return v - r.limit + hair
	}
	return 0
}

func (r rule) reason(v float64) Reason {
	return Reason{Key: "health.why." + r.signal, Args: []string{pct(v), opSign(r.op), pct(r.limit)}, Met: r.missBy(v) == 0}
}

func opSign(op string) string {
	switch op {
	case ">=":
		return "≥"
	case "<=":
		return "≤"
	}
	return op
}

// pct formats a ratio as a whole percentage ("45%").
func pct(v float64) string { return fmt.Sprintf("%d%%", int(math.Round(v*100))) }

// Classify tells a group's class from its signals, with the reasons (see
// the thresholds above).
func Classify(s HealthSignals) (string, []Reason) {
	if s.Messages < MinHealthMessages {
		return NotEnoughYet, []Reason{{Key: "health.why.messages",
			Args: []string{fmt.Sprint(s.Messages), fmt.Sprint(MinHealthMessages)}, Met: true}}
	}
	best, bestMiss := -1, math.Inf(1)
	for i, c := range classRules {
		miss := 0.0
		for _, r := range c.rules {
			miss += r.missBy(s.value(r.signal))
		}
		if miss == 0 {
			return c.class, reasons(c.rules, s)
		}
		if miss < bestMiss {
			best, bestMiss = i, miss
		}
	}
	c := classRules[best]
	return c.class, append([]Reason{{Key: "health.why.nearest", Met: true}}, reasons(c.rules, s)...)
}

func reasons(rules []rule, s HealthSignals) []Reason {
	out := make([]Reason, len(rules))
	for i, r := range rules {
		out[i] = r.reason(s.value(r.signal))
	}
	return out
}

// Score is the group's health score, 0–100 (see the formula above).
func Score(s HealthSignals) int {
	if s.Messages == 0 {
		return 0
	}
	spread := 0.0
	if s.Posters > 0 {
		spread = 1 - s.Top3Share
	}
	participation := math.Min(1, ratio(s.Posters, s.Members)/ScoreFullPosterRate)
	responsiveness := math.Min(1, s.BrandAnswered/ScoreFullAnswered)
	v := 0.35*s.MemberToMember + 0.25*(1-s.BrandShare) + 0.15*spread + 0.15*participation + 0.10*responsiveness
	return int(math.Round(100 * v))
}

// ratio is n/d, 0 when d is 0 (never NaN).
func ratio(n, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}
