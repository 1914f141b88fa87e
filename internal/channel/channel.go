// Package channel defines what liveloop needs of a chat platform — send a
// message, verify and normalise what the platform delivers, and describe
// its limits and capabilities — so that the rest of liveloop adapts to a
// channel instead of assuming one. Each platform is its own package below
// this one (webchat first; Telegram, LINE, Discord and WeCom later).
//
// Adapters must not decide what to send or when: the outbox does that.
package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Capabilities tell the rest of liveloop what a channel can do.
type Capabilities struct {
	// PostToGroups: a bot may post to a group at any time. WeCom customer
	// groups cannot: a post becomes a task a staff member confirms.
	PostToGroups bool
	// NeedsStaffConfirmation: outbound mass messages wait for a person.
	NeedsStaffConfirmation bool
	// Buttons: messages can carry inline buttons (polls, claims, check-in).
	Buttons bool
	// ReplyTokens: the platform hands out free reply tokens (LINE).
	ReplyTokens bool
	// DMAfterMemberStarts: a direct message needs the member to have
	// started a chat with the bot first (Telegram).
	DMAfterMemberStarts bool
	// IdempotentSend: a send retried after a crash or timeout cannot be
	// delivered twice (the web community: the event log's source id; LINE:
	// the retry key). Where false, an interrupted send is marked unknown and
	// never resent blindly.
	IdempotentSend bool
	// MaxTextLen is the longest text one message may carry (characters).
	MaxTextLen int
	// Cards: messages can carry a product or coupon card (LINE Flex).
	Cards bool
}

// Limits are a channel's documented send rates; zero means unlimited.
type Limits struct {
	PerSecond          float64 // all sends of one bot/account
	PerGroupPerMinute  float64 // sends into one group
	PerMemberPerSecond float64 // sends to one member (DMs)
}

// Message is one outbound message to one group or one member.
type Message struct {
	OutboxID   int64
	TenantID   int64
	IdemKey    string // stable across retries of this message to this recipient
	GroupID    int64  // the group it goes to, or 0 for a direct message
	MemberID   int64  // the member it goes to (direct message), or 0
	StaffID    int64  // the staff account that wrote it, if any
	SenderName string // the persona or staff name members see
	PersonaID  int64  // the persona speaking, if any
	AvatarURL  string // the persona's avatar, if any
	Text       string
	// To is the platform's address of the recipient: the chat id of the
	// group (GroupID != 0) or the member's user id on this platform (a
	// direct message). The outbox fills it from the group's or the
	// identity's external id; the web community ignores it.
	To string
	// ReplyToken, when set, is a platform reply token from the inbound
	// event this message answers (LINE). An adapter that has reply tokens
	// uses it while valid and falls back to a normal send otherwise.
	ReplyToken string
	// Buttons are inline buttons (poll options, claim, check-in) for
	// channels whose Capabilities have Buttons; others append them to the
	// text as numbered lines.
	Buttons []Button
	// Card, when set, is a product or coupon card for channels whose
	// Capabilities have Cards (LINE: a Flex bubble, with Text as its
	// alternative text); others send Text, which says the same.
	Card *Card
}

// Card is a product or coupon card.
type Card struct {
	Title       string `json:"title"`
	Subtitle    string `json:"subtitle,omitempty"`
	Price       string `json:"price,omitempty"`     // as shown, e.g. "99.00"
	ImageURL    string `json:"image_url,omitempty"` // https
	ButtonLabel string `json:"button_label,omitempty"`
	ButtonURL   string `json:"button_url,omitempty"`
}

// Button is one inline button: the label members see and the payload the
// platform hands back when it is pressed (an InboundButton's Data).
type Button struct {
	Label string
	Data  string // ≤ 64 bytes (Telegram's callback_data limit)
}

// Result is what a successful send returns.
type Result struct {
	ExternalID string // the platform's message id, when it gives one
}

// Channel is one platform adapter.
type Channel interface {
	Name() string
	Capabilities() Capabilities
	Limits() Limits
	Send(ctx context.Context, m Message) (Result, error)
}

// Receiver is implemented by channels whose platform delivers events by
// HTTP callback. liveloop reads the body (capped at MaxWebhookBody), calls
// Verify on the raw bytes, then Parse, and stores what Parse returns;
// ingestion (identities, groups, the event log) is liveloop's, not the
// adapter's.
type Receiver interface {
	// Verify checks the delivery's signature or secret over the raw body
	// and headers, in constant time; ErrUnauthorized when missing/wrong.
	Verify(header http.Header, body []byte) error
	// Parse normalises a verified body; ErrMalformed when it is not the
	// platform's format. Kinds liveloop does not use are left out, not
	// errors. A body with no events (LINE's Verify button) returns none.
	Parse(body []byte) ([]Inbound, error)
}

// MaxWebhookBody caps an inbound delivery; larger bodies are refused (413)
// before they are read further.
const MaxWebhookBody = 1 << 20

// InboundKind names what a platform delivered.
type InboundKind string

const (
	InboundMessage    InboundKind = "message"     // a text message in a group or a 1:1 chat
	InboundJoin       InboundKind = "join"        // Users joined the group Chat
	InboundLeave      InboundKind = "leave"       // Users left or were removed from Chat
	InboundButton     InboundKind = "button"      // User pressed a button carrying Data
	InboundBotAdded   InboundKind = "bot_added"   // the bot was added to Chat
	InboundBotRemoved InboundKind = "bot_removed" // the bot was removed from Chat: it is unreachable
	InboundFollow     InboundKind = "follow"      // User started/followed the bot: direct messages allowed
	InboundUnfollow   InboundKind = "unfollow"    // User blocked the bot: direct messages unreachable
	InboundMigrate    InboundKind = "migrate"     // the group Chat now has the id NewChat (Telegram supergroup)
)

// User is a platform account as the platform describes it.
type User struct {
	ID       string // the platform's user id, as a decimal or opaque string
	Name     string // display name, when given
	Username string // @handle, when the platform has one
	IsBot    bool
}

// Inbound is one normalised thing a platform delivered.
type Inbound struct {
	Kind InboundKind
	// ID is the platform's own id of this event (Telegram: "u" + update_id;
	// LINE: webhookEventId). liveloop stores each ID once, so redeliveries
	// are harmless. Where one delivery yields several events (a Telegram
	// update that is a join and a message), the later ones add a suffix
	// ("u123/message") so that each keeps an id of its own.
	ID         string
	Chat       string // the chat: group id, or the user id for a 1:1 chat
	Private    bool   // Chat is a 1:1 chat with the bot
	ChatTitle  string // the group's title, when given
	User       User   // who acted; ID may be empty (LINE group messages without userId)
	Users      []User // InboundJoin / InboundLeave: who joined or left
	Text       string // InboundMessage: the text, as sent (liveloop normalises it)
	MessageID  string // the platform's message id
	Data       string // InboundButton: the button's payload
	ReplyToken string // a reply token for answering this event (LINE); Telegram buttons: the callback_query id to answer
	NewChat    string // InboundMigrate: the chat's new id
	Redelivery bool   // the platform says this is a redelivery
	At         time.Time
}

// Errors adapters return.
var (
	ErrUnauthorized = errors.New("channel: signature missing or wrong")
	ErrMalformed    = errors.New("channel: malformed delivery")
	// ErrPermanent wraps failures that no retry can fix (blocked by the
	// user, chat not found, text refused).
	ErrPermanent = errors.New("channel: permanent failure")
	// ErrUncertain wraps failures after which the platform may or may not
	// have delivered (a timeout without an idempotency key).
	ErrUncertain = errors.New("channel: delivery uncertain")
	// ErrUnreachable wraps failures that mean the recipient is gone for
	// this bot: removed from the group, blocked by the user, chat not
	// found. liveloop marks the group or identity unreachable instead of
	// retrying; it is also permanent.
	ErrUnreachable = errors.New("channel: recipient unreachable")
)

// RetryAfter is returned when the platform asks liveloop to slow down.
type RetryAfter struct{ Wait time.Duration }

func (e *RetryAfter) Error() string {
	return fmt.Sprintf("channel: rate limited, retry after %s", e.Wait)
}

// Registry holds the channels of a running liveloop.
type Registry struct {
	mu       sync.RWMutex
	channels map[string]Channel
	fallback func(name string) (Channel, bool)
}

// SetFallback resolves names that were not added (platform accounts,
// which are created at run time and loaded on first use).
func (r *Registry) SetFallback(f func(name string) (Channel, bool)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fallback = f
}

// NewRegistry returns a registry with the given channels.
func NewRegistry(chs ...Channel) *Registry {
	r := &Registry{channels: map[string]Channel{}}
	for _, c := range chs {
		r.Add(c)
	}
	return r
}

// Add registers a channel under its name.
func (r *Registry) Add(c Channel) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.channels[c.Name()] = c
}

// Get returns the channel of that name.
func (r *Registry) Get(name string) (Channel, bool) {
	r.mu.RLock()
	c, ok := r.channels[name]
	fb := r.fallback
	r.mu.RUnlock()
	if !ok && fb != nil {
		return fb(name)
	}
	return c, ok
}

// Names lists the registered channels.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for n := range r.channels {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
