package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/telegram/telegramtest"
)

const (
	supergroup = -1001234567890
	member     = 6123456789 // beyond 32 bits
)

func TestSendPlainTextArrivesExactly(t *testing.T) {
	c, srv := newFake(t)
	text := "¥9.9! <b> & *_[ 限时 😀 \\ \"quoted\""
	res, err := c.Send(context.Background(), channel.Message{To: "-1001234567890", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	sent := srv.Sent()
	if len(sent) != 1 || sent[0].Text != text || sent[0].ChatID != supergroup || sent[0].ParseMode != "" {
		t.Fatalf("sent %+v", sent)
	}
	if res.ExternalID != "1" {
		t.Errorf("ExternalID %q, want the message_id 1", res.ExternalID)
	}
	// A private chat with a user id beyond 32 bits.
	if _, err := c.Send(context.Background(), channel.Message{To: "6123456789", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if sent := srv.Sent(); sent[1].ChatID != member {
		t.Errorf("private send went to %d", sent[1].ChatID)
	}
}

func TestSendButtons(t *testing.T) {
	c, srv := newFake(t)
	buttons := []channel.Button{{Label: "A · ¥9.9", Data: "poll:7:a"}, {Label: "B", Data: strings.Repeat("b", 64)}}
	if _, err := c.Send(context.Background(), channel.Message{To: "-1001234567890", Text: "Which one?", Buttons: buttons}); err != nil {
		t.Fatal(err)
	}
	want := []telegramtest.Button{{Text: "A · ¥9.9", CallbackData: "poll:7:a"}, {Text: "B", CallbackData: strings.Repeat("b", 64)}}
	if got := srv.Sent()[0].Buttons; !slices.Equal(got, want) {
		t.Fatalf("buttons %+v", got)
	}
}

func TestSendRefusesWhatTelegramWould(t *testing.T) {
	c, srv := newFake(t)
	fits := strings.Repeat("😀", 2048) // 4096 UTF-16 units, 2048 runes
	for name, m := range map[string]channel.Message{
		"4097 units":        {To: "-1001234567890", Text: fits + "a"},
		"empty":             {To: "-1001234567890", Text: " \n"},
		"invalid utf-8":     {To: "-1001234567890", Text: "a\xffb"},
		"65-byte data":      {To: "-1001234567890", Text: "x", Buttons: []channel.Button{{Label: "A", Data: strings.Repeat("d", 65)}}},
		"empty data":        {To: "-1001234567890", Text: "x", Buttons: []channel.Button{{Label: "A"}}},
		"empty label":       {To: "-1001234567890", Text: "x", Buttons: []channel.Button{{Data: "a"}}},
		"no recipient":      {Text: "x"},
		"not a chat id":     {To: "@shop", Text: "x"},
		"id beyond int64":   {To: "-99999999999999999999", Text: "x"},
		"multibyte 65 data": {To: "1", Text: "x", Buttons: []channel.Button{{Label: "A", Data: strings.Repeat("¥", 33)}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Send(context.Background(), m)
			if !errors.Is(err, channel.ErrPermanent) {
				t.Fatalf("Send = %v, want ErrPermanent", err)
			}
		})
	}
	if calls := srv.Calls("sendMessage"); len(calls) != 0 {
		t.Fatalf("refused messages reached Telegram: %d", len(calls))
	}
	// Exactly 4096 units is fine, and the fake (counting the same way) agrees.
	if _, err := c.Send(context.Background(), channel.Message{To: "-1001234567890", Text: fits}); err != nil {
		t.Fatalf("4096 units: %v", err)
	}
}

func TestSendRateLimited(t *testing.T) {
	c, srv := newFake(t)
	now := time.Date(2025, 3, 1, 20, 0, 0, 0, time.UTC)
	srv.Now = func() time.Time { return now }
	ctx := context.Background()
	group := channel.Message{To: "-1001234567890", Text: "deal"}
	for i := range 20 {
		if _, err := c.Send(ctx, group); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
		now = now.Add(time.Second)
	}
	// The 21st within a minute of the first: wait until the first leaves
	// the window, 60 s after it, 40 s from now.
	_, err := c.Send(ctx, group)
	var ra *channel.RetryAfter
	if !errors.As(err, &ra) || ra.Wait != 40*time.Second {
		t.Fatalf("Send = %v, want RetryAfter 40s", err)
	}
	if srv.Violations() != 1 || len(srv.Sent()) != 20 {
		t.Fatalf("violations %d, sent %d", srv.Violations(), len(srv.Sent()))
	}
	now = now.Add(ra.Wait)
	if _, err := c.Send(ctx, group); err != nil {
		t.Fatalf("after waiting: %v", err)
	}

	// One a second per private chat.
	dm := channel.Message{To: "6123456789", Text: "your order"}
	if _, err := c.Send(ctx, dm); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, dm); !errors.As(err, &ra) || ra.Wait != time.Second {
		t.Fatalf("second DM in a second: %v", err)
	}
}

func TestSendOverallLimit(t *testing.T) {
	c, srv := newFake(t)
	now := time.Date(2025, 3, 1, 20, 0, 0, 0, time.UTC)
	srv.Now = func() time.Time { return now }
	ctx := context.Background()
	for i := range 30 {
		to := strconv.Itoa(supergroup - i)
		if _, err := c.Send(ctx, channel.Message{To: to, Text: "x"}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	var ra *channel.RetryAfter
	if _, err := c.Send(ctx, channel.Message{To: "-1001999999999", Text: "x"}); !errors.As(err, &ra) || ra.Wait != time.Second {
		t.Fatalf("31st send in a second: %v", err)
	}
}

func TestSendKicked(t *testing.T) {
	c, srv := newFake(t)
	srv.Kick(supergroup)
	srv.Kick(member)
	for _, to := range []string{"-1001234567890", "6123456789"} {
		_, err := c.Send(context.Background(), channel.Message{To: to, Text: "x"})
		if !errors.Is(err, channel.ErrUnreachable) || !errors.Is(err, channel.ErrPermanent) {
			t.Fatalf("%s: %v, want ErrUnreachable", to, err)
		}
		if !strings.Contains(err.Error(), "Forbidden: bot was") {
			t.Errorf("error lacks Telegram's description: %v", err)
		}
	}
}

func TestSendMigrated(t *testing.T) {
	c, srv := newFake(t)
	srv.Migrate(-4012345678, -1009876543210)
	_, err := c.Send(context.Background(), channel.Message{To: "-4012345678", Text: "x"})
	var me *MigratedError
	if !errors.As(err, &me) || me.NewChatID != "-1009876543210" || !errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("Send = %v, want MigratedError", err)
	}
	if errors.Is(err, channel.ErrUnreachable) {
		t.Error("a migrated group is not unreachable: it has a new id")
	}
}

func TestSendHangIsUncertain(t *testing.T) {
	c, srv := newFake(t)
	srv.Hang(supergroup)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, channel.Message{To: "-1001234567890", Text: "x"})
	if !errors.Is(err, channel.ErrUncertain) || errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("Send = %v, want ErrUncertain", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatalf("error holds the token: %v", err)
	}
}

// TestSendNotWritten: a request that never left (connection refused) was
// not delivered, so it is an ordinary, retryable error — not uncertain.
func TestSendNotWritten(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	c := newChannel(t, url)
	_, err := c.Send(context.Background(), channel.Message{To: "-1001234567890", Text: "x"})
	if err == nil || errors.Is(err, channel.ErrUncertain) || errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("Send = %v, want a plain error", err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "AAHdqTcv") {
		t.Fatalf("error holds the token: %v", err)
	}
}

// TestSendServerErrors: answers without a clear verdict after the request
// went out are uncertain; the proxy's page is not quoted.
func TestSendServerErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"502 page", 502, "<html>PAGE-BODY Bad Gateway</html>", channel.ErrUncertain},
		{"500 json", 500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, channel.ErrUncertain},
		{"200 garbage", 200, "PAGE-BODY", channel.ErrUncertain},
		{"400 other", 400, `{"ok":false,"error_code":400,"description":"Bad Request: not enough rights to send text messages to the chat"}`, channel.ErrPermanent},
		{"400 chat not found", 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, channel.ErrUnreachable},
		{"400 deactivated", 400, `{"ok":false,"error_code":400,"description":"Bad Request: group chat was deactivated"}`, channel.ErrUnreachable},
		{"401", 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, ErrTokenRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := newChannel(t, srv.URL).Send(context.Background(), channel.Message{To: "-1001234567890", Text: "x"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Send = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "PAGE-BODY") || strings.Contains(err.Error(), testToken) {
				t.Fatalf("error quotes the answer or the token: %v", err)
			}
			if tc.want == ErrTokenRejected && errors.Is(err, channel.ErrPermanent) {
				t.Fatal("a rejected token must not fail the message for good")
			}
		})
	}
}

func TestSendWrongToken(t *testing.T) {
	srv := telegramtest.New(t, "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDxxx")
	c := newChannel(t, srv.URL())
	_, err := c.Send(context.Background(), channel.Message{To: "-1001234567890", Text: "x"})
	if !errors.Is(err, ErrTokenRejected) {
		t.Fatalf("Send = %v, want ErrTokenRejected", err)
	}
}

// TestSendConcurrent: the adapter is shared by the outbox's workers.
func TestSendConcurrent(t *testing.T) {
	c, srv := newFake(t)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			to := strconv.Itoa(supergroup - i)
			if _, err := c.Send(context.Background(), channel.Message{To: to, Text: "x"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(srv.Sent()); n != 10 {
		t.Fatalf("sent %d", n)
	}
}
