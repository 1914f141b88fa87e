package web

// saleRoutes lists the endpoints of the in-group sales formats: flash
// sales, chain orders (接龙) and presales — the console's pages and
// exports, the chat cards' claim, join and cancel, the member's presales.
func (s *Server) saleRoutes() []Route {
	if s.Sales == nil {
		return nil
	}
	return []Route{
		s.staffRoute("GET /console/sales", s.salesPage),
		s.staffRoute("POST /console/sales/flash", s.flashCreate),
		s.staffRoute("GET /console/sales/flash/{id}", s.flashShow),
		s.staffRoute("GET /console/sales/flash/{id}/claims.csv", s.flashCSV),
		s.staffRoute("POST /console/sales/flash/{id}/end", s.flashEnd),
		s.staffRoute("POST /console/sales/chains", s.chainCreate),
		s.staffRoute("GET /console/sales/chains/{id}", s.chainShow),
		s.staffRoute("GET /console/sales/chains/{id}/orders.csv", s.chainCSV),
		s.staffRoute("POST /console/sales/chains/{id}/close", s.chainClose),
		s.staffRoute("POST /console/sales/presales", s.presaleCreate),
		s.staffRoute("GET /console/sales/presales/{id}", s.presaleShow),

		s.memberRoute("POST /m/{tenant}/g/{id}/flash/{sale}/claim", s.memberFlashClaim),
		s.memberRoute("POST /m/{tenant}/g/{id}/chains/{chain}/join", s.memberChainJoin),
		s.memberRoute("POST /m/{tenant}/g/{id}/chains/{chain}/cancel", s.memberChainCancel),
		s.memberRoute("GET /m/{tenant}/presales", s.memberPresales),
		s.memberRoute("POST /m/{tenant}/presales/{id}/reserve", s.memberReserve),
	}
}
