package telegramtest

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"
)

const (
	maxText         = 4096 // UTF-16 code units
	maxCallbackData = 64   // bytes
)

// Limits are the send limits the fake enforces, each as at most so many
// accepted sends in any window of the given length (a sliding window,
// measured when requests arrive).
type Limits struct {
	Overall       int // sends of the bot, to any chat
	OverallWindow time.Duration
	Group         int // sends to one group or supergroup
	GroupWindow   time.Duration
	Private       int // sends to one private chat
	PrivateWindow time.Duration
}

// DocumentedLimits are Telegram's documented broadcast limits
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
// 30 messages a second overall, 20 a minute in a group, one a second in a
// private chat. New servers enforce these.
func DocumentedLimits() Limits {
	return Limits{Overall: 30, OverallWindow: time.Second, Group: 20, GroupWindow: time.Minute, Private: 1, PrivateWindow: time.Second}
}

// SetLimits replaces the limits. A test that cannot wait a minute keeps a
// limit's rate and counts it over a shorter window (a group's 20 a minute
// as 2 in 6 s): a client that spreads its sends passes both, one that
// spends a minute's allowance in a burst does not.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, p map[string]string) {
	chat, ok := chatID(w, p)
	if !ok {
		return
	}
	s.mu.Lock()
	hung, kicked := s.hung[chat], s.kicked[chat]
	newID, migrated := s.migrated[chat]
	s.mu.Unlock()
	switch {
	case hung:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	case kicked:
		fail(w, http.StatusForbidden, kickedText(chat), nil)
		return
	case migrated:
		fail(w, http.StatusBadRequest, "Bad Request: group chat was upgraded to a supergroup chat",
			map[string]any{"migrate_to_chat_id": newID})
		return
	}
	text := p["text"]
	if strings.TrimSpace(text) == "" {
		fail(w, http.StatusBadRequest, "Bad Request: message text is empty", nil)
		return
	}
	if len(utf16.Encode([]rune(text))) > maxText {
		fail(w, http.StatusBadRequest, "Bad Request: message is too long", nil)
		return
	}
	if msg := entityError(p["parse_mode"], text); msg != "" {
		fail(w, http.StatusBadRequest, "Bad Request: can't parse entities: "+msg, nil)
		return
	}
	buttons, msg := keyboard(p["reply_markup"])
	if msg != "" {
		fail(w, http.StatusBadRequest, "Bad Request: "+msg, nil)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	if wait := s.throttled(now); wait > 0 {
		fail(w, http.StatusTooManyRequests, "Too Many Requests: retry after "+itoa(wait),
			map[string]any{"retry_after": wait})
		return
	}
	if wait := s.admit(chat, now); wait > 0 {
		s.violations++
		fail(w, http.StatusTooManyRequests, "Too Many Requests: retry after "+itoa(wait),
			map[string]any{"retry_after": wait})
		return
	}
	m := SentMessage{MessageID: s.nextMsgID, ChatID: chat, Text: text, ParseMode: p["parse_mode"], Buttons: buttons, At: now}
	s.nextMsgID++
	s.sent = append(s.sent, m)
	chatType := "private"
	if chat < 0 {
		chatType = "group"
		if isSupergroup(chat) {
			chatType = "supergroup"
		}
	}
	ok200(w, map[string]any{
		"message_id": m.MessageID, "date": now.Unix(), "text": text,
		"chat": map[string]any{"id": chat, "type": chatType},
		"from": map[string]any{"id": s.botID, "is_bot": true, "first_name": "liveloop test"},
	})
}

// throttled applies Throttle to a send at now: 0, or the seconds to wait.
// A send before the end of the last retry_after given is a violation.
func (s *Server) throttled(now time.Time) int {
	early := now.Before(s.retryAt)
	if !now.Before(s.throttle) && !early {
		return 0
	}
	wait := secondsUntil(later(s.throttle, s.retryAt), now)
	if early {
		s.violations++
	} else {
		s.refused++
	}
	s.retryAt = later(s.retryAt, now.Add(time.Duration(wait)*time.Second))
	return wait
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// admit applies the limits to a send to chat at now: 0 and the send is
// counted, or the seconds to wait. The windows slide; Telegram's exact
// algorithm is not published, this keeps to the documented numbers.
func (s *Server) admit(chat int64, now time.Time) int {
	l := s.limits
	s.overall = within(s.overall, now, l.OverallWindow)
	window, limit := l.GroupWindow, l.Group
	if chat > 0 {
		window, limit = l.PrivateWindow, l.Private
	}
	s.perChat[chat] = within(s.perChat[chat], now, window)
	wait := 0
	if h := s.perChat[chat]; len(h) >= limit {
		wait = secondsUntil(h[len(h)-limit].Add(window), now)
	}
	if len(s.overall) >= l.Overall {
		wait = max(wait, secondsUntil(s.overall[len(s.overall)-l.Overall].Add(l.OverallWindow), now))
	}
	if wait > 0 {
		return wait
	}
	s.overall = append(s.overall, now)
	s.perChat[chat] = append(s.perChat[chat], now)
	return 0
}

// within keeps the times of h less than window before now.
func within(h []time.Time, now time.Time, window time.Duration) []time.Time {
	i := 0
	for i < len(h) && !h[i].After(now.Add(-window)) {
		i++
	}
	return h[i:]
}

// secondsUntil rounds up, at least 1: retry_after is whole seconds.
func secondsUntil(t, now time.Time) int {
	return max(1, int(math.Ceil(t.Sub(now).Seconds())))
}

// entityError is what Telegram says about text under parse_mode, reduced
// to the characters that break plain member text: MarkdownV2 reserves
// _*[]()~`>#+-=|{}.! unless escaped; HTML needs < and & escaped.
func entityError(mode, text string) string {
	switch strings.ToLower(mode) {
	case "":
		return ""
	case "markdownv2":
		for i := 0; i < len(text); i++ {
			if text[i] == '\\' {
				i++
				continue
			}
			if strings.IndexByte("_*[]()~`>#+-=|{}.!", text[i]) >= 0 {
				return "Character '" + text[i:i+1] + "' is reserved and must be escaped with the preceding '\\'"
			}
		}
	case "html":
		if strings.ContainsAny(text, "<&") {
			return "Unsupported start tag or unescaped character at byte offset " + itoa(strings.IndexAny(text, "<&"))
		}
	case "markdown":
		if strings.ContainsAny(text, "_*[`") {
			return "Can't find end of the entity"
		}
	default:
		return "Unsupported parse_mode"
	}
	return ""
}

// keyboard reads reply_markup: an inline keyboard of callback buttons.
func keyboard(raw string) ([]Button, string) {
	if raw == "" {
		return nil, ""
	}
	var m struct {
		InlineKeyboard [][]struct {
			Text         string  `json:"text"`
			CallbackData *string `json:"callback_data"`
			URL          string  `json:"url"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m.InlineKeyboard == nil {
		return nil, "can't parse reply keyboard markup JSON object"
	}
	var out []Button
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			switch {
			case b.Text == "":
				return nil, "text buttons are unallowed in the inline keyboard"
			case b.CallbackData == nil && b.URL == "":
				return nil, "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
			case b.CallbackData != nil && (len(*b.CallbackData) == 0 || len(*b.CallbackData) > maxCallbackData):
				return nil, "BUTTON_DATA_INVALID"
			}
			var data string
			if b.CallbackData != nil {
				data = *b.CallbackData
			}
			out = append(out, Button{Text: b.Text, CallbackData: data})
		}
	}
	return out, ""
}
