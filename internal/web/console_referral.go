package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/referral"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/track"
)

// --- group sets (活码) ---

type setRow struct {
	Group    community.Group
	On       bool
	Position int
	Soft     int
	Hard     int
}

type setForm struct {
	Set   referral.Set
	Rows  []setRow
	Links []joinLink
	Error string
}

// setRows lays out the tenant's open groups for the set form: the set's
// groups first, in order, then the others.
func setRows(groups []community.Group, st referral.Set) []setRow {
	var rows []setRow
	in := map[int64]referral.SetGroup{}
	for _, g := range st.Groups {
		in[g.GroupID] = g
	}
	for _, g := range groups {
		if !g.ArchivedAt.IsZero() {
			continue
		}
		row := setRow{Group: g, Soft: min(200, g.Capacity), Hard: g.Capacity}
		if sg, ok := in[g.ID]; ok {
			row.On, row.Position, row.Soft, row.Hard = true, sg.Position, sg.SoftCap, sg.HardCap
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b setRow) int {
		switch {
		case a.On && !b.On:
			return -1
		case !a.On && b.On:
			return 1
		}
		return a.Position - b.Position
	})
	return rows
}

// setFromForm reads the set form: a checkbox per group ("on"), its
// position, soft and hard cap.
func setFromForm(r *http.Request, tenantID int64) referral.Set {
	st := referral.Set{TenantID: tenantID, Name: r.PostFormValue("name")}
	type pos struct {
		g referral.SetGroup
		p int
	}
	var ps []pos
	for _, v := range r.PostForm["on"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		num := func(k string) int {
			n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(k + "_" + v)))
			return n
		}
		ps = append(ps, pos{referral.SetGroup{GroupID: id, SoftCap: num("soft"), HardCap: num("hard")}, num("pos")})
	}
	slices.SortStableFunc(ps, func(a, b pos) int { return a.p - b.p })
	for _, p := range ps {
		st.Groups = append(st.Groups, p.g)
	}
	return st
}

func (s *Server) groupSets(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.renderGroupSets(w, r, c, http.StatusOK, referral.Set{}, "")
}

func (s *Server) renderGroupSets(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, draft referral.Set, msg string) {
	sets, err := s.Referral.Sets(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, status, "groupsets", s.staffPage(c, s.Catalog.T(c.Lang, "gs.title"), "groupsets", map[string]any{
		"Sets": sets, "Form": setForm{Set: draft, Rows: setRows(groups, draft), Error: msg},
	}))
}

func (s *Server) groupSetCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	st := setFromForm(r, c.Tenant.ID)
	st, _, err := s.Referral.CreateSet(r.Context(), st)
	if errors.Is(err, store.ErrInvalid) {
		s.renderGroupSets(w, r, c, http.StatusBadRequest, st, detail(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groupsets/%d", st.ID), http.StatusSeeOther)
}

func (s *Server) setFor(r *http.Request, c *staffCtx) (referral.Set, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return referral.Set{}, err
	}
	return s.Referral.Set(r.Context(), c.Tenant.ID, id)
}

func (s *Server) groupSetShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	st, err := s.setFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderGroupSet(w, r, c, http.StatusOK, st, st, "")
}

func (s *Server) renderGroupSet(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, st, draft referral.Set, msg string) {
	groups, err := s.Community.Groups(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	codes, err := s.Community.SetJoinCodes(r.Context(), c.Tenant.ID, st.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var links []joinLink
	for _, jc := range codes {
		links = append(links, joinLink{JoinCode: jc, URL: s.joinURL(jc.Code), Usable: jc.Usable(time.Now())})
	}
	s.renderStatus(w, r, status, "groupsets_show", s.staffPage(c, st.Name, "groupsets", map[string]any{
		"Set": st, "Form": setForm{Set: draft, Rows: setRows(groups, draft), Links: links, Error: msg},
	}))
}

func (s *Server) groupSetUpdate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	old, err := s.setFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := setFromForm(r, c.Tenant.ID)
	st.ID = old.ID
	err = s.Referral.UpdateSet(r.Context(), st)
	if errors.Is(err, store.ErrInvalid) {
		s.renderGroupSet(w, r, c, http.StatusBadRequest, old, st, detail(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groupsets/%d", st.ID), http.StatusSeeOther)
}

func (s *Server) groupSetCodeCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	st, err := s.setFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var exp time.Time
	if days, _ := strconv.Atoi(r.PostFormValue("days")); days > 0 {
		exp = time.Now().Add(time.Duration(min(days, 3650)) * 24 * time.Hour)
	}
	if _, err := s.Referral.NewSetJoinCode(r.Context(), c.Tenant.ID, st.ID, r.PostFormValue("source"), exp); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groupsets/%d#links", st.ID), http.StatusSeeOther)
}

func (s *Server) setCode(r *http.Request, c *staffCtx, match func(community.JoinCode) bool) (referral.Set, community.JoinCode, error) {
	st, err := s.setFor(r, c)
	if err != nil {
		return st, community.JoinCode{}, err
	}
	codes, err := s.Community.SetJoinCodes(r.Context(), c.Tenant.ID, st.ID)
	if err != nil {
		return st, community.JoinCode{}, err
	}
	for _, jc := range codes {
		if match(jc) {
			return st, jc, nil
		}
	}
	return st, community.JoinCode{}, store.ErrNotFound
}

func (s *Server) groupSetCodeDisable(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	cid, err := pathID(r, "cid")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, jc, err := s.setCode(r, c, func(jc community.JoinCode) bool { return jc.ID == cid })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Community.DisableJoinCode(r.Context(), c.Tenant.ID, jc.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/groupsets/%d#links", st.ID), http.StatusSeeOther)
}

// groupSetQR serves a set code's QR code ({code} is "<code>.png" or
// "<code>.svg"), like a group's.
func (s *Server) groupSetQR(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	code, format, _ := strings.Cut(r.PathValue("code"), ".")
	st, _, err := s.setCode(r, c, func(jc community.JoinCode) bool { return jc.Code == code })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveQR(w, r, s.joinURL(code), fmt.Sprintf("join-set-%d-%s", st.ID, code), format)
}

// serveQR writes a QR code of content as PNG or SVG.
func (s *Server) serveQR(w http.ResponseWriter, r *http.Request, content, name, format string) {
	switch format {
	case "png":
		b, err := track.QRPNG(content, 512)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.png"`, name))
		w.Header().Set("Content-Type", "image/png")
		w.Write(b)
	case "svg":
		svg, err := track.QRSVG(content)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.svg"`, name))
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write([]byte(svg))
	default:
		s.fail(w, r, store.ErrNotFound)
	}
}

// --- referral campaigns (裂变) ---

type campaignDraft struct {
	Name     string
	Target   string // "set:<id>" or "group:<id>"
	StayDays int
	StartsAt string // datetime-local, tenant time
	EndsAt   string
	Rewards  []rewardDraft
}

type rewardDraft struct {
	N                               int // the row's number in field names
	Threshold, Points, Coupon, Gift string
}

func numberRewards(rs []rewardDraft) []rewardDraft {
	for len(rs) < rewardRows {
		rs = append(rs, rewardDraft{})
	}
	for i := range rs {
		rs[i].N = i + 1
	}
	return rs
}

const rewardRows = 3

func (s *Server) referrals(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	loc := c.Tenant.Location()
	now := time.Now().In(loc)
	d := campaignDraft{StayDays: 7, StartsAt: now.Format(datetimeLocal), EndsAt: now.Add(30 * 24 * time.Hour).Format(datetimeLocal),
		Rewards: make([]rewardDraft, rewardRows)}
	s.renderReferrals(w, r, c, http.StatusOK, d, "")
}

type campaignLine struct {
	Campaign referral.Campaign
	Counts   referral.Counts
	Running  bool
}

func (s *Server) renderReferrals(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, d campaignDraft, msg string) {
	ctx := r.Context()
	d.Rewards = numberRewards(d.Rewards)
	camps, err := s.Referral.Campaigns(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.Referral.Now()
	var lines []campaignLine
	for _, cp := range camps {
		n, err := s.Referral.Count(ctx, c.Tenant.ID, cp.ID, 0)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		lines = append(lines, campaignLine{Campaign: cp, Counts: n, Running: cp.Running(now)})
	}
	sets, err := s.Referral.Sets(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, status, "referrals", s.staffPage(c, s.Catalog.T(c.Lang, "referral.title"), "referrals", map[string]any{
		"Campaigns": lines, "Sets": sets, "Groups": groups, "Draft": d, "Error": msg, "Coupons": s.Referral.GrantCoupon != nil,
	}))
}

func (s *Server) referralCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	loc := c.Tenant.Location()
	d := campaignDraft{Name: r.PostFormValue("name"), Target: r.PostFormValue("target"),
		StartsAt: r.PostFormValue("starts_at"), EndsAt: r.PostFormValue("ends_at")}
	var err error
	if v := strings.TrimSpace(r.PostFormValue("stay_days")); v != "" {
		if d.StayDays, err = strconv.Atoi(v); err != nil {
			d.StayDays = -1 // refused below with the valid range, not taken as 0
		}
	}
	cp := referral.Campaign{TenantID: c.Tenant.ID, Name: d.Name, StayDays: d.StayDays}
	bad := func(msg string) {
		s.renderReferrals(w, r, c, http.StatusBadRequest, d, msg)
	}
	kind, idText, _ := strings.Cut(d.Target, ":")
	id, _ := strconv.ParseInt(idText, 10, 64)
	switch kind {
	case "set":
		cp.SetID = id
	case "group":
		cp.GroupID = id
	}
	if cp.StartsAt, err = time.ParseInLocation(datetimeLocal, d.StartsAt, loc); err != nil {
		bad(s.Catalog.T(c.Lang, "referral.bad_time"))
		return
	}
	if cp.EndsAt, err = time.ParseInLocation(datetimeLocal, d.EndsAt, loc); err != nil {
		bad(s.Catalog.T(c.Lang, "referral.bad_time"))
		return
	}
	for i := 1; i <= rewardRows; i++ {
		n := strconv.Itoa(i)
		rd := rewardDraft{Threshold: strings.TrimSpace(r.PostFormValue("threshold_" + n)), Points: strings.TrimSpace(r.PostFormValue("points_" + n)),
			Coupon: strings.TrimSpace(r.PostFormValue("coupon_" + n)), Gift: r.PostFormValue("gift_" + n)}
		d.Rewards = append(d.Rewards, rd)
		if rd.Threshold == "" && rd.Points == "" && rd.Coupon == "" && strings.TrimSpace(rd.Gift) == "" {
			continue
		}
		var rw referral.Reward
		var e1, e2, e3 error
		rw.Threshold, e1 = strconv.Atoi(rd.Threshold)
		if rd.Points != "" {
			rw.Points, e2 = strconv.ParseInt(rd.Points, 10, 64)
		}
		if rd.Coupon != "" {
			rw.CouponBatchID, e3 = strconv.ParseInt(rd.Coupon, 10, 64)
		}
		if e1 != nil || e2 != nil || e3 != nil {
			bad(s.Catalog.T(c.Lang, "referral.bad_reward", i))
			return
		}
		if foreign := s.foreignBatches(r, c.Tenant.ID, rw.CouponBatchID); len(foreign) > 0 {
			bad(foreign[0])
			return
		}
		rw.Gift = rd.Gift
		cp.Rewards = append(cp.Rewards, rw)
	}
	cp, err = s.Referral.CreateCampaign(r.Context(), cp)
	if errors.Is(err, store.ErrInvalid) {
		bad(detail(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/referrals/%d", cp.ID), http.StatusSeeOther)
}

func (s *Server) campaignFor(r *http.Request, c *staffCtx) (referral.Campaign, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return referral.Campaign{}, err
	}
	return s.Referral.Campaign(r.Context(), c.Tenant.ID, id)
}

func (s *Server) referralShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	cp, err := s.campaignFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Campaign": cp, "Running": cp.Running(s.Referral.Now())}
	var target string
	if cp.SetID != 0 {
		st, err := s.Referral.Set(ctx, c.Tenant.ID, cp.SetID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		target = st.Name
		data["Set"] = st
	} else {
		g, err := s.Community.Group(ctx, c.Tenant.ID, cp.GroupID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		target = g.Name
	}
	data["Target"] = target
	counts, err := s.Referral.Count(ctx, c.Tenant.ID, cp.ID, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	invites, err := s.Referral.Invites(ctx, c.Tenant.ID, cp.ID, 0, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	grants, err := s.Referral.Grants(ctx, c.Tenant.ID, cp.ID, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	leaders, err := s.Referral.Leaderboard(ctx, c.Tenant.ID, cp.ID, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data["Counts"], data["Invites"], data["Grants"], data["Leaders"] = counts, invites, grants, leaders
	s.render(w, r, "referral_show", s.staffPage(c, cp.Name, "referrals", data))
}

func (s *Server) referralEnd(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	cp, err := s.campaignFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Referral.EndCampaign(r.Context(), c.Tenant.ID, cp.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/referrals/%d", cp.ID), http.StatusSeeOther)
}

func (s *Server) referralFulfil(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	cp, err := s.campaignFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	gid, err := pathID(r, "gid")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Referral.Fulfil(r.Context(), c.Tenant.ID, cp.ID, gid); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/referrals/%d#grants", cp.ID), http.StatusSeeOther)
}
