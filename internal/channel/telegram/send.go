package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/liveloop/liveloop/internal/channel"
)

// sendMessage is the body of a sendMessage call. It has no parse_mode on
// purpose: with one, Telegram refuses the whole message when member or
// seller text holds an unescaped "!" (MarkdownV2) or "<" (HTML); plain
// text arrives exactly as written.
type sendMessage struct {
	ChatID      int64           `json:"chat_id"`
	Text        string          `json:"text"`
	ReplyMarkup *inlineKeyboard `json:"reply_markup,omitempty"`
}

type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// Send delivers m.Text as plain text to the chat m.To, with m.Buttons as
// an inline keyboard (one button a row). Text Telegram would refuse is
// refused here with channel.ErrPermanent, never split or altered. A bot
// speaks under its own name: SenderName and AvatarURL are not shown.
//
// Errors: *channel.RetryAfter (429), ErrUnreachable (kicked, blocked, chat
// gone), *MigratedError (the group became a supergroup), ErrPermanent
// (other refusals), ErrTokenRejected, and ErrUncertain when the request
// went out but no clear answer came back — Telegram has no idempotency
// key, so the message may have been delivered.
func (c *Channel) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	req, err := newSendMessage(m)
	if err != nil {
		return channel.Result{}, fmt.Errorf("telegram: send: %w: %w", err, channel.ErrPermanent)
	}
	var sent struct {
		MessageID int64 `json:"message_id"`
	}
	if err := c.call(ctx, "sendMessage", req, &sent); err != nil {
		return channel.Result{}, classify(err, true)
	}
	return channel.Result{ExternalID: strconv.FormatInt(sent.MessageID, 10)}, nil
}

func newSendMessage(m channel.Message) (*sendMessage, error) {
	chat, err := parseID(m.To)
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	if err := checkText(m.Text); err != nil {
		return nil, err
	}
	req := &sendMessage{ChatID: chat, Text: m.Text}
	if len(m.Buttons) > 0 {
		req.ReplyMarkup = &inlineKeyboard{}
		for i, b := range m.Buttons {
			if strings.TrimSpace(b.Label) == "" {
				return nil, fmt.Errorf("button %d has no label", i+1)
			}
			if b.Data == "" || len(b.Data) > maxCallbackData {
				return nil, fmt.Errorf("button %d: data must be 1-%d bytes, is %d", i+1, maxCallbackData, len(b.Data))
			}
			req.ReplyMarkup.InlineKeyboard = append(req.ReplyMarkup.InlineKeyboard,
				[]inlineButton{{Text: b.Label, CallbackData: b.Data}})
		}
	}
	return req, nil
}

// checkText refuses what Telegram would: empty text, text over MaxText
// UTF-16 units, and invalid UTF-8 (encoding/json would silently replace
// the bad bytes, so the member would read something else).
func checkText(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("empty text")
	case !utf8.ValidString(s):
		return errors.New("text is not valid UTF-8")
	}
	if n := utf16Len(s); n > MaxText {
		return fmt.Errorf("text is %d UTF-16 units, Telegram takes at most %d", n, MaxText)
	}
	return nil
}

// utf16Len counts s the way Telegram limits it: characters outside the
// Basic Multilingual Plane (most emoji) take two units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// parseID reads a Telegram chat or user id: a decimal int64, negative for
// groups (supergroups are -100…), beyond 32 bits for recent users.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%q is not a Telegram chat id", s)
	}
	return id, nil
}
