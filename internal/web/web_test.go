package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func each(t *testing.T, fn func(t *testing.T, e *apptest.Env)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, apptest.Start(t, d))
		})
	}
}

func must(t *testing.T, r apptest.Response, status int, fragments ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %.400s", r.Status, status, r.Body)
	}
	for _, f := range fragments {
		if !strings.Contains(r.Body, f) {
			t.Fatalf("body lacks %q: %.600s", f, r.Body)
		}
	}
}

type wsFrame struct {
	Type     string `json:"type"`
	ID       int64  `json:"id"`
	Sender   string `json:"sender"`
	Staff    bool   `json:"staff"`
	MemberID int64  `json:"member_id"`
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
	Code     string `json:"code"`
}

func read(t *testing.T, c *websocket.Conn) wsFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f wsFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("frame %q: %v", b, err)
	}
	return f
}

// readMessage reads until a message frame (skipping others).
func readMessage(t *testing.T, c *websocket.Conn) wsFrame {
	t.Helper()
	for {
		if f := read(t, c); f.Type == "message" {
			return f
		}
	}
}

func send(t *testing.T, c *websocket.Conn, clientID, text string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"type": "send", "client_id": clientID, "text": text})
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// The whole loop of issue #2 over HTTP and WebSocket: an operator logs in
// and creates a group, two members join by link and chat, staff post
// through the outbox, everyone sees everything live, history survives a
// reconnect, and a duplicate resend is stored once.
func TestCommunityLoop(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("acme")
		op := e.Client()
		op.Login(b)

		r := op.PostForm("/console/groups", url.Values{"name": {"护肤 <干货> 群"}, "kind": {"vertical"},
			"audience": {"25–35 敏感肌"}, "promise": {"每日干货"}, "tone": {"亲切"}, "capacity": {"100"}})
		must(t, r, http.StatusSeeOther)
		groupURL := r.Header.Get("Location")
		page := op.Get(groupURL)
		must(t, page, 200, "护肤 &lt;干货&gt; 群", "25–35 敏感肌", "/j/")
		code := between(page.Body, e.URL+"/j/", `"`)
		qr := op.Get(groupURL + "/qr/" + code + ".png")
		must(t, qr, 200)
		if qr.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.Body, "\x89PNG") {
			t.Fatalf("qr png: %s", qr.Header.Get("Content-Type"))
		}
		must(t, op.Get(groupURL+"/qr/"+code+".svg"), 200, "<svg")

		alice, bob := e.Client(), e.Client()
		must(t, alice.Get("/j/"+code), 200, "护肤 &lt;干货&gt; 群", `name="name"`)
		chat := alice.Join(code, "Alice")
		bob.Join(code, "<b>Bob</b>")
		// Labels reach data attributes as plain text (html/template would
		// quote them as JavaScript in an attribute named data-on…).
		must(t, alice.Get(chat), 200, "data-chat", `data-text-online="live"`)

		ctx := context.Background()
		wa, _, err := alice.Dial(ctx, chat+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer wa.CloseNow()
		wb, _, err := bob.Dial(ctx, chat+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer wb.CloseNow()
		staffWS, _, err := op.Dial(ctx, groupURL+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer staffWS.CloseNow()

		send(t, wa, "client-0001", "hello <script>alert(1)</script>")
		for _, c := range []*websocket.Conn{wa, wb, staffWS} {
			f := readMessage(t, c)
			if f.Text != "hello <script>alert(1)</script>" || f.Sender != "Alice" || f.ClientID != "client-0001" || f.Staff {
				t.Fatalf("frame %+v", f)
			}
		}
		// A resend of the same client id (a reconnecting browser) is stored once.
		send(t, wa, "client-0001", "hello <script>alert(1)</script>")
		send(t, wb, "client-0002", "hi Alice")
		if f := readMessage(t, wa); f.Text != "hi Alice" || f.Sender != "<b>Bob</b>" {
			t.Fatalf("second message %+v", f)
		}

		// Staff post through the outbox and members see it live.
		must(t, op.PostJSON(groupURL+"/messages", `{"client_id":"staff-0001","text":"欢迎新朋友"}`), http.StatusAccepted)
		must(t, op.PostJSON(groupURL+"/messages", `{"client_id":"staff-0001","text":"欢迎新朋友"}`), http.StatusAccepted, `"queued":false`)
		if f := readMessage(t, wb); f.Text != "hi Alice" {
			t.Fatalf("bob's own message: %+v", f)
		}
		if f := readMessage(t, wb); f.Text != "欢迎新朋友" || !f.Staff || f.Sender != b.Staff.Name {
			t.Fatalf("staff frame %+v", f)
		}

		// An oversized body is refused with 413 and queues nothing.
		big := op.PostJSON(groupURL+"/messages", `{"client_id":"staff-0002","text":"`+strings.Repeat("x", 70<<10)+`"}`)
		must(t, big, http.StatusRequestEntityTooLarge, `"too_large"`)
		must(t, op.PostJSON(groupURL+"/messages", `{"client_id":"staff-0003","text":"`+strings.Repeat("长", 2001)+`"}`), http.StatusBadRequest, "longer than 2000")
		must(t, op.PostJSON(groupURL+"/messages", `{"client_id":"staff-0003","text":`), http.StatusBadRequest)

		// History: the console page and a reconnect with after=0 page show all three once, escaped.
		page = op.Get(groupURL)
		must(t, page, 200, "hello &lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;Bob&lt;/b&gt;", "欢迎新朋友")
		if strings.Contains(page.Body, "<script>alert(1)") || strings.Contains(page.Body, "<b>Bob</b>") {
			t.Fatal("member text reached the page unescaped")
		}
		hist := op.Get(groupURL + "/messages?after=0")
		var h struct{ Messages []wsFrame }
		json.Unmarshal([]byte(hist.Body), &h)
		if len(h.Messages) != 3 {
			t.Fatalf("history has %d messages, want 3 (no duplicate): %s", len(h.Messages), hist.Body)
		}
		wc, _, err := alice.Dial(ctx, fmt.Sprintf("%s/ws?after=%d", chat, h.Messages[0].ID))
		if err != nil {
			t.Fatal(err)
		}
		defer wc.CloseNow()
		if f := readMessage(t, wc); f.ID != h.Messages[1].ID {
			t.Fatalf("catch-up started at %d, want %d", f.ID, h.Messages[1].ID)
		}
		if f := readMessage(t, wc); f.ID != h.Messages[2].ID {
			t.Fatalf("catch-up second %d, want %d", f.ID, h.Messages[2].ID)
		}

		// The members list and a member profile show Bob, escaped, with his identity and timeline.
		members := op.Get("/console/members?q=bob")
		must(t, members, 200, "&lt;b&gt;Bob&lt;/b&gt;")
		bobURL := "/console/members/" + between(members.Body, `href="/console/members/`, `"`)
		must(t, op.Get(bobURL), 200, "&lt;b&gt;Bob&lt;/b&gt;", "web-", "hi Alice")
	})
}

// Bad input on the member side: unknown and expired links are friendly
// pages; oversized and overlong messages are refused; a non-member and a
// removed member cannot post or listen.
func TestMemberBadInput(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("shop")
		op := e.Client()
		op.Login(b)
		must(t, e.Client().Get("/j/doesnotexist"), http.StatusNotFound, "<html")
		must(t, e.Client().Get("/j/"+strings.Repeat("x", 500)), http.StatusNotFound)
		must(t, op.PostForm(fmt.Sprintf("/console/groups/%d/joincodes/%d/disable", b.Group.ID, b.JoinCode.ID), nil), http.StatusSeeOther)
		must(t, e.Client().Get("/j/"+b.JoinCode.Code), http.StatusGone)
		must(t, e.Client().PostForm("/j/"+b.JoinCode.Code, url.Values{"name": {"x"}}), http.StatusGone)

		must(t, op.PostForm(fmt.Sprintf("/console/groups/%d/joincodes", b.Group.ID), url.Values{"source": {"poster"}}), http.StatusSeeOther)
		codes, err := e.App.Community.JoinCodes(context.Background(), b.Tenant.ID, b.Group.ID)
		if err != nil || len(codes) != 2 || codes[1].Source != "poster" {
			t.Fatalf("join codes %+v %v", codes, err)
		}
		code := codes[1].Code
		must(t, op.Get(fmt.Sprintf("/console/groups/%d", b.Group.ID)), 200, e.URL+"/j/"+code)

		// Invalid name: the form comes back with the reason; nothing is stored.
		before := countMembers(t, e, b.Tenant.ID)
		must(t, e.Client().PostForm("/j/"+code, url.Values{"name": {"   "}}), http.StatusBadRequest, "display name is empty")
		must(t, e.Client().PostForm("/j/"+code, url.Values{"name": {strings.Repeat("长", 41)}}), http.StatusBadRequest)
		must(t, e.Client().PostForm("/j/"+code, url.Values{"name": {"ok"}, "phone": {"call me"}}), http.StatusBadRequest)
		big := e.Client().PostForm("/j/"+code, url.Values{"name": {strings.Repeat("a", 70<<10)}})
		if big.Status != http.StatusRequestEntityTooLarge && big.Status != http.StatusBadRequest {
			t.Fatalf("oversized join form: %d", big.Status)
		}
		if n := countMembers(t, e, b.Tenant.ID); n != before {
			t.Fatalf("refused joins stored members: %d → %d", before, n)
		}

		m := e.Client()
		chat := m.Join(code, "Mia")
		ctx := context.Background()
		ws, _, err := m.Dial(ctx, chat+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		send(t, ws, "client-long", strings.Repeat("字", 2001))
		if f := read(t, ws); f.Type != "error" || f.Code != "too_long" {
			t.Fatalf("overlong: %+v", f)
		}
		send(t, ws, "client-blank", "  \n ")
		if f := read(t, ws); f.Code != "empty" {
			t.Fatalf("blank: %+v", f)
		}
		send(t, ws, "x", "bad id")
		if f := read(t, ws); f.Code != "bad_frame" {
			t.Fatalf("bad client id: %+v", f)
		}
		ws.Write(ctx, websocket.MessageText, []byte("{not json"))
		if f := read(t, ws); f.Code != "bad_frame" {
			t.Fatalf("bad json: %+v", f)
		}
		// A frame over the read limit closes the socket with 1009.
		ws.Write(ctx, websocket.MessageText, []byte(`{"type":"send","client_id":"client-huge","text":"`+strings.Repeat("a", 20<<10)+`"}`))
		_, _, err = ws.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Fatalf("oversized frame: %v", err)
		}

		// Someone with no cookie, or another brand's cookie, cannot listen.
		if _, resp, err := e.Client().Dial(ctx, chat+"/ws"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("anonymous websocket: %v %v", err, resp)
		}
		must(t, e.Client().Get(chat), http.StatusForbidden)
		// A forged cookie is no cookie.
		forged := e.Client()
		forged.SetCookie(&http.Cookie{Name: fmt.Sprintf("ll_m%d", b.Tenant.ID), Value: fmt.Sprintf("%d.1.9999999999.AAAA", b.Tenant.ID)})
		must(t, forged.Get(chat), http.StatusForbidden)

		// Removal: the open socket is cut, new ones refused, the link refuses a rejoin.
		ws2, _, err := m.Dial(ctx, chat+"/ws")
		if err != nil {
			t.Fatal(err)
		}
		defer ws2.CloseNow()
		mid := between(op.Get(fmt.Sprintf("/console/groups/%d", b.Group.ID)).Body, `href="/console/members/`, `"`)
		must(t, op.PostForm(fmt.Sprintf("/console/groups/%d/members/%s/remove", b.Group.ID, mid), nil), http.StatusSeeOther)
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for {
			if _, _, err := ws2.Read(rctx); err != nil {
				if rctx.Err() != nil {
					t.Fatal("removed member's socket stayed open")
				}
				break
			}
		}
		if _, resp, err := m.Dial(ctx, chat+"/ws"); err == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("removed member websocket: %v", err)
		}
		must(t, m.PostForm("/j/"+code, nil), http.StatusForbidden)
	})
}

func countMembers(t *testing.T, e *apptest.Env, tenantID int64) int {
	p, err := e.App.Members.List(context.Background(), tenantID, "", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

func TestConsoleAuth(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("auth")
		anon := e.Client()
		r := anon.Get("/console/groups")
		must(t, r, http.StatusSeeOther)
		if !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("redirect to %q", r.Header.Get("Location"))
		}
		must(t, anon.PostForm("/console/groups", url.Values{"name": {"x"}}), http.StatusUnauthorized)

		// Wrong password, unknown brand and unknown email look the same.
		for _, f := range []url.Values{
			{"tenant": {"auth"}, "email": {b.Staff.Email}, "password": {"wrong-password"}},
			{"tenant": {"nobody"}, "email": {b.Staff.Email}, "password": {b.Password}},
			{"tenant": {"auth"}, "email": {"who@auth.test"}, "password": {b.Password}},
		} {
			must(t, e.Client().PostForm("/login", f), http.StatusUnauthorized, "Wrong brand, email or password")
		}

		op := e.Client()
		op.Login(b)
		ck := op.Cookie("ll_session")
		if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie %+v", ck)
		}
		// CSRF: a console POST without the token, or with another, is refused.
		must(t, op.PostForm("/console/groups", url.Values{"name": {"x"}, "kind": {"vertical"}, "csrf": {"forged"}}), http.StatusForbidden)
		saved := op.CSRF
		op.CSRF = ""
		must(t, op.PostForm("/console/groups", url.Values{"name": {"x"}, "kind": {"vertical"}}), http.StatusForbidden)
		op.CSRF = saved
		// A cross-site POST is refused before it reaches a handler.
		r = op.Do(http.MethodPost, "/console/groups", strings.NewReader("name=x&kind=vertical&csrf="+saved),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}})
		must(t, r, http.StatusForbidden)
		r = op.Do(http.MethodPost, "/console/groups", strings.NewReader("name=x&kind=vertical&csrf="+saved),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://evil.example"}})
		must(t, r, http.StatusForbidden)
		// Invalid group input comes back as the form with the reason.
		must(t, op.PostForm("/console/groups", url.Values{"name": {""}, "kind": {"vertical"}}), http.StatusBadRequest, "group name")
		must(t, op.PostForm("/console/groups", url.Values{"name": {"x"}, "kind": {"mystery"}}), http.StatusBadRequest, "group type")

		// Logout ends the session server-side: the old cookie no longer works.
		old := *op.Cookie("ll_session")
		must(t, op.PostForm("/logout", nil), http.StatusSeeOther)
		replay := e.Client()
		replay.SetCookie(&old)
		must(t, replay.Get("/console"), http.StatusSeeOther)

		// Login attempts are rate-limited per account.
		limited := false
		for i := 0; i < 8; i++ {
			r := e.Client().PostForm("/login", url.Values{"tenant": {"auth"}, "email": {"guess@auth.test"}, "password": {"guess-" + fmt.Sprint(i)}})
			if r.Status == http.StatusTooManyRequests {
				limited = true
				break
			}
		}
		if !limited {
			t.Fatal("8 failed logins in a row were never rate-limited")
		}
	})
}

// Every console route, called with another tenant's session and this
// tenant's ids, is denied (404: the other tenant's ids do not exist for it).
func TestTenantIsolationSweep(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		a, b := e.Brand("alpha"), e.Brand("beta")
		memberA := e.Client()
		memberA.Join(a.JoinCode.Code, "A's member")
		mid := between(func() string {
			op := e.Client()
			op.Login(a)
			return op.Get(fmt.Sprintf("/console/groups/%d", a.Group.ID)).Body
		}(), `href="/console/members/`, `"`)
		intruder := e.Client()
		intruder.Login(b)

		params := map[string]string{
			"{id}": fmt.Sprint(a.Group.ID), "{mid}": mid, "{cid}": fmt.Sprint(a.JoinCode.ID),
			"{code}": a.JoinCode.Code + ".png",
		}
		swept := 0
		for _, rt := range e.App.Web.Routes() {
			if rt.Access != "staff" || !strings.Contains(rt.Pattern, "{") {
				continue
			}
			method, path, _ := strings.Cut(rt.Pattern, " ")
			if strings.HasPrefix(path, "/console/members/") {
				params["{id}"] = mid
			} else {
				params["{id}"] = fmt.Sprint(a.Group.ID)
			}
			for k, v := range params {
				path = strings.ReplaceAll(path, k, v)
			}
			var r apptest.Response
			if method == http.MethodGet {
				r = intruder.Get(path)
			} else {
				r = intruder.PostForm(path, url.Values{"name": {"hijack"}, "kind": {"vip"}, "tag": {"x"}, "from": {mid},
					"text": {"hijack"}, "client_id": {"intruder-01"}, "opted_out": {"true"}, "source": {"x"}})
			}
			if r.Status != http.StatusNotFound {
				t.Errorf("%s %s with another tenant's session: status %d, want 404", method, path, r.Status)
			}
			swept++
		}
		if swept < 12 {
			t.Fatalf("swept only %d routes", swept)
		}
		// And nothing of A changed.
		g, err := e.App.Community.Group(context.Background(), a.Tenant.ID, a.Group.ID)
		if err != nil || g.Name != a.Group.Name || g.Kind != a.Group.Kind {
			t.Fatalf("group of A changed: %+v %v", g, err)
		}
		if n, _ := e.App.Outbox.Counts(context.Background(), a.Tenant.ID); n["pending"]+n["sent"] != 0 {
			t.Fatalf("intruder queued messages to A: %v", n)
		}
		// A's member cookie does not open B's pages either.
		must(t, memberA.Get(fmt.Sprintf("/m/%s/g/%d", b.Tenant.Slug, b.Group.ID)), http.StatusForbidden)
	})
}

func TestHealthReadyMetrics(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	c := e.Client()
	must(t, c.Get("/healthz"), 200, "ok")
	must(t, c.Get("/readyz"), 200, "ready")
	must(t, c.Get("/metrics"), 200, "liveloop_http_requests_total", "liveloop_outbox_sent_total")
	r := c.Get("/login")
	must(t, r, 200)
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestLanguages(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	for lang, want := range map[string]string{"zh-CN": "登录 liveloop", "zh-TW": "登入 liveloop", "en": "Log in to liveloop", "zh-HK,zh;q=0.9": "登入 liveloop"} {
		r := e.Client().Do(http.MethodGet, "/login", nil, http.Header{"Accept-Language": {lang}})
		must(t, r, 200, want)
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return s
	}
	return s[:j]
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
