package line

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/line/linetest"
)

const (
	testToken  = "test-access-token-0123456789+/="
	testSecret = "0123456789abcdef0123456789abcdef"
	group      = "C0123456789abcdef0123456789abcdef"
	room       = "R0123456789abcdef0123456789abcdef"
	alice      = "U11111111111111111111111111111111"
	bob        = "U22222222222222222222222222222222"
)

// syncBuffer is a log sink safe for the concurrent writes of HTTP handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLine returns a channel talking to a fresh fake, and the log it writes.
func newLine(t *testing.T) (*Channel, *linetest.Server, *syncBuffer) {
	t.Helper()
	srv := linetest.New(t, testToken, testSecret)
	logs := &syncBuffer{}
	c, err := New(Config{ChannelSecret: testSecret, AccessToken: testToken, APIURL: srv.URL(),
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, logs
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no secret", Config{AccessToken: testToken}, "ChannelSecret"},
		{"no token", Config{ChannelSecret: testSecret}, "AccessToken"},
		{"relative url", Config{ChannelSecret: testSecret, AccessToken: testToken, APIURL: "api.line.me"}, "APIURL"},
		{"ftp url", Config{ChannelSecret: testSecret, AccessToken: testToken, APIURL: "ftp://api.line.me"}, "APIURL"},
		{"credentials in url", Config{ChannelSecret: testSecret, AccessToken: testToken, APIURL: "https://user:" + testSecret + "@"}, "APIURL"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: New = %v, want an error naming %s", tc.name, err, tc.field)
			continue
		}
		if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: error %q echoes a secret", tc.name, err)
		}
	}
	c, err := New(Config{ChannelSecret: testSecret, AccessToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if c.apiURL != DefaultAPIURL || c.timeout != defaultTimeout || c.transport != http.DefaultTransport {
		t.Errorf("defaults: %q %v %v", c.apiURL, c.timeout, c.transport)
	}
}

func TestDescribes(t *testing.T) {
	t.Parallel()
	c, _, _ := newLine(t)
	reg := channel.NewRegistry(c)
	if ch, ok := reg.Get(Name); !ok || ch.Name() != "line" {
		t.Fatalf("registry: %v %v", ch, ok)
	}
	want := channel.Capabilities{PostToGroups: true, Buttons: true, ReplyTokens: true, IdempotentSend: true, MaxTextLen: 5000, Cards: true}
	if got := c.Capabilities(); got != want {
		t.Errorf("Capabilities = %+v, want %+v", got, want)
	}
	if got := c.Limits(); got != (channel.Limits{PerSecond: 2000}) {
		t.Errorf("Limits = %+v", got)
	}
}

func TestLenAndTruncate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s     string
		n     int
		limit int
		cut   string
	}{
		{"hello", 5, 5, "hello"},
		{"hello!", 6, 5, "hell…"},
		{"限时秒杀价", 5, 4, "限时秒…"},
		{"👍👍", 4, 3, "👍…"}, // a surrogate pair counts two, as LINE counts it
		{"a👍", 3, 2, "a…"},
	} {
		if got := Len(tc.s); got != tc.n {
			t.Errorf("Len(%q) = %d, want %d", tc.s, got, tc.n)
		}
		if got := Truncate(tc.s, tc.limit); got != tc.cut || Len(got) > tc.limit {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.limit, got, tc.cut)
		}
	}
}
