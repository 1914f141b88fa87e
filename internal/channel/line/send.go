package line

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/liveloop/liveloop/internal/channel"
)

// RetryWait is how long liveloop is asked to wait after a rate-limit 429.
// LINE sends no Retry-After and documents no window; one second is a
// short, fixed pause that the outbox's own backoff grows on repeats.
const RetryWait = time.Second

// Messages LINE answers with, matched exactly as documented.
const (
	msgMonthlyLimit = "You have reached your monthly limit."
	msgSendFailed   = "Failed to send messages" // 400: the recipient id does not exist (or the bot is not in the group)
)

// AcceptedRequestHeader is set on a 409 to a push whose retry key was
// already accepted: the id of the request that delivered the message.
const AcceptedRequestHeader = "X-Line-Accepted-Request-Id"

// retryKeySpace namespaces the retry keys liveloop derives (a fixed,
// random UUID: changing it would make every pending retry a new send).
var retryKeySpace = uuid.MustParse("6f1d6f0e-5a43-4f0b-9c39-3f1c1f0a7e21")

// RetryKey is the X-Line-Retry-Key of a push: a UUID derived from the
// outbox's idempotency key and the recipient, so that every retry of one
// outbox row reuses its key and two recipients never share one (LINE
// would silently drop the later message).
func RetryKey(idemKey, to string) string {
	return uuid.NewSHA1(retryKeySpace, []byte(idemKey+"\x00"+to)).String()
}

// Send delivers m to m.To (a group "C…", room "R…" or user "U…" id). With
// a reply token it replies (free, no quota) and falls back to push when
// the token is invalid or expired; otherwise it pushes with a retry key.
func (c *Channel) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	if m.Card != nil {
		// A product or coupon card: a Flex bubble, the text as its
		// alternative (notifications, chat lists).
		msg, err := flexMessage(m.Text, *m.Card)
		if err != nil {
			return channel.Result{}, err
		}
		return c.deliver(ctx, m.To, m.IdemKey, m.ReplyToken, msg)
	}
	msg, err := c.textMessage(m)
	if err != nil {
		return channel.Result{}, err
	}
	return c.deliver(ctx, m.To, m.IdemKey, m.ReplyToken, msg)
}

// deliver replies with replyToken when set, else (or when the token is
// refused) pushes msg to to under a retry key derived from idemKey.
func (c *Channel) deliver(ctx context.Context, to, idemKey, replyToken string, msg messaging_api.MessageInterface) (channel.Result, error) {
	if to == "" {
		return channel.Result{}, fmt.Errorf("%w: line: no recipient", channel.ErrPermanent)
	}
	if idemKey == "" {
		// Without a key every push to this recipient would share one retry
		// key, and LINE would drop all but the first.
		return channel.Result{}, fmt.Errorf("%w: line: no idempotency key", channel.ErrPermanent)
	}
	if err := ctx.Err(); err != nil {
		return channel.Result{}, fmt.Errorf("line: not sent: %w", err) // nothing left, so nothing is uncertain
	}
	if replyToken != "" {
		res, err := c.reply(ctx, replyToken, msg)
		if !errors.Is(err, errReplyToken) {
			return res, err
		}
		c.log.Debug("line: reply token refused, pushing instead", "to", to)
	}
	return c.push(ctx, to, RetryKey(idemKey, to), msg)
}

// errReplyToken: the reply token was invalid, used or expired; nothing
// was delivered, so a push may follow.
var errReplyToken = errors.New("line: reply token refused")

func (c *Channel) reply(ctx context.Context, token string, msg messaging_api.MessageInterface) (channel.Result, error) {
	api, cancel, err := c.api(ctx)
	if err != nil {
		return channel.Result{}, err
	}
	defer cancel()
	// No X-Line-Retry-Key: LINE refuses one on reply (400).
	res, body, err := api.ReplyMessageWithHttpInfo(&messaging_api.ReplyMessageRequest{
		ReplyToken: token, Messages: []messaging_api.MessageInterface{msg},
	})
	switch {
	case res == nil && err != nil:
		if notSent(err) {
			return channel.Result{}, fmt.Errorf("line: reply: %w", err)
		}
		// The reply may have been accepted, and a reply has no retry key:
		// resending could deliver twice.
		return channel.Result{}, fmt.Errorf("%w: line: reply: %w", channel.ErrUncertain, err)
	case res.StatusCode/100 == 2:
		// Delivered, even if the response body could not be decoded.
		return channel.Result{ExternalID: firstID(body)}, nil
	}
	e := apiError("reply", res)
	switch {
	case res.StatusCode == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "reply token"):
		return channel.Result{}, fmt.Errorf("%w: %w", errReplyToken, e)
	case res.StatusCode >= 500:
		return channel.Result{}, fmt.Errorf("%w: %w", channel.ErrUncertain, e)
	}
	return channel.Result{}, classify(e)
}

func (c *Channel) push(ctx context.Context, to, retryKey string, msg messaging_api.MessageInterface) (channel.Result, error) {
	api, cancel, err := c.api(ctx)
	if err != nil {
		return channel.Result{}, err
	}
	defer cancel()
	res, body, err := api.PushMessageWithHttpInfo(&messaging_api.PushMessageRequest{
		To: to, Messages: []messaging_api.MessageInterface{msg},
	}, retryKey)
	switch {
	case res == nil && err != nil:
		// Timeouts and network failures are retryable: the retry key makes
		// a resend harmless (409 if it was delivered).
		return channel.Result{}, fmt.Errorf("line: push: %w", err)
	case res.StatusCode/100 == 2:
		var id string
		if body != nil && len(body.SentMessages) > 0 {
			id = body.SentMessages[0].Id
		}
		return channel.Result{ExternalID: id}, nil
	case res.StatusCode == http.StatusConflict && res.Header.Get(AcceptedRequestHeader) != "":
		// Already accepted under this retry key: it was delivered.
		return channel.Result{ExternalID: res.Header.Get(AcceptedRequestHeader)}, nil
	}
	e := apiError("push", res)
	if res.StatusCode == http.StatusConflict {
		// A 409 without the accepted request id is undocumented.
		return channel.Result{}, fmt.Errorf("%w: %w", channel.ErrUncertain, e)
	}
	if res.StatusCode >= 500 {
		return channel.Result{}, e
	}
	return channel.Result{}, classify(e)
}

// classify maps a 4xx refusal to the channel's errors.
func classify(e *APIError) error {
	switch {
	case e.Status == http.StatusTooManyRequests && e.Message == msgMonthlyLimit:
		// The month's quota is spent: retrying only fails again until the
		// month turns or the plan changes.
		return fmt.Errorf("%w: monthly message quota reached: %w", channel.ErrPermanent, e)
	case e.Status == http.StatusTooManyRequests:
		return &channel.RetryAfter{Wait: RetryWait}
	case unreachable(e):
		return fmt.Errorf("%w: %w", channel.ErrUnreachable, e)
	case e.Status >= 400 && e.Status < 500:
		return fmt.Errorf("%w: %w", channel.ErrPermanent, e)
	}
	return e
}

// unreachable reports a refusal that means the recipient is gone for this
// bot. LINE answers 400 "Failed to send messages" for an id that does not
// exist for this provider, which is also how a group the bot has left
// answers; 404 is "not found". A user who blocked the bot is not
// detectable here: LINE answers 200 and drops the message (the unfollow
// webhook tells liveloop instead).
func unreachable(e *APIError) bool {
	msg := strings.ToLower(e.Message)
	switch e.Status {
	case http.StatusBadRequest:
		return e.Message == msgSendFailed
	case http.StatusNotFound:
		return true
	case http.StatusForbidden:
		return strings.Contains(msg, "not a member") || strings.Contains(msg, "blocked")
	}
	return false
}

// textMessage builds the LINE text message for m, refusing what LINE
// would refuse (so that the refusal is permanent and clear).
func (c *Channel) textMessage(m channel.Message) (*messaging_api.TextMessage, error) {
	if strings.TrimSpace(m.Text) == "" {
		return nil, fmt.Errorf("%w: line: empty text", channel.ErrPermanent)
	}
	if n := Len(m.Text); n > MaxText {
		return nil, fmt.Errorf("%w: line: text is %d characters, LINE allows %d", channel.ErrPermanent, n, MaxText)
	}
	msg := &messaging_api.TextMessage{Text: m.Text, Sender: c.sender(m)}
	qr, err := quickReply(m.Buttons)
	if err != nil {
		return nil, err
	}
	msg.QuickReply = qr
	return msg, nil
}

// maxPostbackData is LINE's limit on a postback action's data.
const maxPostbackData = 300

// quickReply turns buttons into quick-reply postback items. A label longer
// than LINE's 20 characters is shortened with "…" (the data, not the
// label, carries the meaning); more than 13 buttons cannot be shown.
func quickReply(buttons []channel.Button) (*messaging_api.QuickReply, error) {
	if len(buttons) == 0 {
		return nil, nil
	}
	if len(buttons) > MaxButtons {
		return nil, fmt.Errorf("%w: line: %d buttons, LINE shows at most %d", channel.ErrPermanent, len(buttons), MaxButtons)
	}
	qr := &messaging_api.QuickReply{}
	for i, b := range buttons {
		if b.Data == "" || len(b.Data) > maxPostbackData || strings.TrimSpace(b.Label) == "" {
			return nil, fmt.Errorf("%w: line: button %d needs a label and 1-%d bytes of data", channel.ErrPermanent, i+1, maxPostbackData)
		}
		label := Truncate(b.Label, MaxButtonLabel)
		qr.Items = append(qr.Items, messaging_api.QuickReplyItem{
			Type: "action",
			// DisplayText shows the member's choice in the chat, as a
			// message from them, without a message webhook.
			Action: &messaging_api.PostbackAction{Label: label, Data: b.Data, DisplayText: b.Label},
		})
	}
	return qr, nil
}

// maxSenderName is LINE's limit on a sender name.
const maxSenderName = 20

// sender shows the persona's name and avatar instead of the bot's. LINE
// refuses names containing "LINE" (and a few other reserved words) and
// non-https icons; such a persona is sent as the bot rather than failing
// the message.
func (c *Channel) sender(m channel.Message) *messaging_api.Sender {
	name := strings.TrimSpace(m.SenderName)
	if name == "" {
		return nil
	}
	if strings.Contains(strings.ToUpper(name), "LINE") {
		c.log.Debug("line: sender name has a reserved word; sending as the bot")
		return nil
	}
	s := &messaging_api.Sender{Name: Truncate(name, maxSenderName)}
	if strings.HasPrefix(m.AvatarURL, "https://") && len(m.AvatarURL) <= 2000 {
		s.IconUrl = m.AvatarURL
	}
	return s
}

// Len counts characters as LINE does: UTF-16 code units, so an emoji
// outside the Basic Multilingual Plane counts two. (Ranging over a string
// yields U+FFFD for invalid bytes, so RuneLen is never negative here.)
func Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Truncate shortens s to at most limit LINE characters, ending in "…"
// when it had to cut.
func Truncate(s string, limit int) string {
	if Len(s) <= limit {
		return s
	}
	n := 0
	for i, r := range s {
		if n+utf16.RuneLen(r) > limit-1 { // keep one for the "…"
			return s[:i] + "…"
		}
		n += utf16.RuneLen(r)
	}
	return s
}

func firstID(body *messaging_api.ReplyMessageResponse) string {
	if body == nil || len(body.SentMessages) == 0 {
		return ""
	}
	return body.SentMessages[0].Id
}
