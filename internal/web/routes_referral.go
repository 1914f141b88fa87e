package web

// referralRoutes lists the endpoints of this #7 feature: group sets (活码)
// and referral campaigns (裂变).
func (s *Server) referralRoutes() []Route {
	if s.Referral == nil {
		return nil
	}
	return []Route{
		s.staffRoute("GET /console/groupsets", s.groupSets),
		s.staffRoute("POST /console/groupsets", s.groupSetCreate),
		s.staffRoute("GET /console/groupsets/{id}", s.groupSetShow),
		s.staffRoute("POST /console/groupsets/{id}", s.groupSetUpdate),
		s.staffRoute("POST /console/groupsets/{id}/joincodes", s.groupSetCodeCreate),
		s.staffRoute("POST /console/groupsets/{id}/joincodes/{cid}/disable", s.groupSetCodeDisable),
		s.staffRoute("GET /console/groupsets/{id}/qr/{code}", s.groupSetQR),
		s.staffRoute("GET /console/referrals", s.referrals),
		s.staffRoute("POST /console/referrals", s.referralCreate),
		s.staffRoute("GET /console/referrals/{id}", s.referralShow),
		s.staffRoute("POST /console/referrals/{id}/end", s.referralEnd),
		s.staffRoute("POST /console/referrals/{id}/grants/{gid}/fulfil", s.referralFulfil),

		s.pubRoute("GET /r/{code}", s.invitePage),
		s.pubRoute("POST /r/{code}", s.inviteJoin),
		s.memberRoute("GET /m/{tenant}/invite", s.memberInvite),
		s.memberRoute("GET /m/{tenant}/invite/{id}/qr.svg", s.memberInviteQR),
	}
}
