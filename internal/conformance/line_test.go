package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/channel/line/linetest"
	"github.com/liveloop/liveloop/internal/config"
	"github.com/liveloop/liveloop/internal/store"
)

const (
	lineToken  = "line-access-token-0123456789abcdefghijklmnop"
	lineSecret = "0123456789abcdef0123456789abcdef"
	lineGroup  = "C4af4980629f5d4b4b7a2e5f0a4c1d2e3"
)

// lineDriver drives liveloop as LINE does: signed webhook deliveries with
// reply tokens, and a fake Messaging API that receives replies and pushes.
type lineDriver struct {
	br   *brand
	fake *linetest.Server
	acc  account.Account
	hook string
}

func newLINE(t testing.TB, d store.Dialect) (*brand, *lineDriver) {
	fake := linetest.New(t, lineToken, lineSecret)
	e := apptest.Start(t, d, func(c *config.Config) { c.LINEAPIURL = fake.URL() })
	br := newBrand(t, e, "line")
	r := br.op.PostForm("/console/channels", url.Values{"kind": {"line"}, "name": {"花漾美妆 LINE"}, "channel_secret": {lineSecret},
		"access_token": {lineToken}, "persona": {fmt.Sprint(br.persona)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("connect: %d %.300s", r.Status, r.Body)
	}
	accs, err := e.App.Accounts.List(context.Background(), br.b.Tenant.ID)
	if err != nil || len(accs) != 1 {
		t.Fatalf("accounts %v %v", accs, err)
	}
	page := br.op.Get("/console/channels")
	if strings.Contains(page.Body, lineToken) || strings.Contains(page.Body, lineSecret) || !strings.Contains(page.Body, "push messages") {
		t.Fatalf("channels page shows a secret or no quota: %.2000s", page.Body)
	}
	fake.AddGroup(lineGroup, "花漾护肤群")
	return br, &lineDriver{br: br, fake: fake, acc: accs[0], hook: e.URL + accs[0].HookPath()}
}

func lineUser(name string) string { return "U" + fmt.Sprintf("%032x", []byte(name))[:32] }

func (d *lineDriver) post(t *testing.T, secret string, body []byte) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(linetest.Webhook(d.hook, secret, body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *lineDriver) ev(id, user string) linetest.Event {
	return linetest.Event{ID: id, Chat: lineGroup, User: user, ReplyToken: d.fake.ReplyToken(lineGroup)}
}

func (d *lineDriver) Join(t *testing.T, user string) {
	u := lineUser(user)
	d.fake.AddProfile(lineGroup, u, user)
	if st := d.post(t, lineSecret, linetest.Callback(linetest.MemberJoined(d.ev("join-"+user, ""), u))); st != http.StatusOK {
		t.Fatalf("join delivery: %d", st)
	}
}

func (d *lineDriver) Say(t *testing.T, user, id, text string) int {
	return d.post(t, lineSecret, linetest.Callback(linetest.TextMessage(d.ev(id, lineUser(user)), "msg"+id, text)))
}

func (d *lineDriver) Press(t *testing.T, user, id, data string) {
	if st := d.post(t, lineSecret, linetest.Callback(linetest.Postback(d.ev(id, lineUser(user)), data))); st != http.StatusOK {
		t.Fatalf("postback delivery: %d", st)
	}
}

func (d *lineDriver) Outbound(t *testing.T) []string {
	var out []string
	for _, del := range d.fake.Sent() {
		if del.To != lineGroup {
			continue
		}
		for _, m := range del.Messages {
			var msg struct {
				Text string `json:"text"`
			}
			json.Unmarshal(m, &msg)
			out = append(out, msg.Text)
		}
	}
	return out
}

func (d *lineDriver) Forge(t *testing.T, text string) int {
	body := linetest.Callback(linetest.TextMessage(d.ev("forged", lineUser("mallory")), "forged", text))
	if st := d.post(t, "ffffffffffffffffffffffffffffffff", body); st != http.StatusUnauthorized {
		return st
	}
	req := linetest.Webhook(d.hook, lineSecret, body)
	req.Header.Del("X-Line-Signature")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *lineDriver) Oversize(t *testing.T) int {
	return d.post(t, lineSecret, linetest.Callback(linetest.TextMessage(d.ev("big", lineUser("alice")), "big", strings.Repeat("长", 400_000))))
}

func (d *lineDriver) Group(t *testing.T) int64 {
	g, err := d.br.e.App.Community.GroupByExternal(context.Background(), d.br.e.App.DB.R, d.br.b.Tenant.ID, d.acc.Channel(), lineGroup)
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func TestLINE(t *testing.T) {
	each(t, func(t *testing.T, dialect store.Dialect) {
		br, d := newLINE(t, dialect)
		run(t, br, d)
		// LINE webhooks carry no group name: liveloop asked for it.
		if n := br.count(t, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND name = '花漾护肤群'`, br.b.Tenant.ID); n != 1 {
			t.Fatal("the LINE group was not named from its summary")
		}
		// Answers to members' messages used their free reply tokens; the
		// console's announcements (no token) were pushes with a retry key.
		var replies, pushes int
		for _, del := range d.fake.Sent() {
			switch del.Kind {
			case "reply":
				replies++
			case "push":
				pushes++
				if del.RetryKey == "" {
					t.Error("a push without X-Line-Retry-Key")
				}
			}
		}
		if replies == 0 || pushes == 0 {
			t.Fatalf("%d replies, %d pushes", replies, pushes)
		}
		// A live's product switch reaches the LINE group as a Flex card.
		at := time.Now().Add(time.Hour).In(br.b.Tenant.Location()).Format("2006-01-02T15:04")
		r := br.op.PostForm("/console/lives", url.Values{"title": {"LINE 專場"}, "scheduled_at": {at}, "products": {"修護精華 | 129 | 99 | 20"},
			"groups": {fmt.Sprint(d.Group(t))}, "alert_repeat": {"1"}, "alert_minutes": {"10"}})
		var liveID int64
		fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &liveID)
		l, err := br.e.App.Lives.Get(context.Background(), br.b.Tenant.ID, liveID)
		if err != nil || len(l.Products) != 1 {
			t.Fatalf("live %+v %v", l, err)
		}
		br.op.PostForm(fmt.Sprintf("/console/lives/%d/start", liveID), url.Values{})
		br.op.PostForm(fmt.Sprintf("/console/lives/%d/product", liveID), url.Values{"product": {fmt.Sprint(l.Products[0].ID)}})
		eventually(t, "a Flex card", func() bool {
			for _, del := range d.fake.Sent() {
				for _, m := range del.Messages {
					if strings.Contains(string(m), `"type":"flex"`) && strings.Contains(string(m), "修護精華") {
						return true
					}
				}
			}
			return false
		})
		// LINE says "slow down" (no Retry-After): liveloop waits and resumes.
		d.fake.RateLimit(2)
		if state, _ := br.outboxState(t, br.post(t, d.Group(t), "after-429", "限流之后")); state != "sent" {
			t.Fatalf("after 429s: %s, want sent", state)
		}
		// The bot leaves the group: it becomes unreachable.
		d.fake.LeaveGroup(lineGroup)
		unreachable(t, br, d.Group(t), func() int { return len(d.fake.Requests()) })
		// The Verify button's empty delivery is accepted.
		if st := d.post(t, lineSecret, linetest.Callback()); st != http.StatusOK {
			t.Fatalf("verify delivery: %d", st)
		}
	})
}
