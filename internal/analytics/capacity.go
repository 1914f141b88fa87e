package analytics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/store"
)

// Capacity advice kinds, most urgent first.
const (
	OverCap  = "over_cap"  // more members than the group's soft cap
	NearCap  = "near_cap"  // at NearCapShare of the cap or more
	Silent   = "silent"    // no member message in the last SilentDays tenant days
	TooSmall = "too_small" // under MinGroupMembers members
)

// The capacity thresholds. Seed 000: 先把一个群运营到两百人以上 — bring one
// group past two hundred before opening the next.
const (
	NearCapShare    = 0.9
	MinGroupMembers = 200
	TooSmallAfter   = 14 * 24 * time.Hour // a younger group is still filling up
	SilentDays      = 7                   // a younger group is not called silent
)

// capGroup is what Capacity knows about one group.
type capGroup struct {
	id          int64
	name        string
	capacity    int64
	created     time.Time
	members     int64 // active memberships now
	memberTalks int64 // member messages over the last SilentDays days
}

// Capacity is the tenant's groups (not archived) past or near their soft
// cap (community_groups.capacity; a cap of 0 is none), too small (under
// MinGroupMembers members, for groups older than TooSmallAfter) or silent
// (no member message in the last SilentDays tenant days, today included,
// for groups at least that old), most urgent kind first, then by group.
func (s *Service) Capacity(ctx context.Context, tenantID int64) ([]Advice, error) {
	loc, err := s.tenantLoc(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	today := DayOf(now, loc)
	rows, err := s.db.R.QueryContext(ctx, `SELECT g.id, g.name, g.capacity, g.created_at,
		(SELECT COUNT(*) FROM group_members gm WHERE gm.tenant_id = g.tenant_id AND gm.group_id = g.id
			AND gm.left_at IS NULL AND gm.removed_at IS NULL),
		(SELECT COALESCE(SUM(d.value), 0) FROM an_daily d WHERE d.tenant_id = g.tenant_id AND d.metric = 'member_messages'
			AND d.day >= $2 AND d.day <= $3 AND d.group_id = g.id)
		FROM community_groups g WHERE g.tenant_id = $1 AND g.archived_at IS NULL ORDER BY g.id`,
		tenantID, int64(today-SilentDays+1), int64(today))
	if err != nil {
		return nil, fmt.Errorf("analytics: capacity: %w", err)
	}
	groups, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (capGroup, error) {
		var g capGroup
		var created int64
		err := r.Scan(&g.id, &g.name, &g.capacity, &created, &g.members, &g.memberTalks)
		g.created = store.Time(created)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: capacity: %w", err)
	}
	out := []Advice{}
	silentSince := (today - SilentDays + 1).Start(loc)
	for _, g := range groups {
		out = append(out, advise(g, now, silentSince)...)
	}
	sortAdvice(out)
	return out, nil
}

// advise is the findings about one group at now; silentSince is the
// start of the silence window.
func advise(g capGroup, now, silentSince time.Time) []Advice {
	var out []Advice
	add := func(kind string) {
		out = append(out, Advice{GroupID: g.id, Name: g.name, Kind: kind, Members: g.members, Cap: g.capacity})
	}
	switch {
	case g.capacity > 0 && g.members > g.capacity:
		add(OverCap)
	case g.capacity > 0 && float64(g.members) >= NearCapShare*float64(g.capacity):
		add(NearCap)
	}
	if g.memberTalks == 0 && !g.created.After(silentSince) {
		add(Silent)
	}
	if g.members < MinGroupMembers && !g.created.After(now.Add(-TooSmallAfter)) {
		add(TooSmall)
	}
	return out
}

var adviceRank = map[string]int{OverCap: 0, NearCap: 1, Silent: 2, TooSmall: 3}

func sortAdvice(a []Advice) {
	sort.SliceStable(a, func(i, j int) bool {
		if adviceRank[a[i].Kind] != adviceRank[a[j].Kind] {
			return adviceRank[a[i].Kind] < adviceRank[a[j].Kind]
		}
		return a[i].GroupID < a[j].GroupID
	})
}

// tenantLoc is the tenant's time zone (UTC when it names none known).
func (s *Service) tenantLoc(ctx context.Context, tenantID int64) (*time.Location, error) {
	var tz string
	err := s.db.R.QueryRowContext(ctx, `SELECT timezone FROM tenants WHERE id = $1`, tenantID).Scan(&tz)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("analytics: tenant %d: %w", tenantID, err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC, nil
	}
	return loc, nil
}

// AdviceText renders a finding in locale (insight.capacity.<kind>, whose
// arguments are the group's name, its members, its cap and SilentDays).
func AdviceText(cat *i18n.Catalog, locale string, a Advice) string {
	return cat.T(locale, "insight.capacity."+a.Kind, a.Name, a.Members, a.Cap, SilentDays)
}
