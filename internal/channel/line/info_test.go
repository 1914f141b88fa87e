package line

import (
	"context"
	"errors"
	"testing"

	"github.com/liveloop/liveloop/internal/channel"
)

func TestQuota(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	ctx := context.Background()
	if q, err := c.Quota(ctx); err != nil || q != (Quota{Type: "none"}) {
		t.Fatalf("no cap: %+v, %v", q, err)
	}
	srv.SetMonthlyLimit(200)
	srv.AddGroup(group, "Spring drop", alice, bob)
	if _, err := c.Send(ctx, msg(group, "push", "hi")); err != nil {
		t.Fatal(err)
	}
	reply := msg(group, "reply", "hi")
	reply.ReplyToken = srv.ReplyToken(group)
	if _, err := c.Send(ctx, reply); err != nil {
		t.Fatal(err)
	}
	// The push reached two members; the reply is free.
	if q, err := c.Quota(ctx); err != nil || q != (Quota{Type: "limited", Limit: 200, Used: 2}) {
		t.Fatalf("Quota = %+v, %v", q, err)
	}
}

func TestProfileAndGroupSummary(t *testing.T) {
	t.Parallel()
	c, srv, _ := newLine(t)
	ctx := context.Background()
	srv.AddGroup(group, "Spring drop 春季上新")
	srv.AddProfile(group, alice, "Alice")
	srv.AddProfile(room, bob, "Bob in a room")
	srv.AddProfile("", bob, "Bob")
	for _, tc := range []struct{ chat, user, name string }{
		{group, alice, "Alice"}, {room, bob, "Bob in a room"}, {bob, bob, "Bob"},
	} {
		u, err := c.Profile(ctx, tc.chat, tc.user)
		if err != nil || u != (channel.User{ID: tc.user, Name: tc.name}) {
			t.Errorf("Profile(%s, %s) = %+v, %v", tc.chat, tc.user, u, err)
		}
	}
	if name, err := c.GroupSummary(ctx, group); err != nil || name != "Spring drop 春季上新" {
		t.Errorf("GroupSummary = %q, %v", name, err)
	}
	if _, err := c.Profile(ctx, group, bob); !errors.Is(err, channel.ErrUnreachable) {
		t.Errorf("unknown member: %v, want ErrUnreachable (404)", err)
	}
	srv.LeaveGroup(group)
	if _, err := c.GroupSummary(ctx, group); !errors.Is(err, channel.ErrUnreachable) {
		t.Errorf("left group: %v, want ErrUnreachable", err)
	}
	for _, bad := range []string{"", "../message/push", "C1/summary", "U1?x=1"} {
		if _, err := c.Profile(ctx, bad, alice); !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("Profile(%q): %v", bad, err)
		}
		if _, err := c.GroupSummary(ctx, bad); !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("GroupSummary(%q): %v", bad, err)
		}
	}
	for _, r := range srv.Requests() {
		if r.Status == 0 || r.Path == "/v2/bot/message/push" {
			t.Errorf("unexpected request %+v", r)
		}
	}
}
