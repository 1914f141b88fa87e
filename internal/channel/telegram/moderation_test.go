package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
)

func TestRestrict(t *testing.T) {
	c, srv := newFake(t)
	until := time.Date(2025, 3, 1, 21, 0, 0, 0, time.UTC)
	if err := c.Restrict(context.Background(), "-1001234567890", "6123456789", until); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls("restrictChatMember")
	if len(calls) != 1 {
		t.Fatalf("calls %+v", calls)
	}
	p := calls[0].Params
	if p["chat_id"] != "-1001234567890" || p["user_id"] != "6123456789" || p["until_date"] != strconv.FormatInt(until.Unix(), 10) {
		t.Errorf("params %v", p)
	}
	var perms map[string]bool
	if err := json.Unmarshal([]byte(p["permissions"]), &perms); err != nil {
		t.Fatal(err)
	}
	if v, ok := perms["can_send_messages"]; !ok || v {
		t.Errorf("can_send_messages = %v (sent: %v), want an explicit false", v, ok)
	}

	// Lifting it grants every permission.
	if err := c.Unrestrict(context.Background(), "-1001234567890", "6123456789"); err != nil {
		t.Fatal(err)
	}
	p = srv.Calls("restrictChatMember")[1].Params
	perms = nil
	if err := json.Unmarshal([]byte(p["permissions"]), &perms); err != nil {
		t.Fatal(err)
	}
	for k, v := range perms {
		if !v {
			t.Errorf("Unrestrict left %s false", k)
		}
	}
	if !perms["can_send_messages"] || p["until_date"] != "" {
		t.Errorf("Unrestrict params %v", p)
	}
}

func TestRestrictBasicGroup(t *testing.T) {
	c, _ := newFake(t)
	err := c.Restrict(context.Background(), "-4012345678", "6123456789", time.Time{})
	if !errors.Is(err, ErrNeedsSupergroup) || !errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("Restrict in a basic group = %v", err)
	}
}

func TestRestrictRefusesBadIDs(t *testing.T) {
	c, srv := newFake(t)
	for _, ids := range [][2]string{{"", "1"}, {"-100123", "x"}, {"-100123", "-5"}, {"abc", "1"}} {
		if err := c.Restrict(context.Background(), ids[0], ids[1], time.Time{}); !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("%v: %v", ids, err)
		}
		if err := c.Remove(context.Background(), ids[0], ids[1]); !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("Remove %v: %v", ids, err)
		}
	}
	if n := len(srv.Calls("")); n != 0 {
		t.Fatalf("%d calls reached Telegram", n)
	}
}

func TestRemove(t *testing.T) {
	c, srv := newFake(t)
	if err := c.Remove(context.Background(), "-1001234567890", "6123456789"); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls("")
	if len(calls) != 2 || calls[0].Method != "banChatMember" || calls[1].Method != "unbanChatMember" {
		t.Fatalf("calls %+v", calls)
	}
	for _, call := range calls {
		if call.Params["chat_id"] != "-1001234567890" || call.Params["user_id"] != "6123456789" {
			t.Errorf("%s params %v", call.Method, call.Params)
		}
	}
	if calls[1].Params["only_if_banned"] != "true" {
		t.Errorf("unban without only_if_banned: %v", calls[1].Params)
	}
}

func TestRemoveKicked(t *testing.T) {
	c, srv := newFake(t)
	srv.Kick(supergroup)
	err := c.Remove(context.Background(), "-1001234567890", "6123456789")
	if !errors.Is(err, channel.ErrUnreachable) {
		t.Fatalf("Remove from a chat the bot left = %v", err)
	}
	if err := c.Restrict(context.Background(), "-1001234567890", "6123456789", time.Time{}); !errors.Is(err, channel.ErrUnreachable) {
		t.Fatalf("Restrict in a chat the bot left = %v", err)
	}
}

// TestRemoveBasicGroup: unbanChatMember exists for supergroups only; in a
// basic group the ban call alone removes the member.
func TestRemoveBasicGroup(t *testing.T) {
	c, srv := newFake(t)
	if err := c.Remove(context.Background(), "-4012345678", "6123456789"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Calls("banChatMember")); n != 1 {
		t.Fatalf("ban calls %d", n)
	}
}
