package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/tenant"
)

// csvOf checks a CSV download (status, type, byte order mark) and returns
// its rows, header first.
func csvOf(t *testing.T, r apptest.Response) [][]string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %.300s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment; filename=") {
		t.Fatalf("content disposition %q", r.Header.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(r.Body, "\uFEFF") {
		t.Fatalf("no byte order mark: %.40q", r.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%.300s", err, r.Body)
	}
	return rows
}

// column is the named column of rows' data rows.
func column(t *testing.T, rows [][]string, name string) []string {
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
	t.Fatalf("no column %q in %q", name, rows[0])
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// brandWithRole is b with a second staff account of the role, logged in.
func brandWithRole(t *testing.T, e *apptest.Env, b apptest.Brand, role tenant.Role) *apptest.Client {
	t.Helper()
	pw := "password-" + string(role) + "-" + b.Tenant.Slug
	st, err := e.App.Tenants.AddStaff(context.Background(), tenant.Staff{TenantID: b.Tenant.ID, Email: string(role) + "@" + b.Tenant.Slug + ".test",
		Name: string(role), Role: role}, pw)
	if err != nil {
		t.Fatal(err)
	}
	b.Staff, b.Password = st, pw
	c := e.Client()
	c.Login(b)
	return c
}

// The data exports over HTTP: every kind is a UTF-8 CSV with a byte order
// mark and its header, member text that looks like a formula is escaped,
// the other brand's rows never appear, a period narrows the rows, bad
// input is refused, and a host may not export.
func TestDataExports(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		a, b := e.Brand("alpha"), e.Brand("beta")
		fan := e.Client()
		fan.Join(a.JoinCode.Code, `=HYPERLINK("http://evil.example","x")`)
		e.Client().Join(b.JoinCode.Code, "BETA-MEMBER")
		var fanID int64
		if err := e.App.DB.R.QueryRow(`SELECT id FROM members WHERE tenant_id = $1`, a.Tenant.ID).Scan(&fanID); err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			tenant, group, member int64
			sid, text             string
		}{{a.Tenant.ID, a.Group.ID, fanID, "x1", "+1 要两份"}, {b.Tenant.ID, b.Group.ID, 0, "x2", "BETA-MESSAGE"}} {
			_, err := e.App.Log.Append(ctx, &event.Event{TenantID: m.tenant, Type: event.Message, Source: "web", SourceID: m.sid,
				At: time.Now(), MemberID: m.member, GroupID: m.group, Data: event.MustData(event.MessageData{Text: m.text, SenderName: "s"})})
			if err != nil {
				t.Fatal(err)
			}
		}
		paid := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // 20:00 in Shanghai
		for _, o := range []commerce.Order{
			{TenantID: a.Tenant.ID, ExternalID: "@SUM(1)", Source: commerce.FromAPI, AmountMinor: 88_00, Currency: "CNY", PaidAt: paid},
			{TenantID: b.Tenant.ID, ExternalID: "BETA-ORDER", Source: commerce.FromAPI, AmountMinor: 1_00, Currency: "CNY", PaidAt: paid},
		} {
			if _, _, err := e.App.Commerce.Record(ctx, o); err != nil {
				t.Fatal(err)
			}
		}

		op := e.Client()
		op.Login(a)
		must(t, op.Get("/console/exports"), 200, `data-export="members"`, `data-export="messages"`)
		files := map[string][][]string{}
		for _, kind := range []string{"members", "orders", "events", "messages"} {
			r := op.Get("/console/exports/" + kind + ".csv")
			if strings.Contains(r.Body, "BETA") {
				t.Errorf("%s export of alpha holds beta's rows:\n%s", kind, r.Body)
			}
			files[kind] = csvOf(t, r)
		}
		if names := column(t, files["members"], "display_name"); len(names) != 1 || names[0] != `'=HYPERLINK("http://evil.example","x")` {
			t.Errorf("member names %q: want the one member, escaped", names)
		}
		if texts := column(t, files["messages"], "text"); len(texts) != 1 || texts[0] != "'+1 要两份" {
			t.Errorf("message texts %q", texts)
		}
		if ids := column(t, files["orders"], "external_id"); len(ids) != 1 || ids[0] != "'@SUM(1)" {
			t.Errorf("order ids %q", ids)
		}
		if at := column(t, files["orders"], "paid_at"); len(at) != 1 || at[0] != "2026-03-10T20:00:00+08:00" {
			t.Errorf("paid_at %q: want the brand's time with its offset", at)
		}
		if types := column(t, files["events"], "type"); !contains(types, "member_joined") || !contains(types, "message") || !contains(types, "order_paid") {
			t.Errorf("event types %q", types)
		}

		// The order was paid on March 10 (Shanghai): a period without it has the header only.
		if rows := csvOf(t, op.Get("/console/exports/orders.csv?from=2026-03-11&to=2026-03-31")); len(rows) != 1 {
			t.Errorf("orders after March 10: %q", rows)
		}
		if rows := csvOf(t, op.Get("/console/exports/orders.csv?from=2026-03-10&to=2026-03-10")); len(rows) != 2 {
			t.Errorf("orders of March 10: %q", rows)
		}
		must(t, op.Get("/console/exports/orders.csv?from=tomorrow"), http.StatusBadRequest)
		must(t, op.Get("/console/exports/orders.csv?from=2026-03-11&to=2026-03-01"), http.StatusBadRequest)
		must(t, op.Get("/console/exports/staff.csv"), http.StatusNotFound)
		must(t, op.Get("/console/exports/members"), http.StatusNotFound)

		host := brandWithRole(t, e, a, tenant.Host)
		must(t, host.Get("/console/exports/members.csv"), http.StatusForbidden)
		must(t, host.Get("/console/analytics"), http.StatusForbidden)
		must(t, host.Get("/console/analytics/export/overview.csv"), http.StatusForbidden)
		if r := host.Get("/console"); strings.Contains(r.Body, `href="/console/analytics"`) {
			t.Error("a host's navigation links to the dashboard")
		}
		analyst := brandWithRole(t, e, a, tenant.Analyst)
		must(t, analyst.Get("/console/analytics"), 200, `data-section="overview"`)
		csvOf(t, analyst.Get("/console/exports/members.csv"))
		must(t, e.Client().Get("/console/exports/members.csv"), http.StatusSeeOther)
	})
}

// dashData is the dashboard's chart data block, parsed.
func dashData(t *testing.T, body string) map[string]json.RawMessage {
	t.Helper()
	const open = `<script type="application/json" id="dash-data">`
	i := strings.Index(body, open)
	if i < 0 {
		t.Fatalf("no chart data block")
	}
	rest := body[i+len(open):]
	j := strings.Index(rest, "</script>")
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rest[:j]), &m); err != nil {
		t.Fatalf("chart data is not JSON: %v\n%.300s", err, rest[:j])
	}
	return m
}

// notANumber lists the ways a broken number shows on a page.
var notANumber = []string{"NaN", "undefined", "Infinity", "+Inf", "%!"}

// A period without data renders 200 with empty states (no error, no NaN),
// every section's CSV answers with its header, and a bad period falls
// back to the default with a notice.
func TestDashboardEmptyPeriod(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		a := e.Brand("quiet")
		e.Brand("noisy")
		op := e.Client()
		op.Login(a)
		q := "?preset=custom&from=2001-01-01&to=2001-01-31"
		r := op.Get("/console/analytics" + q)
		must(t, r, 200, `data-section="overview"`, `data-empty`, `href="/console/analytics/export/trend.csv?`, "2001-01-01")
		for _, bad := range notANumber {
			if strings.Contains(r.Body, bad) {
				t.Errorf("the empty dashboard shows %q", bad)
			}
		}
		for _, part := range strings.Split(r.Body, "<section ")[1:] {
			if strings.Contains(part, "data-unavailable") {
				t.Errorf("section %s is unavailable", between(part, `data-section="`, `"`))
			}
		}
		if strings.Contains(r.Body, `data-chart="trend"`) {
			t.Error("an empty trend drew a chart instead of the empty state")
		}
		dashData(t, r.Body)
		for _, sec := range []string{"overview", "trend", "funnel", "cohorts", "sendtime", "sources", "attribution", "health", "capacity", "content"} {
			res := op.Get("/console/analytics/export/" + sec + ".csv" + q)
			if res.Status != http.StatusOK {
				t.Errorf("%s.csv: status %d", sec, res.Status)
				continue
			}
			rows := csvOf(t, res)
			if len(rows) == 0 || len(rows[0]) < 2 {
				t.Errorf("%s.csv: no header: %q", sec, rows)
			}
			for _, row := range rows {
				for _, cell := range row {
					for _, bad := range notANumber {
						if strings.Contains(cell, bad) {
							t.Errorf("%s.csv has %q: %q", sec, bad, row)
						}
					}
				}
			}
			if sec == "health" && strings.Contains(strings.Join(column(t, rows, "group"), ","), "noisy") {
				t.Errorf("health.csv lists the other brand's group: %q", rows)
			}
		}
		// 31 days of January 2001, each a row of zeros or gaps.
		if rows := csvOf(t, op.Get("/console/analytics/export/trend.csv"+q)); len(rows) != 32 || rows[1][0] != "2001-01-01" {
			t.Errorf("trend.csv: %d rows, first %q", len(rows), rows[1:2])
		}
		must(t, op.Get("/console/analytics?preset=custom&from=2001-02-01&to=2001-01-01"), 200, "data-problem")
		must(t, op.Get("/console/analytics?preset=custom&from=nope"), 200, "data-problem")
		must(t, op.Get("/console/analytics?preset=bogus&group=999999&channel=fax&metric=nope&live=-3"), 200, "data-problem")
		must(t, op.Get("/console/analytics/export/secrets.csv"), http.StatusNotFound)
		must(t, op.Get("/console/analytics/export/trend"), http.StatusNotFound)
	})
}
