package referral

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Campaign is a referral campaign: members invite friends with a personal
// link into its target (a set or a group); an invitee counts once they
// stayed StayDays; rewards are given per threshold of valid invitees.
type Campaign struct {
	ID         int64
	TenantID   int64
	Name       string
	SetID      int64 // the target: a set…
	GroupID    int64 // …or a group
	JoinCodeID int64 // the target's join code made for the campaign
	StayDays   int
	StartsAt   time.Time
	EndsAt     time.Time
	CreatedAt  time.Time
	Rewards    []Reward
}

// Reward is what a referrer gets on reaching Threshold valid invitees.
type Reward struct {
	Threshold     int
	Points        int64
	CouponBatchID int64
	Gift          string // handed over by the operator
}

// Running reports whether the campaign admits invitees at t.
func (c Campaign) Running(t time.Time) bool { return !t.Before(c.StartsAt) && t.Before(c.EndsAt) }

// ErrNotRunning is returned for an invite link of a campaign that has not
// started or has ended.
var ErrNotRunning = fmt.Errorf("%w (campaign not running)", community.ErrExpired)

// Limits of campaigns.
const (
	MaxCampaignName = 50
	MaxStayDays     = 365
	MaxRewards      = 10
	MaxGift         = 200
	MaxPoints       = 1_000_000
)

func (s *Service) validateCampaign(ctx context.Context, q store.Querier, c *Campaign) error {
	c.Name = textnorm.Line(c.Name)
	switch {
	case c.Name == "" || !textnorm.Limit(c.Name, MaxCampaignName):
		return fmt.Errorf("%w: a campaign's name has 1–%d characters", store.ErrInvalid, MaxCampaignName)
	case (c.SetID == 0) == (c.GroupID == 0):
		return fmt.Errorf("%w: choose one target: a set of groups or a group", store.ErrInvalid)
	case c.StayDays < 0 || c.StayDays > MaxStayDays:
		return fmt.Errorf("%w: stay days must be 0–%d", store.ErrInvalid, MaxStayDays)
	case c.StartsAt.IsZero() || c.EndsAt.IsZero() || !c.EndsAt.After(c.StartsAt):
		return fmt.Errorf("%w: the campaign must end after it starts", store.ErrInvalid)
	case len(c.Rewards) == 0:
		return fmt.Errorf("%w: give at least one reward", store.ErrInvalid)
	case len(c.Rewards) > MaxRewards:
		return fmt.Errorf("%w: at most %d rewards", store.ErrInvalid, MaxRewards)
	}
	seen := map[int]bool{}
	for i := range c.Rewards {
		r := &c.Rewards[i]
		r.Gift = textnorm.Line(r.Gift)
		switch {
		case r.Threshold < 1 || r.Threshold > 10_000:
			return fmt.Errorf("%w: a reward's number of invitees must be 1–10000", store.ErrInvalid)
		case seen[r.Threshold]:
			return fmt.Errorf("%w: two rewards for %d invitees", store.ErrInvalid, r.Threshold)
		case r.Points < 0 || r.Points > MaxPoints:
			return fmt.Errorf("%w: points must be 0–%d", store.ErrInvalid, MaxPoints)
		case r.CouponBatchID < 0:
			return fmt.Errorf("%w: unknown coupon batch", store.ErrInvalid)
		case r.CouponBatchID > 0 && s.GrantCoupon == nil:
			return fmt.Errorf("%w: coupon rewards are not available on this installation", store.ErrInvalid)
		case !textnorm.Limit(r.Gift, MaxGift):
			return fmt.Errorf("%w: a gift has at most %d characters", store.ErrInvalid, MaxGift)
		case r.Points == 0 && r.CouponBatchID == 0 && r.Gift == "":
			return fmt.Errorf("%w: the reward for %d invitees gives nothing", store.ErrInvalid, r.Threshold)
		}
		seen[r.Threshold] = true
	}
	slices.SortFunc(c.Rewards, func(a, b Reward) int { return a.Threshold - b.Threshold })
	if c.SetID != 0 {
		ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM group_sets WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.SetID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: unknown set of groups", store.ErrInvalid)
		}
	} else {
		ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL`, c.TenantID, c.GroupID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: unknown group", store.ErrInvalid)
		}
	}
	return nil
}

// CreateCampaign stores a campaign, its rewards and a join code of its
// target (source "referral:<name>") in one transaction.
func (s *Service) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	c.CreatedAt = s.Now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.validateCampaign(ctx, tx, &c); err != nil {
			return err
		}
		jc := community.JoinCode{TenantID: c.TenantID, GroupID: c.GroupID, SetID: c.SetID, Source: "referral:" + c.Name, CreatedAt: c.CreatedAt}
		if c.SetID != 0 {
			err := tx.QueryRowContext(ctx, `SELECT group_id FROM group_set_groups WHERE tenant_id = $1 AND set_id = $2 ORDER BY position LIMIT 1`,
				c.TenantID, c.SetID).Scan(&jc.GroupID)
			if err != nil {
				return fmt.Errorf("referral: campaign target: %w", err)
			}
		}
		jc, err := s.community.NewJoinCodeTx(ctx, tx, jc)
		if err != nil {
			return err
		}
		c.JoinCodeID = jc.ID
		err = tx.QueryRowContext(ctx, `INSERT INTO referral_campaigns (tenant_id, name, set_id, group_id, join_code_id, stay_days, starts_at, ends_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			c.TenantID, c.Name, nullID(c.SetID), nullID(c.GroupID), c.JoinCodeID, c.StayDays,
			store.Millis(c.StartsAt), store.Millis(c.EndsAt), store.Millis(c.CreatedAt)).Scan(&c.ID)
		if err != nil {
			return fmt.Errorf("referral: create campaign: %w", err)
		}
		for _, r := range c.Rewards {
			if _, err := tx.ExecContext(ctx, `INSERT INTO referral_rewards (tenant_id, campaign_id, threshold, points, coupon_batch_id, gift)
				VALUES ($1, $2, $3, $4, $5, $6)`, c.TenantID, c.ID, r.Threshold, r.Points, r.CouponBatchID, r.Gift); err != nil {
				return fmt.Errorf("referral: rewards: %w", err)
			}
		}
		return nil
	})
	return c, err
}

// EndCampaign ends a running campaign now: its links stop admitting;
// invitees already pending are still decided and rewarded.
func (s *Service) EndCampaign(ctx context.Context, tenantID, id int64) error {
	now := store.Millis(s.Now())
	res, err := s.db.W.ExecContext(ctx, `UPDATE referral_campaigns SET ends_at = CASE WHEN starts_at >= $3 THEN starts_at + 1 ELSE $3 END
		WHERE tenant_id = $1 AND id = $2 AND ends_at > $3`, tenantID, id, now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Campaign(ctx, tenantID, id); err != nil {
			return err
		}
	}
	return nil
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

const campaignCols = `id, tenant_id, name, set_id, group_id, join_code_id, stay_days, starts_at, ends_at, created_at`

func scanCampaign(sc interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var set, group sql.NullInt64
	var starts, ends, created int64
	err := sc.Scan(&c.ID, &c.TenantID, &c.Name, &set, &group, &c.JoinCodeID, &c.StayDays, &starts, &ends, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return c, store.ErrNotFound
	}
	c.SetID, c.GroupID = set.Int64, group.Int64
	c.StartsAt, c.EndsAt, c.CreatedAt = store.Time(starts), store.Time(ends), store.Time(created)
	return c, err
}

func (s *Service) loadRewards(ctx context.Context, q store.Querier, c *Campaign) error {
	rows, err := q.QueryContext(ctx, `SELECT threshold, points, coupon_batch_id, gift FROM referral_rewards
		WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY threshold`, c.TenantID, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	c.Rewards = nil
	for rows.Next() {
		var r Reward
		if err := rows.Scan(&r.Threshold, &r.Points, &r.CouponBatchID, &r.Gift); err != nil {
			return err
		}
		c.Rewards = append(c.Rewards, r)
	}
	return rows.Err()
}

// Campaign returns a campaign of the tenant with its rewards.
func (s *Service) Campaign(ctx context.Context, tenantID, id int64) (Campaign, error) {
	return s.campaignQ(ctx, s.db.R, tenantID, id)
}

func (s *Service) campaignQ(ctx context.Context, q store.Querier, tenantID, id int64) (Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM referral_campaigns WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return c, err
	}
	return c, s.loadRewards(ctx, q, &c)
}

// Campaigns lists the tenant's campaigns, newest first, with rewards.
func (s *Service) Campaigns(ctx context.Context, tenantID int64) ([]Campaign, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+campaignCols+` FROM referral_campaigns WHERE tenant_id = $1 ORDER BY id DESC`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("referral: campaigns: %w", err)
	}
	cs, err := store.Collect(rows, scanCampaign)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		if err := s.loadRewards(ctx, s.db.R, &cs[i]); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// JoinCode returns the target's join code of a campaign.
func (s *Service) JoinCode(ctx context.Context, c Campaign) (community.JoinCode, error) {
	var code string
	err := s.db.R.QueryRowContext(ctx, `SELECT code FROM join_codes WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.JoinCodeID).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return community.JoinCode{}, store.ErrNotFound
	}
	if err != nil {
		return community.JoinCode{}, err
	}
	jc, err := s.community.ResolveJoinCode(ctx, code)
	if errors.Is(err, community.ErrExpired) {
		err = nil // the campaign's dates decide, not the code's
	}
	return jc, err
}
