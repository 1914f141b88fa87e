package web

// couponRoutes lists the endpoints of this #7 feature.
func (s *Server) couponRoutes() []Route { return nil }
