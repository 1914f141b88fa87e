package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
)

// optionView is one option of a poll as a page shows it.
type optionView struct {
	N       int
	Label   string
	Count   int
	Percent int
	Chosen  bool
}

// activityView is a poll or prompt with its tally, for a page.
type activityView struct {
	poll.Result
	Group   string
	Open    bool
	Options []optionView
	Entries []poll.Entry
}

func viewOf(res poll.Result, mine int, now time.Time) activityView {
	v := activityView{Result: res, Open: res.OpenAt(now)}
	for i, o := range res.Options {
		v.Options = append(v.Options, optionView{N: i + 1, Label: o, Count: res.Counts[i], Percent: res.Percent(i), Chosen: mine == i+1})
	}
	return v
}

// activities is the console's list of polls and prompts with their
// results, and the form that starts one.
func (s *Server) activities(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	personas, err := s.Bot.Personas(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Polls.List(ctx, c.Tenant.ID, 0, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := groupNames(groups)
	now := time.Now()
	views := make([]activityView, 0, len(list))
	for _, p := range list {
		res, err := s.Polls.Tally(ctx, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := viewOf(res, 0, now)
		v.Group = names[p.GroupID]
		views = append(views, v)
	}
	def := now.Add(24 * time.Hour).In(c.Tenant.Location()).Format(datetimeLocal)
	s.render(w, r, "activities", s.staffPage(c, s.Catalog.T(c.Lang, "nav.activities"), "activities", map[string]any{
		"Activities": views, "Groups": groups, "Personas": personas, "DefaultCloses": def,
	}))
}

// datetimeLocal is the value format of <input type="datetime-local">.
const datetimeLocal = "2006-01-02T15:04"

func (s *Server) activityCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	closes, err := time.ParseInLocation(datetimeLocal, r.PostFormValue("closes_at"), c.Tenant.Location())
	if err != nil {
		s.fail(w, r, fmt.Errorf("%w: the deadline is not a date and time", poll.ErrInvalid))
		return
	}
	p := poll.Poll{TenantID: c.Tenant.ID, GroupID: formInt(r, "group"), Kind: poll.Kind(r.PostFormValue("kind")),
		Question: r.PostFormValue("question"), Options: poll.CleanOptions(r.PostFormValue("options")),
		Tag: r.PostFormValue("tag"), Points: formInt(r, "points"), PersonaID: formInt(r, "persona"),
		StaffID: c.Staff.ID, ClosesAt: closes}
	if p, err = s.Runner.StartActivity(r.Context(), p); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/activities/%d", p.ID), http.StatusSeeOther)
}

func (s *Server) activityShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	var p poll.Poll
	if err == nil {
		p, err = s.Polls.Get(ctx, c.Tenant.ID, id)
	}
	var res poll.Result
	if err == nil {
		res, err = s.Polls.Tally(ctx, p)
	}
	var g community.Group
	if err == nil {
		g, err = s.Community.Group(ctx, c.Tenant.ID, p.GroupID)
	}
	v := viewOf(res, 0, time.Now())
	v.Group = g.Name
	if err == nil && p.Kind == poll.KindPrompt {
		v.Entries, err = s.Polls.Entries(ctx, p, 200)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "activity", s.staffPage(c, p.Question, "activities", map[string]any{"A": v}))
}

func (s *Server) activityClose(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Polls.CloseNow(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Runner.Wake()
	http.Redirect(w, r, fmt.Sprintf("/console/activities/%d", id), http.StatusSeeOther)
}

// openActivities are the group's open polls and prompts for the chat page,
// with the member's own votes.
func (s *Server) openActivities(ctx context.Context, tenantID, groupID, memberID int64) ([]activityView, error) {
	now := time.Now()
	open, err := s.Polls.OpenIn(ctx, s.DB.R, tenantID, groupID, now)
	if err != nil {
		return nil, err
	}
	out := make([]activityView, 0, len(open))
	for _, p := range open {
		res, err := s.Polls.Tally(ctx, p)
		if err != nil {
			return nil, err
		}
		mine, err := s.Polls.Choice(ctx, p, memberID)
		if err != nil {
			return nil, err
		}
		out = append(out, viewOf(res, mine, now))
	}
	return out, nil
}

// memberVote records a vote from the chat page's buttons. The form's
// one-time id makes a double click (or a resent request) one vote, while
// a later vote for another option still changes it.
func (s *Server) memberVote(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, g, err := s.memberGroup(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pid, err := pathID(r, "poll")
	var p poll.Poll
	if err == nil {
		p, err = s.Polls.Get(r.Context(), mc.Tenant.ID, pid)
	}
	if err == nil && p.GroupID != g.ID {
		err = store.ErrNotFound
	}
	choice := int(formInt(r, "choice"))
	once := strings.TrimSpace(r.PostFormValue("once"))
	if len(once) < 8 || len(once) > 64 {
		once = fmt.Sprintf("%d-%d", choice, time.Now().UnixNano())
	}
	if err == nil {
		_, err = s.Polls.Vote(r.Context(), mc.Tenant.ID, p.ID, mc.Member.ID, choice, event.SourceWeb, fmt.Sprintf("v%d:%s", mc.Member.ID, once))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"poll": p.ID, "choice": choice})
		return
	}
	http.Redirect(w, r, chatURL(mc.Tenant, g.ID), http.StatusSeeOther)
}

// pollFrame is a live tally for the chat and console pages.
type pollFrame struct {
	ID     int64 `json:"id"`
	Counts []int `json:"counts"`
	Pct    []int `json:"pct"`
	Total  int   `json:"total"`
	Closed bool  `json:"closed"`
}

// refreshes recomputes and broadcasts a poll's tally or a live room's
// state after the events that change them. One goroutine does it in order,
// off the publisher's path; a burst of changes coalesces into fewer
// recomputations.
func (s *Server) refreshes(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.refreshWake:
		}
		s.refreshMu.Lock()
		due := s.refreshDue
		s.refreshDue = map[refresh]bool{}
		s.refreshMu.Unlock()
		for k := range due {
			switch k.kind {
			case refreshPoll:
				s.pushTally(ctx, k.tenant, k.id)
			case refreshLive:
				s.pushLive(ctx, k.tenant, k.id)
			default:
				s.pushSale(ctx, k)
			}
		}
	}
}

// refresh names a view to recompute and broadcast: a poll's tally or a
// live room's state.
type refresh struct {
	kind       int
	tenant, id int64
}

const (
	refreshPoll = iota
	refreshLive
)

func (s *Server) queueTally(e event.Event) {
	var d event.PollData
	if e.Decode(&d) != nil || d.PollID == 0 {
		return
	}
	s.queueRefresh(refreshPoll, e.TenantID, d.PollID)
}

func (s *Server) queueRefresh(kind int, tenantID, id int64) {
	s.refreshMu.Lock()
	s.refreshDue[refresh{kind, tenantID, id}] = true
	s.refreshMu.Unlock()
	select {
	case s.refreshWake <- struct{}{}:
	default:
	}
}

func (s *Server) pushTally(ctx context.Context, tenantID, pollID int64) {
	p, err := s.Polls.Get(ctx, tenantID, pollID)
	if err != nil {
		return
	}
	res, err := s.Polls.Tally(ctx, p)
	if err != nil {
		s.Logger.Warn("web: poll tally", "poll", pollID, "err", err)
		return
	}
	f := pollFrame{ID: p.ID, Counts: res.Counts, Total: res.Total, Closed: !p.OpenAt(time.Now())}
	for i := range res.Counts {
		f.Pct = append(f.Pct, res.Percent(i))
	}
	b, _ := json.Marshal(frame{Type: "poll", Poll: &f})
	s.Hub.Broadcast(room(tenantID, p.GroupID), b)
}
