package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/export"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

func TestCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"小美", "小美"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1 我要", "'+1 我要"},
		{"-1+2", "'-1+2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"-12.50", "-12.50"}, // a plain number stays a number
		{"42", "42"},
		{"-", "'-"},
		{"a=b", "a=b"},
	}
	for _, c := range cases {
		if got := export.Cell(c.in); got != c.want {
			t.Errorf("Cell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// shanghai is the brand's zone (UTC+8, no summer time).
var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// at is a fixture instant: 2026-11-<day> hh:mm in Shanghai.
func at(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, shanghai) }

type fixture struct {
	t                testing.TB
	db               *store.DB
	log              *event.Log
	members          *member.Service
	community        *community.Service
	shop             *commerce.Service
	tenant, other    int64
	fan, girl, staff int64
	group            int64
}

func setup(t *testing.T, db *store.DB) *fixture {
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f := &fixture{t: t, db: db, log: log, members: member.NewService(db, log), community: community.NewService(db, log),
		shop: commerce.New(db, log, ob, i18n.MustLoad())}
	f.shop.SetClock(func() time.Time { return at(30, 12, 0) })
	ts := tenant.NewService(db)
	a, err := ts.Create(ctx, tenant.Tenant{Slug: "bloom", Name: "Bloom", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	must(t, err)
	b, err := ts.Create(ctx, tenant.Tenant{Slug: "other", Name: "Other", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	must(t, err)
	st, err := ts.AddStaff(ctx, tenant.Staff{TenantID: a.ID, Email: "op@bloom.test", Name: "Op"}, "password-bloom")
	must(t, err)
	f.tenant, f.other, f.staff = a.ID, b.ID, st.ID

	g, _, err := f.community.CreateGroup(ctx, community.Group{TenantID: a.ID, Channel: webchat.Name, Name: "直播群", Kind: community.Vertical})
	must(t, err)
	f.group = g.ID
	f.fan = f.member(a.ID, `=HYPERLINK("http://evil.example","点我")`, "138 0013 8000", at(1, 10, 0))
	f.girl = f.member(a.ID, "小美", "", at(20, 9, 30))
	must(t, f.members.AddTag(ctx, a.ID, f.fan, "VIP"))
	for _, m := range []int64{f.fan, f.girl} {
		_, err := f.community.Join(ctx, community.JoinRequest{TenantID: a.ID, GroupID: g.ID, MemberID: m, Source: "web", At: at(20, 10, 0)})
		must(t, err)
	}
	f.message(a.ID, g.ID, f.fan, 0, "m1", "+1 我要", at(21, 20, 5))
	f.message(a.ID, g.ID, f.girl, 0, "m2", "@all 好看", at(21, 20, 6))
	f.message(a.ID, g.ID, 0, f.staff, "m3", "今晚八点开播", at(22, 19, 0))
	f.append(&event.Event{TenantID: a.ID, Type: event.Message, Source: event.SourceOutbox, SourceID: "push-1", At: at(22, 20, 0), GroupID: g.ID,
		Data: event.MustData(event.MessageData{Text: "预告：周五上新", SenderName: "Bloom"})})
	hidden := f.message(a.ID, g.ID, f.fan, 0, "m4", "广告 spam", at(22, 19, 1))
	_, err = db.W.Exec(`INSERT INTO hidden_messages (tenant_id, event_id, reason, at) VALUES ($1, $2, 'spam', $3)`,
		a.ID, hidden, store.Millis(at(22, 19, 2)))
	must(t, err)
	_, _, err = f.shop.Record(ctx, commerce.Order{TenantID: a.ID, ExternalID: "=1+1", Source: commerce.FromAPI, Phone: "+86 138 0013 8000",
		AmountMinor: 123_45, Currency: "CNY", PaidAt: at(23, 21, 0),
		Lines: []commerce.Line{{Name: "修护精华", Qty: 2, UnitPriceMinor: 50_00}, {Name: "面膜", Qty: 1, UnitPriceMinor: 23_45}}})
	must(t, err)
	_, _, err = f.shop.Record(ctx, commerce.Order{TenantID: a.ID, ExternalID: "W2", Source: commerce.FromAPI,
		AmountMinor: 9_90, Currency: "CNY", PaidAt: at(10, 8, 0)})
	must(t, err)

	// The other brand: none of it may appear in the first brand's files.
	og, _, err := f.community.CreateGroup(ctx, community.Group{TenantID: b.ID, Channel: webchat.Name, Name: "OTHER-GROUP", Kind: community.Vertical})
	must(t, err)
	ob2 := f.member(b.ID, "OTHER-MEMBER", "139 0000 0000", at(20, 9, 0))
	_, err = f.community.Join(ctx, community.JoinRequest{TenantID: b.ID, GroupID: og.ID, MemberID: ob2, Source: "web", At: at(21, 9, 0)})
	must(t, err)
	f.message(b.ID, og.ID, ob2, 0, "o1", "OTHER-MESSAGE", at(21, 20, 5))
	_, _, err = f.shop.Record(ctx, commerce.Order{TenantID: b.ID, ExternalID: "OTHER-ORDER", Source: commerce.FromAPI, Phone: "139 0000 0000",
		AmountMinor: 1_00, Currency: "CNY", PaidAt: at(23, 21, 0)})
	must(t, err)
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) member(tenantID int64, name, phone string, created time.Time) int64 {
	f.t.Helper()
	m, err := f.members.Create(context.Background(), member.Member{TenantID: tenantID, DisplayName: name, Phone: phone, CreatedAt: created},
		member.Identity{Channel: "web", ExternalID: fmt.Sprintf("%d-%s", tenantID, name)})
	must(f.t, err)
	return m.ID
}

func (f *fixture) message(tenantID, groupID, memberID, staffID int64, sid, text string, when time.Time) int64 {
	f.t.Helper()
	sender := "Bloom 小助理"
	if memberID != 0 {
		m, err := f.members.Get(context.Background(), tenantID, memberID)
		must(f.t, err)
		sender = m.DisplayName
	}
	return f.append(&event.Event{TenantID: tenantID, Type: event.Message, Source: "web", SourceID: sid, At: when, MemberID: memberID,
		GroupID: groupID, StaffID: staffID, Data: event.MustData(event.MessageData{Text: text, SenderName: sender})})
}

func (f *fixture) append(e *event.Event) int64 {
	f.t.Helper()
	_, err := f.log.Append(context.Background(), e)
	must(f.t, err)
	return e.ID
}

// export runs one export and returns its rows (header first) after
// checking the byte order mark.
func (f *fixture) export(kind export.Kind, from, to time.Time) [][]string {
	f.t.Helper()
	var buf bytes.Buffer
	n, err := export.Write(context.Background(), f.db, export.Request{TenantID: f.tenant, Kind: kind, From: from, To: to, Loc: shanghai}, &buf)
	must(f.t, err)
	raw := buf.String()
	if !strings.HasPrefix(raw, "\uFEFF") {
		f.t.Fatalf("%s: no UTF-8 byte order mark: %q", kind, raw[:min(len(raw), 20)])
	}
	if strings.Contains(raw, "OTHER-") {
		f.t.Errorf("%s: the other brand's rows leaked:\n%s", kind, raw)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\uFEFF")))
	rows, err := r.ReadAll()
	must(f.t, err)
	if int64(len(rows)-1) != n {
		f.t.Errorf("%s: Write said %d rows, the file has %d", kind, n, len(rows)-1)
	}
	return rows
}

// col returns the named column of each data row.
func col(t testing.TB, rows [][]string, name string) []string {
	t.Helper()
	for i, h := range rows[0] {
		if h == name {
			var out []string
			for _, r := range rows[1:] {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %q in %v", name, rows[0])
	return nil
}

func eq(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		f := setup(t, db)
		var none time.Time

		m := f.export(export.Members, none, none)
		eq(t, "members header", m[0][:3], "member_id", "display_name", "phone")
		eq(t, "member names", col(t, m, "display_name"), `'=HYPERLINK("http://evil.example","点我")`, "小美")
		eq(t, "member created_at", col(t, m, "created_at"), "2026-11-01T10:00:00+08:00", "2026-11-20T09:30:00+08:00")
		eq(t, "member groups", col(t, m, "groups"), "直播群", "直播群")
		eq(t, "member tags", col(t, m, "tags"), "VIP", "")
		eq(t, "member channels", col(t, m, "channels"), "web", "web")
		// The fan bought order "=1+1" (123.45, matched by phone); W2 matched no one.
		eq(t, "member orders", col(t, m, "orders"), "1", "0")
		eq(t, "member spend", col(t, m, "spend"), "123.45", "0.00")

		// The period is [Nov 15, Nov 30) Shanghai time: the fan came on Nov 1.
		eq(t, "members of the period", col(t, f.export(export.Members, at(15, 0, 0), at(30, 0, 0)), "display_name"), "小美")

		o := f.export(export.Orders, none, none)
		eq(t, "order ids (by payment)", col(t, o, "external_id"), "W2", "'=1+1")
		eq(t, "order amounts", col(t, o, "amount"), "9.90", "123.45")
		eq(t, "order members", col(t, o, "member_name"), "", `'=HYPERLINK("http://evil.example","点我")`)
		eq(t, "order items", col(t, o, "items"), "", "修护精华 ×2; 面膜 ×1")
		eq(t, "order paid_at", col(t, o, "paid_at"), "2026-11-10T08:00:00+08:00", "2026-11-23T21:00:00+08:00")
		eq(t, "orders of the period", col(t, f.export(export.Orders, at(15, 0, 0), none), "external_id"), "'=1+1")

		msg := f.export(export.Messages, none, none)
		eq(t, "message texts (hidden one left out)", col(t, msg, "text"), "'+1 我要", "'@all 好看", "今晚八点开播", "预告：周五上新")
		eq(t, "message senders", col(t, msg, "sender_kind"), "member", "member", "staff", "brand")
		eq(t, "message groups", col(t, msg, "group_name"), "直播群", "直播群", "直播群", "直播群")
		eq(t, "message times", col(t, msg, "at"), "2026-11-21T20:05:00+08:00", "2026-11-21T20:06:00+08:00", "2026-11-22T19:00:00+08:00",
			"2026-11-22T20:00:00+08:00")
		eq(t, "messages of Nov 22", col(t, f.export(export.Messages, at(22, 0, 0), at(23, 0, 0)), "text"), "今晚八点开播", "预告：周五上新")

		ev := f.export(export.Events, none, none)
		types := map[string]int{}
		for _, typ := range col(t, ev, "type") {
			types[typ]++
		}
		// 2 joins, 5 messages (the log keeps the hidden one), 2 orders.
		if types["member_joined"] != 2 || types["message"] != 5 || types["order_paid"] != 2 {
			t.Errorf("event types %v", types)
		}
		for _, d := range col(t, ev, "data") {
			if strings.Contains(d, ": ") {
				t.Errorf("data not compact: %s", d)
			}
		}
	})
}

func TestParseKind(t *testing.T) {
	for _, k := range export.Kinds {
		if got, err := export.ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%s) = %v, %v", k, got, err)
		}
	}
	if _, err := export.ParseKind("staff"); err == nil {
		t.Error("ParseKind(staff) took an unknown kind")
	}
}

// countingWriter counts the writes that reach it.
type countingWriter struct {
	writes int
	bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// A long export reaches the writer while it is read, not in one piece at
// the end (as it would if the rows were gathered first).
func TestExportStreams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		f := setup(t, db)
		var evs []event.Event
		for i := range 1000 {
			evs = append(evs, event.Event{TenantID: f.tenant, Type: event.Message, Source: "web", SourceID: fmt.Sprintf("bulk-%d", i),
				At: at(24, 10, 0).Add(time.Duration(i) * time.Second), GroupID: f.group, MemberID: f.girl,
				Data: event.MustData(event.MessageData{Text: fmt.Sprintf("第 %d 条", i), SenderName: "小美"})})
		}
		_, err := f.log.AppendBatch(context.Background(), evs)
		must(t, err)
		var w countingWriter
		n, err := export.Write(context.Background(), db, export.Request{TenantID: f.tenant, Kind: export.Messages, Loc: shanghai}, &w)
		must(t, err)
		// 4 visible messages of the fixture + 1000; the file is ≈ 60 KB, so
		// it reaches w in many writes, at least one per flushEvery rows.
		if n != 1004 || w.writes < 4 {
			t.Fatalf("%d rows in %d writes", n, w.writes)
		}
	})
}

// OWASP's CSV-injection guidance: a formula character after leading
// whitespace is still a formula to some spreadsheets (they trim the
// cell), so it is escaped too; and a cell holding the other common list
// separator (";", what Excel splits on in many European locales) is
// quoted, so it cannot start a new cell there.
func TestCellLeadingSpaceAndSeparator(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{" =HYPERLINK(\"http://x\")", "' =HYPERLINK(\"http://x\")"},
		{"  +1", "'  +1"},
		{"\u3000@SUM(A1)", "'\u3000@SUM(A1)"}, // the ideographic space CJK text starts with
		{"\u00a0-1+2", "'\u00a0-1+2"},
		{"\n=1+1", "'\n=1+1"},
		{" 42", " 42"}, // a number, spaces or not
		{" -12.50", " -12.50"},
		{" 小美", " 小美"},
	} {
		if got := export.Cell(c.in); got != c.want {
			t.Errorf("Cell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	var b bytes.Buffer
	w, err := export.NewWriter(&b)
	must(t, err)
	must(t, w.Write("好的;=cmd|' /C calc'!A0", "a,b", `say "hi"`, "plain", "line\nbreak", ""))
	must(t, w.Flush())
	want := "\uFEFF" + `"好的;=cmd|' /C calc'!A0","a,b","say ""hi""",plain,"line` + "\r\n" + `break",` + "\r\n"
	if b.String() != want {
		t.Errorf("row written as %q, want %q", b.String(), want)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\uFEFF"))).ReadAll()
	if err != nil || len(rows) != 1 || rows[0][0] != "好的;=cmd|' /C calc'!A0" || rows[0][4] != "line\nbreak" {
		t.Errorf("read back %q, %v", rows, err)
	}
}
