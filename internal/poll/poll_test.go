package poll_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

type fixture struct {
	db      *store.DB
	svc     *poll.Service
	tenant  int64
	group   int64
	members []int64
}

// setup makes a tenant with a web group of n members.
func setup(t *testing.T, db *store.DB, n int) fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "polls", Name: "polls"})
	if err != nil {
		t.Fatal(err)
	}
	cs := community.NewService(db, log)
	g, _, err := cs.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "web", Name: "g", Kind: community.Vertical, Capacity: 1000})
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{db: db, svc: poll.New(db, log), tenant: tn.ID, group: g.ID}
	ms := member.NewService(db, log)
	for i := range n {
		m, err := ms.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: fmt.Sprintf("m%d", i)},
			member.Identity{Channel: "web", ExternalID: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Join(ctx, community.JoinRequest{TenantID: tn.ID, GroupID: g.ID, MemberID: m.ID, Source: "web"}); err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, m.ID)
	}
	return f
}

func (f fixture) create(t *testing.T, p poll.Poll) poll.Poll {
	t.Helper()
	p.TenantID, p.GroupID = f.tenant, f.group
	if p.ClosesAt.IsZero() {
		p.ClosesAt = time.Now().Add(time.Hour)
	}
	var out poll.Poll
	err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = f.svc.CreateTx(context.Background(), tx, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidate(t *testing.T) {
	now := time.Now()
	ok := poll.Poll{Kind: poll.KindPoll, GroupID: 1, Question: "哪个色号？", Options: []string{"a", "b"}, ClosesAt: now.Add(time.Hour)}
	if err := poll.Validate(ok, now); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		change func(*poll.Poll)
		want   string
	}{
		"no question":    {func(p *poll.Poll) { p.Question = " " }, "write the question"},
		"one option":     {func(p *poll.Poll) { p.Options = []string{"a"} }, "2 to 10 options"},
		"eleven options": {func(p *poll.Poll) { p.Options = strings.Split("abcdefghijk", "") }, "2 to 10 options"},
		"repeated":       {func(p *poll.Poll) { p.Options = []string{"Rose", "rose"} }, "option 2 repeats"},
		"past":           {func(p *poll.Poll) { p.ClosesAt = now.Add(-time.Minute) }, "in the future"},
		"too far":        {func(p *poll.Poll) { p.ClosesAt = now.Add(31 * 24 * time.Hour) }, "30 days"},
		"prompt no tag":  {func(p *poll.Poll) { p.Kind = poll.KindPrompt }, "set the tag"},
		"prompt tag sp":  {func(p *poll.Poll) { p.Kind, p.Tag = poll.KindPrompt, "# 晒单" }, "one word"},
		"negative pts":   {func(p *poll.Poll) { p.Kind, p.Tag, p.Points = poll.KindPrompt, "#晒单", -1 }, "points"},
		"unknown kind":   {func(p *poll.Poll) { p.Kind = "quiz" }, "unknown kind"},
		"no group":       {func(p *poll.Poll) { p.GroupID = 0 }, "choose a group"},
	} {
		p := ok
		p.Options = append([]string(nil), ok.Options...)
		c.change(&p)
		err := poll.Validate(p, now)
		if !errors.Is(err, poll.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestVotes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 3)
		p := f.create(t, poll.Poll{Kind: poll.KindPoll, Question: "q", Options: []string{"a", "b", "c"}})
		vote := func(m int64, choice int, src string) error {
			_, err := f.svc.Vote(ctx, f.tenant, p.ID, m, choice, "web", src)
			return err
		}
		if err := vote(f.members[0], 1, "a"); err != nil {
			t.Fatal(err)
		}
		if err := vote(f.members[1], 1, "b"); err != nil {
			t.Fatal(err)
		}
		if err := vote(f.members[0], 3, "c"); err != nil { // changed
			t.Fatal(err)
		}
		if err := vote(f.members[0], 1, "c"); err != nil { // a redelivery of "c": nothing changes
			t.Fatal(err)
		}
		for _, bad := range []int{0, 4} {
			if err := vote(f.members[2], bad, fmt.Sprint("bad", bad)); !errors.Is(err, poll.ErrInvalid) {
				t.Fatalf("choice %d: %v", bad, err)
			}
		}
		res, err := f.svc.Tally(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.Counts) != "[1 0 1]" || res.Total != 2 || res.Percent(0) != 50 {
			t.Fatalf("tally %v total %d", res.Counts, res.Total)
		}
		if c, _ := f.svc.Choice(ctx, p, f.members[0]); c != 3 {
			t.Fatalf("choice %d", c)
		}
		// Another tenant's id, a stranger, a prompt: refused.
		if _, err := f.svc.Vote(ctx, f.tenant+1, p.ID, f.members[2], 1, "web", "x1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other tenant: %v", err)
		}
		stranger := f.members[2]
		if _, err := db.W.ExecContext(ctx, `UPDATE group_members SET left_at = 1 WHERE member_id = $1`, stranger); err != nil {
			t.Fatal(err)
		}
		if err := vote(stranger, 1, "x2"); !errors.Is(err, poll.ErrNotMember) {
			t.Fatalf("left member: %v", err)
		}
		// Closing: once, with the final tally; no votes after.
		var done [2]bool
		for i := range done {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				r, ok, err := f.svc.CloseTx(ctx, tx, p, time.Now())
				if ok && r.Total != 2 {
					t.Errorf("final tally %d", r.Total)
				}
				done[i] = ok
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !done[0] || done[1] {
			t.Fatalf("closed twice or never: %v", done)
		}
		if err := vote(f.members[1], 2, "late"); !errors.Is(err, poll.ErrClosed) {
			t.Fatalf("late vote: %v", err)
		}
	})
}

// Many members voting at once, each a few times: the tally is exact.
func TestConcurrentVotes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 40)
		p := f.create(t, poll.Poll{Kind: poll.KindPoll, Question: "q", Options: []string{"a", "b"}})
		var wg sync.WaitGroup
		errs := make(chan error, len(f.members)*3)
		for i, m := range f.members {
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Each member's last word is option (i%2)+1; the earlier tries
					// are the same vote redelivered.
					_, err := f.svc.Vote(ctx, f.tenant, p.ID, m, i%2+1, "web", fmt.Sprintf("m%d", m))
					errs <- err
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		res, err := f.svc.Tally(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.Counts) != "[20 20]" {
			t.Fatalf("tally %v", res.Counts)
		}
		var events int
		db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE type = 'poll_voted' AND tenant_id = $1`, f.tenant).Scan(&events)
		if events != 40 {
			t.Fatalf("%d vote events, want 40 (redeliveries stored once)", events)
		}
	})
}

func TestEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, 2)
		p := f.create(t, poll.Poll{Kind: poll.KindPrompt, Question: "晒单", Tag: "#晒单", Points: 5})
		entry := func(m, ev int64) (bool, bool) {
			var stored, first bool
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				stored, first, err = f.svc.EntryTx(ctx, tx, p, m, ev, "#晒单 <b>到了</b>\x00", time.Now())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return stored, first
		}
		for i, c := range []struct {
			m, ev         int64
			stored, first bool
		}{{f.members[0], 100, true, true}, {f.members[0], 100, false, false}, {f.members[0], 101, true, false}, {f.members[1], 102, true, true}} {
			if s, fi := entry(c.m, c.ev); s != c.stored || fi != c.first {
				t.Fatalf("entry %d: stored %v first %v", i, s, fi)
			}
		}
		res, _ := f.svc.Tally(ctx, p)
		if res.Total != 3 || res.Members != 2 {
			t.Fatalf("tally %+v", res)
		}
		es, err := f.svc.Entries(ctx, p, 10)
		if err != nil || len(es) != 3 || strings.ContainsRune(es[0].Text, 0) {
			t.Fatalf("entries %+v %v", es, err)
		}
	})
}
