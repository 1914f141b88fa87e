package web

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/liveloop/liveloop/internal/export"
)

// exportsPage offers the brand's data as CSV files: members, orders,
// events and group messages, for a period or all of it.
func (s *Server) exportsPage(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.render(w, r, "exports", s.staffPage(c, s.Catalog.T(c.Lang, "export.title"), "analytics", map[string]any{
		"Kinds": export.Kinds, "From": r.URL.Query().Get("from"), "To": r.URL.Query().Get("to"),
	}))
}

// exportCSV streams one export: GET /console/exports/<kind>.csv?from=&to=
// (tenant days, both optional, to inclusive).
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".csv")
	kind, err := export.ParseKind(name)
	if !ok || err != nil {
		s.deny(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	loc := c.Tenant.Location()
	fromS, toS := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	from, to, err := export.Days(fromS, toS, loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	filename := c.Tenant.Slug + "-" + name
	if fromS != "" || toS != "" {
		filename += "-" + fromS + "-" + toS
	}
	out := &downloadWriter{w: w, filename: filename + ".csv"}
	n, err := export.Write(r.Context(), s.DB, export.Request{TenantID: c.Tenant.ID, Kind: kind, From: from, To: to, Loc: loc}, out)
	if err == nil {
		return
	}
	if !out.started {
		s.fail(w, r, err)
		return
	}
	// Part of the file is sent: break the connection rather than let a
	// truncated file pass for a whole one.
	s.Logger.Error("web: export broke off", "tenant", c.Tenant.ID, "kind", name, "rows", n, "err", err)
	panic(http.ErrAbortHandler)
}

// downloadWriter sets the download's headers with its first byte, so an
// error before any row can still answer with an error page.
type downloadWriter struct {
	w        http.ResponseWriter
	filename string
	started  bool
}

func (d *downloadWriter) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, d.filename))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no") // let a reverse proxy stream it too
	}
	return d.w.Write(p)
}

var _ io.Writer = (*downloadWriter)(nil)
