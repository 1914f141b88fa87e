package bot

import (
	"reflect"
	"testing"
	"time"
)

func TestNeedsOf(t *testing.T) {
	flood := func(secs int) Rule {
		return moderationRule(5, func(c *ModerationConfig) { c.FloodCount, c.FloodSeconds = 5, secs })
	}
	newcomers := moderationRule(6, func(c *ModerationConfig) { c.NewMemberLinkHours = 24 })
	for _, c := range []struct {
		name  string
		rules []Rule
		want  Needs
	}{
		{"none", nil, Needs{}},
		{"welcome and wishlist read no state", []Rule{welcomeRule(1, "hi", 5), wishlistRule(2)}, Needs{}},
		{"check-in", []Rule{checkInRule(1, "", "")}, Needs{CheckIn: true}},
		{"discussion", []Rule{discussionRule(1, 1, 3, 0)}, Needs{Discussion: true}},
		{"keyword without cooldown", []Rule{keywordRule(1, MatchContains, "x", "y", 0)}, Needs{}},
		{"keyword with cooldown", []Rule{keywordRule(1, MatchContains, "x", "y", 0), keywordRule(2, MatchContains, "x", "y", 30)}, Needs{Cooldowns: true}},
		{"moderation without flood", []Rule{moderationRule(1, nil)}, Needs{Moderation: true}},
		{"longest flood window", []Rule{flood(10), flood(60), flood(30)}, Needs{Moderation: true, Flood: time.Minute}},
		{"new members", []Rule{newcomers}, Needs{Moderation: true, JoinedAt: true}},
		{"disabled rule", []Rule{disabled(checkInRule(1, "", ""))}, Needs{}},
		{"another group's rule", []Rule{inGroup(discussionRule(1, 1, 3, 0), groupID+1)}, Needs{}},
		{"this group's rule", []Rule{inGroup(discussionRule(1, 1, 3, 0), groupID)}, Needs{Discussion: true}},
		{"unconfigured rule", []Rule{{ID: 1, Kind: KindModeration, Enabled: true}}, Needs{}},
	} {
		if got := NeedsOf(c.rules, groupID); got != c.want {
			t.Errorf("%s: NeedsOf = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// checkNeeds evaluates a table case again with only the state NeedsOf
// asks for (everything else zero, as the shell leaves it): the actions
// must not change, or the shell would skip a query a rule depends on.
func checkNeeds(t *testing.T, c evalCase) {
	t.Helper()
	n := NeedsOf(c.st.Rules, c.in.GroupID)
	st := c.st
	m := MemberState{MutedUntil: st.Member.MutedUntil} // Balance: no rule reads it
	if n.CheckIn {
		m.LastCheckInDay, m.Streak = st.Member.LastCheckInDay, st.Member.Streak
	}
	if n.Discussion {
		m.DiscussionToday = st.Member.DiscussionToday
	}
	if n.Moderation {
		m.Warns, m.Mutes = st.Member.Warns, st.Member.Mutes
	}
	if n.JoinedAt {
		m.JoinedAt = st.Member.JoinedAt
	}
	for _, at := range st.Member.RecentMessages {
		if n.Flood > 0 && c.in.At.Sub(at) <= n.Flood {
			m.RecentMessages = append(m.RecentMessages, at)
		}
	}
	st.Member = m
	if !n.Cooldowns {
		st.Cooldowns = nil
	}
	if got, want := Evaluate(st, c.in), Evaluate(c.st, c.in); !reflect.DeepEqual(got, want) {
		t.Errorf("with only the state NeedsOf lists (%+v):\n got: %s\nwant: %s", n, show(got), show(want))
	}
}
