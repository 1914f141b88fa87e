package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
	"github.com/liveloop/liveloop/internal/track"
)

// The live loop's messages to the groups: the start alerts (repeated at
// the live's interval until it ends), "now live: X" on a product switch,
// and the recap at the end. Each state change and its messages are one
// transaction, and every message has its own outbox key, so a live
// started twice alerts once and a recap is posted once per group.

// LiveURL is the member-facing live room of a live.
func (r *Runner) LiveURL(t tenant.Tenant, liveID int64) string {
	return fmt.Sprintf("%s/l/%s/%d", r.PublicURL, t.Slug, liveID)
}

// liveSpeaker is who speaks for a live, in the tenant's language, and to
// which groups (read before the transaction that sends).
type liveSpeaker struct {
	speaker
	groups []community.Group
}

func (r *Runner) liveSpeaker(ctx context.Context, l live.Live) (liveSpeaker, error) {
	s, err := r.speaker(ctx, l.TenantID, l.Alert.PersonaID)
	if err != nil {
		return liveSpeaker{}, err
	}
	sp := liveSpeaker{speaker: s}
	for _, gid := range l.Alert.Groups {
		g, err := r.Community.Group(ctx, l.TenantID, gid)
		if err != nil {
			r.Logger.Warn("live: alert group gone", "live", l.ID, "group", gid, "err", err)
			continue
		}
		sp.groups = append(sp.groups, g)
	}
	return sp, nil
}

// toGroups queues text to each of the live's alert groups under key(group),
// its links tracked as link says (the live, the group and the key are
// filled in).
func (r *Runner) toGroups(ctx context.Context, tx *store.Tx, l live.Live, sp liveSpeaker, text string, link track.Spec, key func(group int64) string) error {
	return r.cardToGroups(ctx, tx, l, sp, text, nil, link, key)
}

// cardToGroups is toGroups with a card (LINE shows it as a Flex bubble,
// the text as its alternative; other channels send the text).
func (r *Runner) cardToGroups(ctx context.Context, tx *store.Tx, l live.Live, sp liveSpeaker, text string, card *channel.Card, link track.Spec, key func(group int64) string) error {
	link.LiveID = l.ID
	for _, g := range sp.groups {
		it := outbox.Item{TenantID: l.TenantID, Channel: g.Channel, GroupID: g.ID,
			SenderName: sp.persona.Name, PersonaID: sp.persona.ID, SenderAvatar: sp.persona.AvatarURL,
			Body: text, Card: card, IdemKey: key(g.ID)}
		if err := r.trackLinks(ctx, tx, &it, link); err != nil {
			return err
		}
		if _, _, err := r.Outbox.EnqueueTx(ctx, tx, it); err != nil {
			return err
		}
	}
	return nil
}

// trackLinks makes the links of a message tracked links, in the
// transaction that queues it (without Track they go as they are).
func (r *Runner) trackLinks(ctx context.Context, tx *store.Tx, it *outbox.Item, link track.Spec) error {
	if r.Track == nil {
		return nil
	}
	return r.Track.ItemTx(ctx, tx, it, link)
}

// alertLink is how the live's posts pointing at the room are tracked.
var alertLink = track.Spec{Kind: track.KindAlert}

func (r *Runner) alertText(sp liveSpeaker, l live.Live) string {
	return r.Catalog.T(sp.lang, "bot.live_alert", l.Title, r.LiveURL(sp.tenant, l.ID))
}

// liveTx loads a live and who speaks for it (outside the transaction),
// then runs fn in one transaction: a change of the live and its messages
// to the groups commit together.
func (r *Runner) liveTx(ctx context.Context, tenantID, liveID int64, fn func(tx *store.Tx, l live.Live, sp liveSpeaker) error) error {
	l, err := r.Lives.Get(ctx, tenantID, liveID)
	if err != nil {
		return err
	}
	sp, err := r.liveSpeaker(ctx, l)
	if err != nil {
		return err
	}
	return r.DB.InTx(ctx, func(tx *store.Tx) error { return fn(tx, l, sp) })
}

// StartLive starts a live and sends its first alert to the groups, in one
// transaction; starting a live that is on air changes nothing.
func (r *Runner) StartLive(ctx context.Context, tenantID, liveID int64) (l live.Live, started bool, err error) {
	err = r.liveTx(ctx, tenantID, liveID, func(tx *store.Tx, _ live.Live, sp liveSpeaker) error {
		var err error
		if l, started, err = r.Lives.StartTx(ctx, tx, tenantID, liveID, r.nowFn()); err != nil || !started {
			return err
		}
		if r.OnLive != nil {
			if err := r.OnLive(ctx, tx, tenantID, liveID, false); err != nil {
				return err
			}
		}
		return r.toGroups(ctx, tx, l, sp, r.alertText(sp, l), alertLink, func(g int64) string { return live.AlertKey(l.ID, 1, g) })
	})
	if err == nil && started {
		r.Wake()
	}
	return l, started, err
}

// EndLive ends a live and posts the recap (products with their final
// stock) to the groups.
func (r *Runner) EndLive(ctx context.Context, tenantID, liveID int64) (l live.Live, ended bool, err error) {
	err = r.liveTx(ctx, tenantID, liveID, func(tx *store.Tx, _ live.Live, sp liveSpeaker) error {
		var err error
		if l, ended, err = r.Lives.EndTx(ctx, tx, tenantID, liveID, r.nowFn()); err != nil || !ended {
			return err
		}
		if l, err = r.Lives.GetIn(ctx, tx, tenantID, liveID); err != nil {
			return err
		}
		if r.OnLive != nil {
			if err := r.OnLive(ctx, tx, tenantID, liveID, true); err != nil {
				return err
			}
		}
		return r.toGroups(ctx, tx, l, sp, r.recapText(sp, live.Recap(l)), alertLink, func(g int64) string { return live.RecapKey(l.ID, g) })
	})
	return l, ended, err
}

func (r *Runner) recapText(sp liveSpeaker, rc live.RecapData) string {
	var b strings.Builder
	b.WriteString(r.Catalog.T(sp.lang, "bot.live_recap", rc.Title, int(rc.Duration.Round(time.Minute).Minutes())))
	for _, p := range rc.Products {
		fmt.Fprintf(&b, "\n%d. %s %s", p.Position, p.Name, money(p.LivePrice))
		if p.SoldOut() {
			b.WriteString(" · " + r.Catalog.T(sp.lang, "bot.live_sold_out"))
		}
	}
	b.WriteString("\n" + r.Catalog.T(sp.lang, "bot.live_recap_after"))
	return b.String()
}

// SwitchLiveProduct puts a product of the live on show and tells the
// groups: "now live: X, live price Y, Z left".
func (r *Runner) SwitchLiveProduct(ctx context.Context, tenantID, liveID, productID int64) (p live.Product, changed bool, err error) {
	err = r.liveTx(ctx, tenantID, liveID, func(tx *store.Tx, l live.Live, sp liveSpeaker) error {
		var err error
		if p, changed, err = r.Lives.SwitchProductTx(ctx, tx, tenantID, liveID, productID, r.nowFn()); err != nil || !changed {
			return err
		}
		text := r.Catalog.T(sp.lang, "bot.live_product", p.Name, money(p.LivePrice), money(p.Price), p.Stock, r.LiveURL(sp.tenant, l.ID))
		card := &channel.Card{Title: p.Name, Price: money(p.LivePrice), Subtitle: r.Catalog.T(sp.lang, "bot.live_card_left", p.Stock),
			ButtonLabel: r.Catalog.T(sp.lang, "bot.live_card_button"), ButtonURL: r.LiveURL(sp.tenant, l.ID)}
		if strings.HasPrefix(p.CoverURL, "https://") {
			card.ImageURL = p.CoverURL
		}
		// A product may be shown again later: the key counts the switch.
		n := time.Now().UnixNano()
		link := track.Spec{Kind: track.KindProduct, ProductID: p.ID}
		return r.cardToGroups(ctx, tx, l, sp, text, card, link, func(g int64) string { return fmt.Sprintf("live:%d:product:%d:%d:%d", l.ID, p.ID, g, n) })
	})
	return p, changed, err
}

// money shows minor units as a price ("¥99.90" style without a currency:
// the brand's currency is in the product names it writes).
func money(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

// liveAlerts sends the repeated start alerts that are due. After an
// outage only the latest due alert goes out (a burst of stale alerts would
// be noise); each has its own outbox key, so none is ever sent twice.
func (r *Runner) liveAlerts(ctx context.Context) error {
	if r.Lives == nil {
		return nil
	}
	now := r.nowFn()
	onAir, err := r.Lives.OnAir(ctx, 100)
	if err != nil {
		return err
	}
	for _, l := range onAir {
		due := live.AlertsDue(l, now)
		if len(due) == 0 {
			continue
		}
		n := due[len(due)-1]
		sp, err := r.liveSpeaker(ctx, l)
		if err != nil {
			return err
		}
		err = r.DB.InTx(ctx, func(tx *store.Tx) error {
			return r.toGroups(ctx, tx, l, sp, r.alertText(sp, l), alertLink, func(g int64) string { return live.AlertKey(l.ID, n, g) })
		})
		if err != nil {
			r.Logger.Error("live: alert", "live", l.ID, "n", n, "err", err)
		}
	}
	return nil
}

// UpdateLiveStock sets a product's stock and, when it is the product on
// show during the live, tells the groups how many are left (seed 000's
// "库存只剩一半了" — scarcity brings people in).
func (r *Runner) UpdateLiveStock(ctx context.Context, tenantID, liveID, productID, stock int64) (live.Product, error) {
	p, err := r.Lives.UpdateStock(ctx, tenantID, liveID, productID, stock)
	if err != nil {
		return p, err
	}
	l, err := r.Lives.Get(ctx, tenantID, liveID)
	if err != nil || l.State != live.StateLive || l.CurrentProductID != productID {
		return p, err
	}
	sp, err := r.liveSpeaker(ctx, l)
	if err != nil {
		return p, err
	}
	text := r.Catalog.T(sp.lang, "bot.live_stock", p.Name, p.Stock, r.LiveURL(sp.tenant, l.ID))
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		link := track.Spec{Kind: track.KindProduct, ProductID: p.ID}
		return r.toGroups(ctx, tx, l, sp, text, link, func(g int64) string { return fmt.Sprintf("live:%d:stock:%d:%d:%d", l.ID, p.ID, p.Stock, g) })
	})
	return p, err
}

// DropData is the payload of a coupon drop's claim button: "drop:<id>".
func DropData(dropID int64) string { return fmt.Sprintf("drop:%d", dropID) }

// AnnounceDrop tells the live's groups about a coupon drop, with a claim
// button where the channel shows buttons (a member's press claims one, at
// most one each) and the live room's link for the rest.
func (r *Runner) AnnounceDrop(ctx context.Context, d live.Drop) error {
	return r.liveTx(ctx, d.TenantID, d.LiveID, func(tx *store.Tx, l live.Live, sp liveSpeaker) error {
		text := r.Catalog.T(sp.lang, "bot.live_drop", d.Title, d.Quantity, d.ClosesAt.In(sp.tenant.Location()).Format("15:04"), r.LiveURL(sp.tenant, l.ID))
		for _, g := range sp.groups {
			it := outbox.Item{TenantID: l.TenantID, Channel: g.Channel, GroupID: g.ID,
				SenderName: sp.persona.Name, PersonaID: sp.persona.ID, SenderAvatar: sp.persona.AvatarURL, Body: text,
				Buttons: []channel.Button{{Label: r.Catalog.T(sp.lang, "bot.live_drop_claim"), Data: DropData(d.ID)}},
				IdemKey: fmt.Sprintf("live:%d:drop:%d:%d", l.ID, d.ID, g.ID)}
			if err := r.trackLinks(ctx, tx, &it, track.Spec{Kind: track.KindCoupon, LiveID: l.ID}); err != nil {
				return err
			}
			if _, _, err := r.Outbox.EnqueueTx(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
}

// PressButton handles a platform button that is not a poll vote: a flash
// sale's claim (sale.go) or a coupon drop's. It reports whether the
// payload was one of them.
func (r *Runner) PressButton(ctx context.Context, tenantID, memberID int64, data string) bool {
	if r.pressFlash(ctx, tenantID, memberID, data) {
		return true
	}
	var dropID int64
	if _, err := fmt.Sscanf(data, "drop:%d", &dropID); err != nil || DropData(dropID) != data || r.Lives == nil {
		return false
	}
	if _, err := r.Lives.Claim(ctx, tenantID, dropID, memberID); err != nil {
		r.Logger.Info("live: a claim by button refused", "drop", dropID, "member", memberID, "reason", err)
	}
	return true
}
