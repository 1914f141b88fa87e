package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Roles lists persona roles in display order.
var Roles = []bot.Role{bot.RoleAssistant, bot.RoleBot, bot.RoleExpert, bot.RoleHost}

func validatePersona(p *bot.Persona) error {
	p.Name = textnorm.Line(p.Name)
	p.AvatarURL = strings.TrimSpace(p.AvatarURL)
	switch {
	case p.Name == "" || !textnorm.Limit(p.Name, 30):
		return fmt.Errorf("%w: persona name must have 1–30 characters", store.ErrInvalid)
	case p.Role != bot.RoleBot && p.Role != bot.RoleAssistant && p.Role != bot.RoleExpert && p.Role != bot.RoleHost:
		return fmt.Errorf("%w: persona role %q", store.ErrInvalid, p.Role)
	}
	if p.AvatarURL != "" {
		u, err := url.Parse(p.AvatarURL)
		if err != nil || (u.Scheme != "https" && !(u.Scheme == "" && strings.HasPrefix(p.AvatarURL, "/"))) || len(p.AvatarURL) > 500 {
			return fmt.Errorf("%w: avatar must be an https:// URL", store.ErrInvalid)
		}
	}
	return nil
}

// SavePersona creates (ID 0) or updates a persona of the tenant.
func (s *Store) SavePersona(ctx context.Context, tenantID int64, p bot.Persona) (bot.Persona, error) {
	if err := validatePersona(&p); err != nil {
		return p, err
	}
	if p.ID == 0 {
		err := s.db.W.QueryRowContext(ctx, `INSERT INTO personas (tenant_id, name, avatar_url, role, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, tenantID, p.Name, p.AvatarURL, string(p.Role), store.Millis(time.Now())).Scan(&p.ID)
		s.invalidate(tenantID)
		return p, err
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE personas SET name = $3, avatar_url = $4, role = $5 WHERE tenant_id = $1 AND id = $2`,
		tenantID, p.ID, p.Name, p.AvatarURL, string(p.Role))
	if err != nil {
		return p, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return p, store.ErrNotFound
	}
	s.invalidate(tenantID)
	return p, nil
}

// Personas lists the tenant's personas.
func (s *Store) Personas(ctx context.Context, tenantID int64) ([]bot.Persona, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name, avatar_url, role FROM personas WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("runner: personas: %w", err)
	}
	defer rows.Close()
	var out []bot.Persona
	for rows.Next() {
		var p bot.Persona
		var role string
		if err := rows.Scan(&p.ID, &p.Name, &p.AvatarURL, &role); err != nil {
			return nil, err
		}
		p.Role = bot.Role(role)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Persona returns one persona of the tenant.
func (s *Store) Persona(ctx context.Context, tenantID, id int64) (bot.Persona, error) {
	var p bot.Persona
	var role string
	err := s.db.R.QueryRowContext(ctx, `SELECT id, name, avatar_url, role FROM personas WHERE tenant_id = $1 AND id = $2`, tenantID, id).
		Scan(&p.ID, &p.Name, &p.AvatarURL, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	p.Role = bot.Role(role)
	return p, err
}
