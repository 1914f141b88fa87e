package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
)

func period(v string) loyalty.Period {
	switch v {
	case "month", "all":
		return loyalty.Period(v)
	}
	return loyalty.Period("week")
}

// points is the console's points page: the leaderboard (tenant or group,
// week, month or all time), the reward store and recent redemptions.
func (s *Server) points(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	p := period(r.URL.Query().Get("period"))
	groupID, _ := strconv.ParseInt(r.URL.Query().Get("group"), 10, 64)
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if groupID != 0 && groupNames(groups)[groupID] == "" {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	board, err := s.Loyalty.Leaderboard(ctx, c.Tenant.ID, groupID, p, time.Now(), c.Tenant.Location(), 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rewards, err := s.Loyalty.Rewards(ctx, c.Tenant.ID, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redemptions, err := s.Loyalty.Redemptions(ctx, c.Tenant.ID, 30)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "points", s.staffPage(c, s.Catalog.T(c.Lang, "nav.points"), "points", map[string]any{
		"Board": board, "Period": string(p), "Group": groupID, "Groups": groups, "Rewards": rewards, "Redemptions": redemptions,
	}))
}

func rewardFromForm(r *http.Request, tenantID int64) loyalty.Reward {
	return loyalty.Reward{TenantID: tenantID, Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		Price: formInt(r, "price"), Stock: formInt(r, "stock"), Active: r.PostFormValue("active") != "false"}
}

func (s *Server) rewardCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	if _, err := s.Loyalty.CreateReward(r.Context(), rewardFromForm(r, c.Tenant.ID)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/points#rewards", http.StatusSeeOther)
}

func (s *Server) rewardUpdate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		_, err = s.Loyalty.Reward(r.Context(), c.Tenant.ID, id)
	}
	if err == nil {
		rw := rewardFromForm(r, c.Tenant.ID)
		rw.ID = id
		err = s.Loyalty.UpdateReward(r.Context(), rw)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/points#rewards", http.StatusSeeOther)
}

// pointsAdjust lets staff add or take points, with a reason.
func (s *Server) pointsAdjust(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	m, err := s.memberFor(r, c)
	if err == nil {
		_, err = s.Loyalty.Adjust(r.Context(), c.Tenant.ID, m.ID, c.Staff.ID, formInt(r, "delta"), r.PostFormValue("note"))
	}
	s.backToMember(w, r, m, err)
}

func (s *Server) wishes(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	board, err := s.Bot.DemandBoard(r.Context(), c.Tenant.ID, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "wishes", s.staffPage(c, s.Catalog.T(c.Lang, "nav.wishes"), "wishes", map[string]any{"Board": board}))
}

func (s *Server) wishStatus(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	if err := s.Runner.SetWishStatus(r.Context(), c.Tenant.ID, r.PostFormValue("norm"), r.PostFormValue("status")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/wishes", http.StatusSeeOther)
}

func (s *Server) moderation(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	actions, err := s.Bot.Actions(r.Context(), c.Tenant.ID, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	bans, err := s.Bot.Bans(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "moderation", s.staffPage(c, s.Catalog.T(c.Lang, "nav.moderation"), "moderation", map[string]any{
		"Actions": actions, "Bans": bans, "Groups": groupNames(groups),
	}))
}

func (s *Server) moderationUndo(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Bot.Undo(r.Context(), c.Tenant.ID, id, c.Staff.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/moderation", http.StatusSeeOther)
}

// memberBan bans a person from every group of the tenant (or lifts it).
func (s *Server) memberBan(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	m, err := s.memberFor(r, c)
	if err == nil {
		if r.PostFormValue("ban") == "false" {
			err = s.Bot.Unban(r.Context(), c.Tenant.ID, m.ID, c.Staff.ID)
		} else {
			err = s.Bot.Ban(r.Context(), s.Community, c.Tenant.ID, m.ID, c.Staff.ID, r.PostFormValue("reason"))
		}
	}
	s.backToMember(w, r, m, err)
}
