package report

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// The history keeps one weekly or monthly report per period and every
// custom one; a brand sees only its own.
func TestHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.now = at(shanghai, "2026-11-24 10:00")
		a := f.brand(t, "alpha", "Asia/Shanghai", at(time.UTC, "2026-01-01 00:00"))
		b := f.brand(t, "beta", "Asia/Shanghai", at(time.UTC, "2026-01-01 00:00"))
		staff, err := tenant.NewService(db).AddStaff(ctx, tenant.Staff{TenantID: a, Email: "op@alpha.test", Name: "op"}, "password-alpha")
		if err != nil {
			t.Fatal(err)
		}
		w1, created, err := f.s.Generate(ctx, a, Weekly, week, staff.ID)
		if err != nil || !created {
			t.Fatalf("weekly: %v %v", created, err)
		}
		w2, created, err := f.s.Generate(ctx, a, Weekly, week, 0)
		if err != nil || created || w2.ID != w1.ID {
			t.Fatalf("weekly again: id %d (first %d) created %v %v", w2.ID, w1.ID, created, err)
		}
		if !reflect.DeepEqual(w2.Report.Findings, w1.Report.Findings) || w2.CreatedBy != staff.ID {
			t.Fatalf("weekly again: the stored report without its data: %+v", w2)
		}
		custom := period("2026-11-17", "2026-11-20")
		c1, _, err := f.s.Generate(ctx, a, Custom, custom, staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		c2, created, err := f.s.Generate(ctx, a, Custom, custom, staff.ID)
		if err != nil || !created || c2.ID == c1.ID {
			t.Fatalf("a custom report is made each time it is asked for: %d %d %v %v", c1.ID, c2.ID, created, err)
		}
		if n := f.builds[fmt.Sprintf("%d weekly %s", a, week.From)]; n != 1 {
			t.Errorf("the weekly report was built %d times", n)
		}
		for _, bad := range []struct {
			kind Kind
			p    analytics.Period
		}{
			{Weekly, period("2026-11-17", "2026-11-24")},  // not Monday to Sunday
			{Monthly, period("2026-11-01", "2026-11-30")}, // not the whole month
			{Custom, period("2026-11-17", "2026-11-17")},  // no day
			{Custom, period("2025-01-01", "2026-11-17")},  // over MaxDays
		} {
			if _, _, err := f.s.Generate(ctx, a, bad.kind, bad.p, 0); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s %v: %v, want invalid", bad.kind, bad.p, err)
			}
		}

		list, err := f.s.List(ctx, a, 10)
		if err != nil || len(list) != 3 || list[0].ID != c2.ID || list[2].ID != w1.ID {
			t.Fatalf("history %+v %v, want newest first", list, err)
		}
		if list[2].CreatedBy != staff.ID || list[2].Kind != Weekly || list[2].Period != week || !list[2].SentAt.IsZero() {
			t.Errorf("stored %+v", list[2])
		}
		got, err := f.s.Get(ctx, a, w1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Report.Findings, w1.Report.Findings) || got.Report.Period != week || len(got.Report.Metrics) != len(w1.Report.Metrics) {
			t.Errorf("the stored report differs: %+v", got.Report.Findings)
		}
		if _, err := f.s.Get(ctx, b, w1.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another brand reads the report: %v", err)
		}
		if list, _ := f.s.List(ctx, b, 10); len(list) != 0 {
			t.Errorf("another brand lists %d reports", len(list))
		}
	})
}

// A report is sent to the brand's staff group once: the outbox key
// report:<id>:<group>, with its title, top three findings and link.
func TestSendOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.now = at(shanghai, "2026-11-23 07:00")
		a := f.brand(t, "alpha", "Asia/Shanghai", at(time.UTC, "2026-01-01 00:00"))
		b := f.brand(t, "beta", "Asia/Shanghai", at(time.UTC, "2026-01-01 00:00"))
		cs := community.NewService(db, event.NewLog(db, event.NewLocalBus()))
		staffGroup, _, err := cs.CreateGroup(ctx, community.Group{TenantID: a, Channel: webchat.Name, Name: "运营内部群", Kind: community.Vertical})
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := cs.CreateGroup(ctx, community.Group{TenantID: b, Channel: webchat.Name, Name: "B", Kind: community.Vertical})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.SaveSettings(ctx, a, Settings{SendGroupID: other.ID}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("another brand's group: %v", err)
		}
		if err := f.s.SaveSettings(ctx, a, Settings{SendGroupID: staffGroup.ID, Locale: "klingon"}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("an unknown language: %v", err)
		}
		if err := f.s.SaveSettings(ctx, a, Settings{SendGroupID: staffGroup.ID}); err != nil {
			t.Fatal(err)
		}
		if set, err := f.s.Settings(ctx, a); err != nil || set.SendGroupID != staffGroup.ID || set.Locale != "" {
			t.Fatalf("settings %+v %v", set, err)
		}

		outbox := func() []string {
			t.Helper()
			rows, err := db.R.QueryContext(ctx, `SELECT idem_key, body FROM outbox WHERE tenant_id = $1 ORDER BY id`, a)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var k, body string
				rows.Scan(&k, &body)
				out = append(out, k+"\n"+body)
			}
			return out
		}
		runs, err := f.s.RunDue(ctx, f.now)
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, r := range runs {
			if r.TenantID == a && r.Sent {
				sent++
			}
			if r.TenantID == b && r.Sent {
				t.Errorf("brand b has no send group but sent %+v", r)
			}
		}
		if sent != 2 || len(outbox()) != 2 {
			t.Fatalf("sent %d, outbox %q: want the weekly and the monthly report", sent, outbox())
		}
		// Again: nothing more.
		if runs, err := f.s.RunDue(ctx, f.now.Add(5*time.Minute)); err != nil || len(outbox()) != 2 {
			t.Fatalf("second pass: %+v %v, outbox %d", runs, err, len(outbox()))
		}
		weekly, err := f.s.find(ctx, a, Weekly, mustDay("2026-11-16"))
		if err != nil || weekly.SentAt.IsZero() {
			t.Fatalf("weekly %+v %v: not marked sent", weekly, err)
		}
		weekly, _ = f.s.Get(ctx, a, weekly.ID)
		if again, err := f.s.Send(ctx, a, weekly.ID, staffGroup.ID); err != nil || again {
			t.Fatalf("a report is sent to a group once: %v %v", again, err)
		}
		msgs := outbox()
		key := fmt.Sprintf("report:%d:%d\n", weekly.ID, staffGroup.ID)
		var body string
		for _, m := range msgs {
			if strings.HasPrefix(m, key) {
				body = strings.TrimPrefix(m, key)
			}
		}
		cat := f.s.Catalog()
		want := []string{"Weekly review 2026-11-16 – 2026-11-22", "1. " + weekly.Report.Findings[0].Text(cat, "en"),
			"2. " + weekly.Report.Findings[1].Text(cat, "en"), fmt.Sprintf("Full report: https://shop.example/console/reports/%d", weekly.ID)}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("message %q lacks %q", body, w)
			}
		}
		if strings.Contains(body, "3. ") {
			t.Errorf("message %q has a third finding the report does not have", body)
		}

		// In the settings' language, to another group of the brand: a message of its own.
		second, _, err := cs.CreateGroup(ctx, community.Group{TenantID: a, Channel: webchat.Name, Name: "店长群", Kind: community.VIP})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.SaveSettings(ctx, a, Settings{SendGroupID: second.ID, Locale: "zh-TW"}); err != nil {
			t.Fatal(err)
		}
		if ok, err := f.s.Send(ctx, a, weekly.ID, second.ID); err != nil || !ok {
			t.Fatalf("send to a second group: %v %v", ok, err)
		}
		last := outbox()[len(outbox())-1]
		if !strings.HasPrefix(last, fmt.Sprintf("report:%d:%d\n週復盤 2026-11-16 – 2026-11-22\n", weekly.ID, second.ID)) {
			t.Errorf("zh-TW message %q", last)
		}
		if _, err := f.s.Send(ctx, a, weekly.ID, other.ID); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("sent to another brand's group: %v", err)
		}
		if _, err := f.s.Send(ctx, b, weekly.ID, other.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another brand sent the report: %v", err)
		}
	})
}
