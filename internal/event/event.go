package event

import (
	"encoding/json"
	"time"
)

// Type names what happened.
type Type string

// The event types of the foundation. Later features add theirs here, so the
// whole vocabulary of the log is in one place.
const (
	MemberJoined  Type = "member_joined"
	MemberLeft    Type = "member_left"
	MemberRemoved Type = "member_removed"
	MemberMerged  Type = "member_merged"
	Message       Type = "message"
	// DirectMessage is one message of a member's private thread with the
	// brand (私戳): MemberID is the member whose thread it is, GroupID is 0;
	// Data is MessageData, with FromMember set when the member wrote it.
	DirectMessage Type = "direct_message"
)

// Sources of events: the channel an inbound event came through, or the part
// of liveloop that produced it.
const (
	SourceWeb     = "web"     // the built-in web community (member actions)
	SourceConsole = "console" // operator actions in the console
	SourceOutbox  = "outbox"  // outbound messages delivered by the outbox
	SourceDemo    = "demo"    // the seeded demo brand
	SourceImport  = "import"  // history imports
)

// Event is one row of the log. MemberID, GroupID and StaffID are 0 when the
// event has none.
type Event struct {
	ID       int64           `json:"id"`
	TenantID int64           `json:"tenant_id"`
	Type     Type            `json:"type"`
	Source   string          `json:"source"`
	SourceID string          `json:"source_id"`
	At       time.Time       `json:"at"`
	MemberID int64           `json:"member_id,omitempty"`
	GroupID  int64           `json:"group_id,omitempty"`
	StaffID  int64           `json:"staff_id,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// MessageData is the Data of a Message event.
type MessageData struct {
	Text       string `json:"text"`
	SenderName string `json:"sender_name"`
	PersonaID  int64  `json:"persona_id,omitempty"` // set when a persona (bot, assistant…) spoke
	Avatar     string `json:"avatar,omitempty"`
	ReplyTo    int64  `json:"reply_to,omitempty"`
	FromMember bool   `json:"from_member,omitempty"` // DirectMessage: written by the member
	// ReplyToken is the platform's token for answering this message (LINE),
	// valid for a short time; the runner hands it to its first reply.
	ReplyToken string `json:"reply_token,omitempty"`
}

// JoinData is the Data of a MemberJoined event.
type JoinData struct {
	JoinCode string `json:"join_code,omitempty"`
	// Source is what brought the member (join attribution): the join
	// code's source label ("poster", "live", …), "referral" for a
	// member's invite link, "live" for a join from a live room; empty
	// when unknown.
	Source     string `json:"source,omitempty"`
	LiveID     int64  `json:"live_id,omitempty"`     // joined from this live's room or alert
	ReferrerID int64  `json:"referrer_id,omitempty"` // joined through this member's invite link
	LinkID     int64  `json:"link_id,omitempty"`     // the tracked link clicked before joining
}

// Decode unmarshals e.Data into v.
func (e Event) Decode(v any) error {
	if len(e.Data) == 0 {
		return nil
	}
	return json.Unmarshal(e.Data, v)
}

// MustData marshals v for an Event's Data; v is always one of this
// package's data structs, which cannot fail to marshal.
func MustData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("event: marshal data: " + err.Error())
	}
	return b
}

// MessageHidden records that a message was hidden by moderation; Data
// names the message's event id.
const MessageHidden Type = "message_hidden"
