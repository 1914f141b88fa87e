package loyalty_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// Weeks start on Monday 00:00 in the tenant's zone (Sunday 16:00 UTC for
// Asia/Shanghai), months on the 1st; only earned points count; groups filter.
func TestLeaderboard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db, "board", 4)
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		monday := time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
		if u := monday.UTC(); u.Weekday() != time.Sunday || u.Hour() != 16 {
			t.Fatalf("Monday 00:00 in Shanghai is %v", u)
		}
		now := monday.Add(36 * time.Hour)
		add := func(m, pts int64, at time.Time, kind loyalty.Kind, group int64, ref string) {
			t.Helper()
			if _, _, err := f.svc.Award(ctx, loyalty.Entry{TenantID: f.tenant, MemberID: m, Delta: pts, Kind: kind, Ref: ref, At: at, GroupID: group}); err != nil {
				t.Fatal(err)
			}
		}
		a, b, c, d := f.members[0], f.members[1], f.members[2], f.members[3]
		add(a, 100, monday.Add(-time.Millisecond), loyalty.KindCheckIn, 1, "a-sunday") // Sunday 23:59:59.999 local
		add(a, 5, monday, loyalty.KindCheckIn, 1, "a-monday")                          // Monday 00:00 local
		add(b, 7, monday.Add(time.Hour), loyalty.KindDiscussion, 2, "b")
		add(c, 7, monday.Add(2*time.Hour), loyalty.KindWelcome, 1, "c")
		add(c, 50, monday.Add(3*time.Hour), loyalty.KindAdjust, 1, "c-adjust") // not earned
		add(c, 50, monday.Add(3*time.Hour), loyalty.KindRefund, 1, "c-refund") // not earned
		add(d, 500, time.Date(2026, 10, 31, 23, 59, 0, 0, loc), loyalty.KindActivity, 1, "d-october")
		add(d, -400, monday.Add(4*time.Hour), loyalty.KindRedemption, 1, "d-spent") // spending does not lower the rank

		type row struct {
			member, points int64
			pos            int
		}
		check := func(name string, group int64, p loyalty.Period, want []row) {
			t.Helper()
			got, err := f.svc.Leaderboard(ctx, f.tenant, group, p, now, loc, 10)
			if err != nil {
				t.Fatal(err)
			}
			ok := len(got) == len(want)
			for i := 0; ok && i < len(got); i++ {
				ok = got[i].MemberID == want[i].member && got[i].Points == want[i].points && got[i].Position == want[i].pos && got[i].Name != ""
			}
			if !ok {
				t.Errorf("%s: %+v, want %+v", name, got, want)
			}
		}
		// Ties share a position, ordered by member id; the next position skips.
		check("week", 0, loyalty.Week, []row{{b, 7, 1}, {c, 7, 1}, {a, 5, 3}})
		check("month", 0, loyalty.Month, []row{{a, 105, 1}, {b, 7, 2}, {c, 7, 2}})
		check("all", 0, loyalty.AllTime, []row{{d, 500, 1}, {a, 105, 2}, {b, 7, 3}, {c, 7, 3}})
		check("group 1 week", 1, loyalty.Week, []row{{c, 7, 1}, {a, 5, 2}})
		check("group 2 all", 2, loyalty.AllTime, []row{{b, 7, 1}})
		// One millisecond before Monday, Sunday's points are still this week's.
		got, _ := f.svc.Leaderboard(ctx, f.tenant, 0, loyalty.Week, monday.Add(-time.Millisecond), loc, 10)
		if len(got) != 1 || got[0].MemberID != a || got[0].Points != 100 {
			t.Errorf("week before Monday: %+v", got)
		}
		if _, err := f.svc.Leaderboard(ctx, f.tenant, 0, "year", now, loc, 10); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("unknown period: %v", err)
		}
	})
}

func TestPeriodSince(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	for _, c := range []struct {
		now  time.Time
		p    loyalty.Period
		want time.Time
	}{
		{time.Date(2026, 11, 22, 15, 59, 0, 0, time.UTC), loyalty.Week, time.Date(2026, 11, 16, 0, 0, 0, 0, loc)},
		{time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC), loyalty.Week, time.Date(2026, 11, 23, 0, 0, 0, 0, loc)},
		{time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), loyalty.Month, time.Date(2026, 12, 1, 0, 0, 0, 0, loc)},
		{time.Date(2026, 11, 30, 15, 59, 0, 0, time.UTC), loyalty.Month, time.Date(2026, 11, 1, 0, 0, 0, 0, loc)},
		{time.Date(2026, 11, 30, 15, 59, 0, 0, time.UTC), loyalty.AllTime, time.Time{}},
	} {
		if got := c.p.Since(c.now, loc); !got.Equal(c.want) {
			t.Errorf("%s of %v: %v, want %v", c.p, c.now, got, c.want)
		}
	}
	if u := loyalty.Week.Until(time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC), loc); !u.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, loc)) {
		t.Errorf("week until %v", u)
	}
	if u := loyalty.Month.Until(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), loc); !u.Equal(time.Date(2027, 2, 1, 0, 0, 0, 0, loc)) {
		t.Errorf("month until %v", u)
	}
}
