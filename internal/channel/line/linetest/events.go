package linetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Sign returns the X-Line-Signature of body under channelSecret:
// base64(HMAC-SHA256(secret, body)).
func Sign(channelSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(channelSecret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Webhook returns a POST of body to url signed as LINE signs deliveries.
// It panics on an invalid url (a test's mistake).
func Webhook(url, channelSecret string, body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic("linetest: " + err.Error())
	}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("X-Line-Signature", Sign(channelSecret, body))
	return r
}

// Destination is the bot's user id in the callbacks Callback builds.
const Destination = "U0123456789abcdef0123456789abcdef"

// Callback wraps events in a webhook body: {"destination":…, "events":[…]}.
// With no events it is the body of the console's Verify button.
func Callback(events ...json.RawMessage) []byte {
	if events == nil {
		events = []json.RawMessage{}
	}
	b, _ := json.Marshal(map[string]any{"destination": Destination, "events": events})
	return b
}

// Event is what the event builders have in common.
type Event struct {
	ID         string    // webhookEventId; empty leaves it out (such events cannot be deduplicated)
	Redelivery bool      // deliveryContext.isRedelivery
	Chat       string    // a group "C…" or room "R…" id; empty for a 1:1 chat with User
	User       string    // the acting user's id; may be empty in a group
	ReplyToken string    // e.g. from Server.ReplyToken
	At         time.Time // zero: the reference's sample timestamp
}

// sampleTimestamp is the timestamp of the reference's sample events.
const sampleTimestamp = 1462629479859

func (e Event) fields(typ string) map[string]any {
	m := map[string]any{"type": typ, "mode": "active", "timestamp": int64(sampleTimestamp),
		"deliveryContext": map[string]any{"isRedelivery": e.Redelivery}}
	if !e.At.IsZero() {
		m["timestamp"] = e.At.UnixMilli()
	}
	if e.ID != "" {
		m["webhookEventId"] = e.ID
	}
	if e.ReplyToken != "" {
		m["replyToken"] = e.ReplyToken
	}
	src := map[string]any{}
	switch {
	case strings.HasPrefix(e.Chat, "C"):
		src["type"], src["groupId"] = "group", e.Chat
	case strings.HasPrefix(e.Chat, "R"):
		src["type"], src["roomId"] = "room", e.Chat
	default:
		src["type"] = "user"
	}
	if e.User != "" {
		src["userId"] = e.User
	}
	m["source"] = src
	return m
}

func raw(m map[string]any) json.RawMessage {
	b, _ := json.Marshal(m)
	return b
}

// TextMessage is a text message event.
func TextMessage(e Event, messageID, text string) json.RawMessage {
	m := e.fields("message")
	m["message"] = map[string]any{"type": "text", "id": messageID, "text": text, "quoteToken": "q" + messageID}
	return raw(m)
}

// MemberJoined is a memberJoined event: users joined the group e.Chat.
func MemberJoined(e Event, users ...string) json.RawMessage {
	m := e.fields("memberJoined")
	m["joined"] = map[string]any{"members": members(users)}
	return raw(m)
}

// MemberLeft is a memberLeft event: users left the group e.Chat. LINE
// gives no reply token with it.
func MemberLeft(e Event, users ...string) json.RawMessage {
	e.ReplyToken = ""
	m := e.fields("memberLeft")
	m["left"] = map[string]any{"members": members(users)}
	return raw(m)
}

// Follow is a follow event: e.User added the bot as a friend (or
// unblocked it).
func Follow(e Event) json.RawMessage {
	e.Chat = ""
	m := e.fields("follow")
	m["follow"] = map[string]any{"isUnblocked": false}
	return raw(m)
}

// Postback is a postback event: a button carrying data was pressed.
func Postback(e Event, data string) json.RawMessage {
	m := e.fields("postback")
	m["postback"] = map[string]any{"data": data}
	return raw(m)
}

func members(users []string) []map[string]string {
	out := make([]map[string]string, 0, len(users))
	for _, u := range users {
		out = append(out, map[string]string{"type": "user", "userId": u})
	}
	return out
}
