package event

// Event types of community coupons (internal/coupon). Their Source is
// SourceCoupon and their Data CouponData; the source id names the code
// ("issued:<code id>", "redeemed:<code id>"), so each happens once.
const (
	// CouponIssued is a code handed to a member: claimed on the coupons
	// page or granted by a feature (a perk, a tier bundle, a referral).
	CouponIssued Type = "coupon_issued"
	// CouponRedeemed is a code the shop redeemed on an order.
	CouponRedeemed Type = "coupon_redeemed"
)

// SourceCoupon is the source of the coupon events.
const SourceCoupon = "coupon"

// CouponData is the Data of the coupon events.
type CouponData struct {
	BatchID  int64  `json:"batch_id"`
	CodeID   int64  `json:"code_id"`
	Ref      string `json:"ref,omitempty"`      // issued: claim:<member>:<n> or the grant's ref
	OrderID  string `json:"order_id,omitempty"` // redeemed
	Amount   int64  `json:"amount,omitempty"`   // redeemed: the order's amount, minor units
	Discount int64  `json:"discount,omitempty"` // redeemed: minor units off
}
