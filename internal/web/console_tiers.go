package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/store"
)

// tierRow is a tier as the console shows and edits it.
type tierRow struct {
	commerce.Tier
	Members   int64
	Threshold string // in major units for spend, points otherwise
	Coupons   string // coupon batch ids, comma separated
}

func tierRowOf(t commerce.Tier, members int64) tierRow {
	th := strconv.FormatInt(t.Threshold, 10)
	if t.Basis == commerce.BasisSpend {
		th = moneyInput(t.Threshold, false)
	}
	ids := make([]string, len(t.CouponBatchIDs))
	for i, id := range t.CouponBatchIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return tierRow{Tier: t, Members: members, Threshold: th, Coupons: strings.Join(ids, ", ")}
}

// HasGroup reports whether the tier opens the group (for the checkboxes).
func (t tierRow) HasGroup(id int64) bool { return slices.Contains(t.VIPGroupIDs, id) }

// tiersPage is the ladder: each tier's form with its member count, and a
// form to add one.
func (s *Server) tiersPage(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.renderTiers(w, r, c, http.StatusOK, nil, "")
}

func (s *Server) renderTiers(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, draft *tierRow, problem string) {
	ctx := r.Context()
	ladder, err := s.Commerce.Tiers(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts, err := s.Commerce.TierCounts(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	agents, err := s.Commerce.Agents(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]tierRow, len(ladder))
	for i, t := range ladder {
		rows[i] = tierRowOf(t, counts[t.ID])
		if draft != nil && draft.ID == t.ID {
			rows[i] = *draft // the refused edit, as typed
		}
	}
	fresh := tierRow{Tier: commerce.Tier{Rank: len(ladder), Basis: commerce.BasisSpend, WindowDays: 365}}
	if len(ladder) == 0 {
		fresh.Name, fresh.Threshold = s.Catalog.T(c.Lang, "tiers.base_name"), "0"
	}
	if draft != nil && draft.ID == 0 {
		fresh = *draft
	}
	s.renderStatus(w, r, status, "tiers", s.staffPage(c, s.Catalog.T(c.Lang, "tiers.title"), "commerce", map[string]any{
		"Forms": append(rows, fresh), "Groups": groups, "Agents": agents, "Error": problem, "Evaluated": r.URL.Query().Get("evaluated"),
	}))
}

// tierFromForm reads a tier; what does not parse is named in the problems.
func tierFromForm(r *http.Request, tenantID int64) (tierRow, []string) {
	var problems []string
	t := commerce.Tier{TenantID: tenantID, Name: r.PostFormValue("name"), Basis: commerce.Basis(r.PostFormValue("basis")),
		AgentStaffID: formInt(r, "agent_staff_id")}
	num := func(name, label string) int {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q is not a whole number", label, v))
		}
		return n
	}
	t.Rank, t.WindowDays = num("rank", "rank"), num("window_days", "window")
	t.DiscountPct, t.PresaleDays = num("discount_pct", "discount"), num("presale_days", "early access days")
	row := tierRow{Threshold: strings.TrimSpace(r.PostFormValue("threshold")), Coupons: r.PostFormValue("coupon_batch_ids")}
	if t.Basis == commerce.BasisSpend {
		v, err := commerce.ParseMoney(row.Threshold)
		if err != nil && row.Threshold != "" {
			problems = append(problems, "threshold: "+err.Error())
		}
		t.Threshold = v
	} else {
		t.Threshold = int64(num("threshold", "threshold"))
	}
	for _, f := range strings.FieldsFunc(row.Coupons, func(r rune) bool { return r == ',' || r == ' ' || r == '，' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			problems = append(problems, fmt.Sprintf("coupon bundle %q is not an id", f))
			continue
		}
		t.CouponBatchIDs = append(t.CouponBatchIDs, id)
	}
	for _, v := range r.PostForm["vip_group_ids"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			t.VIPGroupIDs = append(t.VIPGroupIDs, id)
		}
	}
	row.Tier = t
	return row, problems
}

// tierSave adds or changes a tier; a refused form is shown again as typed
// with the reasons.
func (s *Server) tierSave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	row, problems := tierFromForm(r, c.Tenant.ID)
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id")
		if err == nil {
			_, err = s.Commerce.Tier(r.Context(), c.Tenant.ID, id)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		row.ID = id
	}
	problems = append(problems, s.foreignBatches(r, c.Tenant.ID, row.CouponBatchIDs...)...)
	var err error
	if len(problems) > 0 {
		err = fmt.Errorf("%w: %s", store.ErrInvalid, strings.Join(problems, "; "))
	} else {
		_, err = s.Commerce.SaveTier(r.Context(), row.Tier)
	}
	switch {
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrConflict):
		s.renderTiers(w, r, c, classify(err).Status, &row, detail(err))
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/console/tiers", http.StatusSeeOther)
	}
}

// tiersEvaluate re-evaluates every member now (after the ladder changed).
func (s *Server) tiersEvaluate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	n, err := s.Commerce.EvaluateTenant(r.Context(), c.Tenant.ID, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/tiers?evaluated=%d", n), http.StatusSeeOther)
}

// tierMembers lists the members of one tier.
func (s *Server) tierMembers(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	var t commerce.Tier
	if err == nil {
		t, err = s.Commerce.Tier(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members, err := s.Commerce.TierMembers(r.Context(), c.Tenant.ID, t.ID, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type row struct {
		commerce.TierMember
		Spend money
	}
	rows := make([]row, len(members))
	for i, m := range members {
		rows[i] = row{m, money(m.SpendMinor)}
	}
	s.render(w, r, "tiers_members", s.staffPage(c, t.Name, "commerce", map[string]any{"Tier": t, "Members": rows}))
}

// foreignBatches names the coupon batch ids that are not the brand's: a
// coupon reward or bundle must be one of its own batches.
func (s *Server) foreignBatches(r *http.Request, tenantID int64, ids ...int64) []string {
	var out []string
	for _, id := range ids {
		if id <= 0 || s.Coupons == nil {
			continue
		}
		if _, err := s.Coupons.Batch(r.Context(), tenantID, id); errors.Is(err, store.ErrNotFound) {
			out = append(out, fmt.Sprintf("coupon batch %d is not one of your coupons", id))
		}
	}
	return out
}
