package web

// commerceRoutes lists the endpoints of this #7 feature.
func (s *Server) commerceRoutes() []Route { return nil }
