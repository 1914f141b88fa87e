package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/tenant"
)

// generateReport asks for a custom report of the last seven days and
// returns its id.
func generateReport(t *testing.T, op *apptest.Client, b apptest.Brand) int64 {
	t.Helper()
	today := time.Now().In(b.Tenant.Location())
	r := op.PostForm("/console/reports", url.Values{"kind": {"custom"},
		"from": {today.AddDate(0, 0, -6).Format(time.DateOnly)}, "to": {today.Format(time.DateOnly)}})
	var id int64
	fmt.Sscanf(r.Header.Get("Location"), "/console/reports/%d", &id)
	if r.Status != http.StatusSeeOther || id == 0 {
		t.Fatalf("generate: %d %q %.500s", r.Status, r.Header.Get("Location"), r.Body)
	}
	return id
}

// The console's reports: generate now, the history, one report (member
// and group text escaped), the standalone download, the settings and
// sending to the staff group — and refusals: bad periods, other brands,
// the host role.
func TestConsoleReports(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		b := e.Brand("rpt")
		hostile := `<img src=x onerror=alert(1)>`
		staffGroup, _, err := e.App.Community.CreateGroup(ctx, community.Group{TenantID: b.Tenant.ID, Channel: webchat.Name,
			Name: "员工群 " + hostile, Kind: community.Vertical, Audience: hostile})
		if err != nil {
			t.Fatal(err)
		}
		fan := e.Client()
		fan.Join(b.JoinCode.Code, hostile)
		if _, err := e.App.Rollup.Catchup(ctx); err != nil {
			t.Fatal(err)
		}
		op := e.Client()
		op.Login(b)
		must(t, op.Get("/console/reports"), http.StatusOK, "data-generate", "data-no-reports")

		id := generateReport(t, op, b)
		page := op.Get(fmt.Sprintf("/console/reports/%d", id))
		must(t, page, http.StatusOK, "data-findings", "data-metrics", "data-teardown", `id="report-data"`,
			`data-chart="series"`, "/static/vendor/echarts/echarts.min.js", "/static/report.js", "&lt;img src=x onerror=alert(1)&gt;")
		if strings.Contains(page.Body, hostile) {
			t.Errorf("member or group text reached the page unescaped")
		}
		for _, bad := range []string{"NaN", "%!", "Inf%"} {
			if strings.Contains(page.Body, bad) {
				t.Errorf("the report page shows %q", bad)
			}
		}
		must(t, op.Get("/console/reports"), http.StatusOK, fmt.Sprintf(`href="/console/reports/%d"`, id))

		// Weekly: the week holding the day; asked twice, the same report.
		r1 := op.PostForm("/console/reports", url.Values{"kind": {"weekly"}, "from": {"2026-11-18"}})
		r2 := op.PostForm("/console/reports", url.Values{"kind": {"weekly"}, "from": {"2026-11-20"}})
		if r1.Status != http.StatusSeeOther || r1.Header.Get("Location") != r2.Header.Get("Location") {
			t.Errorf("weekly twice: %d %q, %d %q", r1.Status, r1.Header.Get("Location"), r2.Status, r2.Header.Get("Location"))
		}
		for _, form := range []url.Values{
			{"kind": {"daily"}, "from": {"2026-11-18"}},
			{"kind": {"custom"}, "from": {"2026-11-18"}, "to": {"2026-11-17"}},
			{"kind": {"custom"}, "from": {"2024-01-01"}, "to": {"2026-11-17"}},
			{"kind": {"weekly"}, "from": {"18/11/2026"}},
		} {
			must(t, op.PostForm("/console/reports", form), http.StatusBadRequest, "data-problem")
		}

		// The standalone file: everything inlined, nothing fetched.
		dl := op.Get(fmt.Sprintf("/console/reports/%d/download", id))
		must(t, dl, http.StatusOK, "<!doctype html>", `id="report-data"`, "getInstanceByDom", "data-findings", "report-data")
		if cd := dl.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="liveloop-rpt-custom-`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		for _, ref := range []string{`src="/static`, `href="/static`, "<script src=", strings.ToLower(hostile)} {
			if strings.Contains(strings.ToLower(dl.Body), ref) {
				t.Errorf("the download holds %q", ref)
			}
		}

		// Sending: refused without a group, then once to the staff group.
		must(t, op.PostForm(fmt.Sprintf("/console/reports/%d/send", id), nil), http.StatusBadRequest)
		must(t, op.PostForm("/console/reports/settings", url.Values{"send_group_id": {"999999"}}), http.StatusBadRequest, "data-problem")
		r := op.PostForm("/console/reports/settings", url.Values{"send_group_id": {fmt.Sprint(staffGroup.ID)}, "locale": {"zh-CN"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("settings: %d %.300s", r.Status, r.Body)
		}
		must(t, op.Get("/console/reports?saved=1"), http.StatusOK, "data-saved", fmt.Sprintf(`<option value="%d" selected>`, staffGroup.ID))
		for range 2 {
			if r := op.PostForm(fmt.Sprintf("/console/reports/%d/send", id), nil); r.Status != http.StatusSeeOther {
				t.Fatalf("send: %d %.300s", r.Status, r.Body)
			}
		}
		var n int
		var body string
		err = e.App.DB.R.QueryRow(`SELECT COUNT(*), MAX(body) FROM outbox WHERE tenant_id = $1 AND idem_key = $2`, b.Tenant.ID,
			fmt.Sprintf("report:%d:%d", id, staffGroup.ID)).Scan(&n, &body)
		if err != nil || n != 1 || !strings.HasPrefix(body, "复盘 ") || !strings.Contains(body, fmt.Sprintf("/console/reports/%d", id)) {
			t.Errorf("outbox: %d %q %v", n, body, err)
		}
		must(t, op.Get(fmt.Sprintf("/console/reports/%d?sent=1", id)), http.StatusOK, "data-sent-now")

		// Another brand's staff: not found; a host: not allowed.
		other := e.Brand("rpt-other")
		intruder := e.Client()
		intruder.Login(other)
		for _, path := range []string{"/console/reports/%d", "/console/reports/%d/download"} {
			must(t, intruder.Get(fmt.Sprintf(path, id)), http.StatusNotFound)
		}
		must(t, intruder.PostForm(fmt.Sprintf("/console/reports/%d/send", id), nil), http.StatusNotFound)
		must(t, intruder.PostForm("/console/reports/settings", url.Values{"send_group_id": {fmt.Sprint(staffGroup.ID)}}), http.StatusBadRequest)
		if list := intruder.Get("/console/reports"); strings.Contains(list.Body, fmt.Sprintf(`/console/reports/%d"`, id)) {
			t.Errorf("another brand lists the report")
		}
		if _, err := e.App.Tenants.AddStaff(ctx, tenant.Staff{TenantID: b.Tenant.ID, Email: "host@rpt.test", Name: "host", Role: tenant.Host}, "password-host"); err != nil {
			t.Fatal(err)
		}
		host := e.Client()
		host.Login(apptest.Brand{Tenant: b.Tenant, Staff: tenant.Staff{Email: "host@rpt.test"}, Password: "password-host"})
		must(t, host.Get("/console/reports"), http.StatusForbidden)
		must(t, host.Get(fmt.Sprintf("/console/reports/%d/download", id)), http.StatusForbidden)
	})
}
