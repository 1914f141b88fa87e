package line

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/line/linetest"
)

func msg(to, idem, text string) channel.Message {
	return channel.Message{OutboxID: 1, TenantID: 1, IdemKey: idem, GroupID: 5, To: to, Text: text}
}

// sentText decodes the one text message of a delivery.
func sentText(t *testing.T, d linetest.Delivery) map[string]any {
	t.Helper()
	if len(d.Messages) != 1 {
		t.Fatalf("delivery has %d messages", len(d.Messages))
	}
	var m map[string]any
	if err := json.Unmarshal(d.Messages[0], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendReplyUsesTokenWithoutRetryKey(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	m := msg(group, "reply:1", "欢迎！")
	m.ReplyToken = srv.ReplyToken(group)
	res, err := c.Send(context.Background(), m)
	if err != nil || res.ExternalID == "" {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	sent := srv.Sent()
	if len(sent) != 1 || sent[0].Kind != "reply" || sent[0].To != group || sent[0].MessageIDs[0] != res.ExternalID {
		t.Fatalf("sent %+v", sent)
	}
	if text := sentText(t, sent[0])["text"]; text != "欢迎！" {
		t.Errorf("text %v", text)
	}
	for _, r := range srv.Requests() {
		if r.Header.Get("X-Line-Retry-Key") != "" {
			t.Errorf("%s carried a retry key", r.Path)
		}
	}
	if srv.Used() != 0 {
		t.Errorf("a reply used %d of the quota", srv.Used())
	}
}

func TestSendFallsBackToPushWhenTokenRefused(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	now := start
	srv.SetNow(func() time.Time { return now })
	expired := srv.ReplyToken(group)
	now = start.Add(linetest.ReplyTokenTTL)
	used := srv.ReplyToken(group)
	if _, err := c.Send(context.Background(), channel.Message{IdemKey: "first", To: group, Text: "hi", ReplyToken: used}); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"expired": expired, "used": used, "unknown": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"} {
		m := msg(group, "fallback:"+name, "late answer")
		m.ReplyToken = tok
		res, err := c.Send(context.Background(), m)
		if err != nil || res.ExternalID == "" {
			t.Fatalf("%s token: Send = %+v, %v", name, res, err)
		}
		last := srv.Sent()[len(srv.Sent())-1]
		if last.Kind != "push" || last.To != group || last.RetryKey != RetryKey(m.IdemKey, group) {
			t.Errorf("%s token: delivered %+v, want a push with the retry key", name, last)
		}
	}
	if n := len(srv.Sent()); n != 4 {
		t.Errorf("%d deliveries, want 4", n)
	}
}

func TestPushRetriedIsDeliveredOnce(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	m := msg(group, "outbox:7:group:5", "Flash sale at 8pm")
	first, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("retry: %v (a 409 with x-line-accepted-request-id is success)", err)
	}
	sent := srv.Sent()
	if len(sent) != 1 {
		t.Fatalf("delivered %d times", len(sent))
	}
	if again.ExternalID != sent[0].RequestID || first.ExternalID != sent[0].MessageIDs[0] {
		t.Errorf("ids: first %q, again %q; delivery %+v", first.ExternalID, again.ExternalID, sent[0])
	}
	if _, err := uuid.Parse(sent[0].RetryKey); err != nil || sent[0].RetryKey != RetryKey(m.IdemKey, group) {
		t.Errorf("retry key %q: %v", sent[0].RetryKey, err)
	}
	statuses := []int{}
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[200 409]" {
		t.Errorf("statuses %v", statuses)
	}
}

func TestRetryKeys(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	// One outbox message to two recipients: two keys, two deliveries.
	for _, to := range []string{alice, bob} {
		if _, err := c.Send(context.Background(), channel.Message{IdemKey: "welcome:9", MemberID: 1, To: to, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	sent := srv.Sent()
	if len(sent) != 2 || sent[0].RetryKey == sent[1].RetryKey {
		t.Fatalf("two recipients: %+v", sent)
	}
	if RetryKey("a", "b") != RetryKey("a", "b") || RetryKey("a", "b") == RetryKey("a", "c") ||
		RetryKey("a", "b") == RetryKey("b", "a") || RetryKey("ab", "c") == RetryKey("a", "bc") {
		t.Error("RetryKey is not a function of (key, recipient)")
	}
	if _, err := c.Send(context.Background(), channel.Message{To: alice, Text: "hi"}); !errors.Is(err, channel.ErrPermanent) {
		t.Errorf("no IdemKey: %v, want ErrPermanent", err)
	}
}

func TestSendRefusals(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	srv.AddGroup(group, "Spring drop", alice, bob)
	ctx := context.Background()

	srv.RateLimit(1)
	_, err := c.Send(ctx, msg(group, "rl", "hi"))
	var ra *channel.RetryAfter
	if !errors.As(err, &ra) || ra.Wait != RetryWait {
		t.Fatalf("429: %v, want RetryAfter", err)
	}
	if _, err := c.Send(ctx, msg(group, "rl", "hi")); err != nil {
		t.Fatalf("retry after 429: %v", err)
	}

	srv.SetMonthlyLimit(3) // 2 used by the group of two
	_, err = c.Send(ctx, msg(group, "quota", "hi"))
	if !errors.Is(err, channel.ErrPermanent) || errors.As(err, &ra) || !strings.Contains(err.Error(), "monthly limit") {
		t.Fatalf("monthly limit: %v, want ErrPermanent", err)
	}
	srv.SetMonthlyLimit(0)

	srv.LeaveGroup(group)
	_, err = c.Send(ctx, msg(group, "left", "hi"))
	if !errors.Is(err, channel.ErrUnreachable) {
		t.Fatalf("group left: %v, want ErrUnreachable", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Message != "Failed to send messages" {
		t.Errorf("APIError %+v", apiErr)
	}

	for name, m := range map[string]channel.Message{
		"too long":     msg(alice, "long", strings.Repeat("好", MaxText+1)),
		"emoji long":   msg(alice, "emoji", strings.Repeat("👍", MaxText/2)+"!"),
		"empty":        msg(alice, "empty", " \n"),
		"no recipient": msg("", "none", "hi"),
		"bad to":       msg("not-an-id", "bad", "hi"),
		"14 buttons":   {IdemKey: "b", To: alice, Text: "vote", Buttons: make([]channel.Button, 14)},
		"empty data":   {IdemKey: "b", To: alice, Text: "vote", Buttons: []channel.Button{{Label: "A"}}},
	} {
		if _, err := c.Send(ctx, m); !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("%s: %v, want ErrPermanent", name, err)
		}
	}
	if _, err := c.Send(ctx, msg(alice, "max", strings.Repeat("好", MaxText))); err != nil {
		t.Errorf("5000 characters: %v", err)
	}
}

func TestSendButtonsAsQuickReplies(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	m := msg(group, "poll:3", "Which colour?")
	m.SenderName, m.AvatarURL = "小助理", "https://cdn.example.com/a.png"
	for i := range MaxButtons {
		m.Buttons = append(m.Buttons, channel.Button{Label: fmt.Sprintf("Option %d", i+1), Data: fmt.Sprintf("poll:3:%d", i+1)})
	}
	m.Buttons[0].Label = "A very long option label indeed"
	if _, err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := sentText(t, srv.Sent()[0])
	items := got["quickReply"].(map[string]any)["items"].([]any)
	if len(items) != MaxButtons {
		t.Fatalf("%d items", len(items))
	}
	first := items[0].(map[string]any)
	action := first["action"].(map[string]any)
	if first["type"] != "action" || action["type"] != "postback" || action["data"] != "poll:3:1" ||
		Len(action["label"].(string)) > MaxButtonLabel || !strings.HasSuffix(action["label"].(string), "…") {
		t.Errorf("item %v", first)
	}
	if s := got["sender"].(map[string]any); s["name"] != "小助理" || s["iconUrl"] != "https://cdn.example.com/a.png" {
		t.Errorf("sender %v", s)
	}
	// A persona name LINE reserves is dropped, not fatal.
	m2 := msg(group, "persona", "hi")
	m2.SenderName = "LINE helper"
	if _, err := c.Send(context.Background(), m2); err != nil {
		t.Fatal(err)
	}
	if _, ok := sentText(t, srv.Sent()[1])["sender"]; ok {
		t.Error("reserved sender name sent")
	}
}

func TestSendErrorsKeepTokenOut(t *testing.T) {
	t.Parallel()
	srv := linetest.New(t, "the-right-token", testSecret)
	c, err := New(Config{ChannelSecret: testSecret, AccessToken: testToken, APIURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), msg(group, "x", "hi"))
	if !errors.Is(err, channel.ErrPermanent) || strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), testSecret) {
		t.Fatalf("401: %v", err)
	}
}

// stub answers every request with status and body, after signalling that
// a request arrived; with status 0 it holds the request until the client
// gives up.
func stub(t *testing.T, status int, body string) (*Channel, <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server watch the
		// connection and cancel r.Context() when the client goes away.
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		if status == 0 {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{ChannelSecret: testSecret, AccessToken: testToken, APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c, arrived
}

// sendCancelled sends m and cancels the context once the request has
// reached the server: the outcome of a timed-out request, without timing.
func sendCancelled(t *testing.T, c *Channel, arrived <-chan struct{}, m channel.Message) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.Send(ctx, m)
	return err
}

func TestSendUncertainty(t *testing.T) {
	t.Parallel()
	replyMsg := msg(group, "r", "hi")
	replyMsg.ReplyToken = "token"
	pushMsg := msg(group, "p", "hi")

	// A reply that may have been accepted must not be resent: no retry key.
	c, arrived := stub(t, 0, "")
	if err := sendCancelled(t, c, arrived, replyMsg); !errors.Is(err, channel.ErrUncertain) {
		t.Errorf("reply timeout: %v, want ErrUncertain", err)
	}
	// A push is retryable: its retry key makes a resend safe.
	c, arrived = stub(t, 0, "")
	if err := sendCancelled(t, c, arrived, pushMsg); err == nil || isSettled(err) {
		t.Errorf("push timeout: %v, want a plain retryable error", err)
	}
	c, _ = stub(t, 500, `{"message":"Internal server error"}`)
	if _, err := c.Send(context.Background(), replyMsg); !errors.Is(err, channel.ErrUncertain) {
		t.Errorf("reply 500: %v, want ErrUncertain", err)
	}
	_, err := c.Send(context.Background(), pushMsg)
	var apiErr *APIError
	if err == nil || isSettled(err) || !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Errorf("push 500: %v, want a plain retryable error", err)
	}
	// An undocumented 409 (no accepted request id) is not taken as success.
	c, _ = stub(t, 409, `{"message":"Conflict"}`)
	if _, err := c.Send(context.Background(), pushMsg); !errors.Is(err, channel.ErrUncertain) {
		t.Errorf("bare 409: %v, want ErrUncertain", err)
	}
	// Nothing listening: the reply never left, so it is retryable.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c, err = New(Config{ChannelSecret: testSecret, AccessToken: testToken, APIURL: dead.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), replyMsg); err == nil || isSettled(err) {
		t.Errorf("reply, connection refused: %v, want a plain retryable error", err)
	}
}

func TestErrorBodyNotEchoed(t *testing.T) {
	t.Parallel()
	c, _ := stub(t, 400, `{"message":"The request body has 1 error(s)","details":[{"message":"May not be empty","property":"messages[0].text"}],"echo":"RAW-BODY-MARKER"}`)
	_, err := c.Send(context.Background(), msg(group, "x", "hi"))
	if !errors.Is(err, channel.ErrPermanent) || strings.Contains(err.Error(), "RAW-BODY-MARKER") ||
		!strings.Contains(err.Error(), "messages[0].text May not be empty") {
		t.Errorf("400: %v", err)
	}
	c, _ = stub(t, 502, `<html>bad gateway RAW-BODY-MARKER</html>`)
	if _, err := c.Send(context.Background(), msg(group, "x", "hi")); err == nil || strings.Contains(err.Error(), "RAW-BODY-MARKER") {
		t.Errorf("502: %v", err)
	}
}

func isSettled(err error) bool {
	var ra *channel.RetryAfter
	return errors.Is(err, channel.ErrPermanent) || errors.Is(err, channel.ErrUncertain) ||
		errors.Is(err, channel.ErrUnreachable) || errors.As(err, &ra)
}
