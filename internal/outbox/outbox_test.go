package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// fakeChannel records what it is asked to send and answers with reply.
type fakeChannel struct {
	name   string
	caps   channel.Capabilities
	limits channel.Limits

	mu    sync.Mutex
	sent  []channel.Message
	reply func(n int, m channel.Message) error // n counts calls from 1; nil means success

	// With a clock, each send takes latency on it, and its start and end
	// are recorded.
	clock      *clock
	latency    time.Duration
	start, end []time.Time
}

func (c *fakeChannel) Name() string                       { return c.name }
func (c *fakeChannel) Capabilities() channel.Capabilities { return c.caps }
func (c *fakeChannel) Limits() channel.Limits             { return c.limits }

func (c *fakeChannel) Send(_ context.Context, m channel.Message) (channel.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, m)
	if c.clock != nil {
		c.start = append(c.start, c.clock.Now())
		c.clock.Add(c.latency)
		c.end = append(c.end, c.clock.Now())
	}
	if c.reply != nil {
		if err := c.reply(len(c.sent), m); err != nil {
			return channel.Result{}, err
		}
	}
	return channel.Result{ExternalID: "ext-" + m.IdemKey}, nil
}

func (c *fakeChannel) calls() []channel.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]channel.Message(nil), c.sent...)
}

// clock is a settable now for the worker: tests move time instead of
// sleeping.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// sleep is the worker's sleep on this clock: time moves by d at once.
func (c *clock) sleep(_ context.Context, d time.Duration) error {
	c.Add(d)
	return nil
}

type fixture struct {
	db    *store.DB
	o     *Outbox
	clock *clock
	a, b  int64 // tenants
}

func setup(t *testing.T, db *store.DB, chs ...channel.Channel) fixture {
	t.Helper()
	f := fixture{db: db, clock: &clock{now: time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)}}
	f.o = New(db, channel.NewRegistry(chs...), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.o.nowFn = f.clock.Now
	f.o.sleep = f.clock.sleep
	for slug, p := range map[string]*int64{"brand-a": &f.a, "brand-b": &f.b} {
		if err := db.W.QueryRow(`INSERT INTO tenants (slug, name, created_at) VALUES ($1, 'x', 1) RETURNING id`, slug).Scan(p); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f fixture) enqueue(t *testing.T, it Item) int64 {
	t.Helper()
	if it.TenantID == 0 {
		it.TenantID = f.a
	}
	id, created, err := f.o.Enqueue(context.Background(), it)
	if err != nil || !created {
		t.Fatalf("Enqueue(%s) = %v, %v", it.IdemKey, created, err)
	}
	return id
}

func (f fixture) get(t *testing.T, id int64) Item {
	t.Helper()
	it, err := f.o.Get(context.Background(), f.a, id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func (f fixture) runOnce(t *testing.T) int {
	t.Helper()
	n, err := f.o.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// drain runs passes, moving the clock to when the next row is due or a
// held channel may send again, until nothing waits.
func (f fixture) drain(t *testing.T) {
	t.Helper()
	for range 10_000 {
		if f.runOnce(t) > 0 {
			continue
		}
		next := f.o.nextDue(context.Background())
		if next.IsZero() {
			return
		}
		f.clock.Add(next.Sub(f.clock.Now()))
	}
	t.Fatal("the queue did not drain")
}

func (f fixture) counts(t *testing.T) map[State]int {
	t.Helper()
	c, err := f.o.Counts(context.Background(), f.a)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnqueue(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		ch := &fakeChannel{name: "fake", caps: channel.Capabilities{MaxTextLen: 10}}
		f := setup(t, db, ch)
		id, created, err := f.o.Enqueue(ctx, Item{TenantID: f.a, Channel: "fake", IdemKey: "welcome:1", GroupID: 7,
			SenderName: " 小助理\n", Body: "  hi\x00 there  "})
		if err != nil || !created || id == 0 {
			t.Fatalf("Enqueue = %d, %v, %v", id, created, err)
		}
		it := f.get(t, id)
		if it.State != Pending || it.Attempts != 0 || it.Body != "hi there" || it.SenderName != "小助理" || it.GroupID != 7 ||
			it.MemberID != 0 || !it.NextAttemptAt.Equal(f.clock.Now()) || !it.CreatedAt.Equal(f.clock.Now()) || !it.SentAt.IsZero() {
			t.Fatalf("stored %+v", it)
		}
		id2, created, err := f.o.Enqueue(ctx, Item{TenantID: f.a, Channel: "fake", IdemKey: "welcome:1", GroupID: 7, Body: "other"})
		if err != nil || created || id2 != 0 {
			t.Fatalf("same key again = %d, %v, %v; want 0, false, nil", id2, created, err)
		}
		if _, created, err := f.o.Enqueue(ctx, Item{TenantID: f.b, Channel: "fake", IdemKey: "welcome:1", GroupID: 7, Body: "B's"}); err != nil || !created {
			t.Fatalf("same key, other tenant = %v, %v", created, err)
		}
		if c := f.counts(t); c[Pending] != 1 || len(c) != 1 {
			t.Fatalf("counts = %v", c)
		}
		if _, err := f.o.Get(ctx, f.b, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B reads A's row: %v", err)
		}
		for _, bad := range []Item{
			{TenantID: f.a, Channel: "nope", IdemKey: "k", GroupID: 1, Body: "x"},
			{TenantID: 0, Channel: "fake", IdemKey: "k", GroupID: 1, Body: "x"},
			{TenantID: f.a, Channel: "fake", IdemKey: "", GroupID: 1, Body: "x"},
			{TenantID: f.a, Channel: "fake", IdemKey: "k", Body: "x"},
			{TenantID: f.a, Channel: "fake", IdemKey: "k", GroupID: 1, Body: " \x00\n "},
			{TenantID: f.a, Channel: "fake", IdemKey: "k", GroupID: 1, Body: "eleven char"},
		} {
			if _, _, err := f.o.Enqueue(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("Enqueue(%+v) = %v, want ErrInvalid", bad, err)
			}
		}
		if _, _, err := f.o.Enqueue(ctx, Item{TenantID: f.a, Channel: "fake", IdemKey: "k", GroupID: 1, Body: "十个字符的消息正好"}); err != nil {
			t.Errorf("a message of exactly the limit in characters: %v", err)
		}

		// Inside a caller's transaction: rolled back with it.
		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, _, err := f.o.EnqueueTx(ctx, tx, Item{TenantID: f.a, Channel: "fake", IdemKey: "rolled-back", GroupID: 1, Body: "x"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if c := f.counts(t); c[Pending] != 2 {
			t.Fatalf("a rolled-back enqueue was stored: %v", c)
		}
	})
}

func TestWorkerSends(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ch := &fakeChannel{name: "fake"}
		f := setup(t, db, ch)
		var onSent []int64
		f.o.OnSent = func(it Item) { onSent = append(onSent, it.ID) }
		var ids []int64
		for i := range 5 {
			ids = append(ids, f.enqueue(t, Item{Channel: "fake", IdemKey: fmt.Sprint("k", i), GroupID: 1, StaffID: 3, SenderName: "Lin", Body: fmt.Sprint("msg ", i)}))
		}
		// Not due yet: scheduled for later.
		later := f.enqueue(t, Item{Channel: "fake", IdemKey: "later", MemberID: 9, Body: "tomorrow", NextAttemptAt: f.clock.Now().Add(24 * time.Hour)})

		f.o.Batch = 3
		if n := f.runOnce(t); n != 3 {
			t.Fatalf("first pass claimed %d, want the batch of 3", n)
		}
		if n := f.runOnce(t); n != 2 {
			t.Fatalf("second pass claimed %d, want 2", n)
		}
		if n := f.runOnce(t); n != 0 {
			t.Fatalf("third pass claimed %d, want 0", n)
		}
		calls := ch.calls()
		if len(calls) != 5 {
			t.Fatalf("%d sends, want 5", len(calls))
		}
		for i, m := range calls {
			if m.IdemKey != fmt.Sprint("k", i) || m.OutboxID != ids[i] || m.TenantID != f.a || m.GroupID != 1 || m.StaffID != 3 ||
				m.SenderName != "Lin" || m.Text != fmt.Sprint("msg ", i) {
				t.Errorf("send %d = %+v (queue order, every field passed)", i, m)
			}
		}
		for _, id := range ids {
			it := f.get(t, id)
			if it.State != Sent || it.Attempts != 1 || it.ExternalID != "ext-"+it.IdemKey || !it.SentAt.Equal(f.clock.Now()) || it.LastError != "" {
				t.Errorf("row %d after sending: %+v", id, it)
			}
		}
		if len(onSent) != 5 {
			t.Errorf("OnSent called %d times", len(onSent))
		}
		if it := f.get(t, later); it.State != Pending || it.Attempts != 0 {
			t.Fatalf("the scheduled row was touched: %+v", it)
		}
		f.clock.Add(24 * time.Hour)
		if n := f.runOnce(t); n != 1 || f.get(t, later).State != Sent {
			t.Fatalf("the scheduled row when due: claimed %d, %+v", n, f.get(t, later))
		}
	})
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		// One channel per behaviour; each message's text says what to answer.
		answer := func(_ int, m channel.Message) error {
			switch m.Text {
			case "retry-after":
				return &channel.RetryAfter{Wait: 30 * time.Second}
			case "permanent":
				return fmt.Errorf("%w: bot was blocked by the user", channel.ErrPermanent)
			case "uncertain":
				return fmt.Errorf("%w: timeout", channel.ErrUncertain)
			case "transient":
				return errors.New("HTTP 502")
			}
			return nil
		}
		plain := &fakeChannel{name: "plain", reply: answer}                                                 // Telegram-like
		idem := &fakeChannel{name: "idem", caps: channel.Capabilities{IdempotentSend: true}, reply: answer} // LINE-like
		flood := &fakeChannel{name: "flood", reply: answer}                                                 // a retry-after holds the whole channel
		f := setup(t, db, plain, idem, flood)
		now := f.clock.Now()
		retry := f.enqueue(t, Item{Channel: "flood", IdemKey: "r", GroupID: 1, Body: "retry-after"})
		perm := f.enqueue(t, Item{Channel: "plain", IdemKey: "p", GroupID: 1, Body: "permanent"})
		unc := f.enqueue(t, Item{Channel: "plain", IdemKey: "u", GroupID: 1, Body: "uncertain"})
		uncIdem := f.enqueue(t, Item{Channel: "idem", IdemKey: "ui", GroupID: 1, Body: "uncertain"})
		trans := f.enqueue(t, Item{Channel: "plain", IdemKey: "t", GroupID: 1, Body: "transient"})
		if n := f.runOnce(t); n != 5 {
			t.Fatalf("claimed %d, want 5", n)
		}

		// Retry-after: back to pending in its place in the queue, no
		// attempt spent; its channel sends nothing until the wait is over.
		if it := f.get(t, retry); it.State != Pending || it.Attempts != 0 || !it.NextAttemptAt.Equal(now) ||
			!strings.Contains(it.LastError, "retry after") {
			t.Errorf("after retry-after: %+v", it)
		}
		if next := f.o.nextDue(context.Background()); !next.Equal(now.Add(2 * time.Second)) {
			t.Errorf("next due %v, want the backoff of the transient failure (before the 30 s hold ends)", next)
		}
		if it := f.get(t, perm); it.State != Failed || it.Attempts != 1 || !strings.Contains(it.LastError, "blocked") {
			t.Errorf("after a permanent failure: %+v", it)
		}
		// Uncertain on a channel without idempotency: unknown, never resent.
		if it := f.get(t, unc); it.State != Unknown || it.Attempts != 1 || !strings.Contains(it.LastError, "timeout") {
			t.Errorf("after an uncertain send (not idempotent): %+v", it)
		}
		// Uncertain where a resend is safe: retried after a backoff.
		if it := f.get(t, uncIdem); it.State != Pending || it.Attempts != 1 || !it.NextAttemptAt.Equal(now.Add(2*time.Second)) {
			t.Errorf("after an uncertain send (idempotent): %+v", it)
		}
		if it := f.get(t, trans); it.State != Pending || it.Attempts != 1 || !it.NextAttemptAt.Equal(now.Add(2*time.Second)) || it.LastError != "HTTP 502" {
			t.Errorf("after a transient failure: %+v", it)
		}
		if n := f.runOnce(t); n != 0 {
			t.Fatalf("claimed %d before anything was due again", n)
		}

		// A transient failure is retried with growing backoff, then fails
		// for good after MaxAttempts.
		for attempt := 2; attempt <= MaxAttempts; attempt++ {
			f.clock.Add(11 * time.Minute)
			f.runOnce(t)
			it := f.get(t, trans)
			want := Pending
			if attempt == MaxAttempts {
				want = Failed
			}
			if it.State != want || it.Attempts != attempt {
				t.Fatalf("attempt %d: %+v, want %s", attempt, it, want)
			}
			if want == Pending && !it.NextAttemptAt.Equal(f.clock.Now().Add(backoff(attempt))) {
				t.Fatalf("attempt %d: next at %v, want %v later", attempt, it.NextAttemptAt, backoff(attempt))
			}
		}
		sends := map[string]int{}
		for _, m := range append(append(plain.calls(), idem.calls()...), flood.calls()...) {
			sends[m.IdemKey]++
		}
		if sends["p"] != 1 || sends["u"] != 1 || sends["t"] != MaxAttempts {
			t.Fatalf("sends per row: %v; permanent and unknown once, transient %d times", sends, MaxAttempts)
		}
		if it := f.get(t, retry); it.State != Pending || it.Attempts != 0 {
			t.Fatalf("a row under retry-after is retried forever without spending attempts: %+v", it)
		}
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		attempts int
		want     time.Duration
	}{{0, time.Second}, {1, 2 * time.Second}, {3, 8 * time.Second}, {9, 512 * time.Second}, {10, 10 * time.Minute}, {50, 10 * time.Minute}} {
		if got := backoff(c.attempts); got != c.want {
			t.Errorf("backoff(%d) = %v, want %v", c.attempts, got, c.want)
		}
	}
}

// Recover after a crash: rows left in "sending" are resent where that is
// safe and marked unknown where it is not.
func TestRecover(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		plain := &fakeChannel{name: "plain"}
		idem := &fakeChannel{name: "idem", caps: channel.Capabilities{IdempotentSend: true}}
		gone := &fakeChannel{name: "gone"}
		f := setup(t, db, plain, idem, gone)
		p := f.enqueue(t, Item{Channel: "plain", IdemKey: "p", GroupID: 1, Body: "x"})
		i := f.enqueue(t, Item{Channel: "idem", IdemKey: "i", GroupID: 1, Body: "x"})
		g := f.enqueue(t, Item{Channel: "gone", IdemKey: "g", GroupID: 1, Body: "x"})
		untouched := f.enqueue(t, Item{Channel: "plain", IdemKey: "pending", GroupID: 1, Body: "x"})
		sent := f.enqueue(t, Item{Channel: "idem", IdemKey: "sent", GroupID: 1, Body: "x"})
		if _, err := db.W.Exec(`UPDATE outbox SET state = 'sent' WHERE id = $1`, sent); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.Exec(`UPDATE outbox SET state = 'sending', attempts = 1 WHERE id IN ($1, $2, $3)`, p, i, g); err != nil {
			t.Fatal(err)
		}
		// The process restarts without the "gone" channel configured.
		f.o = New(db, channel.NewRegistry(plain, idem), f.o.log)
		f.o.nowFn = f.clock.Now
		if err := f.o.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[int64]State{p: Unknown, i: Pending, g: Unknown, untouched: Pending, sent: Sent}
		for id, st := range want {
			if it := f.get(t, id); it.State != st {
				t.Errorf("row %s after Recover: %s, want %s", it.IdemKey, it.State, st)
			}
		}
		if it := f.get(t, p); !strings.Contains(it.LastError, "may have delivered") {
			t.Errorf("unknown row explains nothing: %q", it.LastError)
		}
		if n := f.runOnce(t); n != 2 {
			t.Fatalf("claimed %d after Recover, want 2 (the idempotent row and the untouched one)", n)
		}
		if got := len(plain.calls()) + len(idem.calls()) + len(gone.calls()); got != 2 {
			t.Fatalf("%d sends, want 2: unknown rows are never resent", got)
		}
		if it := f.get(t, i); it.State != Sent || it.Attempts != 2 {
			t.Fatalf("recovered idempotent row: %+v", it)
		}
		if err := f.o.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		if c := f.counts(t); c[Unknown] != 2 || c[Sent] != 3 || c[Pending] != 0 || c[Sending] != 0 {
			t.Fatalf("counts = %v", c)
		}
	})
}

// The built-in web community sends by appending to the event log under the
// outbox's key, so a crash between the send and its record — any number of
// times — still shows each message once.
func TestWebchatCrashDeliversExactlyOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		bus := event.NewLocalBus()
		var published []event.Event
		var mu sync.Mutex
		bus.Subscribe(func(e event.Event) { mu.Lock(); published = append(published, e); mu.Unlock() })
		log := event.NewLog(db, bus)
		web := webchat.New(log)
		f := setup(t, db, web)
		const groups, perGroup = 3, 8
		var items []Item
		for g := 1; g <= groups; g++ {
			for i := range perGroup {
				it := Item{TenantID: f.a, Channel: webchat.Name, IdemKey: fmt.Sprintf("preview:%d:%d", g, i), GroupID: int64(g), SenderName: "小助理",
					Body: fmt.Sprintf("group %d message %d", g, i)}
				it.ID = f.enqueue(t, it)
				items = append(items, it)
			}
		}
		// The first process claimed everything and delivered two thirds
		// before it died, recording none of it.
		if _, err := db.W.Exec(`UPDATE outbox SET state = 'sending', attempts = 1 WHERE tenant_id = $1`, f.a); err != nil {
			t.Fatal(err)
		}
		for i, it := range items {
			if i%3 == 2 {
				continue
			}
			if _, err := web.Send(ctx, channel.Message{OutboxID: it.ID, TenantID: it.TenantID, IdemKey: it.IdemKey, GroupID: it.GroupID,
				SenderName: it.SenderName, Text: it.Body}); err != nil {
				t.Fatal(err)
			}
		}
		// It restarts, recovers and sends.
		if err := f.o.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.runOnce(t); n != len(items) {
			t.Fatalf("claimed %d after recovery, want %d", n, len(items))
		}
		f.drain(t) // one message a second to each group
		if c := f.counts(t); c[Sent] != len(items) {
			t.Fatalf("counts = %v, want all %d sent", c, len(items))
		}
		// It crashes again right after (rows back in "sending"), and once more recovers.
		db.W.Exec(`UPDATE outbox SET state = 'sending' WHERE tenant_id = $1`, f.a)
		f.o.Recover(ctx)
		f.clock.Add(time.Minute)
		f.drain(t)

		seen := map[string]int{}
		eventID := map[string]string{}
		for g := 1; g <= groups; g++ {
			msgs, err := log.GroupMessages(ctx, f.a, int64(g), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != perGroup {
				t.Errorf("group %d shows %d messages, want %d", g, len(msgs), perGroup)
			}
			for _, e := range msgs {
				var d event.MessageData
				e.Decode(&d)
				seen[d.Text]++
				eventID[d.Text] = fmt.Sprint(e.ID)
				if e.Source != event.SourceOutbox || d.SenderName != "小助理" {
					t.Errorf("message %+v", e)
				}
			}
		}
		for _, it := range items {
			if seen[it.Body] != 1 {
				t.Errorf("%q shown %d times, want once", it.Body, seen[it.Body])
			}
			row := f.get(t, it.ID)
			if row.State != Sent || row.ExternalID != eventID[it.Body] {
				t.Errorf("row %s: state %s, external id %q (want the message's event id)", it.IdemKey, row.State, row.ExternalID)
			}
		}
		if n, _ := log.Count(ctx, f.a, event.Message); n != int64(len(items)) {
			t.Errorf("%d message events, want %d", n, len(items))
		}
		mu.Lock()
		defer mu.Unlock()
		if len(published) != len(items) {
			t.Errorf("%d messages published to members, want %d", len(published), len(items))
		}
	})
}

// The windows the outbox derives from a channel's declared limits.
func TestLimits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		limits     channel.Limits
		it         Item
		chLim, lim limit
	}{
		{"telegram group", channel.Limits{PerSecond: 30, PerGroupPerMinute: 20, PerMemberPerSecond: 1}, Item{TenantID: 1, GroupID: 5},
			limit{30, time.Second}, limit{1, 3 * time.Second}},
		{"telegram member", channel.Limits{PerSecond: 30, PerGroupPerMinute: 20, PerMemberPerSecond: 1}, Item{TenantID: 1, MemberID: 5},
			limit{30, time.Second}, limit{1, time.Second}},
		{"web group", channel.Limits{PerGroupPerMinute: 60}, Item{TenantID: 1, GroupID: 5}, limit{}, limit{1, time.Second}},
		{"LINE push", channel.Limits{PerSecond: 2000}, Item{TenantID: 1, GroupID: 5}, limit{2000, time.Second}, limit{}},
		{"slow", channel.Limits{PerSecond: 0.5, PerGroupPerMinute: 0.5}, Item{TenantID: 1, GroupID: 5}, limit{1, 2 * time.Second}, limit{1, 2 * time.Minute}},
		{"fraction", channel.Limits{PerSecond: 2.5, PerMemberPerSecond: 1.5}, Item{TenantID: 1, MemberID: 5}, limit{2, time.Second}, limit{1, time.Second}},
	} {
		ch := &fakeChannel{name: "x", limits: c.limits}
		chKey, chLim, toKey, lim := limits(ch, c.it)
		if chKey != "x" || chLim != c.chLim || lim != c.lim {
			t.Errorf("%s: %s %v, %s %v; want %v, %v", c.name, chKey, chLim, toKey, lim, c.chLim, c.lim)
		}
	}
}

// A window counts each send from its answer: n sends, then none until w
// after the oldest of the last n was answered.
func TestPaceWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	p := &pace{limit: limit{n: 3, w: time.Second}}
	for _, ms := range []int{0, 100, 200} {
		if w := p.wait(at(ms)); w != 0 {
			t.Fatalf("wait before send %d: %v", ms, w)
		}
		p.sent(at(ms))
	}
	for _, c := range []struct {
		ms   int
		want time.Duration
	}{{200, 800 * time.Millisecond}, {990, 10 * time.Millisecond}, {1000, 0}, {2000, 0}} {
		if w := p.wait(at(c.ms)); w != c.want {
			t.Errorf("wait at %d ms = %v, want %v", c.ms, w, c.want)
		}
	}
	p.sent(at(1000)) // the oldest now answered at 100
	if w := p.wait(at(1000)); w != 100*time.Millisecond {
		t.Errorf("after a fourth send: wait %v, want 100ms", w)
	}
	if p.idle(at(1999)) || !p.idle(at(2000)) {
		t.Errorf("idle once the newest send is a window old")
	}
	spread := &pace{limit: limit{n: 1, w: 3 * time.Second}}
	spread.sent(at(0))
	if w := spread.wait(at(2000)); w != time.Second {
		t.Errorf("spread: wait %v, want 1s", w)
	}
}

// Pacing, on a clock that moves only when the worker sleeps or a send
// takes time: every limit holds measured from each answer to the next
// send's start (the most a platform could see), no row spends an attempt
// waiting, and no time is lost beyond the limits.
func TestPacing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		perGroup := &fakeChannel{name: "pergroup", limits: channel.Limits{PerGroupPerMinute: 60}} // one a second a group
		global := &fakeChannel{name: "global", limits: channel.Limits{PerSecond: 5}, latency: 3 * time.Millisecond}
		dm := &fakeChannel{name: "dm", limits: channel.Limits{PerMemberPerSecond: 1}}
		f := setup(t, db, perGroup, global, dm)
		perGroup.clock, global.clock, dm.clock = f.clock, f.clock, f.clock
		t0 := f.clock.Now()
		for i := range 25 {
			f.enqueue(t, Item{Channel: "pergroup", IdemKey: fmt.Sprint("g1-", i), GroupID: 1, Body: "x"})
		}
		for i := range 4 {
			f.enqueue(t, Item{Channel: "pergroup", IdemKey: fmt.Sprint("g2-", i), GroupID: 2, Body: "x"})
		}
		for i := range 12 {
			f.enqueue(t, Item{Channel: "global", IdemKey: fmt.Sprint("gl-", i), GroupID: int64(10 + i), Body: "x"})
		}
		for i := range 3 {
			f.enqueue(t, Item{Channel: "dm", IdemKey: fmt.Sprint("dm7-", i), MemberID: 7, Body: "x"})
		}
		f.enqueue(t, Item{Channel: "dm", IdemKey: "dm8", MemberID: 8, Body: "x"})

		perKey := func(ch *fakeChannel) map[int64]int {
			out := map[int64]int{}
			for _, m := range ch.calls() {
				out[m.GroupID+100*m.MemberID]++
			}
			return out
		}
		if n := f.runOnce(t); n != 45 {
			t.Fatalf("claimed %d, want all 45", n)
		}
		if got := perKey(perGroup); got[1] != 1 || got[2] != 1 {
			t.Errorf("per-group limit: sent %v, want one to each group", got)
		}
		if got := len(global.calls()); got != 5 {
			t.Errorf("per-second limit: sent %d, want a second's worth, 5", got)
		}
		if got := perKey(dm); got[700] != 1 || got[800] != 1 {
			t.Errorf("per-member limit: sent %v, want 1 to each member", got)
		}
		c := f.counts(t)
		if c[Sent] != 9 || c[Pending] != 36 {
			t.Fatalf("counts = %v, want 9 sent and 36 back to pending", c)
		}
		var attempted int
		db.R.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND attempts <> 0`).Scan(&attempted)
		if attempted != 0 {
			t.Fatalf("%d held-back rows spent an attempt", attempted)
		}
		if n := f.runOnce(t); n != 0 {
			t.Fatalf("claimed %d with the clock standing still (a held channel's rows, or rows not due)", n)
		}

		f.drain(t)
		if c := f.counts(t); c[Sent] != 45 {
			t.Fatalf("counts = %v after draining", c)
		}
		// One a second per group and per member, from each answer to the
		// next send, in the order queued; group 1's 25 take 24 s.
		for _, ch := range []*fakeChannel{perGroup, dm} {
			last := map[int64]int{}
			for i, m := range ch.calls() {
				k := m.GroupID + 100*m.MemberID
				if j, ok := last[k]; ok {
					if gap := ch.start[i].Sub(ch.end[j]); gap < time.Second {
						t.Errorf("%s: %s %v after the previous send to it", ch.name, m.IdemKey, gap)
					}
					if prev := ch.calls()[j]; prev.OutboxID > m.OutboxID {
						t.Errorf("%s: %s sent after %s", ch.name, m.IdemKey, prev.IdemKey)
					}
				}
				last[k] = i
			}
		}
		if end := perGroup.end[len(perGroup.end)-1].Sub(t0); end < 24*time.Second || end > 24*time.Second+100*time.Millisecond {
			t.Errorf("group 1's 25 messages took %v, want just over 24 s", end)
		}
		// The per-second channel: 5 sends, then none until a second after
		// the first of them was answered; 12 sends in three bursts.
		for i := 5; i < len(global.start); i++ {
			if gap := global.start[i].Sub(global.end[i-5]); gap < time.Second {
				t.Errorf("global send %d started %v after send %d was answered, want ≥ 1s", i, gap, i-5)
			}
		}
		if last := global.end[len(global.end)-1].Sub(t0); last > 2*time.Second+100*time.Millisecond {
			t.Errorf("global: the 12 sends took %v, want just over 2 s", last)
		}
	})
}

// A platform's retry-after holds the whole channel: nothing more goes out
// on it until the wait is over (the platform does not say whether the
// channel's limit or the chat's was hit), the refused row keeps its place
// and its attempt, and other channels carry on.
func TestRetryAfterHoldsTheChannel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		flood := &fakeChannel{name: "flood", reply: func(n int, _ channel.Message) error {
			if n == 2 {
				return &channel.RetryAfter{Wait: 2 * time.Second}
			}
			return nil
		}}
		other := &fakeChannel{name: "other"}
		f := setup(t, db, flood, other)
		flood.clock, other.clock = f.clock, f.clock
		t0 := f.clock.Now()
		for i, g := range []int64{1, 1, 2, 3} {
			f.enqueue(t, Item{Channel: "flood", IdemKey: fmt.Sprint("f", i), GroupID: g, Body: "x"})
		}
		f.enqueue(t, Item{Channel: "other", IdemKey: "o", GroupID: 1, Body: "x"})
		if n := f.runOnce(t); n != 5 {
			t.Fatalf("claimed %d, want 5", n)
		}
		if got := len(flood.calls()); got != 2 {
			t.Fatalf("%d sends on the refusing channel, want 2 (the second refused, then none)", got)
		}
		if got := len(other.calls()); got != 1 {
			t.Fatalf("the other channel sent %d, want 1", got)
		}
		var notDue, attempted int
		db.R.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND next_attempt_at <> $1`, store.Millis(t0)).Scan(&notDue)
		db.R.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND attempts <> 0`).Scan(&attempted)
		if c := f.counts(t); c[Sent] != 2 || c[Pending] != 3 || notDue != 0 || attempted != 0 {
			t.Fatalf("counts %v; %d pending rows moved in the queue, %d spent an attempt", c, notDue, attempted)
		}
		if next := f.o.nextDue(context.Background()); !next.Equal(t0.Add(2 * time.Second)) {
			t.Fatalf("next due %v, want the end of the wait", next.Sub(t0))
		}
		f.clock.Add(2*time.Second - time.Millisecond)
		if n := f.runOnce(t); n != 0 {
			t.Fatalf("claimed %d before the wait was over", n)
		}
		f.clock.Add(time.Millisecond)
		f.drain(t)
		var keys []string
		for _, m := range flood.calls() {
			keys = append(keys, m.IdemKey)
		}
		if fmt.Sprint(keys) != "[f0 f1 f1 f2 f3]" {
			t.Fatalf("sends %v, want the refused f1 again first, then the rest in order", keys)
		}
		if gap := flood.start[2].Sub(flood.end[1]); gap < 2*time.Second {
			t.Fatalf("sent again %v after the retry-after of 2s", gap)
		}
		if c := f.counts(t); c[Sent] != 5 {
			t.Fatalf("counts = %v", c)
		}
	})
}

// Rows to one group go out in the order queued even when some were paced
// to a later time and younger ones have been due all along.
func TestPacedRowsKeepTheirOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ch := &fakeChannel{name: "pergroup", limits: channel.Limits{PerGroupPerMinute: 60}}
		f := setup(t, db, ch)
		f.o.Batch = 1
		for i := range 4 {
			f.enqueue(t, Item{Channel: "pergroup", IdemKey: fmt.Sprint("k", i), GroupID: 1, Body: "x"})
		}
		f.runOnce(t) // k0 sent
		f.runOnce(t) // k1 paced to a second later; k2 and k3 still due now
		f.clock.Add(2 * time.Second)
		f.drain(t)
		var keys []string
		for _, m := range ch.calls() {
			keys = append(keys, m.IdemKey)
		}
		if fmt.Sprint(keys) != "[k0 k1 k2 k3]" {
			t.Fatalf("sent %v, want the queue's order", keys)
		}
	})
}

// Run wakes when paced rows come due and when a held channel may send
// again, not at the next poll (an hour here).
func TestRunWakesForPacedRows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ch := &fakeChannel{name: "slow", limits: channel.Limits{PerSecond: 4, PerGroupPerMinute: 600}} // a group every 100 ms
		f := setup(t, db, ch)
		f.o.nowFn, f.o.sleep, f.o.Poll, f.o.Nap = time.Now, sleep, time.Hour, 0
		for i := range 6 {
			f.enqueue(t, Item{Channel: "slow", IdemKey: fmt.Sprint("k", i), GroupID: int64(1 + i%2), Body: "x"})
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			f.o.Run(ctx)
			close(done)
		}()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(20 * time.Second)
		for len(ch.calls()) < 6 {
			if time.Now().After(deadline) {
				t.Fatalf("%d of 6 sent: the worker waited for the poll", len(ch.calls()))
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// Two workers (two nodes on PostgreSQL) never send one row twice.
func TestTwoWorkersNeverShareARow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ch := &fakeChannel{name: "fake"}
		f := setup(t, db, ch)
		const rows = 200
		for i := range rows {
			f.enqueue(t, Item{Channel: "fake", IdemKey: fmt.Sprint("k", i), GroupID: int64(i + 1), Body: "x"})
		}
		workers := []*Outbox{f.o, New(db, channel.NewRegistry(ch), f.o.log)}
		workers[1].nowFn = f.clock.Now
		var wg sync.WaitGroup
		for _, w := range workers {
			w.Batch = 10
			wg.Go(func() {
				for {
					n, err := w.RunOnce(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		seen := map[string]int{}
		for _, m := range ch.calls() {
			seen[m.IdemKey]++
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s sent %d times", k, n)
			}
		}
		if len(seen) != rows {
			t.Errorf("%d rows sent, want %d", len(seen), rows)
		}
		if c := f.counts(t); c[Sent] != rows {
			t.Errorf("counts = %v", c)
		}
	})
}

// Run recovers first, sends, and on cancellation returns after recording
// the send in progress.
func TestRun(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stop := make(chan struct{})
		ch := &fakeChannel{name: "fake", caps: channel.Capabilities{IdempotentSend: true}}
		ch.reply = func(n int, m channel.Message) error {
			if n == 3 {
				cancel() // shutdown arrives during the third send
			}
			return nil
		}
		f := setup(t, db, ch)
		f.o.Poll = time.Hour // only wakes and the first pass move it
		for i := range 5 {
			f.enqueue(t, Item{Channel: "fake", IdemKey: fmt.Sprint("k", i), GroupID: 1, Body: "x"})
		}
		db.W.Exec(`UPDATE outbox SET state = 'sending' WHERE idem_key = 'k0'`)
		go func() {
			f.o.Run(ctx)
			close(stop)
		}()
		<-stop
		c := f.counts(t)
		if c[Sent] != 3 || c[Pending] != 2 || c[Sending] != 0 {
			t.Fatalf("after shutdown: %v; want the 3 sent recorded and the 2 unsent handed back", c)
		}
		var attempts int
		db.R.QueryRow(`SELECT COALESCE(SUM(attempts), 0) FROM outbox WHERE state = 'pending'`).Scan(&attempts)
		if attempts != 0 {
			t.Fatalf("handed-back rows spent %d attempts", attempts)
		}
	})
}
