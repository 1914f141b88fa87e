package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/store"
)

// webDriver drives the built-in web community as members' browsers do:
// join by link, chat over WebSocket (a resend with the same client id is
// the redelivery), vote with the page's buttons.
type webDriver struct {
	br    *brand
	mu    sync.Mutex
	users map[string]*webUser
	seen  []string // staff and persona messages any member's socket saw
}

type webUser struct {
	c    *apptest.Client
	chat string
	ws   *websocket.Conn
}

func (d *webDriver) user(t *testing.T, name string) *webUser {
	d.mu.Lock()
	u, ok := d.users[name]
	d.mu.Unlock()
	if !ok {
		t.Fatalf("%s has not joined", name)
	}
	return u
}

func (d *webDriver) Join(t *testing.T, name string) {
	c := d.br.e.Client()
	chat := c.Join(d.br.b.JoinCode.Code, name)
	ws, _, err := c.Dial(context.Background(), chat+"/ws?after=0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	d.mu.Lock()
	d.users[name] = &webUser{c: c, chat: chat, ws: ws}
	d.mu.Unlock()
	go func() {
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f struct {
				Type  string `json:"type"`
				Staff bool   `json:"staff"`
				Text  string `json:"text"`
			}
			if json.Unmarshal(b, &f) == nil && f.Type == "message" && f.Staff {
				d.mu.Lock()
				d.seen = append(d.seen, f.Text)
				d.mu.Unlock()
			}
		}
	}()
}

func (d *webDriver) Say(t *testing.T, name, id, text string) int {
	u := d.user(t, name)
	b, _ := json.Marshal(map[string]string{"type": "send", "client_id": "conformance-" + id, "text": text})
	if err := u.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	return http.StatusOK
}

func (d *webDriver) Press(t *testing.T, name, id, data string) {
	var pollID, choice int64
	if _, err := fmt.Sscanf(data, "poll:%d:%d", &pollID, &choice); err != nil {
		t.Fatalf("button data %q", data)
	}
	u := d.user(t, name)
	r := u.c.PostForm(fmt.Sprintf("%s/polls/%d/vote", u.chat, pollID), url.Values{"choice": {fmt.Sprint(choice)}, "once": {"conformance-" + id}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("vote: %d %.300s", r.Status, r.Body)
	}
}

func (d *webDriver) Outbound(t *testing.T) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.seen...)
}

// Forge: a browser of another site cannot open a member's socket (the
// Origin check); nothing to sign on the web community.
func (d *webDriver) Forge(t *testing.T, text string) int {
	u := d.user(t, "alice")
	_, resp, err := websocket.Dial(context.Background(), d.br.e.URL+u.chat+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://evil.example"}, "Cookie": {cookieHeader(u.c, d.br.b.Tenant.ID)}}})
	if err == nil {
		t.Fatal("a cross-site socket was accepted")
	}
	if resp != nil && resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site socket: %d, want 403", resp.StatusCode)
	}
	return 0
}

// cookieHeader is the member's cookie, as a hostile page's request would
// carry it.
func cookieHeader(c *apptest.Client, tenantID int64) string {
	ck := c.Cookie(fmt.Sprintf("ll_m%d", tenantID))
	if ck == nil {
		return ""
	}
	return ck.Name + "=" + ck.Value
}

func (d *webDriver) Oversize(t *testing.T) int { return 0 } // frames over 16 KiB close the socket (web tests)

func (d *webDriver) Group(t *testing.T) int64 { return d.br.b.Group.ID }

func TestWebCommunity(t *testing.T) {
	each(t, func(t *testing.T, dialect store.Dialect) {
		e := apptest.Start(t, dialect)
		br := newBrand(t, e, "web")
		run(t, br, &webDriver{br: br, users: map[string]*webUser{}})
	})
}
