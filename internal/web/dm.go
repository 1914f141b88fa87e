package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/outbox"
)

// A member's private thread with the brand (私戳): personas and staff write
// through the outbox (so a DM is paced and delivered once like any
// message); the member answers on their inbox page. Both sides see it live.

func dmRoom(tenantID, memberID int64) string { return fmt.Sprintf("dm:%d:%d", tenantID, memberID) }

func (s *Server) dmCatchUp(tenantID, memberID int64) catchUp {
	return func(ctx context.Context, after int64) ([]event.Event, error) {
		return s.Log.DirectMessages(ctx, tenantID, memberID, after, catchUpLimit)
	}
}

// memberInbox is the member's private thread.
func (s *Server) memberInbox(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.Log.DirectMessages(r.Context(), mc.Tenant.ID, mc.Member.ID, 0, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs := historyOf(evs, mc.Tenant.Location(), mc.Member.ID)
	var after int64
	if len(msgs) > 0 {
		after = msgs[len(msgs)-1].ID
	}
	s.render(w, r, "inbox", s.memberPage(r, mc.Tenant, s.Catalog.T(s.lang(r, mc.Tenant.Locale), "inbox.title"), map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "Messages": msgs, "After": after,
		"WS": fmt.Sprintf("/m/%s/inbox/ws", mc.Tenant.Slug), "MaxLen": webchat.MaxText,
	}))
}

func (s *Server) memberInboxWS(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveWS(w, r, dmRoom(mc.Tenant.ID, mc.Member.ID), mc.Member.ID, s.dmCatchUp(mc.Tenant.ID, mc.Member.ID),
		func(ctx context.Context, conn wsConn, f frame) { s.memberDM(ctx, conn, mc, f) })
}

// memberDM stores the member's message in their thread.
func (s *Server) memberDM(ctx context.Context, conn wsConn, mc memberCtx, f frame) {
	if f.Type != "send" {
		conn.send(frame{Type: "error", Code: "bad_frame", Message: "unsupported frame"})
		return
	}
	text, reply, ok := s.memberText(ctx, conn, mc, f)
	if !ok {
		return
	}
	_, err := s.Log.Append(ctx, &event.Event{TenantID: mc.Tenant.ID, Type: event.DirectMessage, Source: event.SourceWeb,
		SourceID: fmt.Sprintf("dm%d:%s", mc.Member.ID, f.ClientID), MemberID: mc.Member.ID,
		Data: event.MustData(event.MessageData{Text: text, SenderName: mc.Member.DisplayName, FromMember: true})})
	if err != nil && !errors.Is(err, context.Canceled) {
		s.Logger.Error("inbox: append", "tenant", mc.Tenant.ID, "err", err)
		reply("internal", "error.internal")
	}
}

// staffDMWS is the console's live view of a member's thread.
func (s *Server) staffDMWS(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	m, err := s.memberFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveWS(w, r, dmRoom(c.Tenant.ID, m.ID), 0, s.dmCatchUp(c.Tenant.ID, m.ID), nil)
}

// staffDM queues a private message to the member from a persona (or the
// staff member's own name), on the member's channel.
func (s *Server) staffDM(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	m, err := s.memberFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := readSend(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	it := outbox.Item{TenantID: c.Tenant.ID, MemberID: m.ID, StaffID: c.Staff.ID, SenderName: c.Staff.Name,
		IdemKey: fmt.Sprintf("console-dm:%d:%s", c.Staff.ID, req.ClientID), Body: req.Text}
	if req.Persona != 0 {
		p, err := s.Bot.Persona(r.Context(), c.Tenant.ID, req.Persona)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		it.SenderName, it.PersonaID, it.SenderAvatar = p.Name, p.ID, p.AvatarURL
	}
	if it.Channel, err = s.dmChannel(r.Context(), c.Tenant.ID, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	id, created, err := s.Outbox.Enqueue(r.Context(), it)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sent(w, r, fmt.Sprintf("/console/members/%d#dm", m.ID), id, created)
}

// dmChannel is where a member's private messages go (notify.ChannelTx:
// the web community when they joined through it, else the bot of the
// group they joined last on their platform).
func (s *Server) dmChannel(ctx context.Context, tenantID, memberID int64) (string, error) {
	return notify.ChannelTx(ctx, s.DB.R, tenantID, memberID)
}

// personasOf lists the tenant's personas for a form (empty on error).
func (s *Server) personasOf(ctx context.Context, tenantID int64) []bot.Persona {
	ps, err := s.Bot.Personas(ctx, tenantID)
	if err != nil {
		s.Logger.Warn("web: personas", "tenant", tenantID, "err", err)
	}
	return ps
}
