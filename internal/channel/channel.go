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

	"github.com/liveloop/liveloop/internal/event"
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

// Webhook is implemented by channels whose platform delivers events by HTTP
// callback: verify the raw body's signature, then normalise it into events
// (each with the platform's own id as source id, so redeliveries are
// stored once). Errors are ErrUnauthorized or ErrMalformed.
type Webhook interface {
	Channel
	HandleWebhook(ctx context.Context, tenantID int64, header http.Header, body []byte) ([]event.Event, error)
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
	defer r.mu.RUnlock()
	c, ok := r.channels[name]
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
