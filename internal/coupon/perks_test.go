package coupon_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func TestPerkDue(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, sh) }
	cases := []struct {
		p    coupon.Perk
		on   time.Time
		want bool
	}{
		{coupon.Perk{Kind: coupon.MemberDay, DayOfMonth: 18, Weekday: -1, Active: true}, day(2026, 3, 18), true},
		{coupon.Perk{Kind: coupon.MemberDay, DayOfMonth: 18, Weekday: -1, Active: true}, day(2026, 3, 17), false},
		{coupon.Perk{Kind: coupon.MemberDay, DayOfMonth: 31, Weekday: -1, Active: true}, day(2026, 2, 28), true},
		{coupon.Perk{Kind: coupon.MemberDay, DayOfMonth: 31, Weekday: -1, Active: true}, day(2026, 3, 30), false},
		{coupon.Perk{Kind: coupon.MemberDay, Weekday: 3, Active: true}, day(2026, 3, 11), true}, // a Wednesday
		{coupon.Perk{Kind: coupon.MemberDay, Weekday: 3, Active: false}, day(2026, 3, 11), false},
		{coupon.Perk{Kind: coupon.Birthday, Weekday: -1, Active: true}, day(2026, 3, 11), true},
	}
	for i, c := range cases {
		if got := c.p.DueOn(c.on); got != c.want {
			t.Errorf("case %d: %v", i, got)
		}
	}
}

// Member day and birthday grant once per day (per year for a birthday)
// however many passes run, and tell the member once.
func TestPerksOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "perks", 4)
		f.svc.Catalog = i18n.MustLoad()
		f.svc.Notifier = &notify.Notifier{Outbox: outbox.New(db, channel.NewRegistry(webchat.New(f.log)), slog.Default())}
		if _, err := db.W.ExecContext(ctx, `INSERT INTO identities (tenant_id, member_id, channel, external_id, created_at) VALUES ($1, $2, 'web', 'w0', 1)`,
			f.tenant, f.members[0]); err != nil {
			t.Fatal(err)
		}
		day := f.batch(t, coupon.Batch{Name: "Member day", Stock: 100, ClosesAt: t0.Add(time.Hour)})
		gift := f.batch(t, coupon.Batch{Name: "Birthday", Kind: coupon.FreeShipping, Stock: 100})
		if _, err := f.svc.CreatePerk(ctx, coupon.Perk{TenantID: f.tenant, Kind: coupon.MemberDay, Name: "会员日", BatchID: day.ID, DayOfMonth: 10, Weekday: -1}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreatePerk(ctx, coupon.Perk{TenantID: f.tenant, Kind: coupon.MemberDay, Name: "both", BatchID: day.ID, DayOfMonth: 10, Weekday: 2}); err == nil {
			t.Fatal("a perk with a day and a weekday was accepted")
		}
		if _, err := f.svc.CreatePerk(ctx, coupon.Perk{TenantID: f.tenant, Kind: coupon.Birthday, Name: "生日礼", BatchID: gift.ID}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetBirthday(ctx, f.tenant, f.members[0], 3, 10); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetBirthday(ctx, f.tenant, f.members[1], 2, 30); err == nil {
			t.Fatal("30 February accepted")
		}
		if err := f.svc.SetBirthday(ctx, f.tenant, f.members[1], 3, 11); err != nil {
			t.Fatal(err)
		}
		for range 2 { // t0 is 10 March in Shanghai; two passes
			if _, err := f.svc.RunPerks(ctx, t0); err != nil {
				t.Fatal(err)
			}
		}
		codes := func(batch int64) int {
			return count(t, db, `SELECT COUNT(*) FROM coupon_codes WHERE batch_id = $1 AND member_id <> 0`, batch)
		}
		if n := codes(day.ID); n != 4 {
			t.Fatalf("member day codes: %d", n)
		}
		if n := codes(gift.ID); n != 1 {
			t.Fatalf("birthday codes: %d", n)
		}
		// The run record lost (a node stopped before writing it): the refs
		// still add nothing.
		if _, err := db.W.ExecContext(ctx, `DELETE FROM coupon_perk_runs WHERE tenant_id = $1`, f.tenant); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunPerks(ctx, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if codes(day.ID) != 4 || codes(gift.ID) != 1 {
			t.Fatalf("rerun added codes: %d %d", codes(day.ID), codes(gift.ID))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND member_id = $2`, f.tenant, f.members[0]); n != 2 {
			t.Fatalf("messages to member 0: %d", n)
		}
		// The next day: member 1's birthday; no member day.
		if _, err := f.svc.RunPerks(ctx, t0.AddDate(0, 0, 1)); err != nil {
			t.Fatal(err)
		}
		if codes(day.ID) != 4 || codes(gift.ID) != 2 {
			t.Fatalf("next day: %d %d", codes(day.ID), codes(gift.ID))
		}
		// Member 0 moves their birthday to the 12th: no second gift this year.
		if err := f.svc.SetBirthday(ctx, f.tenant, f.members[0], 3, 12); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunPerks(ctx, t0.AddDate(0, 0, 2)); err != nil {
			t.Fatal(err)
		}
		if codes(gift.ID) != 2 {
			t.Fatalf("second gift in a year: %d", codes(gift.ID))
		}
		// Next year it comes again.
		if _, err := f.svc.RunPerks(ctx, t0.AddDate(1, 0, 2)); err != nil {
			t.Fatal(err)
		}
		if codes(gift.ID) != 3 {
			t.Fatalf("next year: %d", codes(gift.ID))
		}
	})
}
