package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/report"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// reportsListed is how many past reports the history page shows.
const reportsListed = 100

type reportItem struct {
	ID                             int64
	Title, Kind, Created, By, Sent string
}

type reportOption struct {
	Value, Label string
	Selected     bool
}

type reportGroupOption struct {
	ID       int64
	Name     string
	Selected bool
}

type reportsData struct {
	Reports   []reportItem
	Kinds     []reportOption
	From, To  string
	Groups    []reportGroupOption
	Languages []langOption
	Problem   string
	Saved     bool
}

// reportsPage is the history of reports, "generate now" and the sending
// settings.
func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.renderReports(w, r, c, http.StatusOK, report.Weekly, "", "", "")
}

// renderReports shows the reports page; the form keeps what was typed
// (from, to), else offers last week.
func (s *Server) renderReports(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, kind report.Kind, from, to, problem string) {
	ctx := r.Context()
	if from == "" && to == "" {
		last := report.LastPeriod(report.Weekly, time.Now(), c.Tenant.Location())
		from, to = last.From.String(), (last.To - 1).String()
	}
	list, err := s.Reports.List(ctx, c.Tenant.ID, reportsListed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	set, err := s.Reports.Settings(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := reportsData{From: from, To: to, Problem: problem, Saved: r.URL.Query().Get("saved") == "1"}
	loc := c.Tenant.Location()
	for _, st := range list {
		it := reportItem{ID: st.ID, Title: report.Title(s.Catalog, c.Lang, st.Kind, st.Period), Kind: s.Catalog.T(c.Lang, "report.kind."+string(st.Kind)),
			Created: st.CreatedAt.In(loc).Format("2006-01-02 15:04"), By: s.Catalog.T(c.Lang, "report.by.schedule")}
		if st.CreatedBy != 0 {
			it.By = s.Catalog.T(c.Lang, "report.by.staff")
		}
		if !st.SentAt.IsZero() {
			it.Sent = st.SentAt.In(loc).Format("2006-01-02 15:04")
		}
		d.Reports = append(d.Reports, it)
	}
	for _, k := range report.Kinds {
		d.Kinds = append(d.Kinds, reportOption{Value: string(k), Label: s.Catalog.T(c.Lang, "report.kind."+string(k)), Selected: k == kind})
	}
	for _, g := range groups {
		if g.ArchivedAt.IsZero() {
			d.Groups = append(d.Groups, reportGroupOption{ID: g.ID, Name: g.Name, Selected: g.ID == set.SendGroupID})
		}
	}
	for _, l := range i18n.Languages {
		d.Languages = append(d.Languages, langOption{Code: l, Name: i18n.Name(l), Current: l == set.Locale})
	}
	s.renderStatus(w, r, status, "reports", s.staffPage(c, s.Catalog.T(c.Lang, "report.list.title"), "reports", d))
}

// reportGenerate makes a report now: a weekly or monthly one of the week
// or month holding "from" (the one that exists is shown instead), or a
// custom one from "from" to "to", both days included.
func (s *Server) reportGenerate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	kind, ok := report.ParseKind(r.PostFormValue("kind"))
	from, to := r.PostFormValue("from"), r.PostFormValue("to")
	if !ok {
		s.renderReports(w, r, c, http.StatusBadRequest, report.Weekly, from, to, s.Catalog.T(c.Lang, "report.generate.bad_kind"))
		return
	}
	p, err := report.ParsePeriod(kind, from, to)
	if err != nil {
		s.renderReports(w, r, c, http.StatusBadRequest, kind, from, to, s.Catalog.T(c.Lang, "report.generate.bad_period", report.MaxDays))
		return
	}
	st, _, err := s.Reports.Generate(r.Context(), c.Tenant.ID, kind, p, c.Staff.ID)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			s.renderReports(w, r, c, http.StatusBadRequest, kind, from, to, s.Catalog.T(c.Lang, "report.generate.bad_period", report.MaxDays))
			return
		}
		s.Logger.Error("report: generate", "tenant", c.Tenant.ID, "kind", kind, "err", err)
		s.renderReports(w, r, c, http.StatusServiceUnavailable, kind, from, to, s.Catalog.T(c.Lang, "report.generate.failed"))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/reports/%d", st.ID), http.StatusSeeOther)
}

// reportSettingsSave stores where scheduled reports are sent.
func (s *Server) reportSettingsSave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	group, err := strconv.ParseInt(r.PostFormValue("send_group_id"), 10, 64)
	if err != nil || group < 0 {
		group = -1 // refused below as no such group
	}
	err = s.Reports.SaveSettings(r.Context(), c.Tenant.ID, report.Settings{SendGroupID: group, Locale: r.PostFormValue("locale")})
	if errors.Is(err, store.ErrInvalid) {
		s.renderReports(w, r, c, http.StatusBadRequest, report.Weekly, "", "", s.Catalog.T(c.Lang, "report.settings.invalid"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/reports?saved=1", http.StatusSeeOther)
}

type reportPageData struct {
	View    report.View
	CanSend bool
	SentNow bool
	// The standalone download's inlined assets.
	CSS     template.CSS
	ECharts template.JS
	Script  template.JS
}

// reportShow is one report with its charts.
func (s *Server) reportShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	st, ok := s.loadReport(w, r, c)
	if !ok {
		return
	}
	set, err := s.Reports.Settings(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := report.NewView(s.Catalog, c.Lang, st)
	d := reportPageData{View: v, CanSend: set.SendGroupID != 0, SentNow: r.URL.Query().Get("sent") == "1"}
	s.render(w, r, "report", s.staffPage(c, v.Title, "reports", d))
}

func (s *Server) loadReport(w http.ResponseWriter, r *http.Request, c *staffCtx) (report.Stored, bool) {
	id, err := pathID(r, "id")
	if err == nil {
		var st report.Stored
		if st, err = s.Reports.Get(r.Context(), c.Tenant.ID, id); err == nil {
			return st, true
		}
	}
	s.fail(w, r, err)
	return report.Stored{}, false
}

// reportSend sends the report to the staff group of the settings (once
// per group: the outbox key).
func (s *Server) reportSend(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	st, ok := s.loadReport(w, r, c)
	if !ok {
		return
	}
	set, err := s.Reports.Settings(r.Context(), c.Tenant.ID)
	if err == nil && set.SendGroupID == 0 {
		err = fmt.Errorf("%w: %s", store.ErrInvalid, s.Catalog.T(c.Lang, "report.send.no_group"))
	}
	if err == nil {
		_, err = s.Reports.Send(r.Context(), c.Tenant.ID, st.ID, set.SendGroupID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/reports/%d?sent=1", st.ID), http.StatusSeeOther)
}

// reportDownload is the report as one HTML file that opens offline: the
// styles, ECharts and the page script inlined.
func (s *Server) reportDownload(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	st, ok := s.loadReport(w, r, c)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := s.WriteReportHTML(&buf, st, c.Lang); err != nil {
		s.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("liveloop-%s-%s-%s.html", c.Tenant.Slug, st.Kind, st.Period.From)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(buf.Bytes())
}

// scriptEnd finds what would end an inline script or style element early.
var scriptEnd = regexp.MustCompile(`(?i)</(script|style)`)

// inline reads a static asset for inlining, with any closing tag of its
// element made inert ("<\/script": the same string to JavaScript).
func (s *Server) inline(name string) (string, error) {
	b, err := fs.ReadFile(s.static, name)
	if err != nil {
		return "", fmt.Errorf("web: report asset %s: %w", name, err)
	}
	return scriptEnd.ReplaceAllString(string(b), `<\/$1`), nil
}

// WriteReportHTML writes a stored report as a standalone HTML page in
// lang: its data, styles, ECharts and script inlined, so the file opens
// offline (the console's download and `liveloop report -o`).
func (s *Server) WriteReportHTML(w io.Writer, st report.Stored, lang string) error {
	var assets [4]string
	for i, name := range []string{"app.css", "report.css", "vendor/echarts/echarts.min.js", "report.js"} {
		var err error
		if assets[i], err = s.inline(name); err != nil {
			return err
		}
	}
	v := report.NewView(s.Catalog, lang, st)
	d := reportPageData{View: v, CSS: template.CSS(assets[0] + "\n" + assets[1]), ECharts: template.JS(assets[2]), Script: template.JS(assets[3])}
	p := page{Lang: lang, Title: v.Title, Data: d, cat: s.Catalog, loc: reportLocation(st)}
	t, ok := s.pages["report"]
	if !ok {
		return errors.New("web: no report template")
	}
	return t.ExecuteTemplate(w, "standalone", p)
}

func reportLocation(st report.Stored) *time.Location {
	return tenant.Tenant{Timezone: st.Report.Timezone}.Location()
}
