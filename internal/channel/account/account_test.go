package account_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/secretbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

const token = "1234567:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"

// stub builds a stand-in adapter, refusing tokens without a colon as the
// real Telegram adapter does.
func stub(builds *int) map[string]account.Factory {
	f := func(a account.Account, s map[string]string) (channel.Channel, error) {
		*builds++
		if a.Kind == account.Telegram && !strings.Contains(s["token"], ":") {
			return nil, errors.New("token is not a bot token")
		}
		return webchat.New(nil), nil
	}
	return map[string]account.Factory{account.Telegram: f, account.LINE: f}
}

// Accounts keep their secrets sealed, are refused with the reason when
// wrong, stay within their tenant, and the registry's lookup answers from
// built adapters until the account is gone.
func TestAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "acc", Name: "acc"})
		if err != nil {
			t.Fatal(err)
		}
		box, _ := secretbox.New([]byte(strings.Repeat("k", 32)))
		builds := 0
		m := account.NewManager(db, box, stub(&builds), slog.New(slog.NewTextHandler(io.Discard, nil)))
		for name, c := range map[string]struct {
			a    account.Account
			s    map[string]string
			want string
		}{
			"unknown kind":   {account.Account{Kind: "myspace", Name: "x"}, map[string]string{"token": token}, "unknown kind"},
			"no name":        {account.Account{Kind: account.Telegram}, map[string]string{"token": token}, "name"},
			"no token":       {account.Account{Kind: account.Telegram, Name: "bot"}, nil, "token is required"},
			"bad token":      {account.Account{Kind: account.Telegram, Name: "bot"}, map[string]string{"token": "nope"}, "not a bot token"},
			"LINE no secret": {account.Account{Kind: account.LINE, Name: "oa"}, map[string]string{"access_token": "t"}, "channel_secret is required"},
			"bad mode":       {account.Account{Kind: account.Telegram, Name: "bot", Mode: "carrier pigeon"}, map[string]string{"token": token}, "mode"},
		} {
			c.a.TenantID = tn.ID
			if _, err := m.Create(ctx, c.a, c.s); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %q", name, err, c.want)
			}
		}
		a, err := m.Create(ctx, account.Account{TenantID: tn.ID, Kind: account.Telegram, Name: "bot"}, map[string]string{"token": token})
		if err != nil {
			t.Fatal(err)
		}
		var sealed string
		db.R.QueryRowContext(ctx, `SELECT secrets FROM channel_accounts WHERE id = $1`, a.ID).Scan(&sealed)
		if strings.Contains(sealed, "ABCDEF") || a.Hint != "…cdef" {
			t.Fatalf("secret visible at rest (%q) or hint %q", sealed, a.Hint)
		}
		if sec, err := m.Secrets(ctx, a); err != nil || sec["token"] != token || len(sec["webhook_secret"]) != 32 {
			t.Fatalf("secrets %v %v", sec, err)
		}
		if _, err := m.Get(ctx, tn.ID+1, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another tenant's get: %v", err)
		}
		if got, err := m.ByHook(ctx, account.Telegram, a.HookKey); err != nil || got.ID != a.ID {
			t.Fatalf("by hook: %v %v", got, err)
		}
		if _, err := m.ByHook(ctx, account.LINE, a.HookKey); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("hook key under another kind: %v", err)
		}
		built := builds
		for range 3 {
			if ch, ok := m.Lookup(a.Channel()); !ok || ch.Name() != a.Channel() {
				t.Fatalf("lookup: %v %v", ch, ok)
			}
		}
		if builds != built+1 {
			t.Fatalf("adapter built %d times for 3 lookups", builds-built)
		}
		if err := m.Delete(ctx, tn.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Lookup(a.Channel()); ok {
			t.Fatal("a deleted account still resolves")
		}
		// Without an encryption key nothing is stored.
		nokey := account.NewManager(db, nil, stub(&builds), slog.Default())
		if _, err := nokey.Create(ctx, account.Account{TenantID: tn.ID, Kind: account.Telegram, Name: "bot"}, map[string]string{"token": token}); !errors.Is(err, account.ErrNoKey) {
			t.Fatalf("no key: %v", err)
		}
	})
}
