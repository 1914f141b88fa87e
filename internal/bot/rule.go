package bot

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is a persona's job in the group (seed 004: the bot answers queries,
// the assistant runs check-in and previews, the expert posts knowledge, the
// host runs activities).
type Role string

// The persona roles.
const (
	RoleBot       Role = "bot"
	RoleAssistant Role = "assistant"
	RoleExpert    Role = "expert"
	RoleHost      Role = "host"
)

// Persona is a named identity that speaks for rules.
type Persona struct {
	ID        int64
	Name      string
	AvatarURL string
	Role      Role
}

// Kind is what a rule does.
type Kind string

// The rule kinds.
const (
	KindWelcome    Kind = "welcome"
	KindKeyword    Kind = "keyword"
	KindCheckIn    Kind = "checkin"
	KindDiscussion Kind = "discussion"
	KindModeration Kind = "moderation"
	KindWishlist   Kind = "wishlist"
)

// Kinds lists every rule kind, in the order the console shows them.
var Kinds = []Kind{KindWelcome, KindKeyword, KindCheckIn, KindDiscussion, KindModeration, KindWishlist}

// Rule is one configured behaviour of the routine. Exactly one of the
// configuration pointers is set: the one matching Kind.
type Rule struct {
	ID         int64
	GroupID    int64 // 0 = every group of the tenant
	Kind       Kind
	PersonaID  int64 // who speaks for this rule
	Enabled    bool
	Welcome    *WelcomeConfig    `json:",omitempty"`
	Keyword    *KeywordConfig    `json:",omitempty"`
	CheckIn    *CheckInConfig    `json:",omitempty"`
	Discussion *DiscussionConfig `json:",omitempty"`
	Moderation *ModerationConfig `json:",omitempty"`
	Wishlist   *WishlistConfig   `json:",omitempty"`
}

// WelcomeConfig greets members who join. Template placeholders: {names}
// (the joiners, joined by the shell when it batches them), {name} (the
// same), {group}, {rules}, {promise}, {gift}.
type WelcomeConfig struct {
	Template   string
	GiftPoints int64
	// GiftCoupon is the new-member coupon as the operator words it ("新人券
	// 满99减10，券码 NEW10"), shown in {gift}; the commerce issue will turn it
	// into a real, one-per-member coupon.
	GiftCoupon      string `json:",omitempty"`
	DebounceSeconds int
}

// MatchMode says how a keyword rule's Pattern is compared with a message.
type MatchMode string

// The match modes.
const (
	MatchExact    MatchMode = "exact"    // the whole message, ignoring case, width and end punctuation
	MatchContains MatchMode = "contains" // anywhere in the message
	MatchPattern  MatchMode = "pattern"  // an RE2 regular expression, case-insensitive
)

// KeywordConfig replies to matching messages. Reply placeholders: {name}
// {group}; replies may contain links.
type KeywordConfig struct {
	Mode            MatchMode
	Pattern         string
	Reply           string
	CooldownSeconds int
	// Private answers the member in a private message (私戳) instead of in
	// the group: for questions whose answer is personal or would be noise.
	Private bool `json:",omitempty"`
}

// CheckInConfig is the daily passphrase check-in (口令签到).
type CheckInConfig struct {
	Question string
	Answers  []string
	Hint     string
	// WindowStart and WindowEnd ("08:00", "23:00") bound the check-in in
	// the tenant's time zone, [start, end). End ≤ Start crosses midnight
	// and counts for the day the window opened. Both empty: all day.
	WindowStart, WindowEnd string
	Points                 int64
	// StreakBonus pays extra on exact streak lengths: {7: 20} pays 20 on
	// the 7th consecutive day only (list 7, 14, 21… to pay every week).
	StreakBonus map[int]int64
}

// DiscussionConfig rewards taking part, capped per member per tenant day.
type DiscussionConfig struct {
	PointsPerMessage int64
	DailyCap         int64
	MinRunes         int // characters a message needs (spaces and end punctuation not counted)
}

// ModerationConfig is the group's rules against spam (群规).
type ModerationConfig struct {
	BlockLinks         bool // refuse links from everyone
	NewMemberLinkHours int  // else refuse links from members who joined less than this many hours ago
	FloodCount         int  // more than FloodCount messages …
	FloodSeconds       int  // … within FloodSeconds is flooding
	BannedWords        []string
	MuteMinutes        int
	WarnsBeforeMute    int // active warnings tolerated before an offence mutes
	MutesBeforeRemove  int // mutes tolerated before an offence removes (0 = never remove)
	WarnDecayHours     int // warnings older than this stop counting (0 = never)
}

// WishlistConfig turns "心愿 <text>" into a wish.
type WishlistConfig struct {
	Keywords []string // empty: DefaultWishKeywords
	// Reminders are times of day ("20:00", tenant time) when the persona
	// invites the group to add wishes.
	Reminders []string `json:",omitempty"`
}

// MaxReminders bounds a wishlist's daily reminders.
const MaxReminders = 6

// DueReminder returns the reminder slot ("2006-01-02 15:04", tenant time)
// that is due at now: the latest reminder time of today that has passed
// less than an hour ago. A liveloop that was down longer than that skips
// the reminder instead of posting it late.
func (c *WishlistConfig) DueReminder(now time.Time, loc *time.Location) (string, bool) {
	if loc == nil {
		loc = time.UTC
	}
	l := now.In(loc)
	mins := l.Hour()*60 + l.Minute()
	best := -1
	for _, r := range c.Reminders {
		m, err := parseClock(r, false)
		if err != nil || m > mins || mins-m >= 60 {
			continue
		}
		best = max(best, m)
	}
	if best < 0 {
		return "", false
	}
	return fmt.Sprintf("%s %02d:%02d", l.Format(dayLayout), best/60, best%60), true
}

// DefaultWishKeywords are used by a wishlist rule without keywords.
var DefaultWishKeywords = []string{"心愿", "心願", "wish"}

// ErrInvalidRule is wrapped by every error of Validate.
var ErrInvalidRule = errors.New("invalid rule")

// Limits of a rule's settings.
const (
	MaxPatternRunes     = 200
	MaxTemplateRunes    = 2000
	MaxAnswerRunes      = 100
	MaxAnswers          = 50
	MaxWordRunes        = 50
	MaxBannedWords      = 500
	MaxDebounceSeconds  = 600
	MaxFloodSeconds     = 600 // the shell loads ten minutes of a member's messages
	MaxMuteMinutes      = 30 * 24 * 60
	MaxPoints           = 1_000_000
	MaxCooldownSeconds  = 7 * 24 * 3600
	MaxNewMemberHours   = 365 * 24
	MaxWarnDecayHours   = 365 * 24
	MaxEscalationCounts = 100
)

// WelcomePlaceholders and ReplyPlaceholders are the names templates may use.
var (
	WelcomePlaceholders = []string{"names", "name", "group", "rules", "promise", "gift"}
	ReplyPlaceholders   = []string{"name", "group"}
)

// problems collects a rule's validation messages.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p *problems) err() error {
	if len(*p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidRule, strings.Join(*p, "; "))
}

// Validate reports every problem of the rule in one error wrapping
// ErrInvalidRule, with messages an operator can act on, such as
// "pattern: missing closing ) in `(a|b`" or "template: unknown placeholder
// {nmae} (use {names}, …)".
func (r Rule) Validate() error {
	var p problems
	if r.GroupID < 0 || r.PersonaID < 0 {
		p.addf("group and persona ids must not be negative")
	}
	r.validateShape(&p)
	if c := r.config(); c != nil {
		c.validate(&p)
	}
	return p.err()
}

// config is a rule kind's settings.
type config interface{ validate(*problems) }

// config returns the settings matching Kind, or nil when they are missing.
func (r Rule) config() config {
	switch {
	case r.Kind == KindWelcome && r.Welcome != nil:
		return r.Welcome
	case r.Kind == KindKeyword && r.Keyword != nil:
		return r.Keyword
	case r.Kind == KindCheckIn && r.CheckIn != nil:
		return r.CheckIn
	case r.Kind == KindDiscussion && r.Discussion != nil:
		return r.Discussion
	case r.Kind == KindModeration && r.Moderation != nil:
		return r.Moderation
	case r.Kind == KindWishlist && r.Wishlist != nil:
		return r.Wishlist
	}
	return nil
}

// configs names the kinds whose configuration is set, in Kinds order.
func (r Rule) configs() []Kind {
	set := [...]bool{r.Welcome != nil, r.Keyword != nil, r.CheckIn != nil, r.Discussion != nil, r.Moderation != nil, r.Wishlist != nil}
	var out []Kind
	for i, ok := range set {
		if ok {
			out = append(out, Kinds[i])
		}
	}
	return out
}

// validateShape checks the kind and that exactly its configuration is set.
func (r Rule) validateShape(p *problems) {
	if !knownKind(r.Kind) {
		p.addf("kind: %q is not one of welcome, keyword, checkin, discussion, moderation, wishlist", r.Kind)
		return
	}
	set := r.configs()
	switch {
	case len(set) == 0 || !r.hasConfig():
		p.addf("%s: settings missing", r.Kind)
	case len(set) > 1:
		p.addf("%s: settings of other kinds present (%v)", r.Kind, set)
	}
}

func knownKind(k Kind) bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// hasConfig reports whether the configuration matching Kind is set.
func (r Rule) hasConfig() bool { return r.config() != nil }

// AppliesTo reports whether the rule acts in the group: enabled, for this
// group or for all, and configured for its kind.
func (r Rule) AppliesTo(groupID int64) bool {
	return r.Enabled && (r.GroupID == 0 || r.GroupID == groupID) && r.hasConfig()
}

func (c *WelcomeConfig) validate(p *problems) {
	validateText(p, "template", c.Template, WelcomePlaceholders)
	checkRange(p, "gift points", c.GiftPoints, 0, MaxPoints)
	checkRunes(p, "gift coupon", c.GiftCoupon, 100)
	checkRange(p, "debounce seconds", int64(c.DebounceSeconds), 0, MaxDebounceSeconds)
}

func (c *KeywordConfig) validate(p *problems) {
	switch c.Mode {
	case MatchExact, MatchContains:
		n := Normalize(c.Pattern)
		switch {
		case n == "":
			p.addf("pattern: write the word to match")
		case c.Mode == MatchExact && commandWords[n] != "":
			p.addf("pattern: %q is a built-in command, which answers it instead", c.Pattern)
		}
		checkRunes(p, "pattern", c.Pattern, MaxPatternRunes)
	case MatchPattern:
		if err := ValidatePattern(c.Pattern); err != nil {
			p.addf("pattern: %v", err)
		}
	default:
		p.addf("mode: %q is not one of exact, contains, pattern", c.Mode)
	}
	validateText(p, "reply", c.Reply, ReplyPlaceholders)
	checkRange(p, "cooldown seconds", int64(c.CooldownSeconds), 0, MaxCooldownSeconds)
}

// validateText checks a required template.
func validateText(p *problems, field, t string, allowed []string) {
	if strings.TrimSpace(t) == "" {
		p.addf("%s: write the message", field)
		return
	}
	checkRunes(p, field, t, MaxTemplateRunes)
	if err := ValidateTemplate(t, allowed...); err != nil {
		p.addf("%s: %v", field, err)
	}
}

// ValidatePattern checks a keyword rule's regular expression: RE2 syntax,
// at most MaxPatternRunes characters, half-width punctuation (messages are
// matched folded to half-width), and not matching an empty message (which
// would fire on every message).
func ValidatePattern(pattern string) error {
	if strings.TrimSpace(pattern) == "" {
		return errors.New("write the pattern to match")
	}
	if n := utf8.RuneCountInString(pattern); n > MaxPatternRunes {
		return fmt.Errorf("%d characters, at most %d", n, MaxPatternRunes)
	}
	if i := strings.IndexFunc(pattern, isFullWidth); i >= 0 {
		r, _ := utf8.DecodeRuneInString(pattern[i:])
		return fmt.Errorf("full-width %q: messages are matched in half-width, write %q", r, foldRune(r))
	}
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return fmt.Errorf("%s in `%s`", se.Code, se.Expr)
		}
		return err
	}
	re, err := compile(pattern)
	if err != nil {
		return err
	}
	if re.MatchString("") {
		return errors.New("matches an empty message, so it would answer every message")
	}
	return nil
}

func (c *CheckInConfig) validate(p *problems) {
	if strings.TrimSpace(c.Question) == "" {
		p.addf("question: write today's question")
	}
	checkRunes(p, "question", c.Question, MaxTemplateRunes)
	checkRunes(p, "hint", c.Hint, MaxTemplateRunes)
	c.validateAnswers(p)
	if _, err := parseWindow(c.WindowStart, c.WindowEnd); err != nil {
		p.addf("window: %v", err)
	}
	checkRange(p, "points", c.Points, 0, MaxPoints)
	for day, bonus := range c.StreakBonus {
		if day < 1 || bonus < 0 || bonus > MaxPoints {
			p.addf("streak bonus: write day=points with a day of at least 1 and points ≥ 0, e.g. 7=20")
			break
		}
	}
}

func (c *CheckInConfig) validateAnswers(p *problems) {
	if len(c.Answers) == 0 {
		p.addf("answers: give at least one accepted answer")
	}
	if len(c.Answers) > MaxAnswers {
		p.addf("answers: %d, at most %d", len(c.Answers), MaxAnswers)
	}
	for _, a := range c.Answers {
		n := Normalize(a)
		switch {
		case n == "":
			p.addf("answers: %q is empty once spaces and punctuation are ignored", a)
		case utf8.RuneCountInString(a) > MaxAnswerRunes:
			p.addf("answers: %q is longer than %d characters", a, MaxAnswerRunes)
		case commandWords[n] != "":
			p.addf("answers: %q is a command, members could not send it as an answer", a)
		}
	}
}

func (c *DiscussionConfig) validate(p *problems) {
	checkRange(p, "points per message", c.PointsPerMessage, 1, MaxPoints)
	checkRange(p, "daily cap", c.DailyCap, 1, MaxPoints)
	checkRange(p, "minimum characters", int64(c.MinRunes), 0, MaxTemplateRunes)
}

func (c *ModerationConfig) validate(p *problems) {
	checkRange(p, "new member link hours", int64(c.NewMemberLinkHours), 0, MaxNewMemberHours)
	checkRange(p, "flood count", int64(c.FloodCount), 0, 1000)
	checkRange(p, "flood seconds", int64(c.FloodSeconds), 0, MaxFloodSeconds)
	if (c.FloodCount > 0) != (c.FloodSeconds > 0) {
		p.addf("flood: set both the message count and the seconds, or neither")
	}
	if len(c.BannedWords) > MaxBannedWords {
		p.addf("banned words: %d, at most %d", len(c.BannedWords), MaxBannedWords)
	}
	for _, w := range c.BannedWords {
		if fold(w) == "" {
			p.addf("banned words: remove the empty entry")
			break
		}
		checkRunes(p, "banned word", w, MaxWordRunes)
	}
	checkRange(p, "mute minutes", int64(c.MuteMinutes), 1, MaxMuteMinutes)
	checkRange(p, "warnings before mute", int64(c.WarnsBeforeMute), 0, MaxEscalationCounts)
	checkRange(p, "mutes before removal", int64(c.MutesBeforeRemove), 0, MaxEscalationCounts)
	checkRange(p, "warning decay hours", int64(c.WarnDecayHours), 0, MaxWarnDecayHours)
}

func (c *WishlistConfig) validate(p *problems) {
	if len(c.Reminders) > MaxReminders {
		p.addf("reminders: at most %d a day", MaxReminders)
	}
	for _, r := range c.Reminders {
		if _, err := parseClock(r, false); err != nil {
			p.addf("reminders: %v", err)
		}
	}
	for _, k := range c.Keywords {
		if Normalize(k) == "" {
			p.addf("keywords: remove the empty entry")
			return
		}
		checkRunes(p, "keyword", k, MaxWordRunes)
	}
}

func checkRange(p *problems, field string, v, lo, hi int64) {
	if v < lo || v > hi {
		p.addf("%s: %d is outside %d–%d", field, v, lo, hi)
	}
}

func checkRunes(p *problems, field, s string, max int) {
	if n := utf8.RuneCountInString(s); n > max {
		p.addf("%s: %d characters, at most %d", field, n, max)
	}
}
