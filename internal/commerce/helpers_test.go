package commerce_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
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
)

type fixture struct {
	t       testing.TB
	db      *store.DB
	log     *event.Log
	svc     *commerce.Service
	members *member.Service
	tenant  int64
	now     time.Time
}

// day0 is the fixtures' "now": 2026-03-01 12:00 in Shanghai.
var day0 = time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)

func setup(t testing.TB, db *store.DB, slug string) *fixture {
	t.Helper()
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: slug, Name: slug, Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f := &fixture{t: t, db: db, log: log, members: member.NewService(db, log), tenant: tn.ID, now: day0}
	f.svc = commerce.New(db, log, ob, i18n.MustLoad())
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

// member makes a person with a web identity (so they can be told
// privately) and the given phone and email.
func (f *fixture) member(name, phone, email string) int64 {
	f.t.Helper()
	m, err := f.members.Create(context.Background(), member.Member{TenantID: f.tenant, DisplayName: name, Phone: phone, Email: email},
		member.Identity{Channel: "web", ExternalID: fmt.Sprintf("%s-%d", name, time.Now().UnixNano())})
	if err != nil {
		f.t.Fatal(err)
	}
	return m.ID
}

func (f *fixture) order(o commerce.Order) (commerce.Order, bool) {
	f.t.Helper()
	o.TenantID = f.tenant
	if o.Source == "" {
		o.Source = commerce.FromAPI
	}
	if o.PaidAt.IsZero() {
		o.PaidAt = f.now.Add(-time.Hour)
	}
	got, stored, err := f.svc.Record(context.Background(), o)
	if err != nil {
		f.t.Fatalf("record %s: %v", o.ExternalID, err)
	}
	return got, stored
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.R.QueryRow(query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fixture) stats(memberID int64) commerce.Stats {
	f.t.Helper()
	st, err := f.svc.Stats(context.Background(), f.tenant, memberID)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *fixture) rank(memberID int64) int {
	f.t.Helper()
	r, err := f.svc.TierRank(context.Background(), f.db.R, f.tenant, memberID)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// ladder saves 普通 (0), 银卡 (spend ≥ 500.00 in 365 days, 5 % off) and
// 金卡 (≥ 2000.00, 10 % off, 7 days' early access).
func (f *fixture) ladder() []commerce.Tier {
	f.t.Helper()
	var out []commerce.Tier
	for _, t := range []commerce.Tier{
		{Name: "普通", Rank: 0, Basis: commerce.BasisSpend, WindowDays: 365},
		{Name: "银卡", Rank: 1, Basis: commerce.BasisSpend, Threshold: 500_00, WindowDays: 365, DiscountPct: 5},
		{Name: "金卡", Rank: 2, Basis: commerce.BasisSpend, Threshold: 2000_00, WindowDays: 365, DiscountPct: 10, PresaleDays: 7},
	} {
		t.TenantID = f.tenant
		saved, err := f.svc.SaveTier(context.Background(), t)
		if err != nil {
			f.t.Fatalf("save tier %s: %v", t.Name, err)
		}
		out = append(out, saved)
	}
	return out
}

func stringsContains(s, sub string) bool { return strings.Contains(s, sub) }
