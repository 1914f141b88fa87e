package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
)

// liveProductAdd adds one product line ("name | price | live price | stock
// [| cover]") to a live's list; members who wished for it are told.
func (s *Server) liveProductAdd(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	id, err := pathID(r, "id")
	if err == nil {
		_, err = s.Lives.Head(r.Context(), c.Tenant.ID, id) // another brand's live is not found, whatever the form says
	}
	var ps []live.Product
	if err == nil {
		ps, err = parseProducts(r.PostFormValue("line"))
	}
	if err == nil && len(ps) != 1 {
		err = fmt.Errorf("%w: write one product line: name | price | live price | stock [| cover URL]", store.ErrInvalid)
	}
	if err == nil {
		_, err = s.Lives.AddProduct(r.Context(), c.Tenant.ID, id, ps[0])
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/lives/%d#restock", id), http.StatusSeeOther)
}

// liveResaleCreate offers a re-sale of a sold-out product to the members
// who asked to be told when it is back.
func (s *Server) liveResaleCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	id, err := pathID(r, "id")
	var productID, price int64
	if err == nil {
		productID, err = pathID(r, "product")
	}
	if err == nil {
		_, err = s.Lives.Product(r.Context(), c.Tenant.ID, id, productID) // not found before any form problem
	}
	if err == nil {
		if price, err = parseMoney(r.PostFormValue("price")); err != nil {
			err = fmt.Errorf("%w: the price is an amount like 129 or 99.90", store.ErrInvalid)
		}
	}
	var closes time.Time
	if err == nil {
		if closes, err = time.ParseInLocation(datetimeLocal, r.PostFormValue("closes_at"), c.Tenant.Location()); err != nil {
			err = fmt.Errorf("%w: the closing time is not a date and time", store.ErrInvalid)
		}
	}
	if err == nil {
		_, _, err = s.Runner.OfferResale(r.Context(), live.Resale{TenantID: c.Tenant.ID, LiveID: id, ProductID: productID, Price: price,
			Quantity: formInt(r, "quantity"), Note: r.PostFormValue("note"), ClosesAt: closes, StaffID: c.Staff.ID})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/lives/%d#restock", id), http.StatusSeeOther)
}

// restockRow is one product of a live on the console: the wishers told
// about it, the members waiting for it, its re-sales.
type restockRow struct {
	Product  live.Product
	Wishers  int
	Requests int
	Resales  []live.Resale
}

// restockOf is the console's view of a live's wishes and restock requests.
func (s *Server) restockOf(ctx context.Context, l live.Live) ([]restockRow, error) {
	wishers, err := s.Lives.WishNotices(ctx, l.TenantID, l.ID)
	if err != nil {
		return nil, err
	}
	requests, err := s.Lives.RestockCounts(ctx, l.TenantID, l.ID)
	if err != nil {
		return nil, err
	}
	resales, err := s.Lives.Resales(ctx, l.TenantID, l.ID)
	if err != nil {
		return nil, err
	}
	out := make([]restockRow, 0, len(l.Products))
	for _, p := range l.Products {
		row := restockRow{Product: p, Wishers: wishers[p.ID], Requests: requests[p.ID]}
		for _, rs := range resales {
			if rs.ProductID == p.ID {
				row.Resales = append(row.Resales, rs)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// roomRestock is what the live room shows of sold-out products: the list,
// and which of them the member already asked for.
func (s *Server) roomRestock(ctx context.Context, l live.Live, memberID int64) ([]live.Product, map[int64]bool) {
	var sold []live.Product
	asked := map[int64]bool{}
	for _, p := range l.Products {
		if !p.SoldOut() {
			continue
		}
		sold = append(sold, p)
		if memberID != 0 {
			if ok, err := s.Lives.Requested(ctx, l.TenantID, p.ID, memberID); err == nil && ok {
				asked[p.ID] = true
			}
		}
	}
	return sold, asked
}

// liveNotifyMe records a member's "notify me when it is back" for a
// sold-out product of the live.
func (s *Server) liveNotifyMe(w http.ResponseWriter, r *http.Request) {
	liveID, _ := pathID(r, "id") // memberClaim's roomOf refuses a path that names no live of the brand
	s.memberClaim(w, r, "product", "#restock",
		// The product is this room's: RequestRestock looks it up by live and id.
		func(context.Context, int64, int64) (int64, error) { return liveID, nil },
		func(ctx context.Context, tenantID, id, memberID int64) error {
			_, err := s.Lives.RequestRestock(ctx, tenantID, liveID, id, memberID)
			return err
		})
}

// memberResale shows a re-sale offer to a member: claimable by those who
// asked for the product.
func (s *Server) memberResale(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	var rs live.Resale
	var p live.Product
	if err == nil {
		var id int64
		if id, err = pathID(r, "id"); err == nil {
			rs, err = s.Lives.Resale(r.Context(), mc.Tenant.ID, id)
		}
	}
	if err == nil {
		p, err = s.Lives.Product(r.Context(), mc.Tenant.ID, rs.LiveID, rs.ProductID)
	}
	var mine int64
	var asked bool
	if err == nil {
		mine, err = s.Lives.ResaleClaimOf(r.Context(), mc.Tenant.ID, rs.ID, mc.Member.ID)
	}
	if err == nil {
		asked, err = s.Lives.OfferedTo(r.Context(), mc.Tenant.ID, rs, mc.Member.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r, mc.Tenant.Locale)
	s.render(w, r, "member_resale", s.memberPage(r, mc.Tenant, s.Catalog.T(lang, "wish.resale_title", p.Name), map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "Resale": rs, "Product": p, "Mine": mine, "Asked": asked,
		"Open": time.Now().Before(rs.ClosesAt) && rs.Left() > 0, "Price": money(rs.Price),
	}))
}

// memberResaleClaim takes one item of a re-sale for the member.
func (s *Server) memberResaleClaim(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, err := s.memberOfStrict(r)
	var id int64
	if err == nil {
		id, err = pathID(r, "id")
	}
	if err == nil && mc.Member.ID == 0 {
		err = community.ErrNotIn
	}
	if err == nil {
		_, err = s.Lives.ClaimResale(r.Context(), mc.Tenant.ID, id, mc.Member.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/m/%s/resales/%d", mc.Tenant.Slug, id), http.StatusSeeOther)
}
