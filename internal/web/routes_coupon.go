package web

// couponRoutes lists the endpoints of community coupons and perks (#7).
func (s *Server) couponRoutes() []Route {
	return []Route{
		s.staffRoute("GET /console/coupons", s.coupons),
		s.staffRoute("POST /console/coupons", s.couponCreate),
		s.staffRoute("GET /console/coupons/{id}", s.couponBatch),
		s.staffRoute("POST /console/coupons/{id}/disable", s.couponDisable),
		s.staffRoute("POST /console/coupons/perks", s.couponPerkCreate),
		s.staffRoute("POST /console/coupons/perks/{id}/active", s.couponPerkActive),
		s.staffRoute("POST /console/coupons/settings", s.couponSettings),
		s.memberRoute("GET /m/{tenant}/coupons", s.memberCoupons),
		s.memberRoute("POST /m/{tenant}/coupons/{id}/claim", s.memberCouponClaim),
		s.memberRoute("POST /m/{tenant}/coupons/birthday", s.memberBirthday),
		s.shopRoute("POST /api/shop/{tenant}/coupons/redeem", s.shopCouponRedeem),
		s.shopRoute("POST /api/shop/{tenant}/coupons/check", s.shopCouponCheck),
	}
}
