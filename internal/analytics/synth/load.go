package synth

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// load reads a generated brand back, as its history left it, to append
// to it; last is the time (ms) of its latest event.
func (g *gen) load(ctx context.Context, slug string) (*brand, int64, error) {
	id, loc, err := Brand(ctx, g.db, slug)
	if err != nil {
		return nil, 0, err
	}
	b := &brand{tenantID: id, loc: loc, checked: map[int]bool{}, entered: map[[2]int64]bool{}, recent: map[int64][]int64{},
		dirty: map[int]bool{}}
	steps := []func(context.Context, *brand) error{g.loadGroups, g.loadLives, g.loadMembers, g.loadMemberships}
	for _, step := range steps {
		if err := step(ctx, b); err != nil {
			return nil, 0, fmt.Errorf("synth: load %s: %w", slug, err)
		}
	}
	last, err := Last(ctx, g.db, id)
	if err != nil {
		return nil, 0, err
	}
	ms := store.Millis(last)
	g.dayOf(b, ms)
	if err := g.loadToday(ctx, b, ms); err != nil {
		return nil, 0, fmt.Errorf("synth: load %s: %w", slug, err)
	}
	return b, ms, nil
}

func (g *gen) loadGroups(ctx context.Context, b *brand) error {
	if err := g.db.R.QueryRowContext(ctx, `SELECT id FROM staff WHERE tenant_id = $1 ORDER BY id LIMIT 1`, b.tenantID).Scan(&b.staffID); err != nil {
		return err
	}
	var err error
	if b.groups, err = ids(ctx, g.db, `SELECT id FROM community_groups WHERE tenant_id = $1 ORDER BY id`, b.tenantID); err != nil {
		return err
	}
	if len(b.groups) == 0 {
		return fmt.Errorf("no groups")
	}
	var cum float64
	for k := range b.groups {
		cum += 1 / math.Pow(float64(k+1), 0.7)
		b.groupCum = append(b.groupCum, cum)
	}
	b.contents, err = ids(ctx, g.db, `SELECT id FROM campaign_content WHERE tenant_id = $1 ORDER BY id`, b.tenantID)
	if err == nil && len(b.contents) == 0 {
		err = fmt.Errorf("no content items")
	}
	return err
}

func (g *gen) loadLives(ctx context.Context, b *brand) error {
	rows, err := g.db.R.QueryContext(ctx, `SELECT id, started_at, ended_at FROM lives WHERE tenant_id = $1 ORDER BY started_at`, b.tenantID)
	if err != nil {
		return err
	}
	b.lives, err = store.Collect(rows, func(r interface{ Scan(...any) error }) (live, error) {
		var l live
		return l, r.Scan(&l.id, &l.start, &l.end)
	})
	return err
}

func (g *gen) loadMembers(ctx context.Context, b *brand) error {
	rows, err := g.db.R.QueryContext(ctx, `SELECT id, display_name, created_at FROM members WHERE tenant_id = $1 ORDER BY created_at, id`, b.tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		var name string
		if err := rows.Scan(&id, &name, &at); err != nil {
			return err
		}
		b.members, b.names, b.joinAt = append(b.members, id), append(b.names, name), append(b.joinAt, at)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	n := len(b.members)
	b.home, b.second, b.lastIn, b.outAt = make([]int, n), make([]int, n), make([]int64, n), make([]int64, n)
	b.joined, b.next = n, n
	for k := range b.second {
		b.home[k], b.second[k], b.lastIn[k] = -1, -1, b.joinAt[k]
	}
	return nil
}

// loadMemberships finds each member's home group: the one they left or
// rejoined, else the first; the other one is their second group.
func (g *gen) loadMemberships(ctx context.Context, b *brand) error {
	index := make(map[int64]int, len(b.members))
	for k, id := range b.members {
		index[id] = k
	}
	group := make(map[int64]int, len(b.groups))
	for i, id := range b.groups {
		group[id] = i
	}
	rows, err := g.db.R.QueryContext(ctx, `SELECT member_id, group_id, joined_at, left_at FROM group_members WHERE tenant_id = $1
		ORDER BY member_id, group_id`, b.tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var member, gid, joined int64
		var left sql.NullInt64
		if err := rows.Scan(&member, &gid, &joined, &left); err != nil {
			return err
		}
		k, ok := index[member]
		if !ok {
			continue
		}
		moved := left.Valid || joined != b.joinAt[k]
		switch {
		case b.home[k] < 0:
			b.home[k] = group[gid]
		case moved:
			b.second[k], b.home[k] = b.home[k], group[gid]
		default:
			b.second[k] = group[gid]
		}
		if moved && b.home[k] == group[gid] {
			b.lastIn[k], b.outAt[k] = joined, left.Int64
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for k := range b.home {
		if b.home[k] < 0 {
			b.home[k] = 0 // a member without a membership (none are generated so)
		}
		if b.outAt[k] != 0 {
			b.outList = append(b.outList, k)
		}
	}
	return nil
}

// loadToday reads who has checked in on the day of last, and the groups'
// latest messages (what new messages may reply to).
func (g *gen) loadToday(ctx context.Context, b *brand, last int64) error {
	index := make(map[int64]int, len(b.members))
	for k, id := range b.members {
		index[id] = k
	}
	checked, err := ids(ctx, g.db, `SELECT member_id FROM events WHERE tenant_id = $1 AND type = $2 AND at >= $3 AND member_id IS NOT NULL`,
		b.tenantID, string(event.CheckedIn), b.day)
	if err != nil {
		return err
	}
	for _, m := range checked {
		b.checked[index[m]] = true
	}
	rows, err := g.db.R.QueryContext(ctx, `SELECT id, group_id FROM events WHERE tenant_id = $1 AND type = $2 AND at >= $3
		AND group_id IS NOT NULL ORDER BY id`, b.tenantID, string(event.Message), last-int64(time.Hour/time.Millisecond))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, gid int64
		if err := rows.Scan(&id, &gid); err != nil {
			return err
		}
		r := append(b.recent[gid], id)
		if len(r) > recentMessages {
			r = r[1:]
		}
		b.recent[gid] = r
	}
	return rows.Err()
}

func ids(ctx context.Context, db *store.DB, q string, args ...any) ([]int64, error) {
	rows, err := db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}
