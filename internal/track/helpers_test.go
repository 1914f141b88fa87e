package track_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
	"github.com/liveloop/liveloop/internal/track"
)

const base = "https://ll.test"

// t0 is the fixtures' reference time: 2026-03-02 12:00:05 UTC (five
// seconds into a minute, so +30 s is the same minute and +60 s the next).
var t0 = time.Date(2026, 3, 2, 12, 0, 5, 0, time.UTC)

type fixture struct {
	t        testing.TB
	db       *store.DB
	log      *event.Log
	svc      *track.Service
	commerce *commerce.Service
	members  *member.Service
	tenant   int64
	now      time.Time
}

func setup(t testing.TB, db *store.DB, slug string) *fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: slug, Name: slug, Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, log: log, members: member.NewService(db, log), tenant: tn.ID, now: t0}
	f.svc = track.New(db, log, base)
	f.svc.SetClock(func() time.Time { return f.now })
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.commerce = commerce.New(db, log, ob, i18n.MustLoad())
	f.commerce.SetClock(func() time.Time { return f.now })
	f.commerce.OnOrder = f.svc.AttributeOrderTx
	return f
}

func (f *fixture) member(name, phone string) int64 {
	f.t.Helper()
	m, err := f.members.Create(context.Background(), member.Member{TenantID: f.tenant, DisplayName: name, Phone: phone},
		member.Identity{Channel: "web", ExternalID: fmt.Sprintf("%s-%d", name, time.Now().UnixNano())})
	if err != nil {
		f.t.Fatal(err)
	}
	return m.ID
}

// link stores a link in its own transaction and returns it.
func (f *fixture) link(spec track.Spec) track.Link {
	f.t.Helper()
	var short string
	err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		short, err = f.svc.LinkTx(context.Background(), tx, f.tenant, spec)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return f.resolve(short)
}

func (f *fixture) resolve(short string) track.Link {
	f.t.Helper()
	l, err := f.svc.Resolve(context.Background(), short[len(base+"/t/"):])
	if err != nil {
		f.t.Fatalf("resolve %s: %v", short, err)
	}
	return l
}

// click records a click at at and reports whether it counted.
func (f *fixture) click(l track.Link, memberID int64, visitor string, at time.Time) bool {
	f.t.Helper()
	ok, err := f.svc.Click(context.Background(), l, track.Visit{MemberID: memberID, Visitor: visitor, At: at})
	if err != nil {
		f.t.Fatal(err)
	}
	return ok
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.R.QueryRow(query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// order records a paid order of the member (matched by phone).
func (f *fixture) order(id, phone string, amount int64, paid time.Time) commerce.Order {
	f.t.Helper()
	o, _, err := f.commerce.Record(context.Background(), commerce.Order{TenantID: f.tenant, ExternalID: id, Source: commerce.FromAPI,
		Phone: phone, AmountMinor: amount, PaidAt: paid})
	if err != nil {
		f.t.Fatalf("order %s: %v", id, err)
	}
	return o
}
