package notify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// TestChannelAndDM: the web community when the member has it, else the
// bot of the Telegram group they joined last, else unreachable; a message
// is queued once per key, and only with its transaction.
func TestChannelAndDM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(q string, args ...any) int64 {
			t.Helper()
			var id int64
			if err := db.W.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		tid := exec(`INSERT INTO tenants (slug, name, created_at) VALUES ('n', 'n', 1)`)
		member := func(name string) int64 {
			return exec(`INSERT INTO members (tenant_id, display_name, locale, created_at) VALUES ($1, $2, 'zh-TW', 1)`, tid, name)
		}
		identity := func(m int64, ch, ext string) {
			exec(`INSERT INTO identities (tenant_id, member_id, channel, external_id, display_name, created_at) VALUES ($1, $2, $3, $4, '', 1)`, tid, m, ch, ext)
		}
		group := func(ch, ext string) int64 {
			return exec(`INSERT INTO community_groups (tenant_id, channel, external_id, name, kind, created_at) VALUES ($1, $2, $3, 'g', 'vertical', 1)`, tid, ch, ext)
		}
		join := func(g, m, at int64) {
			if _, err := db.W.ExecContext(ctx, `INSERT INTO group_members (tenant_id, group_id, member_id, joined_at) VALUES ($1, $2, $3, $4)`, tid, g, m, at); err != nil {
				t.Fatal(err)
			}
		}
		webFan, tgFan, nobody := member("web"), member("tg"), member("none")
		identity(webFan, "telegram", "1")
		identity(webFan, webchat.Name, "w1")
		identity(tgFan, "telegram", "2")
		g1, g2 := group("telegram/7", "-100"), group("telegram/8", "-200")
		join(g1, tgFan, 10)
		join(g2, tgFan, 20)
		for m, want := range map[int64]string{webFan: webchat.Name, tgFan: "telegram/8"} {
			if got, err := notify.ChannelTx(ctx, db.R, tid, m); err != nil || got != want {
				t.Errorf("member %d: %q %v, want %q", m, got, err, want)
			}
		}
		if _, err := notify.ChannelTx(ctx, db.R, tid, nobody); !errors.Is(err, notify.ErrUnreachable) {
			t.Errorf("a member without identities: %v", err)
		}
		if loc, err := notify.LocaleTx(ctx, db.R, tid, webFan); err != nil || loc != "zh-TW" {
			t.Errorf("locale %q %v", loc, err)
		}
		if _, err := notify.LocaleTx(ctx, db.R, tid+1, webFan); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's member: %v", err)
		}

		log := event.NewLog(db, event.NewLocalBus())
		n := &notify.Notifier{Outbox: outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))}
		send := func(fail bool) (bool, error) {
			var created bool
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				if created, err = n.DMTx(ctx, tx, notify.Message{TenantID: tid, MemberID: webFan, Key: "tier:1", Body: "升級囉"}); err != nil {
					return err
				}
				if fail {
					return errors.New("the change failed")
				}
				return nil
			})
			return created, err
		}
		count := func() (n int) {
			db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key = 'tier:1' AND channel = 'web'`, tid).Scan(&n)
			return n
		}
		if _, err := send(true); err == nil || count() != 0 {
			t.Fatalf("a rolled-back change queued %d messages", count())
		}
		for i, want := range []bool{true, false} {
			if created, err := send(false); err != nil || created != want {
				t.Fatalf("send %d: created %v %v", i, created, err)
			}
		}
		if count() != 1 {
			t.Fatalf("%d messages for one key", count())
		}
	})
}

// TestDMUnqueueableIsUnreachable: a member whose only way in is a bot the
// installation no longer runs (its channel is not registered) cannot be
// written to: DMTx says ErrUnreachable, which every caller records and
// moves past, instead of the outbox's own error, which callers took for a
// failure (a perk pass or a referral settlement stopped on it, forever).
func TestDMUnqueueableIsUnreachable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(q string, args ...any) int64 {
			t.Helper()
			var id int64
			if err := db.W.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		tid := exec(`INSERT INTO tenants (slug, name, created_at) VALUES ('u', 'u', 1)`)
		m := exec(`INSERT INTO members (tenant_id, display_name, locale, created_at) VALUES ($1, 'tg', 'en', 1)`, tid)
		exec(`INSERT INTO identities (tenant_id, member_id, channel, external_id, display_name, created_at) VALUES ($1, $2, 'telegram', '9', '', 1)`, tid, m)
		g := exec(`INSERT INTO community_groups (tenant_id, channel, external_id, name, kind, created_at) VALUES ($1, 'telegram/gone', '-1', 'g', 'vertical', 1)`, tid)
		if _, err := db.W.ExecContext(ctx, `INSERT INTO group_members (tenant_id, group_id, member_id, joined_at) VALUES ($1, $2, $3, 1)`, tid, g, m); err != nil {
			t.Fatal(err)
		}
		log := event.NewLog(db, event.NewLocalBus())
		n := &notify.Notifier{Outbox: outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := n.DMTx(ctx, tx, notify.Message{TenantID: tid, MemberID: m, Key: "k", Body: "hi"})
			return err
		})
		if !errors.Is(err, notify.ErrUnreachable) || !errors.Is(err, outbox.ErrInvalid) {
			t.Fatalf("a member on an unregistered bot: %v; want ErrUnreachable (wrapping the outbox's reason)", err)
		}
		// On Telegram, but in none of the brand's groups there: unreachable
		// too (sale.dm, for one, moves past ErrUnreachable only).
		lone := exec(`INSERT INTO members (tenant_id, display_name, locale, created_at) VALUES ($1, 'lone', 'en', 1)`, tid)
		exec(`INSERT INTO identities (tenant_id, member_id, channel, external_id, display_name, created_at) VALUES ($1, $2, 'telegram', '10', '', 1)`, tid, lone)
		if _, err := notify.ChannelTx(ctx, db.R, tid, lone); !errors.Is(err, notify.ErrUnreachable) {
			t.Fatalf("a Telegram member in no group: %v; want ErrUnreachable", err)
		}
	})
}
