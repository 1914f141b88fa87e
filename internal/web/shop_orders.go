package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// maxShopItems bounds the orders or refunds of one shop API request.
const maxShopItems = 500

type shopLine struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Qty   int64  `json:"qty"`
	Price int64  `json:"price"` // minor units
}

type shopOrder struct {
	ID          string     `json:"id"`
	PaidAt      string     `json:"paid_at"` // RFC 3339, or "2006-01-02 15:04:05" in the brand's time zone
	Amount      int64      `json:"amount"`  // minor units
	Currency    string     `json:"currency"`
	Phone       string     `json:"phone"`
	Email       string     `json:"email"`
	Channel     string     `json:"channel"`
	ChannelUser string     `json:"channel_user"`
	Coupon      string     `json:"coupon"`
	Lines       []shopLine `json:"lines"`
}

type shopRefund struct {
	ID      string `json:"id"`
	OrderID string `json:"order_id"`
	Amount  int64  `json:"amount"`
	At      string `json:"at"`
}

// shopResult is the answer for one order or refund.
type shopResult struct {
	ID      string `json:"id"`
	Status  string `json:"status"` // stored, duplicate, error
	Error   string `json:"error,omitempty"`
	Matched bool   `json:"matched,omitempty"` // an order matched to a member
}

// decodeShop reads the body's list; a malformed body is refused whole.
func decodeShop(w http.ResponseWriter, body []byte, v any, n func() int) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		apiRefuse(w, http.StatusBadRequest, "bad_json", "the body is not the JSON this endpoint takes: "+err.Error())
		return false
	}
	switch {
	case n() == 0:
		apiRefuse(w, http.StatusBadRequest, "empty", "the list is empty")
	case n() > maxShopItems:
		apiRefuse(w, http.StatusBadRequest, "too_many", fmt.Sprintf("at most %d items a request", maxShopItems))
	default:
		return true
	}
	return false
}

// itemError is the reason an item was refused, for the shop's logs.
func (s *Server) itemError(r *http.Request, t tenant.Tenant, id string, err error) shopResult {
	res := shopResult{ID: id, Status: "error"}
	switch {
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrConflict):
		res.Error = detail(err)
	case errors.Is(err, store.ErrNotFound):
		res.Error = "no such order"
	default:
		s.Logger.Error("shop api", "tenant", t.ID, "path", r.URL.Path, "id", id, "err", err)
		res.Error = "internal error: try again later"
	}
	return res
}

// shopOrders takes paid orders from the brand's shop: each is stored in
// its own transaction (matched to a member, totals and tier updated), and
// the answer lists each one's outcome.
func (s *Server) shopOrders(w http.ResponseWriter, r *http.Request, t tenant.Tenant, body []byte) {
	var req struct {
		Orders []shopOrder `json:"orders"`
	}
	if !decodeShop(w, body, &req, func() int { return len(req.Orders) }) {
		return
	}
	results := make([]shopResult, 0, len(req.Orders))
	for _, so := range req.Orders {
		o := commerce.Order{TenantID: t.ID, ExternalID: so.ID, Source: commerce.FromAPI, AmountMinor: so.Amount, Currency: so.Currency,
			Phone: so.Phone, Email: so.Email, Channel: so.Channel, ChannelUser: so.ChannelUser, Coupon: so.Coupon}
		for _, l := range so.Lines {
			o.Lines = append(o.Lines, commerce.Line{SKU: l.SKU, Name: l.Name, Qty: l.Qty, UnitPriceMinor: l.Price})
		}
		o.PaidAt = time.Now() // an order pushed without paid_at was paid as it is pushed
		if strings.TrimSpace(so.PaidAt) != "" {
			at, err := commerce.ParseTime(so.PaidAt, t.Location())
			if err != nil {
				results = append(results, shopResult{ID: so.ID, Status: "error", Error: "paid_at: " + err.Error()})
				continue
			}
			o.PaidAt = at
		}
		stored, created, err := s.Commerce.Record(r.Context(), o)
		switch {
		case err != nil:
			results = append(results, s.itemError(r, t, so.ID, err))
		case !created:
			results = append(results, shopResult{ID: so.ID, Status: "duplicate"})
		default:
			results = append(results, shopResult{ID: so.ID, Status: "stored", Matched: stored.MemberID != 0})
		}
	}
	apiAnswer(w, http.StatusOK, map[string]any{"results": results})
}

// shopRefunds takes refunds of stored orders, each in its own transaction.
func (s *Server) shopRefunds(w http.ResponseWriter, r *http.Request, t tenant.Tenant, body []byte) {
	var req struct {
		Refunds []shopRefund `json:"refunds"`
	}
	if !decodeShop(w, body, &req, func() int { return len(req.Refunds) }) {
		return
	}
	results := make([]shopResult, 0, len(req.Refunds))
	for _, sr := range req.Refunds {
		in := commerce.RefundInput{TenantID: t.ID, OrderExtID: sr.OrderID, ExternalID: sr.ID, AmountMinor: sr.Amount}
		if strings.TrimSpace(sr.At) != "" {
			at, err := commerce.ParseTime(sr.At, t.Location())
			if err != nil {
				results = append(results, shopResult{ID: sr.ID, Status: "error", Error: "at: " + err.Error()})
				continue
			}
			in.At = at
		}
		_, created, err := s.Commerce.RecordRefund(r.Context(), in)
		switch {
		case err != nil:
			results = append(results, s.itemError(r, t, sr.ID, err))
		case !created:
			results = append(results, shopResult{ID: sr.ID, Status: "duplicate"})
		default:
			results = append(results, shopResult{ID: sr.ID, Status: "stored"})
		}
	}
	apiAnswer(w, http.StatusOK, map[string]any{"results": results})
}
