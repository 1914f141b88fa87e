package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/demo"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

// reportState is what a report page's charts and findings hold.
type reportState struct {
	Charts   map[string]int `json:"charts"` // data-chart(:key) → series[0].data.length (-2: not drawn)
	Findings int            `json:"findings"`
	Problems []string       `json:"problems"`
	Text     string         `json:"text"`
}

const readReport = `JSON.stringify((function () {
	var charts = {};
	document.querySelectorAll("[data-chart]").forEach(function (el) {
		var c = window.echarts && echarts.getInstanceByDom(el);
		var key = el.getAttribute("data-chart") + (el.getAttribute("data-key") ? ":" + el.getAttribute("data-key") : "");
		charts[key] = c ? c.getOption().series[0].data.length : -2;
	});
	return {
		charts: charts,
		findings: document.querySelectorAll("[data-findings] li").length,
		problems: window.__problems || [],
		text: document.body.innerText
	};
})())`

func reportCharts(t *testing.T, ctx context.Context) reportState {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](readReport))
	if err != nil {
		t.Fatal(err)
	}
	var st reportState
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// checkReport: the key charts there, every chart drawn with data (a
// chart without data is an empty-state line instead), findings shown, no
// NaN or undefined anywhere.
func checkReport(t *testing.T, where string, st reportState) {
	t.Helper()
	for _, k := range []string{"series:gmv", "series:orders", "series:joins", "series:dau", "series:member_messages"} {
		if st.Charts[k] != 7 {
			t.Errorf("%s: chart %s has %d points, want the week's 7 (-2: not drawn)", where, k, st.Charts[k])
		}
	}
	for _, k := range []string{"heatmap", "sources", "health"} {
		if _, ok := st.Charts[k]; !ok {
			t.Errorf("%s: no %s chart", where, k)
		}
	}
	for k, n := range st.Charts {
		if n <= 0 {
			t.Errorf("%s: chart %s has %d points (-2: not drawn)", where, k, n)
		}
	}
	if st.Findings == 0 {
		t.Errorf("%s: no findings", where)
	}
	for _, bad := range []string{"NaN", "undefined", "Infinity", "%!"} {
		if strings.Contains(st.Text, bad) {
			t.Errorf("%s: the page shows %q", where, bad)
		}
	}
	if len(st.Problems) > 0 {
		t.Errorf("%s: %v", where, st.Problems)
	}
}

// The demo brand's weekly review in a real browser: listed in the
// history, its charts drawn with data under the console's CSP, its
// findings shown; and the downloaded file does the same offline, from a
// file:// URL with nothing to fetch.
func TestBrowserReport(t *testing.T) {
	root := browser(t)
	// Seeded before serving, as `liveloop demo` does: the app's loops
	// (closing chains, sending alerts) must not race the history.
	dsn := storetest.DSN(t, store.SQLite)
	seedDemo(t, dsn, time.Now())
	e := apptest.StartDSN(t, dsn, withKey)
	a := e.App
	ctx := context.Background()
	tn, err := a.Tenants.BySlug(ctx, demo.Slug)
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.DemoReport(ctx, tn.ID, time.Now())
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
		chromedp.Click(`header.top nav a[href="/console/reports"]`),
		chromedp.WaitVisible(fmt.Sprintf(`[data-report-id="%d"] a`, st.ID)),
		chromedp.Click(fmt.Sprintf(`[data-report-id="%d"] a`, st.ID)),
		chromedp.WaitVisible(`[data-findings]`),
		wait(`[...document.querySelectorAll("[data-chart]")].every(e => e.querySelector("canvas"))`),
	)
	if err != nil {
		t.Fatalf("open the report: %v\n%s", err, dump(t, op))
	}
	checkReport(t, "console", reportCharts(t, op))

	// The download, opened from disk.
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
	checkReport(t, "download", reportCharts(t, offline))
}
