package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/coupon"
	"github.com/liveloop/liveloop/internal/store"
)

type batchRow struct {
	coupon.Batch
	Value string
}

// coupons is the console's coupons page: the batches with their counts,
// the form for a new one, the perks and the free shipping threshold.
func (s *Server) coupons(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.couponsPage(w, r, c, http.StatusOK, url.Values{}, "")
}

func (s *Server) couponsPage(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, form url.Values, problem string) {
	ctx := r.Context()
	batches, err := s.Coupons.Batches(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lives, err := s.Lives.List(ctx, c.Tenant.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	perks, err := s.Coupons.Perks(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	threshold, err := s.Coupons.FreeShippingThreshold(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]batchRow, 0, len(batches))
	names := map[int64]string{}
	for _, b := range batches {
		rows = append(rows, batchRow{Batch: b, Value: s.couponLabel(c.Lang, valueOf(b.Kind, b.AmountMinor, b.Percent, b.MinSpendMinor))})
		names[b.ID] = b.Name
	}
	var free string
	if threshold > 0 {
		free = couponYuan(threshold)
	}
	s.renderStatus(w, r, status, "coupons", s.staffPage(c, s.Catalog.T(c.Lang, "nav.coupons"), "coupons", map[string]any{
		"Batches": rows, "Groups": groups, "Lives": lives, "Perks": perks, "BatchNames": names, "FreeShipping": free,
		"Form": form, "Error": problem, "Tiers": s.Coupons.TierRank != nil, "Now": time.Now(),
		"Weekdays": []int{0, 1, 2, 3, 4, 5, 6},
	}))
}

// batchFromForm reads a batch from the console's form; problems with the
// form itself (a date that is not a date) are returned as text.
func batchFromForm(r *http.Request, c *staffCtx) (coupon.Batch, []string) {
	var p []string
	loc := c.Tenant.Location()
	at := func(name, label string) time.Time {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(datetimeLocal, v, loc)
		if err != nil {
			p = append(p, label+" is not a date and time")
		}
		return t
	}
	amount := func(name, label string) int64 {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return 0
		}
		m, err := parseMoney(v)
		if err != nil {
			p = append(p, label+" is not an amount")
		}
		return m
	}
	num := func(name, label string) int64 {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			p = append(p, label+" is not a whole number")
		}
		return n
	}
	b := coupon.Batch{TenantID: c.Tenant.ID, StaffID: c.Staff.ID, Name: r.PostFormValue("name"), Prefix: r.PostFormValue("prefix"),
		Kind: coupon.Kind(r.PostFormValue("kind")), AmountMinor: amount("amount", "the amount off"),
		Percent: int(num("percent", "the percent off")), MinSpendMinor: amount("min_spend", "the minimum spend"),
		ValidFrom: at("valid_from", "the start of validity"), ValidUntil: at("valid_until", "the end of validity"),
		ValidDays: int(num("valid_days", "the days of validity")), Stock: num("stock", "the stock"),
		PerMember: int(num("per_member", "the per-member limit")), OpensAt: at("opens_at", "the opening of claims"),
		ClosesAt: at("closes_at", "the closing of claims")}
	b.Audience = coupon.Audience{GroupID: num("group_id", "the group"), MinTierRank: int(num("min_tier", "the tier")),
		LiveID: num("live_id", "the live"), NewWithinDays: int(num("new_days", "the new members' days"))}
	seg := campaign.Segment{MinPoints: num("seg_min_points", "the minimum points"), ActiveDays: int(num("seg_active_days", "the active days"))}
	for _, t := range strings.Split(r.PostFormValue("seg_tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			seg.Tags = append(seg.Tags, t)
		}
	}
	if !seg.Empty() {
		b.Audience.Segment = &seg
	}
	return b, p
}

func (s *Server) couponCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	b, problems := batchFromForm(r, c)
	var err error
	if len(problems) > 0 {
		err = fmt.Errorf("%w: %s", store.ErrInvalid, strings.Join(problems, "; "))
	} else {
		b, err = s.Coupons.CreateBatch(r.Context(), b)
	}
	if errors.Is(err, store.ErrInvalid) {
		s.couponsPage(w, r, c, http.StatusBadRequest, r.PostForm, detail(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/coupons/%d", b.ID), http.StatusSeeOther)
}

// couponBatch is one batch: its terms, counts and handed-out codes.
func (s *Server) couponBatch(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.Coupons.Batch(r.Context(), c.Tenant.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	codes, err := s.Coupons.Codes(r.Context(), c.Tenant.ID, id, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "coupons_batch", s.staffPage(c, b.Name, "coupons", map[string]any{
		"Batch": batchRow{Batch: b, Value: s.couponLabel(c.Lang, valueOf(b.Kind, b.AmountMinor, b.Percent, b.MinSpendMinor))}, "Codes": codes,
		"Segment": b.Audience.Segment,
	}))
}

func (s *Server) couponDisable(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Coupons.Disable(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/coupons/%d", id), http.StatusSeeOther)
}

func (s *Server) couponPerkCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	p := coupon.Perk{TenantID: c.Tenant.ID, Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"),
		BatchID: formInt(r, "batch_id"), DayOfMonth: int(formInt(r, "day_of_month")), Weekday: -1}
	if v := strings.TrimSpace(r.PostFormValue("weekday")); v != "" {
		p.Weekday = int(formInt(r, "weekday"))
	}
	if _, err := s.Coupons.CreatePerk(r.Context(), p); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			s.couponsPage(w, r, c, http.StatusBadRequest, url.Values{}, detail(err))
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/coupons#perks", http.StatusSeeOther)
}

func (s *Server) couponPerkActive(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Coupons.SetPerkActive(r.Context(), c.Tenant.ID, id, r.PostFormValue("active") == "true")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/coupons#perks", http.StatusSeeOther)
}

func (s *Server) couponSettings(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	var minor int64
	if v := strings.TrimSpace(r.PostFormValue("free_shipping")); v != "" {
		m, err := parseMoney(v)
		if err != nil {
			s.couponsPage(w, r, c, http.StatusBadRequest, url.Values{}, "the free shipping threshold is not an amount")
			return
		}
		minor = m
	}
	if err := s.Coupons.SetFreeShippingThreshold(r.Context(), c.Tenant.ID, minor); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/coupons#perks", http.StatusSeeOther)
}
