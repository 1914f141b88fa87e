package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/telegram/telegramtest"
)

var (
	liveChat = telegramtest.Chat{ID: supergroup, Type: "supergroup", Title: "Spring Live Sale"}
	mei      = telegramtest.User{ID: member, FirstName: "Mei"}
)

func TestPollReturnsQueuedUpdatesAndAdvances(t *testing.T) {
	c, srv := newFake(t)
	ctx := context.Background()
	srv.QueueUpdate(telegramtest.TextUpdate(101, liveChat, mei, "2 please"))
	srv.QueueUpdate(fixture(t, "edited_message.json")) // 873450015: nothing to report, still consumed
	srv.QueueUpdate(telegramtest.ChatMemberUpdate(873450020, liveChat, mei, "left", "member"))
	srv.QueueUpdate(telegramtest.CallbackUpdate(873450021, liveChat, mei, 9, "claim:1"))

	got, next, err := c.Poll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []channel.InboundKind{}
	for _, in := range got {
		kinds = append(kinds, in.Kind)
	}
	want := []channel.InboundKind{channel.InboundMessage, channel.InboundJoin, channel.InboundButton}
	if !slices.Equal(kinds, want) || got[0].ID != "u101" || got[2].ReplyToken != "cb873450021" {
		t.Fatalf("Poll = %+v", got)
	}
	if next != 873450022 {
		t.Fatalf("next = %d, want 873450022", next)
	}
	// The new offset confirms them: they do not come again.
	if got, next2, err := c.Poll(ctx, next, 0); err != nil || len(got) != 0 || next2 != next {
		t.Fatalf("second Poll = %+v, %d, %v", got, next2, err)
	}
	// chat_member arrived only because allowed_updates asked for it.
	var allowed []string
	if err := json.Unmarshal([]byte(srv.Calls("getUpdates")[0].Params["allowed_updates"]), &allowed); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(allowed, []string{"message", "callback_query", "chat_member", "my_chat_member"}) {
		t.Errorf("allowed_updates = %v", allowed)
	}
}

// TestPollLongPollReturnsEarly: a long poll waiting for updates answers as
// soon as one arrives, not at the end of its timeout.
func TestPollLongPollReturnsEarly(t *testing.T) {
	c, srv := newFake(t)
	type result struct {
		got  []channel.Inbound
		next int64
		err  error
	}
	done := make(chan result, 1)
	go func() {
		got, next, err := c.Poll(context.Background(), 0, 20*time.Second)
		done <- result{got, next, err}
	}()
	<-srv.Polling()
	srv.QueueUpdate(telegramtest.TextUpdate(7, liveChat, mei, "hi"))
	r := <-done
	if r.err != nil || len(r.got) != 1 || r.got[0].Text != "hi" || r.next != 8 {
		t.Fatalf("Poll = %+v", r)
	}
	if got := srv.Calls("getUpdates")[0].Params["timeout"]; got != "20" {
		t.Errorf("timeout sent = %s", got)
	}
}

func TestPollTimeoutFitsTheClient(t *testing.T) {
	c, srv := newFake(t) // default client: 30 s
	if _, _, err := c.Poll(context.Background(), 0, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Poll(ctx, 0, time.Hour)
		done <- err
	}()
	<-srv.Polling()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Poll = %v", err)
	}
	if got := srv.Calls("getUpdates")[1].Params["timeout"]; got != "25" {
		t.Errorf("an hour-long poll sent timeout %s, want 25 (client timeout less the margin)", got)
	}
}

func TestPollSkipsUndecodableUpdate(t *testing.T) {
	c, srv := newFake(t)
	srv.QueueUpdate([]byte(`{"update_id":5,"message":{"message_id":1,"chat":{"id":"bad"},"text":"x"}}`))
	srv.QueueUpdate(telegramtest.TextUpdate(6, liveChat, mei, "fine"))
	got, next, err := c.Poll(context.Background(), 0, 0)
	if err != nil || len(got) != 1 || got[0].Text != "fine" || next != 7 {
		t.Fatalf("Poll = %+v, %d, %v", got, next, err)
	}
}

func TestSetWebhook(t *testing.T) {
	c, srv := newFake(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, url, secret string }{
		{"http", "http://shop.example.com/hook", testSecret},
		{"port 8080", "https://shop.example.com:8080/hook", testSecret},
		{"relative", "/hook", testSecret},
		{"no host", "https:///hook", testSecret},
		{"not a url", "https://sh op.example.com/%zz", testSecret},
		{"no secret", "https://shop.example.com/hook", ""},
		{"bad secret", "https://shop.example.com/hook", "has space"},
	} {
		if err := c.SetWebhook(ctx, tc.url, tc.secret); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if n := len(srv.Calls("setWebhook")); n != 0 {
		t.Fatalf("%d refused webhooks reached Telegram", n)
	}
	for _, u := range []string{"https://shop.example.com/hooks/telegram", "https://shop.example.com:8443/t", "https://203.0.113.7:88/t"} {
		if err := c.SetWebhook(ctx, u, testSecret); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if wh := srv.Webhook(); wh.URL != u || wh.SecretToken != testSecret ||
			!slices.Equal(wh.AllowedUpdates, AllowedUpdates) {
			t.Fatalf("webhook = %+v", wh)
		}
	}
	// Telegram refuses getUpdates while a webhook is set.
	if _, _, err := c.Poll(ctx, 0, 0); !errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("Poll with a webhook set = %v", err)
	}
	if err := c.DeleteWebhook(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Poll(ctx, 0, 0); err != nil {
		t.Fatalf("Poll after DeleteWebhook = %v", err)
	}
}

func TestGetMe(t *testing.T) {
	c, _ := newFake(t)
	me, err := c.GetMe(context.Background())
	if err != nil || me.ID != "7012345678" || !me.IsBot || me.Username != "liveloop_test_bot" {
		t.Fatalf("GetMe = %+v, %v", me, err)
	}
	other := telegramtest.New(t, "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDxxx")
	_, err = newChannel(t, other.URL()).GetMe(context.Background())
	if !errors.Is(err, ErrTokenRejected) {
		t.Fatalf("GetMe with a wrong token = %v", err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err = newChannel(t, dead.URL).GetMe(context.Background())
	if err == nil || strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "AAHdqTcv") {
		t.Fatalf("GetMe to a dead server = %v", err)
	}
}

func TestAnswerCallback(t *testing.T) {
	c, srv := newFake(t)
	if err := c.AnswerCallback(context.Background(), "4382bfdwdsb323b2d9", "Claimed ¥9.9!"); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls("answerCallbackQuery")
	if len(calls) != 1 || calls[0].Params["callback_query_id"] != "4382bfdwdsb323b2d9" || calls[0].Params["text"] != "Claimed ¥9.9!" {
		t.Fatalf("calls %+v", calls)
	}
	if err := c.AnswerCallback(context.Background(), "", "x"); !errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("empty id: %v", err)
	}
}
