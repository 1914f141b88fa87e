package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
)

const membersPerPage = 50

func (s *Server) membersList(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	q := r.URL.Query().Get("q")
	pageNo, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pageNo = max(pageNo, 1)
	p, err := s.Members.List(r.Context(), c.Tenant.ID, q, membersPerPage, (pageNo-1)*membersPerPage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pages := (p.Total + membersPerPage - 1) / membersPerPage
	s.render(w, r, "members", s.staffPage(c, s.Catalog.T(c.Lang, "nav.members"), "members", map[string]any{
		"Members": p.Members, "Total": p.Total, "Query": q, "Page": pageNo, "Pages": pages,
		"Prev": pageNo - 1, "Next": pageNo + 1, "HasNext": pageNo < pages,
	}))
}

// timelineEntry is one event of a member's timeline, described for people.
type timelineEntry struct {
	At    event.Event
	Kind  string // catalogue key
	Group string
	Text  string
}

func (s *Server) memberFor(r *http.Request, c *staffCtx) (member.Member, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return member.Member{}, err
	}
	return s.Members.Get(r.Context(), c.Tenant.ID, id)
}

func (s *Server) memberShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	m, err := s.memberFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if m.MergedInto != 0 {
		http.Redirect(w, r, fmt.Sprintf("/console/members/%d", m.MergedInto), http.StatusSeeOther)
		return
	}
	idents, err := s.Members.Identities(ctx, c.Tenant.ID, m.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tags, err := s.Members.Tags(ctx, c.Tenant.ID, m.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	memberships, err := s.Community.MemberGroups(ctx, c.Tenant.ID, m.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids, err := s.Members.RecordIDs(ctx, c.Tenant.ID, m.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.Log.MemberTimeline(ctx, c.Tenant.ID, ids, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dms, err := s.Log.DirectMessages(ctx, c.Tenant.ID, m.ID, 0, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var dmAfter int64
	if len(dms) > 0 {
		dmAfter = dms[len(dms)-1].ID
	}
	names := map[int64]string{}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	var timeline []timelineEntry
	for _, e := range evs {
		te := timelineEntry{At: e, Kind: "event." + string(e.Type), Group: names[e.GroupID]}
		if e.Type == event.Message {
			var d event.MessageData
			e.Decode(&d)
			te.Text = d.Text
		}
		timeline = append(timeline, te)
	}
	type membershipRow struct {
		Group         string
		GID           int64
		Active        bool
		Removed       bool
		Joined, Ended any
	}
	var rows []membershipRow
	for _, ms := range memberships {
		end := ms.LeftAt
		if !ms.RemovedAt.IsZero() {
			end = ms.RemovedAt
		}
		rows = append(rows, membershipRow{Group: names[ms.GroupID], GID: ms.GroupID, Active: ms.Active(),
			Removed: !ms.RemovedAt.IsZero(), Joined: ms.JoinedAt, Ended: end})
	}
	buys, err := s.purchasesOf(ctx, c.Tenant.ID, m.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "member", s.staffPage(c, m.DisplayName, "members", map[string]any{
		"Purchases": buys, "Member": m, "Identities": idents, "Tags": tags, "Groups": rows, "Timeline": timeline,
		"DMs": historyOf(dms, c.Tenant.Location(), 0), "DMAfter": dmAfter, "Personas": s.personasOf(ctx, c.Tenant.ID),
	}))
}

func (s *Server) memberTagAdd(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	m, err := s.memberFor(r, c)
	if err == nil {
		err = s.Members.AddTag(r.Context(), c.Tenant.ID, m.ID, r.PostFormValue("tag"))
	}
	s.backToMember(w, r, m, err)
}

func (s *Server) memberTagRemove(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	m, err := s.memberFor(r, c)
	if err == nil {
		err = s.Members.RemoveTag(r.Context(), c.Tenant.ID, m.ID, r.PostFormValue("tag"))
	}
	s.backToMember(w, r, m, err)
}

func (s *Server) memberConsent(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	m, err := s.memberFor(r, c)
	if err == nil {
		err = s.Members.SetOptOut(r.Context(), c.Tenant.ID, m.ID, r.PostFormValue("opted_out") == "true")
	}
	s.backToMember(w, r, m, err)
}

// memberMerge folds another record (form field "from") into this person.
func (s *Server) memberMerge(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	m, err := s.memberFor(r, c)
	if err == nil {
		var from int64
		from, err = strconv.ParseInt(r.PostFormValue("from"), 10, 64)
		if err != nil {
			err = fmt.Errorf("%w: member number", store.ErrInvalid)
		} else {
			err = s.Members.Merge(r.Context(), c.Tenant.ID, m.ID, from, c.Staff.ID)
		}
	}
	s.backToMember(w, r, m, err)
}

func (s *Server) backToMember(w http.ResponseWriter, r *http.Request, m member.Member, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/members/%d", m.ID), http.StatusSeeOther)
}
