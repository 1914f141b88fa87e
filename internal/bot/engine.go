package bot

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// InputKind is what happened.
type InputKind string

// The input kinds.
const (
	InputJoined  InputKind = "joined"
	InputMessage InputKind = "message"
)

// Input is one event the rules react to. At is the event's time; the core
// never reads the clock.
type Input struct {
	Kind       InputKind
	EventID    int64
	At         time.Time
	GroupID    int64
	MemberID   int64
	MemberName string
	Text       string
	IsStaff    bool
}

// MemberState is what the rules need to know about the member.
type MemberState struct {
	JoinedAt        time.Time
	Balance         int64
	LastCheckInDay  string      // "2026-11-23" (tenant day) or ""
	Streak          int         // streak as of LastCheckInDay
	DiscussionToday int64       // discussion points already earned today (tenant day)
	RecentMessages  []time.Time // earlier messages in this group, newest last (at least the flood window)
	Warns           []time.Time // warnings received (the engine applies decay)
	Mutes           int         // mutes received
	MutedUntil      time.Time
}

// GroupInfo is the group the input happened in.
type GroupInfo struct {
	ID                   int64
	Name, Rules, Promise string
}

// State is everything Evaluate reads besides the input.
type State struct {
	Loc       *time.Location // the tenant's time zone (nil: UTC)
	Group     GroupInfo
	Rules     []Rule // the rules of the group; disabled and foreign ones are ignored
	Member    MemberState
	Cooldowns map[string]time.Time // CooldownKey → when it last fired
	// Activities are the group's open polls and prompts, oldest first.
	Activities []Activity
	// Sales are the group's open flash sales and chain orders.
	Sales Sales
}

// Command names: the shell answers these with data it loads.
const (
	CmdPoints          = "points"
	CmdRank            = "rank"
	CmdHelp            = "help"
	CmdWish            = "wish"             // send the wish form link / how to wish
	CmdCheckInQuestion = "checkin_question" // Arg: the tenant day
	CmdCheckInClosed   = "checkin_closed"   // Arg: ""
	CmdCheckInDone     = "checkin_done"     // Arg: the tenant day
	CmdCheckInWrong    = "checkin_wrong"    // Arg: the answer given; reply with the hint
)

// Moderation actions and reasons.
const (
	ModWarn   = "warn"
	ModMute   = "mute"
	ModRemove = "remove"
	ModHide   = "hide" // hide the message only

	ReasonLink          = "link"
	ReasonNewMemberLink = "new_member_link"
	ReasonBannedWord    = "banned_word"
	ReasonFlood         = "flood"
	ReasonMuted         = "muted"
)

// Points kinds of Award, matching the loyalty ledger's kinds.
const (
	AwardWelcome    = "welcome"
	AwardDiscussion = "discussion"
)

// Action is something the shell must do. The set is closed: Reply,
// Welcome, Award, CheckIn, Command, Moderate, Cooldown, Wish, Vote, Entry,
// FlashClaim, ChainJoin, ChainCancel.
type Action interface{ action() }

// Reply sends rendered text to the group.
type Reply struct {
	PersonaID int64
	Text      string
	ReplyTo   int64 // the event answered
	Private   bool  // to the member privately, not to the group
}

// Welcome greets a joiner; the shell batches names joining within
// DebounceSeconds and renders Template with {names}, {group}, {rules},
// {promise}, {gift}.
type Welcome struct {
	PersonaID       int64
	RuleID          int64
	Template        string
	Name            string
	DebounceSeconds int
}

// Award adds points. Ref is an idempotency key derived from the input.
type Award struct {
	Points int64
	Kind   string // "welcome", "discussion" (loyalty kinds)
	Ref    string
	Note   string
}

// CheckIn records the member's check-in for Day (unique per member-day in
// the database) with Points and the streak Bonus; the shell congratulates.
type CheckIn struct {
	PersonaID     int64
	Day           string
	Streak        int
	Points, Bonus int64
}

// Command asks the shell to answer with data it loads (Cmd* names).
type Command struct {
	PersonaID int64
	Name      string
	Arg       string
}

// Moderate acts against the member for the message.
type Moderate struct {
	RuleID int64
	Action string    // ModWarn, ModMute, ModRemove, ModHide
	Reason string    // Reason*
	Until  time.Time // end of a mute
	Hide   bool      // hide the offending message
}

// Cooldown records that a rule fired at At.
type Cooldown struct {
	Key string
	At  time.Time
}

// Wish adds a wish to the demand board.
type Wish struct {
	PersonaID int64
	Text      string
}

func (Reply) action()    {}
func (Welcome) action()  {}
func (Award) action()    {}
func (CheckIn) action()  {}
func (Command) action()  {}
func (Moderate) action() {}
func (Cooldown) action() {}
func (Wish) action()     {}

// CooldownKey is the Cooldowns key of a keyword rule.
func CooldownKey(ruleID int64) string { return fmt.Sprintf("kw:%d", ruleID) }

// eval is one evaluation: the state, the input and the applicable rules.
type eval struct {
	st    State
	in    Input
	loc   *time.Location
	group int64
	rules []*Rule // applicable, the group's own first
}

// Evaluate decides what the rules do about one input. It is pure: the
// same state and input always give the same actions, and it never panics
// on any text. It returns nil when nothing is to be done.
func Evaluate(st State, in Input) []Action {
	if in.IsStaff {
		return nil
	}
	e := newEval(st, in)
	switch in.Kind {
	case InputJoined:
		return e.joined()
	case InputMessage:
		return e.message()
	}
	return nil
}

func newEval(st State, in Input) *eval {
	e := &eval{st: st, in: in, loc: st.Loc, group: in.GroupID}
	if e.loc == nil {
		e.loc = time.UTC
	}
	if e.group == 0 {
		e.group = st.Group.ID
	}
	e.rules = applicable(st.Rules, e.group)
	return e
}

// applicable returns the rules acting in group: its own first, then the
// tenant-wide ones, each in the given order.
func applicable(rules []Rule, group int64) []*Rule {
	out := make([]*Rule, 0, len(rules))
	for _, own := range []bool{true, false} {
		for i := range rules {
			if r := &rules[i]; r.AppliesTo(group) && (r.GroupID != 0) == own {
				out = append(out, r)
			}
		}
	}
	return out
}

// first returns the first applicable rule of kind.
func (e *eval) first(kind Kind) (*Rule, bool) {
	for _, r := range e.rules {
		if r.Kind == kind {
			return r, true
		}
	}
	return nil, false
}

// joined greets the member: one Welcome per welcome rule, and the first
// gift once per member and group.
func (e *eval) joined() []Action {
	var out []Action
	gift := false
	for _, r := range e.rules {
		if r.Kind != KindWelcome {
			continue
		}
		c := r.Welcome
		out = append(out, Welcome{PersonaID: r.PersonaID, RuleID: r.ID, Template: c.Template, Name: e.in.MemberName, DebounceSeconds: c.DebounceSeconds})
		if c.GiftPoints > 0 && !gift {
			gift = true
			out = append(out, Award{Points: c.GiftPoints, Kind: AwardWelcome, Ref: fmt.Sprintf("welcome:%d:%d", e.group, e.in.MemberID), Note: "welcome gift"})
		}
	}
	return out
}

// message runs moderation, then votes and prompt entries, then the
// exclusive handlers (commands, check-in answers, wishes), then keyword
// replies and discussion points.
func (e *eval) message() []Action {
	msg := newMessage(e.in.Text)
	if m, ok := e.moderate(msg); ok {
		return []Action{m}
	}
	// Votes and entries need no rule: an open poll or prompt is enough.
	if out, ok := e.activity(msg); ok {
		return out
	}
	if out, ok := e.sale(msg); ok {
		return out
	}
	if len(e.rules) == 0 {
		return nil
	}
	for _, handle := range []func(*message) ([]Action, bool){e.commands, e.checkInAnswer, e.wish} {
		if out, ok := handle(msg); ok {
			return out
		}
	}
	out := e.keyword(msg)
	if a, ok := e.discussion(msg); ok {
		out = append(out, a)
	}
	return out
}

// keyword replies with the first keyword rule that matches, unless that
// rule is cooling down.
func (e *eval) keyword(msg *message) []Action {
	for _, r := range e.rules {
		if r.Kind != KindKeyword || !msg.match(r.Keyword.Mode, r.Keyword.Pattern) {
			continue
		}
		c := r.Keyword
		key := CooldownKey(r.ID)
		cool := time.Duration(c.CooldownSeconds) * time.Second
		if last, ok := e.st.Cooldowns[key]; ok && cool > 0 && e.in.At.Sub(last) < cool {
			return nil
		}
		text := Render(c.Reply, map[string]string{"name": e.in.MemberName, "group": e.st.Group.Name})
		out := []Action{Reply{PersonaID: r.PersonaID, Text: text, ReplyTo: e.in.EventID, Private: c.Private}}
		if cool > 0 {
			out = append(out, Cooldown{Key: key, At: e.in.At})
		}
		return out
	}
	return nil
}

// discussion awards points for taking part, up to the daily cap.
func (e *eval) discussion(msg *message) (Action, bool) {
	r, ok := e.first(KindDiscussion)
	if !ok {
		return nil, false
	}
	c := r.Discussion
	left := c.DailyCap - e.st.Member.DiscussionToday
	pts := min(c.PointsPerMessage, left)
	if pts <= 0 || utf8.RuneCountInString(compact(msg.norm)) < c.MinRunes {
		return nil, false
	}
	return Award{Points: pts, Kind: AwardDiscussion, Ref: fmt.Sprintf("discussion:%d", e.in.EventID), Note: "discussion"}, true
}

// command returns a Command action.
func (e *eval) command(persona int64, name, arg string) []Action {
	return []Action{Command{PersonaID: persona, Name: name, Arg: arg}}
}
