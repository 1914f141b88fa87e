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

	"github.com/coder/websocket"
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
	s.serveWS(w, r, room(mc.Tenant.ID, g.ID), mc.Member.ID, s.groupCatchUp(mc.Tenant.ID, g.ID), func(ctx context.Context, conn *websocket.Conn, f frame) {
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
	onFrame func(context.Context, *websocket.Conn, frame)) {
	// Join the room before the handshake completes: a message published
	// the moment the client sees the socket open is already queued for it.
	client := realtime.NewClient(clientBuffer)
	client.Key = memberKey
	if !s.Hub.Join(rm, client) {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.Hub.Leave(rm, client)
	// Accept checks that the Origin is this host: another site cannot open
	// a socket with the member's cookie.
	if !s.conns.add() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.conns.release()
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	s.metrics.wsOpen.Inc()
	defer s.metrics.wsOpen.Dec()
	conn.SetReadLimit(maxFrame)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	// Join first, then catch up: a message appended in between arrives
	// twice at worst, and clients drop ids they have seen.
	// ?after=N (the last id the page shows, 0 for an empty page) catches
	// up from there; without it the socket only gets what comes next.
	if v := r.URL.Query().Get("after"); v != "" {
		after, _ := strconv.ParseInt(v, 10, 64)
		evs, err := history(ctx, after)
		if err != nil {
			conn.Close(websocket.StatusInternalError, "history unavailable")
			return
		}
		for _, e := range evs {
			if writeJSON(ctx, conn, frameOf(e)) != nil {
				return
			}
		}
	}

	go func() {
		defer cancel()
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var f frame
			if json.Unmarshal(data, &f) != nil || (f.Type != "send" && f.Type != "like") || onFrame == nil {
				writeJSON(ctx, conn, frame{Type: "error", Code: "bad_frame", Message: "unsupported frame"})
				continue
			}
			onFrame(ctx, conn, f)
		}
	}()

	for {
		select {
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "")
			return
		case <-client.Done():
			// Dropped: too slow, removed from the group, or shutting down.
			conn.Close(websocket.StatusGoingAway, "reconnect")
			return
		case b := <-client.Frames():
			wctx, wcancel := context.WithTimeout(ctx, writeTimeout)
			err := conn.Write(wctx, websocket.MessageText, b)
			wcancel()
			if err != nil {
				return
			}
		}
	}
}

func writeJSON(ctx context.Context, conn *websocket.Conn, f frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}

// memberSend stores a member's message. Membership is checked for every
// message, so a removed member cannot post on a socket opened earlier.
func (s *Server) memberSend(ctx context.Context, conn *websocket.Conn, mc memberCtx, g community.Group, f frame) {
	if f.Type != "send" {
		writeJSON(ctx, conn, frame{Type: "error", Code: "bad_frame", Message: "unsupported frame"})
		return
	}
	text, reply, ok := s.memberText(ctx, conn, mc, f)
	if !ok {
		return
	}
	ms, err := s.Community.Membership(ctx, mc.Tenant.ID, g.ID, mc.Member.ID)
	if err != nil || !ms.Active() {
		reply("not_member", "error.not_member")
		conn.Close(websocket.StatusPolicyViolation, "not a member")
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
func (s *Server) memberText(ctx context.Context, conn *websocket.Conn, mc memberCtx, f frame) (string, func(code, key string), bool) {
	reply := func(code, key string) {
		writeJSON(ctx, conn, frame{Type: "error", Code: code, ClientID: f.ClientID, Message: s.Catalog.T(mc.Member.Locale, key)})
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
