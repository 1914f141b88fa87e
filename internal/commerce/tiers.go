package commerce

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Basis is what a tier's threshold counts.
type Basis string

const (
	// BasisSpend is the net spend (amount less refunds, minor units) of
	// the orders paid within the tier's window, up to now.
	BasisSpend Basis = "spend"
	// BasisPoints is the points the member has earned in all (checking in,
	// taking part: loyalty's earned total). Not the balance: spending
	// points on a reward must not cost a member their tier.
	BasisPoints Basis = "points"
)

// Limits of a tier.
const (
	MaxTiers          = 10
	MaxTierNameRunes  = 30
	MaxWindowDays     = 3650
	MaxPresaleDays    = 365
	MaxTierBenefitIDs = 20
)

// Tier is a level of membership with its benefits.
type Tier struct {
	ID             int64
	TenantID       int64
	Name           string
	Rank           int // 0 is the base tier
	Basis          Basis
	Threshold      int64 // minor units (spend) or points
	WindowDays     int   // the rolling window of spend
	DiscountPct    int   // 5: 5 % off (95折)
	CouponBatchIDs []int64
	VIPGroupIDs    []int64
	PresaleDays    int
	AgentStaffID   int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Zhe is the discount as Chinese shops write it: 5 % off is 95折, 10 % off 9折.
func (t Tier) Zhe() string {
	if t.DiscountPct <= 0 {
		return ""
	}
	pay := 100 - t.DiscountPct
	if pay%10 == 0 {
		return fmt.Sprint(pay / 10)
	}
	return fmt.Sprint(pay)
}

// ValidateTier normalises t and lists what is wrong with it alone.
func ValidateTier(t *Tier) []string {
	t.Name = textnorm.Line(t.Name)
	var out []string
	switch {
	case t.Name == "":
		out = append(out, "tier name is empty")
	case !textnorm.Limit(t.Name, MaxTierNameRunes):
		out = append(out, fmt.Sprintf("tier name is longer than %d characters", MaxTierNameRunes))
	}
	if t.Rank < 0 || t.Rank >= MaxTiers {
		out = append(out, fmt.Sprintf("rank must be 0 to %d", MaxTiers-1))
	}
	if t.Basis != BasisSpend && t.Basis != BasisPoints {
		out = append(out, "basis must be spend or points")
	}
	switch {
	case t.Threshold < 0:
		out = append(out, "threshold cannot be negative")
	case t.Rank == 0 && t.Threshold != 0:
		out = append(out, "the base tier (rank 0) has threshold 0")
	case t.Rank > 0 && t.Threshold == 0:
		out = append(out, "a tier above the base needs a threshold above 0")
	}
	if t.Basis == BasisSpend && (t.WindowDays < 1 || t.WindowDays > MaxWindowDays) {
		out = append(out, fmt.Sprintf("the spend window is 1 to %d days", MaxWindowDays))
	}
	if t.Basis == BasisPoints {
		t.WindowDays = 0
	}
	if t.DiscountPct < 0 || t.DiscountPct > 50 {
		out = append(out, "discount is 0 to 50 %")
	}
	if t.PresaleDays < 0 || t.PresaleDays > MaxPresaleDays {
		out = append(out, fmt.Sprintf("early access is 0 to %d days", MaxPresaleDays))
	}
	for _, ids := range [][]int64{t.CouponBatchIDs, t.VIPGroupIDs} {
		if len(ids) > MaxTierBenefitIDs || slices.ContainsFunc(ids, func(v int64) bool { return v <= 0 }) {
			out = append(out, fmt.Sprintf("coupon bundles and VIP groups: at most %d valid ids", MaxTierBenefitIDs))
			break
		}
	}
	t.CouponBatchIDs, t.VIPGroupIDs = uniq(t.CouponBatchIDs), uniq(t.VIPGroupIDs)
	if t.AgentStaffID < 0 {
		out = append(out, "agent is not valid")
	}
	return out
}

func uniq(ids []int64) []int64 {
	out := []int64{}
	for _, v := range ids {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ValidateLadder checks the tenant's tiers together: one tier per rank, a
// base tier (rank 0), and thresholds increasing with rank among the tiers
// of one basis.
func ValidateLadder(tiers []Tier) []string {
	var out []string
	sorted := slices.Clone(tiers)
	slices.SortFunc(sorted, func(a, b Tier) int { return a.Rank - b.Rank })
	if len(sorted) > 0 && sorted[0].Rank != 0 {
		out = append(out, "the ladder needs a base tier of rank 0 (add it first)")
	}
	if len(sorted) > MaxTiers {
		out = append(out, fmt.Sprintf("at most %d tiers", MaxTiers))
	}
	last := map[Basis]Tier{}
	for i, t := range sorted {
		if i > 0 && sorted[i-1].Rank == t.Rank {
			out = append(out, fmt.Sprintf("two tiers have rank %d", t.Rank))
			continue
		}
		if t.Rank == 0 {
			continue
		}
		if prev, ok := last[t.Basis]; ok && t.Threshold <= prev.Threshold {
			out = append(out, fmt.Sprintf("%s (rank %d) needs a threshold above %s's (rank %d)", t.Name, t.Rank, prev.Name, prev.Rank))
		}
		last[t.Basis] = t
	}
	return out
}

// SaveTier creates t (ID 0) or updates it, after checking it alone and
// within the tenant's ladder; the agent must be the brand's staff and the
// VIP groups the brand's groups.
func (s *Service) SaveTier(ctx context.Context, t Tier) (Tier, error) {
	problems := ValidateTier(&t)
	now := s.now().UTC()
	t.UpdatedAt = now
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ladder, err := tiersOf(ctx, tx, t.TenantID)
		if err != nil {
			return err
		}
		found := t.ID == 0
		for i := range ladder {
			if ladder[i].ID == t.ID {
				ladder[i], found = t, true
			}
		}
		if !found {
			return store.ErrNotFound
		}
		if t.ID == 0 {
			ladder = append(ladder, t)
		}
		problems = append(problems, ValidateLadder(ladder)...)
		if t.AgentStaffID > 0 {
			if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM staff WHERE tenant_id = $1 AND id = $2`, t.TenantID, t.AgentStaffID); err != nil {
				return err
			} else if !ok {
				problems = append(problems, "the agent is not one of your staff")
			}
		}
		for _, g := range t.VIPGroupIDs {
			if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2`, t.TenantID, g); err != nil {
				return err
			} else if !ok {
				problems = append(problems, fmt.Sprintf("group %d is not one of your groups", g))
			}
		}
		if len(problems) > 0 {
			return invalid("%s", strings.Join(problems, "; "))
		}
		coupons, _ := json.Marshal(t.CouponBatchIDs)
		groups, _ := json.Marshal(t.VIPGroupIDs)
		if t.ID == 0 {
			t.CreatedAt = now
			return tx.QueryRowContext(ctx, `INSERT INTO tiers (tenant_id, name, rank, basis, threshold, window_days, discount_pct, coupon_batch_ids,
				vip_group_ids, presale_days, agent_staff_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id`,
				t.TenantID, t.Name, t.Rank, string(t.Basis), t.Threshold, t.WindowDays, t.DiscountPct, string(coupons), string(groups),
				t.PresaleDays, t.AgentStaffID, store.Millis(now)).Scan(&t.ID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE tiers SET name = $3, rank = $4, basis = $5, threshold = $6, window_days = $7, discount_pct = $8,
			coupon_batch_ids = $9, vip_group_ids = $10, presale_days = $11, agent_staff_id = $12, updated_at = $13 WHERE tenant_id = $1 AND id = $2`,
			t.TenantID, t.ID, t.Name, t.Rank, string(t.Basis), t.Threshold, t.WindowDays, t.DiscountPct, string(coupons), string(groups),
			t.PresaleDays, t.AgentStaffID, store.Millis(now))
		return err
	})
	if store.IsUniqueViolation(err) {
		return t, fmt.Errorf("commerce: %w: another tier has rank %d", store.ErrConflict, t.Rank)
	}
	return t, err
}

const tierCols = `id, tenant_id, name, rank, basis, threshold, window_days, discount_pct, coupon_batch_ids, vip_group_ids, presale_days, agent_staff_id, created_at, updated_at`

func scanTier(r scanner) (Tier, error) {
	var t Tier
	var basis, coupons, groups string
	var created, updated int64
	err := r.Scan(&t.ID, &t.TenantID, &t.Name, &t.Rank, &basis, &t.Threshold, &t.WindowDays, &t.DiscountPct, &coupons, &groups,
		&t.PresaleDays, &t.AgentStaffID, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.ErrNotFound
	}
	if err != nil {
		return t, err
	}
	t.Basis, t.CreatedAt, t.UpdatedAt = Basis(basis), store.Time(created), store.Time(updated)
	json.Unmarshal([]byte(coupons), &t.CouponBatchIDs)
	json.Unmarshal([]byte(groups), &t.VIPGroupIDs)
	return t, nil
}

// tiersOf returns the tenant's ladder by rank.
func tiersOf(ctx context.Context, q store.Querier, tenantID int64) ([]Tier, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+tierCols+` FROM tiers WHERE tenant_id = $1 ORDER BY rank`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("commerce: tiers: %w", err)
	}
	return store.Collect(rows, scanTier)
}

// Tiers returns the tenant's ladder, base tier first.
func (s *Service) Tiers(ctx context.Context, tenantID int64) ([]Tier, error) {
	return tiersOf(ctx, s.db.R, tenantID)
}

// Tier returns one tier of the tenant.
func (s *Service) Tier(ctx context.Context, tenantID, id int64) (Tier, error) {
	return scanTier(s.db.R.QueryRowContext(ctx, `SELECT `+tierCols+` FROM tiers WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// TierOf is the member's tier: the one evaluated last, or the base tier
// when they were never evaluated; store.ErrNotFound when the brand has no
// tiers.
func TierOf(ctx context.Context, q store.Querier, tenantID, memberID int64) (Tier, error) {
	t, err := scanTier(q.QueryRowContext(ctx, `SELECT t.`+strings.ReplaceAll(tierCols, ", ", ", t.")+` FROM member_tiers mt
		JOIN tiers t ON t.id = mt.tier_id AND t.tenant_id = mt.tenant_id WHERE mt.tenant_id = $1 AND mt.member_id = $2`, tenantID, memberID))
	if errors.Is(err, store.ErrNotFound) {
		return scanTier(q.QueryRowContext(ctx, `SELECT `+tierCols+` FROM tiers WHERE tenant_id = $1 AND rank = 0`, tenantID))
	}
	return t, err
}

// TierOf is the package function TierOf, for callers holding the service.
func (s *Service) TierOf(ctx context.Context, q store.Querier, tenantID, memberID int64) (Tier, error) {
	return TierOf(ctx, q, tenantID, memberID)
}

// TierRank is the rank of the member's tier; 0 when the brand has no tiers.
func (s *Service) TierRank(ctx context.Context, q store.Querier, tenantID, memberID int64) (int, error) {
	t, err := TierOf(ctx, q, tenantID, memberID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return t.Rank, err
}

// PresaleDays is how many days before everyone else the member may buy a
// presale (their tier's early access); 0 without a tier.
func (s *Service) PresaleDays(ctx context.Context, q store.Querier, tenantID, memberID int64) (int, error) {
	t, err := TierOf(ctx, q, tenantID, memberID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return t.PresaleDays, err
}

// TierRequired is JoinGate's refusal: the group is for members of Tier
// and above (a store.ErrConflict).
type TierRequired struct{ Tier string }

func (e *TierRequired) Error() string {
	return fmt.Sprintf("commerce: this group is for %s members and above", e.Tier)
}

func (e *TierRequired) Unwrap() error { return store.ErrConflict }

// JoinGate refuses a member's join of a VIP group (a group some tier lists
// among its benefits) when their tier ranks below the lowest such tier.
func (s *Service) JoinGate(ctx context.Context, tenantID, groupID, memberID int64) error {
	ladder, err := tiersOf(ctx, s.db.R, tenantID)
	if err != nil {
		return err
	}
	for _, t := range ladder { // by rank: the first that lists the group is the lowest
		if !slices.Contains(t.VIPGroupIDs, groupID) {
			continue
		}
		rank, err := s.TierRank(ctx, s.db.R, tenantID, memberID)
		if err != nil {
			return err
		}
		if rank < t.Rank {
			return &TierRequired{Tier: t.Name}
		}
		return nil
	}
	return nil
}

// metrics are a member's values for a ladder: spend by window, earned points.
type metrics struct {
	spend  map[int]int64
	points int64
}

func (m metrics) of(t Tier) int64 {
	if t.Basis == BasisPoints {
		return m.points
	}
	return m.spend[t.WindowDays]
}

// measure reads the member's rolling spend for each window of the ladder
// and their earned points.
func measure(ctx context.Context, q store.Querier, ladder []Tier, tenantID, memberID int64, now time.Time) (metrics, error) {
	m := metrics{spend: map[int]int64{}}
	needPoints := false
	for _, t := range ladder {
		if t.Basis == BasisPoints {
			needPoints = true
			continue
		}
		if _, done := m.spend[t.WindowDays]; done || t.Rank == 0 {
			continue
		}
		var v int64
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount_minor - refunded_minor), 0) FROM orders
			WHERE tenant_id = $1 AND member_id = $2 AND paid_at > $3 AND paid_at <= $4`,
			tenantID, memberID, store.Millis(now.AddDate(0, 0, -t.WindowDays)), store.Millis(now)).Scan(&v); err != nil {
			return m, fmt.Errorf("commerce: rolling spend: %w", err)
		}
		m.spend[t.WindowDays] = v
	}
	if needPoints {
		err := q.QueryRowContext(ctx, `SELECT earned FROM point_balances WHERE tenant_id = $1 AND member_id = $2`, tenantID, memberID).Scan(&m.points)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return m, fmt.Errorf("commerce: points: %w", err)
		}
	}
	return m, nil
}

// qualify is the highest tier of the ladder whose threshold m reaches.
func qualify(ladder []Tier, m metrics) Tier {
	var best Tier
	for _, t := range ladder {
		if t.Rank == 0 || m.of(t) >= t.Threshold {
			if t.Rank >= best.Rank {
				best = t
			}
		}
	}
	return best
}

// Change is a member's move from one tier to another.
type Change struct {
	ID       int64
	MemberID int64
	From, To Tier
	Reason   string
	Notified bool
	At       time.Time
}

// EvaluateTx sets the member's tier from their spend and points at now,
// inside tx, and reports whether it changed.
func (s *Service) EvaluateTx(ctx context.Context, tx *store.Tx, tenantID, memberID int64, now time.Time) (bool, error) {
	ladder, err := tiersOf(ctx, tx, tenantID)
	if err != nil {
		return false, err
	}
	return s.evaluate(ctx, plain(tx), ladder, tenantID, memberID, now, "evaluate")
}

// evaluate is EvaluateTx with the ladder loaded. A move to another rank is
// recorded in tier_changes with a tier_changed event, told to the member
// privately (key tier:<member>:<change id>; a member liveloop cannot reach
// is recorded as not notified) and, upwards, handed to OnUpgrade.
func (s *Service) evaluate(ctx context.Context, tx *wtx, ladder []Tier, tenantID, memberID int64, now time.Time, reason string) (bool, error) {
	if len(ladder) == 0 {
		return false, nil
	}
	now = now.UTC()
	m, err := measure(ctx, tx, ladder, tenantID, memberID, now)
	if err != nil {
		return false, err
	}
	target := qualify(ladder, m)
	var curID int64
	err = tx.QueryRowContext(ctx, `SELECT tier_id FROM member_tiers WHERE tenant_id = $1 AND member_id = $2`, tenantID, memberID).Scan(&curID)
	hadRow := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("commerce: member tier: %w", err)
	}
	var cur Tier // zero (rank 0) when none
	for _, t := range ladder {
		if t.ID == curID {
			cur = t
		}
	}
	if hadRow && curID == target.ID {
		_, err := tx.ExecContext(ctx, `UPDATE member_tiers SET evaluated_at = $3 WHERE tenant_id = $1 AND member_id = $2`, tenantID, memberID, store.Millis(now))
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO member_tiers (tenant_id, member_id, tier_id, since, evaluated_at) VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (tenant_id, member_id) DO UPDATE SET tier_id = excluded.tier_id, since = excluded.since, evaluated_at = excluded.evaluated_at`,
		tenantID, memberID, target.ID, store.Millis(now)); err != nil {
		return false, fmt.Errorf("commerce: set tier: %w", err)
	}
	if cur.Rank == target.Rank {
		return false, nil // first placement in the base tier, or a tier redefined at the same rank
	}
	c := Change{MemberID: memberID, From: cur, To: target, Reason: reason, At: now}
	if err := tx.QueryRowContext(ctx, `INSERT INTO tier_changes (tenant_id, member_id, from_tier_id, to_tier_id, from_rank, to_rank, reason, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, tenantID, memberID, cur.ID, target.ID, cur.Rank, target.Rank, reason,
		store.Millis(now)).Scan(&c.ID); err != nil {
		return false, fmt.Errorf("commerce: tier change: %w", err)
	}
	if _, err := s.log.AppendTx(ctx, tx.Tx, &event.Event{TenantID: tenantID, Type: event.TierChanged, Source: event.SourceShop,
		SourceID: fmt.Sprintf("tier:%d", c.ID), At: now, MemberID: memberID,
		Data: event.MustData(event.TierData{FromTierID: cur.ID, ToTierID: target.ID, FromRank: cur.Rank, ToRank: target.Rank, Reason: reason})}); err != nil {
		return false, err
	}
	if tx.quiet {
		return true, s.upgraded(ctx, tx, tenantID, memberID, cur, target)
	}
	body, err := s.changeText(ctx, tx, tenantID, memberID, c)
	if err != nil {
		return false, err
	}
	_, err = s.notifier.DMTx(ctx, tx.Tx, notify.Message{TenantID: tenantID, MemberID: memberID, Key: fmt.Sprintf("tier:%d:%d", memberID, c.ID), Body: body})
	switch {
	case err == nil:
		if _, err := tx.ExecContext(ctx, `UPDATE tier_changes SET notified = true WHERE tenant_id = $1 AND id = $2`, tenantID, c.ID); err != nil {
			return false, err
		}
	case errors.Is(err, store.ErrInvalid), errors.Is(err, outbox.ErrInvalid): // unreachable (no channel, no group of the bot): recorded as not notified
	default:
		return false, fmt.Errorf("commerce: tell member %d of their tier: %w", memberID, err)
	}
	return true, s.upgraded(ctx, tx, tenantID, memberID, cur, target)
}

// upgraded hands a move up to OnUpgrade (the tier's benefits).
func (s *Service) upgraded(ctx context.Context, tx *wtx, tenantID, memberID int64, from, to Tier) error {
	if to.Rank > from.Rank && s.OnUpgrade != nil {
		if err := s.OnUpgrade(ctx, tx.Tx, tenantID, memberID, to); err != nil {
			return fmt.Errorf("commerce: upgrade hook: %w", err)
		}
	}
	return nil
}

// changeText is the private message of a tier change in the member's
// language: the new tier and its benefits.
func (s *Service) changeText(ctx context.Context, q store.Querier, tenantID, memberID int64, c Change) (string, error) {
	lang, _ := notify.LocaleTx(ctx, q, tenantID, memberID)
	if lang == "" {
		tl, _, err := tenantLocale(ctx, q, tenantID)
		if err != nil {
			return "", err
		}
		lang = tl
	}
	key := "tier.dm.up"
	if c.To.Rank < c.From.Rank {
		key = "tier.dm.down"
	}
	text := s.cat.T(lang, key, c.To.Name)
	if b := s.Benefits(ctx, q, lang, c.To); b != "" {
		text += "\n" + s.cat.T(lang, "tier.dm.benefits", b)
	}
	return text, nil
}

// Benefits describes a tier's benefits in lang ("" when it has none).
func (s *Service) Benefits(ctx context.Context, q store.Querier, lang string, t Tier) string {
	var parts []string
	if t.DiscountPct > 0 {
		parts = append(parts, s.cat.T(lang, "tier.benefit.discount", t.DiscountPct, t.Zhe()))
	}
	if n := len(t.CouponBatchIDs); n > 0 {
		parts = append(parts, s.cat.T(lang, "tier.benefit.coupons", n))
	}
	if n := len(t.VIPGroupIDs); n > 0 {
		parts = append(parts, s.cat.T(lang, "tier.benefit.vip", n))
	}
	if t.PresaleDays > 0 {
		parts = append(parts, s.cat.T(lang, "tier.benefit.presale", t.PresaleDays))
	}
	if name := AgentName(ctx, q, t); name != "" {
		parts = append(parts, s.cat.T(lang, "tier.benefit.agent", name))
	}
	return strings.Join(parts, s.cat.T(lang, "tier.benefit.sep"))
}

// AgentName is the name of the tier's dedicated agent ("" when none).
func AgentName(ctx context.Context, q store.Querier, t Tier) string {
	if t.AgentStaffID == 0 {
		return ""
	}
	var name string
	q.QueryRowContext(ctx, `SELECT name FROM staff WHERE tenant_id = $1 AND id = $2`, t.TenantID, t.AgentStaffID).Scan(&name)
	return name
}

// evaluateBatch is how many members one transaction of a nightly pass
// evaluates.
const evaluateBatch = 200

// EvaluateTenant evaluates every member of the tenant who has a tier, an
// order or (with a points tier) earned points, at now: spend that aged out
// of the window moves them down. It returns how many changed.
func (s *Service) EvaluateTenant(ctx context.Context, tenantID int64, now time.Time) (int, error) {
	ladder, err := tiersOf(ctx, s.db.R, tenantID)
	if err != nil || len(ladder) == 0 {
		return 0, err
	}
	points := slices.ContainsFunc(ladder, func(t Tier) bool { return t.Basis == BasisPoints && t.Rank > 0 })
	query := `SELECT member_id FROM member_tiers WHERE tenant_id = $1 AND member_id > $2
		UNION SELECT member_id FROM member_commerce WHERE tenant_id = $1 AND member_id > $2`
	if points {
		query += ` UNION SELECT member_id FROM point_balances WHERE tenant_id = $1 AND member_id > $2 AND earned > 0`
	}
	query += fmt.Sprintf(` ORDER BY 1 LIMIT %d`, evaluateBatch)
	changed := 0
	var after int64
	for {
		rows, err := s.db.R.QueryContext(ctx, query, tenantID, after)
		if err != nil {
			return changed, fmt.Errorf("commerce: members to evaluate: %w", err)
		}
		ids, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil || len(ids) == 0 {
			return changed, err
		}
		n := 0
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			n = 0
			w := batched(tx)
			for _, id := range ids {
				ok, err := s.evaluate(ctx, w, ladder, tenantID, id, now, "nightly")
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return changed, err
		}
		changed += n
		after = ids[len(ids)-1]
		if len(ids) < evaluateBatch {
			return changed, nil
		}
	}
}

// EvaluateAll evaluates every tenant's members at now.
func (s *Service) EvaluateAll(ctx context.Context, now time.Time) (int, error) {
	ids, err := s.tenantIDs(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, id := range ids {
		n, err := s.EvaluateTenant(ctx, id, now)
		total += n
		if err != nil {
			return total, fmt.Errorf("commerce: evaluate tenant %d: %w", id, err)
		}
	}
	return total, nil
}

func (s *Service) tenantIDs(ctx context.Context) ([]int64, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM tenants ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

// NightlyHour is the tenant's local hour from which the nightly pass runs.
const NightlyHour = 3

// Nightly runs, for each tenant whose local time is past 03:00 and whose
// pass has not run this local day, Rematch and EvaluateTenant, and records
// the day (so a restart does not run it again). It returns the tenants it
// ran for.
func (s *Service) Nightly(ctx context.Context, now time.Time) (int, error) {
	ids, err := s.tenantIDs(ctx)
	if err != nil {
		return 0, err
	}
	ran := 0
	var errs []error
	for _, id := range ids {
		_, zone, err := tenantLocale(ctx, s.db.R, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		local := now.In(zone)
		if local.Hour() < NightlyHour {
			continue
		}
		day := local.Format("2006-01-02")
		var last string
		err = s.db.R.QueryRowContext(ctx, `SELECT last_day FROM commerce_nightly WHERE tenant_id = $1`, id).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			errs = append(errs, err)
			continue
		}
		if last >= day {
			continue
		}
		if _, err := s.Rematch(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := s.EvaluateTenant(ctx, id, now); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := s.db.W.ExecContext(ctx, `INSERT INTO commerce_nightly (tenant_id, last_day) VALUES ($1, $2)
			ON CONFLICT (tenant_id) DO UPDATE SET last_day = excluded.last_day`, id, day); err != nil {
			errs = append(errs, err)
			continue
		}
		ran++
	}
	return ran, errors.Join(errs...)
}

// TierCounts is how many members hold each tier.
func (s *Service) TierCounts(ctx context.Context, tenantID int64) (map[int64]int64, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT tier_id, COUNT(*) FROM member_tiers WHERE tenant_id = $1 GROUP BY tier_id`, tenantID)
	if err != nil {
		return nil, err
	}
	return store.CollectMap[int64, int64](rows)
}

// TierMember is a member holding a tier.
type TierMember struct {
	MemberID   int64
	Name       string
	Since      time.Time
	SpendMinor int64
}

// TierMembers lists members of a tier, the longest-standing first.
func (s *Service) TierMembers(ctx context.Context, tenantID, tierID int64, limit int) ([]TierMember, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT mt.member_id, m.display_name, mt.since, COALESCE(mc.spend_minor, 0) FROM member_tiers mt
		JOIN members m ON m.id = mt.member_id AND m.tenant_id = mt.tenant_id
		LEFT JOIN member_commerce mc ON mc.tenant_id = mt.tenant_id AND mc.member_id = mt.member_id
		WHERE mt.tenant_id = $1 AND mt.tier_id = $2 ORDER BY mt.since, mt.member_id LIMIT `+fmt.Sprint(max(min(limit, 1000), 1)), tenantID, tierID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (TierMember, error) {
		var m TierMember
		var since int64
		err := r.Scan(&m.MemberID, &m.Name, &since, &m.SpendMinor)
		m.Since = store.Time(since)
		return m, err
	})
}

// Changes lists a member's tier changes, the latest first.
func (s *Service) Changes(ctx context.Context, tenantID, memberID int64, limit int) ([]Change, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT c.id, c.member_id, c.from_tier_id, c.to_tier_id, c.from_rank, c.to_rank, c.reason, c.notified, c.at,
		COALESCE(f.name, ''), COALESCE(t.name, '') FROM tier_changes c
		LEFT JOIN tiers f ON f.id = c.from_tier_id AND f.tenant_id = c.tenant_id LEFT JOIN tiers t ON t.id = c.to_tier_id AND t.tenant_id = c.tenant_id
		WHERE c.tenant_id = $1 AND c.member_id = $2 ORDER BY c.id DESC LIMIT `+fmt.Sprint(max(min(limit, 500), 1)), tenantID, memberID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Change, error) {
		var c Change
		var at int64
		err := r.Scan(&c.ID, &c.MemberID, &c.From.ID, &c.To.ID, &c.From.Rank, &c.To.Rank, &c.Reason, &c.Notified, &at, &c.From.Name, &c.To.Name)
		c.At = store.Time(at)
		return c, err
	})
}

// Progress is a member's standing: their tier, the next one and how far
// they are from it.
type Progress struct {
	Tier    Tier
	HasTier bool
	Next    Tier
	HasNext bool
	Value   int64 // spend in the next tier's window, or points
	Needed  int64 // what is left to reach the next tier
	Percent int
	Agent   string
}

// ProgressOf returns the member's standing at now.
func (s *Service) ProgressOf(ctx context.Context, tenantID, memberID int64, now time.Time) (Progress, error) {
	var p Progress
	ladder, err := tiersOf(ctx, s.db.R, tenantID)
	if err != nil || len(ladder) == 0 {
		return p, err
	}
	t, err := TierOf(ctx, s.db.R, tenantID, memberID)
	if err != nil {
		return p, err
	}
	p.Tier, p.HasTier, p.Agent = t, true, AgentName(ctx, s.db.R, t)
	for _, n := range ladder {
		if n.Rank > t.Rank {
			p.Next, p.HasNext = n, true
			break
		}
	}
	if !p.HasNext {
		return p, nil
	}
	m, err := measure(ctx, s.db.R, []Tier{p.Next}, tenantID, memberID, now)
	if err != nil {
		return p, err
	}
	p.Value = m.of(p.Next)
	p.Needed = max(p.Next.Threshold-p.Value, 0)
	if p.Next.Threshold > 0 {
		p.Percent = int(min(max(p.Value, 0)*100/p.Next.Threshold, 100))
	}
	return p, nil
}

// Agent is a staff member who may be a tier's dedicated agent.
type Agent struct {
	ID   int64
	Name string
}

// Agents lists the brand's staff, for the tier form.
func (s *Service) Agents(ctx context.Context, tenantID int64) ([]Agent, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name FROM staff WHERE tenant_id = $1 ORDER BY name, id`, tenantID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Agent, error) {
		var a Agent
		return a, r.Scan(&a.ID, &a.Name)
	})
}
