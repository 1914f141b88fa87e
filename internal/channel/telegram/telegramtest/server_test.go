package telegramtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const token = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

type answer struct {
	OK          bool            `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Result      json.RawMessage `json:"result"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// post calls method with URL-encoded form parameters, one of the three
// ways the Bot API takes them.
func post(t *testing.T, s *Server, tok, method string, form url.Values) (int, answer) {
	t.Helper()
	resp, err := http.PostForm(s.URL()+"/bot"+tok+"/"+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("%s: %s", method, body)
	}
	return resp.StatusCode, a
}

func TestWrongToken(t *testing.T) {
	s := New(t, token)
	code, a := post(t, s, "7012345678:wrong", "getMe", nil)
	if code != 401 || a.OK || a.ErrorCode != 401 || a.Description != "Unauthorized" {
		t.Fatalf("%d %+v", code, a)
	}
}

func TestParseModeIsEnforced(t *testing.T) {
	s := New(t, token)
	for mode, text := range map[string]string{"MarkdownV2": "¥9.9!", "HTML": "a < b"} {
		code, a := post(t, s, token, "sendMessage", url.Values{"chat_id": {"-1001234567890"}, "text": {text}, "parse_mode": {mode}})
		if code != 400 || !strings.Contains(a.Description, "can't parse entities") {
			t.Errorf("%s %q: %d %+v", mode, text, code, a)
		}
	}
	if code, a := post(t, s, token, "sendMessage", url.Values{"chat_id": {"-1001234567890"}, "text": {"¥9.9! a < b"}}); code != 200 || !a.OK {
		t.Fatalf("plain text: %d %+v", code, a)
	}
	if sent := s.Sent(); len(sent) != 1 || sent[0].Text != "¥9.9! a < b" {
		t.Fatalf("sent %+v", sent)
	}
}

func TestGroupLimitSlides(t *testing.T) {
	s := New(t, token)
	now := time.Unix(1700000000, 0)
	s.Now = func() time.Time { return now }
	send := func() (int, answer) {
		return post(t, s, token, "sendMessage", url.Values{"chat_id": {"-1001234567890"}, "text": {"x"}})
	}
	for range 20 {
		if code, a := send(); code != 200 {
			t.Fatalf("%d %+v", code, a)
		}
	}
	code, a := send()
	if code != 429 || a.Parameters.RetryAfter != 60 || a.Description != "Too Many Requests: retry after 60" {
		t.Fatalf("21st: %d %+v", code, a)
	}
	now = now.Add(59 * time.Second)
	if code, a := send(); code != 429 || a.Parameters.RetryAfter != 1 {
		t.Fatalf("after 59 s: %d %+v", code, a)
	}
	now = now.Add(time.Second)
	if code, _ := send(); code != 200 {
		t.Fatalf("after 60 s: %d", code)
	}
	if s.Violations() != 2 || len(s.Sent()) != 21 {
		t.Fatalf("violations %d, sent %d", s.Violations(), len(s.Sent()))
	}
}

func TestGetUpdatesOffsetAndAllowedUpdates(t *testing.T) {
	s := New(t, token)
	chat := Chat{ID: -1001234567890, Type: "supergroup"}
	u := User{ID: 6123456789, FirstName: "Mei"}
	s.QueueUpdate(TextUpdate(1, chat, u, "a"))
	s.QueueUpdate(ChatMemberUpdate(2, chat, u, "left", "member"))
	s.QueueUpdate(TextUpdate(3, chat, u, "b"))
	ids := func(a answer) []int64 {
		var us []struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(a.Result, &us); err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, u := range us {
			out = append(out, u.UpdateID)
		}
		return out
	}
	// Without allowed_updates, chat_member is not delivered.
	if _, a := post(t, s, token, "getUpdates", nil); len(ids(a)) != 2 {
		t.Fatalf("default: %v", ids(a))
	}
	_, a := post(t, s, token, "getUpdates", url.Values{"offset": {"2"}, "allowed_updates": {`["message","chat_member"]`}})
	if got := ids(a); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("offset 2: %v", got)
	}
	// Update 1 is confirmed and gone.
	if _, a := post(t, s, token, "getUpdates", url.Values{"allowed_updates": {`["message","chat_member"]`}}); len(ids(a)) != 2 {
		t.Fatalf("after confirming: %v", ids(a))
	}
}

// A limit counted over a shorter window keeps its rate: 2 in any 6 s.
func TestSetLimits(t *testing.T) {
	s := New(t, token)
	now := time.Unix(1700000000, 0)
	s.Now = func() time.Time { return now }
	l := DocumentedLimits()
	l.Group, l.GroupWindow = 2, 6*time.Second
	s.SetLimits(l)
	send := func() (int, answer) {
		return post(t, s, token, "sendMessage", url.Values{"chat_id": {"-1001234567890"}, "text": {"x"}})
	}
	for _, step := range []struct {
		after time.Duration
		code  int
		retry int
	}{{0, 200, 0}, {3 * time.Second, 200, 0}, {time.Second, 429, 2}, {2 * time.Second, 200, 0}, {2 * time.Second, 429, 1}} {
		now = now.Add(step.after)
		if code, a := send(); code != step.code || a.Parameters.RetryAfter != step.retry {
			t.Fatalf("after %v: %d %+v, want %d retry_after %d", step.after, code, a, step.code, step.retry)
		}
	}
	if s.Violations() != 2 {
		t.Fatalf("violations %d", s.Violations())
	}
}

// Throttle refuses every send for a while with retry_after; a send before
// the retry_after given has passed is a violation, one after it is not.
func TestThrottle(t *testing.T) {
	s := New(t, token)
	now := time.Unix(1700000000, 0)
	s.Now = func() time.Time { return now }
	send := func(chat string) (int, answer) {
		return post(t, s, token, "sendMessage", url.Values{"chat_id": {chat}, "text": {"x"}})
	}
	s.Throttle(1500 * time.Millisecond)
	if code, a := send("-1001234567890"); code != 429 || a.Parameters.RetryAfter != 2 {
		t.Fatalf("throttled: %d %+v", code, a)
	}
	now = now.Add(1900 * time.Millisecond) // the throttle is over, the retry_after is not
	if code, _ := send("-1009999999999"); code != 429 || s.Violations() != 1 || s.Throttled() != 1 {
		t.Fatalf("early send to another chat: %d, violations %d, throttled %d", code, s.Violations(), s.Throttled())
	}
	// That send was told retry_after 1 in turn.
	now = now.Add(time.Second)
	if code, _ := send("-1001234567890"); code != 200 {
		t.Fatalf("after retry_after: %d", code)
	}
	calls := s.Calls("sendMessage")
	if len(calls) != 3 || calls[0].Status != 429 || calls[0].RetryAfter != 2 || calls[1].RetryAfter != 1 || calls[2].Status != 200 || !calls[2].At.Equal(now) {
		t.Fatalf("calls %+v", calls)
	}
}
