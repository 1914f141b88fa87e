package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
	"github.com/liveloop/liveloop/internal/track"
)

// normalizeWish folds a wish to the key that groups similar wishes on the
// demand board: width and case folded, spaces, punctuation and symbols
// (emoji) dropped, and the polite wrappers members add ("想要", "求",
// "希望有") removed — so "求 粉底液！" and "想要粉底液" group together.
// Chinese has no spaces, so grouping is on the folded characters.
func normalizeWish(s string) string {
	s = strings.ToLower(textnorm.Line(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(unicode.ToLower(r))
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	out := b.String()
	for _, p := range []string{"希望有", "希望", "想要", "求求", "求", "想买", "能不能上", "可以上"} {
		out = strings.TrimPrefix(out, p)
	}
	for _, p := range []string{"的链接", "链接", "返场", "吧"} {
		out = strings.TrimSuffix(out, p)
	}
	return out
}

// AddWishTx records a wish (eventID is the message it came from, or 0).
func AddWishTx(ctx context.Context, tx *store.Tx, tenantID, memberID, groupID, eventID int64, text string, at time.Time) error {
	text = textnorm.Line(text)
	if !textnorm.Limit(text, 200) {
		text = string([]rune(text)[:200])
	}
	var ev any
	if eventID != 0 {
		ev = eventID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO wishes (tenant_id, member_id, group_id, text, norm, event_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, tenantID, memberID, nullable(groupID), text, normalizeWish(text), ev, store.Millis(at))
	return err
}

// Demand is one line of the demand board: similar wishes together.
type Demand struct {
	Norm    string
	Sample  string // the most recent wording
	Count   int
	Members int
	Status  string // the most advanced status among them
	Last    time.Time
}

// DemandBoard groups the tenant's wishes, most wished first.
func (s *Store) DemandBoard(ctx context.Context, tenantID int64, limit int) ([]Demand, error) {
	// Statuses rank open < planned < fulfilled; MAX over the strings would
	// rank them alphabetically (so "open" would hide "fulfilled").
	rows, err := s.db.R.QueryContext(ctx, `SELECT norm, MAX(text), COUNT(*), COUNT(DISTINCT member_id),
		MAX(CASE status WHEN 'fulfilled' THEN 3 WHEN 'planned' THEN 2 ELSE 1 END), MAX(at)
		FROM wishes WHERE tenant_id = $1 AND norm <> '' GROUP BY norm ORDER BY COUNT(*) DESC, MAX(at) DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Demand
	for rows.Next() {
		var d Demand
		var last int64
		var rank int
		if err := rows.Scan(&d.Norm, &d.Sample, &d.Count, &d.Members, &rank, &last); err != nil {
			return nil, err
		}
		d.Status = [...]string{"open", "open", "planned", "fulfilled"}[rank]
		d.Last = store.Time(last)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SetWishStatus moves every wish of a line of the demand board to status
// and, for "planned" and "fulfilled", tells each member whose wish moved
// in a private message from the wishlist's persona — in the same
// transaction, so nobody is told twice or about a change that did not
// happen.
func (r *Runner) SetWishStatus(ctx context.Context, tenantID int64, norm, status string) error {
	if status != "open" && status != "planned" && status != "fulfilled" {
		return store.ErrInvalid
	}
	sp, err := r.speaker(ctx, tenantID, r.wishPersona(ctx, tenantID))
	if err != nil {
		return err
	}
	type wisher struct {
		member int64
		text   string
		ch     string
	}
	rows, err := r.DB.R.QueryContext(ctx, `SELECT w.member_id, MAX(w.text), MAX(COALESCE(g.channel, ''))
		FROM wishes w LEFT JOIN community_groups g ON g.id = w.group_id AND g.tenant_id = w.tenant_id
		WHERE w.tenant_id = $1 AND w.norm = $2 AND w.status <> $3 GROUP BY w.member_id`, tenantID, norm, status)
	if err != nil {
		return err
	}
	wishers, err := store.Collect(rows, func(s interface{ Scan(...any) error }) (wisher, error) {
		var w wisher
		return w, s.Scan(&w.member, &w.text, &w.ch)
	})
	if err != nil {
		return err
	}
	lang, persona := sp.lang, sp.persona
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE wishes SET status = $3 WHERE tenant_id = $1 AND norm = $2`, tenantID, norm, status)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if status == "open" {
			return nil
		}
		for _, w := range wishers {
			ch := w.ch
			if ch == "" {
				ch = "web"
			}
			if _, _, err := r.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: tenantID, Channel: ch, MemberID: w.member,
				SenderName: persona.Name, PersonaID: persona.ID, SenderAvatar: persona.AvatarURL,
				Body:    r.Catalog.T(lang, "bot.wish_"+status, w.text),
				IdemKey: fmt.Sprintf("wish:%s:%s:%d", shortHash(norm), status, w.member)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// wishPersona is the persona of the tenant's first wishlist rule (0:
// none).
func (r *Runner) wishPersona(ctx context.Context, tenantID int64) int64 {
	rules, err := r.Store.Rules(ctx, tenantID)
	if err != nil {
		return 0
	}
	for _, rule := range rules {
		if rule.Kind == bot.KindWishlist {
			return rule.PersonaID
		}
	}
	return 0
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// remindWishes posts the wishlist reminders that are due, once per rule,
// group and slot (the outbox key), in every tenant.
func (r *Runner) remindWishes(ctx context.Context) error {
	now := r.nowFn()
	rows, err := r.DB.R.QueryContext(ctx, `SELECT tenant_id, id, COALESCE(group_id, 0), persona_id, config FROM bot_rules
		WHERE kind = 'wishlist' AND enabled`)
	if err != nil {
		return err
	}
	type due struct {
		tenant, rule, group, persona int64
		slot                         string
	}
	type row struct {
		tenant, rule, group, persona int64
		cfg                          string
	}
	all, err := store.Collect(rows, func(s interface{ Scan(...any) error }) (row, error) {
		var x row
		return x, s.Scan(&x.tenant, &x.rule, &x.group, &x.persona, &x.cfg)
	})
	if err != nil {
		return err
	}
	var todo []due
	for _, x := range all {
		var rule bot.Rule
		if json.Unmarshal([]byte(x.cfg), &rule) != nil || rule.Wishlist == nil || len(rule.Wishlist.Reminders) == 0 {
			continue
		}
		tn, err := r.Tenants.Get(ctx, x.tenant)
		if err != nil {
			continue
		}
		if slot, ok := rule.Wishlist.DueReminder(now, tn.Location()); ok {
			todo = append(todo, due{x.tenant, x.rule, x.group, x.persona, slot})
		}
	}
	for _, d := range todo {
		if err := r.postReminder(ctx, d.tenant, d.rule, d.group, d.persona, d.slot); err != nil {
			r.Logger.Error("bot: wish reminder", "tenant", d.tenant, "rule", d.rule, "err", err)
		}
	}
	return nil
}

func (r *Runner) postReminder(ctx context.Context, tenantID, ruleID, groupID, personaID int64, slot string) error {
	sp, err := r.speaker(ctx, tenantID, personaID)
	if err != nil {
		return err
	}
	groups, err := r.Community.Groups(ctx, tenantID)
	if err != nil {
		return err
	}
	tn, lang, p := sp.tenant, sp.lang, sp.persona
	text := r.Catalog.T(lang, "bot.wish_reminder")
	if r.PublicURL != "" {
		text += "\n" + r.PublicURL + "/m/" + tn.Slug + "/wishes"
	}
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, g := range groups {
			if (groupID != 0 && g.ID != groupID) || !g.ArchivedAt.IsZero() {
				continue
			}
			it := outbox.Item{TenantID: tenantID, Channel: g.Channel, GroupID: g.ID,
				SenderName: p.Name, PersonaID: p.ID, SenderAvatar: p.AvatarURL, Body: text,
				IdemKey: fmt.Sprintf("wishremind:%d:%d:%s", ruleID, g.ID, slot)}
			if err := r.trackLinks(ctx, tx, &it, track.Spec{Kind: track.KindOther}); err != nil {
				return err
			}
			if _, _, err := r.Outbox.EnqueueTx(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
}

// MemberWish is one of a member's wishes, for their wishlist page.
type MemberWish struct {
	Text   string
	Status string
	At     time.Time
}

// MemberWishes returns a member's wishes, newest first.
func (s *Store) MemberWishes(ctx context.Context, tenantID, memberID int64, limit int) ([]MemberWish, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT text, status, at FROM wishes WHERE tenant_id = $1 AND member_id = $2
		ORDER BY at DESC, id DESC LIMIT $3`, tenantID, memberID, limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(sc interface{ Scan(...any) error }) (MemberWish, error) {
		var w MemberWish
		var at int64
		err := sc.Scan(&w.Text, &w.Status, &at)
		w.At = store.Time(at)
		return w, err
	})
}
