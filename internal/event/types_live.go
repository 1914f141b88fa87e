package event

// Event types of the live loop (internal/live). Their Source is SourceLive
// and their Data is LiveData; the source id names the change (a live's
// start, the n-th in-live change, a member's claim of a drop, a draw), so a
// retried transition is stored once.
const (
	LiveStarted     Type = "live_started"
	LiveEnded       Type = "live_ended"
	ProductSwitched Type = "product_switched"
	// LiveStockUpdated is a product's stock set by the host during the
	// show; the live room and the groups show "only Z left".
	LiveStockUpdated Type = "live_stock_updated"
	CouponClaimed    Type = "coupon_claimed"
	LotteryDrawn     Type = "lottery_drawn"
)

// SourceLive is the source of the live loop's events.
const SourceLive = "live"

// LiveData is the Data of the live loop's events.
type LiveData struct {
	LiveID    int64   `json:"live_id"`
	ProductID int64   `json:"product_id,omitempty"` // product_switched, live_stock_updated
	Stock     *int64  `json:"stock,omitempty"`      // product_switched, live_stock_updated
	DropID    int64   `json:"drop_id,omitempty"`    // coupon_claimed
	LotteryID int64   `json:"lottery_id,omitempty"` // lottery_drawn
	Winners   []int64 `json:"winners,omitempty"`    // lottery_drawn, in the order drawn
	Likes     int64   `json:"likes,omitempty"`      // live_liked: the running total after this batch
	Added     int64   `json:"added,omitempty"`      // live_liked: likes in this batch
}

// LiveLiked records a batch of likes in a live room (likes are counted in
// memory and written a few times a second, not one row per tap).
const LiveLiked Type = "live_liked"

// LiveMemberLiked records that a member liked a live at least once (one
// row per member and live, source id "liked:<live>:<member>"): what a
// lottery's "liked" criterion reads.
const LiveMemberLiked Type = "live_member_liked"

// LiveComment is a viewer's comment in a live room (danmaku): MemberID is
// the viewer (members only may comment), GroupID 0, Data MessageData; the
// source id is "l<live>:m<member>:<client id>".
const LiveComment Type = "live_comment"

// LivePlatform is an event the streaming platform reported for a live
// through the ingestion API (viewers, a comment, likes, an order); Data
// is LivePlatformData. The source is "liveapi:<live id>" and the source id
// the platform's own id, so a resent event is stored once.
const LivePlatform Type = "live_platform"

// LivePlatformData is the Data of a LivePlatform event.
type LivePlatformData struct {
	LiveID  int64  `json:"live_id"`
	Kind    string `json:"kind"`              // viewers, comment, like, order
	Count   int64  `json:"count,omitempty"`   // viewers: concurrent viewers; like: likes in the batch
	User    string `json:"user,omitempty"`    // the platform's id of the viewer or buyer
	Name    string `json:"name,omitempty"`    // their display name
	Text    string `json:"text,omitempty"`    // comment
	Amount  int64  `json:"amount,omitempty"`  // order: total in minor units
	Product string `json:"product,omitempty"` // order: the platform's product id or name
}
