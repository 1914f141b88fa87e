package referral

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// ErrSetFull is returned when every group of a set is at its hard cap.
var ErrSetFull = errors.New("referral: every group of the set is full")

// Set is an ordered list of groups behind one join code (活码): a
// newcomer goes to the first group below its soft cap, else to the first
// below its hard cap.
type Set struct {
	ID        int64
	TenantID  int64
	Name      string
	FullSince time.Time // a join was refused because every group was full
	CreatedAt time.Time
	Groups    []SetGroup
}

// SetGroup is one group of a set with its caps and, when read, its fill.
type SetGroup struct {
	GroupID  int64
	Name     string // filled by reads
	Position int
	SoftCap  int // open the next group once this one has SoftCap active members
	HardCap  int // never more than this (nor more than the group's capacity)
	Active   int // active members, filled by reads
	Capacity int // the group's own capacity, filled by reads
	Archived bool
}

// Limit is the effective hard cap: the set's, bounded by the group's
// capacity.
func (g SetGroup) Limit() int {
	if g.Capacity > 0 && g.Capacity < g.HardCap {
		return g.Capacity
	}
	return g.HardCap
}

// Percent is the fill of the soft cap, 0–100, for a bar.
func (g SetGroup) Percent() int {
	if g.SoftCap == 0 {
		return 0
	}
	return min(100, g.Active*100/g.SoftCap)
}

// State is "open" (below the soft cap), "overflow" (between the caps) or
// "full".
func (g SetGroup) State() string {
	switch {
	case g.Archived || g.Active >= g.Limit():
		return "full"
	case g.Active >= g.SoftCap:
		return "overflow"
	}
	return "open"
}

// Field limits of sets.
const (
	MaxSetName   = 60
	MaxSetGroups = 50
)

// validateSet normalises a set and checks it against the tenant's groups.
func validateSet(ctx context.Context, q store.Querier, st *Set) error {
	st.Name = textnorm.Line(st.Name)
	if st.Name == "" || !textnorm.Limit(st.Name, MaxSetName) {
		return fmt.Errorf("%w: a set's name has 1–%d characters", store.ErrInvalid, MaxSetName)
	}
	if len(st.Groups) == 0 {
		return fmt.Errorf("%w: choose at least one group for the set", store.ErrInvalid)
	}
	if len(st.Groups) > MaxSetGroups {
		return fmt.Errorf("%w: a set has at most %d groups", store.ErrInvalid, MaxSetGroups)
	}
	seen := map[int64]bool{}
	for i := range st.Groups {
		g := &st.Groups[i]
		if seen[g.GroupID] {
			return fmt.Errorf("%w: a group appears twice in the set", store.ErrInvalid)
		}
		seen[g.GroupID] = true
		g.Position = i + 1
		if g.SoftCap < 1 || g.SoftCap > community.MaxCapacity {
			return fmt.Errorf("%w: soft cap must be 1–%d", store.ErrInvalid, community.MaxCapacity)
		}
		if g.HardCap == 0 {
			g.HardCap = g.SoftCap
		}
		if g.HardCap < g.SoftCap || g.HardCap > community.MaxCapacity {
			return fmt.Errorf("%w: the hard cap must be at least the soft cap and at most %d", store.ErrInvalid, community.MaxCapacity)
		}
		ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL`,
			st.TenantID, g.GroupID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: group %d is not one of this brand's open groups", store.ErrInvalid, g.GroupID)
		}
	}
	return nil
}

func (s *Service) insertSetGroupsTx(ctx context.Context, tx *store.Tx, st Set) error {
	for _, g := range st.Groups {
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_set_groups (tenant_id, set_id, group_id, position, soft_cap, hard_cap)
			VALUES ($1, $2, $3, $4, $5, $6)`, st.TenantID, st.ID, g.GroupID, g.Position, g.SoftCap, g.HardCap); err != nil {
			return fmt.Errorf("referral: set groups: %w", err)
		}
	}
	return nil
}

// CreateSet stores a set and its first ("default") join code.
func (s *Service) CreateSet(ctx context.Context, st Set) (Set, community.JoinCode, error) {
	var jc community.JoinCode
	st.CreatedAt = s.Now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := validateSet(ctx, tx, &st); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO group_sets (tenant_id, name, created_at) VALUES ($1, $2, $3) RETURNING id`,
			st.TenantID, st.Name, store.Millis(st.CreatedAt)).Scan(&st.ID); err != nil {
			return fmt.Errorf("referral: create set: %w", err)
		}
		if err := s.insertSetGroupsTx(ctx, tx, st); err != nil {
			return err
		}
		var err error
		jc, err = s.community.NewJoinCodeTx(ctx, tx, community.JoinCode{TenantID: st.TenantID, GroupID: st.Groups[0].GroupID,
			SetID: st.ID, Source: "default", CreatedAt: st.CreatedAt})
		return err
	})
	return st, jc, err
}

// UpdateSet replaces a set's name, groups, order and caps. Members stay
// where they are; only later joins follow the new order.
func (s *Service) UpdateSet(ctx context.Context, st Set) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.lockSetTx(ctx, tx, st.TenantID, st.ID); err != nil {
			return err
		}
		if err := validateSet(ctx, tx, &st); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE group_sets SET name = $3, full_since = NULL WHERE tenant_id = $1 AND id = $2`,
			st.TenantID, st.ID, st.Name); err != nil {
			return fmt.Errorf("referral: update set: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_set_groups WHERE tenant_id = $1 AND set_id = $2`, st.TenantID, st.ID); err != nil {
			return fmt.Errorf("referral: update set: %w", err)
		}
		return s.insertSetGroupsTx(ctx, tx, st)
	})
}

// lockSetTx checks that the set is the tenant's and, on PostgreSQL, locks
// its row for the rest of tx: joins through one set run one after the
// other (on SQLite the write transaction already does this).
func (s *Service) lockSetTx(ctx context.Context, tx *store.Tx, tenantID, setID int64) error {
	q := `SELECT id FROM group_sets WHERE tenant_id = $1 AND id = $2`
	if s.db.Dialect == store.Postgres {
		q += ` FOR UPDATE`
	}
	err := tx.QueryRowContext(ctx, q, tenantID, setID).Scan(new(int64))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("referral: lock set: %w", err)
	}
	return nil
}

// slot is one group of a set as the router sees it.
type slot struct {
	SetGroup
	in      bool // the member is in it now
	removed bool // the member was removed from it
}

func (s *Service) slots(ctx context.Context, q store.Querier, tenantID, setID, memberID int64) ([]slot, error) {
	rows, err := q.QueryContext(ctx, `SELECT sg.group_id, g.name, sg.position, sg.soft_cap, sg.hard_cap, g.capacity, g.archived_at IS NOT NULL,
		(SELECT COUNT(*) FROM group_members gm WHERE gm.tenant_id = sg.tenant_id AND gm.group_id = sg.group_id AND gm.left_at IS NULL AND gm.removed_at IS NULL),
		(SELECT COUNT(*) FROM group_members gm WHERE gm.tenant_id = sg.tenant_id AND gm.group_id = sg.group_id AND gm.member_id = $3 AND gm.left_at IS NULL AND gm.removed_at IS NULL),
		(SELECT COUNT(*) FROM group_members gm WHERE gm.tenant_id = sg.tenant_id AND gm.group_id = sg.group_id AND gm.member_id = $3 AND gm.removed_at IS NOT NULL)
		FROM group_set_groups sg JOIN community_groups g ON g.id = sg.group_id AND g.tenant_id = sg.tenant_id
		WHERE sg.tenant_id = $1 AND sg.set_id = $2 ORDER BY sg.position`, tenantID, setID, memberID)
	if err != nil {
		return nil, fmt.Errorf("referral: set groups: %w", err)
	}
	defer rows.Close()
	var out []slot
	for rows.Next() {
		var sl slot
		var in, removed int
		if err := rows.Scan(&sl.GroupID, &sl.Name, &sl.Position, &sl.SoftCap, &sl.HardCap, &sl.Capacity, &sl.Archived,
			&sl.Active, &in, &removed); err != nil {
			return nil, err
		}
		sl.in, sl.removed = in > 0, removed > 0
		out = append(out, sl)
	}
	return out, rows.Err()
}

// pick is the routing rule: a group the member is in already; else the
// first open group below its soft cap; else the first below its hard cap.
// Archived groups and groups the member was removed from are skipped.
func pick(slots []slot) (groupID int64, already bool, err error) {
	for _, sl := range slots {
		if sl.in {
			return sl.GroupID, true, nil
		}
	}
	for _, sl := range slots {
		if !sl.Archived && !sl.removed && sl.Active < sl.SoftCap && sl.Active < sl.Limit() {
			return sl.GroupID, false, nil
		}
	}
	for _, sl := range slots {
		if !sl.Archived && !sl.removed && sl.Active < sl.Limit() {
			return sl.GroupID, false, nil
		}
	}
	if len(slots) > 0 {
		for _, sl := range slots {
			if !sl.removed {
				return 0, false, ErrSetFull
			}
		}
		return 0, false, community.ErrRemoved
	}
	return 0, false, ErrSetFull
}

// RouteTx decides, inside the join's transaction, which group of the set a
// member joins. It locks the set (and on PostgreSQL its groups' rows, in id
// order, so that a join through a group's own code cannot slip in between
// the count and the join), so concurrent joins never put a group over its
// soft cap while a later one has room. already reports a member who is in
// one of the set's groups (no second join). Every group full is
// ErrSetFull.
func (s *Service) RouteTx(ctx context.Context, tx *store.Tx, tenantID, setID, memberID int64) (int64, bool, error) {
	if err := s.lockSetTx(ctx, tx, tenantID, setID); err != nil {
		return 0, false, err
	}
	if s.db.Dialect == store.Postgres {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM community_groups WHERE tenant_id = $1
			AND id IN (SELECT group_id FROM group_set_groups WHERE tenant_id = $1 AND set_id = $2) ORDER BY id FOR UPDATE`, tenantID, setID)
		if err != nil {
			return 0, false, fmt.Errorf("referral: lock set groups: %w", err)
		}
		for rows.Next() { // each row fetched is locked
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, false, fmt.Errorf("referral: lock set groups: %w", err)
		}
	}
	slots, err := s.slots(ctx, tx, tenantID, setID, memberID)
	if err != nil {
		return 0, false, err
	}
	gid, already, err := pick(slots)
	if err != nil {
		return 0, false, err
	}
	if !already {
		if _, err := tx.ExecContext(ctx, `UPDATE group_sets SET full_since = NULL WHERE tenant_id = $1 AND id = $2 AND full_since IS NOT NULL`,
			tenantID, setID); err != nil {
			return 0, false, err
		}
	}
	return gid, already, nil
}

// Preview is the group a member would join now (read only, for the join
// page); ErrSetFull when every group is full.
func (s *Service) Preview(ctx context.Context, tenantID, setID, memberID int64) (int64, bool, error) {
	slots, err := s.slots(ctx, s.db.R, tenantID, setID, memberID)
	if err != nil {
		return 0, false, err
	}
	return pick(slots)
}

// MarkFull records that a join was refused because every group of the set
// was full: the console shows a warning until a join succeeds or the set
// is edited.
func (s *Service) MarkFull(ctx context.Context, tenantID, setID int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE group_sets SET full_since = $3 WHERE tenant_id = $1 AND id = $2 AND full_since IS NULL`,
		tenantID, setID, store.Millis(s.Now()))
	return err
}

func scanSet(sc interface{ Scan(...any) error }) (Set, error) {
	var st Set
	var full sql.NullInt64
	var created int64
	err := sc.Scan(&st.ID, &st.TenantID, &st.Name, &full, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return st, store.ErrNotFound
	}
	st.FullSince, st.CreatedAt = store.NullMillis(full), store.Time(created)
	return st, err
}

func (s *Service) fillGroups(ctx context.Context, st *Set) error {
	slots, err := s.slots(ctx, s.db.R, st.TenantID, st.ID, 0)
	if err != nil {
		return err
	}
	st.Groups = nil
	for _, sl := range slots {
		st.Groups = append(st.Groups, sl.SetGroup)
	}
	return nil
}

// Set returns a set of the tenant with its groups and their fill.
func (s *Service) Set(ctx context.Context, tenantID, id int64) (Set, error) {
	st, err := scanSet(s.db.R.QueryRowContext(ctx, `SELECT id, tenant_id, name, full_since, created_at FROM group_sets
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return st, err
	}
	return st, s.fillGroups(ctx, &st)
}

// Sets lists the tenant's sets with their groups and fill, oldest first.
func (s *Service) Sets(ctx context.Context, tenantID int64) ([]Set, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, tenant_id, name, full_since, created_at FROM group_sets WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("referral: sets: %w", err)
	}
	sets, err := store.Collect(rows, scanSet)
	if err != nil {
		return nil, err
	}
	for i := range sets {
		if err := s.fillGroups(ctx, &sets[i]); err != nil {
			return nil, err
		}
	}
	return sets, nil
}

// NewSetJoinCode adds a join code to a set, for one source (a live, a
// poster, a staff member…).
func (s *Service) NewSetJoinCode(ctx context.Context, tenantID, setID int64, source string, expires time.Time) (community.JoinCode, error) {
	var jc community.JoinCode
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var first int64
		err := tx.QueryRowContext(ctx, `SELECT sg.group_id FROM group_set_groups sg JOIN group_sets s ON s.id = sg.set_id AND s.tenant_id = sg.tenant_id
			WHERE sg.tenant_id = $1 AND sg.set_id = $2 ORDER BY sg.position LIMIT 1`, tenantID, setID).Scan(&first)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		jc, err = s.community.NewJoinCodeTx(ctx, tx, community.JoinCode{TenantID: tenantID, GroupID: first, SetID: setID,
			Source: source, ExpiresAt: expires, CreatedAt: s.Now()})
		return err
	})
	return jc, err
}
