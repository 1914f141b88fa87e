package event

// Event types of commerce (internal/commerce): what the brand's shop
// reports. Their Source is SourceShop; the source id is the shop's own id
// ("order:<order id>", "refund:<order id>:<refund id>"), so a repeated
// import or push is stored once. A tier change is recorded with the source
// id "tier:<change id>".
const (
	OrderPaid     Type = "order_paid"
	OrderRefunded Type = "order_refunded"
	TierChanged   Type = "tier_changed"
)

// SourceShop is the source of commerce events.
const SourceShop = "shop"

// OrderData is the Data of order_paid and order_refunded.
type OrderData struct {
	OrderID     int64  `json:"order_id"`
	ExternalID  string `json:"external_id"`
	Origin      string `json:"origin,omitempty"` // csv, api, live
	AmountMinor int64  `json:"amount_minor"`     // the order's amount, or the refund's
	Currency    string `json:"currency,omitempty"`
	MatchedBy   string `json:"matched_by,omitempty"`
	RefundID    string `json:"refund_id,omitempty"`
	Lines       int    `json:"lines,omitempty"`
}

// TierData is the Data of tier_changed.
type TierData struct {
	FromTierID int64  `json:"from_tier_id,omitempty"`
	ToTierID   int64  `json:"to_tier_id"`
	FromRank   int    `json:"from_rank"`
	ToRank     int    `json:"to_rank"`
	Reason     string `json:"reason,omitempty"`
}
