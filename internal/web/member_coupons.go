package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/liveloop/liveloop/internal/coupon"
)

// couponValue is a batch's value as the member reads it.
type couponValue struct {
	Kind     coupon.Kind
	Amount   string // yuan, for amount coupons
	Percent  int
	MinSpend string // "" when none
}

func valueOf(kind coupon.Kind, amount int64, percent int, minSpend int64) couponValue {
	v := couponValue{Kind: kind, Amount: couponYuan(amount), Percent: percent}
	if minSpend > 0 {
		v.MinSpend = couponYuan(minSpend)
	}
	return v
}

// couponLabel says a value in words: "¥10 off, from ¥99".
func (s *Server) couponLabel(lang string, v couponValue) string {
	var out string
	switch v.Kind {
	case coupon.Amount:
		out = s.Catalog.T(lang, "coupons.value.amount", v.Amount)
	case coupon.Percent:
		out = s.Catalog.T(lang, "coupons.value.percent", v.Percent)
	default:
		out = s.Catalog.T(lang, "coupons.value.free_shipping")
	}
	if v.MinSpend != "" {
		out += s.Catalog.T(lang, "coupons.value.min_spend", v.MinSpend)
	}
	return out
}

// couponYuan shows minor units as a decimal amount (fen → yuan).
func couponYuan(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	s := strconv.FormatInt(minor/100, 10)
	if c := minor % 100; c != 0 {
		s += "." + strconv.FormatInt(100+c, 10)[1:]
	}
	return sign + s
}

type offerView struct {
	coupon.Offer
	Value  string
	Reason string // "" when the member can claim
}

type codeView struct {
	coupon.Code
	Value string
	State string
}

// memberCoupons is the member's coupons page: the batches open to them
// (or why not), their codes, the free shipping threshold and their
// birthday for the birthday gift.
func (s *Server) memberCoupons(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	offers, err := s.Coupons.Offers(ctx, mc.Tenant.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	codes, err := s.Coupons.MemberCodes(ctx, mc.Tenant.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	threshold, err := s.Coupons.FreeShippingThreshold(ctx, mc.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	month, day, err := s.Coupons.BirthdayOf(ctx, mc.Tenant.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r, mc.Tenant.Locale)
	var ov []offerView
	for _, o := range offers {
		b := o.Batch
		ov = append(ov, offerView{Offer: o, Value: s.couponLabel(lang, valueOf(b.Kind, b.AmountMinor, b.Percent, b.MinSpendMinor)), Reason: coupon.Reason(o.Refusal)})
	}
	now := time.Now()
	var cv []codeView
	for _, c := range codes {
		cv = append(cv, codeView{Code: c, Value: s.couponLabel(lang, valueOf(c.Kind, c.AmountMinor, c.Percent, c.MinSpend)), State: c.State(now)})
	}
	var free string
	if threshold > 0 {
		free = couponYuan(threshold)
	}
	// The claim's redirect names the code or the refusal; the page shows
	// only a code the member holds and a reason it knows, so a link
	// cannot make it announce anything else.
	q := r.URL.Query()
	claimed, refused := q.Get("claimed"), q.Get("refused")
	if !slices.ContainsFunc(codes, func(c coupon.Code) bool { return c.Code == claimed }) {
		claimed = ""
	}
	if !s.Catalog.Has("coupons.why." + refused) {
		refused = ""
	}
	s.render(w, r, "member_coupons", s.memberPage(r, mc.Tenant, s.Catalog.T(lang, "coupons.title"), map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "Offers": ov, "Codes": cv, "FreeShipping": free,
		"Month": month, "Day": day, "Claimed": claimed, "Refused": refused, "Saved": q.Get("saved") != "",
		"Months": []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
	}))
}

// memberCouponClaim claims one code of a batch and goes back to the page,
// with the code or the reason for a refusal.
func (s *Server) memberCouponClaim(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := "/m/" + mc.Tenant.Slug + "/coupons"
	c, err := s.Coupons.Claim(r.Context(), mc.Tenant.ID, id, mc.Member.ID)
	if reason := coupon.Reason(err); reason != "" {
		http.Redirect(w, r, back+"?refused="+reason, http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, back+"?claimed="+c.Code, http.StatusSeeOther)
}

// memberBirthday records (or removes, month 0) the member's birthday.
func (s *Server) memberBirthday(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Coupons.SetBirthday(r.Context(), mc.Tenant.ID, mc.Member.ID, int(formInt(r, "month")), int(formInt(r, "day"))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/m/"+mc.Tenant.Slug+"/coupons?saved=1#birthday", http.StatusSeeOther)
}
