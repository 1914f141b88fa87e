package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/export"
)

// analyticsCSV is one dashboard section as CSV, with the page's filters:
// GET /console/analytics/export/<section>.csv. A section whose query
// fails answers 503.
func (s *Server) analyticsCSV(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".csv")
	sec := section(name)
	if !ok || !oneOf(name, sectionNames()) {
		s.deny(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	d, err := s.loadDashboard(r, c, []section{sec})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.failed(sec) {
		s.deny(w, r, http.StatusServiceUnavailable, "dash.unavailable")
		return
	}
	rows := s.csvRows(d, sec)
	filename := fmt.Sprintf("%s-%s-%s-%s.csv", c.Tenant.Slug, name, d.Query.From, d.Query.To)
	sendCSV(w, filename, rows)
}

func sectionNames() []string {
	out := make([]string, len(allSections))
	for i, s := range allSections {
		out[i] = string(s)
	}
	return out
}

// failed reports whether a section's query failed.
func (d *dashboard) failed(sec section) bool {
	switch sec {
	case secOverview:
		return d.CardsErr
	case secTrend:
		return d.Trend.Err
	case secFunnel:
		return d.Funnel.Err
	case secCohorts:
		return d.Cohorts.Err
	case secSendTime:
		return d.SendTime.Err
	case secSources:
		return d.Sources.Err
	case secAttribution:
		return d.Attrib.Err
	case secHealth:
		return d.Health.Err
	case secCapacity:
		return d.Capacity.Err
	case secContent:
		return d.Content.Err
	}
	return true
}

// setFailed marks a section unavailable. The trend is left alone: each of
// its series is kept or dropped on its own.
func (d *dashboard) setFailed(sec section) {
	switch sec {
	case secOverview:
		d.CardsErr = true
	case secFunnel:
		d.Funnel.Err = true
	case secCohorts:
		d.Cohorts.Err = true
	case secSendTime:
		d.SendTime.Err = true
	case secSources:
		d.Sources.Err = true
	case secAttribution:
		d.Attrib.Err = true
	case secHealth:
		d.Health.Err = true
	case secCapacity:
		d.Capacity.Err = true
	case secContent:
		d.Content.Err = true
	}
}

// sendCSV sends rows (the header first) as a CSV download.
func sendCSV(w http.ResponseWriter, filename string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	cw, err := export.NewWriter(w)
	if err != nil {
		return // the client went away
	}
	for _, row := range rows {
		if cw.Write(row...) != nil {
			return
		}
	}
	cw.Flush()
}

// csvRows is a section's table: a header of stable column names, then the
// rows, numbers in their display scale (percent 0–100, money in major
// units), "" for a number that is not one.
func (s *Server) csvRows(d *dashboard, sec section) [][]string {
	switch sec {
	case secOverview:
		return s.overviewRows(d)
	case secTrend:
		return trendRows(d)
	case secFunnel:
		rows := [][]string{{"step", "members", "share_of_first_pct"}}
		for i, st := range d.raw.funnel.Steps {
			rows = append(rows, []string{d.Funnel.Steps[i].Name, num64(st.Members), plain(pct(st.Members, d.raw.funnel.Steps[0].Members))})
		}
		return rows
	case secCohorts:
		rows := [][]string{{"week", "members", "d1_active", "d1_eligible", "d1_pct", "d7_active", "d7_eligible", "d7_pct",
			"d30_active", "d30_eligible", "d30_pct"}}
		for _, c := range d.raw.cohorts {
			row := []string{c.Week.String(), num64(c.Members)}
			for _, r := range []analytics.Retained{c.D1, c.D7, c.D30} {
				row = append(row, num64(r.Active), num64(r.Eligible), plain(cohortCell(r)))
			}
			rows = append(rows, row)
		}
		return rows
	case secSendTime:
		return s.sendTimeRows(d)
	case secSources:
		rows := [][]string{{"source", "joins", "new", "returning", "previous_joins"}}
		for _, r := range d.raw.sources {
			rows = append(rows, []string{s.sourceLabel(d.lang, r.Source), num64(r.Joins), num64(r.New), num64(r.Returning), num64(r.Prev)})
		}
		return rows
	case secAttribution:
		rows := [][]string{{"kind", "key", "label", "orders", "gmv"}}
		for _, l := range []struct {
			kind string
			list []analytics.Attributed
		}{{"live", d.raw.lives}, {"push", d.raw.pushes}, {"group", d.raw.groups}} {
			for _, a := range l.list {
				rows = append(rows, []string{l.kind, a.Key, a.Label, num64(a.Orders), major(a.GMV)})
			}
		}
		return rows
	case secHealth:
		return s.healthRows(d)
	case secCapacity:
		rows := [][]string{{"group", "advice", "members", "cap", "text"}}
		for i, a := range d.raw.capacity {
			rows = append(rows, []string{a.Name, a.Kind, num64(a.Members), num64(a.Cap), d.Capacity.Items[i].Text})
		}
		return rows
	case secContent:
		rows := [][]string{{"type", "format", "sends", "reach", "clicks", "replies", "orders", "gmv"}}
		for _, c := range d.raw.content {
			rows = append(rows, []string{c.Type, c.Format, num64(c.Sends), num64(c.Reach), num64(c.Clicks), num64(c.Replies),
				num64(c.Orders), major(c.GMV)})
		}
		return rows
	}
	return nil
}

func (s *Server) overviewRows(d *dashboard) [][]string {
	rows := [][]string{{"kind", "metric", "name", "unit", "value", "previous", "change", "definition"}}
	for _, def := range analytics.Defs {
		cur, ok := d.raw.overview[def.Key]
		prev, okPrev := d.raw.previous[def.Key]
		value, previous, ch := "", "", ""
		if ok {
			value = plain(plot(cur, def.Unit))
		}
		if okPrev {
			previous = plain(plot(prev, def.Unit))
		}
		if ok && okPrev {
			if ch, _ = change(cur, prev, def.Unit); ch == noValue {
				ch = ""
			}
		}
		rows = append(rows, []string{string(def.Kind), def.Key, s.metricName(d.lang, def.Key), string(def.Unit), value, previous, ch,
			s.metricDef(d.lang, def.Key)})
	}
	return rows
}

// trendRows is one row per day, one column per daily metric.
func trendRows(d *dashboard) [][]string {
	ch := d.ChartJSON.Trend
	header := []string{"day"}
	if ch == nil {
		return [][]string{header}
	}
	for _, ser := range ch.Series {
		header = append(header, ser.Key)
	}
	rows := [][]string{header}
	for i, day := range ch.Days {
		row := []string{day}
		for _, ser := range ch.Series {
			row = append(row, plain(ser.Values[i]))
		}
		rows = append(rows, row)
	}
	return rows
}

func (s *Server) sendTimeRows(d *dashboard) [][]string {
	header := []string{"weekday"}
	for hr := 0; hr < 24; hr++ {
		header = append(header, fmt.Sprintf("%02d", hr))
	}
	rows := [][]string{header}
	for _, wd := range weekdays {
		row := []string{d.t(fmt.Sprintf("dash.weekday.%d", wd))}
		for _, n := range d.raw.heatmap.Cells[wd] {
			row = append(row, num64(n))
		}
		rows = append(rows, row)
	}
	return rows
}

func (s *Server) healthRows(d *dashboard) [][]string {
	rows := [][]string{{"group", "class", "previous_class", "score", "messages", "brand_share_pct", "persona_share_pct",
		"member_to_member_pct", "top3_share_pct", "posters", "members", "brand_answered_pct", "reasons"}}
	for i, h := range d.raw.health {
		g, sh := h.Signals, sharesOf(h.Signals)
		rows = append(rows, []string{h.Name, h.Class, h.PrevClass, strconv.Itoa(h.Score), num64(g.Messages),
			pct100(sh.brand), pct100(sh.persona), pct100(sh.m2m), pct100(sh.top3),
			num64(g.Posters), num64(g.Members), pct100(sh.answered), strings.Join(d.Health.Rows[i].Reasons, "; ")})
	}
	return rows
}

func num64(n int64) string { return strconv.FormatInt(n, 10) }

// major is minor units as a plain decimal.
func major(minor int64) string {
	f := float64(minor) / 100
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// pct100 is a 0–1 fraction in percent, one decimal ("" if not finite).
func pct100(f float64) string {
	if !finite(f) {
		return ""
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64)
}
