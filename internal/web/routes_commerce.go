package web

// commerceRoutes lists the endpoints of orders, products and tiers (#7).
func (s *Server) commerceRoutes() []Route {
	return []Route{
		s.staffRoute("GET /console/orders", s.ordersPage),
		// The CSV upload is up to 10 MiB: it checks the session and CSRF
		// token itself, after its own body cap (staffUpload).
		{"POST /console/orders/import", Staff, s.staffUpload(s.ordersImport)},
		s.staffRoute("POST /console/orders/rematch", s.ordersRematch),
		s.staffRoute("GET /console/products", s.productsPage),
		s.staffRoute("POST /console/products", s.productSave),
		s.staffRoute("GET /console/products/{id}", s.productEdit),
		s.staffRoute("POST /console/products/{id}", s.productSave),
		s.staffRoute("GET /console/tiers", s.tiersPage),
		s.staffRoute("POST /console/tiers", s.tierSave),
		s.staffRoute("POST /console/tiers/evaluate", s.tiersEvaluate),
		s.staffRoute("GET /console/tiers/{id}", s.tierMembers),
		s.staffRoute("POST /console/tiers/{id}", s.tierSave),
		s.memberRoute("GET /m/{tenant}/tier", s.memberTier),
		s.shopRoute("POST /api/shop/{tenant}/orders", s.shopOrders),
		s.shopRoute("POST /api/shop/{tenant}/refunds", s.shopRefunds),
	}
}
