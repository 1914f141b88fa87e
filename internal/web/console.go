package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/store"
)

// pathID reads a numeric path parameter; a malformed one is "not found".
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, store.ErrNotFound
	}
	return id, nil
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members, err := s.Members.List(ctx, c.Tenant.ID, "", 1, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	day, err := s.Log.CountSince(ctx, c.Tenant.ID, event.Message, time.Now().Add(-24*time.Hour))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	joins, err := s.Log.CountSince(ctx, c.Tenant.ID, event.MemberJoined, time.Now().Add(-7*24*time.Hour))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	outbox, err := s.Outbox.Counts(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	states := map[string]int{}
	for k, v := range outbox {
		states[string(k)] = v
	}
	s.render(w, r, "home", s.staffPage(c, s.Catalog.T(c.Lang, "nav.home"), "home", map[string]any{
		"Groups": groups, "Members": members.Total, "Messages24h": day, "Joins7d": joins, "Outbox": states,
	}))
}

func (s *Server) accountLanguage(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	lang := r.PostFormValue("lang")
	if lang != "" && !i18n.Supported(lang) {
		s.fail(w, r, store.ErrInvalid)
		return
	}
	if err := s.Tenants.SetStaffLocale(r.Context(), c.Tenant.ID, c.Staff.ID, lang); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}
