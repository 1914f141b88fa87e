package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/ingest"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/secretbox"
	"github.com/liveloop/liveloop/internal/store"
)

// buildChannels wires the platform accounts: the key that seals their
// secrets, the manager that builds their adapters on first use (through
// the registry's fallback), the ingester for their webhooks, and the
// outbox's addressing of platform chats.
func (a *App) buildChannels(ctx context.Context) error {
	box, err := a.secretBox()
	if err != nil {
		return err
	}
	a.Accounts = account.NewManager(a.DB, box, a.adapterFactories(), a.Logger)
	a.Channels.SetFallback(a.Accounts.Lookup)
	a.Ingest = &ingest.Ingester{DB: a.DB, Log: a.Log, Members: a.Members, Community: a.Community, Polls: a.Polls,
		Logger: a.Logger, ParseVote: runner.ParseButtonData,
		Press: func(ctx context.Context, tenantID, memberID int64, data string) bool {
			return a.Runner.PressButton(ctx, tenantID, memberID, data)
		}}
	a.Outbox.Address = a.address
	a.Outbox.OnUnreachable = a.unreachable
	// Staff lifting a mute in the console lifts it on the platform too.
	a.Bot.OnUndo = func(ctx context.Context, tenantID, groupID, memberID int64, action string) {
		if action != "mute" {
			return // a removal on a platform is a ban lifted at once: they may rejoin
		}
		if g, err := a.Community.Group(ctx, tenantID, groupID); err == nil {
			a.enforce(ctx, g, memberID, "unmute", time.Time{})
		}
	}
	a.enforceFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "liveloop_moderation_platform_failures_total", Help: "Mutes and removals a platform refused, by platform.",
	}, []string{"kind"})
	a.unreachableTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "liveloop_outbox_unreachable_total", Help: "Sends a platform said could not reach their group or member (bot removed, blocked).",
	}, []string{"kind"})
	a.Registry.MustRegister(a.enforceFailed, a.unreachableTotal)
	return nil
}

// secretBox is the configured key, or on SQLite a key file beside the
// database (so a copy of the database alone does not reveal the tokens).
// On PostgreSQL without a key, secrets cannot be stored (nil box).
func (a *App) secretBox() (*secretbox.Box, error) {
	key := []byte(a.Cfg.EncryptionKey)
	if len(key) == 0 && a.DB.Dialect == store.SQLite && a.DB.Path() != "" && !strings.HasPrefix(a.DB.Path(), ":memory:") {
		var err error
		if key, err = secretbox.KeyFile(filepath.Clean(a.DB.Path()) + ".key"); err != nil {
			return nil, fmt.Errorf("encryption key: %w", err)
		}
	}
	if len(key) == 0 {
		a.Logger.Warn("no encryption_key: Telegram and LINE accounts cannot be added until it is set")
		return nil, nil
	}
	return secretbox.New(key)
}

// address is the outbox's recipient lookup for platform accounts: the
// group's chat id, or the member's user id on that platform.
func (a *App) address(ctx context.Context, it outbox.Item) (string, error) {
	kind, id, ok := account.ParseChannelName(it.Channel)
	if !ok {
		return "", nil // the built-in web community addresses by ids
	}
	var ext string
	var unreachable int64
	if it.GroupID != 0 {
		err := a.DB.R.QueryRowContext(ctx, `SELECT external_id, unreachable_at FROM community_groups WHERE tenant_id = $1 AND id = $2`,
			it.TenantID, it.GroupID).Scan(&ext, &unreachable)
		if err != nil {
			return "", fmt.Errorf("%w: group %d: %v", channel.ErrUnreachable, it.GroupID, err)
		}
		if unreachable != 0 || ext == "" {
			return "", fmt.Errorf("%w: the bot is no longer in group %d", channel.ErrUnreachable, it.GroupID)
		}
		return ext, nil
	}
	idch := ingest.IdentityChannel(account.Account{Kind: kind, ID: id})
	err := a.DB.R.QueryRowContext(ctx, `SELECT i.external_id, i.unreachable_at FROM identities i JOIN members m ON m.id = i.member_id
		WHERE i.tenant_id = $1 AND i.channel = $2 AND (m.id = $3 OR m.merged_into = $3) ORDER BY i.id LIMIT 1`,
		it.TenantID, idch, it.MemberID).Scan(&ext, &unreachable)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: member %d has no identity on %s", channel.ErrUnreachable, it.MemberID, it.Channel)
	}
	if err != nil {
		return "", err
	}
	if unreachable != 0 {
		return "", fmt.Errorf("%w: member %d blocked the bot or never started it", channel.ErrUnreachable, it.MemberID)
	}
	return ext, nil
}

// unreachable records what a platform said: the bot is out of the group,
// or the member blocked it. Later sends fail at once instead of retrying.
func (a *App) unreachable(ctx context.Context, it outbox.Item, cause error) {
	var err error
	if it.GroupID != 0 {
		_, err = a.DB.W.ExecContext(ctx, `UPDATE community_groups SET unreachable_at = $3 WHERE tenant_id = $1 AND id = $2`,
			it.TenantID, it.GroupID, store.Millis(time.Now()))
	} else if kind, id, ok := account.ParseChannelName(it.Channel); ok {
		_, err = a.DB.W.ExecContext(ctx, `UPDATE identities SET unreachable_at = $4 WHERE tenant_id = $1 AND channel = $2
			AND member_id IN (SELECT id FROM members WHERE tenant_id = $1 AND (id = $3 OR merged_into = $3))`,
			it.TenantID, ingest.IdentityChannel(account.Account{Kind: kind, ID: id}), it.MemberID, store.Millis(time.Now()))
	}
	if kind, _, ok := account.ParseChannelName(it.Channel); ok {
		a.unreachableTotal.WithLabelValues(kind).Inc()
	}
	a.Logger.Warn("outbox: recipient unreachable", "channel", it.Channel, "group", it.GroupID, "member", it.MemberID, "cause", cause)
	if err != nil {
		a.Logger.Error("outbox: marking unreachable", "err", err)
	}
}

// adapterFactories builds the platform adapters (see factories.go).
func (a *App) adapterFactories() map[string]account.Factory { return factories(a) }

// enforce mutes or removes a member on the group's platform, as the rules
// decided (best effort: liveloop's own record is already committed; a
// failure is logged and counted).
func (a *App) enforce(ctx context.Context, g community.Group, memberID int64, action string, until time.Time) {
	kind, id, ok := account.ParseChannelName(g.Channel)
	if !ok || g.ExternalID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ch, found := a.Channels.Get(g.Channel)
	mod, can := account.Unwrap(ch).(account.Moderator)
	if !found || !can {
		return
	}
	var user string
	err := a.DB.R.QueryRowContext(ctx, `SELECT i.external_id FROM identities i JOIN members m ON m.id = i.member_id
		WHERE i.tenant_id = $1 AND i.channel = $2 AND (m.id = $3 OR m.merged_into = $3) ORDER BY i.id LIMIT 1`,
		g.TenantID, ingest.IdentityChannel(account.Account{Kind: kind, ID: id}), memberID).Scan(&user)
	if err == nil {
		switch action {
		case "remove":
			err = mod.Remove(ctx, g.ExternalID, user)
		case "unmute":
			err = mod.Unrestrict(ctx, g.ExternalID, user)
		default:
			err = mod.Restrict(ctx, g.ExternalID, user, until)
		}
	}
	if err != nil {
		a.enforceFailed.WithLabelValues(kind).Inc()
		a.Logger.Warn("moderation: the platform refused", "channel", g.Channel, "group", g.ID, "member", memberID, "action", action, "err", err)
	}
}
