package campaign

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Segment is a filter over a tenant's members; every field that is set
// must hold (tags: any of them), and empty fields do not filter. It is
// compiled to parameterised SQL, never written as SQL by anyone.
type Segment struct {
	Tags []string `json:"tags,omitempty"` // has any of these tags
	// MinTier is a member tier's rank (commerce tiers: 0 the base tier);
	// the member's current tier must rank at least this. 0 does not filter.
	MinTier       int    `json:"min_tier,omitempty"`
	MinPoints     int64  `json:"min_points,omitempty"`     // a points balance of at least this
	ActiveDays    int    `json:"active_days,omitempty"`    // did something (message, check-in, vote, comment…) in the last N days
	JoinSource    string `json:"join_source,omitempty"`    // joined a group through a join code whose source is this
	WishedProduct string `json:"wished_product,omitempty"` // made a wish whose text contains this (case folded)
	GroupID       int64  `json:"group_id,omitempty"`       // is in this group now
}

// Limits of a segment.
const (
	MaxSegmentTags  = 20
	MaxActiveDays   = 365
	MaxSegmentRunes = 100
	MaxSegmentTier  = 9 // the highest tier rank (commerce.MaxTiers − 1)
)

// Empty reports whether s filters nothing (every member).
func (s Segment) Empty() bool {
	return len(s.Tags) == 0 && s.MinTier == 0 && s.MinPoints == 0 && s.ActiveDays == 0 && s.JoinSource == "" && s.WishedProduct == "" && s.GroupID == 0
}

// ValidateSegment normalises s and checks it; the problems are returned
// for the caller to name (a playbook step).
func ValidateSegment(s *Segment) []string {
	var out []string
	var tags []string
	for _, t := range s.Tags {
		if t = textnorm.Line(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	s.Tags = tags
	s.JoinSource, s.WishedProduct = textnorm.Line(s.JoinSource), textnorm.Line(s.WishedProduct)
	if len(tags) > MaxSegmentTags {
		out = append(out, fmt.Sprintf("a segment has at most %d tags", MaxSegmentTags))
	}
	if s.MinTier < 0 || s.MinTier > MaxSegmentTier {
		out = append(out, fmt.Sprintf("minimum tier must be 0 to %d", MaxSegmentTier))
	}
	if s.MinPoints < 0 {
		out = append(out, "minimum points cannot be negative")
	}
	if s.ActiveDays < 0 || s.ActiveDays > MaxActiveDays {
		out = append(out, fmt.Sprintf("active days must be 0 to %d", MaxActiveDays))
	}
	for _, f := range []string{s.JoinSource, s.WishedProduct} {
		if !textnorm.Limit(f, MaxSegmentRunes) {
			out = append(out, fmt.Sprintf("segment fields have at most %d characters", MaxSegmentRunes))
		}
	}
	if s.GroupID < 0 {
		out = append(out, "segment group is not valid")
	}
	return out
}

// activityTypes are the events that make a member active: things the
// member did, not things sent to them.
var activityTypes = []string{"message", "direct_message", "checked_in", "live_comment", "live_member_liked",
	"poll_voted", "prompt_entry", "wish_added", "coupon_claimed", "reward_redeemed", "member_joined"}

// audience is the members a send reaches: a segment, optionally within
// any of some groups, optionally only some members (a member journey).
type audience struct {
	seg       Segment
	anyGroups []int64
	only      []int64
}

// sqlArgs numbers the parameters of a statement as it is built.
type sqlArgs struct{ args []any }

func (a *sqlArgs) add(v any) string {
	a.args = append(a.args, v)
	return fmt.Sprintf("$%d", len(a.args))
}

func (a *sqlArgs) list(vs ...any) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = a.add(v)
	}
	return strings.Join(ps, ", ")
}

func ids(vs []int64) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// where is the condition on members m for the audience: the tenant's
// people (not merged records, not banned), and each filter that is set.
func (au audience) where(a *sqlArgs, tenantID int64, now time.Time) string {
	conds := []string{`m.tenant_id = ` + a.add(tenantID), `m.merged_into IS NULL`,
		`NOT EXISTS (SELECT 1 FROM bans b WHERE b.tenant_id = m.tenant_id AND b.member_id = m.id)`}
	s := au.seg
	if len(s.Tags) > 0 {
		tags := make([]any, len(s.Tags))
		for i, t := range s.Tags {
			tags[i] = t
		}
		conds = append(conds, `EXISTS (SELECT 1 FROM member_tags t WHERE t.tenant_id = m.tenant_id AND t.member_id = m.id AND t.tag IN (`+a.list(tags...)+`))`)
	}
	if s.MinTier > 0 {
		conds = append(conds, `EXISTS (SELECT 1 FROM member_tiers mt JOIN tiers tr ON tr.id = mt.tier_id AND tr.tenant_id = mt.tenant_id
			WHERE mt.tenant_id = m.tenant_id AND mt.member_id = m.id AND tr.rank >= `+a.add(s.MinTier)+`)`)
	}
	if s.MinPoints > 0 {
		conds = append(conds, `EXISTS (SELECT 1 FROM point_balances pb WHERE pb.tenant_id = m.tenant_id AND pb.member_id = m.id AND pb.balance >= `+a.add(s.MinPoints)+`)`)
	}
	if s.ActiveDays > 0 {
		since := store.Millis(now.AddDate(0, 0, -s.ActiveDays))
		types := make([]any, len(activityTypes))
		for i, t := range activityTypes {
			types[i] = t
		}
		conds = append(conds, `EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = m.tenant_id AND e.member_id = m.id AND e.at >= `+a.add(since)+
			` AND e.source <> 'outbox' AND e.type IN (`+a.list(types...)+`))`)
	}
	if s.JoinSource != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM group_members gm JOIN join_codes jc ON jc.id = gm.join_code_id AND jc.tenant_id = gm.tenant_id
			WHERE gm.tenant_id = m.tenant_id AND gm.member_id = m.id AND jc.source = `+a.add(s.JoinSource)+`)`)
	}
	if s.WishedProduct != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM wishes w WHERE w.tenant_id = m.tenant_id AND w.member_id = m.id
			AND LOWER(w.text) LIKE `+a.add(likePattern(s.WishedProduct))+` ESCAPE '!')`)
	}
	if s.GroupID != 0 {
		conds = append(conds, inGroups(a, []int64{s.GroupID}))
	}
	if len(au.anyGroups) > 0 {
		conds = append(conds, inGroups(a, au.anyGroups))
	}
	if au.only != nil {
		if len(au.only) == 0 {
			conds = append(conds, `1 = 0`)
		} else {
			conds = append(conds, `m.id IN (`+a.list(ids(au.only)...)+`)`)
		}
	}
	return strings.Join(conds, " AND ")
}

func inGroups(a *sqlArgs, groups []int64) string {
	return `EXISTS (SELECT 1 FROM group_members gm WHERE gm.tenant_id = m.tenant_id AND gm.member_id = m.id
		AND gm.left_at IS NULL AND gm.removed_at IS NULL AND gm.group_id IN (` + a.list(ids(groups)...) + `))`
}

// likePattern matches text containing s, case folded, with LIKE's own
// characters escaped by '!'.
func likePattern(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// Members returns the ids of the tenant's members in the segment at now,
// each once, in id order: people (merged records are not), not banned.
func Members(ctx context.Context, q store.Querier, tenantID int64, seg Segment, now time.Time) ([]int64, error) {
	return audienceIDs(ctx, q, tenantID, audience{seg: seg}, now)
}

func audienceIDs(ctx context.Context, q store.Querier, tenantID int64, au audience, now time.Time) ([]int64, error) {
	var a sqlArgs
	rows, err := q.QueryContext(ctx, `SELECT m.id FROM members m WHERE `+au.where(&a, tenantID, now)+` ORDER BY m.id`, a.args...)
	if err != nil {
		return nil, fmt.Errorf("campaign: segment: %w", err)
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

// reaches reports whether the audience has at least one member now.
func reaches(ctx context.Context, q store.Querier, tenantID int64, au audience, now time.Time) (bool, error) {
	var a sqlArgs
	return store.Exists(ctx, q, `SELECT COUNT(*) FROM (SELECT m.id FROM members m WHERE `+au.where(&a, tenantID, now)+` LIMIT 1) x`, a.args...)
}
