package commerce

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

// Origins of an order.
const (
	FromCSV  = "csv"
	FromAPI  = "api"
	FromLive = "live"
)

// Order is a paid order as the shop reported it.
type Order struct {
	ID            int64
	TenantID      int64
	ExternalID    string // the shop's order id
	Source        string // csv, api, live
	MemberID      int64  // 0: no member matched (yet)
	MatchedBy     string // phone, email, channel, coupon, or ""
	Phone         string // normalised (NormPhone)
	Email         string // normalised (NormEmail)
	Channel       string // with ChannelUser: the buyer's identity on a channel ("telegram", "line", "web")
	ChannelUser   string
	Coupon        string
	AmountMinor   int64
	Currency      string
	PaidAt        time.Time
	RefundedMinor int64
	CreatedAt     time.Time
	Lines         []Line
}

// Net is what the order counts for: its amount less its refunds.
func (o Order) Net() int64 { return o.AmountMinor - o.RefundedMinor }

// Line is one item of an order.
type Line struct {
	No             int
	SKU            string
	ProductID      int64 // 0: a SKU the catalogue does not know
	Name           string
	Qty            int64
	UnitPriceMinor int64
}

// Refund is a refund of (part of) an order.
type Refund struct {
	ID          int64
	TenantID    int64
	OrderID     int64
	OrderExtID  string // the shop's order id
	ExternalID  string // the shop's refund id
	AmountMinor int64
	At          time.Time
}

// Stats are a member's purchase totals.
type Stats struct {
	SpendMinor  int64 // net of refunds
	Orders      int64
	FirstPaidAt time.Time
	LastPaidAt  time.Time
}

// ValidateOrder normalises o and lists what is wrong with it, at now.
func ValidateOrder(o *Order, now time.Time) error {
	o.ExternalID = textnorm.Line(o.ExternalID)
	o.Phone, o.Email = NormPhone(o.Phone), NormEmail(o.Email)
	o.Channel, o.ChannelUser, o.Coupon = textnorm.Line(o.Channel), textnorm.Line(o.ChannelUser), strings.ToUpper(textnorm.Line(o.Coupon))
	o.Currency = strings.ToUpper(textnorm.Line(o.Currency))
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	var problems []string
	switch {
	case o.ExternalID == "":
		problems = append(problems, "order id is empty")
	case !textnorm.Limit(o.ExternalID, MaxExternalRunes):
		problems = append(problems, fmt.Sprintf("order id is longer than %d characters", MaxExternalRunes))
	}
	switch o.Source {
	case FromCSV, FromAPI, FromLive:
	default:
		problems = append(problems, fmt.Sprintf("unknown order source %q", o.Source))
	}
	switch {
	case o.AmountMinor < 0:
		problems = append(problems, "negative amount")
	case o.AmountMinor > MaxAmountMinor:
		problems = append(problems, "amount is too large")
	}
	switch {
	case o.RefundedMinor < 0:
		problems = append(problems, "negative refunded amount")
	case o.RefundedMinor > o.AmountMinor && o.AmountMinor >= 0:
		problems = append(problems, "refunded amount is above the order's amount")
	}
	if len(o.Currency) != 3 || strings.Trim(o.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		problems = append(problems, fmt.Sprintf("currency %q is not a 3-letter code", o.Currency))
	}
	switch {
	case o.PaidAt.IsZero():
		problems = append(problems, "paid time is missing")
	case o.PaidAt.After(now.Add(24 * time.Hour)):
		problems = append(problems, "paid time is in the future")
	}
	if o.Phone != "" && (len(o.Phone) < 5 || len(o.Phone) > 20) {
		problems = append(problems, "phone must have 5 to 20 digits")
	}
	if o.Email != "" && (!strings.Contains(o.Email, "@") || !textnorm.Limit(o.Email, 200)) {
		problems = append(problems, fmt.Sprintf("email %q is not an address", o.Email))
	}
	if (o.Channel == "") != (o.ChannelUser == "") {
		problems = append(problems, "channel and channel user go together")
	}
	for _, f := range []string{o.Channel, o.ChannelUser, o.Coupon} {
		if !textnorm.Limit(f, MaxExternalRunes) {
			problems = append(problems, fmt.Sprintf("channel, channel user and coupon have at most %d characters", MaxExternalRunes))
			break
		}
	}
	if len(o.Lines) > MaxLines {
		problems = append(problems, fmt.Sprintf("an order has at most %d lines", MaxLines))
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		l.No = i + 1
		l.SKU, l.Name = textnorm.Line(l.SKU), textnorm.Line(l.Name)
		if l.Name == "" {
			l.Name = l.SKU
		}
		switch {
		case l.Qty <= 0:
			problems = append(problems, fmt.Sprintf("line %d: quantity must be 1 or more", l.No))
		case l.Qty > MaxQty:
			problems = append(problems, fmt.Sprintf("line %d: quantity must be at most %d", l.No, MaxQty))
		case l.UnitPriceMinor < 0:
			problems = append(problems, fmt.Sprintf("line %d: negative price", l.No))
		case l.UnitPriceMinor > MaxAmountMinor:
			problems = append(problems, fmt.Sprintf("line %d: price is too large", l.No))
		case !textnorm.Limit(l.SKU, MaxSKURunes) || !textnorm.Limit(l.Name, MaxNameRunes):
			problems = append(problems, fmt.Sprintf("line %d: SKU or name is too long", l.No))
		}
	}
	if len(problems) > 0 {
		return invalid("%s", strings.Join(problems, "; "))
	}
	return nil
}

// resolveSKUs sets each line's product from the catalogue. A SKU the
// catalogue lacks is an error when the brand keeps a catalogue (it has any
// product): the operator adds the product and sends the order again. A
// brand without a catalogue takes every line as it is.
func resolveSKUs(o *Order, cat map[string]int64) error {
	var unknown []string
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.SKU == "" {
			continue
		}
		if id, ok := cat[l.SKU]; ok {
			l.ProductID = id
		} else if len(cat) > 0 {
			unknown = append(unknown, l.SKU)
		}
	}
	if len(unknown) > 0 {
		return invalid("unknown SKU %s (add it under Products first)", strings.Join(unknown, ", "))
	}
	return nil
}

// Record stores one order in its own transaction. It reports whether the
// order is new; an order id stored before changes nothing and returns the
// stored order with false.
func (s *Service) Record(ctx context.Context, o Order) (Order, bool, error) {
	if err := ValidateOrder(&o, s.now()); err != nil {
		return o, false, err
	}
	var stored bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		cat, err := catalogue(ctx, tx, o.TenantID)
		if err != nil {
			return err
		}
		if err := resolveSKUs(&o, cat); err != nil {
			return err
		}
		tiers, err := tiersOf(ctx, tx, o.TenantID)
		if err != nil {
			return err
		}
		stored, err = s.place(ctx, plain(tx), &o, tiers)
		return err
	})
	if err != nil {
		return o, false, err
	}
	if !stored {
		old, err := s.OrderByExternal(ctx, o.TenantID, o.ExternalID)
		return old, false, err
	}
	return o, true, nil
}

// place stores a validated order inside tx with its lines, its event, the
// member's totals and tier. It reports false (nothing written) when the
// order id was stored before.
func (s *Service) place(ctx context.Context, tx *wtx, o *Order, tiers []Tier) (bool, error) {
	now := s.now().UTC()
	o.CreatedAt = now
	var err error
	if o.MemberID, o.MatchedBy, err = s.match(ctx, tx, o.TenantID, o); err != nil {
		return false, err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO orders (tenant_id, external_id, source, member_id, matched_by, phone, email, channel, channel_user,
			coupon, amount_minor, currency, paid_at, refunded_minor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (tenant_id, external_id) DO NOTHING RETURNING id`,
		o.TenantID, o.ExternalID, o.Source, nullID(o.MemberID), o.MatchedBy, o.Phone, o.Email, o.Channel, o.ChannelUser,
		o.Coupon, o.AmountMinor, o.Currency, store.Millis(o.PaidAt), o.RefundedMinor, store.Millis(now)).Scan(&o.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("commerce: store order %s: %w", o.ExternalID, err)
	}
	for _, l := range o.Lines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_lines (tenant_id, order_id, line_no, sku, product_id, name, qty, unit_price_minor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, o.TenantID, o.ID, l.No, l.SKU, nullID(l.ProductID), l.Name, l.Qty, l.UnitPriceMinor); err != nil {
			return false, fmt.Errorf("commerce: order %s line %d: %w", o.ExternalID, l.No, err)
		}
	}
	if err := s.appendEvent(ctx, tx, event.Event{TenantID: o.TenantID, Type: event.OrderPaid, Source: event.SourceShop,
		SourceID: "order:" + o.ExternalID, At: o.PaidAt, MemberID: o.MemberID,
		Data: event.MustData(event.OrderData{OrderID: o.ID, ExternalID: o.ExternalID, Origin: o.Source, AmountMinor: o.AmountMinor,
			Currency: o.Currency, MatchedBy: o.MatchedBy, Lines: len(o.Lines)})}); err != nil {
		return false, err
	}
	if o.RefundedMinor > 0 { // a CSV row's refunded amount: one refund, "import"
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_refunds (tenant_id, order_id, external_id, amount_minor, refunded_at, created_at)
			VALUES ($1, $2, 'import', $3, $4, $5)`, o.TenantID, o.ID, o.RefundedMinor, store.Millis(o.PaidAt), store.Millis(now)); err != nil {
			return false, fmt.Errorf("commerce: order %s refund: %w", o.ExternalID, err)
		}
		if err := s.appendEvent(ctx, tx, event.Event{TenantID: o.TenantID, Type: event.OrderRefunded, Source: event.SourceShop,
			SourceID: "refund:" + o.ExternalID + ":import", At: o.PaidAt, MemberID: o.MemberID,
			Data: event.MustData(event.OrderData{OrderID: o.ID, ExternalID: o.ExternalID, AmountMinor: o.RefundedMinor, RefundID: "import"})}); err != nil {
			return false, err
		}
	}
	if o.MemberID != 0 {
		if err := addStats(ctx, tx, o.TenantID, o.MemberID, o.Net(), 1, o.PaidAt, o.PaidAt); err != nil {
			return false, err
		}
		if _, err := s.evaluate(ctx, tx, tiers, o.TenantID, o.MemberID, now, fmt.Sprintf("order:%d", o.ID)); err != nil {
			return false, err
		}
		if s.OnOrder != nil {
			if err := s.OnOrder(ctx, tx.Tx, o.TenantID, o.ID, o.MemberID, o.PaidAt); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// addStats adds orders (first and last paid at those times) and their net
// spend to the member's totals; a refund adds no order and a negative
// spend, with zero times.
func addStats(ctx context.Context, tx store.Querier, tenantID, memberID, spend, orders int64, first, last time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO member_commerce (tenant_id, member_id, spend_minor, orders, first_paid_at, last_paid_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, member_id) DO UPDATE SET
			spend_minor = member_commerce.spend_minor + excluded.spend_minor,
			orders = member_commerce.orders + excluded.orders,
			first_paid_at = CASE WHEN excluded.first_paid_at <> 0 AND (member_commerce.first_paid_at = 0 OR excluded.first_paid_at < member_commerce.first_paid_at)
				THEN excluded.first_paid_at ELSE member_commerce.first_paid_at END,
			last_paid_at = CASE WHEN excluded.last_paid_at > member_commerce.last_paid_at THEN excluded.last_paid_at ELSE member_commerce.last_paid_at END`,
		tenantID, memberID, spend, orders, store.Millis(first), store.Millis(last))
	if err != nil {
		return fmt.Errorf("commerce: member totals: %w", err)
	}
	return nil
}

// RefundInput is a refund as the shop reports it.
type RefundInput struct {
	TenantID    int64
	OrderExtID  string // the shop's order id
	ExternalID  string // the shop's refund id
	AmountMinor int64
	At          time.Time // zero: now
}

// RecordRefund stores a refund of an order in one transaction: the refund,
// the order's refunded amount, the event, the member's totals and tier. A
// refund id stored before for the order changes nothing (false); a refund
// above what is left of the order is ErrRefundTooLarge.
func (s *Service) RecordRefund(ctx context.Context, in RefundInput) (Refund, bool, error) {
	in.OrderExtID, in.ExternalID = textnorm.Line(in.OrderExtID), textnorm.Line(in.ExternalID)
	now := s.now().UTC()
	if in.At.IsZero() {
		in.At = now
	}
	var problems []string
	if in.OrderExtID == "" || in.ExternalID == "" || !textnorm.Limit(in.OrderExtID, MaxExternalRunes) || !textnorm.Limit(in.ExternalID, MaxExternalRunes) {
		problems = append(problems, fmt.Sprintf("order id and refund id are 1 to %d characters", MaxExternalRunes))
	}
	if in.AmountMinor <= 0 {
		problems = append(problems, "refund amount must be more than zero")
	}
	if len(problems) > 0 {
		return Refund{}, false, invalid("%s", strings.Join(problems, "; "))
	}
	rf := Refund{TenantID: in.TenantID, OrderExtID: in.OrderExtID, ExternalID: in.ExternalID, AmountMinor: in.AmountMinor, At: in.At.UTC()}
	var stored bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderCols+` FROM orders WHERE tenant_id = $1 AND external_id = $2`, in.TenantID, in.OrderExtID))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("commerce: order %s: %w", in.OrderExtID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		rf.OrderID = o.ID
		err = tx.QueryRowContext(ctx, `INSERT INTO order_refunds (tenant_id, order_id, external_id, amount_minor, refunded_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id, external_id) DO NOTHING RETURNING id`,
			in.TenantID, o.ID, in.ExternalID, in.AmountMinor, store.Millis(rf.At), store.Millis(now)).Scan(&rf.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // stored before
		}
		if err != nil {
			return fmt.Errorf("commerce: refund %s: %w", in.ExternalID, err)
		}
		var left int64
		err = tx.QueryRowContext(ctx, `UPDATE orders SET refunded_minor = refunded_minor + $3
			WHERE tenant_id = $1 AND id = $2 AND refunded_minor + $3 <= amount_minor RETURNING amount_minor - refunded_minor`,
			in.TenantID, o.ID, in.AmountMinor).Scan(&left)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w (%d left, %d asked)", ErrRefundTooLarge, o.Net(), in.AmountMinor)
		}
		if err != nil {
			return fmt.Errorf("commerce: refund %s: %w", in.ExternalID, err)
		}
		if _, err := s.log.AppendTx(ctx, tx, &event.Event{TenantID: in.TenantID, Type: event.OrderRefunded, Source: event.SourceShop,
			SourceID: "refund:" + in.OrderExtID + ":" + in.ExternalID, At: rf.At, MemberID: o.MemberID,
			Data: event.MustData(event.OrderData{OrderID: o.ID, ExternalID: o.ExternalID, AmountMinor: in.AmountMinor, RefundID: in.ExternalID})}); err != nil {
			return err
		}
		stored = true
		if o.MemberID == 0 {
			return nil
		}
		if err := addStats(ctx, tx, in.TenantID, o.MemberID, -in.AmountMinor, 0, time.Time{}, time.Time{}); err != nil {
			return err
		}
		tiers, err := tiersOf(ctx, tx, in.TenantID)
		if err != nil {
			return err
		}
		_, err = s.evaluate(ctx, plain(tx), tiers, in.TenantID, o.MemberID, now, fmt.Sprintf("refund:%d", rf.ID))
		return err
	})
	return rf, stored, err
}

const orderCols = `id, tenant_id, external_id, source, COALESCE(member_id, 0), matched_by, phone, email, channel, channel_user, coupon,
	amount_minor, currency, paid_at, refunded_minor, created_at`

func scanOrder(r scanner) (Order, error) {
	var o Order
	var paid, created int64
	err := r.Scan(&o.ID, &o.TenantID, &o.ExternalID, &o.Source, &o.MemberID, &o.MatchedBy, &o.Phone, &o.Email, &o.Channel, &o.ChannelUser,
		&o.Coupon, &o.AmountMinor, &o.Currency, &paid, &o.RefundedMinor, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return o, store.ErrNotFound
	}
	o.PaidAt, o.CreatedAt = store.Time(paid), store.Time(created)
	return o, err
}

// OrderByExternal returns the order with the shop's id, with its lines.
func (s *Service) OrderByExternal(ctx context.Context, tenantID int64, externalID string) (Order, error) {
	o, err := scanOrder(s.db.R.QueryRowContext(ctx, `SELECT `+orderCols+` FROM orders WHERE tenant_id = $1 AND external_id = $2`, tenantID, externalID))
	if err != nil {
		return o, err
	}
	o.Lines, err = s.lines(ctx, tenantID, o.ID)
	return o, err
}

func (s *Service) lines(ctx context.Context, tenantID, orderID int64) ([]Line, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT line_no, sku, COALESCE(product_id, 0), name, qty, unit_price_minor FROM order_lines
		WHERE tenant_id = $1 AND order_id = $2 ORDER BY line_no`, tenantID, orderID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Line, error) {
		var l Line
		return l, r.Scan(&l.No, &l.SKU, &l.ProductID, &l.Name, &l.Qty, &l.UnitPriceMinor)
	})
}

// OrderFilter narrows a list of orders.
type OrderFilter struct {
	MemberID  int64 // only this member's
	Unmatched bool  // only orders no member matched
	Limit     int   // 50 when 0, at most 500
}

// Orders returns the tenant's orders, the most recently paid first.
func (s *Service) Orders(ctx context.Context, tenantID int64, f OrderFilter) ([]Order, error) {
	where, args := `tenant_id = $1`, []any{tenantID}
	if f.MemberID != 0 {
		where += ` AND member_id = $2`
		args = append(args, f.MemberID)
	} else if f.Unmatched {
		where += ` AND member_id IS NULL`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+orderCols+` FROM orders WHERE `+where+
		fmt.Sprintf(` ORDER BY paid_at DESC, id DESC LIMIT %d`, min(limit, 500)), args...)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanOrder)
}

// OrderCounts are the tenant's order totals.
type OrderCounts struct {
	Orders, Matched, Unmatched int64
	NetMinor                   int64
}

// Counts returns the tenant's order totals.
func (s *Service) Counts(ctx context.Context, tenantID int64) (OrderCounts, error) {
	var c OrderCounts
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(member_id), COALESCE(SUM(amount_minor - refunded_minor), 0) FROM orders WHERE tenant_id = $1`,
		tenantID).Scan(&c.Orders, &c.Matched, &c.NetMinor)
	c.Unmatched = c.Orders - c.Matched
	return c, err
}

// Stats returns a member's purchase totals (zero when they bought nothing).
func (s *Service) Stats(ctx context.Context, tenantID, memberID int64) (Stats, error) {
	var st Stats
	var first, last int64
	err := s.db.R.QueryRowContext(ctx, `SELECT spend_minor, orders, first_paid_at, last_paid_at FROM member_commerce WHERE tenant_id = $1 AND member_id = $2`,
		tenantID, memberID).Scan(&st.SpendMinor, &st.Orders, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return Stats{}, nil
	}
	st.FirstPaidAt, st.LastPaidAt = store.Time(first), store.Time(last)
	return st, err
}

// rematchBatch is how many unmatched orders one transaction of Rematch
// looks at.
const rematchBatch = 200

// Rematch matches the tenant's unmatched orders to members again (a member
// who gave their phone or email after buying), each batch one transaction
// with the members' totals and tiers. It returns how many it matched.
func (s *Service) Rematch(ctx context.Context, tenantID int64) (int, error) {
	matched := 0
	var after int64
	for {
		var n, last int
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT `+orderCols+` FROM orders WHERE tenant_id = $1 AND member_id IS NULL AND id > $2
				ORDER BY id LIMIT `+fmt.Sprint(rematchBatch), tenantID, after)
			if err != nil {
				return err
			}
			orders, err := store.Collect(rows, scanOrder)
			if err != nil {
				return err
			}
			last = len(orders)
			if last == 0 {
				return nil
			}
			after = orders[last-1].ID
			tiers, err := tiersOf(ctx, tx, tenantID)
			if err != nil {
				return err
			}
			now := s.now().UTC()
			w := batched(tx)
			for i := range orders {
				o := &orders[i]
				member, by, err := s.match(ctx, w, tenantID, o)
				if err != nil || member == 0 {
					if err != nil {
						return err
					}
					continue
				}
				res, err := w.ExecContext(ctx, `UPDATE orders SET member_id = $3, matched_by = $4 WHERE tenant_id = $1 AND id = $2 AND member_id IS NULL`,
					tenantID, o.ID, member, by)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k == 0 {
					continue
				}
				if err := addStats(ctx, w, tenantID, member, o.Net(), 1, o.PaidAt, o.PaidAt); err != nil {
					return err
				}
				if _, err := s.evaluate(ctx, w, tiers, tenantID, member, now, fmt.Sprintf("order:%d", o.ID)); err != nil {
					return err
				}
				if s.OnOrder != nil {
					if err := s.OnOrder(ctx, tx, tenantID, o.ID, member, o.PaidAt); err != nil {
						return err
					}
				}
				n++
			}
			return nil
		})
		if err != nil {
			return matched, fmt.Errorf("commerce: rematch: %w", err)
		}
		matched += n
		if last < rematchBatch {
			return matched, nil
		}
	}
}

// MoveMember is the member merge hook: the record from's orders, totals
// and tier become the person to's (the same buyer seen on two channels),
// and to's tier is evaluated again, in the merge's transaction.
func (s *Service) MoveMember(ctx context.Context, tx *store.Tx, tenantID, from, to int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE orders SET member_id = $3 WHERE tenant_id = $1 AND member_id = $2`, tenantID, from, to); err != nil {
		return fmt.Errorf("commerce: move orders: %w", err)
	}
	var st Stats
	var first, last int64
	err := tx.QueryRowContext(ctx, `SELECT spend_minor, orders, first_paid_at, last_paid_at FROM member_commerce WHERE tenant_id = $1 AND member_id = $2`,
		tenantID, from).Scan(&st.SpendMinor, &st.Orders, &first, &last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("commerce: move totals: %w", err)
	default:
		if err := addStats(ctx, tx, tenantID, to, st.SpendMinor, st.Orders, store.Time(first), store.Time(last)); err != nil {
			return err
		}
	}
	for _, q := range []string{`DELETE FROM member_commerce WHERE tenant_id = $1 AND member_id = $2`,
		`DELETE FROM member_tiers WHERE tenant_id = $1 AND member_id = $2`} {
		if _, err := tx.ExecContext(ctx, q, tenantID, from); err != nil {
			return fmt.Errorf("commerce: move member: %w", err)
		}
	}
	ladder, err := tiersOf(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	_, err = s.evaluate(ctx, plain(tx), ladder, tenantID, to, s.now(), "merge")
	return err
}
