// Package line is the LINE Messaging API channel: it verifies and
// normalises LINE webhook deliveries and sends text (with quick-reply
// buttons) and Flex cards to LINE groups, rooms and users.
//
// It owns the LINE-specific rules liveloop must honour: the
// X-Line-Signature check over the raw body, deduplication by
// webhookEventId, free reply tokens with a fallback to push, one
// X-Line-Retry-Key per message and recipient (a 409 carrying
// x-line-accepted-request-id means "already delivered"), and the monthly
// quota that must never be retried into.
//
// It must not decide what to send or when (the outbox does), store
// anything, or log secrets and raw bodies.
package line

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
)

// Name is the channel name of LINE.
const Name = "line"

// MaxText is the longest text message LINE accepts, counted as LINE counts
// characters (UTF-16 code units: an emoji outside the BMP counts two).
const MaxText = 5000

// MaxButtons is the most quick-reply items one LINE message may carry.
const MaxButtons = 13

// MaxButtonLabel is the longest quick-reply label, in LINE characters.
const MaxButtonLabel = 20

// DefaultAPIURL is the production Messaging API endpoint.
const DefaultAPIURL = "https://api.line.me"

// defaultTimeout bounds one API request when Config.HTTPClient has none.
const defaultTimeout = 10 * time.Second

// Config configures the LINE channel. ChannelSecret and AccessToken come
// from the channel's page in the LINE Developers Console.
type Config struct {
	ChannelSecret string // signs webhook deliveries (X-Line-Signature)
	AccessToken   string // long-lived channel access token for the API
	APIURL        string // default DefaultAPIURL; a linetest server in tests
	// HTTPClient supplies the transport and the per-request timeout (10 s
	// when it has none). Default: a client with that timeout over
	// http.DefaultTransport — never http.DefaultClient, which has no
	// timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger // default: discard
}

// Channel is the LINE adapter. It is safe for concurrent use.
type Channel struct {
	secret    []byte
	token     string
	apiURL    string
	transport http.RoundTripper
	timeout   time.Duration
	log       *slog.Logger
}

var (
	_ channel.Channel  = (*Channel)(nil)
	_ channel.Receiver = (*Channel)(nil)
)

// New validates cfg and returns the channel. Errors name the missing or
// invalid field and never echo a secret.
func New(cfg Config) (*Channel, error) {
	if cfg.ChannelSecret == "" {
		return nil, errors.New("line: Config.ChannelSecret is required")
	}
	if cfg.AccessToken == "" {
		return nil, errors.New("line: Config.AccessToken is required")
	}
	c := &Channel{
		secret:    []byte(cfg.ChannelSecret),
		token:     cfg.AccessToken,
		apiURL:    cfg.APIURL,
		transport: http.DefaultTransport,
		timeout:   defaultTimeout,
		log:       cfg.Logger,
	}
	if c.apiURL == "" {
		c.apiURL = DefaultAPIURL
	}
	if u, err := url.ParseRequestURI(c.apiURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// The URL is not echoed: it could carry credentials in its userinfo.
		return nil, errors.New("line: Config.APIURL is not an absolute http(s) URL")
	}
	if hc := cfg.HTTPClient; hc != nil {
		if hc.Transport != nil {
			c.transport = hc.Transport
		}
		if hc.Timeout > 0 {
			c.timeout = hc.Timeout
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Name returns "line".
func (*Channel) Name() string { return Name }

// Capabilities: LINE bots may post to groups at any time, carry quick-reply
// buttons, get free reply tokens, and push idempotently with a retry key.
func (*Channel) Capabilities() channel.Capabilities {
	return channel.Capabilities{
		PostToGroups:   true,
		Buttons:        true,
		ReplyTokens:    true,
		Cards:          true,
		IdempotentSend: true,
		MaxTextLen:     MaxText,
	}
}

// Limits are those of the push endpoint, the only one Send uses: 2,000
// requests a second. LINE documents no per-group or per-member rate. The
// broadcast and narrowcast endpoints (60 requests an hour) and multicast
// (200/s, users only) are not used: a community post goes to its group
// with one push.
func (*Channel) Limits() channel.Limits {
	return channel.Limits{PerSecond: 2000}
}
