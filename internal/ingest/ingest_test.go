package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/ingest"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

type rig struct {
	db *store.DB
	in *ingest.Ingester
	a  account.Account
}

func newRig(t *testing.T, db *store.DB, kind string) rig {
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "ing", Name: "ing"})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := &ingest.Ingester{DB: db, Log: log, Members: member.NewService(db, log), Community: community.NewService(db, log),
		Polls: poll.New(db, log), Logger: quiet, ParseVote: runner.ParseButtonData}
	return rig{db: db, in: in, a: account.Account{ID: 7, TenantID: tn.ID, Kind: kind, Name: "bot"}}
}

func (r rig) deliver(t *testing.T, evs ...channel.Inbound) ingest.Result {
	t.Helper()
	res, err := r.in.Deliver(context.Background(), r.a, evs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (r rig) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := r.db.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

var (
	at    = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	alice = channel.User{ID: "5000000001", Name: "Alice 小美"}
	bob   = channel.User{ID: "5000000002", Username: "bob"}
	chat  = "-1001234567890"
)

func msg(id, text string, u channel.User) channel.Inbound {
	return channel.Inbound{Kind: channel.InboundMessage, ID: id, Chat: chat, ChatTitle: "花漾护肤群", User: u, Text: text, At: at}
}

// A platform chat becomes a group, its users members; redeliveries and
// Telegram's double join announcement are stored once.
func TestDeliver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.Telegram)
		join := channel.Inbound{Kind: channel.InboundJoin, ID: "u1", Chat: chat, ChatTitle: "花漾护肤群", Users: []channel.User{alice, {ID: "99", IsBot: true}}, At: at}
		if res := r.deliver(t, join); res.Stored != 1 {
			t.Fatalf("join: %+v", res)
		}
		// The same join as chat_member, with another update id: no second join.
		again := join
		again.ID = "u2"
		if res := r.deliver(t, again); res.Stored != 0 || res.Duplicates != 1 {
			t.Fatalf("second announcement: %+v", res)
		}
		if res := r.deliver(t, msg("u3", "大家好\x00", alice), msg("u4", "我是新来的", bob)); res.Stored != 2 {
			t.Fatalf("messages: %+v", res)
		}
		if res := r.deliver(t, msg("u3", "大家好", alice)); res.Duplicates != 1 || res.Stored != 0 {
			t.Fatalf("redelivery: %+v", res)
		}
		tid := r.a.TenantID
		if n := r.count(t, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND channel = 'telegram/7' AND external_id = $2 AND name = '花漾护肤群'`, tid, chat); n != 1 {
			t.Fatalf("%d groups", n)
		}
		if n := r.count(t, `SELECT COUNT(*) FROM identities WHERE tenant_id = $1 AND channel = 'telegram'`, tid); n != 2 {
			t.Fatalf("%d identities", n)
		}
		// Bob wrote without a join announcement: he is a member now.
		if n := r.count(t, `SELECT COUNT(*) FROM group_members WHERE tenant_id = $1 AND left_at IS NULL`, tid); n != 2 {
			t.Fatalf("%d members in the group", n)
		}
		if n := r.count(t, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'message' AND source = 'telegram/7'`, tid); n != 2 {
			t.Fatalf("%d messages", n)
		}
		var raw string
		db.R.QueryRow(`SELECT data FROM events WHERE source_id = 'u3'`).Scan(&raw)
		var d event.MessageData
		if err := json.Unmarshal([]byte(raw), &d); err != nil || d.Text != "大家好" {
			t.Fatalf("NUL not stripped: %s", raw)
		}
		// Leave, and its redelivery.
		leave := channel.Inbound{Kind: channel.InboundLeave, ID: "u5", Chat: chat, Users: []channel.User{bob}, At: at}
		r.deliver(t, leave)
		if res := r.deliver(t, leave); res.Stored != 0 {
			t.Fatalf("second leave stored: %+v", res)
		}
		// The group becomes a supergroup; then the bot is removed.
		r.deliver(t, channel.Inbound{Kind: channel.InboundMigrate, ID: "u6", Chat: chat, NewChat: "-1009999", At: at})
		r.deliver(t, channel.Inbound{Kind: channel.InboundBotRemoved, ID: "u7", Chat: "-1009999", At: at})
		if n := r.count(t, `SELECT COUNT(*) FROM community_groups WHERE external_id = '-1009999' AND unreachable_at > 0`); n != 1 {
			t.Fatal("migration or removal not recorded")
		}
		// A private message goes to the member's thread.
		r.deliver(t, channel.Inbound{Kind: channel.InboundMessage, ID: "u8", Chat: alice.ID, Private: true, User: alice, Text: "私下问一下", At: at})
		if n := r.count(t, `SELECT COUNT(*) FROM events WHERE type = 'direct_message' AND group_id IS NULL`); n != 1 {
			t.Fatalf("%d private messages", n)
		}
		// Things liveloop does not use are ignored, not errors.
		if res := r.deliver(t, channel.Inbound{Kind: "sticker", ID: "u9", Chat: chat, At: at}, channel.Inbound{Kind: channel.InboundMessage, ID: "u10"}); res.Ignored != 2 {
			t.Fatalf("ignored: %+v", res)
		}
	})
}

// Button votes reach the poll once, however often the platform repeats.
func TestButtonVote(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.LINE)
		ctx := context.Background()
		r.deliver(t, msg("e1", "hi", alice))
		g, err := r.in.Community.GroupByExternal(ctx, db.R, r.a.TenantID, r.a.Channel(), chat)
		if err != nil {
			t.Fatal(err)
		}
		var p poll.Poll
		err = db.InTx(ctx, func(tx *store.Tx) error {
			p, err = r.in.Polls.CreateTx(ctx, tx, poll.Poll{TenantID: r.a.TenantID, GroupID: g.ID, Kind: poll.KindPoll, Question: "q",
				Options: []string{"a", "b"}, ClosesAt: time.Now().Add(time.Hour)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		press := channel.Inbound{Kind: channel.InboundButton, ID: "e2", Chat: chat, User: alice, Data: runner.ButtonData(p.ID, 2), At: time.Now()}
		var wg sync.WaitGroup
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.in.Deliver(ctx, r.a, []channel.Inbound{press})
			}()
		}
		wg.Wait()
		res, _ := r.in.Polls.Tally(ctx, p)
		if fmt.Sprint(res.Counts) != "[0 1]" {
			t.Fatalf("tally %v", res.Counts)
		}
		// LINE user ids are per provider: identities are scoped to the account.
		if n := r.count(t, `SELECT COUNT(*) FROM identities WHERE channel = 'line/7'`); n != 1 {
			t.Fatalf("%d LINE identities", n)
		}
		// A forged payload or another group's poll: ignored or refused, never a vote.
		bad := press
		bad.ID, bad.Data = "e3", "poll:x:1"
		if res := r.deliver(t, bad); res.Ignored != 1 {
			t.Fatalf("bad payload: %+v", res)
		}
	})
}

// Deliveries racing on a new chat and a new user (two webhook requests at
// once): every one is stored, one group and one member result.
func TestConcurrentFirstContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.Telegram)
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.in.Deliver(context.Background(), r.a, []channel.Inbound{msg(fmt.Sprint("race-", i), "第一次来", alice)})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for q, want := range map[string]int{
			`SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1`:                  1,
			`SELECT COUNT(*) FROM members WHERE tenant_id = $1`:                           1,
			`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'message'`:       10,
			`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'member_joined'`: 1,
		} {
			if n := r.count(t, q, r.a.TenantID); n != want {
				t.Errorf("%s: %d, want %d", q, n, want)
			}
		}
	})
}
