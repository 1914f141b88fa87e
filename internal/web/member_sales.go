package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// flashCard is a flash sale on the chat page: the countdown is the
// browser's, from the server's start time and clock; the server judges
// every claim.
type flashCard struct {
	sale.Flash
	Price    string
	Original string // the price before the sale ("" when not set)
	Clock    string // the time to the start as the page was made
	State    string
	Mine     int64 // units the viewer holds
	StartsMs int64
	NowMs    int64
}

// chainCard is a chain order on the chat page, with the viewer's lines.
type chainCard struct {
	sale.ChainList
	Rows    []chainRow
	Mine    []sale.Line
	Prices  []string     // per option: "label ¥price" at the tier reached
	Choices []optionView // the join buttons
	// One-time ids of the join and cancel forms, made with the page: the
	// same form sent twice (a double click, a resend) is one request.
	JoinOnce, CancelOnce string
}

// saleCards are the group's sales on the chat page.
type saleCards struct {
	Flash  []flashCard
	Chains []chainCard
}

// chatSales returns the group's open flash sales and chain orders for the
// chat page; a failure leaves the cards out (the chat still works) and is
// logged.
func (s *Server) chatSales(ctx context.Context, t tenant.Tenant, groupID, memberID int64) saleCards {
	var out saleCards
	if s.Sales == nil {
		return out
	}
	now := time.Now()
	flashes, err := s.Sales.FlashesIn(ctx, s.DB.R, t.ID, groupID, now)
	if err != nil {
		s.Logger.Warn("web: chat flash sales", "group", groupID, "err", err)
		return out
	}
	for _, f := range flashes {
		mine, err := s.Sales.MemberClaims(ctx, t.ID, f.ID, memberID)
		if err != nil {
			s.Logger.Warn("web: chat flash claims", "sale", f.ID, "err", err)
		}
		card := flashCard{Flash: f, State: f.State(now), Mine: mine, StartsMs: f.StartsAt.UnixMilli(), NowMs: now.UnixMilli(),
			Price: sale.Money(f.PriceMinor), Clock: sale.Countdown(f.StartsAt.Sub(now))}
		if f.OriginalMinor > f.PriceMinor {
			card.Original = sale.Money(f.OriginalMinor)
		}
		out.Flash = append(out.Flash, card)
	}
	chains, err := s.Sales.ChainsIn(ctx, s.DB.R, t.ID, groupID, now)
	if err != nil {
		s.Logger.Warn("web: chat chains", "group", groupID, "err", err)
		return out
	}
	for _, c := range chains {
		l, err := s.Sales.List(ctx, c)
		if err != nil {
			s.Logger.Warn("web: chat chain list", "chain", c.ID, "err", err)
			continue
		}
		card := chainCard{ChainList: l, Rows: chainRows(l), Mine: l.MemberLines(memberID), Prices: chainFrameOf(l, now).Prices,
			JoinOnce: randomID(), CancelOnce: randomID()}
		for i, o := range l.Options {
			card.Choices = append(card.Choices, optionView{N: i + 1, Label: o.Label})
		}
		out.Chains = append(out.Chains, card)
	}
	return out
}

// saleRefused answers a refusal of the sales package with its translated
// reason (409, or 403 for someone outside the group); other errors go to
// fail.
func (s *Server) saleRefused(w http.ResponseWriter, r *http.Request, t tenant.Tenant, err error) {
	lang := s.lang(r, t.Locale)
	text, ok := s.Sales.Refusal(lang, t.Location(), err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	status := http.StatusConflict
	switch {
	case errors.Is(err, store.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, store.ErrInvalid):
		status = http.StatusBadRequest
	}
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": "refused", "message": text})
		return
	}
	s.renderStatus(w, r, status, "error", s.newPage(r, lang, text, map[string]any{"Status": status, "Message": text}))
}

func answerJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// memberFlashClaim claims one unit from the chat card's button.
func (s *Server) memberFlashClaim(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, g, err := s.memberGroup(r)
	if err == nil {
		err = r.ParseForm() // an oversized body is refused, not read as an empty form
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r, "sale")
	var c sale.Claim
	if err == nil {
		c, err = s.Sales.ClaimFlash(r.Context(), mc.Tenant.ID, id, mc.Member.ID, g.ID, sale.ViaWeb)
	}
	if err != nil {
		s.saleRefused(w, r, mc.Tenant, err)
		return
	}
	if c.Left == 0 {
		s.Runner.Wake() // sold out: the result goes to the groups now
	}
	if wantsJSON(r) {
		answerJSON(w, map[string]any{"seq": c.Seq, "left": c.Left, "message": s.Catalog.T(s.lang(r, mc.Tenant.Locale), "sale.card_got")})
		return
	}
	http.Redirect(w, r, chatURL(mc.Tenant, g.ID), http.StatusSeeOther)
}

// memberChainJoin adds a line from the chat card: option × qty. The
// form's one-time id makes a double click one line.
func (s *Server) memberChainJoin(w http.ResponseWriter, r *http.Request) {
	mc, g, ch, ok := s.chatChain(w, r)
	if !ok {
		return
	}
	qty := formInt(r, "qty")
	if qty == 0 {
		qty = 1
	}
	line, err := s.Sales.JoinChain(r.Context(), mc.Tenant.ID, ch.ID, mc.Member.ID, int(formInt(r, "option")), qty, webSrc(mc.Member.ID, r))
	if err != nil {
		s.saleRefused(w, r, mc.Tenant, err)
		return
	}
	if wantsJSON(r) {
		answerJSON(w, map[string]any{"seq": line.Seq, "option": line.Option, "qty": line.Qty})
		return
	}
	http.Redirect(w, r, chatURL(mc.Tenant, g.ID), http.StatusSeeOther)
}

// chatChain reads a chat card's chain request: the member, the group of
// the path and its chain. ok is false when the refusal was written (an
// oversized body is refused, not read as an empty form).
func (s *Server) chatChain(w http.ResponseWriter, r *http.Request) (memberCtx, community.Group, sale.Chain, bool) {
	limitBody(w, r)
	mc, g, err := s.memberGroup(r)
	if err == nil {
		err = r.ParseForm()
	}
	if err != nil {
		s.fail(w, r, err)
		return mc, g, sale.Chain{}, false
	}
	id, err := pathID(r, "chain")
	var ch sale.Chain
	if err == nil {
		ch, err = s.Sales.Chain(r.Context(), mc.Tenant.ID, id)
	}
	if err == nil && ch.GroupID != g.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		s.saleRefused(w, r, mc.Tenant, err)
		return mc, g, ch, false
	}
	return mc, g, ch, true
}

// webSrc names a web request for idempotency: the form's one-time id, or
// a fresh one.
func webSrc(memberID int64, r *http.Request) string {
	once := strings.TrimSpace(r.PostFormValue("once"))
	if len(once) < 8 || len(once) > 64 {
		once = fmt.Sprint(time.Now().UnixNano())
	}
	return fmt.Sprintf("web:%d:%s", memberID, once)
}

// memberChainCancel cancels the member's latest line from the chat card.
func (s *Server) memberChainCancel(w http.ResponseWriter, r *http.Request) {
	mc, g, ch, ok := s.chatChain(w, r)
	if !ok {
		return
	}
	line, err := s.Sales.CancelChain(r.Context(), mc.Tenant.ID, ch.ID, mc.Member.ID, webSrc(mc.Member.ID, r))
	if err != nil {
		s.saleRefused(w, r, mc.Tenant, err)
		return
	}
	if wantsJSON(r) {
		answerJSON(w, map[string]any{"cancelled": line.Seq})
		return
	}
	http.Redirect(w, r, chatURL(mc.Tenant, g.ID), http.StatusSeeOther)
}

// memberPresales lists the presales a member sees, with early access.
func (s *Server) memberPresales(w http.ResponseWriter, r *http.Request) {
	s.renderPresales(w, r, http.StatusOK, "")
}

func (s *Server) renderPresales(w http.ResponseWriter, r *http.Request, status int, problem string) {
	mc, err := s.memberOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Sales.ForMember(r.Context(), mc.Tenant.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r, mc.Tenant.Locale)
	s.renderStatus(w, r, status, "member_presales", s.memberPage(r, mc.Tenant, s.Catalog.T(lang, "sale.m_presales"), map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "Presales": list, "Problem": problem,
	}))
}

// memberReserve reserves a presale; a refusal shows the page again with
// the reason (when it opens for the member).
func (s *Server) memberReserve(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, err := s.memberOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err == nil {
		_, err = s.Sales.Reserve(r.Context(), mc.Tenant.ID, id, mc.Member.ID)
	}
	if err != nil {
		text, ok := s.Sales.Refusal(s.lang(r, mc.Tenant.Locale), mc.Tenant.Location(), err)
		if !ok || wantsJSON(r) {
			s.saleRefused(w, r, mc.Tenant, err)
			return
		}
		s.renderPresales(w, r, http.StatusConflict, text)
		return
	}
	http.Redirect(w, r, "/m/"+mc.Tenant.Slug+"/presales", http.StatusSeeOther)
}

// The live views of the sales on the chat page: a "flash" frame (stock
// left, state) after each claim and at the close, a "chain" frame (the
// list) after each line, cancel and the close. They are recomputed by the
// server's refresher, coalescing bursts.
const (
	refreshFlash = 100 + iota
	refreshChain
)

type flashFrame struct {
	ID      int64  `json:"id"`
	Left    int64  `json:"left"`
	Claimed int64  `json:"claimed"`
	Stock   int64  `json:"stock"`
	State   string `json:"state"`
}

type chainLineFrame struct {
	Pos    int    `json:"pos"`
	Member int64  `json:"member_id"`
	Name   string `json:"name"`
	Label  string `json:"label"`
	Qty    int64  `json:"qty"`
}

type chainFrame struct {
	ID           int64            `json:"id"`
	Participants int64            `json:"participants"`
	Units        int64            `json:"units"`
	Prices       []string         `json:"prices"`
	ToNext       int64            `json:"to_next"`
	NextPrice    string           `json:"next_price,omitempty"`
	Closed       bool             `json:"closed"`
	Lines        []chainLineFrame `json:"lines"`
}

// forwardSale queues the refresh of a sale's card after its events; it
// reports whether e was one of them.
func (s *Server) forwardSale(e event.Event) bool {
	switch e.Type {
	case event.FlashClaimed, event.FlashClosed:
		var d event.SaleData
		if e.Decode(&d) == nil && d.SaleID != 0 {
			s.queueRefresh(refreshFlash, e.TenantID, d.SaleID)
		}
		return true
	case event.ChainJoined, event.ChainCancelled, event.ChainClosed:
		var d event.SaleData
		if e.Decode(&d) == nil && d.ChainID != 0 {
			s.queueRefresh(refreshChain, e.TenantID, d.ChainID)
		}
		return true
	case event.PresaleReserved, event.PresaleEarlyTold:
		return true
	}
	return false
}

// pushSale recomputes and broadcasts a sale's card to its groups.
func (s *Server) pushSale(ctx context.Context, k refresh) {
	if s.Sales == nil {
		return
	}
	now := time.Now()
	switch k.kind {
	case refreshFlash:
		f, err := s.Sales.Flash(ctx, k.tenant, k.id)
		if err != nil {
			return
		}
		b, _ := json.Marshal(map[string]any{"type": "flash", "flash": flashFrame{ID: f.ID, Left: f.Left(), Claimed: f.Claimed, Stock: f.Stock, State: f.State(now)}})
		for _, g := range f.Groups {
			s.Hub.Broadcast(room(k.tenant, g), b)
		}
	case refreshChain:
		c, err := s.Sales.Chain(ctx, k.tenant, k.id)
		if err != nil {
			return
		}
		l, err := s.Sales.List(ctx, c)
		if err != nil {
			s.Logger.Warn("web: chain list", "chain", c.ID, "err", err)
			return
		}
		b, _ := json.Marshal(map[string]any{"type": "chain", "chain": chainFrameOf(l, now)})
		s.Hub.Broadcast(room(k.tenant, c.GroupID), b)
	}
}

func chainFrameOf(l sale.ChainList, now time.Time) chainFrame {
	f := chainFrame{ID: l.ID, Participants: l.Participants, Units: l.Units, ToNext: l.ToNext, Closed: !l.OpenAt(now), Lines: []chainLineFrame{}}
	for i, o := range l.Options {
		f.Prices = append(f.Prices, o.Label+" "+sale.Money(l.Unit[i]))
	}
	if l.Next.Min > 0 {
		f.NextPrice = sale.Money(l.Next.PriceMinor)
	}
	for _, row := range chainRows(l) {
		f.Lines = append(f.Lines, chainLineFrame{Pos: row.Pos, Member: row.MemberID, Name: row.Name, Label: row.Label, Qty: row.Qty})
	}
	return f
}
