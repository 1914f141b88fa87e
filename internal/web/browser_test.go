package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/store"
)

// chromium finds Debian's chromium (or LIVELOOP_CHROMIUM). Without one the
// browser tests are skipped with the reason, unless
// LIVELOOP_REQUIRE_BROWSER is set (CI sets it, after installing chromium).
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("LIVELOOP_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("LIVELOOP_REQUIRE_BROWSER") != "" {
		t.Fatal("LIVELOOP_REQUIRE_BROWSER is set but no chromium was found (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: skipping the browser test (apt-get install chromium, or set LIVELOOP_CHROMIUM)")
	return ""
}

func browser(t *testing.T) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 860),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	// The first context starts the browser; tabs get their own browser
	// contexts (separate cookie jars) under it.
	root, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(root, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return root
}

// tab opens a tab in its own browser context (its own cookies), failing
// the test if any page in it ever opens a JavaScript dialog: hostile member
// text must never run.
func tab(t *testing.T, root context.Context) context.Context {
	ctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for d, err := range dialogs {
			if err != nil {
				return
			}
			t.Errorf("a page opened a %s dialog: %q — member text ran as script", d.Type, d.Message)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

// dump describes a tab's page for a failure message.
func dump(t *testing.T, ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 2000)`))
	if err != nil {
		return "(page unavailable: " + err.Error() + ")"
	}
	return text
}

// wait polls a JavaScript condition until it is true (or the tab's
// deadline passes).
func wait(expr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](expr)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		return chromedp.Void{}, err
	}
}

func hasText(selector, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.textContent === %q)`, selector, text)
}

// The issue #2 journey in a real browser: an operator logs in and creates a
// group, a member joins by its link with a hostile display name and sends a
// hostile message, the operator sees it live (inert), replies, and the
// member sees the reply.
func TestBrowserJourney(t *testing.T) {
	alloc := browser(t)
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("browser")

	op := tab(t, alloc)
	err := chromedp.Do(op,
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(`input[name=tenant]`, b.Tenant.Slug),
		chromedp.SendKeys(`input[name=email]`, b.Staff.Email),
		chromedp.SendKeys(`input[name=password]`, b.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`header.top nav`),
		chromedp.Navigate(e.URL+"/console/groups/new"),
		chromedp.SendKeys(`input[name=name]`, "直播点赞群"),
		chromedp.Click(`input[value=booster]`),
		chromedp.SendKeys(`textarea[name=audience]`, "每晚看直播的老粉"),
		chromedp.SendKeys(`textarea[name=promise]`, "点赞抽奖、专属券"),
		chromedp.SendKeys(`textarea[name=tone]`, "热闹、亲切"),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`input[data-join-url]`),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
	)
	if err != nil {
		t.Fatalf("operator: %v", err)
	}
	joinURL, err := chromedp.Run(op, chromedp.Value(`input[data-join-url]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(joinURL, e.URL+"/j/") {
		t.Fatalf("join link %q", joinURL)
	}

	const hostileName = `<img src=x onerror=alert(1)>`
	const hostileText = `<script>alert("xss")</script><b hx-get="/x" hx-trigger="load">bold</b> {{.Secret}} ‮evil`
	member := tab(t, alloc)
	err = chromedp.Do(member,
		chromedp.Navigate(joinURL),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SetValue(`input[name=name]`, hostileName),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`[data-composer] textarea`),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
		chromedp.SetValue(`[data-composer] textarea`, hostileText),
		chromedp.Click(`[data-composer] button`),
		wait(hasText(`[data-messages] .text`, hostileText)),
	)
	if err != nil {
		t.Fatalf("member: %v\n%s", err, dump(t, member))
	}

	// The operator's live view shows it, as text.
	// A live message's time shows like the server-rendered history, in the
	// brand's zone.
	if err := chromedp.Do(op, wait(`/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test([...document.querySelectorAll('[data-messages] time')].pop().textContent)`)); err != nil {
		t.Fatalf("live message time format: %v\n%s", err, dump(t, op))
	}
	const elements = `document.querySelectorAll('[data-messages] img, [data-messages] script, [data-messages] b').length`
	err = chromedp.Do(op,
		wait(hasText(`[data-messages] .text`, hostileText)),
		wait(hasText(`[data-messages] .sender`, hostileName)),
	)
	if err != nil {
		t.Fatalf("operator live view: %v", err)
	}
	images, err := chromedp.Run(op, chromedp.Evaluate[int](elements))
	if err == nil {
		err = chromedp.Do(op, chromedp.SendKeys(`[data-composer] textarea`, "欢迎！今晚 8 点开播"), chromedp.Click(`[data-composer] button`))
	}
	if err != nil {
		t.Fatalf("operator live view: %v", err)
	}
	if images != 0 {
		t.Fatalf("member text became %d elements in the console", images)
	}
	if err := chromedp.Do(member, wait(hasText(`[data-messages] .text`, "欢迎！今晚 8 点开播"))); err != nil {
		t.Fatalf("member did not see the operator's reply: %v", err)
	}
	// After a reload the member page renders the history server-side, still inert.
	if err := chromedp.Do(member, chromedp.Reload(), chromedp.WaitVisible(`[data-messages]`),
		wait(hasText(`[data-messages] .text`, hostileText))); err != nil {
		t.Fatal(err)
	}
	if images, err = chromedp.Run(member, chromedp.Evaluate[int](elements)); err != nil {
		t.Fatal(err)
	}
	if images != 0 {
		t.Fatalf("history rendered member text as %d elements", images)
	}

	// README screenshot: LIVELOOP_SCREENSHOT=docs/console.png go test -run TestBrowserJourney ./internal/web/
	if path := os.Getenv("LIVELOOP_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(op, chromedp.FullScreenshot(90))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A member checks in from the chat in a real browser, gets the reply from
// the assistant persona, and sees the points and the leaderboard change.
func TestBrowserCheckIn(t *testing.T) {
	root := browser(t)
	e := apptest.Start(t, store.SQLite)
	b, _, _ := routineBrand(t, e, "ckin")
	member := tab(t, root)
	pointsURL := e.URL + "/m/" + b.Tenant.Slug + "/points"
	err := chromedp.Do(member,
		chromedp.Navigate(e.URL+"/j/"+b.JoinCode.Code),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "签到达人"),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`[data-composer] textarea`),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
		chromedp.Navigate(pointsURL),
		wait(`document.querySelector('[data-balance]').textContent === '10'`),
		chromedp.Navigate(e.URL+"/m/"+b.Tenant.Slug+"/g/"+fmt.Sprint(b.Group.ID)),
		chromedp.WaitVisible(`[data-composer] textarea`),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
		chromedp.SetValue(`[data-composer] textarea`, "玫瑰红"),
		chromedp.Click(`[data-composer] button`),
		wait(`[...document.querySelectorAll('[data-messages] .msg.staff .text')].some(e => e.textContent.includes('checked in'))`),
		chromedp.Navigate(pointsURL),
		wait(`document.querySelector('[data-balance]').textContent === '15'`),
		wait(`[...document.querySelectorAll('[data-board] li')].some(e => e.textContent.includes('签到达人') && e.textContent.includes('15'))`),
	)
	if err != nil {
		t.Fatalf("check-in journey: %v\n%s", err, dump(t, member))
	}
}

// Polls in a real browser: a member taps an option and sees the count
// move; another member's vote by number in the chat moves it live; a
// hostile option label stays text.
func TestBrowserPoll(t *testing.T) {
	root := browser(t)
	e := apptest.Start(t, store.SQLite)
	b, op, persona := routineBrand(t, e, "pollb")
	id := startActivity(t, op, b, persona, url.Values{"kind": {"poll"}, "question": {"周五返场哪个？"},
		"options": {"玫瑰红\n<img src=x onerror=alert(1)>\n裸色"}})
	other := e.Client()
	otherChat := other.Join(b.JoinCode.Code, "阿珍")
	member := tab(t, root)
	count := func(n, want int) chromedp.Action[chromedp.Void] {
		return wait(fmt.Sprintf(`(document.querySelector('[data-poll="%d"] [data-count="%d"]') || {}).textContent === '%d'`, id, n, want))
	}
	err := chromedp.Do(member,
		chromedp.Navigate(e.URL+"/j/"+b.JoinCode.Code),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "投票达人"),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(fmt.Sprintf(`[data-poll="%d"] button[data-choice="2"]`, id)),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
		wait(hasText(`[data-poll] .option .label`, "2. <img src=x onerror=alert(1)>")),
		chromedp.Click(fmt.Sprintf(`[data-poll="%d"] button[data-choice="3"]`, id)),
		count(3, 1),
		wait(fmt.Sprintf(`document.querySelector('[data-poll="%d"] button[data-choice="3"]').classList.contains('chosen')`, id)),
	)
	if err != nil {
		t.Fatalf("vote by button: %v\n%s", err, dump(t, member))
	}
	// Another member votes by number in the chat: the count moves live.
	ws, _, err := other.Dial(context.Background(), otherChat+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	send(t, ws, "vote-num-0001", "1")
	if err := chromedp.Do(member, count(1, 1), count(3, 1)); err != nil {
		t.Fatalf("live tally: %v\n%s", err, dump(t, member))
	}
}

// The live room in a real browser: a comment from another client appears
// (hostile text stays text), the host's product switch shows on the card,
// and the join call to action shows its QR code.
func TestBrowserLiveRoom(t *testing.T) {
	root := browser(t)
	e := apptest.Start(t, store.SQLite)
	b, op, persona := routineBrand(t, e, "liveb")
	at := time.Now().Add(time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04")
	r := op.PostForm("/console/lives", url.Values{"title": {"周五护肤专场"}, "scheduled_at": {at}, "host": {fmt.Sprint(persona)},
		"products": {"修护精华 | 129 | 99 | 200\n玫瑰唇釉 | 89 | 69 | 50"}, "groups": {fmt.Sprint(b.Group.ID)},
		"alert_persona": {fmt.Sprint(persona)}, "alert_repeat": {"1"}, "alert_minutes": {"10"}})
	var id int64
	fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &id)
	if id == 0 {
		t.Fatalf("schedule: %d %.300s", r.Status, r.Body)
	}
	op.PostForm(fmt.Sprintf("/console/lives/%d/start", id), url.Values{})
	other := e.Client()
	other.Join(b.JoinCode.Code, "阿珍")
	room := fmt.Sprintf("/l/%s/%d", b.Tenant.Slug, id)
	viewer := tab(t, root)
	err := chromedp.Do(viewer,
		chromedp.Navigate(e.URL+room),
		wait(`document.querySelector('[data-status]').dataset.state === 'online'`),
		wait(`(() => { const i = document.querySelector('[data-join-cta] img'); return i && i.complete && i.naturalWidth > 0 })()`),
	)
	if err != nil {
		t.Fatalf("open the room: %v\n%s", err, dump(t, viewer))
	}
	ws, _, err := other.Dial(context.Background(), room+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	send(t, ws, "comment-browser-1", `<img src=x onerror=alert(1)>好看`)
	l, err := e.App.Lives.Get(context.Background(), b.Tenant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(viewer, wait(hasText(`[data-messages] .text`, `<img src=x onerror=alert(1)>好看`))); err != nil {
		t.Fatalf("comment: %v\n%s", err, dump(t, viewer))
	}
	op.PostForm(fmt.Sprintf("/console/lives/%d/product", id), url.Values{"product": {fmt.Sprint(l.Products[1].ID)}})
	if err := chromedp.Do(viewer,
		wait(`!document.querySelector('[data-product]').hidden && document.querySelector('[data-product-name]').textContent === '玫瑰唇釉'`),
	); err != nil {
		t.Fatalf("product switch: %v\n%s", err, dump(t, viewer))
	}
	// A coupon drop announced while the page is open appears in it.
	op.PostForm(fmt.Sprintf("/console/lives/%d/drop", id), url.Values{"title": {"<i>直播专享</i> 减20"}, "quantity": {"10"}, "minutes": {"5"}})
	if err := chromedp.Do(viewer, wait(hasText(`[data-drop] strong`, "<i>直播专享</i> 减20"))); err != nil {
		t.Fatalf("coupon drop: %v\n%s", err, dump(t, viewer))
	}
}

// The campaign calendar in a real browser: the warm-up of a scheduled live
// shows in the live's week — each entry in its day's column, a sales
// badge, the week's mix and its 7:3 warning — and the week before holds
// the T-7 story.
func TestBrowserCampaignCalendar(t *testing.T) {
	root := browser(t)
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("calb")
	op := e.Client()
	op.Login(b)
	loc := b.Tenant.Location()
	d := time.Now().In(loc).AddDate(0, 0, 10)
	start := time.Date(d.Year(), d.Month(), d.Day(), 20, 0, 0, 0, loc)
	r := op.PostForm("/console/lives", url.Values{"title": {"春季新品直播"}, "scheduled_at": {start.Format("2006-01-02T15:04")},
		"products": {"修护精华 | 129 | 99 | 200"}, "groups": {fmt.Sprint(b.Group.ID)}, "alert_repeat": {"1"}, "alert_minutes": {"10"}})
	var id int64
	fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &id)
	if id == 0 {
		t.Fatalf("schedule: %d %.300s", r.Status, r.Body)
	}
	if r := op.PostForm(fmt.Sprintf("/console/lives/%d/warmup", id), url.Values{}); r.Status != 303 {
		t.Fatalf("warm-up: %d %.300s", r.Status, r.Body)
	}
	day := start.Format("2006-01-02")
	inDay := func(date, title string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('[data-date="%s"] [data-title]')].some(e => e.textContent === %q)`, date, title)
	}
	tb := tab(t, root)
	err := chromedp.Do(tb,
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(`input[name=tenant]`, b.Tenant.Slug),
		chromedp.SendKeys(`input[name=email]`, b.Staff.Email),
		chromedp.SendKeys(`input[name=password]`, b.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`header.top nav`),
		chromedp.Navigate(e.URL+"/console/calendar?week="+day),
		chromedp.WaitVisible(`[data-calendar]`),
		wait(`document.querySelectorAll('[data-calendar] thead th').length === 7`),
		wait(inDay(day, "Countdown on the day")),
		wait(inDay(day, "10 minutes before")),
		wait(`[...document.querySelectorAll('[data-calendar] [data-sales]')].some(e => e.offsetParent !== null && e.textContent === 'sales')`),
		wait(`/^This week: \d+ value · \d+ sales · \d+% sales$/.test(document.querySelector('[data-mix]').textContent)`),
		wait(`document.querySelector('[data-mix-warning]').offsetParent !== null`),
		wait(`[...document.querySelectorAll('[data-calendar] [data-target]')].every(e => e.textContent === 'Group of calb')`),
	)
	if err != nil {
		t.Fatalf("the live's week: %v\n%s", err, dump(t, tb))
	}
	// The link to the week before (followed by navigating to it, so the
	// checks run on the new page).
	prev, err := chromedp.Run(tb, chromedp.Evaluate[string](`document.querySelector('[data-prev-week]').href`))
	if err != nil || !strings.HasPrefix(prev, e.URL+"/console/calendar?week=") {
		t.Fatalf("previous week link %q: %v", prev, err)
	}
	err = chromedp.Do(tb,
		chromedp.Navigate(prev),
		chromedp.WaitVisible(`[data-calendar]`),
		wait(inDay(start.AddDate(0, 0, -7).Format("2006-01-02"), "T-7 story")),
		wait(`[...document.querySelectorAll('[data-calendar] [data-value]')].some(e => e.offsetParent !== null)`),
	)
	if err != nil {
		t.Fatalf("the week before: %v\n%s", err, dump(t, tb))
	}
}
