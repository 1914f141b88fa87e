package bot

import "time"

// moderate decides whether the message is refused: a muted member's
// message is hidden; otherwise the first moderation rule the message
// offends escalates against the member.
func (e *eval) moderate(msg *message) (Moderate, bool) {
	if e.in.At.Before(e.st.Member.MutedUntil) {
		return Moderate{Action: ModHide, Reason: ReasonMuted, Hide: true}, true
	}
	for _, r := range e.rules {
		if r.Kind != KindModeration {
			continue
		}
		if reason := e.offence(r.Moderation, msg); reason != "" {
			return e.escalate(r, reason), true
		}
	}
	return Moderate{}, false
}

// offence returns the reason the message breaks the rule, or "": links
// first, then banned words, then flooding.
func (e *eval) offence(c *ModerationConfig, msg *message) string {
	if (c.BlockLinks || e.isNewMember(c)) && msg.hasLink() {
		if c.BlockLinks {
			return ReasonLink
		}
		return ReasonNewMemberLink
	}
	for _, w := range c.BannedWords {
		if msg.containsWord(w) {
			return ReasonBannedWord
		}
	}
	if e.flooding(c) {
		return ReasonFlood
	}
	return ""
}

// isNewMember reports whether the member joined less than
// NewMemberLinkHours ago (a member whose join time is unknown is not new).
func (e *eval) isNewMember(c *ModerationConfig) bool {
	joined := e.st.Member.JoinedAt
	return c.NewMemberLinkHours > 0 && !joined.IsZero() && e.in.At.Sub(joined) < hours(c.NewMemberLinkHours)
}

// flooding reports whether this message makes more than FloodCount within
// the last FloodSeconds.
func (e *eval) flooding(c *ModerationConfig) bool {
	if c.FloodCount <= 0 || c.FloodSeconds <= 0 {
		return false
	}
	span := time.Duration(c.FloodSeconds) * time.Second
	n := 1 // this message
	for _, t := range e.st.Member.RecentMessages {
		if e.in.At.Sub(t) < span {
			n++
		}
	}
	return n > c.FloodCount
}

// escalate picks the step of warn → mute → remove for an offence. Every
// offending message is hidden.
func (e *eval) escalate(r *Rule, reason string) Moderate {
	c := r.Moderation
	m := Moderate{RuleID: r.ID, Reason: reason, Hide: true}
	switch {
	case reason == ReasonFlood && e.warnedWithin(time.Duration(c.FloodSeconds)*time.Second):
		m.Action = ModHide // the burst was already answered
	case e.activeWarns(c) < c.WarnsBeforeMute:
		m.Action = ModWarn
	case c.MutesBeforeRemove > 0 && e.st.Member.Mutes >= c.MutesBeforeRemove:
		m.Action = ModRemove
	default:
		m.Action = ModMute
		m.Until = e.in.At.Add(time.Duration(max(c.MuteMinutes, 1)) * time.Minute)
	}
	return m
}

// activeWarns counts the warnings younger than WarnDecayHours (all when 0).
func (e *eval) activeWarns(c *ModerationConfig) int {
	if c.WarnDecayHours <= 0 {
		return len(e.st.Member.Warns)
	}
	n := 0
	for _, w := range e.st.Member.Warns {
		if e.in.At.Sub(w) < hours(c.WarnDecayHours) {
			n++
		}
	}
	return n
}

// warnedWithin reports whether the member was warned less than d ago.
func (e *eval) warnedWithin(d time.Duration) bool {
	for _, w := range e.st.Member.Warns {
		if e.in.At.Sub(w) < d {
			return true
		}
	}
	return false
}

func hours(n int) time.Duration { return time.Duration(n) * time.Hour }
