package coupon

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// MaxOrderIDLen bounds a shop's order id.
const MaxOrderIDLen = 100

// maxCodeLen bounds a code sent by a shop (a prefix, "-" and the code are
// at most 19 characters).
const maxCodeLen = 40

// Redemption is what a code grants an order.
type Redemption struct {
	Code          string    `json:"code"`
	BatchID       int64     `json:"batch_id"`
	MemberID      int64     `json:"member_id"`
	Kind          Kind      `json:"kind"`
	OrderID       string    `json:"order_id"`
	AmountMinor   int64     `json:"amount"`
	DiscountMinor int64     `json:"discount"`      // minor units off the order
	FreeShipping  bool      `json:"free_shipping"` // the coupon's, or the order reached the brand's threshold
	RedeemedAt    time.Time `json:"redeemed_at,omitzero"`
	Replay        bool      `json:"replay,omitempty"` // this order had already redeemed the code
}

// Grant works out what code c of batch b grants an order of amount at
// now, or why it grants nothing. threshold is the brand's free shipping
// threshold (0: none).
func Grant(c Code, b Batch, amount, threshold int64, now time.Time) (Redemption, error) {
	r := Redemption{Code: c.Code, BatchID: b.ID, MemberID: c.MemberID, Kind: b.Kind, AmountMinor: amount}
	switch {
	case !c.ValidFrom.IsZero() && now.Before(c.ValidFrom):
		return r, ErrNotYetValid
	case !c.ValidUntil.IsZero() && !now.Before(c.ValidUntil):
		return r, ErrExpired
	case amount < b.MinSpendMinor:
		return r, ErrMinimum
	}
	switch b.Kind {
	case Amount:
		r.DiscountMinor = min(b.AmountMinor, amount)
	case Percent:
		r.DiscountMinor = amount * int64(b.Percent) / 100
	case FreeShipping:
		r.FreeShipping = true
	}
	if threshold > 0 && amount >= threshold {
		r.FreeShipping = true
	}
	return r, nil
}

func checkOrder(code, orderID string, amount int64) (string, string, error) {
	code, orderID = NormalizeCode(code), textnorm.Line(orderID)
	var p []string
	switch {
	case code == "":
		p = append(p, "code is missing")
	case len(code) > maxCodeLen:
		p = append(p, fmt.Sprintf("code is longer than %d characters: no code of this brand is", maxCodeLen))
	}
	if orderID == "" || len(orderID) > MaxOrderIDLen {
		p = append(p, fmt.Sprintf("order_id must be 1 to %d characters", MaxOrderIDLen))
	}
	if amount < 0 || amount > 100*MaxAmountMinor {
		p = append(p, "amount must be a non-negative number of minor units")
	}
	if len(p) > 0 {
		return code, orderID, fmt.Errorf("%w: %s", store.ErrInvalid, strings.Join(p, "; "))
	}
	return code, orderID, nil
}

// lookup reads a handed-out code with its batch; store.ErrNotFound for
// a code the tenant never handed out.
func lookup(ctx context.Context, q store.Querier, tenantID int64, code string) (Code, Batch, error) {
	c, err := scanCode(q.QueryRowContext(ctx, `SELECT `+codeCols+` FROM coupon_codes c WHERE c.tenant_id = $1 AND c.code = $2 AND c.member_id <> 0`,
		tenantID, code))
	if err != nil {
		return c, Batch{}, err
	}
	b, err := getBatch(ctx, q, tenantID, c.BatchID)
	return c, b, err
}

// replayed is the stored answer of a code already redeemed: the same one
// for its order, ErrUsed for another.
func replayed(c Code, b Batch, orderID string) (Redemption, error) {
	if c.OrderID != orderID {
		return Redemption{}, ErrUsed
	}
	return Redemption{Code: c.Code, BatchID: b.ID, MemberID: c.MemberID, Kind: b.Kind, OrderID: c.OrderID, AmountMinor: c.OrderMinor,
		DiscountMinor: c.DiscountMinor, FreeShipping: c.FreeShipping, RedeemedAt: c.RedeemedAt, Replay: true}, nil
}

// Check answers what Redeem would, changing nothing.
func (s *Service) Check(ctx context.Context, tenantID int64, code, orderID string, amount int64) (Redemption, error) {
	code, orderID, err := checkOrder(code, orderID, amount)
	if err != nil {
		return Redemption{}, err
	}
	c, b, err := lookup(ctx, s.db.R, tenantID, code)
	if err != nil {
		return Redemption{}, err
	}
	if !c.RedeemedAt.IsZero() {
		return replayed(c, b, orderID)
	}
	threshold, err := s.FreeShippingThreshold(ctx, tenantID)
	if err != nil {
		return Redemption{}, err
	}
	r, err := Grant(c, b, amount, threshold, s.now().UTC())
	r.OrderID = orderID
	return r, err
}

var errRaced = errors.New("coupon: redeemed meanwhile")

// Redeem marks a handed-out code used by the shop's order, once: the same
// order again answers the same (Replay), another order ErrUsed. The
// validity window and the minimum spend are checked; the answer is the
// discount. The conditional UPDATE (… WHERE redeemed_at = 0) holds "once"
// against racing requests; coupon_redeemed is appended in the same
// transaction.
func (s *Service) Redeem(ctx context.Context, tenantID int64, code, orderID string, amount int64) (Redemption, error) {
	code, orderID, err := checkOrder(code, orderID, amount)
	if err != nil {
		return Redemption{}, err
	}
	threshold, err := s.FreeShippingThreshold(ctx, tenantID)
	if err != nil {
		return Redemption{}, err
	}
	var r Redemption
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		c, b, err := lookup(ctx, tx, tenantID, code)
		if err != nil {
			return err
		}
		if !c.RedeemedAt.IsZero() {
			r, err = replayed(c, b, orderID)
			return err
		}
		now := s.now().UTC().Truncate(time.Millisecond) // as stored, so a replay answers the same
		if r, err = Grant(c, b, amount, threshold, now); err != nil {
			return err
		}
		r.OrderID, r.RedeemedAt = orderID, now
		res, err := tx.ExecContext(ctx, `UPDATE coupon_codes SET redeemed_at = $3, order_id = $4, order_minor = $5, discount_minor = $6, free_shipping = $7
			WHERE tenant_id = $1 AND id = $2 AND redeemed_at = 0`, tenantID, c.ID, store.Millis(now), orderID, amount, r.DiscountMinor, r.FreeShipping)
		if err != nil {
			return fmt.Errorf("coupon: redeem %d: %w", c.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmpErr(err, errRaced)
		}
		e := event.Event{TenantID: tenantID, Type: event.CouponRedeemed, Source: event.SourceCoupon, SourceID: fmt.Sprintf("redeemed:%d", c.ID),
			At: now, MemberID: c.MemberID, Data: event.MustData(event.CouponData{BatchID: b.ID, CodeID: c.ID, OrderID: orderID,
				Amount: amount, Discount: r.DiscountMinor})}
		_, err = s.log.AppendTx(ctx, tx, &e)
		return err
	})
	if errors.Is(err, errRaced) {
		// Another request redeemed it between our read and our update.
		c, b, lerr := lookup(ctx, s.db.W, tenantID, code)
		if lerr != nil {
			return Redemption{}, lerr
		}
		return replayed(c, b, orderID)
	}
	return r, err
}

func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// FreeShippingThreshold is the brand's order amount from which shipping
// is free (0: none).
func (s *Service) FreeShippingThreshold(ctx context.Context, tenantID int64) (int64, error) {
	var v int64
	err := s.db.R.QueryRowContext(ctx, `SELECT free_shipping_minor FROM coupon_settings WHERE tenant_id = $1`, tenantID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// SetFreeShippingThreshold sets it (0 turns it off).
func (s *Service) SetFreeShippingThreshold(ctx context.Context, tenantID, minor int64) error {
	if minor < 0 || minor > MaxAmountMinor {
		return fmt.Errorf("%w: the free shipping threshold must be 0 to 1,000,000", store.ErrInvalid)
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO coupon_settings (tenant_id, free_shipping_minor) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET free_shipping_minor = excluded.free_shipping_minor`, tenantID, minor)
	return err
}
