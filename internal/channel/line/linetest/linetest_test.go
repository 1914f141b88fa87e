package linetest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/line"
	"github.com/liveloop/liveloop/internal/channel/line/linetest"
)

const (
	token  = "fake-token"
	secret = "fake-secret"
	group  = "C0123456789abcdef0123456789abcdef"
	alice  = "U11111111111111111111111111111111"
	key    = "123e4567-e89b-12d3-a456-426614174000"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, srv *linetest.Server, path, auth, retryKey, body string) answer {
	t.Helper()
	method := http.MethodPost
	if body == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+auth)
	if retryKey != "" {
		req.Header.Set("X-Line-Retry-Key", retryKey)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header}
	_ = json.Unmarshal(b, &a.body)
	return a
}

const text = `{"to":"` + group + `","messages":[{"type":"text","text":"hi"}]}`

func TestAuthAndRetryKey(t *testing.T) {
	t.Parallel()
	srv := linetest.New(t, token, secret)
	if a := call(t, srv, "/v2/bot/message/push", "wrong", key, text); a.status != 401 {
		t.Fatalf("wrong token: %d", a.status)
	}
	first := call(t, srv, "/v2/bot/message/push", token, key, text)
	if first.status != 200 || first.header.Get("X-Line-Request-Id") == "" {
		t.Fatalf("push: %+v", first)
	}
	other := `{"to":"` + group + `","messages":[{"type":"text","text":"a different body"}]}`
	for _, body := range []string{text, other} {
		a := call(t, srv, "/v2/bot/message/push", token, key, body)
		if a.status != 409 || a.header.Get("X-Line-Accepted-Request-Id") != first.header.Get("X-Line-Request-Id") ||
			a.body["message"] != linetest.MsgRetryAccepted {
			t.Errorf("same key again: %+v", a)
		}
	}
	if a := call(t, srv, "/v2/bot/message/push", token, "not-a-uuid", text); a.status != 400 {
		t.Errorf("bad key: %d", a.status)
	}
	if n := len(srv.Sent()); n != 1 {
		t.Errorf("delivered %d times", n)
	}
	reply := `{"replyToken":"` + srv.ReplyToken(group) + `","messages":[{"type":"text","text":"hi"}]}`
	if a := call(t, srv, "/v2/bot/message/reply", token, key, reply); a.status != 400 || a.body["message"] != linetest.MsgReplyRetryKey {
		t.Errorf("reply with a retry key: %+v", a)
	}
}

func TestReplyTokens(t *testing.T) {
	t.Parallel()
	srv := linetest.New(t, token, secret)
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	srv.SetNow(func() time.Time { return now })
	tok := srv.ReplyToken(group)
	body := `{"replyToken":"` + tok + `","messages":[{"type":"text","text":"hi"}]}`
	if a := call(t, srv, "/v2/bot/message/reply", token, "", body); a.status != 200 {
		t.Fatalf("reply: %+v", a)
	}
	if a := call(t, srv, "/v2/bot/message/reply", token, "", body); a.status != 400 || a.body["message"] != linetest.MsgInvalidReply {
		t.Errorf("token reused: %+v", a)
	}
	late := srv.ReplyToken(group)
	now = now.Add(linetest.ReplyTokenTTL)
	body = `{"replyToken":"` + late + `","messages":[{"type":"text","text":"hi"}]}`
	if a := call(t, srv, "/v2/bot/message/reply", token, "", body); a.status != 400 {
		t.Errorf("expired token: %+v", a)
	}
	if srv.Used() != 0 || len(srv.Sent()) != 1 || srv.Sent()[0].To != group {
		t.Errorf("used %d, sent %+v", srv.Used(), srv.Sent())
	}
}

func TestRefusesWhatLINERefuses(t *testing.T) {
	t.Parallel()
	srv := linetest.New(t, token, secret)
	for name, body := range map[string]string{
		"not json":         `{"to":`,
		"bad to":           `{"to":"Cnothex","messages":[{"type":"text","text":"hi"}]}`,
		"no messages":      `{"to":"` + group + `","messages":[]}`,
		"six messages":     `{"to":"` + group + `","messages":[` + strings.Repeat(`{"type":"text","text":"hi"},`, 5) + `{"type":"text","text":"hi"}]}`,
		"empty text":       `{"to":"` + group + `","messages":[{"type":"text","text":""}]}`,
		"long text":        `{"to":"` + group + `","messages":[{"type":"text","text":"` + strings.Repeat("a", 5001) + `"}]}`,
		"sticker":          `{"to":"` + group + `","messages":[{"type":"sticker","packageId":"446","stickerId":"1988"}]}`,
		"long label":       `{"to":"` + group + `","messages":[{"type":"text","text":"hi","quickReply":{"items":[{"type":"action","action":{"type":"postback","label":"` + strings.Repeat("a", 21) + `","data":"d"}}]}}]}`,
		"flex no alt":      `{"to":"` + group + `","messages":[{"type":"flex","contents":{"type":"bubble"}}]}`,
		"flex bad":         `{"to":"` + group + `","messages":[{"type":"flex","altText":"a","contents":{"type":"box"}}]}`,
		"flex http image":  `{"to":"` + group + `","messages":[{"type":"flex","altText":"a","contents":{"type":"bubble","hero":{"type":"image","url":"http://x/a.jpg"}}}]}`,
		"reserved sender":  `{"to":"` + group + `","messages":[{"type":"text","text":"hi","sender":{"name":"LINE"}}]}`,
		"14 quick replies": `{"to":"` + group + `","messages":[{"type":"text","text":"hi","quickReply":{"items":[` + strings.Repeat(`{"type":"action","action":{"type":"postback","label":"a","data":"d"}},`, 13) + `{"type":"action","action":{"type":"postback","label":"a","data":"d"}}]}}]}`,
	} {
		if a := call(t, srv, "/v2/bot/message/push", token, "", body); a.status != 400 {
			t.Errorf("%s: %d %v", name, a.status, a.body)
		}
	}
	if len(srv.Sent()) != 0 {
		t.Errorf("sent %+v", srv.Sent())
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	srv := linetest.New(t, token, secret)
	srv.RateLimit(2)
	for range 2 {
		if a := call(t, srv, "/v2/bot/message/push", token, "", text); a.status != 429 || a.body["message"] != linetest.MsgTooManyReqs {
			t.Fatalf("rate limited: %+v", a)
		}
	}
	srv.SetMonthlyLimit(1)
	if a := call(t, srv, "/v2/bot/message/push", token, "", text); a.status != 200 {
		t.Fatalf("first push: %+v", a)
	}
	if a := call(t, srv, "/v2/bot/message/push", token, "", text); a.status != 429 || a.body["message"] != linetest.MsgMonthlyLimit {
		t.Fatalf("over the month's limit: %+v", a)
	}
	if a := call(t, srv, "/v2/bot/message/quota/consumption", token, "", ""); a.body["totalUsage"] != 1.0 {
		t.Errorf("consumption %+v", a)
	}
	srv.SetMonthlyLimit(0)
	srv.LeaveGroup(group)
	if a := call(t, srv, "/v2/bot/message/push", token, "", text); a.status != 400 || a.body["message"] != linetest.MsgSendFailed {
		t.Errorf("left group: %+v", a)
	}
}

func TestWebhookBuilders(t *testing.T) {
	t.Parallel()
	srv := linetest.New(t, token, secret)
	ch, err := line.New(line.Config{ChannelSecret: srv.Secret(), AccessToken: token, APIURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC)
	rt := srv.ReplyToken(group)
	body := linetest.Callback(
		linetest.TextMessage(linetest.Event{ID: "e1", Chat: group, User: alice, ReplyToken: rt, At: at}, "m1", "+1"),
		linetest.MemberJoined(linetest.Event{ID: "e2", Chat: group, Redelivery: true}, alice),
		linetest.MemberLeft(linetest.Event{ID: "e3", Chat: group}, alice),
		linetest.Follow(linetest.Event{ID: "e4", User: alice}),
		linetest.Postback(linetest.Event{ID: "e5", Chat: group, User: alice}, "claim:1"),
	)
	req := linetest.Webhook("https://liveloop.example/hooks/line", srv.Secret(), body)
	got, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || !bytes.Equal(got, body) {
		t.Fatalf("request %s %s", req.Method, got)
	}
	if !webhook.ValidateSignature(secret, req.Header.Get("X-Line-Signature"), body) {
		t.Fatal("the SDK rejects the signature")
	}
	if err := ch.Verify(req.Header, body); err != nil {
		t.Fatal(err)
	}
	in, err := ch.Parse(body)
	if err != nil || len(in) != 5 {
		t.Fatalf("Parse = %+v, %v", in, err)
	}
	kinds := []channel.InboundKind{channel.InboundMessage, channel.InboundJoin, channel.InboundLeave, channel.InboundFollow, channel.InboundButton}
	for i, k := range kinds {
		if in[i].Kind != k {
			t.Errorf("event %d: %s, want %s", i, in[i].Kind, k)
		}
	}
	if m := in[0]; m.ReplyToken != rt || !m.At.Equal(at) || m.User.ID != alice || m.Chat != group || m.Text != "+1" {
		t.Errorf("message %+v", m)
	}
	if !in[1].Redelivery || in[1].Users[0].ID != alice {
		t.Errorf("joined %+v", in[1])
	}
	if string(linetest.Callback()) != `{"destination":"`+linetest.Destination+`","events":[]}` {
		t.Errorf("empty callback %s", linetest.Callback())
	}
}
