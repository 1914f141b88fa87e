package referral

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// Statuses of an invite.
const (
	Pending  = "pending"
	Valid    = "valid"
	Rejected = "rejected"
)

// Reasons of a rejection (catalogue keys "referral.reason.<reason>").
const (
	ReasonSelf          = "self"           // the referrer themselves
	ReasonSelfDevice    = "self_device"    // from a device the referrer used
	ReasonSelfMerged    = "self_merged"    // later merged into the referrer
	ReasonAlreadyMember = "already_member" // in a group of the brand before the invite
	ReasonManyJoins     = "many_joins"     // suspicious: many joins from one address or device
	ReasonLeft          = "left"           // left within the stay days
	ReasonRemoved       = "removed"        // removed within the stay days
)

// Code is a member's personal invite link of a campaign.
type Code struct {
	TenantID   int64
	CampaignID int64
	MemberID   int64
	Code       string
}

const codeAlphabet = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

func newCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// CodeFor returns the member's personal link of a campaign, made on first
// use. A member of another tenant is ErrNotFound.
func (s *Service) CodeFor(ctx context.Context, tenantID, campaignID, memberID int64) (Code, error) {
	c := Code{TenantID: tenantID, CampaignID: campaignID, MemberID: memberID}
	err := s.db.R.QueryRowContext(ctx, `SELECT code FROM referral_codes WHERE tenant_id = $1 AND campaign_id = $2 AND member_id = $3`,
		tenantID, campaignID, memberID).Scan(&c.Code)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return c, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM members m, referral_campaigns c WHERE m.tenant_id = $1 AND m.id = $3
			AND c.tenant_id = $1 AND c.id = $2`, tenantID, campaignID, memberID)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		for range 3 {
			code := newCode()
			res, err := tx.ExecContext(ctx, `INSERT INTO referral_codes (tenant_id, campaign_id, member_id, code, created_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, tenantID, campaignID, memberID, code, store.Millis(s.Now()))
			if err != nil {
				return fmt.Errorf("referral: code: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				c.Code = code
				return nil
			}
			// Either the code was taken (next to impossible) or the member's
			// code was made meanwhile: read it back.
			err = tx.QueryRowContext(ctx, `SELECT code FROM referral_codes WHERE tenant_id = $1 AND campaign_id = $2 AND member_id = $3`,
				tenantID, campaignID, memberID).Scan(&c.Code)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return fmt.Errorf("referral: could not draw a unique code")
	})
	return c, err
}

// Resolve finds the campaign behind a personal link. Unknown codes are
// ErrNotFound; a campaign that is not running is ErrNotRunning.
func (s *Service) Resolve(ctx context.Context, code string) (Code, Campaign, error) {
	if len(code) == 0 || len(code) > 40 {
		return Code{}, Campaign{}, store.ErrNotFound
	}
	c := Code{Code: code}
	err := s.db.R.QueryRowContext(ctx, `SELECT tenant_id, campaign_id, member_id FROM referral_codes WHERE code = $1`, code).
		Scan(&c.TenantID, &c.CampaignID, &c.MemberID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, Campaign{}, store.ErrNotFound
	}
	if err != nil {
		return c, Campaign{}, err
	}
	camp, err := s.Campaign(ctx, c.TenantID, c.CampaignID)
	if err != nil {
		return c, camp, err
	}
	if !camp.Running(s.Now()) {
		return c, camp, ErrNotRunning
	}
	return c, camp, nil
}

// SeeDeviceTx records that a member used a device (the hash of its cookie).
func (s *Service) SeeDeviceTx(ctx context.Context, q store.Querier, tenantID, memberID int64, deviceHash string) error {
	if deviceHash == "" || memberID == 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `INSERT INTO member_devices (tenant_id, member_id, device_hash, seen_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, member_id, device_hash) DO UPDATE SET seen_at = excluded.seen_at`,
		tenantID, memberID, deviceHash, store.Millis(s.Now()))
	if err != nil {
		return fmt.Errorf("referral: device: %w", err)
	}
	return nil
}

// SeeDevice is SeeDeviceTx on its own.
func (s *Service) SeeDevice(ctx context.Context, tenantID, memberID int64, deviceHash string) error {
	return s.SeeDeviceTx(ctx, s.db.W, tenantID, memberID, deviceHash)
}

// WasMemberTx reports whether the member has (or had) a place in any group
// of the tenant: asked before the join, it tells an invitee who was a
// member already.
func WasMemberTx(ctx context.Context, q store.Querier, tenantID, memberID int64) (bool, error) {
	return store.Exists(ctx, q, `SELECT COUNT(*) FROM group_members WHERE tenant_id = $1 AND member_id = $2`, tenantID, memberID)
}

// InviteRequest is a join through a personal link.
type InviteRequest struct {
	Campaign   Campaign
	ReferrerID int64
	InviteeID  int64
	GroupID    int64 // the group the invitee joined (or was in)
	WasMember  bool  // the invitee had a place in a group of the brand before
	IPHash     string
	DeviceHash string
}

// Invite is one invitee of a campaign.
type Invite struct {
	ID         int64
	CampaignID int64
	ReferrerID int64
	Referrer   string // display names, filled by lists
	InviteeID  int64
	Invitee    string
	GroupID    int64
	JoinedAt   time.Time
	Status     string
	Reason     string
	DecidedAt  time.Time
	ValidOn    time.Time // when a pending invitee will count
}

// rootTx is the person a member record was merged into (or itself).
func rootTx(ctx context.Context, q store.Querier, tenantID, memberID int64) (int64, error) {
	var root int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(merged_into, id) FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, memberID).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	return root, err
}

// RecordInviteTx records, inside the join's transaction, that the invitee
// came through the referrer's link, with the first verdict: rejected
// (self-invite, an existing member, many joins from one address or
// device) or pending until the stay days pass. An invitee is recorded
// once per campaign: it reports false when they were before.
func (s *Service) RecordInviteTx(ctx context.Context, tx *store.Tx, r InviteRequest) (Invite, bool, error) {
	now := s.Now()
	c := r.Campaign
	inv := Invite{CampaignID: c.ID, ReferrerID: r.ReferrerID, InviteeID: r.InviteeID, GroupID: r.GroupID, JoinedAt: now, Status: Pending}
	if done, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM referral_invites WHERE tenant_id = $1 AND campaign_id = $2 AND invitee_id = $3`,
		c.TenantID, c.ID, r.InviteeID); err != nil || done {
		return inv, false, err
	}
	refRoot, err := rootTx(ctx, tx, c.TenantID, r.ReferrerID)
	if err != nil {
		return inv, false, err
	}
	invRoot, err := rootTx(ctx, tx, c.TenantID, r.InviteeID)
	if err != nil {
		return inv, false, err
	}
	switch {
	case refRoot == invRoot:
		inv.Status, inv.Reason = Rejected, ReasonSelf
	case r.DeviceHash != "":
		own, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM member_devices d JOIN members m ON m.id = d.member_id AND m.tenant_id = d.tenant_id
			WHERE d.tenant_id = $1 AND d.device_hash = $2 AND COALESCE(m.merged_into, m.id) = $3`, c.TenantID, r.DeviceHash, refRoot)
		if err != nil {
			return inv, false, err
		}
		if own {
			inv.Status, inv.Reason = Rejected, ReasonSelfDevice
		}
	}
	if inv.Status == Pending && r.WasMember {
		inv.Status, inv.Reason = Rejected, ReasonAlreadyMember
	}
	if inv.Status == Pending {
		since := store.Millis(now.Add(-s.AddressWindow))
		for _, h := range []struct{ col, v string }{{"ip_hash", r.IPHash}, {"device_hash", r.DeviceHash}} {
			if h.v == "" {
				continue
			}
			var n int
			// col is one of two constants, never input.
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referral_invites WHERE tenant_id = $1 AND `+h.col+` = $2 AND joined_at > $3`,
				c.TenantID, h.v, since).Scan(&n); err != nil {
				return inv, false, err
			}
			if n >= s.MaxPerAddress {
				inv.Status, inv.Reason = Rejected, ReasonManyJoins
				break
			}
		}
	}
	var decided any
	if inv.Status != Pending {
		decided = store.Millis(now)
		inv.DecidedAt = now
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO referral_invites (tenant_id, campaign_id, referrer_id, invitee_id, group_id, joined_at, status, reason,
		ip_hash, device_hash, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (campaign_id, invitee_id) DO NOTHING RETURNING id`,
		c.TenantID, c.ID, r.ReferrerID, r.InviteeID, r.GroupID, store.Millis(now), inv.Status, inv.Reason, r.IPHash, r.DeviceHash, decided).Scan(&inv.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, false, nil
	}
	if err != nil {
		return inv, false, fmt.Errorf("referral: invite: %w", err)
	}
	_, err = s.log.AppendTx(ctx, tx, &event.Event{TenantID: c.TenantID, Type: event.ReferralInvited, Source: event.SourceReferral,
		SourceID: "invite:" + strconv.FormatInt(c.ID, 10) + ":" + strconv.FormatInt(r.InviteeID, 10), At: now,
		MemberID: r.InviteeID, GroupID: r.GroupID,
		Data: event.MustData(event.ReferralData{CampaignID: c.ID, ReferrerID: r.ReferrerID, Status: inv.Status, Reason: inv.Reason})})
	return inv, err == nil, err
}

const inviteSelect = `SELECT i.id, i.campaign_id, i.referrer_id, r.display_name, i.invitee_id, m.display_name, i.group_id, i.joined_at,
	i.status, i.reason, i.decided_at, c.stay_days
	FROM referral_invites i
	JOIN members r ON r.id = i.referrer_id AND r.tenant_id = i.tenant_id
	JOIN members m ON m.id = i.invitee_id AND m.tenant_id = i.tenant_id
	JOIN referral_campaigns c ON c.id = i.campaign_id AND c.tenant_id = i.tenant_id`

func scanInvite(sc interface{ Scan(...any) error }) (Invite, error) {
	var inv Invite
	var joined int64
	var decided sql.NullInt64
	var stay int
	err := sc.Scan(&inv.ID, &inv.CampaignID, &inv.ReferrerID, &inv.Referrer, &inv.InviteeID, &inv.Invitee, &inv.GroupID, &joined,
		&inv.Status, &inv.Reason, &decided, &stay)
	inv.JoinedAt, inv.DecidedAt = store.Time(joined), store.NullMillis(decided)
	inv.ValidOn = inv.JoinedAt.Add(time.Duration(stay) * 24 * time.Hour)
	return inv, err
}

// Invites lists a campaign's invitees, newest first; referrerID 0 lists
// everyone's.
func (s *Service) Invites(ctx context.Context, tenantID, campaignID, referrerID int64, limit int) ([]Invite, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.db.R.QueryContext(ctx, inviteSelect+` WHERE i.tenant_id = $1 AND i.campaign_id = $2 AND ($3 = 0 OR i.referrer_id = $3)
		ORDER BY i.id DESC LIMIT $4`, tenantID, campaignID, referrerID, limit)
	if err != nil {
		return nil, fmt.Errorf("referral: invites: %w", err)
	}
	return store.Collect(rows, scanInvite)
}

// Counts are a campaign's (or one referrer's) invitees by status.
type Counts struct {
	Invited, Pending, Valid, Rejected int
}

// Count counts a campaign's invitees by status; referrerID 0 counts
// everyone's.
func (s *Service) Count(ctx context.Context, tenantID, campaignID, referrerID int64) (Counts, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT status, COUNT(*) FROM referral_invites WHERE tenant_id = $1 AND campaign_id = $2
		AND ($3 = 0 OR referrer_id = $3) GROUP BY status`, tenantID, campaignID, referrerID)
	if err != nil {
		return Counts{}, err
	}
	defer rows.Close()
	var c Counts
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return c, err
		}
		c.Invited += n
		switch st {
		case Pending:
			c.Pending = n
		case Valid:
			c.Valid = n
		case Rejected:
			c.Rejected = n
		}
	}
	return c, rows.Err()
}

// Leader is a line of the leaderboard: a display name only, never
// contact data.
type Leader struct {
	Rank     int
	MemberID int64
	Name     string
	Valid    int
}

// Leaderboard lists the top referrers of a campaign by valid invitees
// (ties: who got there first).
func (s *Service) Leaderboard(ctx context.Context, tenantID, campaignID int64, limit int) ([]Leader, error) {
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT i.referrer_id, m.display_name, COUNT(*), MAX(i.decided_at) FROM referral_invites i
		JOIN members m ON m.id = i.referrer_id AND m.tenant_id = i.tenant_id
		WHERE i.tenant_id = $1 AND i.campaign_id = $2 AND i.status = 'valid'
		GROUP BY i.referrer_id, m.display_name ORDER BY COUNT(*) DESC, MAX(i.decided_at), i.referrer_id LIMIT $3`, tenantID, campaignID, limit)
	if err != nil {
		return nil, fmt.Errorf("referral: leaderboard: %w", err)
	}
	defer rows.Close()
	var out []Leader
	for rows.Next() {
		var l Leader
		var last sql.NullInt64
		if err := rows.Scan(&l.MemberID, &l.Name, &l.Valid, &last); err != nil {
			return nil, err
		}
		l.Rank = len(out) + 1
		out = append(out, l)
	}
	return out, rows.Err()
}
