package event

// Event types of the loyalty package.
const (
	PointsChanged  Type = "points_changed"
	CheckedIn      Type = "checked_in"
	RewardRedeemed Type = "reward_redeemed"
)

// WishAdded is a wish a member added on their wishlist page (wishes said
// in the chat are the message itself); Data is MessageData.
const WishAdded Type = "wish_added"

// Event types of community activities (polls and prompts).
const (
	PollVoted   Type = "poll_voted"   // Data: PollData (poll and choice)
	PollClosed  Type = "poll_closed"  // Data: PollData (poll)
	PromptEntry Type = "prompt_entry" // Data: PollData (prompt and the entry's message event)
)

// PollData is the Data of the poll and prompt events.
type PollData struct {
	PollID  int64 `json:"poll_id"`
	Choice  int   `json:"choice,omitempty"`
	EventID int64 `json:"event_id,omitempty"`
}
