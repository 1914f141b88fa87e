package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/tenant"
)

//go:embed templates static
var assets embed.FS

// parsePages parses each page template together with the layout, so that
// every page defines its own "content" and a broken template stops start-up.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New(base).ParseFS(assets, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// page is what every template sees.
type page struct {
	Lang   string
	Title  string
	Staff  *tenant.Staff
	Tenant *tenant.Tenant
	CSRF   string
	Nav    string
	Data   any
	cat    *i18n.Catalog
	loc    *time.Location
}

// T translates a catalogue key.
func (p page) T(key string, args ...any) string { return p.cat.T(p.Lang, key, args...) }

// Time formats t in the tenant's time zone.
func (p page) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.loc).Format("2006-01-02 15:04")
}

// Languages lists the language choices for the picker.
func (p page) Languages() []langOption {
	var out []langOption
	for _, l := range i18n.Languages {
		out = append(out, langOption{Code: l, Name: i18n.Name(l), Current: l == p.Lang})
	}
	return out
}

type langOption struct {
	Code, Name string
	Current    bool
}

func (s *Server) newPage(r *http.Request, lang, title string, data any) page {
	return page{Lang: lang, Title: title, Data: data, cat: s.Catalog, loc: time.UTC}
}

func (s *Server) staffPage(c *staffCtx, title, nav string, data any) page {
	return page{Lang: c.Lang, Title: title, Nav: nav, Staff: &c.Staff, Tenant: &c.Tenant, CSRF: c.Session.CSRFToken,
		Data: data, cat: s.Catalog, loc: c.Tenant.Location()}
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	s.renderStatus(w, r, http.StatusOK, name, p)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		s.Logger.Error("web: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.Logger.Error("web: render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// lang picks the language of a request: an explicit choice, then
// Accept-Language, then the fallback (the tenant's locale).
func (s *Server) lang(r *http.Request, fallback string, choices ...string) string {
	if c, err := r.Cookie("ll_lang"); err == nil {
		choices = append(choices, c.Value)
	}
	return s.Catalog.Pick(r.Header.Get("Accept-Language"), fallback, choices...)
}
