package web

// wishRoutes: products added to a live (wishers told), "notify me" on a
// sold-out product, re-sales offered to exactly those members.
func (s *Server) wishRoutes() []Route {
	return []Route{
		s.staffRoute("POST /console/lives/{id}/products", s.liveProductAdd),
		s.staffRoute("POST /console/lives/{id}/products/{product}/resale", s.liveResaleCreate),
		s.memberRoute("POST /l/{tenant}/{id}/products/{product}/notify", s.liveNotifyMe),
		s.memberRoute("GET /m/{tenant}/resales/{id}", s.memberResale),
		s.memberRoute("POST /m/{tenant}/resales/{id}/claim", s.memberResaleClaim),
	}
}
