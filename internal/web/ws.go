package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/time/rate"

	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/realtime"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// WebSocket limits: a frame larger than maxFrame closes the connection
// with 1009 (message too big); a text over webchat.MaxText characters gets
// an error frame; more than a few messages a second get "slow down".
const (
	maxFrame     = 16 << 10
	clientBuffer = 64
	writeTimeout = 10 * time.Second
	catchUpLimit = 500
)

func randomID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// chatWS is a member's live connection to a group: history after ?after=,
// then every new message; the member's own messages come in as "send"
// frames and are appended to the event log.
func (s *Server) chatWS(w http.ResponseWriter, r *http.Request) {
	mc, g, err := s.memberGroup(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveWS(w, r, room(mc.Tenant.ID, g.ID), mc.Member.ID, s.groupCatchUp(mc.Tenant.ID, g.ID), func(ctx context.Context, conn wsConn, f frame) {
		s.memberSend(ctx, conn, mc, g, f)
	})
}

// groupWS is the console's live view of a group (staff post through the
// outbox with groupSend, not over this socket).
func (s *Server) groupWS(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveWS(w, r, room(c.Tenant.ID, g.ID), 0, s.groupCatchUp(c.Tenant.ID, g.ID), nil)
}

// catchUp returns the messages of a room after an id.
type catchUp func(ctx context.Context, after int64) ([]event.Event, error)

func (s *Server) groupCatchUp(tenantID, groupID int64) catchUp {
	return func(ctx context.Context, after int64) ([]event.Event, error) {
		return s.Log.GroupMessages(ctx, tenantID, groupID, after, catchUpLimit)
	}
}

// serveWS runs one live connection to room rm: catch-up from ?after=,
// then every frame the room gets; the client's "send" frames go to
// onFrame (nil: a read-only view). memberKey lets the hub drop the
// member's sockets (removal).
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request, rm string, memberKey int64, history catchUp,
	onFrame func(context.Context, wsConn, frame)) {
	if !s.conns.add() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	// Join the room before the handshake completes: a message published
	// the moment the client sees the socket open is already queued for it
	// (the connection holds its queue until the catch-up is written).
	c := realtime.NewConn(realtime.ConnOptions{MaxMessage: maxFrame, MaxQueue: clientBuffer, WriteTimeout: writeTimeout})
	client := realtime.NewClient(memberKey, c.Send, func() { c.Close(ws.StatusGoingAway, "reconnect") })
	if !s.Hub.Join(rm, client) {
		s.conns.release()
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	if err := c.Accept(w, r); err != nil {
		s.Hub.Leave(rm, client)
		s.conns.release()
		return
	}
	s.metrics.wsOpen.Inc()
	// The request's context ends with this handler; the socket lives on.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))

	// Join first, then catch up: a message appended in between arrives
	// twice at worst, and clients drop ids they have seen.
	// ?after=N (the last id the page shows, 0 for an empty page) catches
	// up from there; without it the socket only gets what comes next.
	var first [][]byte
	if v := r.URL.Query().Get("after"); v != "" {
		after, _ := strconv.ParseInt(v, 10, 64)
		evs, err := history(ctx, after)
		if err != nil {
			c.Close(ws.StatusInternalServerError, "history unavailable")
		}
		for _, e := range evs {
			b, _ := json.Marshal(frameOf(e))
			first = append(first, b)
		}
	}
	c.Start(first)

	// The reader runs on a goroutine of its own, started small, and the
	// handler returns: a quiet viewer costs that goroutine and the socket.
	go func() {
		defer func() {
			cancel()
			c.Linger()
			s.Hub.Leave(rm, client)
			s.metrics.wsOpen.Dec()
			s.conns.release()
		}()
		for {
			data, err := c.Read()
			if err != nil {
				return
			}
			var f frame
			if json.Unmarshal(data, &f) != nil || (f.Type != "send" && f.Type != "like") || onFrame == nil {
				wsConn{c}.send(frame{Type: "error", Code: "bad_frame", Message: "unsupported frame"})
				continue
			}
			onFrame(ctx, wsConn{c}, f)
		}
	}()
}

// wsConn is a socket as the handlers see it: frames go out queued.
type wsConn struct{ *realtime.Conn }

// send queues f for the client; a client too far behind is dropped by the
// hub at its next broadcast.
func (c wsConn) send(f frame) {
	if b, err := json.Marshal(f); err == nil {
		c.Send(b)
	}
}

// memberSend stores a member's message. Membership is checked for every
// message, so a removed member cannot post on a socket opened earlier.
func (s *Server) memberSend(ctx context.Context, conn wsConn, mc memberCtx, g community.Group, f frame) {
	if f.Type != "send" {
		conn.send(frame{Type: "error", Code: "bad_frame", Message: "unsupported frame"})
		return
	}
	text, reply, ok := s.memberText(ctx, conn, mc, f)
	if !ok {
		return
	}
	ms, err := s.Community.Membership(ctx, mc.Tenant.ID, g.ID, mc.Member.ID)
	if err != nil || !ms.Active() {
		reply("not_member", "error.not_member")
		conn.Close(ws.StatusPolicyViolation, "not a member")
		return
	}
	if time.Now().Before(ms.MutedUntil) {
		reply("muted", "chat.muted")
		return
	}
	_, err = s.Log.Append(ctx, &event.Event{
		TenantID: mc.Tenant.ID, Type: event.Message, Source: event.SourceWeb,
		SourceID: memberSourceID(mc.Member.ID, f.ClientID), MemberID: mc.Member.ID, GroupID: g.ID,
		Data: event.MustData(event.MessageData{Text: text, SenderName: mc.Member.DisplayName}),
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		s.Logger.Error("chat: append", "tenant", mc.Tenant.ID, "group", g.ID, "err", err)
		reply("internal", "error.internal")
		return
	}
	s.metrics.messages.WithLabelValues("member").Inc()
}

// memberText checks a member's "send" frame — a valid client id, a text
// neither blank nor too long, within the member's send rate — and answers
// the client with an error frame when it fails. reply answers later
// errors of the same frame.
func (s *Server) memberText(ctx context.Context, conn wsConn, mc memberCtx, f frame) (string, func(code, key string), bool) {
	reply := func(code, key string) {
		conn.send(frame{Type: "error", Code: code, ClientID: f.ClientID, Message: s.Catalog.T(mc.Member.Locale, key)})
	}
	text := textnorm.Clean(f.Text)
	switch {
	case !validClientID(f.ClientID):
		reply("bad_frame", "chat.bad_frame")
	case textnorm.Blank(text):
		reply("empty", "chat.empty")
	case !textnorm.Limit(text, webchat.MaxText):
		reply("too_long", "chat.too_long")
	case !s.sendLimiter(mc.Member.ID).Allow():
		reply("slow_down", "chat.slow_down")
	default:
		return text, reply, true
	}
	return "", reply, false
}

// sendLimiter is kept per member, not per connection, so reconnecting
// does not reset it.
func (s *Server) sendLimiter(memberID int64) *rate.Limiter {
	return s.logins.memberLimiter(memberID)
}
