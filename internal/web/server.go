package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/ingest"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/realtime"
	"github.com/liveloop/liveloop/internal/referral"
	"github.com/liveloop/liveloop/internal/report"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
	"github.com/liveloop/liveloop/internal/track"
)

// Deps are the services the web layer calls.
type Deps struct {
	DB        *store.DB
	Tenants   *tenant.Service
	Members   *member.Service
	Community *community.Service
	Log       *event.Log
	Outbox    *outbox.Outbox
	Bot       *runner.Store
	Runner    *runner.Runner // starts polls and prompts (announced by a persona)
	Polls     *poll.Service
	Lives     *live.Service
	Campaigns *campaign.Service // content library, playbooks, the calendar
	Accounts  *account.Manager  // platform accounts (Telegram, LINE); nil: none
	Ingest    *ingest.Ingester  // stores webhook deliveries
	Loyalty   *loyalty.Service
	Hub       *realtime.Hub
	Catalog   *i18n.Catalog
	Logger    *slog.Logger
	Registry  *prometheus.Registry

	PublicURL     string // scheme://host of this liveloop, for links and QR codes
	SecureCookies bool   // set the Secure flag (true unless configured otherwise)
	MemberKey     []byte // signs member cookies
	// Ready reports whether the server can take traffic (database reachable,
	// schema current); /readyz answers 503 otherwise.
	Ready func(ctx context.Context) error
	// Coupons: community coupon batches, claims, redemptions and perks.
	Coupons *coupon.Service

	// Referral keeps group sets (活码) and referral campaigns (裂变).
	Referral *referral.Service
	// JoinGate may refuse a member a group (VIP groups by tier); its error
	// is shown on the join page. memberID is 0 for a visitor who is not a
	// member yet. nil allows every join.
	JoinGate func(ctx context.Context, tenantID, groupID, memberID int64) error
	// Commerce keeps products, orders, member purchase totals and tiers.
	Commerce *commerce.Service
	// Sales runs flash sales, chain orders (接龙) and presales.
	Sales *sale.Service
	// Analytics answers the metric queries (dashboard, exports, reports).
	Analytics *analytics.Service
	// Track keeps tracked links (/t/<code>), their clicks and attribution;
	// nil: links are not tracked.
	Track *track.Service
	// Reports keeps the review reports (复盘): history, settings, sending.
	Reports *report.Service
}

// Server is the HTTP side of liveloop.
type Server struct {
	Deps
	pages   map[string]*template.Template
	static  fs.FS
	logins  *loginLimiter
	metrics *metrics
	conns   connTracker // open WebSockets, for a drained shutdown

	refreshMu   sync.Mutex
	refreshDue  map[refresh]bool // polls and live rooms whose state is to be sent
	refreshWake chan struct{}
	likes       likeCounter
	comments    frameBatcher // live rooms' comments and likes, sent at most ten times a second
}

// New builds the server; it fails if a template does not parse.
func New(d Deps) (*Server, error) {
	if len(d.MemberKey) < 32 {
		return nil, fmt.Errorf("web: member cookie key must have at least 32 bytes")
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	s := &Server{Deps: d, logins: newLoginLimiter(), metrics: newMetrics(d.Registry),
		refreshDue: map[refresh]bool{}, refreshWake: make(chan struct{}, 1)}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.static, _ = fs.Sub(assets, "static")
	return s, nil
}

// Run forwards appended events to connected clients until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	unsubscribe := s.Log.Bus().Subscribe(s.forward)
	go s.refreshes(ctx)
	go s.flushLikes(ctx)
	go s.flushComments(ctx)
	<-ctx.Done()
	unsubscribe()
	return nil
}

// CloseConnections closes every WebSocket (with "going away") and waits
// for their handlers to finish, up to ctx. Sockets arriving later are
// refused.
func (s *Server) CloseConnections(ctx context.Context) {
	s.Hub.Close()
	select {
	case <-s.conns.close():
	case <-ctx.Done():
	}
}

// connTracker counts open sockets. Unlike a WaitGroup it may be added to
// while someone waits (a handshake racing shutdown): once closing, add
// refuses instead.
type connTracker struct {
	mu      sync.Mutex
	n       int
	closing bool
	done    chan struct{}
}

func (c *connTracker) add() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.n++
	return true
}

func (c *connTracker) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.closing && c.n == 0 && c.done != nil {
		close(c.done)
		c.done = nil
	}
}

// close marks the tracker closing; the channel closes when no socket is open.
func (c *connTracker) close() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	c.closing = true
	if c.n == 0 {
		close(ch)
	} else {
		c.done = ch
	}
	return ch
}

// RandomKey returns n random bytes (for generated secrets).
func RandomKey(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
