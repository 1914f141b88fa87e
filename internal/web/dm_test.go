package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
)

// Private threads (私戳): staff and personas write from the console, a
// keyword rule answers privately, the demand board tells wishers, and the
// member answers on their inbox page — everyone live, nobody else sees it.
func TestPrivateMessages(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, persona := routineBrand(t, e, "dms")
		ctx := context.Background()
		must(t, op.PostForm("/console/rules", url.Values{"kind": {"keyword"}, "persona_id": {fmt.Sprint(persona)}, "enabled": {"on"},
			"mode": {"contains"}, "pattern": {"我的订单"}, "reply": {"{name}，订单问题我们私信你～"}, "private": {"on"}}), http.StatusSeeOther)

		m := e.Client()
		chat := m.Join(b.JoinCode.Code, "小美")
		other := e.Client()
		otherChat := other.Join(b.JoinCode.Code, "阿珍")
		inbox, _, err := m.Dial(ctx, fmt.Sprintf("/m/%s/inbox/ws?after=0", b.Tenant.Slug))
		if err != nil {
			t.Fatal(err)
		}
		defer inbox.CloseNow()
		otherInbox, _, err := other.Dial(ctx, fmt.Sprintf("/m/%s/inbox/ws?after=0", b.Tenant.Slug))
		if err != nil {
			t.Fatal(err)
		}
		defer otherInbox.CloseNow()
		group, _, err := m.Dial(ctx, chat+"/ws?after=0")
		if err != nil {
			t.Fatal(err)
		}
		defer group.CloseNow()
		_ = otherChat

		// A keyword answered privately: in the inbox, not in the group.
		send(t, group, "order-q-0001", "我的订单到哪了")
		memberID := readUntil(t, group, "own message", func(f wsFrame) bool { return f.Text == "我的订单到哪了" }).MemberID
		f := readUntil(t, inbox, "private reply", func(f wsFrame) bool { return strings.Contains(f.Text, "订单问题我们私信你") })
		if f.Sender != "助理小花" || !f.Staff {
			t.Fatalf("private reply %+v", f)
		}

		staffWS, _, err := op.Dial(ctx, fmt.Sprintf("/console/members/%d/dm/ws?after=0", memberID))
		if err != nil {
			t.Fatal(err)
		}
		defer staffWS.CloseNow()
		readUntil(t, staffWS, "history in the console", func(f wsFrame) bool { return strings.Contains(f.Text, "订单问题") })

		// Staff write as a persona.
		r := op.Do(http.MethodPost, fmt.Sprintf("/console/members/%d/dm", memberID),
			strings.NewReader(fmt.Sprintf(`{"client_id":"dm-000000001","text":"<b>您的包裹</b>明天到","persona":%d}`, persona)),
			http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}, "X-CSRF-Token": {op.CSRF}})
		must(t, r, http.StatusAccepted)
		f = readUntil(t, inbox, "staff DM", func(f wsFrame) bool { return strings.Contains(f.Text, "明天到") })
		if f.Text != "<b>您的包裹</b>明天到" || f.MemberID != 0 {
			t.Fatalf("staff DM %+v", f)
		}
		// The member answers; the console sees it live.
		send(t, inbox, "dm-reply-0001", "谢谢！")
		f = readUntil(t, staffWS, "member reply", func(f wsFrame) bool { return f.Text == "谢谢！" })
		if f.Staff || f.MemberID != memberID {
			t.Fatalf("member reply %+v", f)
		}
		must(t, m.Get(fmt.Sprintf("/m/%s/inbox", b.Tenant.Slug)), 200, "&lt;b&gt;您的包裹&lt;/b&gt;明天到", "谢谢！")
		must(t, op.Get(fmt.Sprintf("/console/members/%d", memberID)), 200, "谢谢！")

		// A wish planned on the demand board reaches its wisher privately.
		time.Sleep(time.Second) // members' send limit
		send(t, group, "wish-000001", "心愿 敏感肌粉底液")
		readUntil(t, group, "wish ack", func(f wsFrame) bool { return f.Staff && strings.Contains(f.Text, "敏感肌粉底液") })
		board, err := e.App.Bot.DemandBoard(ctx, b.Tenant.ID, 10)
		if err != nil || len(board) == 0 {
			t.Fatalf("board %v %v", board, err)
		}
		must(t, op.PostForm("/console/wishes/status", url.Values{"norm": {board[0].Norm}, "status": {"planned"}}), http.StatusSeeOther)
		readUntil(t, inbox, "wish planned", func(f wsFrame) bool { return strings.Contains(f.Text, "敏感肌粉底液") })

		// Nobody else saw any of it.
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, b, err := otherInbox.Read(cctx); err == nil {
			t.Fatalf("another member's inbox got %s", b)
		}
	})
}
