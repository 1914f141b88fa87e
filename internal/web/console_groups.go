package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/track"
)

func (s *Server) groupsList(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	groups, err := s.Community.Groups(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "groups", s.staffPage(c, s.Catalog.T(c.Lang, "nav.groups"), "groups", map[string]any{"Groups": groups}))
}

type groupForm struct {
	Group community.Group
	Kinds []community.Kind
	Error string
	Edit  bool
}

func (s *Server) groupNew(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.render(w, r, "group_form", s.staffPage(c, s.Catalog.T(c.Lang, "group.new"), "groups",
		groupForm{Group: community.Group{Kind: community.Vertical, Capacity: 500}, Kinds: community.Kinds}))
}

func groupFromForm(r *http.Request, tenantID int64) community.Group {
	capacity, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("capacity")))
	return community.Group{
		TenantID: tenantID, Channel: webchat.Name, Name: r.PostFormValue("name"),
		Kind: community.Kind(r.PostFormValue("kind")), Audience: r.PostFormValue("audience"),
		Promise: r.PostFormValue("promise"), Tone: r.PostFormValue("tone"), Rules: r.PostFormValue("rules"),
		Capacity: capacity, JoinQuestion: r.PostFormValue("join_question"),
		JoinAnswers: strings.Split(r.PostFormValue("join_answers"), "\n"),
	}
}

func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g := groupFromForm(r, c.Tenant.ID)
	g, _, err := s.Community.CreateGroup(r.Context(), g)
	if errors.Is(err, store.ErrInvalid) {
		s.renderStatus(w, r, http.StatusBadRequest, "group_form", s.staffPage(c, s.Catalog.T(c.Lang, "group.new"), "groups",
			groupForm{Group: g, Kinds: community.Kinds, Error: detail(err)}))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groups/%d", g.ID), http.StatusSeeOther)
}

func (s *Server) groupFor(r *http.Request, c *staffCtx) (community.Group, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return community.Group{}, err
	}
	return s.Community.Group(r.Context(), c.Tenant.ID, id)
}

func (s *Server) groupEdit(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "group_form", s.staffPage(c, g.Name, "groups", groupForm{Group: g, Kinds: community.Kinds, Edit: true}))
}

func (s *Server) groupUpdate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	old, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g := groupFromForm(r, c.Tenant.ID)
	g.ID = old.ID
	err = s.Community.UpdateGroup(r.Context(), g)
	if errors.Is(err, store.ErrInvalid) {
		s.renderStatus(w, r, http.StatusBadRequest, "group_form", s.staffPage(c, old.Name, "groups",
			groupForm{Group: g, Kinds: community.Kinds, Error: detail(err), Edit: true}))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groups/%d", g.ID), http.StatusSeeOther)
}

type joinLink struct {
	community.JoinCode
	URL    string
	Usable bool
}

func (s *Server) joinURL(code string) string { return s.PublicURL + "/j/" + code }

func (s *Server) groupShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	codes, err := s.Community.JoinCodes(ctx, c.Tenant.ID, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var links []joinLink
	for _, jc := range codes {
		links = append(links, joinLink{JoinCode: jc, URL: s.joinURL(jc.Code), Usable: jc.Usable(time.Now())})
	}
	members, err := s.Community.Members(ctx, c.Tenant.ID, g.ID, 200, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	history, err := s.Log.GroupMessages(ctx, c.Tenant.ID, g.ID, 0, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs := historyOf(history, c.Tenant.Location(), 0)
	var after int64
	if len(msgs) > 0 {
		after = msgs[len(msgs)-1].ID
	}
	s.render(w, r, "group", s.staffPage(c, g.Name, "groups", map[string]any{
		"Group": g, "Links": links, "Members": members, "Messages": msgs, "After": after,
	}))
}

func (s *Server) joinCodeCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	jc := community.JoinCode{TenantID: c.Tenant.ID, GroupID: g.ID, Source: r.PostFormValue("source")}
	if days, _ := strconv.Atoi(r.PostFormValue("days")); days > 0 {
		jc.ExpiresAt = time.Now().Add(time.Duration(days) * 24 * time.Hour)
	}
	if _, err := s.Community.NewJoinCode(r.Context(), jc); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groups/%d#links", g.ID), http.StatusSeeOther)
}

func (s *Server) joinCodeDisable(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	codes, err := s.Community.JoinCodes(r.Context(), c.Tenant.ID, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !containsCode(codes, func(jc community.JoinCode) bool { return jc.ID == cid }) {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	if err := s.Community.DisableJoinCode(r.Context(), c.Tenant.ID, cid); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groups/%d#links", g.ID), http.StatusSeeOther)
}

func containsCode(codes []community.JoinCode, match func(community.JoinCode) bool) bool {
	for _, jc := range codes {
		if match(jc) {
			return true
		}
	}
	return false
}

// groupQR serves the QR code of one of the group's join links, as PNG or
// SVG ({code} is "<code>.png" or "<code>.svg").
func (s *Server) groupQR(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PathValue("code")
	code, format, _ := strings.Cut(name, ".")
	codes, err := s.Community.JoinCodes(r.Context(), c.Tenant.ID, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !containsCode(codes, func(jc community.JoinCode) bool { return jc.Code == code }) {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="join-%d-%s.%s"`, g.ID, code, format))
	switch format {
	case "png":
		b, err := track.QRPNG(s.joinURL(code), 512)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(b)
	case "svg":
		svg, err := track.QRSVG(s.joinURL(code))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write([]byte(svg))
	default:
		s.fail(w, r, store.ErrNotFound)
	}
}

// groupMessages returns messages after ?after= as JSON (catch-up for the
// console's live view).
func (s *Server) groupMessages(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	evs, err := s.Log.GroupMessages(r.Context(), c.Tenant.ID, g.ID, after, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"messages": framesOf(evs)})
}

type sendRequest struct {
	ClientID string `json:"client_id"`
	Text     string `json:"text"`
	Persona  int64  `json:"persona"` // private messages may be sent as a persona
}

// readSend reads a staff message — JSON from the page's script, or a plain
// form — and checks its client id (the message's idempotency key).
func readSend(r *http.Request) (sendRequest, error) {
	var req sendRequest
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
	} else {
		req.ClientID, req.Text, req.Persona = r.PostFormValue("client_id"), r.PostFormValue("text"), formInt(r, "persona")
	}
	if !validClientID(req.ClientID) {
		return req, fmt.Errorf("%w: client_id must be 8–64 letters, digits or dashes", store.ErrInvalid)
	}
	return req, nil
}

// sent answers a queued staff message: JSON for the script, a redirect
// back to the page for a plain form.
func sent(w http.ResponseWriter, r *http.Request, page string, id int64, created bool) {
	if !wantsJSON(r) && r.Header.Get("X-CSRF-Token") == "" {
		http.Redirect(w, r, page, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]any{"outbox_id": id, "queued": created})
}

// groupSend posts a staff message to the group through the outbox.
func (s *Server) groupSend(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := readSend(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, created, err := s.Outbox.Enqueue(r.Context(), outbox.Item{
		TenantID: c.Tenant.ID, Channel: g.Channel, GroupID: g.ID, StaffID: c.Staff.ID, SenderName: c.Staff.Name,
		IdemKey: fmt.Sprintf("console:%d:%s", c.Staff.ID, req.ClientID), Body: req.Text,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sent(w, r, fmt.Sprintf("/console/groups/%d#chat", g.ID), id, created)
}

func validClientID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func (s *Server) memberRemove(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	g, err := s.groupFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mid, err := pathID(r, "mid")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Community.Remove(r.Context(), c.Tenant.ID, g.ID, mid, c.Staff.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groups/%d#members", g.ID), http.StatusSeeOther)
}
