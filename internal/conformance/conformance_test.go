// Package conformance runs one suite against every channel — the built-in
// web community and each platform adapter against its fake platform — so
// that the rest of liveloop can rely on the same behaviour from all of
// them: inbound events become the same records, redeliveries are stored
// once, forged deliveries store nothing, and the community routine
// (welcome, keyword replies, check-in, polls) works through each.
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
	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// driver is one channel as the suite sees it.
type driver interface {
	// Join makes user join the group (on the platform: an inbound join).
	Join(t *testing.T, user string)
	// Say delivers user's message; id is the platform's id for it (a repeat
	// of an id is a redelivery). It returns the delivery's HTTP status.
	Say(t *testing.T, user, id, text string) int
	// Press delivers user pressing a button carrying data.
	Press(t *testing.T, user, id, data string)
	// Outbound returns the texts the platform received for the group.
	Outbound(t *testing.T) []string
	// Forge delivers a message with a missing or wrong signature and
	// returns the status (0 where the channel has no signatures).
	Forge(t *testing.T, text string) int
	// Oversize delivers a body over the limit and returns the status (0
	// where not applicable).
	Oversize(t *testing.T) int
	// Group is the group's id in liveloop, once the platform's chat is known.
	Group(t *testing.T) int64
}

// brand is the suite's tenant: an operator, an assistant persona and the
// routine's rules, set up through the console as an operator would.
type brand struct {
	e       *apptest.Env
	b       apptest.Brand
	op      *apptest.Client
	persona int64
}

func newBrand(t testing.TB, e *apptest.Env, slug string) *brand {
	b := e.Brand(slug)
	op := e.Client()
	op.Login(b)
	ctx := context.Background()
	p, err := e.App.Bot.SavePersona(ctx, b.Tenant.ID, bot.Persona{Name: "助理小花", Role: bot.RoleAssistant})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []bot.Rule{
		{Kind: bot.KindWelcome, PersonaID: p.ID, Enabled: true, Welcome: &bot.WelcomeConfig{Template: "欢迎 {names} 加入！"}},
		{Kind: bot.KindKeyword, PersonaID: p.ID, Enabled: true, Keyword: &bot.KeywordConfig{Mode: "contains", Pattern: "发货", Reply: "48 小时内发货"}},
		{Kind: bot.KindCheckIn, PersonaID: p.ID, Enabled: true, CheckIn: &bot.CheckInConfig{Question: "幸运色？", Answers: []string{"玫瑰红"},
			Hint: "花的颜色", Points: 5}},
	} {
		if _, err := e.App.Bot.SaveRule(ctx, b.Tenant.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	return &brand{e: e, b: b, op: op, persona: p.ID}
}

func (br *brand) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := br.e.App.DB.R.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// eventually polls cond (the runner and the outbox work asynchronously).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func outboundHas(t *testing.T, d driver, what, sub string) {
	t.Helper()
	eventually(t, what, func() bool {
		for _, s := range d.Outbound(t) {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	})
}

// run is the suite: the same scenario for every driver.
func run(t *testing.T, br *brand, d driver) {
	// A member joins: the welcome comes back through the channel.
	d.Join(t, "alice")
	outboundHas(t, d, "welcome", "欢迎 alice")

	// A message, delivered twice: stored once.
	if st := d.Say(t, "alice", "m-1", "大家好呀"); st != http.StatusOK {
		t.Fatalf("delivery: %d", st)
	}
	d.Say(t, "alice", "m-1", "大家好呀")
	eventually(t, "message stored", func() bool {
		return br.count(t, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'message' AND CAST(data AS TEXT) LIKE '%大家好呀%'`, br.b.Tenant.ID) == 1
	})

	// Keyword reply and the passphrase check-in.
	d.Say(t, "alice", "m-2", "请问什么时候发货")
	outboundHas(t, d, "keyword reply", "48 小时内发货")
	d.Say(t, "alice", "m-3", "签到 蓝色")
	outboundHas(t, d, "check-in hint", "花的颜色")
	d.Say(t, "alice", "m-4", "玫瑰红")
	outboundHas(t, d, "check-in", "+5")

	// A poll: announced through the channel, a button press is one vote
	// however often it is delivered.
	g := d.Group(t)
	r := br.op.PostForm("/console/activities", url.Values{"kind": {"poll"}, "group": {fmt.Sprint(g)}, "persona": {fmt.Sprint(br.persona)},
		"question": {"周五返场哪个？"}, "options": {"玫瑰红\n珊瑚色"},
		"closes_at": {time.Now().Add(time.Hour).In(br.b.Tenant.Location()).Format("2006-01-02T15:04")}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("start poll: %d %.300s", r.Status, r.Body)
	}
	var pollID int64
	fmt.Sscanf(r.Header.Get("Location"), "/console/activities/%d", &pollID)
	outboundHas(t, d, "poll announcement", "周五返场哪个？")
	for range 2 {
		d.Press(t, "alice", "b-1", fmt.Sprintf("poll:%d:2", pollID))
	}
	eventually(t, "vote", func() bool {
		return br.count(t, `SELECT COUNT(*) FROM poll_votes WHERE poll_id = $1 AND choice = 2`, pollID) == 1
	})

	// Forged and oversized deliveries: refused, nothing stored.
	before := br.count(t, `SELECT COUNT(*) FROM events WHERE tenant_id = $1`, br.b.Tenant.ID)
	if st := d.Forge(t, "伪造的消息"); st != 0 && st != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %d, want 401", st)
	}
	if st := d.Oversize(t); st != 0 && st != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized delivery: %d, want 413", st)
	}
	if n := br.count(t, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND CAST(data AS TEXT) LIKE '%伪造的消息%'`, br.b.Tenant.ID); n != 0 {
		t.Fatal("a forged delivery was stored")
	}
	_ = before
}

// each runs fn on both engines.
func each(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

// post sends a staff message to the group through the console (and so the
// outbox); it returns the outbox row's id.
func (br *brand) post(t *testing.T, group int64, clientID, text string) int64 {
	t.Helper()
	r := br.op.PostJSON(fmt.Sprintf("/console/groups/%d/messages", group), fmt.Sprintf(`{"client_id":%q,"text":%q}`, clientID, text))
	if r.Status != http.StatusAccepted {
		t.Fatalf("staff post: %d %.300s", r.Status, r.Body)
	}
	var res struct {
		OutboxID int64 `json:"outbox_id"`
	}
	json.Unmarshal([]byte(r.Body), &res)
	return res.OutboxID
}

// outboxState waits until the row leaves pending/sending and returns its
// final state and error.
func (br *brand) outboxState(t *testing.T, id int64) (string, string) {
	t.Helper()
	var state, lastErr string
	eventually(t, "outbox row settled", func() bool {
		br.e.App.DB.R.QueryRowContext(context.Background(), `SELECT state, last_error FROM outbox WHERE id = $1`, id).Scan(&state, &lastErr)
		return state == "sent" || state == "failed" || state == "unknown"
	})
	return state, lastErr
}

// unreachable checks the contract for a chat the bot was removed from:
// the send fails (not retried forever), the group is marked unreachable,
// and the next send fails at once without calling the platform.
func unreachable(t *testing.T, br *brand, group int64, calls func() int) {
	t.Helper()
	state, _ := br.outboxState(t, br.post(t, group, "after-kick-1", "还在吗？"))
	if state != "failed" {
		t.Fatalf("send to a chat the bot left: %s, want failed", state)
	}
	if n := br.count(t, `SELECT COUNT(*) FROM community_groups WHERE id = $1 AND unreachable_at > 0`, group); n != 1 {
		t.Fatal("the group is not marked unreachable")
	}
	before := calls()
	state, lastErr := br.outboxState(t, br.post(t, group, "after-kick-2", "还在吗？"))
	if state != "failed" || !strings.Contains(lastErr, "no longer in") || calls() != before {
		t.Fatalf("second send: %s %q, platform calls %d → %d", state, lastErr, before, calls())
	}
}
