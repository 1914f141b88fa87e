package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/liveloop/liveloop/internal/loyalty"
)

// memberPoints is a member's points page: balance, history, the
// leaderboard and the reward store.
func (s *Server) memberPoints(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	balance, err := s.Loyalty.Balance(ctx, mc.Tenant.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ledger, err := s.Loyalty.Ledger(ctx, mc.Tenant.ID, mc.Member.ID, 30)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := period(r.URL.Query().Get("period"))
	board, err := s.Loyalty.Leaderboard(ctx, mc.Tenant.ID, 0, p, time.Now(), mc.Tenant.Location(), 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rewards, err := s.Loyalty.Rewards(ctx, mc.Tenant.ID, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "member_points", s.memberPage(r, mc.Tenant, s.Catalog.T(s.lang(r, mc.Tenant.Locale), "points.title"), map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "Balance": balance, "Ledger": ledger, "Board": board, "Period": string(p),
		"Rewards": rewards, "Done": r.URL.Query().Get("redeemed"), "Error": r.URL.Query().Get("error"),
	}))
}

// memberRedeem spends points on a reward. The form carries a one-time id
// so a double submit redeems once.
func (s *Server) memberRedeem(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ref := r.PostFormValue("ref")
	if !validClientID(ref) {
		ref = randomID()
	}
	back := "/m/" + mc.Tenant.Slug + "/points"
	_, err = s.Loyalty.Redeem(r.Context(), mc.Tenant.ID, mc.Member.ID, id, fmt.Sprintf("m%d:%s", mc.Member.ID, ref))
	switch {
	case errors.Is(err, loyalty.ErrInsufficientPoints):
		http.Redirect(w, r, back+"?error=points", http.StatusSeeOther)
	case errors.Is(err, loyalty.ErrOutOfStock):
		http.Redirect(w, r, back+"?error=stock", http.StatusSeeOther)
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, back+"?redeemed=1", http.StatusSeeOther)
	}
}
