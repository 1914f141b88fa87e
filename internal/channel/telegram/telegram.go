// Package telegram is liveloop's adapter for the Telegram Bot API: it sends
// plain-text messages (with inline buttons) to groups and members, verifies
// and normalises webhook updates, long-polls for machines without a public
// URL, and mutes or removes members for moderation.
//
// It must not decide what to send or when, nor pace or retry: the outbox
// does that from Limits and from the errors Send returns. Telegram has no
// idempotency key, so a send that may have reached Telegram is reported as
// channel.ErrUncertain and never retried here.
//
// API calls go through github.com/go-telegram/bot where it serves. Sending
// and polling call the HTTP API directly (see api.go for why), and updates
// are decoded into this package's own structs (see update.go for why).
package telegram

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"

	"github.com/liveloop/liveloop/internal/channel"
)

// Name is the channel name of Telegram.
const Name = "telegram"

// MaxText is the longest message Telegram accepts, in UTF-16 code units.
const MaxText = 4096

// maxCallbackData is Telegram's limit on a button's callback_data, in bytes.
const maxCallbackData = 64

// DefaultAPIURL is the Bot API server used when Config.APIURL is empty.
const DefaultAPIURL = "https://api.telegram.org"

// defaultTimeout bounds one API call. The SDK's own default is 60 s; a send
// that hangs that long holds an outbox worker and then ends uncertain anyway.
const defaultTimeout = 30 * time.Second

var (
	tokenShape  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]{30,}$`)
	secretShape = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// Config configures the Telegram channel of one bot.
type Config struct {
	// Token is the bot token from @BotFather ("123456:ABC…"). It is a
	// secret: it never appears in logs or errors.
	Token string
	// WebhookSecret is the secret_token given to setWebhook; Telegram sends
	// it back in X-Telegram-Bot-Api-Secret-Token. Without it, Verify
	// refuses every delivery.
	WebhookSecret string
	// APIURL is the Bot API server (default https://api.telegram.org); a
	// self-hosted Bot API server or a test fake goes here.
	APIURL string
	// HTTPClient makes the API calls; it needs a timeout longer than the
	// long-poll timeout given to Poll. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives what the adapter skips (an undecodable update while
	// polling); default slog.Default().
	Logger *slog.Logger
}

// Channel is the Telegram channel of one bot. It is safe for concurrent use.
type Channel struct {
	token  string
	secret string
	botID  int64 // the numeric prefix of the token: the bot's own user id
	apiURL string
	client *http.Client
	log    *slog.Logger
	sdk    *bot.Bot
}

// New validates cfg and returns the channel. It does not call Telegram; use
// GetMe to check that the token works.
func New(cfg Config) (*Channel, error) {
	if !tokenShape.MatchString(cfg.Token) {
		// Never echo the token, not even a wrong one: it may be a real
		// token pasted with a typo.
		return nil, errors.New("telegram: Token is not a bot token (want <bot id>:<secret> as given by @BotFather)")
	}
	if cfg.WebhookSecret != "" && !secretShape.MatchString(cfg.WebhookSecret) {
		return nil, errors.New("telegram: WebhookSecret must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
	}
	botID, err := strconv.ParseInt(cfg.Token[:strings.IndexByte(cfg.Token, ':')], 10, 64)
	if err != nil || botID <= 0 {
		return nil, errors.New("telegram: Token does not start with a bot id")
	}
	c := &Channel{
		token:  cfg.Token,
		secret: cfg.WebhookSecret,
		botID:  botID,
		apiURL: strings.TrimRight(cfg.APIURL, "/"),
		client: cfg.HTTPClient,
		log:    cfg.Logger,
	}
	if c.apiURL == "" {
		c.apiURL = DefaultAPIURL
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: defaultTimeout}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.sdk, err = bot.New(c.token,
		bot.WithServerURL(c.apiURL),
		bot.WithHTTPClient(c.client.Timeout, c.client),
		bot.WithSkipGetMe(),
		// The SDK reports only pipe and body-close failures here; they name
		// the method, never the token.
		bot.WithErrorsHandler(func(err error) { c.log.Debug("telegram: sdk", "err", err) }),
		bot.WithDebugHandler(func(string, ...any) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return c, nil
}

// BotID is the bot's own Telegram user id (the token's numeric prefix).
func (c *Channel) BotID() int64 { return c.botID }

// Name is "telegram".
func (*Channel) Name() string { return Name }

// Capabilities: bots may post to groups and carry inline buttons; a direct
// message needs the member to have started the bot; a send is not
// idempotent.
func (*Channel) Capabilities() channel.Capabilities {
	return channel.Capabilities{
		PostToGroups:        true,
		Buttons:             true,
		DMAfterMemberStarts: true,
		IdempotentSend:      false,
		MaxTextLen:          MaxText,
	}
}

// Limits are Telegram's documented broadcast limits: about 30 messages a
// second per bot, 20 a minute per group, one a second per private chat.
func (*Channel) Limits() channel.Limits {
	return channel.Limits{PerSecond: 30, PerGroupPerMinute: 20, PerMemberPerSecond: 1}
}

// discard drains and closes a response body so the connection is reused.
func discard(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
