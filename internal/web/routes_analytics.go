package web

// analyticsRoutes lists the dashboard, its CSV files and the data exports
// (#8); owners, operators and analysts only (analystRoute).
func (s *Server) analyticsRoutes() []Route {
	return []Route{
		s.analystRoute("GET /console/analytics", s.analyticsPage),
		s.analystRoute("GET /console/analytics/export/{file}", s.analyticsCSV),
		s.analystRoute("GET /console/exports", s.exportsPage),
		s.analystRoute("GET /console/exports/{file}", s.exportCSV),
	}
}
