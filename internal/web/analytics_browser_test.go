package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/app"
	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/config"
	"github.com/liveloop/liveloop/internal/demo"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// watchPage records, from before any page script runs, the page's
// Content-Security-Policy violations and uncaught errors in
// window.__problems.
func watchPage(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.__problems = [];
		document.addEventListener("securitypolicyviolation", function (e) { window.__problems.push("CSP " + e.violatedDirective + " " + e.blockedURI); });
		window.addEventListener("error", function (e) { window.__problems.push("error " + e.message); });`})
	if err != nil {
		t.Fatal(err)
	}
}

// chartState is what the dashboard's charts hold, read in the page.
type chartState struct {
	Points    map[string]int `json:"points"`    // series[0].data.length of each chart (-1: no chart element, -2: not drawn)
	Undrawn   int            `json:"undrawn"`   // chart elements without a canvas
	Sparks    int            `json:"sparks"`    // health sparklines drawn
	TrendName string         `json:"trendName"` // the trend's series name
	Problems  []string       `json:"problems"`
	Text      string         `json:"text"`
}

const readCharts = `JSON.stringify((function () {
	var points = {};
	["trend", "funnel", "cohorts", "sendtime", "sources"].forEach(function (k) {
		var el = document.querySelector('[data-chart="' + k + '"]');
		var c = el && echarts.getInstanceByDom(el);
		points[k] = !el ? -1 : !c ? -2 : c.getOption().series[0].data.length;
	});
	var trend = document.querySelector('[data-chart="trend"]');
	return {
		points: points,
		undrawn: [...document.querySelectorAll("[data-chart]")].filter(function (e) { return !e.querySelector("canvas"); }).length,
		sparks: [...document.querySelectorAll('[data-chart="spark"]')].filter(function (e) { return echarts.getInstanceByDom(e); }).length,
		trendName: trend ? echarts.getInstanceByDom(trend).getOption().series[0].name : "",
		problems: window.__problems || ["no watcher"],
		text: document.body.innerText
	};
})())`

// The dashboard in a real browser, for the demo brand after the rollup
// caught up: the charts exist, carry data, switch metric, run under the
// CSP without errors, and no number shows as NaN or undefined.
func TestBrowserDashboard(t *testing.T) {
	root := browser(t)
	// The demo's thirty days end on a fixed day, which is the dashboard's
	// today: the same data and periods on every run.
	now := time.Date(2026, 11, 23, 15, 30, 0, 0, time.UTC) // 23:30 in Shanghai
	dsn := storetest.DSN(t, store.SQLite)
	seedDemo(t, dsn, now)
	e := apptest.StartDSN(t, dsn, withKey)
	a := e.App
	a.Analytics.SetClock(func() time.Time { return now })

	op := tab(t, root)
	watchPage(t, op)
	var liveID int64
	if err := a.DB.R.QueryRow(`SELECT id FROM lives WHERE started_at > 0 ORDER BY id DESC LIMIT 1`).Scan(&liveID); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(op,
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(`input[name=tenant]`, demo.Slug),
		chromedp.SendKeys(`input[name=email]`, demo.OperatorEmail),
		chromedp.SendKeys(`input[name=password]`, demo.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`header.top nav`),
		chromedp.Click(`header.top nav a[href="/console/analytics"]`),
		chromedp.WaitVisible(`[data-section="overview"]`),
		wait(`[...document.querySelectorAll("[data-chart]")].every(e => e.querySelector("canvas"))`),
	)
	if err != nil {
		t.Fatalf("open the dashboard: %v\n%s", err, dump(t, op))
	}
	st := charts(t, op)
	if !strings.Contains(st.Text, hostileGroup) {
		t.Errorf("the group named %q is not shown as text", hostileGroup)
	}
	if n, err := chromedp.Run(op, chromedp.Evaluate[int](`document.querySelectorAll("main img").length`)); err != nil || n != 0 {
		t.Errorf("%d images in the dashboard (%v): a group name became markup", n, err)
	}
	for _, k := range []string{"trend", "funnel", "cohorts", "sendtime", "sources"} {
		if st.Points[k] <= 0 {
			t.Errorf("chart %s: %d points (-1: not on the page, -2: not drawn)\n%.1500s", k, st.Points[k], st.Text)
		}
	}
	if st.Undrawn != 0 || st.Sparks == 0 {
		t.Errorf("%d charts without a canvas, %d health sparklines", st.Undrawn, st.Sparks)
	}
	checkText(t, st)

	// Another metric in the trend's selector redraws it.
	before := st.TrendName
	err = chromedp.Do(op, chromedp.SetValue(`[data-trend-metric]`, "member_messages"),
		wait(`(function(){ var s = document.querySelector("[data-trend-metric]"); s.dispatchEvent(new Event("change")); return true; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if st = charts(t, op); st.TrendName == before || st.Points["trend"] < 28 {
		t.Errorf("trend after choosing member_messages: %q (was %q), %d points", st.TrendName, before, st.Points["trend"])
	}
	if v, _ := chromedp.Run(op, chromedp.Evaluate[string](`document.querySelector("[data-metric-field]").value`)); v != "member_messages" {
		t.Errorf("the filter form keeps metric %q", v)
	}

	// The funnel of one live: the selector lists it, and its five steps show.
	err = chromedp.Do(op,
		chromedp.Navigate(fmt.Sprintf("%s/console/analytics?live=%d", e.URL, liveID)),
		wait(`[...document.querySelectorAll("[data-chart]")].every(e => e.querySelector("canvas"))`),
		wait(fmt.Sprintf(`document.querySelector('select[name=live]').value === "%d"`, liveID)),
		wait(`document.querySelectorAll('[data-funnel-steps] tbody tr').length === 5`),
	)
	if err != nil {
		t.Fatalf("one live's funnel: %v\n%s", err, dump(t, op))
	}
	if st = charts(t, op); st.Points["funnel"] != 5 {
		t.Errorf("the live's funnel has %d steps", st.Points["funnel"])
	}

	// Last week: a short period, still no NaN.
	err = chromedp.Do(op,
		chromedp.Navigate(e.URL+"/console/analytics?preset=last_week"),
		chromedp.WaitVisible(`[data-section="overview"]`),
		wait(`[...document.querySelectorAll("[data-chart]")].every(e => e.querySelector("canvas"))`),
	)
	if err != nil {
		t.Fatalf("last week: %v\n%s", err, dump(t, op))
	}
	checkText(t, charts(t, op))
}

const hostileGroup = `<img src=x onerror=alert(1)>群`

// withKey seals the demo's platform account secrets for both the seeding
// app and the served one.
func withKey(c *config.Config) { c.EncryptionKey = "analytics-browser-test-key-0123456789" }

// seedDemo seeds the demo brand as `liveloop demo` does — before serving,
// so the running app's loops (closing chains, sending alerts) do not race
// the history being written —, adds a past live, and runs the rollup.
func seedDemo(t *testing.T, dsn string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DB = dsn
	withKey(&cfg)
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, _, err = demo.Seed(ctx, demo.Deps{DB: a.DB, Tenants: a.Tenants, Members: a.Members, Community: a.Community, Log: a.Log,
		Bot: a.Bot, Loyalty: a.Loyalty, Polls: a.Polls, Accounts: a.Accounts, Lives: a.Lives, Campaigns: a.Campaigns}, 2026, now)
	if err != nil {
		t.Fatal(err)
	}
	pastLive(t, a, now)
	if _, err := analytics.NewRollup(a.DB).Catchup(ctx); err != nil {
		t.Fatalf("rollup: %v", err)
	}
}

// pastLive gives the demo brand a live that ran three days ago, with the
// platform's viewer count and 30 of its members entering the live room
// (the funnel's first steps), and names its first group with markup.
func pastLive(t *testing.T, a *app.App, now time.Time) {
	t.Helper()
	ctx := context.Background()
	tn, err := a.Tenants.BySlug(ctx, demo.Slug)
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.Lives.Schedule(ctx, live.Live{TenantID: tn.ID, Title: "上周新品直播", ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// A group whose name is markup: the health table, the filter and the
	// capacity advice must show it as text.
	groups, err := a.Community.Groups(ctx, tn.ID)
	if err != nil || len(groups) == 0 {
		t.Fatalf("demo groups: %v", err)
	}
	g := groups[0]
	g.Name = hostileGroup
	if err := a.Community.UpdateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	start := now.Add(-72 * time.Hour)
	if _, err := a.DB.W.Exec(`UPDATE lives SET state = 'ended', scheduled_at = $1, started_at = $1, ended_at = $2 WHERE id = $3`,
		store.Millis(start), store.Millis(start.Add(2*time.Hour)), l.ID); err != nil {
		t.Fatal(err)
	}
	evs := []event.Event{{TenantID: tn.ID, Type: event.LivePlatform, Source: fmt.Sprintf("liveapi:%d", l.ID), SourceID: "v1",
		At: start.Add(30 * time.Minute), Data: event.MustData(event.LivePlatformData{LiveID: l.ID, Kind: "viewers", Count: 120})}}
	rows, err := a.DB.R.Query(`SELECT id FROM members WHERE tenant_id = $1 ORDER BY id LIMIT 30`, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m int64
		rows.Scan(&m)
		evs = append(evs, event.Event{TenantID: tn.ID, Type: event.LiveEntered, Source: event.SourceTrack,
			SourceID: fmt.Sprintf("enter:%d:%d", l.ID, m), At: start.Add(10 * time.Minute), MemberID: m,
			Data: event.MustData(event.TrackData{LiveID: l.ID})})
	}
	if _, err := a.Log.AppendBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
}

func charts(t *testing.T, ctx context.Context) chartState {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](readCharts))
	if err != nil {
		t.Fatalf("read the charts: %v\n%s", err, dump(t, ctx))
	}
	var st chartState
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func checkText(t *testing.T, st chartState) {
	t.Helper()
	if len(st.Problems) != 0 {
		t.Errorf("the page had problems: %q", st.Problems)
	}
	for _, bad := range []string{"NaN", "undefined", "Infinity", "metric."} {
		if strings.Contains(st.Text, bad) {
			i := strings.Index(st.Text, bad)
			t.Errorf("the page shows %q: …%s…", bad, st.Text[max(0, i-80):min(len(st.Text), i+80)])
		}
	}
}
