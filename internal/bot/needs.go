package bot

import "time"

// Needs says which parts of State the rules acting in one group read, so
// the shell loads only those: most groups have no flood rule, many no
// check-in, and each part is a query per event or per batch.
//
// MutedUntil is not listed: a muted member's message is hidden whatever
// the rules, so the shell loads it whenever any rule acts in the group.
// Activities are not listed either: they act without rules.
type Needs struct {
	CheckIn    bool          // Member.LastCheckInDay and Member.Streak (a check-in rule)
	Discussion bool          // Member.DiscussionToday (a discussion rule)
	Moderation bool          // Member.Warns and Member.Mutes (a moderation rule escalates)
	JoinedAt   bool          // Member.JoinedAt (links refused from new members)
	Flood      time.Duration // Member.RecentMessages younger than this (0: none)
	Cooldowns  bool          // State.Cooldowns (a keyword rule with a cooldown)
}

// NeedsOf returns what Evaluate reads for the rules that act in group
// (disabled, foreign and unconfigured rules read nothing).
func NeedsOf(rules []Rule, group int64) Needs {
	var n Needs
	for _, r := range rules {
		if !r.AppliesTo(group) {
			continue
		}
		switch r.Kind {
		case KindCheckIn:
			n.CheckIn = true
		case KindDiscussion:
			n.Discussion = true
		case KindKeyword:
			n.Cooldowns = n.Cooldowns || r.Keyword.CooldownSeconds > 0
		case KindModeration:
			c := r.Moderation
			n.Moderation = true
			n.JoinedAt = n.JoinedAt || c.NewMemberLinkHours > 0
			if c.FloodCount > 0 && c.FloodSeconds > 0 {
				n.Flood = max(n.Flood, time.Duration(c.FloodSeconds)*time.Second)
			}
		}
	}
	return n
}
