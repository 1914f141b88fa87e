package conformance

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel/telegram/telegramtest"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// A broadcast to many Telegram groups at once, through the app's outbox and
// the Telegram adapter, to a fake Bot API that enforces the limits: 120
// groups × 3 messages, and 4 groups sent 4 messages each, queued first (a
// group's limit holds them back). The fake counts a group's 20 a minute
// over 6 s (2 in any 6 s: the same rate, binding within seconds) and the
// 30 a second as documented. Every message arrives once, no send breaks a
// limit, and the rate kept up is logged against the cap.
func TestTelegramBroadcastPacing(t *testing.T) {
	each(t, func(t *testing.T, dialect store.Dialect) {
		br, d := newTelegram(t, dialect)
		limits := telegramtest.DocumentedLimits()
		limits.Group, limits.GroupWindow = 2, 6*time.Second
		d.fake.SetLimits(limits)
		b := broadcast{}
		b.queue(t, br, d, tgGroups(t, br, d, 4, 0), 4*4, "快讯")
		b.queue(t, br, d, tgGroups(t, br, d, 120, 100), 120*3, "直播预告")
		sent := b.check(t, br, d)
		if v := d.fake.Violations(); v != 0 {
			t.Errorf("%d sends broke a limit (429)", v)
		}
		logRate(t, sent, limits)
	})
}

// Telegram throttles on its own (429 with retry_after) in the middle of a
// broadcast: the worker sends nothing to the bot until retry_after has
// passed, then delivers everything once, without spending attempts.
func TestTelegramRetryAfter(t *testing.T) {
	each(t, func(t *testing.T, dialect store.Dialect) {
		br, d := newTelegram(t, dialect)
		b := broadcast{}
		b.queue(t, br, d, tgGroups(t, br, d, 40, 0), 40*2, "返场")
		waitFor(t, 20*time.Second, "the first sends", func() bool { return len(d.fake.Sent()) >= 20 })
		d.fake.Throttle(2 * time.Second)
		b.check(t, br, d)
		if v := d.fake.Violations(); v != 0 {
			t.Errorf("%d sends broke a limit or came before retry_after", v)
		}
		// After each refusal, the next send came no sooner than the
		// retry_after it gave.
		calls := d.fake.Calls("sendMessage")
		refusals, waited := 0, ""
		for i, c := range calls {
			if c.Status != http.StatusTooManyRequests {
				continue
			}
			refusals++
			if i+1 < len(calls) {
				gap := calls[i+1].At.Sub(c.At)
				if c.RetryAfter < 1 || gap < time.Duration(c.RetryAfter)*time.Second {
					t.Errorf("a send %v after a 429 with retry_after %d", gap, c.RetryAfter)
				}
				waited += fmt.Sprintf(" retry_after %d s → next send after %.3f s;", c.RetryAfter, gap.Seconds())
			}
		}
		if refusals == 0 || d.fake.Throttled() != refusals {
			t.Errorf("%d refusals, %d of them by the throttle", refusals, d.fake.Throttled())
		}
		var attempts int
		br.e.App.DB.R.QueryRow(`SELECT MAX(attempts) FROM outbox WHERE tenant_id = $1`, br.b.Tenant.ID).Scan(&attempts)
		if attempts != 1 {
			t.Errorf("a send refused with retry_after spent an attempt (max attempts %d)", attempts)
		}
		t.Logf("%d refusals:%s %d messages delivered once", refusals, waited, len(b))
	})
}

// BenchmarkTelegramBroadcast sends b.N messages, round by round, to 150
// Telegram groups (each well under its 20 a minute) through the app to the
// fake with Telegram's documented limits, and reports the rate kept up
// against the cap of 30 a second (see logRate). Fails on any violation or
// duplicate.
//
//	go test -run '^$' -bench TelegramBroadcast -benchtime 900x ./internal/conformance/
func BenchmarkTelegramBroadcast(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			br, drv := newTelegram(b, d)
			bc := broadcast{}
			bc.queue(b, br, drv, tgGroups(b, br, drv, 150, 0), b.N, "秒杀")
			b.ResetTimer()
			sent := bc.check(b, br, drv)
			b.StopTimer()
			if v := drv.fake.Violations(); v != 0 {
				b.Fatalf("%d sends broke a limit", v)
			}
			if len(sent) > telegramtest.DocumentedLimits().Overall {
				rate, share := logRate(b, sent, telegramtest.DocumentedLimits())
				b.ReportMetric(rate, "msg/s")
				b.ReportMetric(share, "%cap")
			}
		})
	}
}

// broadcast maps each message's text (unique) to the chat it must reach.
type broadcast map[string]int64

// tgGroups creates n Telegram groups of the account, as the bot's chats
// are known once it has been added to them.
func tgGroups(t testing.TB, br *brand, d *tgDriver, n int, first int64) map[int64]int64 {
	t.Helper()
	out := map[int64]int64{}
	for i := range int64(n) {
		chat := -(1_002_000_000_000 + first + i)
		g, _, err := br.e.App.Community.CreateGroup(context.Background(), community.Group{TenantID: br.b.Tenant.ID,
			Channel: d.acc.Channel(), ExternalID: fmt.Sprint(chat), Name: fmt.Sprint("群 ", first+i), Kind: community.Vertical})
		if err != nil {
			t.Fatal(err)
		}
		out[g.ID] = chat
	}
	return out
}

// queue enqueues n messages in one transaction, as a campaign step queues
// its posts: round by round, one message to every group.
func (b broadcast) queue(t testing.TB, br *brand, d *tgDriver, groups map[int64]int64, n int, tag string) {
	t.Helper()
	ids := make([]int64, 0, len(groups))
	for id := range groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ctx := context.Background()
	err := br.e.App.DB.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			g, round := ids[i%len(ids)], i/len(ids)+1
			text := fmt.Sprintf("%s 第 %d 条 · 群 %d", tag, round, g)
			_, created, err := br.e.App.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: br.b.Tenant.ID, Channel: d.acc.Channel(),
				IdemKey: fmt.Sprintf("%s:%d:%d", tag, g, round), GroupID: g, PersonaID: br.persona, SenderName: "助理小花", Body: text})
			if err != nil || !created {
				return fmt.Errorf("enqueue %s: %v %v", text, created, err)
			}
			b[text] = groups[g]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// check waits for every message and verifies that each reached its chat
// exactly once, that nothing else was sent, and that every row is
// recorded sent. It returns the messages as the fake received them.
func (b broadcast) check(t testing.TB, br *brand, d *tgDriver) []telegramtest.SentMessage {
	t.Helper()
	mine := func() []telegramtest.SentMessage {
		var out []telegramtest.SentMessage
		for _, m := range d.fake.Sent() {
			if _, ok := b[m.Text]; ok {
				out = append(out, m)
			}
		}
		return out
	}
	// The cap alone needs len(b)/30 s.
	waitFor(t, 30*time.Second+time.Duration(len(b))*time.Second/30, "every message delivered", func() bool { return len(mine()) >= len(b) })
	time.Sleep(200 * time.Millisecond) // a duplicate would come now
	got := map[string]int{}
	for _, m := range mine() {
		got[m.Text]++
		if m.ChatID != b[m.Text] {
			t.Errorf("%q reached chat %d, want %d", m.Text, m.ChatID, b[m.Text])
		}
	}
	for text := range b {
		if got[text] != 1 {
			t.Errorf("%q delivered %d times", text, got[text])
		}
	}
	if n := len(d.fake.Sent()); n != len(b) {
		t.Errorf("the fake accepted %d messages, want %d", n, len(b))
	}
	c, err := br.e.App.Outbox.Counts(context.Background(), br.b.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c[outbox.Sent] != len(b) || len(c) != 1 {
		t.Errorf("outbox rows: %v, want %d sent", c, len(b))
	}
	return mine()
}

// logRate logs and returns the rate kept up against the overall cap, in
// messages a second and as a share of the cap (%). Under a cap of n sends
// in any window w, send i+n can go no sooner than w after send i: the rate
// kept up is n / the mean of t[i+n] - t[i] over the run, which is the cap
// itself at best, however the sends bunch within a window, and is not
// flattered by the first window's burst. PACING_DEBUG=1 logs every time.
func logRate(t testing.TB, sent []telegramtest.SentMessage, l telegramtest.Limits) (rate, share float64) {
	t.Helper()
	slices.SortFunc(sent, func(a, b telegramtest.SentMessage) int { return a.At.Compare(b.At) })
	n := l.Overall
	var sum time.Duration
	for i := range len(sent) - n {
		sum += sent[i+n].At.Sub(sent[i].At)
	}
	mean := sum / time.Duration(len(sent)-n)
	capRate := float64(n) / l.OverallWindow.Seconds()
	rate = float64(n) / mean.Seconds()
	peak := 0
	for i := range sent {
		j := i
		for j < len(sent) && sent[j].At.Sub(sent[i].At) < l.OverallWindow {
			j++
		}
		peak = max(peak, j-i)
	}
	if os.Getenv("PACING_DEBUG") != "" {
		var b strings.Builder
		for _, m := range sent {
			fmt.Fprintf(&b, "%.3f ", m.At.Sub(sent[0].At).Seconds())
		}
		t.Log(b.String())
	}
	share = 100 * rate / capRate
	t.Logf("%d messages in %.2f s; send i+%d came %.1f ms after send i on average: %.2f msg/s kept up, %.1f %% of the cap of %.0f msg/s; at most %d in any %s",
		len(sent), sent[len(sent)-1].At.Sub(sent[0].At).Seconds(), n, float64(mean.Microseconds())/1000, rate, share, capRate, peak, l.OverallWindow)
	return rate, share
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
