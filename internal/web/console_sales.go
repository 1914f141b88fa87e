package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/export"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
)

// flashRow is a flash sale as the console lists it.
type flashRow struct {
	sale.Flash
	State  string
	Groups []string
}

// salesPage is the console's list of flash sales, chain orders and
// presales, with the forms that start each.
func (s *Server) salesPage(w http.ResponseWriter, r *http.Request, c *staffCtx) {
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
	flashes, err := s.Sales.Flashes(ctx, c.Tenant.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chains, err := s.Sales.Chains(ctx, c.Tenant.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lists := make([]sale.ChainList, 0, len(chains))
	for _, ch := range chains {
		l, err := s.Sales.List(ctx, ch)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		lists = append(lists, l)
	}
	presales, err := s.Sales.Presales(ctx, c.Tenant.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now()
	names := groupNames(groups)
	loc := c.Tenant.Location()
	s.render(w, r, "sales", s.staffPage(c, s.Catalog.T(c.Lang, "sale.nav"), "sales", map[string]any{
		"Groups": groups, "Personas": personas, "Flashes": flashRows(flashes, names, now), "Chains": lists, "Presales": presales,
		"Now": now, "DefaultStart": now.Add(time.Hour).In(loc).Format(datetimeLocal),
		"DefaultCloses": now.Add(24 * time.Hour).In(loc).Format(datetimeLocal),
		"DefaultOpens":  now.Add(7 * 24 * time.Hour).In(loc).Format(datetimeLocal),
	}))
}

func flashRows(list []sale.Flash, names map[int64]string, now time.Time) []flashRow {
	out := make([]flashRow, 0, len(list))
	for _, f := range list {
		row := flashRow{Flash: f, State: f.State(now)}
		for _, g := range f.Groups {
			row.Groups = append(row.Groups, names[g])
		}
		out = append(out, row)
	}
	return out
}

// formTime reads a datetime-local field in the tenant's zone; blank is
// the zero time.
func formTime(r *http.Request, name string, loc *time.Location) (time.Time, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(datetimeLocal, v, loc)
	if err != nil {
		return t, fmt.Errorf("%w: %s is not a date and time", sale.ErrInvalid, name)
	}
	return t, nil
}

func formIDs(r *http.Request, name string) []int64 {
	var out []int64
	for _, v := range r.PostForm[name] {
		var id int64
		if _, err := fmt.Sscan(v, &id); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func (s *Server) flashCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	loc := c.Tenant.Location()
	f := sale.Flash{TenantID: c.Tenant.ID, Name: r.PostFormValue("name"), SKU: r.PostFormValue("sku"), Stock: formInt(r, "stock"),
		PerMember: formInt(r, "per_member"), Keyword: r.PostFormValue("keyword"), CheckoutURL: r.PostFormValue("checkout_url"),
		CountdownMin: int(formInt(r, "countdown_min")), PersonaID: formInt(r, "persona"), StaffID: c.Staff.ID, Groups: formIDs(r, "groups")}
	var err error
	if f.PriceMinor, err = sale.ParseMoney(r.PostFormValue("price")); err == nil {
		f.OriginalMinor, err = sale.ParseMoney(r.PostFormValue("original"))
	}
	if err == nil {
		f.StartsAt, err = formTime(r, "starts_at", loc)
	}
	if err == nil {
		f.EndsAt, err = formTime(r, "ends_at", loc)
	}
	if err == nil && r.PostFormValue("price") == "" {
		err = fmt.Errorf("%w: set the price", sale.ErrInvalid)
	}
	if err == nil && f.PersonaID != 0 {
		// Another brand's persona is unknown here, as for a chain order.
		if _, err = s.Bot.Persona(r.Context(), c.Tenant.ID, f.PersonaID); errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("%w: unknown persona", sale.ErrInvalid)
		}
	}
	if err == nil {
		f, err = s.Sales.CreateFlash(r.Context(), f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Runner.Wake()
	http.Redirect(w, r, fmt.Sprintf("/console/sales/flash/%d", f.ID), http.StatusSeeOther)
}

func (s *Server) staffFlash(r *http.Request, c *staffCtx) (sale.Flash, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return sale.Flash{}, err
	}
	return s.Sales.Flash(r.Context(), c.Tenant.ID, id)
}

func (s *Server) flashShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	f, err := s.staffFlash(r, c)
	var claims []sale.Claim
	if err == nil {
		claims, err = s.Sales.FlashClaims(r.Context(), c.Tenant.ID, f.ID)
	}
	var groups []community.Group
	if err == nil {
		groups, err = s.Community.Groups(r.Context(), c.Tenant.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	row := flashRows([]sale.Flash{f}, groupNames(groups), time.Now())[0]
	s.render(w, r, "sales_flash", s.staffPage(c, f.Name, "sales", map[string]any{"F": row, "Claims": claims}))
}

// writeCSV answers rows as a UTF-8 CSV download (with the byte-order mark
// spreadsheet programs need to read Chinese text).
func writeCSV(w http.ResponseWriter, name string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	// export.Writer writes the byte order mark and makes every cell safe
	// (formulas, also behind leading spaces, and ";" separators).
	cw, err := export.NewWriter(w)
	if err != nil {
		return
	}
	for _, row := range rows {
		if cw.Write(row...) != nil {
			return
		}
	}
	cw.Flush()
}

// flashCSV exports a sale's winners: number, member, when, how.
func (s *Server) flashCSV(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	f, err := s.staffFlash(r, c)
	var claims []sale.Claim
	if err == nil {
		claims, err = s.Sales.FlashClaims(r.Context(), c.Tenant.ID, f.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := c.Tenant.Location()
	rows := [][]string{{"no", "member_id", "member", "sku", "product", "price", "claimed_at", "via"}}
	for _, cl := range claims {
		rows = append(rows, []string{fmt.Sprint(cl.Seq), fmt.Sprint(cl.MemberID), cl.Name, f.SKU, f.Name, minorDecimal(f.PriceMinor),
			cl.At.In(loc).Format("2006-01-02 15:04:05"), cl.Via})
	}
	writeCSV(w, fmt.Sprintf("flash-%d-winners.csv", f.ID), rows)
}

// minorDecimal writes minor units as a plain decimal ("89.00").
func minorDecimal(m int64) string { return strings.TrimPrefix(sale.Money(m), "¥") }

func (s *Server) flashEnd(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Sales.EndFlashNow(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Runner.Wake()
	http.Redirect(w, r, fmt.Sprintf("/console/sales/flash/%d", id), http.StatusSeeOther)
}

func (s *Server) chainCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	ch := sale.Chain{TenantID: c.Tenant.ID, GroupID: formInt(r, "group"), Title: r.PostFormValue("title"), MaxQty: formInt(r, "max_qty"),
		Target: formInt(r, "target"), PersonaID: formInt(r, "persona"), StaffID: c.Staff.ID}
	var err error
	if ch.Options, err = sale.ParseOptions(r.PostFormValue("options")); err == nil {
		ch.Tiers, err = sale.ParseTiers(r.PostFormValue("tiers"))
	}
	if err == nil {
		ch.ClosesAt, err = formTime(r, "closes_at", c.Tenant.Location())
	}
	if err == nil {
		ch, err = s.Runner.StartChain(r.Context(), ch)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/sales/chains/%d", ch.ID), http.StatusSeeOther)
}

func (s *Server) staffChain(r *http.Request, c *staffCtx) (sale.ChainList, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return sale.ChainList{}, err
	}
	ch, err := s.Sales.Chain(r.Context(), c.Tenant.ID, id)
	if err != nil {
		return sale.ChainList{}, err
	}
	return s.Sales.List(r.Context(), ch)
}

func (s *Server) chainShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	l, err := s.staffChain(r, c)
	var g community.Group
	if err == nil {
		g, err = s.Community.Group(r.Context(), c.Tenant.ID, l.GroupID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "sales_chain", s.staffPage(c, l.Title, "sales", map[string]any{
		"L": l, "Group": g, "Open": l.OpenAt(time.Now()), "Rows": chainRows(l)}))
}

// chainRow is one line of a chain's order list.
type chainRow struct {
	sale.Line
	Label string
	Unit  int64
	Total int64
}

func chainRows(l sale.ChainList) []chainRow {
	out := make([]chainRow, 0, len(l.Lines))
	for _, line := range l.Lines {
		row := chainRow{Line: line, Total: l.Total(line)}
		if line.Option >= 1 && line.Option <= len(l.Options) {
			row.Label, row.Unit = l.Options[line.Option-1].Label, l.Unit[line.Option-1]
		}
		out = append(out, row)
	}
	return out
}

// chainCSV exports the order list: each standing line with its unit price
// at the tier reached (the final tier once closed) and its total.
func (s *Server) chainCSV(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	l, err := s.staffChain(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := c.Tenant.Location()
	rows := [][]string{{"no", "member_id", "member", "option", "qty", "unit_price", "line_total", "at"}}
	for _, row := range chainRows(l) {
		rows = append(rows, []string{fmt.Sprint(row.Pos), fmt.Sprint(row.MemberID), row.Name, row.Label, fmt.Sprint(row.Qty),
			minorDecimal(row.Unit), minorDecimal(row.Total), row.At.In(loc).Format("2006-01-02 15:04:05")})
	}
	writeCSV(w, fmt.Sprintf("chain-%d-orders.csv", l.ID), rows)
}

func (s *Server) chainClose(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Sales.CloseChainNow(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Runner.Wake()
	http.Redirect(w, r, fmt.Sprintf("/console/sales/chains/%d", id), http.StatusSeeOther)
}

func (s *Server) presaleCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	p := sale.Presale{TenantID: c.Tenant.ID, Name: r.PostFormValue("name"), SKU: r.PostFormValue("sku"), Stock: formInt(r, "stock"),
		EarlyDays: int(formInt(r, "early_days")), MinTierRank: int(formInt(r, "min_tier")), StaffID: c.Staff.ID,
		Segment: campaign.Segment{MinPoints: formInt(r, "min_points")}}
	for _, t := range strings.FieldsFunc(r.PostFormValue("tags"), func(r rune) bool { return r == ',' || r == '，' || r == '\n' }) {
		if t = strings.TrimSpace(t); t != "" {
			p.Segment.Tags = append(p.Segment.Tags, t)
		}
	}
	var err error
	if p.PriceMinor, err = sale.ParseMoney(r.PostFormValue("price")); err == nil {
		p.OpensAt, err = formTime(r, "opens_at", c.Tenant.Location())
	}
	if err == nil {
		p, err = s.Sales.CreatePresale(r.Context(), p)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Runner.Wake()
	http.Redirect(w, r, fmt.Sprintf("/console/sales/presales/%d", p.ID), http.StatusSeeOther)
}

func (s *Server) presaleShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	var p sale.Presale
	if err == nil {
		p, err = s.Sales.Presale(r.Context(), c.Tenant.ID, id)
	}
	var rs []sale.Reservation
	if err == nil {
		rs, err = s.Sales.Reservations(r.Context(), c.Tenant.ID, p.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "sales_presale", s.staffPage(c, p.Name, "sales", map[string]any{"P": p, "Reservations": rs}))
}

// Money formats minor units for a page ("¥89.00").
func (p page) Money(minor int64) string { return sale.Money(minor) }
