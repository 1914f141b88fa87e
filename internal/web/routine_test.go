package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
)

// routineBrand sets up a brand with an assistant persona and the rules of
// a typical group, through the console as an operator would.
func routineBrand(t *testing.T, e *apptest.Env, slug string) (apptest.Brand, *apptest.Client, int64) {
	b := e.Brand(slug)
	op := e.Client()
	op.Login(b)
	must(t, op.PostForm("/console/personas", url.Values{"name": {"助理小花"}, "role": {"assistant"}}), http.StatusSeeOther)
	ps, err := e.App.Bot.Personas(context.Background(), b.Tenant.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("personas %v %v", ps, err)
	}
	pid := fmt.Sprint(ps[0].ID)
	rule := func(kind string, fields url.Values) {
		t.Helper()
		fields.Set("kind", kind)
		fields.Set("persona_id", pid)
		fields.Set("enabled", "on")
		must(t, op.PostForm("/console/rules", fields), http.StatusSeeOther)
	}
	rule("welcome", url.Values{"template": {"欢迎 {names} 加入{group}！{gift}"}, "gift_points": {"10"}, "gift_coupon": {"满99减10 NEW10"}, "debounce_seconds": {"0"}})
	rule("checkin", url.Values{"question": {"昨晚的幸运色？"}, "answers": {"玫瑰红\nrose"}, "hint": {"三个字，花的颜色"},
		"window_start": {"00:00"}, "window_end": {"23:59"}, "points": {"5"}, "streak_bonus": {"7=20"}})
	rule("keyword", url.Values{"mode": {"contains"}, "pattern": {"发货"}, "reply": {"{name} 您好，48 小时内发货～"}, "cooldown_seconds": {"60"}})
	rule("moderation", url.Values{"block_links": {"on"}, "flood_count": {"12"}, "flood_seconds": {"10"}, "banned_words": {"代购"},
		"warns_before_mute": {"2"}, "mute_minutes": {"30"}, "mutes_before_remove": {"2"}, "warn_decay_hours": {"24"}})
	rule("wishlist", url.Values{"wish_keywords": {"心愿\nwish"}})
	return b, op, ps[0].ID
}

// readUntil reads message frames until one satisfies ok.
func readUntil(t *testing.T, c *websocket.Conn, what string, ok func(wsFrame) bool) wsFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		t.Logf("frame: %s", b)
		for _, raw := range splitFrames(b) {
			var f wsFrame
			if jsonUnmarshal(raw, &f) == nil && f.Type == "message" && ok(f) {
				return f
			}
		}
	}
}

// splitFrames returns the frames of one WebSocket message: itself, or the
// elements of a batch (a live room sends its comments as a JSON array).
func splitFrames(b []byte) [][]byte {
	if len(b) == 0 || b[0] != '[' {
		return [][]byte{b}
	}
	var raws []json.RawMessage
	if json.Unmarshal(b, &raws) != nil {
		return nil
	}
	out := make([][]byte, len(raws))
	for i, r := range raws {
		out[i] = r
	}
	return out
}

func TestRoutineThroughTheWebCommunity(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, _ := routineBrand(t, e, "bloomy")
		ctx := context.Background()

		m := e.Client()
		chat := m.Join(b.JoinCode.Code, "小美")
		ws, _, err := m.Dial(ctx, chat+"/ws?after=0")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		// The welcome arrives from the assistant persona, with the gift.
		f := readUntil(t, ws, "welcome", func(f wsFrame) bool { return strings.Contains(f.Text, "欢迎 小美 加入") })
		if f.Sender != "助理小花" || !f.Staff || !strings.Contains(f.Text, "coupon: 满99减10 NEW10") {
			t.Fatalf("welcome frame %+v", f)
		}
		memberID := f.MemberID
		_ = memberID

		// Wrong answer: a hint, no points. Right answer: points.
		send(t, ws, "ci-wrong-01", "签到 蓝色")
		readUntil(t, ws, "hint", func(f wsFrame) bool { return strings.Contains(f.Text, "Hint: 三个字，花的颜色") })
		send(t, ws, "ci-right-01", "玫瑰红")
		ok := readUntil(t, ws, "check-in", func(f wsFrame) bool {
			return strings.Contains(f.Text, "签到成功") || strings.Contains(f.Text, "checked in")
		})
		if !strings.Contains(ok.Text, "+5 points") {
			t.Fatalf("check-in reply %q", ok.Text)
		}
		send(t, ws, "ci-again-01", "玫瑰红")
		readUntil(t, ws, "already", func(f wsFrame) bool {
			return strings.Contains(f.Text, "已经签到") || strings.Contains(f.Text, "already")
		})

		// Points command and keyword reply (at a person's pace: the send
		// limit allows bursts of 5, then 2 a second).
		time.Sleep(1500 * time.Millisecond)
		send(t, ws, "cmd-points-1", "积分")
		readUntil(t, ws, "points", func(f wsFrame) bool { return strings.Contains(f.Text, "15") })
		send(t, ws, "kw-ship-0001", "请问什么时候发货")
		readUntil(t, ws, "keyword", func(f wsFrame) bool { return strings.Contains(f.Text, "48 小时内发货") })

		// A wish lands on the demand board.
		time.Sleep(1000 * time.Millisecond)
		send(t, ws, "wish-0000001", "心愿 敏感肌粉底液")
		readUntil(t, ws, "wish ack", func(f wsFrame) bool { return f.Staff && strings.Contains(f.Text, "敏感肌粉底液") })
		must(t, op.Get("/console/wishes"), 200, "敏感肌粉底液")

		// The member's points page, the leaderboard and a redemption.
		must(t, op.PostForm("/console/rewards", url.Values{"name": {"精华小样"}, "price": {"12"}, "stock": {"3"}}), http.StatusSeeOther)
		rewards, _ := e.App.Loyalty.Rewards(ctx, b.Tenant.ID, true)
		page := m.Get(fmt.Sprintf("/m/%s/points", b.Tenant.Slug))
		must(t, page, 200, "精华小样", "小美")
		r := m.PostForm(fmt.Sprintf("/m/%s/rewards/%d/redeem", b.Tenant.Slug, rewards[0].ID), url.Values{"ref": {"redeem-once-1"}})
		must(t, r, http.StatusSeeOther)
		if !strings.Contains(r.Header.Get("Location"), "redeemed=1") {
			t.Fatalf("redeem → %s", r.Header.Get("Location"))
		}
		// A double submit of the same form redeems once.
		m.PostForm(fmt.Sprintf("/m/%s/rewards/%d/redeem", b.Tenant.Slug, rewards[0].ID), url.Values{"ref": {"redeem-once-1"}})
		page = m.Get(fmt.Sprintf("/m/%s/points", b.Tenant.Slug))
		must(t, page, 200, `data-balance>3<`)
		// Another tenant's member cannot see or redeem here.
		must(t, e.Client().Get(fmt.Sprintf("/m/%s/points", b.Tenant.Slug)), http.StatusForbidden)
	})
}

func TestModerationThroughTheWebCommunity(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, _ := routineBrand(t, e, "strict")
		ctx := context.Background()
		spammer := e.Client()
		chat := spammer.Join(b.JoinCode.Code, "广告号")
		ws, _, err := spammer.Dial(ctx, chat+"/ws?after=0")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		readUntil(t, ws, "welcome", func(f wsFrame) bool { return strings.Contains(f.Text, "欢迎") })

		send(t, ws, "link-000001", "超低价 https://spam.example/x")
		readUntil(t, ws, "warning", func(f wsFrame) bool { return f.Staff && strings.Contains(f.Text, "广告号") })
		send(t, ws, "word-000001", "专业代购，私聊")
		send(t, ws, "link-000002", "看这里 www.spam.example")
		readUntil(t, ws, "mute", func(f wsFrame) bool { return f.Staff && strings.Contains(f.Text, "is muted") })
		// Muted: the server refuses the next message.
		send(t, ws, "muted-00001", "我还能说话吗")
		for {
			if fr := read(t, ws); fr.Type == "error" {
				if fr.Code != "muted" {
					t.Fatalf("muted member got %+v", fr)
				}
				break
			}
		}
		// The log shows what the rules did; hidden messages are gone from history.
		log := op.Get("/console/moderation")
		must(t, log, 200, "广告号")
		hist := op.Get(fmt.Sprintf("/console/groups/%d/messages?after=0", b.Group.ID))
		if strings.Contains(hist.Body, "spam.example") {
			t.Fatalf("hidden spam still in history: %.300s", hist.Body)
		}
		// Staff undo the mute; the member can talk again.
		acts, err := e.App.Bot.Actions(ctx, b.Tenant.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		var muteID int64
		for _, a := range acts {
			if a.Action == "mute" {
				muteID = a.ID
			}
		}
		if muteID == 0 {
			t.Fatalf("no mute in %+v", acts)
		}
		must(t, op.PostForm(fmt.Sprintf("/console/moderation/%d/undo", muteID), nil), http.StatusSeeOther)

		// Ban: out of the group now, and no join link of the tenant lets them back.
		mid := fmt.Sprint(acts[0].MemberID)
		must(t, op.PostForm("/console/members/"+mid+"/ban", url.Values{"reason": {"spam"}}), http.StatusSeeOther)
		must(t, spammer.Get(chat), http.StatusForbidden)
		must(t, spammer.PostForm("/j/"+b.JoinCode.Code, nil), http.StatusForbidden, "blocked")
		must(t, op.Get("/console/moderation"), 200, "spam")
	})
}

// Rules with invalid patterns or templates are refused at save time with
// the reason, and nothing is stored.
func TestRuleValidationAtSave(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	b, op, pid := routineBrand(t, e, "valid")
	before, _ := e.App.Bot.Rules(context.Background(), b.Tenant.ID)
	for name, f := range map[string]url.Values{
		"bad pattern":         {"kind": {"keyword"}, "mode": {"pattern"}, "pattern": {"(unclosed"}, "reply": {"x"}},
		"unknown placeholder": {"kind": {"welcome"}, "template": {"hi {nmae}"}},
		"bad window":          {"kind": {"checkin"}, "question": {"q"}, "answers": {"a"}, "window_start": {"25:00"}, "window_end": {"23:00"}, "points": {"5"}},
		"no answers":          {"kind": {"checkin"}, "question": {"q"}, "answers": {""}, "window_start": {"08:00"}, "window_end": {"23:00"}, "points": {"5"}},
	} {
		f.Set("persona_id", fmt.Sprint(pid))
		r := op.PostForm("/console/rules", f)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `class="error"`) {
			t.Errorf("%s: status %d", name, r.Status)
		}
	}
	after, _ := e.App.Bot.Rules(context.Background(), b.Tenant.ID)
	if len(after) != len(before) {
		t.Fatalf("invalid rules were stored: %d → %d", len(before), len(after))
	}
	_ = bot.KindWelcome
}

// 100 members racing through the web for a reward of stock 10: exactly 10
// redeemed, balances exact.
func TestRedemptionRaceOverHTTP(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("race")
		ctx := context.Background()
		rw, err := e.App.Loyalty.CreateReward(ctx, loyalty.Reward{TenantID: b.Tenant.ID, Name: "正装", Price: 50, Stock: 10, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		const n = 100
		clients := make([]*apptest.Client, n)
		ids := make([]int64, n)
		for i := range clients {
			clients[i] = e.Client()
			clients[i].Join(b.JoinCode.Code, fmt.Sprintf("m%d", i))
		}
		p, _ := e.App.Members.List(ctx, b.Tenant.ID, "", n, 0)
		for i, m := range p.Members {
			ids[i] = m.ID
			if _, _, err := e.App.Loyalty.Award(ctx, loyalty.Entry{TenantID: b.Tenant.ID, MemberID: m.ID, Delta: 60, Kind: loyalty.KindActivity, Ref: fmt.Sprintf("seed-%d", m.ID)}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func(c *apptest.Client, i int) {
				defer wg.Done()
				c.PostForm(fmt.Sprintf("/m/%s/rewards/%d/redeem", b.Tenant.Slug, rw.ID), url.Values{"ref": {fmt.Sprintf("race-%06d", i)}})
			}(clients[i], i)
		}
		wg.Wait()
		got, _ := e.App.Loyalty.Reward(ctx, b.Tenant.ID, rw.ID)
		reds, _ := e.App.Loyalty.Redemptions(ctx, b.Tenant.ID, 1000)
		if got.Stock != 0 || len(reds) != 10 {
			t.Fatalf("stock %d, redemptions %d; want 0 and 10", got.Stock, len(reds))
		}
		winners := 0
		for _, id := range ids {
			bal, _ := e.App.Loyalty.Balance(ctx, b.Tenant.ID, id)
			switch bal {
			case 10:
				winners++
			case 60:
			default:
				t.Fatalf("member %d has %d points", id, bal)
			}
		}
		if winners != 10 {
			t.Fatalf("%d members paid, want 10", winners)
		}
	})
}
