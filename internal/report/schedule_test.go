package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func period(from, to string) analytics.Period {
	return analytics.Period{From: mustDay(from), To: mustDay(to)}
}

func TestDueAt(t *testing.T) {
	tests := []struct {
		now         time.Time
		loc         *time.Location
		week, month analytics.Period
		what        string
	}{
		{at(shanghai, "2026-11-23 05:59"), shanghai, period("2026-11-09", "2026-11-16"), period("2026-10-01", "2026-11-01"),
			"Monday before 06:00: last week is not due yet, the one before is"},
		{at(shanghai, "2026-11-23 06:00"), shanghai, period("2026-11-16", "2026-11-23"), period("2026-10-01", "2026-11-01"),
			"Monday 06:00: last week"},
		{at(shanghai, "2026-11-29 23:59"), shanghai, period("2026-11-16", "2026-11-23"), period("2026-10-01", "2026-11-01"),
			"Sunday night: still last week"},
		{at(shanghai, "2026-12-01 05:00"), shanghai, period("2026-11-23", "2026-11-30"), period("2026-10-01", "2026-11-01"),
			"the 1st before 06:00: November is not due yet"},
		{at(shanghai, "2026-12-01 06:00"), shanghai, period("2026-11-23", "2026-11-30"), period("2026-11-01", "2026-12-01"),
			"the 1st 06:00: November"},
		// 22:30 UTC on Sunday is 06:30 on Monday in Shanghai: the brand's day decides.
		{time.Date(2026, 11, 22, 22, 30, 0, 0, time.UTC), shanghai, period("2026-11-16", "2026-11-23"), period("2026-10-01", "2026-11-01"),
			"Shanghai's Monday"},
		{time.Date(2026, 11, 22, 22, 30, 0, 0, time.UTC), time.UTC, period("2026-11-09", "2026-11-16"), period("2026-10-01", "2026-11-01"),
			"UTC's Sunday"},
	}
	for _, tc := range tests {
		due := DueAt(tc.now, tc.loc)
		want := []Due{{Weekly, tc.week}, {Monthly, tc.month}}
		if len(due) != 2 || due[0] != want[0] || due[1] != want[1] {
			t.Errorf("%s: %v, want %v", tc.what, due, want)
		}
	}
}

// fixture is a report service on db whose builder only counts its calls
// and returns a report with two findings.
type fixture struct {
	s      *Service
	db     *store.DB
	builds map[string]int // "<tenant> <kind> <from>" → calls
	now    time.Time
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	log := event.NewLog(db, event.NewLocalBus())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fixture{db: db, builds: map[string]int{}}
	f.s = New(Deps{DB: db, Tenants: tenant.NewService(db), Community: community.NewService(db, log),
		Outbox: outbox.New(db, channel.NewRegistry(webchat.New(log)), logger), Catalog: i18n.MustLoad(),
		PublicURL: "https://shop.example/", Now: func() time.Time { return f.now }})
	f.s.build = func(ctx context.Context, tenantID int64, kind Kind, p analytics.Period) (Report, error) {
		f.builds[fmt.Sprintf("%d %s %s", tenantID, kind, p.From)]++
		r := quiet()
		r.TenantID, r.Kind, r.Period, r.Prev = tenantID, kind, p, p.Previous()
		r.Capacity = []analytics.Advice{{Name: "护肤交流群", Kind: "over_cap", Members: 520, Cap: 500}}
		r.Findings = Findings(r)
		return r, nil
	}
	return f
}

// brand creates a tenant in tz, created at created.
func (f *fixture) brand(t *testing.T, slug, tz string, created time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	b, err := tenant.NewService(f.db).Create(ctx, tenant.Tenant{Slug: slug, Name: "Brand " + slug, Timezone: tz, Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.W.ExecContext(ctx, `UPDATE tenants SET created_at = $2 WHERE id = $1`, b.ID, store.Millis(created)); err != nil {
		t.Fatal(err)
	}
	return b.ID
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.R.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The schedule makes each brand's weekly report once per week and its
// monthly one once per month, in the brand's time zone, never one that
// fell due before the brand existed.
func TestRunDueOncePerPeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		long := at(time.UTC, "2026-01-01 00:00")
		sh := f.brand(t, "shanghai", "Asia/Shanghai", long)
		utc := f.brand(t, "london", "UTC", long)
		late := f.brand(t, "late", "Asia/Shanghai", at(shanghai, "2026-11-23 08:00"))

		pass := func(now time.Time) []Run {
			t.Helper()
			f.now = now
			runs, err := f.s.RunDue(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			return runs
		}
		created := func(runs []Run) []string {
			var out []string
			for _, r := range runs {
				if r.Created {
					out = append(out, fmt.Sprintf("%d %s %s", r.TenantID, r.Kind, r.Period.From))
				}
			}
			return out
		}
		// Sunday 22:30 UTC = Monday 06:30 in Shanghai: Shanghai's last week
		// (16–22 Nov) is due, London's is not (its Monday is tomorrow), so
		// London gets the week before (9–15 Nov); both get October.
		got := created(pass(time.Date(2026, 11, 22, 22, 30, 0, 0, time.UTC)))
		want := []string{
			fmt.Sprintf("%d weekly 2026-11-16", sh), fmt.Sprintf("%d monthly 2026-10-01", sh),
			fmt.Sprintf("%d weekly 2026-11-09", utc), fmt.Sprintf("%d monthly 2026-10-01", utc),
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("first pass made %v, want %v", got, want)
		}
		// Later passes make what fell due since, once.
		key := func(id int64, kind, from string) string { return fmt.Sprintf("%d %s %s", id, kind, from) }
		for _, p := range []struct {
			now  time.Time
			want []string
		}{
			{at(shanghai, "2026-11-23 09:00"), nil}, // 01:00 Monday in London: not 06:00 yet
			{at(shanghai, "2026-11-25 12:00"), []string{key(utc, "weekly", "2026-11-16")}},
			{at(shanghai, "2026-11-30 05:59"), nil},
			// The late brand existed when this week's report fell due.
			{at(shanghai, "2026-11-30 06:01"), []string{key(sh, "weekly", "2026-11-23"), key(late, "weekly", "2026-11-23")}},
			// 22:01 on Monday 30 Nov in London: its week, not its month.
			{at(shanghai, "2026-12-01 06:01"), []string{key(sh, "monthly", "2026-11-01"), key(utc, "weekly", "2026-11-23"),
				key(late, "monthly", "2026-11-01")}},
			{at(shanghai, "2026-12-01 06:06"), nil},
		} {
			if got := created(pass(p.now)); strings.Join(got, "|") != strings.Join(p.want, "|") {
				t.Errorf("pass at %s made %v, want %v", p.now, got, p.want)
			}
		}
		for key, n := range f.builds {
			if n != 1 {
				t.Errorf("%s built %d times", key, n)
			}
		}
		for id, want := range map[int64]int{sh: 4, utc: 4, late: 2} {
			if n := f.count(t, `SELECT COUNT(*) FROM reports WHERE tenant_id = $1`, id); n != want {
				t.Errorf("brand %d has %d reports, want %d", id, n, want)
			}
		}
	})
}
