package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/demo"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// The hostile names of TestBrowserHostileAnalyticsText. Each carries
// data-pwn, so a name that became markup is found as an element.
const (
	r2Group   = `</script><img src=x onerror=alert(1) data-pwn>{{.}}` + "\u202e群"
	r2Persona = `"><svg onload=alert(2) data-pwn>`
	r2Book    = `<script>alert(3)</script><b data-pwn>剧本</b>`
	r2Content = `<iframe data-pwn src=javascript:alert(4)>{a|b}{c}`
	r2Live    = `<img src=x onerror=alert(5) data-pwn>直播`
	r2Source  = `<img src=x onerror=alert(6) data-pwn>海报`
)

// showTips opens the tooltip of every chart of the page on its first
// point (ECharts' showTip, what a hover does) and reports how many charts
// there were, and whatever the page made of the names.
const showTips = `JSON.stringify((function () {
	var n = 0;
	document.querySelectorAll("[data-chart]").forEach(function (el) {
		var c = window.echarts && echarts.getInstanceByDom(el);
		if (!c) return;
		n++;
		var opt = c.getOption();
		(opt.series || []).forEach(function (s, i) { c.dispatchAction({ type: "showTip", seriesIndex: i, dataIndex: 0 }); });
	});
	return {
		charts: n,
		pwned: document.querySelectorAll("[data-pwn], main img, main iframe, main svg:not(.chart svg)").length,
		problems: window.__problems || ["no watcher"],
		text: document.body.innerText
	};
})())`

type hostileState struct {
	Charts   int      `json:"charts"`
	Pwned    int      `json:"pwned"`
	Problems []string `json:"problems"`
	Text     string   `json:"text"`
}

func hostileCheck(t *testing.T, ctx context.Context, where string, want ...string) {
	t.Helper()
	var st hostileState
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](showTips))
	if err == nil {
		err = jsonUnmarshal([]byte(raw), &st)
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", where, err, dump(t, ctx))
	}
	// Let tooltips render (they are drawn on the next frame).
	chromedp.Run(ctx, chromedp.Sleep(300*time.Millisecond))
	raw, _ = chromedp.Run(ctx, chromedp.Evaluate[string](showTips))
	jsonUnmarshal([]byte(raw), &st)
	if st.Charts == 0 {
		t.Errorf("%s: no chart drawn", where)
	}
	if st.Pwned != 0 || len(st.Problems) != 0 {
		t.Errorf("%s: %d injected elements, problems %q", where, st.Pwned, st.Problems)
	}
	for _, w := range want {
		if !strings.Contains(st.Text, w) {
			t.Errorf("%s: %q is not shown as text", where, w)
		}
	}
}

// Hostile names (groups, personas, playbooks, content, lives, join
// sources) through the review report — the console page and the
// downloaded file opened from disk — and the dashboard, in a real
// browser, every chart's tooltip opened: nothing runs, nothing becomes
// markup, the names show as text.
func TestBrowserHostileAnalyticsText(t *testing.T) {
	root := browser(t)
	// Seeded before serving (the app's loops must not race the history).
	now := time.Now()
	dsn := storetest.DSN(t, store.SQLite)
	seedDemo(t, dsn, now)
	e := apptest.StartDSN(t, dsn, withKey)
	a := e.App
	ctx := context.Background()
	tn, err := a.Tenants.BySlug(ctx, demo.Slug)
	if err != nil {
		t.Fatal(err)
	}
	tid := tn.ID
	for _, q := range []struct {
		sql string
		arg string
	}{
		{`UPDATE community_groups SET name = $2 || id WHERE tenant_id = $1`, r2Group},
		{`UPDATE personas SET name = $2 || id WHERE tenant_id = $1`, r2Persona},
		{`UPDATE campaign_playbooks SET name = $2 || id WHERE tenant_id = $1`, r2Book},
		{`UPDATE campaign_content SET title = $2 || id WHERE tenant_id = $1`, r2Content},
		{`UPDATE lives SET title = $2 || id WHERE tenant_id = $1`, r2Live},
	} {
		if _, err := a.DB.W.Exec(q.sql, tid, q.arg); err != nil {
			t.Fatal(err)
		}
	}
	// Joins of last week and of the last days from a hostile source label.
	var evs []event.Event
	rows, err := a.DB.R.Query(`SELECT gm.member_id, gm.group_id FROM group_members gm WHERE gm.tenant_id = $1 ORDER BY gm.member_id LIMIT 6`, tid)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; rows.Next(); i++ {
		var m, g int64
		rows.Scan(&m, &g)
		for _, back := range []time.Duration{24 * time.Hour, 8 * 24 * time.Hour} {
			evs = append(evs, event.Event{TenantID: tid, Type: event.MemberJoined, Source: "web", SourceID: fmt.Sprintf("r2-%d-%d", m, back/time.Hour),
				At: now.Add(-back), MemberID: m, GroupID: g, Data: event.MustData(event.JoinData{Source: r2Source})})
		}
	}
	rows.Close()
	if _, err := a.Log.AppendBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	st, err := a.DemoReport(ctx, tid, now)
	if err != nil {
		t.Fatal(err)
	}

	op := tab(t, root)
	watchPage(t, op)
	err = chromedp.Do(op,
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(`input[name=tenant]`, demo.Slug),
		chromedp.SendKeys(`input[name=email]`, demo.OperatorEmail),
		chromedp.SendKeys(`input[name=password]`, demo.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`header.top nav`),
		chromedp.Navigate(fmt.Sprintf("%s/console/reports/%d", e.URL, st.ID)),
		chromedp.WaitVisible(`[data-findings]`),
		wait(`[...document.querySelectorAll("[data-chart]")].every(e => e.querySelector("canvas"))`),
	)
	if err != nil {
		t.Fatalf("open the report: %v\n%s", err, dump(t, op))
	}
	hostileCheck(t, op, "report page", "<img src=x onerror=alert(1) data-pwn>", r2Persona, r2Book, "<img src=x onerror=alert(6) data-pwn>海报")

	c := e.Client()
	c.Login(apptest.Brand{Tenant: tn, Staff: tenant.Staff{Email: demo.OperatorEmail}, Password: demo.Password})
	dl := c.Get(fmt.Sprintf("/console/reports/%d/download", st.ID))
	if dl.Status != 200 {
		t.Fatalf("download: %d", dl.Status)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, []byte(dl.Body), 0o600); err != nil {
		t.Fatal(err)
	}
	offline := tab(t, root)
	watchPage(t, offline)
	err = chromedp.Do(offline,
		chromedp.Navigate("file://"+file),
		chromedp.WaitVisible(`[data-findings]`),
		wait(`[...document.querySelectorAll("[data-chart]")].every(e => e.querySelector("canvas"))`),
	)
	if err != nil {
		t.Fatalf("open the downloaded file: %v\n%s", err, dump(t, offline))
	}
	hostileCheck(t, offline, "downloaded report", "<img src=x onerror=alert(1) data-pwn>", r2Persona, r2Book)

	err = chromedp.Do(op,
		chromedp.Navigate(e.URL+"/console/analytics?preset=7d"),
		chromedp.WaitVisible(`[data-section="overview"]`),
		wait(`[...document.querySelectorAll("[data-chart]")].every(e => e.querySelector("canvas"))`),
	)
	if err != nil {
		t.Fatalf("open the dashboard: %v\n%s", err, dump(t, op))
	}
	hostileCheck(t, op, "dashboard", "<img src=x onerror=alert(1) data-pwn>")
}
