package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// raceFx is a brand with one group and a few members, for the rollup's
// concurrency tests.
type raceFx struct {
	db      *store.DB
	log     *event.Log
	tenant  int64
	group   int64
	members []int64
}

func newRaceFx(t *testing.T, db *store.DB, slug string, members int) *raceFx {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: slug, Name: slug, Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := community.NewService(db, log).CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "web", Name: "G", Kind: "vertical", Capacity: 500})
	if err != nil {
		t.Fatal(err)
	}
	f := &raceFx{db: db, log: log, tenant: tn.ID, group: g.ID}
	ms := member.NewService(db, log)
	for i := range members {
		m, err := ms.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: fmt.Sprint("M", i)},
			member.Identity{Channel: "web", ExternalID: fmt.Sprintf("%s-%d", slug, i)})
		if err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, m.ID)
	}
	return f
}

func count(t *testing.T, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.R.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkAgainstLog compares the rollup's totals with a count of the log.
func checkAgainstLog(t *testing.T, db *store.DB, tenantID int64) {
	t.Helper()
	for _, c := range []struct{ metric, typ string }{{"checkins", "checked_in"}, {"messages", "message"}, {"clicks", "link_clicked"}} {
		got := count(t, db, `SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric = $2`, tenantID, c.metric)
		want := count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2`, tenantID, c.typ)
		if got != want || want == 0 {
			t.Errorf("%s: rolled up %d, the log has %d", c.metric, got, want)
		}
	}
	got := count(t, db, `SELECT COALESCE(SUM(actions), 0) FROM an_member_day WHERE tenant_id = $1`, tenantID)
	want := count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND member_id IS NOT NULL
		AND type IN ('checked_in', 'message', 'link_clicked')`, tenantID)
	if got != want {
		t.Errorf("member actions: rolled up %d, the log has %d", got, want)
	}
	hourly := count(t, db, `SELECT COALESCE(SUM(value), 0) FROM an_hourly WHERE tenant_id = $1 AND metric = 'member_messages'`, tenantID)
	if msgs := count(t, db, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'message'`, tenantID); hourly != msgs {
		t.Errorf("hourly member messages %d, the log has %d", hourly, msgs)
	}
}

// TestRollupNodesRaceWritersAndCrashes: two nodes' rollups pass over the
// log at once while several writers append (with duplicates, and on
// PostgreSQL transactions held open while later ones commit), and a third
// pass is killed at random points (its context cancelled mid-pass): in
// the end every event of the log is counted exactly once.
func TestRollupNodesRaceWritersAndCrashes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newRaceFx(t, db, "race", 6)
		ctx := context.Background()
		base := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
		var writers sync.WaitGroup
		types := []event.Type{event.CheckedIn, event.Message, event.LinkClicked}
		for w := range 4 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				for i := range 120 {
					e := event.Event{TenantID: f.tenant, Type: types[i%3], Source: "web", SourceID: fmt.Sprintf("w%d-%d", w, i),
						At: base.Add(time.Duration(w*1000+i) * time.Minute), MemberID: f.members[(w+i)%len(f.members)], GroupID: f.group}
					if _, err := f.log.Append(ctx, &e); err != nil {
						t.Error(err)
						return
					}
					if i%10 == 0 { // a redelivery: the same source id again
						dup := e
						dup.ID = 0
						if ok, err := f.log.Append(ctx, &dup); err != nil || ok {
							t.Errorf("duplicate stored: %v %v", ok, err)
						}
					}
				}
			}()
		}
		if db.Dialect == store.Postgres {
			writers.Add(1)
			go func() { // transactions that draw their ids first and commit last
				defer writers.Done()
				for i := range 8 {
					tx, err := db.W.BeginTx(ctx, nil)
					if err != nil {
						t.Error(err)
						return
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO events (tenant_id, type, source, source_id, at, member_id, group_id, data)
						VALUES ($1, 'checked_in', 'web', $2, $3, $4, $5, '{}')`, f.tenant, fmt.Sprint("slow-", i),
						store.Millis(base.Add(-time.Duration(i)*24*time.Hour)), f.members[0], f.group); err != nil {
						t.Error(err)
					}
					time.Sleep(30 * time.Millisecond)
					if err := tx.Commit(); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		stop := make(chan struct{})
		var nodes sync.WaitGroup
		for range 2 {
			nodes.Add(1)
			go func() {
				defer nodes.Done()
				r := analytics.NewRollup(db)
				r.Batch = 7
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := r.RunOnce(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		nodes.Add(1)
		go func() { // a node killed mid-pass, again and again
			defer nodes.Done()
			r := analytics.NewRollup(db)
			r.Batch = 5
			for {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithCancel(ctx)
				kill := time.AfterFunc(time.Duration(rand.IntN(3000))*time.Microsecond, cancel)
				if _, err := r.RunOnce(cctx); err != nil && cctx.Err() == nil {
					t.Error(err)
				}
				kill.Stop()
				cancel()
			}
		}()
		writers.Wait()
		close(stop)
		nodes.Wait()
		if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
			t.Fatal(err)
		}
		checkAgainstLog(t, db, f.tenant)
	})
}

// TestRollupSkipsAnEventItCannotFold: one event the rollup cannot fold
// (of a tenant that is not there; on PostgreSQL also one dated so far
// ahead that its day does not fit the day column) is logged and skipped;
// the events before and after it are counted and the rollup carries on
// instead of failing on it every pass for ever.
func TestRollupSkipsAnEventItCannotFold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newRaceFx(t, db, "poison", 1)
		ctx := context.Background()
		day := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC) // 12:00 in Shanghai
		checkin := func(key string, at time.Time) {
			t.Helper()
			if _, err := f.log.Append(ctx, &event.Event{TenantID: f.tenant, Type: event.CheckedIn, Source: "web", SourceID: key,
				At: at, MemberID: f.members[0], GroupID: f.group}); err != nil {
				t.Fatal(err)
			}
		}
		checkin("before", day)
		// A tenant that is not there (the foreign key bypassed, as by a
		// restore of part of a dump).
		if db.Dialect == store.SQLite {
			if _, err := db.W.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.W.ExecContext(ctx, `INSERT INTO events (tenant_id, type, source, source_id, at, data)
				VALUES (9999, 'checked_in', 'web', 'orphan', $1, '{}')`, store.Millis(day)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.W.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err != nil {
				t.Fatal(err)
			}
		} else {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO events (tenant_id, type, source, source_id, at, data)
					VALUES (9999, 'checked_in', 'web', 'orphan', $1, '{}')`, store.Millis(day))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			// Accepted by the log: a date some 100 million years ahead.
			checkin("far", time.UnixMilli(1<<62))
		}
		checkin("after", day.Add(time.Hour))

		r := analytics.NewRollup(db)
		if _, err := r.Catchup(ctx); err != nil {
			t.Fatalf("catch up: %v", err)
		}
		checkin("later", day.Add(2*time.Hour))
		if _, err := r.Catchup(ctx); err != nil {
			t.Fatalf("second catch up: %v", err)
		}
		d := analytics.DayOf(day, shanghai)
		// before, after and later: 3 check-ins on the day.
		if n := count(t, db, `SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric = 'checkins' AND day = $2`,
			f.tenant, int(d)); n != 3 {
			t.Fatalf("check-ins of the day %d, want 3", n)
		}
	})
}

// TestRebuildWhileAPassCommits: on PostgreSQL a rebuild (`liveloop
// analytics rebuild` on one node) that runs while another node's pass is
// between adding its deltas and committing must not keep that pass's rows
// and move the cursor back as well: the replay would count them twice.
// The pass is held at its cursor update by a third transaction holding
// the cursor's row, the rebuild queued behind it.
func TestRebuildWhileAPassCommits(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	f := newRaceFx(t, db, "rebuild", 1)
	ctx := context.Background()
	checkin := func(key string, at time.Time) {
		t.Helper()
		if _, err := f.log.Append(ctx, &event.Event{TenantID: f.tenant, Type: event.CheckedIn, Source: "web", SourceID: key,
			At: at, GroupID: f.group}); err != nil {
			t.Fatal(err)
		}
	}
	d1 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	checkin("a", d1)
	if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
		t.Fatal(err)
	}
	// Two check-ins on the next day: rows the pass inserts (not updates).
	checkin("b", d1.Add(24*time.Hour))
	checkin("c", d1.Add(25*time.Hour))

	hold, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	var holder int64
	if err := hold.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	if _, err := hold.ExecContext(ctx, `SELECT last_id FROM analytics_cursor WHERE name = 'analytics' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	// waiting waits until n sessions wait for the holder, directly or
	// behind a session that does.
	waiting := func(n int64) {
		t.Helper()
		for i := 0; ; i++ {
			if count(t, db, `SELECT COUNT(*) FROM pg_stat_activity a WHERE $1 = ANY(pg_blocking_pids(a.pid))
				OR EXISTS (SELECT 1 FROM pg_stat_activity b WHERE b.pid = ANY(pg_blocking_pids(a.pid)) AND $1 = ANY(pg_blocking_pids(b.pid)))`,
				holder) >= n {
				return
			}
			if i > 3000 {
				t.Fatalf("%d sessions never waited for the cursor", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	errs := make(chan error, 2)
	go func() {
		// The pass reads b and c (once transactions of other sessions
		// that were running when they were written have ended), adds
		// them, and waits at the cursor.
		for {
			n, err := analytics.NewRollup(db).RunOnce(ctx)
			if err != nil || n > 0 {
				errs <- err
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	waiting(1)
	go func() { errs <- analytics.NewRollup(db).Rebuild(ctx) }()
	waiting(2)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
	if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric = 'checkins'`, f.tenant); got != 3 {
		t.Fatalf("check-ins after the rebuild %d, want 3", got)
	}
}

// TestTurnsInTheSameMillisecond: two members' messages with the same
// time (Telegram dates messages to the second) are in the order they
// arrived: the second answers the first, the first answers nothing
// (it did not answer a message that came after it), however the batches
// fall.
func TestTurnsInTheSameMillisecond(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, batch := range []int{1, 2000} {
			f := newRaceFx(t, db, fmt.Sprint("tie", batch), 2)
			ctx := context.Background()
			at := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
			for i, m := range f.members {
				if _, err := f.log.Append(ctx, &event.Event{TenantID: f.tenant, Type: event.Message, Source: "telegram",
					SourceID: fmt.Sprint("tie-", i), At: at, MemberID: m, GroupID: f.group,
					Data: event.MustData(event.MessageData{Text: "hi"})}); err != nil {
					t.Fatal(err)
				}
			}
			r := analytics.NewRollup(db)
			r.Batch = batch
			if _, err := r.Catchup(ctx); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, `SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric = 'to_member'`, f.tenant); n != 1 {
				t.Errorf("batch %d: %d member-to-member answers, want 1", batch, n)
			}
			if n := count(t, db, `SELECT COALESCE(SUM(to_member), 0) FROM an_member_day WHERE tenant_id = $1 AND member_id = $2`,
				f.tenant, f.members[0]); n != 0 {
				t.Errorf("batch %d: the first message answered %d messages, want 0", batch, n)
			}
		}
	})
}

// TestReplyToAnotherTenantsEvent: a reply target is looked up in the
// replying message's tenant only: another brand's message with that id
// does not make the reply an answer to the brand.
func TestReplyToAnotherTenantsEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newRaceFx(t, db, "ta", 1)
		b := newRaceFx(t, db, "tb", 1)
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		other := event.Event{TenantID: b.tenant, Type: event.Message, Source: event.SourceOutbox, SourceID: "brand-b", At: at,
			GroupID: b.group, Data: event.MustData(event.MessageData{Text: "B's post", PersonaID: 3})}
		if _, err := b.log.Append(ctx, &other); err != nil {
			t.Fatal(err)
		}
		if _, err := a.log.Append(ctx, &event.Event{TenantID: a.tenant, Type: event.Message, Source: "web", SourceID: "reply",
			At: at.Add(time.Minute), MemberID: a.members[0], GroupID: a.group,
			Data: event.MustData(event.MessageData{Text: "re", ReplyTo: other.ID})}); err != nil {
			t.Fatal(err)
		}
		if _, err := analytics.NewRollup(db).Catchup(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric IN ('to_brand', 'to_member')`,
			a.tenant); n != 0 {
			t.Fatalf("%d answers in tenant A, want 0", n)
		}
	})
}

// TestOneRollupSharedByGoroutines: the app's rollup is one value its loop
// and callers (a report's catch-up, the demo, tests) use at once; its
// cache of the tenants' zones must bear that (go test -race).
func TestOneRollupSharedByGoroutines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var fs []*raceFx
		for i := range 12 {
			f := newRaceFx(t, db, fmt.Sprint("shared", i), 0)
			if _, err := f.log.Append(ctx, &event.Event{TenantID: f.tenant, Type: event.CheckedIn, Source: "web", SourceID: "c",
				At: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC), GroupID: f.group}); err != nil {
				t.Fatal(err)
			}
			fs = append(fs, f)
		}
		r := analytics.NewRollup(db)
		r.Batch = 1
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Catchup(ctx); err != nil {
					t.Error(err)
				}
				r.ForgetZones()
			}()
		}
		wg.Wait()
		for _, f := range fs {
			if n := count(t, db, `SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE tenant_id = $1 AND metric = 'checkins'`, f.tenant); n != 1 {
				t.Errorf("tenant %d: %d check-ins, want 1", f.tenant, n)
			}
		}
	})
}
