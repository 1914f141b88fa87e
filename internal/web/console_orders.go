package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/store"
)

// maxUpload caps a CSV upload of the console's orders page.
const maxUpload = 10 << 20

// money is an amount in minor units, shown as 1,234.50.
type money int64

func (m money) String() string {
	v := int64(m)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	whole := strconv.FormatInt(v/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s%s.%02d", sign, b.String(), v%100)
}

// parseMoneyForm reads an amount typed in major units ("12.50").
func parseMoneyForm(r *http.Request, name string) (int64, bool) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, true
	}
	m, err := commerce.ParseMoney(v)
	return m, err == nil
}

// staffUpload is s.staff for a file upload: the session, then a 10 MiB
// cap (not the forms' 64 KiB) on the multipart body, then the CSRF token
// from its fields.
func (s *Server) staffUpload(h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.staffFromRequest(r)
		if errors.Is(err, store.ErrNotFound) {
			s.deny(w, r, http.StatusUnauthorized, "error.login_required")
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload+64<<10)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			if !errTooLarge(err) {
				err = fmt.Errorf("%w: the upload is not a form with a file", store.ErrInvalid)
			}
			s.fail(w, r, err)
			return
		}
		defer r.MultipartForm.RemoveAll()
		token := r.Header.Get("X-CSRF-Token")
		if token == "" {
			token = r.PostFormValue("csrf")
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(c.Session.CSRFToken)) != 1 {
			s.deny(w, r, http.StatusForbidden, "error.csrf")
			return
		}
		h(w, r, c)
	}
}

type orderRow struct {
	commerce.Order
	Amount, Refunded money
}

func orderRows(orders []commerce.Order) []orderRow {
	out := make([]orderRow, len(orders))
	for i, o := range orders {
		out[i] = orderRow{Order: o, Amount: money(o.AmountMinor), Refunded: money(o.RefundedMinor)}
	}
	return out
}

// ordersPage is the console's orders page: totals, the latest orders (or
// the unmatched ones), the CSV import form and its report, past imports,
// and the shop API's key and endpoints.
func (s *Server) ordersPage(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.renderOrders(w, r, c, http.StatusOK, nil, "")
}

func (s *Server) renderOrders(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, rep *commerce.Report, problem string) {
	ctx := r.Context()
	unmatched := r.URL.Query().Get("unmatched") == "1"
	orders, err := s.Commerce.Orders(ctx, c.Tenant.ID, commerce.OrderFilter{Unmatched: unmatched, Limit: 100})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts, err := s.Commerce.Counts(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	imports, err := s.Commerce.Imports(ctx, c.Tenant.ID, 10)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := fmt.Sprintf("%s/api/shop/%s", s.PublicURL, c.Tenant.Slug)
	s.renderStatus(w, r, status, "orders", s.staffPage(c, s.Catalog.T(c.Lang, "nav.commerce"), "commerce", map[string]any{
		"Orders": orderRows(orders), "Counts": counts, "Net": money(counts.NetMinor), "Unmatched": unmatched, "Imports": imports,
		"Report": rep, "ImportError": problem, "APIKey": s.shopAPIKey(c.Tenant.ID),
		"OrdersURL": base + "/orders", "RefundsURL": base + "/refunds", "Rematched": r.URL.Query().Get("rematched"),
	}))
}

// ordersImport imports an uploaded CSV and shows its report.
func (s *Server) ordersImport(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	lang := c.Lang
	file, hdr, err := r.FormFile("file")
	if err != nil {
		s.renderOrders(w, r, c, http.StatusBadRequest, nil, s.Catalog.T(lang, "orders.import_nofile"))
		return
	}
	defer file.Close()
	if hdr.Size > maxUpload {
		s.fail(w, r, &http.MaxBytesError{Limit: maxUpload})
		return
	}
	mapping, ok := commerce.MappingNamed(r.PostFormValue("mapping"))
	if r.PostFormValue("mapping") == "custom" {
		mf, mh, err := r.FormFile("mapping_file")
		if err != nil {
			s.renderOrders(w, r, c, http.StatusBadRequest, nil, s.Catalog.T(lang, "orders.import_nomapping"))
			return
		}
		b, _ := io.ReadAll(io.LimitReader(mf, 64<<10))
		mf.Close()
		if mapping, err = commerce.ParseMapping(mh.Filename, b); err != nil {
			s.renderOrders(w, r, c, http.StatusBadRequest, nil, detail(err))
			return
		}
	} else if !ok {
		s.renderOrders(w, r, c, http.StatusBadRequest, nil, s.Catalog.T(lang, "orders.import_nomapping"))
		return
	}
	rep, err := s.Commerce.Import(r.Context(), file, commerce.ImportOptions{TenantID: c.Tenant.ID, Mapping: mapping,
		Encoding: r.PostFormValue("encoding"), Filename: hdr.Filename, Quiet: r.PostFormValue("quiet") == "on"})
	switch {
	case errors.Is(err, store.ErrInvalid):
		s.renderOrders(w, r, c, http.StatusBadRequest, nil, detail(err))
	case err != nil:
		s.Logger.Error("orders import", "tenant", c.Tenant.ID, "err", err)
		s.renderOrders(w, r, c, http.StatusInternalServerError, &rep, s.Catalog.T(lang, "orders.import_failed"))
	default:
		s.renderOrders(w, r, c, http.StatusOK, &rep, "")
	}
}

// ordersRematch matches unmatched orders to members again now.
func (s *Server) ordersRematch(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	n, err := s.Commerce.Rematch(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/orders?rematched=%d", n), http.StatusSeeOther)
}

type productRow struct {
	commerce.Product
	Price money
}

// productsPage lists the catalogue with a form to add a product.
func (s *Server) productsPage(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.renderProducts(w, r, c, http.StatusOK, commerce.Product{}, "")
}

func (s *Server) renderProducts(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, draft commerce.Product, problem string) {
	ps, err := s.Commerce.Products(r.Context(), c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]productRow, len(ps))
	for i, p := range ps {
		rows[i] = productRow{p, money(p.PriceMinor)}
	}
	name := "products"
	if draft.ID != 0 {
		name = "products_edit"
	}
	s.renderStatus(w, r, status, name, s.staffPage(c, s.Catalog.T(c.Lang, "products.title"), "commerce", map[string]any{
		"Products": rows, "Draft": draft, "DraftPrice": moneyInput(draft.PriceMinor, draft.SKU == "" && draft.ID == 0), "Error": problem,
	}))
}

// moneyInput is an amount as a form field shows it ("" for a new form).
func moneyInput(minor int64, blank bool) string {
	if blank {
		return ""
	}
	return strings.ReplaceAll(money(minor).String(), ",", "")
}

// productEdit is the form of one product.
func (s *Server) productEdit(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	var p commerce.Product
	if err == nil {
		p, err = s.Commerce.Product(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderProducts(w, r, c, http.StatusOK, p, "")
}

// productSave creates or updates a product; bad input shows the form
// again with the reasons.
func (s *Server) productSave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	p := commerce.Product{TenantID: c.Tenant.ID, SKU: r.PostFormValue("sku"), Name: r.PostFormValue("name"), Category: r.PostFormValue("category")}
	if idText := r.PathValue("id"); idText != "" {
		id, err := pathID(r, "id")
		if err == nil {
			_, err = s.Commerce.Product(r.Context(), c.Tenant.ID, id)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.ID = id
	}
	price, ok := parseMoneyForm(r, "price")
	p.PriceMinor = price
	var err error
	if !ok {
		err = fmt.Errorf("%w: price %q is not an amount", store.ErrInvalid, r.PostFormValue("price"))
	} else {
		_, err = s.Commerce.SaveProduct(r.Context(), p)
	}
	switch {
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrConflict):
		s.renderProducts(w, r, c, classify(err).Status, p, detail(err))
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/console/products", http.StatusSeeOther)
	}
}

// purchases is the "Purchases" section of the console's member page.
type purchases struct {
	Stats   commerce.Stats
	Spend   money
	Tier    commerce.Tier
	HasTier bool
	Orders  []orderRow
}

func (s *Server) purchasesOf(ctx context.Context, tenantID, memberID int64) (purchases, error) {
	var p purchases
	if s.Commerce == nil {
		return p, nil
	}
	st, err := s.Commerce.Stats(ctx, tenantID, memberID)
	if err != nil {
		return p, err
	}
	p.Stats, p.Spend = st, money(st.SpendMinor)
	t, err := s.Commerce.TierOf(ctx, s.DB.R, tenantID, memberID)
	switch {
	case err == nil:
		p.Tier, p.HasTier = t, true
	case !errors.Is(err, store.ErrNotFound):
		return p, err
	}
	orders, err := s.Commerce.Orders(ctx, tenantID, commerce.OrderFilter{MemberID: memberID, Limit: 20})
	p.Orders = orderRows(orders)
	return p, err
}
