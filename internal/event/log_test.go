package event_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/textnorm"
)

func newTenant(t testing.TB, db *store.DB, slug string) int64 {
	t.Helper()
	var id int64
	err := db.W.QueryRowContext(context.Background(), `INSERT INTO tenants (slug, name, created_at) VALUES ($1, $2, 1) RETURNING id`,
		slug, slug).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// recorder is a bus subscriber that keeps what it saw.
type recorder struct {
	mu     sync.Mutex
	events []event.Event
}

func (r *recorder) add(e event.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) sourceIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, e := range r.events {
		ids = append(ids, e.SourceID)
	}
	return ids
}

func newLog(t testing.TB, db *store.DB) (*event.Log, *recorder) {
	bus := event.NewLocalBus()
	rec := &recorder{}
	unsub := bus.Subscribe(rec.add)
	t.Cleanup(unsub)
	return event.NewLog(db, bus), rec
}

func count(t testing.TB, db *store.DB, tenantID int64) int {
	t.Helper()
	var n int
	if err := db.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM events WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func msg(tenantID int64, sourceID, text string) *event.Event {
	return &event.Event{TenantID: tenantID, Type: event.Message, Source: event.SourceWeb, SourceID: sourceID,
		GroupID: 1, MemberID: 1, Data: event.MustData(event.MessageData{Text: text, SenderName: "Ann"})}
}

func TestAppendIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tenant, other := newTenant(t, db, "a"), newTenant(t, db, "b")
		log, rec := newLog(t, db)

		e := msg(tenant, "m-1", "hello")
		at := time.Date(2026, 11, 23, 12, 0, 0, 123_456_789, time.FixedZone("CST", 8*3600))
		e.At = at
		inserted, err := log.Append(ctx, e)
		if err != nil || !inserted || e.ID == 0 {
			t.Fatalf("first Append = %v, %v, id %d; want true, nil, an id", inserted, err, e.ID)
		}
		again := msg(tenant, "m-1", "a different body")
		inserted, err = log.Append(ctx, again)
		if err != nil || inserted || again.ID != 0 {
			t.Fatalf("repeat Append = %v, %v, id %d; want false, nil, 0", inserted, err, again.ID)
		}
		// The same source id from another source, or for another tenant, is another event.
		fromOutbox := msg(tenant, "m-1", "x")
		fromOutbox.Source = event.SourceOutbox
		if ok, err := log.Append(ctx, fromOutbox); err != nil || !ok {
			t.Fatalf("same source id, other source: %v, %v", ok, err)
		}
		if ok, err := log.Append(ctx, msg(other, "m-1", "x")); err != nil || !ok {
			t.Fatalf("same source id, other tenant: %v, %v", ok, err)
		}
		if n := count(t, db, tenant); n != 2 {
			t.Fatalf("tenant has %d events, want 2", n)
		}
		if got, err := log.BySource(ctx, tenant, event.SourceWeb, "m-1"); err != nil || got.ID != e.ID {
			t.Fatalf("BySource = %+v, %v; want the first append", got, err)
		}
		if _, err := log.BySource(ctx, other, event.SourceWeb, "m-2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("BySource(unknown) = %v", err)
		}
		if got, _ := log.BySource(ctx, other, event.SourceWeb, "m-1"); got.TenantID != other {
			t.Fatalf("BySource for another tenant returned %+v", got)
		}
		if rec.len() != 3 {
			t.Fatalf("bus saw %d events, want 3 (no publish for the duplicate)", rec.len())
		}

		got, err := log.GroupMessages(ctx, tenant, 1, 0, 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("GroupMessages = %d, %v", len(got), err)
		}
		first := got[0]
		var data event.MessageData
		if err := first.Decode(&data); err != nil {
			t.Fatal(err)
		}
		if first.ID != e.ID || data.Text != "hello" || first.Source != event.SourceWeb || first.SourceID != "m-1" ||
			first.TenantID != tenant || first.MemberID != 1 || first.GroupID != 1 || first.StaffID != 0 {
			t.Fatalf("stored event %+v (text %q) does not match the first append", first, data.Text)
		}
		if want := at.Truncate(time.Millisecond).UTC(); !first.At.Equal(want) || first.At.Location() != time.UTC {
			t.Fatalf("At = %v, want %v in UTC", first.At, want)
		}
	})
}

func TestAppendRejectsIncompleteEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		tenant := newTenant(t, db, "a")
		log, rec := newLog(t, db)
		for _, e := range []event.Event{
			{Type: event.Message, Source: "web", SourceID: "1"},
			{TenantID: tenant, Source: "web", SourceID: "1"},
			{TenantID: tenant, Type: event.Message, SourceID: "1"},
			{TenantID: tenant, Type: event.Message, Source: "web"},
		} {
			if _, err := log.Append(context.Background(), &e); !errors.Is(err, event.ErrInvalid) {
				t.Errorf("Append(%+v) = %v, want ErrInvalid", e, err)
			}
			if _, err := log.AppendBatch(context.Background(), []event.Event{*msg(tenant, "ok", "x"), e}); !errors.Is(err, event.ErrInvalid) {
				t.Errorf("AppendBatch with %+v = %v, want ErrInvalid", e, err)
			}
		}
		if n := count(t, db, tenant); n != 0 || rec.len() != 0 {
			t.Fatalf("%d events stored, %d published; want none", n, rec.len())
		}
		// Defaults: no time means now, no data means {}.
		e := event.Event{TenantID: tenant, Type: event.MemberLeft, Source: "web", SourceID: "x"}
		before := time.Now().Add(-time.Second)
		if _, err := log.Append(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		if e.At.Before(before) || e.At.After(time.Now().Add(time.Second)) || string(e.Data) != "{}" {
			t.Fatalf("defaults: At %v, Data %s", e.At, e.Data)
		}
	})
}

// Webhook redeliveries arrive at once: 50 deliveries of the same 200 events,
// racing, store each event once and report it new exactly once.
func TestConcurrentDuplicateDeliveries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tenant := newTenant(t, db, "a")
		log, rec := newLog(t, db)
		const workers, ids = 50, 200
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			inserted = map[string]int{}
			errs     []error
		)
		for w := range workers {
			wg.Go(func() {
				order := rand.Perm(ids)
				for _, i := range order {
					sid := fmt.Sprintf("dup-%03d", i)
					ok, err := log.Append(ctx, msg(tenant, sid, fmt.Sprintf("from worker %d", w)))
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else if ok {
						inserted[sid]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, err := range errs[:min(len(errs), 5)] {
			t.Error(err)
		}
		if len(errs) > 0 {
			t.Fatalf("%d appends failed", len(errs))
		}
		if len(inserted) != ids {
			t.Errorf("%d source ids reported new, want %d", len(inserted), ids)
		}
		for sid, n := range inserted {
			if n != 1 {
				t.Errorf("%s reported new %d times", sid, n)
			}
		}
		if n := count(t, db, tenant); n != ids {
			t.Errorf("%d rows stored, want %d", n, ids)
		}
		if rec.len() != ids {
			t.Errorf("%d events published, want %d", rec.len(), ids)
		}
	})
}

// Redelivered batches, racing and in different orders, store each event
// once and do not deadlock each other.
func TestConcurrentDuplicateBatches(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tenant := newTenant(t, db, "a")
		log, rec := newLog(t, db)
		const workers, ids = 16, 300
		var wg sync.WaitGroup
		totals := make([]int, workers)
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				for round := range 3 {
					// Each round a shuffled batch of 100 of the ids.
					order := rand.Perm(ids)[:100]
					batch := make([]event.Event, len(order))
					for i, id := range order {
						batch[i] = *msg(tenant, fmt.Sprintf("b-%03d", id), fmt.Sprintf("w%d r%d", w, round))
					}
					n, err := log.AppendBatch(ctx, batch)
					if err != nil {
						errs[w] = err
						return
					}
					totals[w] += n
				}
			})
		}
		wg.Wait()
		sum := 0
		for w := range workers {
			if errs[w] != nil {
				t.Errorf("worker %d: %v", w, errs[w])
			}
			sum += totals[w]
		}
		stored := count(t, db, tenant)
		if sum != stored || rec.len() != stored {
			t.Errorf("batches reported %d new, %d published, %d stored; want all equal", sum, rec.len(), stored)
		}
		published := rec.sourceIDs()
		slices.Sort(published)
		if len(slices.Compact(published)) != stored {
			t.Errorf("an event was published twice")
		}
	})
}

func TestAppendBatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tenant := newTenant(t, db, "a")
		log, rec := newLog(t, db)
		for _, sid := range []string{"k0", "k1", "k2"} {
			if _, err := log.Append(ctx, msg(tenant, sid, "stored")); err != nil {
				t.Fatal(err)
			}
		}
		batch := []event.Event{
			*msg(tenant, "k0", "dup of stored"),
			*msg(tenant, "k3", "new"),
			*msg(tenant, "k4", "new"),
			*msg(tenant, "k3", "dup within batch"),
			*msg(tenant, "k5", "new"),
			*msg(tenant, "k1", "dup of stored"),
		}
		n, err := log.AppendBatch(ctx, batch)
		if err != nil || n != 3 {
			t.Fatalf("AppendBatch = %d, %v; want 3", n, err)
		}
		for i, wantID := range []bool{false, true, true, false, true, false} {
			if got := batch[i].ID != 0; got != wantID {
				t.Errorf("batch[%d] (%s) ID = %d; want an id: %v", i, batch[i].SourceID, batch[i].ID, wantID)
			}
		}
		if !(batch[1].ID < batch[2].ID && batch[2].ID < batch[4].ID) {
			t.Errorf("ids %d, %d, %d do not follow the batch's order", batch[1].ID, batch[2].ID, batch[4].ID)
		}
		if count(t, db, tenant) != 6 || rec.len() != 6 {
			t.Fatalf("%d stored, %d published; want 6, 6", count(t, db, tenant), rec.len())
		}
		// The stored k3 is the first of the batch, with its id.
		var d event.MessageData
		all, _ := log.GroupMessages(ctx, tenant, 1, 0, 100)
		for _, e := range all {
			if e.SourceID == "k3" {
				e.Decode(&d)
				if d.Text != "new" || e.ID != batch[1].ID {
					t.Fatalf("k3 stored as id %d text %q; want id %d text \"new\"", e.ID, d.Text, batch[1].ID)
				}
			}
		}

		// Larger than one INSERT: 1,234 events, every fourth a repeat of an
		// earlier one (some in an earlier chunk of the same batch).
		big := make([]event.Event, 1234)
		distinct := map[string]bool{}
		for i := range big {
			sid := fmt.Sprintf("big-%d", i)
			if i%4 == 3 {
				sid = fmt.Sprintf("big-%d", max(0, i-3-i%400)) // an earlier one, maybe in an earlier chunk
			}
			distinct[sid] = true
			big[i] = *msg(tenant, sid, "x")
		}
		want := len(distinct)
		if want != 1234-308 {
			t.Fatalf("test data: %d distinct ids", want)
		}
		published := rec.len()
		n, err = log.AppendBatch(ctx, big)
		if err != nil || n != want {
			t.Fatalf("big AppendBatch = %d, %v; want %d", n, err, want)
		}
		// Ids follow the batch's order ("big-10" sorts before "big-2", and
		// the log must not reorder by source id).
		ids := map[int64]bool{}
		var last int64
		for _, e := range big {
			if e.ID != 0 {
				ids[e.ID] = true
				if e.ID <= last {
					t.Fatalf("%s got id %d after id %d", e.SourceID, e.ID, last)
				}
				last = e.ID
			}
		}
		if len(ids) != want || count(t, db, tenant) != 6+want || rec.len()-published != want {
			t.Fatalf("%d distinct ids set, %d stored, %d published; want %d, %d, %d",
				len(ids), count(t, db, tenant), rec.len()-published, want, 6+want, want)
		}
		if n, err := log.AppendBatch(ctx, big); err != nil || n != 0 {
			t.Fatalf("repeating the big batch = %d, %v; want 0", n, err)
		}
		if n, err := log.AppendBatch(ctx, nil); err != nil || n != 0 {
			t.Fatalf("empty batch = %d, %v", n, err)
		}
	})
}

func TestBusPublishesOnlyAfterCommit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tenant := newTenant(t, db, "a")
		log, rec := newLog(t, db)

		err := db.InTx(ctx, func(tx *store.Tx) error {
			if ok, err := log.AppendTx(ctx, tx, msg(tenant, "c-1", "x")); err != nil || !ok {
				return fmt.Errorf("AppendTx = %v, %v", ok, err)
			}
			if _, err := log.AppendBatchTx(ctx, tx, []event.Event{*msg(tenant, "c-2", "x"), *msg(tenant, "c-3", "x")}); err != nil {
				return err
			}
			if rec.len() != 0 {
				t.Error("published before commit")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.sourceIDs(); !slices.Equal(got, []string{"c-1", "c-2", "c-3"}) {
			t.Fatalf("published %v after commit", got)
		}
		for _, e := range rec.events {
			if e.ID == 0 || e.TenantID != tenant {
				t.Fatalf("published event without id or tenant: %+v", e)
			}
		}

		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			log.AppendTx(ctx, tx, msg(tenant, "r-1", "x"))
			log.AppendBatchTx(ctx, tx, []event.Event{*msg(tenant, "r-2", "x")})
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if rec.len() != 3 || count(t, db, tenant) != 3 {
			t.Fatalf("after rollback: %d published, %d stored; want 3, 3", rec.len(), count(t, db, tenant))
		}
		// The rolled-back event can be appended later, as new.
		if ok, err := log.Append(ctx, msg(tenant, "r-1", "x")); err != nil || !ok {
			t.Fatalf("append after rollback = %v, %v", ok, err)
		}
		if ok, _ := log.Append(ctx, msg(tenant, "c-1", "x")); ok {
			t.Fatal("duplicate reported new")
		}
		if n, _ := log.AppendBatch(ctx, []event.Event{*msg(tenant, "c-2", "x")}); n != 0 {
			t.Fatal("duplicate batch reported new")
		}
		if got := rec.sourceIDs(); !slices.Equal(got, []string{"c-1", "c-2", "c-3", "r-1"}) {
			t.Fatalf("published %v", got)
		}

		// A log without a bus appends all the same.
		quiet := event.NewLog(db, nil)
		if ok, err := quiet.Append(ctx, msg(tenant, "q-1", "x")); err != nil || !ok {
			t.Fatalf("Append without bus = %v, %v", ok, err)
		}
	})
}

func TestLocalBusUnsubscribe(t *testing.T) {
	t.Parallel()
	bus := event.NewLocalBus()
	var a, b int
	unsubA := bus.Subscribe(func(event.Event) { a++ })
	bus.Subscribe(func(event.Event) { b++ })
	bus.Publish(context.Background(), event.Event{}, event.Event{})
	unsubA()
	bus.Publish(context.Background(), event.Event{})
	if a != 2 || b != 3 {
		t.Fatalf("a saw %d, b saw %d; want 2, 3", a, b)
	}
}

func TestGroupMessages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tenant := newTenant(t, db, "a")
		log, _ := newLog(t, db)
		var ids []int64
		for i := range 6 {
			e := msg(tenant, fmt.Sprint("g1-", i), fmt.Sprint("text ", i))
			e.GroupID = 10
			if _, err := log.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
			// Other events of the group and messages of another group interleave.
			for _, other := range []event.Event{
				{TenantID: tenant, Type: event.MemberJoined, Source: "web", SourceID: fmt.Sprint("j-", i), GroupID: 10, MemberID: 1},
				*msg(tenant, fmt.Sprint("g2-", i), "other group"),
			} {
				if other.Type == event.Message {
					other.GroupID = 20
				}
				if _, err := log.Append(ctx, &other); err != nil {
					t.Fatal(err)
				}
			}
		}
		texts := func(es []event.Event) []string {
			var out []string
			for _, e := range es {
				if e.Type != event.Message || e.GroupID != 10 {
					t.Errorf("GroupMessages returned %s of group %d", e.Type, e.GroupID)
				}
				var d event.MessageData
				if err := e.Decode(&d); err != nil {
					t.Fatal(err)
				}
				out = append(out, d.Text)
			}
			return out
		}
		latest, err := log.GroupMessages(ctx, tenant, 10, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(latest); !slices.Equal(got, []string{"text 3", "text 4", "text 5"}) {
			t.Errorf("latest 3 = %v, want the last three oldest first", got)
		}
		after, err := log.GroupMessages(ctx, tenant, 10, ids[1], 100)
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(after); !slices.Equal(got, []string{"text 2", "text 3", "text 4", "text 5"}) {
			t.Errorf("after the second = %v", got)
		}
		page, _ := log.GroupMessages(ctx, tenant, 10, ids[1], 2)
		if got := texts(page); !slices.Equal(got, []string{"text 2", "text 3"}) {
			t.Errorf("after the second, limit 2 = %v", got)
		}
		if rest, _ := log.GroupMessages(ctx, tenant, 10, ids[5], 10); len(rest) != 0 {
			t.Errorf("after the last: %d events", len(rest))
		}
		if n, err := log.Count(ctx, tenant, event.Message); err != nil || n != 12 {
			t.Errorf("Count(message) = %d, %v; want 12", n, err)
		}
		if n, _ := log.Count(ctx, tenant, event.MemberJoined); n != 6 {
			t.Errorf("Count(member_joined) = %d, want 6", n)
		}
	})
}

func TestMemberTimeline(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tenant := newTenant(t, db, "a")
		log, _ := newLog(t, db)
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		add := func(sid string, member int64, at time.Time) {
			e := msg(tenant, sid, sid)
			e.MemberID, e.At = member, at
			if _, err := log.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		// Appended out of time order: the timeline orders by time.
		add("m1-late", 1, base.Add(3*time.Hour))
		add("m1-early", 1, base.Add(1*time.Hour))
		add("m2-mid", 2, base.Add(2*time.Hour))
		add("m3", 3, base.Add(4*time.Hour))
		add("m2-same-time-a", 2, base.Add(5*time.Hour))
		add("m2-same-time-b", 2, base.Add(5*time.Hour))

		sids := func(es []event.Event) []string {
			var out []string
			for _, e := range es {
				out = append(out, e.SourceID)
			}
			return out
		}
		got, err := log.MemberTimeline(ctx, tenant, []int64{1, 2}, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"m2-same-time-b", "m2-same-time-a", "m1-late", "m2-mid", "m1-early"}
		if !slices.Equal(sids(got), want) {
			t.Errorf("timeline = %v, want %v", sids(got), want)
		}
		got, _ = log.MemberTimeline(ctx, tenant, []int64{1, 2}, 2)
		if !slices.Equal(sids(got), want[:2]) {
			t.Errorf("timeline limit 2 = %v", sids(got))
		}
		if got, err := log.MemberTimeline(ctx, tenant, nil, 10); err != nil || len(got) != 0 {
			t.Errorf("no members: %v, %v", got, err)
		}
	})
}

// Tenant B's reads never return tenant A's events, even with A's ids.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		a, b := newTenant(t, db, "a"), newTenant(t, db, "b")
		log, _ := newLog(t, db)
		for i := range 5 {
			if _, err := log.Append(ctx, msg(a, fmt.Sprint(i), "secret of a")); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := log.GroupMessages(ctx, b, 1, 0, 100); err != nil || len(got) != 0 {
			t.Errorf("B's GroupMessages (latest) = %d events, %v", len(got), err)
		}
		if got, err := log.GroupMessages(ctx, b, 1, 1, 100); err != nil || len(got) != 0 {
			t.Errorf("B's GroupMessages (after) = %d events, %v", len(got), err)
		}
		if got, err := log.MemberTimeline(ctx, b, []int64{1}, 100); err != nil || len(got) != 0 {
			t.Errorf("B's MemberTimeline = %d events, %v", len(got), err)
		}
		if n, err := log.Count(ctx, b, event.Message); err != nil || n != 0 {
			t.Errorf("B's Count = %d, %v", n, err)
		}
		if got, _ := log.GroupMessages(ctx, a, 1, 0, 100); len(got) != 5 {
			t.Errorf("A's GroupMessages = %d events, want 5", len(got))
		}
	})
}

// Member text from outside passes textnorm.Clean at the edge; what comes
// out of it is stored on both engines (PostgreSQL's jsonb refuses \u0000
// and lone surrogates) and reads back unchanged.
func TestCleanedTextIsStored(t *testing.T) {
	t.Parallel()
	hostile := []string{
		"nul\x00in the middle\x00",
		"lone surrogate \xed\xa0\x80 and \xed\xbf\xbf",
		"invalid \xff\xfe utf-8 \xc3",
		"controls \x01\x1b[31m\x7f and\r\nCRLF",
		`<script>alert(1)</script> {{.Secret}} javascript:alert(1) hx-get="/x" ` + "\u202e RTL",
		"emoji 👍🏽 and 中文 and \\u0000 as text",
		"",
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		tenant := newTenant(t, db, "a")
		log, _ := newLog(t, db)
		var want []string
		for i, raw := range hostile {
			text := textnorm.Clean(raw)
			want = append(want, text)
			e := msg(tenant, fmt.Sprint("h-", i), text)
			e.Data = event.MustData(event.MessageData{Text: text, SenderName: textnorm.Line(raw)})
			if _, err := log.Append(ctx, e); err != nil {
				t.Fatalf("append cleaned %q: %v", raw, err)
			}
		}
		// The batch path too.
		batch := make([]event.Event, len(hostile))
		for i, raw := range hostile {
			batch[i] = *msg(tenant, fmt.Sprint("hb-", i), textnorm.Clean(raw))
		}
		if n, err := log.AppendBatch(ctx, batch); err != nil || n != len(hostile) {
			t.Fatalf("AppendBatch of cleaned text = %d, %v", n, err)
		}
		got, err := log.GroupMessages(ctx, tenant, 1, 0, 100)
		if err != nil || len(got) != 2*len(hostile) {
			t.Fatalf("read back %d, %v", len(got), err)
		}
		for i, e := range got {
			var d event.MessageData
			if err := e.Decode(&d); err != nil {
				t.Fatal(err)
			}
			if w := want[i%len(want)]; d.Text != w {
				t.Errorf("%s: read back %q, want %q", e.SourceID, d.Text, w)
			}
		}
	})
}
