package live

import (
	"context"
	"fmt"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// Candidates are who could win a lottery of the live: the tenant's members in groups now, with their
// groups, when they first joined, and whether they commented in
// the live room and liked it (what Eligible filters).
func (s *Service) Candidates(ctx context.Context, tenantID, liveID int64) ([]Candidate, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT gm.member_id, gm.group_id, gm.joined_at FROM group_members gm
		WHERE gm.tenant_id = $1 AND gm.left_at IS NULL AND gm.removed_at IS NULL ORDER BY gm.member_id`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := map[int64]*Candidate{}
	var order []int64
	for rows.Next() {
		var m, g, joined int64
		if err := rows.Scan(&m, &g, &joined); err != nil {
			return nil, err
		}
		cd, ok := byID[m]
		if !ok {
			cd = &Candidate{MemberID: m, MemberSince: store.Time(joined)}
			byID[m] = cd
			order = append(order, m)
		}
		cd.Groups = append(cd.Groups, g)
		if t := store.Time(joined); t.Before(cd.MemberSince) {
			cd.MemberSince = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	mark := func(typ event.Type, prefix string, set func(*Candidate)) error {
		rows, err := s.db.R.QueryContext(ctx, `SELECT DISTINCT member_id FROM events WHERE tenant_id = $1 AND type = $2
			AND source_id LIKE $3 AND member_id IS NOT NULL`, tenantID, string(typ), prefix)
		if err != nil {
			return err
		}
		ids, err := store.Collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
			var m int64
			return m, sc.Scan(&m)
		})
		for _, m := range ids {
			if cd, ok := byID[m]; ok {
				set(cd)
			}
		}
		return err
	}
	if err := mark(event.LiveComment, fmt.Sprintf("l%d:%%", liveID), func(c *Candidate) { c.Commented = true }); err != nil {
		return nil, err
	}
	if err := mark(event.LiveMemberLiked, fmt.Sprintf("liked:%d:%%", liveID), func(c *Candidate) { c.Liked = true }); err != nil {
		return nil, err
	}
	out := make([]Candidate, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return out, nil
}
