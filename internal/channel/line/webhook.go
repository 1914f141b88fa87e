package line

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/liveloop/liveloop/internal/channel"
)

// SignatureHeader carries base64(HMAC-SHA256(channel secret, raw body)).
const SignatureHeader = "X-Line-Signature"

// Verify checks X-Line-Signature over the raw body in constant time. The
// SDK's webhook.ParseRequest is not used: it reads the body without a
// limit and puts the whole body in its error text.
func (c *Channel) Verify(header http.Header, body []byte) error {
	sig := header.Get(SignatureHeader)
	if sig == "" {
		return fmt.Errorf("%w: no %s", channel.ErrUnauthorized, SignatureHeader)
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: %s is not base64", channel.ErrUnauthorized, SignatureHeader)
	}
	mac := hmac.New(sha256.New, c.secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: %s does not match", channel.ErrUnauthorized, SignatureHeader)
	}
	return nil
}

// callback is the webhook body's envelope. Events stay raw so that one
// event the SDK cannot decode is dropped alone instead of failing the
// whole delivery (which LINE would redeliver forever).
type callback struct {
	Destination string             `json:"destination"`
	Events      *[]json.RawMessage `json:"events"`
}

// Parse normalises a verified webhook body. It is ErrMalformed only when
// the body is not a callback object ({"destination":…, "events":[…]});
// the console's Verify button ({"events":[]}) yields no events and no
// error. Events liveloop does not use (stickers, images, unsend, beacon…)
// are left out; an event without webhookEventId is dropped with a warning,
// since it could not be deduplicated.
func (c *Channel) Parse(body []byte) ([]channel.Inbound, error) {
	var cb callback
	if err := json.Unmarshal(body, &cb); err != nil {
		return nil, fmt.Errorf("%w: line: body is not a callback object", channel.ErrMalformed)
	}
	if cb.Events == nil {
		return nil, fmt.Errorf("%w: line: callback has no events array", channel.ErrMalformed)
	}
	var out []channel.Inbound
	for i, raw := range *cb.Events {
		ev, err := webhook.UnmarshalEvent(raw)
		if err != nil {
			// The SDK's error names a type and a field, never the body.
			c.log.Warn("line: undecodable webhook event dropped", "index", i, "err", err)
			continue
		}
		in, ok := normalise(ev)
		if !ok {
			continue
		}
		if in.ID == "" {
			c.log.Warn("line: webhook event without webhookEventId dropped", "index", i, "type", ev.GetType())
			continue
		}
		if in.Chat == "" {
			c.log.Warn("line: webhook event without a chat dropped", "id", in.ID, "type", ev.GetType())
			continue
		}
		out = append(out, in)
	}
	return out, nil
}

// normalise maps one decoded event; ok is false for kinds liveloop does
// not use.
func normalise(ev webhook.EventInterface) (in channel.Inbound, ok bool) {
	switch e := ev.(type) {
	case webhook.MessageEvent:
		text, isText := e.Message.(webhook.TextMessageContent)
		if !isText {
			return in, false
		}
		in = base(channel.InboundMessage, e.WebhookEventId, e.DeliveryContext, e.Timestamp, e.Source, e.ReplyToken)
		in.Text, in.MessageID = text.Text, text.Id
	case webhook.PostbackEvent:
		in = base(channel.InboundButton, e.WebhookEventId, e.DeliveryContext, e.Timestamp, e.Source, e.ReplyToken)
		if e.Postback != nil {
			in.Data = e.Postback.Data
		}
	case webhook.MemberJoinedEvent:
		in = base(channel.InboundJoin, e.WebhookEventId, e.DeliveryContext, e.Timestamp, e.Source, e.ReplyToken)
		// Who joined is in joined.members; source.userId is absent or not them.
		in.User = channel.User{}
		if e.Joined != nil {
			in.Users = users(e.Joined.Members)
		}
	case webhook.MemberLeftEvent:
		in = base(channel.InboundLeave, e.WebhookEventId, e.DeliveryContext, e.Timestamp, e.Source, "")
		in.User = channel.User{}
		if e.Left != nil {
			in.Users = users(e.Left.Members)
		}
	case webhook.JoinEvent:
		in = base(channel.InboundBotAdded, e.WebhookEventId, e.DeliveryContext, e.Timestamp, e.Source, e.ReplyToken)
	case webhook.LeaveEvent:
		in = base(channel.InboundBotRemoved, e.WebhookEventId, e.DeliveryContext, e.Timestamp, e.Source, "")
	case webhook.FollowEvent:
		in = base(channel.InboundFollow, e.WebhookEventId, e.DeliveryContext, e.Timestamp, e.Source, e.ReplyToken)
	case webhook.UnfollowEvent:
		in = base(channel.InboundUnfollow, e.WebhookEventId, e.DeliveryContext, e.Timestamp, e.Source, "")
	default:
		return in, false
	}
	return in, true
}

// base fills what every event has: id, redelivery flag, time, chat, actor
// and reply token.
func base(kind channel.InboundKind, id string, dc *webhook.DeliveryContext, ms int64, src webhook.SourceInterface, replyToken string) channel.Inbound {
	in := channel.Inbound{Kind: kind, ID: id, ReplyToken: replyToken}
	if dc != nil {
		in.Redelivery = dc.IsRedelivery
	}
	if ms > 0 {
		in.At = time.UnixMilli(ms).UTC()
	}
	switch s := src.(type) {
	case webhook.GroupSource:
		in.Chat, in.User.ID = s.GroupId, s.UserId
	case webhook.RoomSource:
		in.Chat, in.User.ID = s.RoomId, s.UserId
	case webhook.UserSource:
		in.Chat, in.User.ID, in.Private = s.UserId, s.UserId, true
	}
	return in
}

func users(members []webhook.UserSource) []channel.User {
	out := make([]channel.User, 0, len(members))
	for _, m := range members {
		if m.UserId != "" {
			out = append(out, channel.User{ID: m.UserId})
		}
	}
	return out
}
