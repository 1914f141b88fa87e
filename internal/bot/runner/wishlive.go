package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
)

// Wish → live → notify (seed 004): when a product that members wished for
// is put on a live's list, each wisher is told privately, before the show,
// when it is on and at which price — in the transaction that adds the
// product, so a list saved and rolled back tells nobody, and the notice's
// key (live, product, member) tells nobody twice.

// WishMatches reports whether a wish (its demand-board key) is about the
// product: the product's folded name contains the wish ("粉底液" in
// "水光粉底液 30ml"), or a wish names the product more fully than its
// short name. A one-character key matches nothing: too loose.
func WishMatches(wishNorm, productName string) bool {
	pn := normalizeWish(productName)
	if utf8.RuneCountInString(wishNorm) < 2 || pn == "" {
		return false
	}
	return strings.Contains(pn, wishNorm) || (utf8.RuneCountInString(pn) >= 2 && strings.Contains(wishNorm, pn))
}

// WishesMeetLive is the live service's products hook: it tells the
// members whose open wishes match the added products and marks those
// wishes planned.
func (r *Runner) WishesMeetLive(ctx context.Context, tx *store.Tx, l live.Live, added []live.Product) error {
	type wish struct {
		member int64
		norm   string
		text   string
	}
	rows, err := tx.QueryContext(ctx, `SELECT member_id, norm, MAX(text) FROM wishes
		WHERE tenant_id = $1 AND norm <> '' AND status <> 'fulfilled' GROUP BY member_id, norm ORDER BY member_id, norm`, l.TenantID)
	if err != nil {
		return err
	}
	wishes, err := store.Collect(rows, func(sc interface{ Scan(...any) error }) (wish, error) {
		var w wish
		return w, sc.Scan(&w.member, &w.norm, &w.text)
	})
	if err != nil || len(wishes) == 0 {
		return err
	}
	sp, err := r.speakerTx(ctx, tx, l.TenantID)
	if err != nil {
		return err
	}
	loc := sp.tenant.Location()
	for _, p := range added {
		for _, w := range wishes {
			if !WishMatches(w.norm, p.Name) {
				continue
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO wish_live_notices (tenant_id, live_id, product_id, member_id, norm, at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, l.TenantID, l.ID, p.ID, w.member, w.norm, store.Millis(r.nowFn()))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE wishes SET status = 'planned' WHERE tenant_id = $1 AND member_id = $2 AND norm = $3 AND status = 'open'`,
				l.TenantID, w.member, w.norm); err != nil {
				return err
			}
			lang, err := r.memberLang(ctx, tx, l.TenantID, w.member, sp.lang)
			if err != nil {
				return err
			}
			key := "wish.live_notice"
			if l.State == live.StateLive {
				key = "wish.live_notice_now"
			}
			body := r.Catalog.T(lang, key, w.text, l.ScheduledAt.In(loc).Format("01-02 15:04"), l.Title, p.Name, money(p.LivePrice), r.LiveURL(sp.tenant, l.ID))
			if err := r.privately(ctx, tx, l.TenantID, w.member, sp, fmt.Sprintf("wishlive:%d:%d:%d", l.ID, p.ID, w.member), body); err != nil {
				return err
			}
		}
	}
	return nil
}

// speakerTx is the wishlist's speaker (speaker with wishPersona) read
// through the hook's transaction: a read from the pool while the
// transaction holds a connection could wait for ever once saves like it
// hold them all (PostgreSQL).
func (r *Runner) speakerTx(ctx context.Context, q store.Querier, tenantID int64) (speaker, error) {
	var sp speaker
	var created int64
	t := &sp.tenant
	err := q.QueryRowContext(ctx, `SELECT id, slug, name, timezone, locale, created_at FROM tenants WHERE id = $1`, tenantID).
		Scan(&t.ID, &t.Slug, &t.Name, &t.Timezone, &t.Locale, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return sp, store.ErrNotFound
	} else if err != nil {
		return sp, err
	}
	t.CreatedAt = store.Time(created)
	sp.lang = r.Catalog.Pick("", t.Locale)
	var persona int64
	err = q.QueryRowContext(ctx, `SELECT persona_id FROM bot_rules WHERE tenant_id = $1 AND kind = $2 ORDER BY id LIMIT 1`,
		tenantID, string(bot.KindWishlist)).Scan(&persona)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return sp, err
	}
	if persona != 0 {
		var role string
		p := &sp.persona
		err := q.QueryRowContext(ctx, `SELECT id, name, avatar_url, role FROM personas WHERE tenant_id = $1 AND id = $2`, tenantID, persona).
			Scan(&p.ID, &p.Name, &p.AvatarURL, &role)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return sp, err
		}
		p.Role = bot.Role(role)
	}
	if sp.persona.Name == "" {
		sp.persona.Name = r.Catalog.T(sp.lang, "bot.default_persona")
	}
	return sp, nil
}

// OfferResale stores a re-sale of a sold-out product and tells exactly the
// members who asked to be told when it is back, in one transaction. It
// returns the re-sale and how many were told.
func (r *Runner) OfferResale(ctx context.Context, rs live.Resale) (live.Resale, int, error) {
	if r.Lives == nil {
		return rs, 0, errors.New("runner: no live service")
	}
	l, err := r.Lives.Head(ctx, rs.TenantID, rs.LiveID)
	if err != nil {
		return rs, 0, err
	}
	p, err := r.Lives.Product(ctx, rs.TenantID, rs.LiveID, rs.ProductID)
	if err != nil {
		return rs, 0, err
	}
	sp, err := r.speaker(ctx, rs.TenantID, l.Alert.PersonaID)
	if err != nil {
		return rs, 0, err
	}
	told := 0
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		var members []int64
		var err error
		if rs, members, err = r.Lives.CreateResaleTx(ctx, tx, rs); err != nil {
			return err
		}
		url := fmt.Sprintf("%s/m/%s/resales/%d", r.PublicURL, sp.tenant.Slug, rs.ID)
		closes := rs.ClosesAt.In(sp.tenant.Location()).Format("01-02 15:04")
		for _, m := range members {
			lang, err := r.memberLang(ctx, tx, rs.TenantID, m, sp.lang)
			if err != nil {
				return err
			}
			body := r.Catalog.T(lang, "wish.resale_offer", p.Name, rs.Quantity, money(rs.Price), closes, url)
			if rs.Note != "" {
				body += "\n" + rs.Note
			}
			if err := r.privately(ctx, tx, rs.TenantID, m, sp, fmt.Sprintf("resale:%d:m%d", rs.ID, m), body); err != nil {
				return err
			}
			told++
		}
		return nil
	})
	return rs, told, err
}

// memberLang is the member's language if the catalogue has it, else def.
func (r *Runner) memberLang(ctx context.Context, q store.Querier, tenantID, memberID int64, def string) (string, error) {
	loc, err := notify.LocaleTx(ctx, q, tenantID, memberID)
	if err != nil {
		return "", err
	}
	return r.Catalog.Pick("", def, loc), nil
}

// privately queues a private message from the speaker's persona; a member the
// brand cannot reach privately is logged and skipped, not an error of the
// whole change.
func (r *Runner) privately(ctx context.Context, tx *store.Tx, tenantID, memberID int64, sp speaker, key, body string) error {
	ch, err := notify.ChannelTx(ctx, tx, tenantID, memberID)
	if errors.Is(err, store.ErrInvalid) {
		r.Logger.Info("bot: member unreachable privately", "tenant", tenantID, "member", memberID, "key", key, "reason", err)
		return nil
	}
	if err != nil {
		return err
	}
	_, _, err = r.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: tenantID, Channel: ch, MemberID: memberID,
		SenderName: sp.persona.Name, PersonaID: sp.persona.ID, SenderAvatar: sp.persona.AvatarURL, Body: body, IdemKey: key})
	return err
}
