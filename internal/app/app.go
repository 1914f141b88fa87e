// Package app wires liveloop together — database, event log and bus,
// feature services, channels, outbox, real-time hub, HTTP — and runs its
// long-lived parts under one errgroup with an ordered, bounded shutdown:
// stop accepting requests, close WebSockets, let the outbox record the send
// in flight, close the database.
package app

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/config"
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
	"github.com/liveloop/liveloop/internal/web"
)

// App is a running liveloop's parts.
type App struct {
	Cfg        config.Config
	Logger     *slog.Logger
	DB         *store.DB
	Bus        event.Bus
	Log        *event.Log
	Tenants    *tenant.Service
	Members    *member.Service
	Community  *community.Service
	Channels   *channel.Registry
	Outbox     *outbox.Outbox
	Loyalty    *loyalty.Service
	Bot        *runner.Store
	Polls      *poll.Service
	Lives      *live.Service
	Campaigns  *campaign.Service
	Dispatcher *campaign.Dispatcher
	Accounts   *account.Manager
	Ingest     *ingest.Ingester
	Coupons    *coupon.Service
	Referral   *referral.Service
	Commerce   *commerce.Service
	Sales      *sale.Service
	Track      *track.Service
	Analytics  *analytics.Service
	Rollup     *analytics.Rollup
	Reports    *report.Service

	enforceFailed, unreachableTotal *prometheus.CounterVec
	Runner                          *runner.Runner
	Hub                             *realtime.Hub
	Web                             *web.Server
	Registry                        *prometheus.Registry
}

// Open connects to the database, migrates it when configured to, and
// builds every service. Close releases what Open took.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg, Logger: logger, DB: db}
	if err := a.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.build(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) migrate(ctx context.Context) error {
	if a.Cfg.AutoMigrate {
		n, err := a.DB.Migrate(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			a.Logger.Info("database migrated", "applied", n)
		}
		return nil
	}
	pending, err := a.DB.Pending(ctx)
	if err != nil {
		return err
	}
	if pending > 0 {
		return fmt.Errorf("the database lacks %d migration(s): run `liveloop migrate` (or set auto_migrate = true)", pending)
	}
	return nil
}

func (a *App) build(ctx context.Context) error {
	a.Bus = event.NewLocalBus()
	a.Log = event.NewLog(a.DB, a.Bus)
	a.Tenants = tenant.NewService(a.DB)
	a.Members = member.NewService(a.DB, a.Log)
	a.Community = community.NewService(a.DB, a.Log)
	a.Members.OnMerge(community.MoveMemberships)
	a.Channels = channel.NewRegistry(webchat.New(a.Log))
	a.Outbox = outbox.New(a.DB, a.Channels, a.Logger)
	a.Hub = realtime.NewHub()
	a.Loyalty = loyalty.NewService(a.DB, a.Log)
	a.Bot = runner.NewStore(a.DB)
	a.Polls = poll.New(a.DB, a.Log)
	a.Lives = live.New(a.DB, a.Log)
	a.buildTrack()
	a.buildCampaigns()
	a.Registry = prometheus.NewRegistry()
	if err := a.buildChannels(ctx); err != nil {
		return err
	}

	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "liveloop_outbox_sent_total", Help: "Messages the outbox delivered, by channel.",
	}, []string{"channel"})
	a.Registry.MustRegister(sent)
	for _, name := range a.Channels.Names() {
		sent.WithLabelValues(name) // export zeros before the first send
	}
	a.Outbox.OnSent = func(it outbox.Item) {
		sent.WithLabelValues(it.Channel).Inc()
		a.recordPlatformPost(it)
	}

	key, err := a.memberKey(ctx)
	if err != nil {
		return err
	}
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	a.Runner = runner.New(runner.Deps{DB: a.DB, Log: a.Log, Store: a.Bot, Tenants: a.Tenants, Members: a.Members,
		Community: a.Community, Loyalty: a.Loyalty, Outbox: a.Outbox, Polls: a.Polls, Lives: a.Lives, Catalog: cat, Logger: a.Logger,
		PublicURL: a.Cfg.PublicURL(), Enforce: a.enforce, OnJoin: a.enrollOnJoin, OnLive: a.Campaigns.LiveMovedOn})
	a.Lives.OnProducts = a.Runner.WishesMeetLive // wishers hear when their wish is on a live's list
	a.buildReferral(cat)
	a.buildCommerce(cat)
	a.buildCoupons(cat)
	a.buildSales(cat)
	a.linkCommerce()
	a.linkTrack()
	a.Analytics = analytics.New(a.DB)
	a.Rollup = analytics.NewRollup(a.DB)
	a.buildReports(cat)
	a.Web, err = web.New(web.Deps{
		DB: a.DB, Tenants: a.Tenants, Members: a.Members, Community: a.Community, Log: a.Log,
		Outbox: a.Outbox, Bot: a.Bot, Runner: a.Runner, Polls: a.Polls, Lives: a.Lives, Campaigns: a.Campaigns, Accounts: a.Accounts, Ingest: a.Ingest, Loyalty: a.Loyalty, Hub: a.Hub, Catalog: cat, Logger: a.Logger, Registry: a.Registry,
		PublicURL: a.Cfg.PublicURL(), SecureCookies: !a.Cfg.InsecureCookies, MemberKey: key,
		Ready: a.ready, Coupons: a.Coupons, Referral: a.Referral, Commerce: a.Commerce, Sales: a.Sales,
		JoinGate: a.Commerce.JoinGate, Analytics: a.Analytics, Track: a.Track, Reports: a.Reports,
	})
	return err
}

// memberKey is the configured secret, or one generated once and kept in
// the database (so that every node, and every restart, agrees on it).
func (a *App) memberKey(ctx context.Context) ([]byte, error) {
	if a.Cfg.SecretKey != "" {
		return []byte(a.Cfg.SecretKey), nil
	}
	v, err := a.DB.InstanceSecret(ctx, "member_cookie_key", func() string { return hex.EncodeToString(web.RandomKey(32)) })
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}

func (a *App) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.DB.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	if n, err := a.DB.Pending(ctx); err != nil || n > 0 {
		return errors.New("database schema is not current")
	}
	return nil
}

// Close closes the database.
func (a *App) Close() error { return a.DB.Close() }

// Listen opens the configured address (so a taken port fails before
// anything else starts).
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.Cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", a.Cfg.Addr, err)
	}
	return ln, nil
}

// Serve runs liveloop on ln until ctx ends, then shuts down in order.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if a.DB.Dialect == store.SQLite {
		release, err := lockFile(a.DB.Path())
		if err != nil {
			ln.Close()
			return err
		}
		defer release()
	}
	if err := a.Runner.Init(ctx); err != nil {
		ln.Close()
		if ctx.Err() != nil {
			return nil // stopped before it started serving: nothing failed
		}
		return err
	}
	srv := &http.Server{
		Handler:           a.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	// Workers get their own context: they stop after the HTTP side, so a
	// request in flight can still enqueue and the outbox can record it.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	g, gctx := errgroup.WithContext(workCtx)
	g.Go(func() error { return a.Outbox.Run(gctx) })
	g.Go(func() error { return a.Web.Run(gctx) })
	g.Go(func() error { return a.Runner.Run(gctx) })
	g.Go(func() error { return a.Dispatcher.Run(gctx) })
	g.Go(func() error { return a.runPerks(gctx) })
	g.Go(func() error { return a.settleReferrals(gctx) })
	g.Go(func() error { return a.commerceNightly(gctx) })
	g.Go(func() error { return a.pruneSessions(gctx) })
	g.Go(func() error { return a.pollers(gctx) })
	g.Go(func() error { return a.runRollup(gctx) })
	g.Go(func() error { return a.runReports(gctx) })

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.Logger.Info("liveloop serving", "addr", ln.Addr().String(), "url", a.Cfg.PublicURL(), "db", string(a.DB.Dialect))

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	case <-gctx.Done():
		err = context.Cause(gctx)
	}
	a.Logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), a.Cfg.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil {
		a.Logger.Warn("http shutdown", "err", serr)
	}
	a.Web.CloseConnections(shutCtx)
	stopWork()
	if werr := g.Wait(); werr != nil && !errors.Is(werr, context.Canceled) {
		err = errors.Join(err, werr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	a.Logger.Info("stopped")
	return err
}

func (a *App) pruneSessions(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := a.Tenants.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			a.Logger.Warn("prune sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
