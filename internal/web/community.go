package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/referral"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// joinTarget is where a join link leads: a group, or a set of groups (活码)
// routed at the join, maybe through a member's invite link (裂变).
type joinTarget struct {
	Code   community.JoinCode
	Tenant tenant.Tenant
	Group  community.Group // for a set: the group a visitor would join now
	Full   bool            // a set whose every group is full
	Invite *inviteTarget   // the link was a member's invite link
	Action string          // where the form posts
}

// resolveJoin reads a join link (/j/{code}). Unknown and expired links
// are friendly pages, never a 500.
func (s *Server) resolveJoin(r *http.Request) (joinTarget, error) {
	jc, err := s.Community.ResolveJoinCode(r.Context(), r.PathValue("code"))
	if err != nil {
		return joinTarget{}, err
	}
	return s.joinTargetOf(r, jc, "/j/"+jc.Code)
}

// joinTargetOf completes a target from its join code; for a set it
// previews the group the visitor would join.
func (s *Server) joinTargetOf(r *http.Request, jc community.JoinCode, action string) (joinTarget, error) {
	t, err := s.Tenants.Get(r.Context(), jc.TenantID)
	if err != nil {
		return joinTarget{}, err
	}
	jt := joinTarget{Code: jc, Tenant: t, Action: action}
	gid := jc.GroupID
	if jc.SetID != 0 {
		var mid int64
		if m, err := s.memberFromRequest(r, t.ID); err == nil {
			mid = m.ID
		}
		id, _, err := s.Referral.Preview(r.Context(), t.ID, jc.SetID, mid)
		switch {
		case errors.Is(err, referral.ErrSetFull):
			jt.Full = true
		case err != nil:
			return jt, err
		default:
			gid = id
		}
	}
	jt.Group, err = s.Community.Group(r.Context(), t.ID, gid)
	return jt, err
}

func chatURL(t tenant.Tenant, groupID int64) string {
	return fmt.Sprintf("/m/%s/g/%d", t.Slug, groupID)
}

type joinView struct {
	Group    community.Group
	Tenant   tenant.Tenant
	Code     string
	Action   string
	Member   *member.Member
	Form     member.Member
	Error    string
	Full     bool   // every group of the set is full
	Referrer string // the member whose invite link this is
	Campaign string
}

func (jt joinTarget) view() joinView {
	v := joinView{Group: jt.Group, Tenant: jt.Tenant, Code: jt.Code.Code, Action: jt.Action, Full: jt.Full}
	if jt.Invite != nil {
		v.Referrer, v.Campaign = jt.Invite.Referrer, jt.Invite.Campaign.Name
	}
	return v
}

func (s *Server) memberPage(r *http.Request, t tenant.Tenant, title string, data any) page {
	p := s.newPage(r, s.lang(r, t.Locale), title, data)
	p.loc = t.Location()
	return p
}

func (s *Server) joinPage(w http.ResponseWriter, r *http.Request) {
	jt, err := s.resolveJoin(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showJoin(w, r, jt)
}

// showJoin is the join form of a target; a member already in the group
// (for a set: in any of its groups) goes straight to the chat.
func (s *Server) showJoin(w http.ResponseWriter, r *http.Request, jt joinTarget) {
	s.deviceHash(w, r) // the device cookie, from the first visit on
	v := jt.view()
	if m, err := s.memberFromRequest(r, jt.Tenant.ID); err == nil {
		if in, _ := s.Community.IsMember(r.Context(), jt.Tenant.ID, jt.Group.ID, m.ID); in {
			http.Redirect(w, r, chatURL(jt.Tenant, jt.Group.ID), http.StatusSeeOther)
			return
		}
		v.Member = &m
	}
	if jt.Full {
		s.renderStatus(w, r, http.StatusConflict, "join", s.memberPage(r, jt.Tenant, jt.Tenant.Name, v))
		return
	}
	s.render(w, r, "join", s.memberPage(r, jt.Tenant, jt.Group.Name, v))
}

// join admits the visitor through a join link.
func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	jt, err := s.resolveJoin(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.doJoin(w, r, jt)
}

// errGate stops a join's transaction to ask the join gate about a group
// outside it (the gate reads the database on its own).
type errGate struct{ groupID int64 }

func (e errGate) Error() string { return fmt.Sprintf("join gate for group %d", e.groupID) }

// errWrongAnswer refuses a join whose answer to the group's question is
// not one of the accepted ones.
type errWrongAnswer struct{ group community.Group }

func (e errWrongAnswer) Error() string { return "wrong answer to the join question" }

// doJoin admits the visitor: a new member record (display name, optional
// phone and email) unless their cookie already names one, then the group —
// for a set, the group the set routes them to, decided in the same
// transaction as the join — and, through an invite link, the invite.
// Everything happens in one transaction: a refused join leaves nothing.
func (s *Server) doJoin(w http.ResponseWriter, r *http.Request, jt joinTarget) {
	ctx := r.Context()
	t := jt.Tenant
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	existing, cookieErr := s.memberFromRequest(r, t.ID)
	form := member.Member{TenantID: t.ID, DisplayName: r.PostFormValue("name"), Phone: r.PostFormValue("phone"),
		Email: r.PostFormValue("email"), Locale: s.lang(r, t.Locale)}
	v := jt.view()
	v.Form = form
	if cookieErr == nil {
		v.Member = &existing
	}
	again := func(status int, msg string) {
		v.Error = msg
		s.renderStatus(w, r, status, "join", s.memberPage(r, t, v.Group.Name, v))
	}
	device := s.deviceHash(w, r)
	var gateMember int64
	if cookieErr == nil {
		gateMember = existing.ID
	}
	gated := map[int64]bool{}
	gate := func(groupID int64) bool {
		if s.JoinGate == nil || gated[groupID] {
			return true
		}
		if err := s.JoinGate(ctx, t.ID, groupID, gateMember); err != nil {
			msg := detail(err)
			if tr := (*commerce.TierRequired)(nil); errors.As(err, &tr) {
				msg = s.Catalog.T(s.lang(r, t.Locale), "join.tier_required", tr.Tier)
			}
			again(http.StatusForbidden, msg)
			return false
		}
		gated[groupID] = true
		return true
	}
	if cookieErr == nil && jt.Invite == nil && !jt.Full {
		// Already in: back to the chat, nothing to ask (an invite link goes
		// on, to record the invite's verdict).
		if in, _ := s.Community.IsMember(ctx, t.ID, jt.Group.ID, existing.ID); in {
			http.Redirect(w, r, chatURL(t, jt.Group.ID), http.StatusSeeOther)
			return
		}
	}
	if !jt.Full && !gate(jt.Group.ID) {
		return
	}
	// The set's groups are read before the transaction: on PostgreSQL a
	// read from the pool inside it could wait for a connection that the
	// joins queued behind this one hold.
	groups := map[int64]community.Group{jt.Group.ID: jt.Group}
	if jt.Code.SetID != 0 {
		st, err := s.Referral.Set(ctx, t.ID, jt.Code.SetID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, sg := range st.Groups {
			if _, ok := groups[sg.GroupID]; ok {
				continue
			}
			g, err := s.Community.Group(ctx, t.ID, sg.GroupID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			groups[g.ID] = g
		}
	}
	var memberID, groupID int64
	var err error
	for range 3 {
		err = s.DB.InTx(ctx, func(tx *store.Tx) error {
			if cookieErr == nil {
				memberID = existing.ID
			} else {
				m, err := s.Members.CreateTx(ctx, tx, form, member.Identity{
					Channel: webchat.Name, ExternalID: "web-" + strings.ToLower(randomID()),
				})
				if err != nil {
					return err
				}
				memberID = m.ID
			}
			wasMember := false
			if jt.Invite != nil && cookieErr == nil {
				var err error
				if wasMember, err = referral.WasMemberTx(ctx, tx, t.ID, memberID); err != nil {
					return err
				}
			}
			groupID = jt.Code.GroupID
			already := false
			if jt.Code.SetID != 0 {
				var err error
				if groupID, already, err = s.Referral.RouteTx(ctx, tx, t.ID, jt.Code.SetID, memberID); err != nil {
					return err
				}
			}
			if !already {
				g, ok := groups[groupID]
				if !ok { // the set changed since it was read
					return fmt.Errorf("%w: the groups of this link changed; please try again", store.ErrConflict)
				}
				if g.JoinQuestion != "" && !acceptsAnswer(g.JoinAnswers, r.PostFormValue("answer")) {
					return errWrongAnswer{g}
				}
				if s.JoinGate != nil && !gated[groupID] {
					return errGate{groupID}
				}
				attr, err := s.joinAttribution(ctx, tx, r, t.ID, memberID, jt)
				if err != nil {
					return err
				}
				if _, err := s.Community.JoinTx(ctx, tx, community.JoinRequest{
					TenantID: t.ID, GroupID: groupID, MemberID: memberID, JoinCode: jt.Code, Source: event.SourceWeb,
					Attribution: attr,
				}); err != nil {
					return err
				}
			}
			if jt.Invite != nil {
				if _, _, err := s.Referral.RecordInviteTx(ctx, tx, referral.InviteRequest{Campaign: jt.Invite.Campaign,
					ReferrerID: jt.Invite.Code.MemberID, InviteeID: memberID, GroupID: groupID, WasMember: wasMember,
					IPHash: s.addrHash(r), DeviceHash: device}); err != nil {
					return err
				}
			}
			if s.Referral != nil {
				return s.Referral.SeeDeviceTx(ctx, tx, t.ID, memberID, device)
			}
			return nil
		})
		var eg errGate
		if errors.As(err, &eg) {
			if !gate(eg.groupID) {
				return
			}
			continue
		}
		break
	}
	var wrong errWrongAnswer
	switch {
	case errors.As(err, &wrong):
		// Nothing is stored for a wrong answer: the visitor tries again.
		v.Group = wrong.group
		again(http.StatusBadRequest, s.Catalog.T(s.lang(r, t.Locale), "join.wrong_answer"))
		return
	case errors.Is(err, referral.ErrSetFull):
		if merr := s.Referral.MarkFull(ctx, t.ID, jt.Code.SetID); merr != nil {
			s.Logger.Warn("group set: mark full", "set", jt.Code.SetID, "err", merr)
		}
		v.Full = true
		s.renderStatus(w, r, http.StatusConflict, "join", s.memberPage(r, t, t.Name, v))
		return
	case errors.Is(err, store.ErrInvalid):
		again(http.StatusBadRequest, detail(err))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if cookieErr != nil {
		s.setMemberCookie(w, t.ID, memberID)
	}
	http.Redirect(w, r, chatURL(t, groupID), http.StatusSeeOther)
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
		"Sales": s.chatSales(r.Context(), mc.Tenant, g.ID, mc.Member.ID),
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
