package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/channel/telegram/telegramtest"
	"github.com/liveloop/liveloop/internal/config"
	"github.com/liveloop/liveloop/internal/store"
)

const tgToken = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// tgDriver drives liveloop as Telegram does: webhook deliveries with the
// secret token, and a fake Bot API that receives the sends.
type tgDriver struct {
	br     *brand
	fake   *telegramtest.Server
	acc    account.Account
	hook   string
	secret string
	chat   telegramtest.Chat
	ids    map[string]int64
	users  map[string]telegramtest.User
}

func newTelegram(t testing.TB, d store.Dialect) (*brand, *tgDriver) {
	fake := telegramtest.New(t, tgToken)
	e := apptest.Start(t, d, func(c *config.Config) { c.TelegramAPIURL = fake.URL() })
	br := newBrand(t, e, "tg")
	r := br.op.PostForm("/console/channels", url.Values{"kind": {"telegram"}, "name": {"花漾小助手"}, "token": {tgToken},
		"persona": {fmt.Sprint(br.persona)}, "mode": {"webhook"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("connect: %d %.300s", r.Status, r.Body)
	}
	accs, err := e.App.Accounts.List(context.Background(), br.b.Tenant.ID)
	if err != nil || len(accs) != 1 {
		t.Fatalf("accounts %v %v", accs, err)
	}
	sec, err := e.App.Accounts.Secrets(context.Background(), accs[0])
	if err != nil {
		t.Fatal(err)
	}
	page := br.op.Get("/console/channels")
	if !strings.Contains(page.Body, accs[0].HookPath()) || strings.Contains(page.Body, tgToken) || strings.Contains(page.Body, sec["webhook_secret"]) {
		t.Fatalf("channels page: webhook URL missing or a secret shown")
	}
	if !strings.Contains(page.Body, "ok: @") {
		t.Fatalf("the connection check did not reach the fake: %.2000s", page.Body)
	}
	return br, &tgDriver{br: br, fake: fake, acc: accs[0], hook: e.URL + accs[0].HookPath(), secret: sec["webhook_secret"],
		chat: telegramtest.Chat{ID: -1001234567890, Type: "supergroup", Title: "花漾护肤群"}, ids: map[string]int64{}, users: map[string]telegramtest.User{}}
}

func (d *tgDriver) updateID(id string) int64 {
	if n, ok := d.ids[id]; ok {
		return n
	}
	n := int64(1000 + len(d.ids))
	d.ids[id] = n
	return n
}

func (d *tgDriver) user(name string) telegramtest.User {
	if u, ok := d.users[name]; ok {
		return u
	}
	u := telegramtest.User{ID: 5_000_000_000 + int64(len(d.users)), FirstName: name}
	d.users[name] = u
	return u
}

func (d *tgDriver) post(t *testing.T, secret string, body []byte) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(telegramtest.WebhookRequest(d.hook, secret, body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *tgDriver) Join(t *testing.T, user string) {
	if st := d.post(t, d.secret, telegramtest.ChatMemberUpdate(d.updateID("join:"+user), d.chat, d.user(user), "left", "member")); st != http.StatusOK {
		t.Fatalf("join delivery: %d", st)
	}
}

func (d *tgDriver) Say(t *testing.T, user, id, text string) int {
	return d.post(t, d.secret, telegramtest.TextUpdate(d.updateID(id), d.chat, d.user(user), text))
}

func (d *tgDriver) Press(t *testing.T, user, id, data string) {
	if st := d.post(t, d.secret, telegramtest.CallbackUpdate(d.updateID(id), d.chat, d.user(user), 1, data)); st != http.StatusOK {
		t.Fatalf("button delivery: %d", st)
	}
}

func (d *tgDriver) Outbound(t *testing.T) []string {
	var out []string
	for _, m := range d.fake.Sent() {
		if m.ChatID == d.chat.ID {
			out = append(out, m.Text)
		}
	}
	return out
}

func (d *tgDriver) Forge(t *testing.T, text string) int {
	body := telegramtest.TextUpdate(d.updateID("forged"), d.chat, d.user("mallory"), text)
	if st := d.post(t, "", body); st != http.StatusUnauthorized {
		return st
	}
	return d.post(t, "wrong-secret-wrong-secret", body)
}

func (d *tgDriver) Oversize(t *testing.T) int {
	return d.post(t, d.secret, telegramtest.TextUpdate(d.updateID("big"), d.chat, d.user("alice"), strings.Repeat("长", 400_000)))
}

func (d *tgDriver) Group(t *testing.T) int64 {
	g, err := d.br.e.App.Community.GroupByExternal(context.Background(), d.br.e.App.DB.R, d.br.b.Tenant.ID, d.acc.Channel(), fmt.Sprint(d.chat.ID))
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func TestTelegram(t *testing.T) {
	each(t, func(t *testing.T, dialect store.Dialect) {
		br, d := newTelegram(t, dialect)
		run(t, br, d)
		// Poll buttons reach Telegram as an inline keyboard.
		var buttons int
		for _, m := range d.fake.Sent() {
			buttons += len(m.Buttons)
		}
		if buttons != 2 {
			t.Fatalf("%d inline buttons sent, want the poll's 2", buttons)
		}
		// The button press was answered (Telegram stops the spinner).
		eventually(t, "answerCallbackQuery", func() bool { return len(d.fake.Calls("answerCallbackQuery")) > 0 })
		if v := d.fake.Violations(); v != 0 {
			t.Fatalf("%d rate-limit violations", v)
		}
		// A live's coupon drop reaches the group with a claim button; a
		// press claims one for the member, once however often pressed.
		at := time.Now().Add(time.Hour).In(br.b.Tenant.Location()).Format("2006-01-02T15:04")
		r := br.op.PostForm("/console/lives", url.Values{"title": {"TG 专场"}, "scheduled_at": {at},
			"groups": {fmt.Sprint(d.Group(t))}, "alert_repeat": {"1"}, "alert_minutes": {"10"}})
		var liveID int64
		fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &liveID)
		br.op.PostForm(fmt.Sprintf("/console/lives/%d/start", liveID), url.Values{})
		if r := br.op.PostForm(fmt.Sprintf("/console/lives/%d/drop", liveID), url.Values{"title": {"减20"}, "quantity": {"5"}, "minutes": {"10"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("drop: %d %.300s", r.Status, r.Body)
		}
		var data string
		eventually(t, "the drop's claim button", func() bool {
			for _, m := range d.fake.Sent() {
				for _, b := range m.Buttons {
					if strings.HasPrefix(b.CallbackData, "drop:") {
						data = b.CallbackData
						return true
					}
				}
			}
			return false
		})
		d.Press(t, "alice", "claim-1", data)
		d.Press(t, "alice", "claim-2", data)
		eventually(t, "the claim", func() bool {
			return br.count(t, `SELECT COUNT(*) FROM live_coupon_claims WHERE tenant_id = $1`, br.b.Tenant.ID) == 1
		})
		// Moderation is carried out on the platform: a link from a member
		// mutes them in the Telegram group (restrictChatMember).
		if _, err := br.e.App.Bot.SaveRule(context.Background(), br.b.Tenant.ID, bot.Rule{Kind: bot.KindModeration, PersonaID: br.persona,
			Enabled: true, Moderation: &bot.ModerationConfig{BlockLinks: true, MuteMinutes: 10, WarnsBeforeMute: 0}}); err != nil {
			t.Fatal(err)
		}
		d.Say(t, "alice", "spam-1", "加我 https://spam.example/x")
		eventually(t, "the mute recorded", func() bool {
			return br.count(t, `SELECT COUNT(*) FROM moderation_actions WHERE tenant_id = $1 AND action = 'mute'`, br.b.Tenant.ID) == 1
		})
		eventually(t, "restrictChatMember", func() bool {
			for _, c := range d.fake.Calls("restrictChatMember") {
				if c.Params["user_id"] == fmt.Sprint(d.user("alice").ID) {
					return true
				}
			}
			return false
		})
		// Staff lift the mute in the console: lifted in the group too.
		var actionID int64
		br.e.App.DB.R.QueryRowContext(context.Background(), `SELECT id FROM moderation_actions WHERE tenant_id = $1 AND action = 'mute'`,
			br.b.Tenant.ID).Scan(&actionID)
		if r := br.op.PostForm(fmt.Sprintf("/console/moderation/%d/undo", actionID), url.Values{}); r.Status != http.StatusSeeOther {
			t.Fatalf("undo: %d", r.Status)
		}
		eventually(t, "the restriction lifted", func() bool {
			for _, c := range d.fake.Calls("restrictChatMember") {
				if c.Params["user_id"] == fmt.Sprint(d.user("alice").ID) && strings.Contains(c.Params["permissions"], `"can_send_messages":true`) {
					return true
				}
			}
			return false
		})
		// The bot is kicked: the group becomes unreachable.
		d.fake.Kick(d.chat.ID)
		unreachable(t, br, d.Group(t), func() int { return len(d.fake.Calls("sendMessage")) })
	})
}

// Bad deliveries each get a clear status and a metric, and store nothing;
// a chat liveloop has not seen becomes a group, not a lost event.
func TestWebhookBadInput(t *testing.T) {
	br, d := newTelegram(t, store.SQLite)
	count := func() int { return br.count(t, `SELECT COUNT(*) FROM events WHERE tenant_id = $1`, br.b.Tenant.ID) }
	before := count()
	send := func(url, contentType string, body []byte) int {
		req := telegramtest.WebhookRequest(url, d.secret, body)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := telegramtest.TextUpdate(1, d.chat, d.user("alice"), "你好")
	for _, c := range []struct {
		name, url, ct string
		body          []byte
		want          int
	}{
		{"unknown account", br.e.URL + "/hooks/telegram/" + strings.Repeat("a", 32), "application/json", good, http.StatusNotFound},
		{"unknown platform", br.e.URL + "/hooks/myspace/" + d.acc.HookKey, "application/json", good, http.StatusNotFound},
		{"wrong content type", d.hook, "text/plain", good, http.StatusUnsupportedMediaType},
		{"malformed JSON", d.hook, "application/json", []byte(`{"update_id": 5, "message": {`), http.StatusBadRequest},
		{"not an update", d.hook, "application/json", []byte(`[1,2,3]`), http.StatusBadRequest},
	} {
		if got := send(c.url, c.ct, c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if n := count(); n != before {
		t.Fatalf("refused deliveries stored %d events", n-before)
	}
	// A chat never seen: stored, as a new group.
	other := telegramtest.Chat{ID: -1009876543210, Type: "supergroup", Title: "新群"}
	if st := d.post(t, d.secret, telegramtest.TextUpdate(2, other, d.user("bob"), "新群第一条")); st != http.StatusOK {
		t.Fatalf("unknown chat: %d", st)
	}
	if n := br.count(t, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND external_id = $2 AND name = '新群'`, br.b.Tenant.ID, "-1009876543210"); n != 1 {
		t.Fatal("the new chat did not become a group")
	}
	m := br.e.Client().Get("/metrics").Body
	for _, want := range []string{`liveloop_webhook_deliveries_total{kind="telegram",outcome="bad_content_type"} 1`,
		`liveloop_webhook_deliveries_total{kind="telegram",outcome="malformed"} 2`,
		`liveloop_webhook_deliveries_total{kind="telegram",outcome="unknown_account"} 1`,
		`liveloop_webhook_events_total{kind="telegram",result="stored"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Long polling, for a liveloop without a public URL: the account's
// webhook is removed, updates are fetched and stored once, and the offset
// moves on.
func TestTelegramPolling(t *testing.T) {
	fake := telegramtest.New(t, tgToken)
	e := apptest.Start(t, store.SQLite, func(c *config.Config) { c.TelegramAPIURL = fake.URL() })
	br := newBrand(t, e, "tgpoll")
	if r := br.op.PostForm("/console/channels", url.Values{"kind": {"telegram"}, "name": {"poller"}, "token": {tgToken},
		"mode": {"polling"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("connect: %d %.300s", r.Status, r.Body)
	}
	chat := telegramtest.Chat{ID: -1001111111111, Type: "supergroup", Title: "轮询群"}
	fake.QueueUpdate(telegramtest.TextUpdate(501, chat, telegramtest.User{ID: 5_100_000_001, FirstName: "小美"}, "请问什么时候发货"))
	eventually(t, "the polled message", func() bool {
		return br.count(t, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'message' AND source_id = 'u501'`, br.b.Tenant.ID) == 1
	})
	if len(fake.Calls("deleteWebhook")) == 0 {
		t.Fatal("polling started without removing the webhook")
	}
	// The rules answer through the same bot.
	eventually(t, "the keyword reply", func() bool {
		for _, m := range fake.Sent() {
			if m.ChatID == chat.ID && strings.Contains(m.Text, "48 小时内发货") {
				return true
			}
		}
		return false
	})
	eventually(t, "the offset saved", func() bool {
		return br.count(t, `SELECT COUNT(*) FROM channel_accounts WHERE poll_offset = 502`) == 1
	})
}

// A private message from the console to a member met on Telegram goes
// through the brand's bot to the member's private chat (the identity names
// the platform, the bot is the one of the member's group).
func TestTelegramConsoleDM(t *testing.T) {
	each(t, func(t *testing.T, dialect store.Dialect) {
		br, d := newTelegram(t, dialect)
		d.Join(t, "mei")
		u := d.user("mei")
		var memberID int64
		eventually(t, "the member from Telegram", func() bool {
			br.e.App.DB.R.QueryRow(`SELECT member_id FROM identities WHERE tenant_id = $1 AND external_id = $2`,
				br.b.Tenant.ID, fmt.Sprint(u.ID)).Scan(&memberID)
			return memberID != 0
		})
		r := br.op.PostForm(fmt.Sprintf("/console/members/%d/dm", memberID), url.Values{"client_id": {"console-dm-0001"}, "text": {"美美，你的心愿单到货了"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("dm: %d %.300s", r.Status, r.Body)
		}
		eventually(t, "the DM in the member's private chat", func() bool {
			for _, m := range d.fake.Sent() {
				if m.ChatID == u.ID && strings.Contains(m.Text, "心愿单到货了") {
					return true
				}
			}
			return false
		})
	})
}
