// Package webchat is the built-in web community: liveloop's own group chat,
// served by liveloop to members' browsers. It needs no external account, so a
// fresh install runs the whole loop on it.
//
// Inbound, members' messages arrive over WebSocket (handled by the web
// package) and are appended to the event log. Outbound, Send delivers a
// message by appending it to the log under the outbox's idempotency key —
// which makes delivery exactly-once: a retried send after a crash finds the
// row already there. Everyone connected sees it through the bus. A message
// to a member (no group) lands in their private thread.
package webchat

import (
	"context"
	"fmt"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/event"
)

// Name is the channel name of the built-in web community.
const Name = "web"

// MaxText is the longest message, in characters.
const MaxText = 2000

// Channel is the web community channel.
type Channel struct{ log *event.Log }

// New returns the channel, delivering through log.
func New(log *event.Log) *Channel { return &Channel{log: log} }

func (*Channel) Name() string { return Name }

func (*Channel) Capabilities() channel.Capabilities {
	return channel.Capabilities{PostToGroups: true, Buttons: true, IdempotentSend: true, MaxTextLen: MaxText}
}

// Limits: the web community has no platform limit; liveloop still paces a
// group so that a runaway playbook cannot flood members — ten messages a
// second at most, evenly spaced (the outbox spreads a per-group limit), so
// the bot's replies in a conversation are not held back.
func (*Channel) Limits() channel.Limits {
	return channel.Limits{PerGroupPerMinute: 600}
}

// Send delivers m to its group by appending it to the event log.
func (c *Channel) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	e := event.Event{
		TenantID: m.TenantID, Type: event.Message, Source: event.SourceOutbox, SourceID: m.IdemKey,
		GroupID: m.GroupID, StaffID: m.StaffID,
		Data: event.MustData(event.MessageData{Text: m.Text, SenderName: m.SenderName,
			PersonaID: m.PersonaID, Avatar: m.AvatarURL}),
	}
	switch {
	case m.GroupID == 0 && m.MemberID == 0:
		return channel.Result{}, fmt.Errorf("%w: no recipient", channel.ErrPermanent)
	case m.GroupID == 0:
		// A private message: the member's thread on their inbox page.
		e.Type, e.MemberID = event.DirectMessage, m.MemberID
	}
	inserted, err := c.log.Append(ctx, &e)
	if err != nil {
		return channel.Result{}, err
	}
	if !inserted {
		// Sent before (a retry after a crash): the message is the stored one.
		if e, err = c.log.BySource(ctx, m.TenantID, e.Source, e.SourceID); err != nil {
			return channel.Result{}, err
		}
	}
	return channel.Result{ExternalID: fmt.Sprint(e.ID)}, nil
}
