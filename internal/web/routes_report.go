package web

// reportRoutes lists the endpoints of the review reports (复盘, #8): the
// history with "generate now" and the sending settings, one report, its
// standalone download, and sending it to staff. Like the dashboard, they
// are for owners, operators and analysts.
func (s *Server) reportRoutes() []Route {
	return []Route{
		s.analystRoute("GET /console/reports", s.reportsPage),
		s.analystRoute("POST /console/reports", s.reportGenerate),
		s.analystRoute("POST /console/reports/settings", s.reportSettingsSave),
		s.analystRoute("GET /console/reports/{id}", s.reportShow),
		s.analystRoute("GET /console/reports/{id}/download", s.reportDownload),
		s.analystRoute("POST /console/reports/{id}/send", s.reportSend),
	}
}
