package referral

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/store"
)

// SettleResult counts what a pass decided.
type SettleResult struct {
	Validated, Rejected, Granted int
}

type pendingInvite struct {
	id, tenantID, campaignID, referrerID, inviteeID, groupID int64
	joined                                                   time.Time
	stay                                                     int
}

// Settle decides pending invitees and gives the rewards they earn. An
// invitee whose place in the group ended (left, removed) within the stay
// days is rejected with the reason; one still in after the stay days
// becomes valid; one merged into their referrer is a self-invite. Each
// decision and the rewards it unlocks are one transaction; a decision is
// taken once (status still pending) and a reward given once per threshold
// (referral_grants, and the ledger and coupon refs), so running it twice —
// or on two nodes — changes nothing more.
func (s *Service) Settle(ctx context.Context) (SettleResult, error) {
	var res SettleResult
	var errs []error
	now := s.Now()
	var after int64
	for {
		rows, err := s.db.R.QueryContext(ctx, `SELECT i.id, i.tenant_id, i.campaign_id, i.referrer_id, i.invitee_id, i.group_id, i.joined_at, c.stay_days
			FROM referral_invites i JOIN referral_campaigns c ON c.id = i.campaign_id AND c.tenant_id = i.tenant_id
			WHERE i.status = 'pending' AND i.id > $1 ORDER BY i.id LIMIT 200`, after)
		if err != nil {
			return res, fmt.Errorf("referral: pending: %w", err)
		}
		var batch []pendingInvite
		for rows.Next() {
			var p pendingInvite
			var joined int64
			if err := rows.Scan(&p.id, &p.tenantID, &p.campaignID, &p.referrerID, &p.inviteeID, &p.groupID, &joined, &p.stay); err != nil {
				rows.Close()
				return res, err
			}
			p.joined = store.Time(joined)
			batch = append(batch, p)
			after = p.id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, err
		}
		for _, p := range batch {
			// One invite that cannot be decided (its reward's transaction
			// fails) is reported and retried by the next pass; it does not
			// hold up the invites after it, of this brand or another.
			if _, err := s.decide(ctx, p, now, &res); err != nil {
				if ctx.Err() != nil {
					return res, errors.Join(append(errs, err)...)
				}
				errs = append(errs, err)
			}
		}
		if len(batch) < 200 {
			break
		}
	}
	// Rewards a referrer earned but did not get (a reward added by a
	// failed pass, say) are caught up here too.
	rows, err := s.db.R.QueryContext(ctx, `SELECT DISTINCT i.tenant_id, i.campaign_id, i.referrer_id FROM referral_invites i
		WHERE i.status = 'valid' AND (SELECT COUNT(*) FROM referral_rewards r WHERE r.campaign_id = i.campaign_id AND r.tenant_id = i.tenant_id
			AND r.threshold <= (SELECT COUNT(*) FROM referral_invites v WHERE v.campaign_id = i.campaign_id AND v.referrer_id = i.referrer_id AND v.status = 'valid'))
		> (SELECT COUNT(*) FROM referral_grants g WHERE g.campaign_id = i.campaign_id AND g.member_id = i.referrer_id)`)
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("referral: owed rewards: %w", err))...)
	}
	type owed struct{ tenantID, campaignID, memberID int64 }
	var todo []owed
	for rows.Next() {
		var o owed
		if err := rows.Scan(&o.tenantID, &o.campaignID, &o.memberID); err != nil {
			rows.Close()
			return res, err
		}
		todo = append(todo, o)
	}
	rows.Close()
	for _, o := range todo {
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			n, err := s.rewardTx(ctx, tx, o.tenantID, o.campaignID, o.memberID, now)
			res.Granted += n
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return res, errors.Join(append(errs, err)...)
			}
			errs = append(errs, fmt.Errorf("referral: rewards of member %d in campaign %d: %w", o.memberID, o.campaignID, err))
		}
	}
	return res, errors.Join(errs...)
}

// decide takes one pending invite to its verdict (or leaves it pending).
func (s *Service) decide(ctx context.Context, p pendingInvite, now time.Time, res *SettleResult) (string, error) {
	status := Pending
	var granted int
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		status, granted = Pending, 0
		refRoot, err := rootTx(ctx, tx, p.tenantID, p.referrerID)
		if err != nil {
			return err
		}
		invRoot, err := rootTx(ctx, tx, p.tenantID, p.inviteeID)
		if err != nil {
			return err
		}
		stay := time.Duration(p.stay) * 24 * time.Hour
		reason := ""
		if refRoot == invRoot {
			status, reason = Rejected, ReasonSelfMerged
		} else {
			// A merge moves the invitee's place to the person they became.
			var left, removed sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT left_at, removed_at FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3`,
				p.tenantID, p.groupID, invRoot).Scan(&left, &removed)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				status, reason = Rejected, ReasonLeft
			case err != nil:
				return err
			case removed.Valid && store.Time(removed.Int64).Sub(p.joined) < stay:
				status, reason = Rejected, ReasonRemoved
			case left.Valid && store.Time(left.Int64).Sub(p.joined) < stay:
				status, reason = Rejected, ReasonLeft
			case !now.Before(p.joined.Add(stay)):
				status = Valid
			}
		}
		if status == Pending {
			return nil
		}
		r, err := tx.ExecContext(ctx, `UPDATE referral_invites SET status = $3, reason = $4, decided_at = $5
			WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`, p.tenantID, p.id, status, reason, store.Millis(now))
		if err != nil {
			return fmt.Errorf("referral: decide: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			status = Pending // another pass decided it
			return nil
		}
		if _, err := s.log.AppendTx(ctx, tx, &event.Event{TenantID: p.tenantID, Type: event.ReferralDecided, Source: event.SourceReferral,
			SourceID: "decided:" + strconv.FormatInt(p.id, 10), At: now, MemberID: p.inviteeID, GroupID: p.groupID,
			Data: event.MustData(event.ReferralData{CampaignID: p.campaignID, ReferrerID: p.referrerID, InviteeID: p.inviteeID,
				Status: status, Reason: reason})}); err != nil {
			return err
		}
		if status != Valid {
			return nil
		}
		granted, err = s.rewardTx(ctx, tx, p.tenantID, p.campaignID, p.referrerID, now)
		return err
	})
	if err != nil {
		return Pending, fmt.Errorf("referral: invite %d: %w", p.id, err)
	}
	switch status {
	case Valid:
		res.Validated++
	case Rejected:
		res.Rejected++
	}
	res.Granted += granted
	return status, nil
}

// ErrCouponUnavailable is what GrantCoupon wraps when the batch cannot
// give a coupon (sold out, disabled, not the brand's): the reward is
// recorded without it, with a note, instead of failing every pass.
var ErrCouponUnavailable = errors.New("referral: the coupon batch cannot give a coupon")

// Ref is the idempotency key of a reward: the ledger entry and the coupon
// of a threshold carry it.
func Ref(campaignID, memberID int64, threshold int) string {
	return fmt.Sprintf("ref:%d:%d:%d", campaignID, memberID, threshold)
}

// rewardTx gives the referrer every reward whose threshold their valid
// invitees reached and that they have not had, and tells them privately.
func (s *Service) rewardTx(ctx context.Context, tx *store.Tx, tenantID, campaignID, memberID int64, now time.Time) (int, error) {
	c, err := s.campaignQ(ctx, tx, tenantID, campaignID)
	if err != nil {
		return 0, err
	}
	var valid int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referral_invites WHERE tenant_id = $1 AND campaign_id = $2 AND referrer_id = $3
		AND status = 'valid'`, tenantID, campaignID, memberID).Scan(&valid); err != nil {
		return 0, err
	}
	granted := 0
	for _, rw := range c.Rewards {
		if rw.Threshold > valid {
			break
		}
		ref := Ref(campaignID, memberID, rw.Threshold)
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO referral_grants (tenant_id, campaign_id, member_id, threshold, ref, points, coupon_batch_id, gift, granted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (campaign_id, member_id, threshold) DO NOTHING RETURNING id`,
			tenantID, campaignID, memberID, rw.Threshold, ref, rw.Points, rw.CouponBatchID, rw.Gift, store.Millis(now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // given before
		}
		if err != nil {
			return granted, fmt.Errorf("referral: grant: %w", err)
		}
		if rw.Points > 0 {
			if _, _, err := s.loyalty.AwardTx(ctx, tx, loyalty.Entry{TenantID: tenantID, MemberID: memberID, Delta: rw.Points,
				Kind: loyalty.KindActivity, Ref: ref, Note: "referral: " + c.Name, At: now}); err != nil {
				return granted, fmt.Errorf("referral: points: %w", err)
			}
		}
		var notes []string
		told := rw
		if rw.CouponBatchID > 0 {
			if s.GrantCoupon == nil {
				return granted, fmt.Errorf("referral: campaign %d rewards a coupon but coupons are not available", campaignID)
			}
			err := s.GrantCoupon(ctx, tx, tenantID, rw.CouponBatchID, memberID, ref)
			switch {
			case errors.Is(err, ErrCouponUnavailable):
				// Sold out, disabled or gone: the reward stands without the
				// coupon, and the operator sees why on the grant.
				notes = append(notes, "coupon not given: "+err.Error())
				told.CouponBatchID = 0
			case err != nil:
				return granted, fmt.Errorf("referral: coupon: %w", err)
			}
		}
		if _, err := s.log.AppendTx(ctx, tx, &event.Event{TenantID: tenantID, Type: event.ReferralRewarded, Source: event.SourceReferral,
			SourceID: "grant:" + ref, At: now, MemberID: memberID,
			Data: event.MustData(event.ReferralData{CampaignID: campaignID, Threshold: rw.Threshold})}); err != nil {
			return granted, err
		}
		if told.Points > 0 || told.CouponBatchID > 0 || told.Gift != "" {
			note, err := s.tellTx(ctx, tx, c, memberID, told, ref)
			if err != nil {
				return granted, err
			}
			if note != "" {
				notes = append(notes, note)
			}
		}
		if note := strings.Join(notes, "; "); note != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE referral_grants SET note = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, id, note); err != nil {
				return granted, err
			}
		}
		granted++
	}
	return granted, nil
}

// tellTx queues the reward's private message; it returns a note for the
// operator when the member cannot be reached.
func (s *Service) tellTx(ctx context.Context, tx *store.Tx, c Campaign, memberID int64, rw Reward, ref string) (string, error) {
	if s.notifier == nil || s.cat == nil {
		return "", nil
	}
	lang, err := notify.LocaleTx(ctx, tx, c.TenantID, memberID)
	if err != nil {
		return "", err
	}
	var what []string
	if rw.Points > 0 {
		what = append(what, s.cat.T(lang, "referral.dm.points", rw.Points))
	}
	if rw.CouponBatchID > 0 {
		what = append(what, s.cat.T(lang, "referral.dm.coupon"))
	}
	if rw.Gift != "" {
		what = append(what, s.cat.T(lang, "referral.dm.gift", rw.Gift))
	}
	body := s.cat.T(lang, "referral.dm.reward", c.Name, rw.Threshold, strings.Join(what, s.cat.T(lang, "referral.dm.and")))
	if _, err := s.notifier.DMTx(ctx, tx, notify.Message{TenantID: c.TenantID, MemberID: memberID, Key: "referral:" + ref, Body: body}); err != nil {
		// No channel to reach them on: recorded for the operator, the
		// reward stands. Anything else (a database error) fails the pass.
		if errors.Is(err, store.ErrInvalid) {
			return "not told: " + err.Error(), nil
		}
		return "", err
	}
	return "", nil
}

// Grant is a reward given.
type Grant struct {
	ID            int64
	CampaignID    int64
	MemberID      int64
	Name          string
	Threshold     int
	Ref           string
	Points        int64
	CouponBatchID int64
	Gift          string
	Note          string
	GrantedAt     time.Time
	FulfilledAt   time.Time
}

// Grants lists a campaign's rewards given, newest first; memberID 0 lists
// everyone's.
func (s *Service) Grants(ctx context.Context, tenantID, campaignID, memberID int64) ([]Grant, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT g.id, g.campaign_id, g.member_id, m.display_name, g.threshold, g.ref, g.points, g.coupon_batch_id,
		g.gift, g.note, g.granted_at, g.fulfilled_at FROM referral_grants g JOIN members m ON m.id = g.member_id AND m.tenant_id = g.tenant_id
		WHERE g.tenant_id = $1 AND g.campaign_id = $2 AND ($3 = 0 OR g.member_id = $3) ORDER BY g.id DESC LIMIT 500`, tenantID, campaignID, memberID)
	if err != nil {
		return nil, fmt.Errorf("referral: grants: %w", err)
	}
	return store.Collect(rows, func(sc interface{ Scan(...any) error }) (Grant, error) {
		var g Grant
		var at int64
		var ful sql.NullInt64
		err := sc.Scan(&g.ID, &g.CampaignID, &g.MemberID, &g.Name, &g.Threshold, &g.Ref, &g.Points, &g.CouponBatchID, &g.Gift, &g.Note, &at, &ful)
		g.GrantedAt, g.FulfilledAt = store.Time(at), store.NullMillis(ful)
		return g, err
	})
}

// Fulfil records that the operator handed a gift over.
func (s *Service) Fulfil(ctx context.Context, tenantID, campaignID, grantID int64) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE referral_grants SET fulfilled_at = $4 WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3
		AND gift <> '' AND fulfilled_at IS NULL`, tenantID, campaignID, grantID, store.Millis(s.Now()))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		ok, err := store.Exists(ctx, s.db.R, `SELECT COUNT(*) FROM referral_grants WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3 AND gift <> ''`,
			tenantID, campaignID, grantID)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
	}
	return nil
}
