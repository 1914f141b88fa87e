package web

// saleRoutes lists the endpoints of this #7 feature.
func (s *Server) saleRoutes() []Route { return nil }
