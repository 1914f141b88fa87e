package webchat_test

import (
	"context"
	"errors"
	"testing"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

func TestSend(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		var tenant int64
		if err := db.W.QueryRow(`INSERT INTO tenants (slug, name, created_at) VALUES ('a', 'a', 1) RETURNING id`).Scan(&tenant); err != nil {
			t.Fatal(err)
		}
		log := event.NewLog(db, event.NewLocalBus())
		web := webchat.New(log)
		reg := channel.NewRegistry(web)
		if ch, ok := reg.Get(webchat.Name); !ok || ch != channel.Channel(web) || !ch.Capabilities().IdempotentSend {
			t.Fatalf("registry: %v, %v", ch, ok)
		}
		m := channel.Message{OutboxID: 1, TenantID: tenant, IdemKey: "welcome:1:2", GroupID: 5, StaffID: 0, SenderName: "小助理", Text: "欢迎！"}
		first, err := web.Send(ctx, m)
		if err != nil || first.ExternalID == "" || first.ExternalID == "0" {
			t.Fatalf("Send = %+v, %v", first, err)
		}
		again, err := web.Send(ctx, m)
		if err != nil || again.ExternalID != first.ExternalID {
			t.Fatalf("resend = %+v, %v; want the first message's id %s", again, err, first.ExternalID)
		}
		msgs, _ := log.GroupMessages(ctx, tenant, 5, 0, 10)
		var d event.MessageData
		if len(msgs) != 1 || msgs[0].Decode(&d) != nil || d.Text != "欢迎！" || d.SenderName != "小助理" || msgs[0].Source != event.SourceOutbox {
			t.Fatalf("group shows %+v (%+v)", msgs, d)
		}
		// A message to a member lands in their private thread, once.
		for range 2 {
			if _, err := web.Send(ctx, channel.Message{TenantID: tenant, IdemKey: "dm", MemberID: 3, SenderName: "小助理", Text: "hi"}); err != nil {
				t.Fatalf("direct message: %v", err)
			}
		}
		dms, _ := log.DirectMessages(ctx, tenant, 3, 0, 10)
		if len(dms) != 1 || dms[0].GroupID != 0 || dms[0].Type != event.DirectMessage {
			t.Fatalf("thread %+v", dms)
		}
		if _, err := web.Send(ctx, channel.Message{TenantID: tenant, IdemKey: "nobody", Text: "hi"}); !errors.Is(err, channel.ErrPermanent) {
			t.Fatalf("no recipient: %v, want ErrPermanent", err)
		}
	})
}
