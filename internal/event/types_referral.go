package event

// Event types of referral campaigns (internal/referral). Their Source is
// SourceReferral and their Data is ReferralData; the source id names the
// fact (an invitee of a campaign, the decision on an invite, a reward of a
// threshold), so a retried step is stored once.
const (
	// ReferralInvited: a member joined through another member's personal
	// link (MemberID the invitee; Data the referrer and the first verdict).
	ReferralInvited Type = "referral_invited"
	// ReferralDecided: a pending invitee became valid or was rejected.
	ReferralDecided Type = "referral_decided"
	// ReferralRewarded: a referrer reached a threshold and got its reward.
	ReferralRewarded Type = "referral_rewarded"
)

// SourceReferral is the source of the referral events.
const SourceReferral = "referral"

// ReferralData is the Data of the referral events.
type ReferralData struct {
	CampaignID int64  `json:"campaign_id"`
	ReferrerID int64  `json:"referrer_id,omitempty"`
	InviteeID  int64  `json:"invitee_id,omitempty"`
	Status     string `json:"status,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Threshold  int    `json:"threshold,omitempty"`
}
