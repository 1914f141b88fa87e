package web

// wishRoutes lists the endpoints of this #7 feature.
func (s *Server) wishRoutes() []Route { return nil }
