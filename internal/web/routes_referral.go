package web

// referralRoutes lists the endpoints of this #7 feature.
func (s *Server) referralRoutes() []Route { return nil }
