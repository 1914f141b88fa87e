package web

// trackRoutes lists the endpoints of tracked links (#8): the public short
// link every sent link goes through, and the console's list of links with
// the attribution window.
func (s *Server) trackRoutes() []Route {
	if s.Track == nil {
		return nil
	}
	return []Route{
		s.pubRoute("GET /t/{code}", s.trackedLink),
		s.staffRoute("GET /console/tracking", s.tracking),
		s.staffRoute("POST /console/tracking", s.trackingSave),
	}
}
