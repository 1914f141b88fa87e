package runner

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/store"
)

// Store keeps personas and rules, with a short-lived cache of each
// tenant's rules for the runner (saving a rule clears it).
type Store struct {
	db    *store.DB
	mu    sync.Mutex
	cache map[int64]cachedRules

	// OnUndo, when set, is told after a moderation action in a group is
	// undone (to lift a mute on the group's platform).
	OnUndo func(ctx context.Context, tenantID, groupID, memberID int64, action string)
}

type cachedRules struct {
	rules    []bot.Rule
	personas map[int64]bot.Persona
	at       time.Time
}

// NewStore returns a Store on db.
func NewStore(db *store.DB) *Store { return &Store{db: db, cache: map[int64]cachedRules{}} }

func (s *Store) invalidate(tenantID int64) {
	s.mu.Lock()
	delete(s.cache, tenantID)
	s.mu.Unlock()
}

// SaveRule validates and stores a rule (ID 0 creates it). Invalid patterns,
// templates, windows or points are refused with the reason.
func (s *Store) SaveRule(ctx context.Context, tenantID int64, r bot.Rule) (bot.Rule, error) {
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	if _, err := s.Persona(ctx, tenantID, r.PersonaID); err != nil {
		return r, fmt.Errorf("%w: choose a persona of this brand", store.ErrInvalid)
	}
	if r.GroupID != 0 {
		var n int
		if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2`, tenantID, r.GroupID).Scan(&n); err != nil || n == 0 {
			return r, store.ErrNotFound
		}
	}
	cfg, err := json.Marshal(r)
	if err != nil {
		return r, err
	}
	now := store.Millis(time.Now())
	var group any
	if r.GroupID != 0 {
		group = r.GroupID
	}
	if r.ID == 0 {
		err = s.db.W.QueryRowContext(ctx, `INSERT INTO bot_rules (tenant_id, group_id, kind, persona_id, enabled, config, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`, tenantID, group, string(r.Kind), r.PersonaID, r.Enabled, string(cfg), now).Scan(&r.ID)
	} else {
		var res sql.Result
		res, err = s.db.W.ExecContext(ctx, `UPDATE bot_rules SET group_id = $3, kind = $4, persona_id = $5, enabled = $6, config = $7, updated_at = $8
			WHERE tenant_id = $1 AND id = $2`, tenantID, r.ID, group, string(r.Kind), r.PersonaID, r.Enabled, string(cfg), now)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				err = store.ErrNotFound
			}
		}
	}
	if err != nil {
		return r, err
	}
	s.invalidate(tenantID)
	return r, nil
}

// DeleteRule removes a rule.
func (s *Store) DeleteRule(ctx context.Context, tenantID, id int64) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM bot_rules WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	s.invalidate(tenantID)
	return nil
}

// Rules lists all rules of the tenant.
func (s *Store) Rules(ctx context.Context, tenantID int64) ([]bot.Rule, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, group_id, kind, persona_id, enabled, config FROM bot_rules WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("runner: rules: %w", err)
	}
	defer rows.Close()
	var out []bot.Rule
	for rows.Next() {
		var r bot.Rule
		var group sql.NullInt64
		var kind, cfg string
		var id, persona int64
		var enabled bool
		if err := rows.Scan(&id, &group, &kind, &persona, &enabled, &cfg); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(cfg), &r); err != nil {
			return nil, fmt.Errorf("runner: rule %d: %w", id, err)
		}
		r.ID, r.GroupID, r.Kind, r.PersonaID, r.Enabled = id, group.Int64, bot.Kind(kind), persona, enabled
		out = append(out, r)
	}
	return out, rows.Err()
}

// Rule returns one rule of the tenant.
func (s *Store) Rule(ctx context.Context, tenantID, id int64) (bot.Rule, error) {
	rules, err := s.Rules(ctx, tenantID)
	if err != nil {
		return bot.Rule{}, err
	}
	for _, r := range rules {
		if r.ID == id {
			return r, nil
		}
	}
	return bot.Rule{}, store.ErrNotFound
}

// rulesFor returns the enabled rules of a group (its own and the tenant's
// rules for all groups) and the tenant's personas, cached for a few
// seconds.
func (s *Store) rulesFor(ctx context.Context, tenantID, groupID int64) ([]bot.Rule, map[int64]bot.Persona, error) {
	s.mu.Lock()
	c, ok := s.cache[tenantID]
	s.mu.Unlock()
	if !ok || time.Since(c.at) > 5*time.Second {
		rules, err := s.Rules(ctx, tenantID)
		if err != nil {
			return nil, nil, err
		}
		ps, err := s.Personas(ctx, tenantID)
		if err != nil {
			return nil, nil, err
		}
		c = cachedRules{rules: rules, personas: map[int64]bot.Persona{}, at: time.Now()}
		for _, p := range ps {
			c.personas[p.ID] = p
		}
		s.mu.Lock()
		s.cache[tenantID] = c
		s.mu.Unlock()
	}
	var out []bot.Rule
	for _, r := range c.rules {
		if r.Enabled && (r.GroupID == 0 || r.GroupID == groupID) {
			out = append(out, r)
		}
	}
	return out, c.personas, nil
}
