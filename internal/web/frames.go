package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
)

// frame is what a chat client receives (and, for "send", sends).
type frame struct {
	Type     string     `json:"type"` // message | removed | error | send
	ID       int64      `json:"id,omitempty"`
	At       time.Time  `json:"at,omitzero"`
	Sender   string     `json:"sender,omitempty"`
	Staff    bool       `json:"staff,omitempty"` // staff or a persona: the brand speaking
	Persona  int64      `json:"persona,omitempty"`
	Avatar   string     `json:"avatar,omitempty"`
	MemberID int64      `json:"member_id,omitempty"`
	Text     string     `json:"text,omitempty"`
	ClientID string     `json:"client_id,omitempty"`
	Code     string     `json:"code,omitempty"`
	Message  string     `json:"message,omitempty"`
	Poll     *pollFrame `json:"poll,omitempty"`    // type "poll": a live tally
	Live     *liveView  `json:"live,omitempty"`    // type "live": the live room's state
	Likes    int64      `json:"likes,omitempty"`   // type "likes": the room's running total
	Viewers  int64      `json:"viewers,omitempty"` // type "viewers": the platform's viewer count

	// For server-rendered history only.
	Local string `json:"-"` // At in the tenant's time zone
	Mine  bool   `json:"-"` // sent by the member viewing the page
}

func room(tenantID, groupID int64) string { return fmt.Sprintf("g:%d:%d", tenantID, groupID) }

// memberSourceID is the event source id of a member's chat message: the
// client's own id for it, scoped by member, so a resend after a dropped
// connection is stored once.
func memberSourceID(memberID int64, clientID string) string {
	return fmt.Sprintf("m%d:%s", memberID, clientID)
}

func frameOf(e event.Event) frame {
	var d event.MessageData
	e.Decode(&d)
	f := frame{Type: "message", ID: e.ID, At: e.At, Sender: d.SenderName, Staff: e.StaffID != 0 || d.PersonaID != 0,
		Persona: d.PersonaID, Avatar: d.Avatar, MemberID: e.MemberID, Text: d.Text}
	if e.Type == event.DirectMessage && !d.FromMember {
		f.MemberID = 0 // the thread's owner did not write it
	}
	if e.Source == event.SourceWeb {
		// The client's id is the last part ("m3:<id>", "l5:m3:<id>"):
		// client ids have no colon.
		if i := strings.LastIndexByte(e.SourceID, ':'); i >= 0 {
			f.ClientID = e.SourceID[i+1:]
		}
	}
	return f
}

func framesOf(evs []event.Event) []frame {
	out := make([]frame, 0, len(evs))
	for _, e := range evs {
		out = append(out, frameOf(e))
	}
	return out
}

// historyOf is framesOf for a page: times in the tenant's zone, and the
// viewer's own messages marked (viewer 0: staff).
func historyOf(evs []event.Event, loc *time.Location, viewer int64) []frame {
	out := framesOf(evs)
	for i := range out {
		out[i].Local = out[i].At.In(loc).Format("2006-01-02 15:04")
		out[i].Mine = viewer != 0 && out[i].MemberID == viewer
	}
	return out
}

// forward turns appended events into frames for the rooms that show them.
// It runs on the publisher's goroutine: encode once, queue, never block.
func (s *Server) forward(e event.Event) {
	if s.forwardSale(e) {
		return
	}
	switch e.Type {
	case event.LiveComment:
		var d event.MessageData
		e.Decode(&d)
		if b, err := json.Marshal(frameOf(e)); err == nil {
			s.comments.add(liveRoom(e.TenantID, d.ReplyTo), b)
		}
		return
	case event.LivePlatform:
		// Comments from the streaming platform show in the room too.
		var d event.LivePlatformData
		if e.Decode(&d) == nil && d.Kind == "comment" && d.Text != "" {
			b, _ := json.Marshal(frame{Type: "message", ID: e.ID, At: e.At, Sender: d.Name, Text: d.Text})
			s.comments.add(liveRoom(e.TenantID, d.LiveID), b)
		}
		return
	case event.LiveStarted, event.LiveEnded, event.ProductSwitched, event.LiveStockUpdated, event.CouponClaimed, event.LotteryDrawn:
		var d event.LiveData
		if e.Decode(&d) == nil && d.LiveID != 0 {
			s.queueRefresh(refreshLive, e.TenantID, d.LiveID)
		}
		return
	}
	if e.Type == event.DirectMessage {
		if b, err := json.Marshal(frameOf(e)); err == nil {
			s.Hub.Broadcast(dmRoom(e.TenantID, e.MemberID), b)
		}
		return
	}
	if e.GroupID == 0 {
		return
	}
	switch e.Type {
	case event.Message:
		b, err := json.Marshal(frameOf(e))
		if err != nil {
			return
		}
		s.Hub.Broadcast(room(e.TenantID, e.GroupID), b)
	case event.MessageHidden:
		var d struct {
			EventID int64 `json:"event_id"`
		}
		e.Decode(&d)
		b, _ := json.Marshal(frame{Type: "hidden", ID: d.EventID})
		s.Hub.Broadcast(room(e.TenantID, e.GroupID), b)
	case event.PollVoted, event.PollClosed, event.PromptEntry:
		s.queueTally(e)
	case event.MemberRemoved, event.MemberLeft:
		b, _ := json.Marshal(frame{Type: "removed", MemberID: e.MemberID})
		s.Hub.Broadcast(room(e.TenantID, e.GroupID), b)
		s.Hub.DropKey(room(e.TenantID, e.GroupID), e.MemberID)
	}
}
