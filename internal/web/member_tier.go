package web

import (
	"net/http"
	"time"
)

// memberTier is the member's tier page: their tier and its benefits, the
// way to the next tier (spend in its window, or points, against its
// threshold) and their agent.
func (s *Server) memberTier(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	p, err := s.Commerce.ProgressOf(ctx, mc.Tenant.ID, mc.Member.ID, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.Commerce.Stats(ctx, mc.Tenant.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r, mc.Tenant.Locale)
	value, needed, threshold := any(p.Value), any(p.Needed), any(p.Next.Threshold)
	if p.Next.Basis == "spend" {
		value, needed, threshold = money(p.Value), money(p.Needed), money(p.Next.Threshold)
	}
	s.render(w, r, "member_tier", s.memberPage(r, mc.Tenant, s.Catalog.T(lang, "tier.mine"), map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "P": p, "Benefits": s.Commerce.Benefits(ctx, s.DB.R, lang, p.Tier),
		"NextBenefits": s.Commerce.Benefits(ctx, s.DB.R, lang, p.Next), "Value": value, "Needed": needed, "Threshold": threshold,
		"Spend": money(st.SpendMinor), "Orders": st.Orders,
	}))
}
