package event

// Event types of the loyalty package.
const (
	PointsChanged  Type = "points_changed"
	CheckedIn      Type = "checked_in"
	RewardRedeemed Type = "reward_redeemed"
)
