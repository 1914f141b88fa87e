package event

// Event types of tracked links and the live room (internal/track). Their
// Source is SourceTrack and their Data is TrackData.
const (
	// LinkClicked is one click on a tracked link (/t/<code>): MemberID is
	// the member when known (the link was sent to them privately, or their
	// member cookie came with the click), GroupID the group the link was
	// posted in. The source id is "click:<link id>:<visitor>:<minute>", so
	// a burst of reloads by one visitor is one click.
	LinkClicked Type = "link_clicked"
	// LiveEntered is a member's first entry into a live room (one per
	// member and live: source id "enter:<live>:<member>"), with the click
	// that led to it when there was one within the attribution window.
	LiveEntered Type = "live_entered"
)

// SourceTrack is the source of the tracking events.
const SourceTrack = "track"

// TrackData is the Data of the tracking events. Zero fields are absent:
// a link of a live-start alert has a LiveID, one of a playbook step a
// ContentID and StepID, and so on.
type TrackData struct {
	LinkID    int64  `json:"link_id,omitempty"`
	Kind      string `json:"kind,omitempty"` // alert, product, coupon, step, other
	LiveID    int64  `json:"live_id,omitempty"`
	ContentID int64  `json:"content_id,omitempty"`
	StepID    int64  `json:"step_id,omitempty"`
	ProductID int64  `json:"product_id,omitempty"`
	BatchID   int64  `json:"batch_id,omitempty"` // coupon batch
	Ref       string `json:"ref,omitempty"`      // the message's outbox key
	// ViaLink is, on live_entered, the link whose click led to the entry
	// (last touch within the window; 0: none).
	ViaLink int64 `json:"via_link,omitempty"`
}
