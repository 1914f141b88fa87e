package app

import (
	"context"
	"time"

	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/report"
)

// buildReports wires the review reports (复盘): they read the analytics,
// the groups, the routine and the playbooks, and are sent through the
// outbox.
func (a *App) buildReports(cat *i18n.Catalog) {
	a.Reports = report.New(report.Deps{DB: a.DB, Analytics: a.Analytics, Tenants: a.Tenants, Community: a.Community,
		Bot: a.Bot, Campaigns: a.Campaigns, Lives: a.Lives, Outbox: a.Outbox, Catalog: cat, PublicURL: a.Cfg.PublicURL()})
}

// reportInterval is how often the schedule looks for due reports.
const reportInterval = 5 * time.Minute

// runReports makes each brand's weekly report after Monday 06:00 and its
// monthly one after the 1st 06:00 (brand time), and sends them to the
// brand's staff group, every few minutes until ctx ends. A pass is
// idempotent (one report per period, one message per report and group),
// so a restart or a second node adds nothing.
func (a *App) runReports(ctx context.Context) error {
	t := time.NewTicker(reportInterval)
	defer t.Stop()
	for {
		runs, err := a.Reports.RunDue(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			a.Logger.Warn("report: scheduled reports", "err", err)
		}
		for _, r := range runs {
			if r.Created || r.Sent {
				a.Logger.Info("report: scheduled report", "tenant", r.TenantID, "report", r.ReportID, "kind", r.Kind,
					"from", r.Period.From.String(), "created", r.Created, "sent", r.Sent)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// DemoReport gives the demo brand last week's review in its history:
// the analytics catch up with the seeded log first, then the report is
// made (or the existing one kept).
func (a *App) DemoReport(ctx context.Context, tenantID int64, now time.Time) (report.Stored, error) {
	t, err := a.Tenants.Get(ctx, tenantID)
	if err != nil {
		return report.Stored{}, err
	}
	if _, err := a.Rollup.Catchup(ctx); err != nil {
		return report.Stored{}, err
	}
	last := report.LastPeriod(report.Weekly, now, t.Location())
	st, _, err := a.Reports.Generate(ctx, tenantID, report.Weekly, last, 0)
	return st, err
}
