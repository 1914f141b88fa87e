package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
)

// lives is the console's list of lives and the form that schedules one.
func (s *Server) lives(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	list, err := s.Lives.List(ctx, c.Tenant.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	def := time.Now().Add(24 * time.Hour).In(c.Tenant.Location()).Format(datetimeLocal)
	s.render(w, r, "lives", s.staffPage(c, s.Catalog.T(c.Lang, "nav.lives"), "lives", map[string]any{
		"Lives": list, "Groups": groups, "Personas": s.personasOf(ctx, c.Tenant.ID), "DefaultAt": def,
	}))
}

// parseProducts reads the product list, one a line:
// "name | price | live price | stock | cover URL" (prices like 129 or 99.9).
func parseProducts(text string) ([]live.Product, error) {
	var out []live.Product
	for i, line := range lines(text) {
		f := strings.Split(line, "|")
		for j := range f {
			f[j] = strings.TrimSpace(f[j])
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("%w: product line %d — write name | price | live price | stock [| cover URL]", store.ErrInvalid, i+1)
		}
		price, err1 := parseMoney(f[1])
		livePrice, err2 := parseMoney(f[2])
		stock, err3 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%w: product line %d — prices are amounts like 129 or 99.90, stock a whole number", store.ErrInvalid, i+1)
		}
		p := live.Product{Position: i + 1, Name: f[0], Price: price, LivePrice: livePrice, Stock: stock}
		if len(f) > 4 {
			p.CoverURL = f[4]
		}
		out = append(out, p)
	}
	return out, nil
}

// parseMoney reads "99.9" as 9990 minor units.
func parseMoney(s string) (int64, error) {
	v, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimPrefix(s, "¥"), "$"), 64)
	if err != nil || v < 0 || v > 1e9 || math.IsNaN(v) {
		return 0, fmt.Errorf("not an amount")
	}
	return int64(math.Round(v * 100)), nil
}

func (s *Server) liveCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	at, err := time.ParseInLocation(datetimeLocal, r.PostFormValue("scheduled_at"), c.Tenant.Location())
	if err != nil {
		s.fail(w, r, fmt.Errorf("%w: the start time is not a date and time", store.ErrInvalid))
		return
	}
	products, err := parseProducts(r.PostFormValue("products"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	var groups []int64
	for _, v := range r.PostForm["groups"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			groups = append(groups, id)
		}
	}
	l := live.Live{TenantID: c.Tenant.ID, Title: r.PostFormValue("title"), HostPersonaID: formInt(r, "host"), ScheduledAt: at,
		StreamURL: r.PostFormValue("stream_url"), EmbedURL: r.PostFormValue("embed_url"), StaffID: c.Staff.ID, Products: products,
		Alert: live.Alert{Groups: groups, Repeat: int(formInt(r, "alert_repeat")), Interval: time.Duration(formInt(r, "alert_minutes")) * time.Minute,
			PersonaID: formInt(r, "alert_persona")}}
	if l, err = s.Lives.Schedule(r.Context(), l); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/lives/%d", l.ID), http.StatusSeeOther)
}

// liveShow is the host's control panel: state, product list with the
// current product and stock, coupon drops and lotteries.
func (s *Server) liveShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	var l live.Live
	if err == nil {
		l, err = s.Lives.Get(ctx, c.Tenant.ID, id)
	}
	var drops []live.Drop
	if err == nil {
		drops, err = s.Lives.Drops(ctx, c.Tenant.ID, l.ID)
	}
	var lotteries []live.Lottery
	if err == nil {
		lotteries, err = s.Lives.Lotteries(ctx, c.Tenant.ID, l.ID)
	}
	var playbooks []campaign.Playbook
	var canWarmup bool
	if err == nil {
		playbooks, canWarmup, err = s.livePlaybooks(ctx, c, l)
	}
	var restock []restockRow
	if err == nil {
		restock, err = s.restockOf(ctx, l)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "live", s.staffPage(c, l.Title, "lives", map[string]any{
		"Live": l, "Drops": drops, "Lotteries": lotteries, "RoomURL": s.Runner.LiveURL(c.Tenant, l.ID),
		"APIURL": fmt.Sprintf("%s/api/lives/%s/%d/events", s.PublicURL, c.Tenant.Slug, l.ID), "APIKey": s.liveIngestKey(c.Tenant.ID, l.ID),
		"Playbooks": playbooks, "CanWarmup": canWarmup, "Restock": restock,
		"ResaleCloses": time.Now().Add(48 * time.Hour).In(c.Tenant.Location()).Format(datetimeLocal),
		"CanMove":      l.State == live.StateScheduled || l.State == live.StateWarming,
		"MoveAt":       l.ScheduledAt.In(c.Tenant.Location()).Format(datetimeLocal),
	}))
}

// liveAction runs one of the control panel's buttons.
func (s *Server) liveAction(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch r.PathValue("action") {
	case "warm":
		_, _, err = s.Lives.Warm(ctx, c.Tenant.ID, id)
	case "start":
		_, _, err = s.Runner.StartLive(ctx, c.Tenant.ID, id)
	case "end":
		_, _, err = s.Runner.EndLive(ctx, c.Tenant.ID, id)
	case "product":
		_, _, err = s.Runner.SwitchLiveProduct(ctx, c.Tenant.ID, id, formInt(r, "product"))
	case "stock":
		_, err = s.Runner.UpdateLiveStock(ctx, c.Tenant.ID, id, formInt(r, "product"), formInt(r, "stock"))
	case "drop":
		now := time.Now()
		var d live.Drop
		d, err = s.Lives.CreateDrop(ctx, live.Drop{TenantID: c.Tenant.ID, LiveID: id, Title: r.PostFormValue("title"),
			Quantity: formInt(r, "quantity"), OpensAt: now, ClosesAt: now.Add(time.Duration(formInt(r, "minutes")) * time.Minute)})
		if err == nil {
			s.queueRefresh(refreshLive, c.Tenant.ID, id) // open rooms show the drop at once
			err = s.Runner.AnnounceDrop(ctx, d)
		}
	case "lottery":
		_, err = s.Lives.Commit(ctx, live.Lottery{TenantID: c.Tenant.ID, LiveID: id, Prize: r.PostFormValue("prize"),
			WinnerCount: int(formInt(r, "winners")), Criteria: live.Criteria{GroupID: formInt(r, "group"),
				Commented: r.PostFormValue("commented") == "on", Liked: r.PostFormValue("liked") == "on",
				MinMemberDays: int(formInt(r, "min_days")), NotWonInLast: int(formInt(r, "not_won_in_last"))}})
	case "draw":
		err = s.drawLottery(r, c, id, formInt(r, "lottery"))
	default:
		err = store.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/lives/%d", id), http.StatusSeeOther)
}

// drawLottery draws from the members of the tenant's groups who meet the
// lottery's criteria, and publishes the eligible list with the seed.
func (s *Server) drawLottery(r *http.Request, c *staffCtx, liveID, lotteryID int64) error {
	ctx := r.Context()
	lt, err := s.Lives.Lottery(ctx, c.Tenant.ID, lotteryID)
	if err != nil {
		return err
	}
	if lt.LiveID != liveID {
		return store.ErrNotFound
	}
	recent, err := s.Lives.RecentWinners(ctx, c.Tenant.ID, lt.Criteria.NotWonInLast)
	if err != nil {
		return err
	}
	cands, err := s.Lives.Candidates(ctx, c.Tenant.ID, liveID)
	if err != nil {
		return err
	}
	_, err = s.Lives.Draw(ctx, c.Tenant.ID, lotteryID, live.Eligible(lt.Criteria, time.Now(), recent, cands))
	return err
}
