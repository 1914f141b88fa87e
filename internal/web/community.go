package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// joinTarget resolves a join link to its tenant and group. Unknown and
// expired links are friendly pages, never a 500.
func (s *Server) joinTarget(r *http.Request) (community.JoinCode, tenant.Tenant, community.Group, error) {
	jc, err := s.Community.ResolveJoinCode(r.Context(), r.PathValue("code"))
	if err != nil {
		return jc, tenant.Tenant{}, community.Group{}, err
	}
	t, err := s.Tenants.Get(r.Context(), jc.TenantID)
	if err != nil {
		return jc, t, community.Group{}, err
	}
	g, err := s.Community.Group(r.Context(), jc.TenantID, jc.GroupID)
	return jc, t, g, err
}

func chatURL(t tenant.Tenant, groupID int64) string {
	return fmt.Sprintf("/m/%s/g/%d", t.Slug, groupID)
}

type joinView struct {
	Group  community.Group
	Tenant tenant.Tenant
	Code   string
	Member *member.Member
	Form   member.Member
	Error  string
}

func (s *Server) memberPage(r *http.Request, t tenant.Tenant, title string, data any) page {
	p := s.newPage(r, s.lang(r, t.Locale), title, data)
	p.loc = t.Location()
	return p
}

func (s *Server) joinPage(w http.ResponseWriter, r *http.Request) {
	jc, t, g, err := s.joinTarget(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := joinView{Group: g, Tenant: t, Code: jc.Code}
	if m, err := s.memberFromRequest(r, t.ID); err == nil {
		if in, _ := s.Community.IsMember(r.Context(), t.ID, g.ID, m.ID); in {
			http.Redirect(w, r, chatURL(t, g.ID), http.StatusSeeOther)
			return
		}
		v.Member = &m
	}
	s.render(w, r, "join", s.memberPage(r, t, g.Name, v))
}

// join admits the visitor: a new member record (display name, optional
// phone and email) unless their cookie already names one, then the group.
// Everything happens in one transaction: a refused join leaves nothing.
func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	jc, t, g, err := s.joinTarget(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	existing, cookieErr := s.memberFromRequest(r, t.ID)
	form := member.Member{TenantID: t.ID, DisplayName: r.PostFormValue("name"), Phone: r.PostFormValue("phone"),
		Email: r.PostFormValue("email"), Locale: s.lang(r, t.Locale)}
	if g.JoinQuestion != "" && !acceptsAnswer(g.JoinAnswers, r.PostFormValue("answer")) {
		// Nothing is stored for a wrong answer: the visitor tries again.
		v := joinView{Group: g, Tenant: t, Code: jc.Code, Form: form, Error: s.Catalog.T(s.lang(r, t.Locale), "join.wrong_answer")}
		if cookieErr == nil {
			v.Member = &existing
		}
		s.renderStatus(w, r, http.StatusBadRequest, "join", s.memberPage(r, t, g.Name, v))
		return
	}
	var memberID int64
	err = s.DB.InTx(r.Context(), func(tx *store.Tx) error {
		if cookieErr == nil {
			memberID = existing.ID
		} else {
			m, err := s.Members.CreateTx(r.Context(), tx, form, member.Identity{
				Channel: webchat.Name, ExternalID: "web-" + strings.ToLower(randomID()),
			})
			if err != nil {
				return err
			}
			memberID = m.ID
		}
		_, err := s.Community.JoinTx(r.Context(), tx, community.JoinRequest{
			TenantID: t.ID, GroupID: g.ID, MemberID: memberID, JoinCode: jc, Source: event.SourceWeb,
		})
		return err
	})
	if errors.Is(err, store.ErrInvalid) {
		v := joinView{Group: g, Tenant: t, Code: jc.Code, Form: form, Error: detail(err)}
		s.renderStatus(w, r, http.StatusBadRequest, "join", s.memberPage(r, t, g.Name, v))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cookieErr != nil {
		s.setMemberCookie(w, t.ID, memberID)
	}
	http.Redirect(w, r, chatURL(t, g.ID), http.StatusSeeOther)
}

// acceptsAnswer compares the join answer as the check-in does: width and
// case folded, surrounding punctuation and spaces ignored.
func acceptsAnswer(accepted []string, answer string) bool {
	a := bot.Normalize(answer)
	if a == "" {
		return false
	}
	for _, ok := range accepted {
		if bot.Normalize(ok) == a {
			return true
		}
	}
	return false
}

// memberCtx is a member request of one tenant's community.
type memberCtx struct {
	Tenant tenant.Tenant
	Member member.Member
}

func (s *Server) memberOf(r *http.Request) (memberCtx, error) {
	t, err := s.Tenants.BySlug(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return memberCtx{}, err
	}
	m, err := s.memberFromRequest(r, t.ID)
	if err != nil {
		return memberCtx{Tenant: t}, err
	}
	return memberCtx{Tenant: t, Member: m}, nil
}

// memberGroup checks that the member is in the group named by the path.
func (s *Server) memberGroup(r *http.Request) (memberCtx, community.Group, error) {
	mc, err := s.memberOf(r)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) && mc.Tenant.ID != 0 {
			return mc, community.Group{}, community.ErrNotIn
		}
		return mc, community.Group{}, err
	}
	gid, err := pathID(r, "id")
	if err != nil {
		return mc, community.Group{}, err
	}
	g, err := s.Community.Group(r.Context(), mc.Tenant.ID, gid)
	if err != nil {
		return mc, g, err
	}
	ms, err := s.Community.Membership(r.Context(), mc.Tenant.ID, g.ID, mc.Member.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return mc, g, community.ErrNotIn
	case err != nil:
		return mc, g, err
	case !ms.RemovedAt.IsZero():
		return mc, g, community.ErrRemoved
	case !ms.Active():
		return mc, g, community.ErrNotIn
	}
	return mc, g, nil
}

// memberOfStrict is memberOf where a missing or foreign cookie is "not a
// member" (403) rather than "not found".
func (s *Server) memberOfStrict(r *http.Request) (memberCtx, error) {
	mc, err := s.memberOf(r)
	if errors.Is(err, store.ErrNotFound) && mc.Tenant.ID != 0 {
		err = community.ErrNotIn
	}
	return mc, err
}

func (s *Server) memberHome(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	memberships, err := s.Community.MemberGroups(r.Context(), mc.Tenant.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var groups []community.Group
	for _, ms := range memberships {
		if !ms.Active() {
			continue
		}
		g, err := s.Community.Group(r.Context(), mc.Tenant.ID, ms.GroupID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		groups = append(groups, g)
	}
	s.render(w, r, "member_home", s.memberPage(r, mc.Tenant, mc.Tenant.Name, map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "Groups": groups,
	}))
}

func (s *Server) chatPage(w http.ResponseWriter, r *http.Request) {
	mc, g, err := s.memberGroup(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	history, err := s.Log.GroupMessages(r.Context(), mc.Tenant.ID, g.ID, 0, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs := historyOf(history, mc.Tenant.Location(), mc.Member.ID)
	acts, err := s.openActivities(r.Context(), mc.Tenant.ID, g.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var after int64
	if len(msgs) > 0 {
		after = msgs[len(msgs)-1].ID
	}
	s.render(w, r, "chat", s.memberPage(r, mc.Tenant, g.Name, map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "Group": g, "Messages": msgs, "After": after,
		"WS": chatURL(mc.Tenant, g.ID) + "/ws", "MaxLen": webchat.MaxText, "Activities": acts,
	}))
}

func (s *Server) leave(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, g, err := s.memberGroup(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Community.Leave(r.Context(), mc.Tenant.ID, g.ID, mc.Member.ID, event.SourceWeb); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/m/"+mc.Tenant.Slug, http.StatusSeeOther)
}
