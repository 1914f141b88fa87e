package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/sale"
	"github.com/liveloop/liveloop/internal/store"
)

// The sales formats in the groups (internal/sale): a flash sale's
// countdown, start ("开抢!" with a claim button) and result, a chain
// order's announcement, its numbered list after changes (at most one
// post per chain every sale.ListEvery while replies keep coming) and its
// final list. Each post is in the transaction that records it (a mark on
// the sale, the chain's listed change, its close) under its own outbox
// key, so however many passes or nodes see it due it is posted once.

// FlashData is the payload of a flash sale's claim button: "flash:<id>".
func FlashData(saleID int64) string { return fmt.Sprintf("flash:%d", saleID) }

// maxListed is how many lines a list post shows (a platform message has
// a size limit); the console and the export have them all.
const maxListed = 100

// openSales reads the group's flash sales and chain orders open at the
// batch's earliest event into the group's state.
func (r *Runner) openSales(ctx context.Context, q store.Querier, gs *groupState, at time.Time) error {
	flashes, err := r.Sales.FlashesIn(ctx, q, gs.group.TenantID, gs.group.ID, at)
	if err != nil {
		return err
	}
	chains, err := r.Sales.ChainsIn(ctx, q, gs.group.TenantID, gs.group.ID, at)
	if err != nil {
		return err
	}
	gs.sales = bot.Sales{}
	for _, f := range flashes {
		gs.sales.Flash = append(gs.sales.Flash, bot.FlashSale{ID: f.ID, Keywords: f.Keywords(), EndsAt: f.EndsAt, PersonaID: f.PersonaID})
	}
	for _, c := range chains {
		labels := make([]string, len(c.Options))
		for i, o := range c.Options {
			labels[i] = o.Label
		}
		gs.sales.Chains = append(gs.sales.Chains, bot.ChainOrder{ID: c.ID, Labels: labels, ClosesAt: c.ClosesAt, PersonaID: c.PersonaID})
	}
	return nil
}

// applySale carries out the sales actions; ok is false for other actions.
// A refusal (not started, sold out, over the limit, closed) is told to
// the member privately, not to the group.
func (r *Runner) applySale(ctx context.Context, tx *store.Tx, t *turn, a bot.Action, key string) (bool, error) {
	if r.Sales == nil {
		return false, nil
	}
	var err error
	var persona int64
	switch a := a.(type) {
	case bot.FlashClaim:
		persona = a.PersonaID
		_, err = r.Sales.ClaimFlashTx(ctx, tx, t.tenant.ID, a.SaleID, t.member.ID, t.group.ID, sale.ViaKeyword, t.e.At)
	case bot.ChainJoin:
		persona = a.PersonaID
		_, err = r.Sales.JoinChainTx(ctx, tx, t.tenant.ID, a.ChainID, t.member.ID, a.Option, a.Qty, fmt.Sprintf("msg:%d", t.e.ID), t.e.At)
	case bot.ChainCancel:
		persona = a.PersonaID
		_, err = r.Sales.CancelChainTx(ctx, tx, t.tenant.ID, a.ChainID, t.member.ID, fmt.Sprintf("msg:%d", t.e.ID), t.e.At)
	default:
		return false, nil
	}
	if err == nil {
		return true, nil
	}
	if text, ok := r.Sales.Refusal(t.lang, t.loc, err); ok {
		return true, r.dm(ctx, tx, t, persona, text, key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return true, nil // deleted since the state was read
	}
	return true, err
}

// pressFlash claims a flash sale by a platform button; it reports whether
// the payload was a flash sale's. The refusal is logged (the member sees
// the live stock in the group's next posts).
func (r *Runner) pressFlash(ctx context.Context, tenantID, memberID int64, data string) bool {
	var id int64
	if _, err := fmt.Sscanf(data, "flash:%d", &id); err != nil || FlashData(id) != data || r.Sales == nil {
		return false
	}
	if _, err := r.Sales.ClaimFlash(ctx, tenantID, id, memberID, 0, sale.ViaButton); err != nil {
		r.Logger.Info("sale: a claim by button refused", "sale", id, "member", memberID, "reason", err)
	}
	r.Wake() // a sell-out is posted at once
	return true
}

// salesPass posts what is due of the sales formats and tells presales'
// early audiences.
func (r *Runner) salesPass(ctx context.Context) error {
	if r.Sales == nil {
		return nil
	}
	now := r.nowFn()
	due, err := r.Sales.FlashesDue(ctx, now, 50)
	if err != nil {
		return err
	}
	for _, d := range due {
		if err := r.announceFlash(ctx, d, now); err != nil {
			r.Logger.Error("sale: flash announcement", "sale", d.ID, "what", d.What, "err", err)
		}
	}
	closing, err := r.Sales.ChainsToClose(ctx, now, 50)
	if err != nil {
		return err
	}
	for _, c := range closing {
		if err := r.postChain(ctx, c, now, true); err != nil {
			r.Logger.Error("sale: chain close", "chain", c.ID, "err", err)
		}
	}
	listing, err := r.Sales.ChainsToList(ctx, now, 50)
	if err != nil {
		return err
	}
	for _, c := range listing {
		if err := r.postChain(ctx, c, now, false); err != nil {
			r.Logger.Error("sale: chain list", "chain", c.ID, "err", err)
		}
	}
	if _, err := r.Sales.TellEarly(ctx, now); err != nil {
		r.Logger.Error("sale: presale early access", "err", err)
	}
	return nil
}

// announceFlash posts a flash sale's countdown, start or result to each
// of its groups, in the transaction that marks it posted.
func (r *Runner) announceFlash(ctx context.Context, d sale.FlashDue, now time.Time) error {
	sp, err := r.speaker(ctx, d.TenantID, d.PersonaID)
	if err != nil {
		return err
	}
	var groups []community.Group
	for _, id := range d.Groups {
		g, err := r.Community.Group(ctx, d.TenantID, id)
		if err != nil {
			r.Logger.Warn("sale: flash group gone", "sale", d.ID, "group", id, "err", err)
			continue
		}
		groups = append(groups, g)
	}
	lang, loc := sp.lang, sp.tenant.Location()
	f := d.Flash
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		done, claims, err := r.Sales.MarkFlashTx(ctx, tx, f, d.What, now)
		if err != nil || !done {
			return err
		}
		var text string
		var buttons []channel.Button
		switch d.What {
		case sale.DueCountdown:
			text = r.Catalog.T(lang, "sale.flash_countdown", f.StartsAt.In(loc).Format("15:04"), f.Name, sale.Money(f.PriceMinor),
				sale.Money(max(f.OriginalMinor, f.PriceMinor)), f.Stock)
		case sale.DueOpen:
			word := ""
			if kw := f.Keywords(); len(kw) > 0 {
				word = kw[0]
			}
			text = r.Catalog.T(lang, "sale.flash_open", f.Name, sale.Money(f.PriceMinor), f.Left(), word)
			buttons = []channel.Button{{Label: r.Catalog.T(lang, "sale.flash_button"), Data: FlashData(f.ID)}}
		case sale.DueResult:
			var b strings.Builder
			b.WriteString(r.Catalog.T(lang, "sale.flash_result", f.Name, len(claims), f.Stock))
			if len(claims) > 0 {
				b.WriteString("\n" + r.Catalog.T(lang, "sale.flash_winners"))
				for i, c := range claims {
					if i == maxListed {
						b.WriteString("\n" + r.Catalog.T(lang, "sale.flash_more", len(claims)-maxListed))
						break
					}
					fmt.Fprintf(&b, "\n%d. %s", c.Seq, c.Name)
				}
			}
			text = b.String()
		}
		for _, g := range groups {
			if _, _, err := r.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: f.TenantID, Channel: g.Channel, GroupID: g.ID,
				SenderName: sp.persona.Name, PersonaID: sp.persona.ID, SenderAvatar: sp.persona.AvatarURL, StaffID: f.StaffID,
				Body: text, Buttons: buttons, IdemKey: fmt.Sprintf("flash:%d:%s:%d", f.ID, d.What, g.ID)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// StartChain stores a chain order and, in the same transaction, posts it
// to the group from its persona: the title, the options with prices, the
// tiers, how to reply and the deadline.
func (r *Runner) StartChain(ctx context.Context, c sale.Chain) (sale.Chain, error) {
	if r.Sales == nil {
		return c, fmt.Errorf("%w: sales are not enabled", sale.ErrInvalid)
	}
	g, err := r.Community.Group(ctx, c.TenantID, c.GroupID)
	if err != nil {
		return c, fmt.Errorf("%w: %v", sale.ErrInvalid, err)
	}
	if _, err := r.persona(ctx, c.TenantID, c.PersonaID); err != nil {
		return c, err
	}
	sp, err := r.speaker(ctx, c.TenantID, c.PersonaID)
	if err != nil {
		return c, err
	}
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		if c, err = r.Sales.CreateChainTx(ctx, tx, c); err != nil {
			return err
		}
		lang := sp.lang
		var b strings.Builder
		b.WriteString(r.Catalog.T(lang, "sale.chain_open", c.Title))
		for i, o := range c.Options {
			fmt.Fprintf(&b, "\n%d. %s %s", i+1, o.Label, sale.Money(o.PriceMinor))
		}
		if len(c.Tiers) > 0 {
			var ts []string
			for _, t := range c.Tiers {
				ts = append(ts, r.Catalog.T(lang, "sale.chain_tier_item", t.Min, sale.Money(t.PriceMinor)))
			}
			b.WriteString("\n" + r.Catalog.T(lang, "sale.chain_tiers", strings.Join(ts, " · ")))
		}
		example := c.Options[len(c.Options)-1].Label
		b.WriteString("\n" + r.Catalog.T(lang, "sale.chain_how", example, c.ClosesAt.In(sp.tenant.Location()).Format("01-02 15:04")))
		if c.Target > 0 {
			b.WriteString(" " + r.Catalog.T(lang, "sale.chain_target", c.Target))
		}
		_, _, err := r.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: c.TenantID, Channel: g.Channel, GroupID: g.ID,
			SenderName: sp.persona.Name, PersonaID: sp.persona.ID, SenderAvatar: sp.persona.AvatarURL, StaffID: c.StaffID,
			Body: b.String(), IdemKey: fmt.Sprintf("chain:%d:open", c.ID)})
		return err
	})
	return c, err
}

// postChain posts a chain's current list (final: closes it and posts the
// final list), in the transaction that records it.
func (r *Runner) postChain(ctx context.Context, c sale.Chain, now time.Time, final bool) error {
	g, err := r.Community.Group(ctx, c.TenantID, c.GroupID)
	if err != nil {
		return err
	}
	sp, err := r.speaker(ctx, c.TenantID, c.PersonaID)
	if err != nil {
		return err
	}
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		var l sale.ChainList
		var done bool
		var err error
		if final {
			l, done, err = r.Sales.CloseChainTx(ctx, tx, c, now)
		} else {
			l, done, err = r.Sales.MarkListedTx(ctx, tx, c, now)
		}
		if err != nil || !done {
			return err
		}
		key := fmt.Sprintf("chain:%d:list:%d", c.ID, l.Rev)
		if final {
			key = fmt.Sprintf("chain:%d:final", c.ID)
		}
		_, _, err = r.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: c.TenantID, Channel: g.Channel, GroupID: g.ID,
			SenderName: sp.persona.Name, PersonaID: sp.persona.ID, SenderAvatar: sp.persona.AvatarURL,
			Body: r.ChainText(sp.lang, l, final), IdemKey: key})
		return err
	})
}

// ChainText renders a chain's numbered list in lang: the head (people,
// units, the price now and the next tier; at the close the total), then
// the standing lines.
func (r *Runner) ChainText(lang string, l sale.ChainList, final bool) string {
	var b strings.Builder
	if final {
		b.WriteString(r.Catalog.T(lang, "sale.chain_final", l.Title, l.Participants, l.Units, sale.Money(l.Sum())))
	} else {
		b.WriteString(r.Catalog.T(lang, "sale.chain_list", l.Title, l.Participants, l.Units))
	}
	var prices []string
	for i, o := range l.Options {
		prices = append(prices, o.Label+" "+sale.Money(l.Unit[i]))
	}
	b.WriteString("\n" + r.Catalog.T(lang, "sale.chain_price_now", strings.Join(prices, " / ")))
	if !final && l.Next.Min > 0 {
		b.WriteString("\n" + r.Catalog.T(lang, "sale.chain_to_next", l.ToNext, sale.Money(l.Next.PriceMinor)))
	}
	for i, line := range l.Lines {
		if i == maxListed {
			b.WriteString("\n" + r.Catalog.T(lang, "sale.flash_more", len(l.Lines)-maxListed))
			break
		}
		label := ""
		if line.Option >= 1 && line.Option <= len(l.Options) {
			label = l.Options[line.Option-1].Label
		}
		fmt.Fprintf(&b, "\n%d. %s %s ×%d", line.Pos, line.Name, label, line.Qty)
	}
	return b.String()
}
