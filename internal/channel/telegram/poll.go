package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-telegram/bot"

	"github.com/liveloop/liveloop/internal/channel"
)

// AllowedUpdates are the update kinds liveloop asks for. chat_member must
// be listed explicitly: Telegram leaves it out by default.
var AllowedUpdates = []string{"message", "callback_query", "chat_member", "my_chat_member"}

// pollMargin is how much longer than the long-poll timeout the HTTP client
// must be willing to wait for Telegram's (empty) answer.
const pollMargin = 5 * time.Second

// Poll long-polls getUpdates from offset (the next update id to fetch; 0
// for "whatever is pending") and returns what arrived within timeout,
// mapped as Parse maps a webhook delivery, and the offset of the next call.
// Passing next confirms the updates returned: Telegram will not send them
// again. It is for machines without a public URL; Telegram refuses it
// while a webhook is set (DeleteWebhook first).
//
// timeout is cut to the HTTP client's timeout less a margin, so that a
// quiet long poll does not end as a client timeout.
func (c *Channel) Poll(ctx context.Context, offset int64, timeout time.Duration) ([]channel.Inbound, int64, error) {
	if limit := c.client.Timeout - pollMargin; c.client.Timeout > 0 && timeout > limit {
		timeout = max(limit, 0)
	}
	params := struct {
		Offset         int64    `json:"offset,omitempty"`
		Timeout        int      `json:"timeout"`
		AllowedUpdates []string `json:"allowed_updates"`
	}{offset, int(timeout / time.Second), AllowedUpdates}
	var raw []json.RawMessage
	if err := c.call(ctx, "getUpdates", params, &raw); err != nil {
		return nil, offset, classify(err, false)
	}
	next := offset
	var out []channel.Inbound
	for i, r := range raw {
		var u update
		if err := decodeUpdate(r, &u); err != nil {
			// Skipping it is the only way forward: Telegram sends it again
			// until the offset passes it. Its id, if any, still counts.
			c.log.Warn("telegram: skipped an undecodable update", "index", i, "err", err)
			var id struct {
				UpdateID int64 `json:"update_id"`
			}
			if json.Unmarshal(r, &id) == nil && id.UpdateID >= next {
				next = id.UpdateID + 1
			}
			continue
		}
		if *u.UpdateID >= next {
			next = *u.UpdateID + 1
		}
		out = append(out, c.inbound(&u)...)
	}
	return out, next, nil
}

// SetWebhook asks Telegram to post updates to webhookURL with secret in the
// X-Telegram-Bot-Api-Secret-Token header. Telegram posts only to HTTPS on
// port 80, 88, 443 or 8443; a secret is required because Verify refuses
// deliveries without one.
func (c *Channel) SetWebhook(ctx context.Context, webhookURL, secret string) error {
	if err := checkWebhookURL(webhookURL); err != nil {
		return err
	}
	if !secretShape.MatchString(secret) {
		return errors.New("telegram: webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
	}
	_, err := c.sdk.SetWebhook(ctx, &bot.SetWebhookParams{
		URL: webhookURL, SecretToken: secret, AllowedUpdates: AllowedUpdates,
	})
	if err != nil {
		return c.sdkError("setWebhook", err)
	}
	return nil
}

func checkWebhookURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return errors.New("telegram: webhook URL is not an absolute URL")
	}
	if u.Scheme != "https" {
		return errors.New("telegram: webhook URL must use https (Telegram posts only over TLS)")
	}
	switch u.Port() {
	case "", "80", "88", "443", "8443":
	default:
		return fmt.Errorf("telegram: webhook port %s: Telegram posts only to ports 80, 88, 443 and 8443", u.Port())
	}
	return nil
}

// DeleteWebhook stops webhook delivery (needed before Poll). Pending
// updates are kept.
func (c *Channel) DeleteWebhook(ctx context.Context) error {
	if _, err := c.sdk.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil {
		return c.sdkError("deleteWebhook", err)
	}
	return nil
}

// GetMe returns the bot's own account: the "can we connect" check of the
// console. A wrong token gives ErrTokenRejected.
func (c *Channel) GetMe(ctx context.Context) (channel.User, error) {
	me, err := c.sdk.GetMe(ctx)
	if err != nil {
		return channel.User{}, c.sdkError("getMe", err)
	}
	return toUser(user{ID: me.ID, IsBot: me.IsBot, FirstName: me.FirstName, LastName: me.LastName, Username: me.Username}), nil
}

// AnswerCallback acknowledges a button press (the InboundButton's
// ReplyToken), showing text to the member when it is not empty. Telegram
// keeps a spinner on the button until it is answered.
func (c *Channel) AnswerCallback(ctx context.Context, callbackID, text string) error {
	if callbackID == "" {
		return fmt.Errorf("telegram: answerCallbackQuery: no callback id: %w", channel.ErrPermanent)
	}
	_, err := c.sdk.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: callbackID, Text: text})
	if err != nil {
		return c.sdkError("answerCallbackQuery", err)
	}
	return nil
}
