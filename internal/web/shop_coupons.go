package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// couponRequest is the body of the shop's coupon calls.
type couponRequest struct {
	Code    string `json:"code"`
	OrderID string `json:"order_id"`
	Amount  *int64 `json:"amount"` // the order's amount in minor units
}

func (s *Server) shopCouponRedeem(w http.ResponseWriter, r *http.Request, t tenant.Tenant, body []byte) {
	s.shopCoupon(w, r, t, body, s.Coupons.Redeem)
}

func (s *Server) shopCouponCheck(w http.ResponseWriter, r *http.Request, t tenant.Tenant, body []byte) {
	s.shopCoupon(w, r, t, body, s.Coupons.Check)
}

type couponCall func(ctx context.Context, tenantID int64, code, orderID string, amount int64) (coupon.Redemption, error)

// shopCoupon decodes the request, runs redeem or check, and answers the
// discount — or a refusal with a stable error code: unknown_code (404),
// already_used (409), expired / not_yet_valid / minimum_spend (422),
// invalid (400).
func (s *Server) shopCoupon(w http.ResponseWriter, r *http.Request, t tenant.Tenant, body []byte, call couponCall) {
	var req couponRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Amount == nil {
		apiRefuse(w, http.StatusBadRequest, "invalid", `the body must be JSON {"code": "…", "order_id": "…", "amount": <minor units>}`)
		return
	}
	red, err := call(r.Context(), t.ID, req.Code, req.OrderID, *req.Amount)
	switch reason := coupon.Reason(err); {
	case err == nil:
		apiAnswer(w, http.StatusOK, red)
	case errors.Is(err, store.ErrNotFound):
		apiRefuse(w, http.StatusNotFound, "unknown_code", "no such coupon code has been handed out by this brand")
	case errors.Is(err, coupon.ErrUsed):
		apiRefuse(w, http.StatusConflict, "already_used", coupon.Message(err))
	case reason != "":
		apiRefuse(w, http.StatusUnprocessableEntity, reason, coupon.Message(err))
	case errors.Is(err, store.ErrInvalid):
		apiRefuse(w, http.StatusBadRequest, "invalid", detail(err))
	default:
		s.Logger.Error("shop api: coupon", "tenant", t.ID, "err", err)
		apiRefuse(w, http.StatusInternalServerError, "internal", "internal error; retry later")
	}
}
