package loyalty_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

type fixture struct {
	db      *store.DB
	log     *event.Log
	svc     *loyalty.Service
	tenant  int64
	members []int64
}

// setup makes a tenant with n members on db.
func setup(t testing.TB, db *store.DB, slug string, n int) fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{db: db, log: log, svc: loyalty.NewService(db, log), tenant: tn.ID}
	ms := member.NewService(db, log)
	for i := range n {
		m, err := ms.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: fmt.Sprintf("m%d", i)},
			member.Identity{Channel: "web", ExternalID: fmt.Sprintf("%s-%d", slug, i)})
		if err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, m.ID)
	}
	return f
}

// award gives a member points of an earning kind, failing the test on error.
func (f fixture) award(t testing.TB, memberID, delta int64, ref string) loyalty.Entry {
	t.Helper()
	e, _, err := f.svc.Award(context.Background(), loyalty.Entry{TenantID: f.tenant, MemberID: memberID, Delta: delta,
		Kind: loyalty.KindActivity, Ref: ref})
	if err != nil {
		t.Fatalf("award %s: %v", ref, err)
	}
	return e
}

func (f fixture) balance(t testing.TB, memberID int64) int64 {
	t.Helper()
	b, err := f.svc.Balance(context.Background(), f.tenant, memberID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// count runs a COUNT/SUM query that returns one integer.
func (f fixture) count(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.R.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// events counts a member's events of one type in the timeline.
func (f fixture) events(t testing.TB, memberID int64, typ event.Type) int {
	t.Helper()
	evs, err := f.log.MemberTimeline(context.Background(), f.tenant, []int64{memberID}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func itoa(v int64) string { return fmt.Sprint(v) }
