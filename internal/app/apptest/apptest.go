// Package apptest starts a real liveloop — a real listener, a real
// database (SQLite or PostgreSQL), the outbox worker and the real-time hub
// running — and gives tests an HTTP client that behaves like a browser:
// it keeps cookies, sends an Origin, and does not follow redirects, so a
// test sees exactly what a user's browser would receive.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/liveloop/liveloop/internal/app"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/config"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// Env is one running liveloop.
type Env struct {
	App *app.App
	URL string
	t   testing.TB
}

// Start runs liveloop on a fresh database of the engine until the test ends.
func Start(t testing.TB, d store.Dialect, opts ...func(*config.Config)) *Env {
	t.Helper()
	return StartDSN(t, storetest.DSN(t, d), opts...)
}

// StartDSN runs liveloop on the given database until the test ends.
func StartDSN(t testing.TB, dsn string, opts ...func(*config.Config)) *Env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Addr = ln.Addr().String()
	cfg.DB = dsn
	cfg.BaseURL = "http://" + ln.Addr().String()
	cfg.ShutdownTimeout = 5 * time.Second
	// Both engines can store channel secrets (SQLite would otherwise keep
	// a key file beside its temporary database).
	cfg.EncryptionKey = "apptest-encryption-key-0123456789abcdef"
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.Open(context.Background(), cfg, log)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	a.Outbox.Poll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	return &Env{App: a, URL: cfg.BaseURL, t: t}
}

// Attach wraps an App the test started itself (to control its lifecycle)
// with the helpers of Env.
func Attach(t testing.TB, a *app.App, url string) *Env { return &Env{App: a, URL: url, t: t} }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Brand is a tenant with an operator, a web group and its join code.
type Brand struct {
	Tenant   tenant.Tenant
	Staff    tenant.Staff
	Password string
	Group    community.Group
	JoinCode community.JoinCode
}

// Brand creates a tenant with one operator and one group.
func (e *Env) Brand(slug string) Brand {
	e.t.Helper()
	ctx := context.Background()
	t, err := e.App.Tenants.Create(ctx, tenant.Tenant{Slug: slug, Name: "Brand " + slug, Timezone: "Asia/Shanghai", Locale: "en"})
	if err != nil {
		e.t.Fatal(err)
	}
	pw := "password-" + slug
	st, err := e.App.Tenants.AddStaff(ctx, tenant.Staff{TenantID: t.ID, Email: "op@" + slug + ".test", Name: "Operator " + slug}, pw)
	if err != nil {
		e.t.Fatal(err)
	}
	g, jc, err := e.App.Community.CreateGroup(ctx, community.Group{TenantID: t.ID, Channel: webchat.Name, Name: "Group of " + slug, Kind: community.Vertical})
	if err != nil {
		e.t.Fatal(err)
	}
	return Brand{Tenant: t, Staff: st, Password: pw, Group: g, JoinCode: jc}
}

// Client is a browser-like HTTP client.
type Client struct {
	e       *Env
	hc      *http.Client
	mu      sync.Mutex
	cookies map[string]*http.Cookie
	Header  http.Header // sent with every request
	CSRF    string      // the console's CSRF token after Login
}

// Client returns a new client with no cookies that asks for English pages.
func (e *Env) Client() *Client {
	return &Client{e: e, cookies: map[string]*http.Cookie{}, Header: http.Header{"Accept-Language": {"en"}},
		hc: &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request with the client's cookies and an Origin of this site
// (as a browser does for POST), and keeps the cookies it gets back.
func (c *Client) Do(method, path string, body io.Reader, header http.Header) Response {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if method != http.MethodGet && req.Header.Get("Origin") == "" && req.Header.Get("Sec-Fetch-Site") == "" {
		req.Header.Set("Origin", c.e.URL)
	}
	c.mu.Lock()
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	c.mu.Unlock()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.mu.Lock()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	c.mu.Unlock()
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Get fetches path.
func (c *Client) Get(path string) Response { return c.Do(http.MethodGet, path, nil, nil) }

// PostForm posts a form; the console CSRF token is added when known and
// the form has none.
func (c *Client) PostForm(path string, form url.Values) Response {
	if form == nil {
		form = url.Values{}
	}
	if c.CSRF != "" && !form.Has("csrf") {
		form.Set("csrf", c.CSRF)
	}
	return c.Do(http.MethodPost, path, strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// PostJSON posts a JSON body with the CSRF header.
func (c *Client) PostJSON(path, body string) Response {
	return c.Do(http.MethodPost, path, strings.NewReader(body), http.Header{
		"Content-Type": {"application/json"}, "Accept": {"application/json"}, "X-CSRF-Token": {c.CSRF}})
}

// Cookie returns a cookie the client holds.
func (c *Client) Cookie(name string) *http.Cookie {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cookies[name]
}

// SetCookie replaces or adds a cookie.
func (c *Client) SetCookie(ck *http.Cookie) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cookies[ck.Name] = ck
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Login logs the client into the console and reads its CSRF token.
func (c *Client) Login(b Brand) {
	c.e.t.Helper()
	r := c.PostForm("/login", url.Values{"tenant": {b.Tenant.Slug}, "email": {b.Staff.Email}, "password": {b.Password}})
	if r.Status != http.StatusSeeOther {
		c.e.t.Fatalf("login: status %d: %.300s", r.Status, r.Body)
	}
	home := c.Get("/console")
	m := csrfRe.FindStringSubmatch(home.Body)
	if home.Status != 200 || m == nil {
		c.e.t.Fatalf("console after login: %d, csrf found: %v", home.Status, m != nil)
	}
	c.CSRF = m[1]
}

// Join joins a group by its code with a display name and returns the
// chat URL it was sent to.
func (c *Client) Join(code, name string) string {
	c.e.t.Helper()
	r := c.PostForm("/j/"+code, url.Values{"name": {name}})
	if r.Status != http.StatusSeeOther {
		c.e.t.Fatalf("join %s: status %d: %.300s", code, r.Status, r.Body)
	}
	return r.Header.Get("Location")
}

// Dial opens a WebSocket to path with the client's cookies and this
// site's Origin.
func (c *Client) Dial(ctx context.Context, path string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{"Origin": {c.e.URL}}
	c.mu.Lock()
	var parts []string
	for _, ck := range c.cookies {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	c.mu.Unlock()
	if len(parts) > 0 {
		h.Set("Cookie", strings.Join(parts, "; "))
	}
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.e.URL, "http")+path, &websocket.DialOptions{HTTPHeader: h})
}
