package analytics

// SourceRow is the joins of one source (join attribution) in a period.
type SourceRow struct {
	Source    string `json:"source"` // join code label, "referral", "live", "direct" (none)
	Joins     int64  `json:"joins"`  // member_joined events
	New       int64  `json:"new"`    // members whose first join ever it was
	Returning int64  `json:"returning"`
	Prev      int64  `json:"prev"` // joins in the previous period of equal length
}

// Funnel is live viewers → joined → clicked → bought → bought again, for
// one live (LiveID) or all lives of the period (0).
type Funnel struct {
	LiveID int64        `json:"live_id"`
	Steps  []FunnelStep `json:"steps"`
}

// FunnelStep is one stage: Key names it (viewers, joined, clicked,
// bought, repeat), Members how many reached it.
type FunnelStep struct {
	Key     string `json:"key"`
	Members int64  `json:"members"`
}

// Cohort is the members who first joined in one week and how many of them
// were active 1, 7 and 30 days after their join day. A later day that has
// not come yet is not a number (Due false).
type Cohort struct {
	Week    Day      `json:"week"` // the Monday
	Members int64    `json:"members"`
	D1      Retained `json:"d1"`
	D7      Retained `json:"d7"`
	D30     Retained `json:"d30"`
}

// Retained is a cohort's members active on day N after their join day,
// among those whose day N has come (Eligible).
type Retained struct {
	Active   int64 `json:"active"`
	Eligible int64 `json:"eligible"`
}

// Attributed is the orders and GMV attributed (last touch) to one live,
// push (content item) or group.
type Attributed struct {
	Key    string `json:"key"` // live:<id>, content:<id>, group:<id>
	Label  string `json:"label"`
	Orders int64  `json:"orders"`
	GMV    int64  `json:"gmv"` // minor units, net of refunds
}
