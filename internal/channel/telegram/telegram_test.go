package telegram

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/telegram/telegramtest"
)

// testToken has the shape of a real token; its bot id (7012345678)
// exceeds 32 bits and matches the bot in testdata/.
const (
	testToken  = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	testSecret = "s3cr3t_Webhook-token"
)

var _ channel.Channel = (*Channel)(nil)
var _ channel.Receiver = (*Channel)(nil)

func newChannel(t testing.TB, apiURL string) *Channel {
	t.Helper()
	c, err := New(Config{Token: testToken, WebhookSecret: testSecret, APIURL: apiURL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newFake starts the fake Bot API and a channel talking to it.
func newFake(t testing.TB) (*Channel, *telegramtest.Server) {
	srv := telegramtest.New(t, testToken)
	return newChannel(t, srv.URL()), srv
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name, token, secret, field string
	}{
		{"empty token", "", "", "Token"},
		{"no colon", "7012345678AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "", "Token"},
		{"short secret part", "7012345678:AAHdqTcvCH1vGWJ", "", "Token"},
		{"bad characters", "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDs/w", "", "Token"},
		{"space", " 7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "", "Token"},
		{"secret with space", testToken, "bad secret", "WebhookSecret"},
		{"secret too long", testToken, strings.Repeat("a", 257), "WebhookSecret"},
		{"secret with unicode", testToken, "秘密", "WebhookSecret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Token: tc.token, WebhookSecret: tc.secret})
			if err == nil {
				t.Fatal("New accepted it")
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
			if tc.token != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.token)) {
				t.Errorf("error echoes the token: %q", err)
			}
		})
	}
	c, err := New(Config{Token: testToken, WebhookSecret: strings.Repeat("a", 256)})
	if err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	if c.BotID() != 7012345678 || c.Name() != "telegram" {
		t.Errorf("BotID %d, Name %q", c.BotID(), c.Name())
	}
	if _, err := New(Config{Token: testToken}); err != nil {
		t.Errorf("a config without webhook secret (polling) refused: %v", err)
	}
}

func TestCapabilitiesAndLimits(t *testing.T) {
	c := newChannel(t, "")
	want := channel.Capabilities{PostToGroups: true, Buttons: true, DMAfterMemberStarts: true, MaxTextLen: 4096}
	if got := c.Capabilities(); got != want {
		t.Errorf("Capabilities = %+v", got)
	}
	if got := c.Limits(); got != (channel.Limits{PerSecond: 30, PerGroupPerMinute: 20, PerMemberPerSecond: 1}) {
		t.Errorf("Limits = %+v", got)
	}
}

func TestVerify(t *testing.T) {
	c := newChannel(t, "")
	noSecret, err := New(Config{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"update_id":1}`)
	for _, tc := range []struct {
		name   string
		c      *Channel
		header string // "" = absent
		ok     bool
	}{
		{"right", c, testSecret, true},
		{"wrong", c, "s3cr3t_Webhook-tokeN", false},
		{"prefix", c, testSecret[:len(testSecret)-1], false},
		{"longer", c, testSecret + "x", false},
		{"missing", c, "", false},
		{"no secret configured", noSecret, testSecret, false},
		{"no secret configured, none sent", noSecret, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set(SecretHeader, tc.header)
			}
			err := tc.c.Verify(h, body)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, channel.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestWebhookDelivery goes the way a delivery goes: the fake's
// WebhookRequest, a capped body, Verify on the raw bytes, then Parse.
func TestWebhookDelivery(t *testing.T) {
	c := newChannel(t, "")
	var got []channel.Inbound
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, channel.MaxWebhookBody))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := c.Verify(r.Header, body); err != nil {
			http.Error(w, "forbidden", http.StatusUnauthorized)
			return
		}
		if got, err = c.Parse(body); err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
		}
	})
	chat := telegramtest.Chat{ID: -1001234567890, Type: "supergroup", Title: "Live"}
	from := telegramtest.User{ID: 6123456789, FirstName: "Mei"}
	update := telegramtest.TextUpdate(42, chat, from, "2 please")

	for _, tc := range []struct {
		secret string
		status int
	}{{"", 401}, {"wrong", 401}, {testSecret, 200}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, telegramtest.WebhookRequest("https://shop.example.com/hooks/telegram", tc.secret, update))
		if rec.Code != tc.status {
			t.Errorf("secret %q: status %d, want %d", tc.secret, rec.Code, tc.status)
		}
	}
	if len(got) != 1 || got[0].ID != "u42" || got[0].Text != "2 please" || got[0].User.ID != "6123456789" {
		t.Fatalf("parsed %+v", got)
	}
}
