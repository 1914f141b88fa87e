package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/liveloop/liveloop/internal/tenant"
)

// The shop API: what a brand's shop (or its middleware) calls to tell
// liveloop about orders and refunds and to redeem community coupons, under
// /api/shop/{tenant}/…. A request is a JSON body signed like a webhook:
// X-Liveloop-Signature: sha256=hex(HMAC-SHA256(key, raw body)). The key is
// the brand's own, shown on the console's orders page and derived from the
// installation's secret, so nothing more is stored and one brand's key
// opens no other. Every endpoint is idempotent by the shop's own ids (an
// order id, a coupon code), so a replayed request changes nothing.
// docs/shop-api.md documents the shapes.

// maxShopBody caps a shop API request.
const maxShopBody = 1 << 20

// shopAPIKey is the brand's signing key for the shop API.
func (s *Server) shopAPIKey(tenantID int64) string {
	m := hmac.New(sha256.New, s.MemberKey)
	fmt.Fprintf(m, "shop-api:%d", tenantID)
	return hex.EncodeToString(m.Sum(nil))
}

// shopHandler serves a verified shop API request: t is the brand of the
// path, body the raw (signed) body.
type shopHandler func(w http.ResponseWriter, r *http.Request, t tenant.Tenant, body []byte)

// shopAPI resolves the brand, caps and reads the body and checks its
// signature before h runs; each refusal is a JSON error naming the fix.
func (s *Server) shopAPI(h shopHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		slug := r.PathValue("tenant")
		t, err := s.Tenants.BySlug(r.Context(), slug)
		if err != nil {
			apiRefuse(w, http.StatusNotFound, "not_found", "no such brand: "+slug)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxShopBody))
		if err != nil {
			apiRefuse(w, http.StatusRequestEntityTooLarge, "too_large", "the body is over 1 MiB: send smaller batches")
			return
		}
		sig, _ := strings.CutPrefix(r.Header.Get("X-Liveloop-Signature"), "sha256=")
		want := hmac.New(sha256.New, []byte(s.shopAPIKey(t.ID)))
		want.Write(body)
		got, err := hex.DecodeString(sig)
		if err != nil || !hmac.Equal(got, want.Sum(nil)) {
			s.Logger.Warn("shop api: signature refused", "tenant", t.ID, "path", r.URL.Path, "remote", r.RemoteAddr)
			apiRefuse(w, http.StatusUnauthorized, "bad_signature", "X-Liveloop-Signature must be sha256=<hex HMAC-SHA256 of the body with the brand's shop API key>")
			return
		}
		h(w, r, t, body)
	}
}

// apiAnswer writes v as the JSON answer with the status.
func apiAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiRefuse writes a JSON error: a stable code for programs, a message for
// the person reading the shop's logs.
func apiRefuse(w http.ResponseWriter, status int, code, msg string) {
	apiAnswer(w, status, map[string]string{"error": code, "message": msg})
}
