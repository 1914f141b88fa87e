package member

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Tags returns a person's tags, sorted.
func (s *Service) Tags(ctx context.Context, tenantID, memberID int64) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT tag FROM member_tags WHERE tenant_id = $1 AND member_id = $2 ORDER BY tag`, tenantID, memberID)
	if err != nil {
		return nil, fmt.Errorf("member: tags: %w", err)
	}
	defer rows.Close()
	var tags []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, rows.Err()
}

// AddTag tags a person (adding a tag twice is a no-op).
func (s *Service) AddTag(ctx context.Context, tenantID, memberID int64, tag string) error {
	tag = textnorm.Line(tag)
	if tag == "" || !textnorm.Limit(tag, MaxTagLen) {
		return fmt.Errorf("%w: tag must have 1–%d characters", store.ErrInvalid, MaxTagLen)
	}
	if _, err := s.Get(ctx, tenantID, memberID); err != nil {
		return err
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO member_tags (tenant_id, member_id, tag, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, tenantID, memberID, tag, store.Millis(time.Now()))
	return err
}

// RemoveTag removes a tag from a person.
func (s *Service) RemoveTag(ctx context.Context, tenantID, memberID int64, tag string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM member_tags WHERE tenant_id = $1 AND member_id = $2 AND tag = $3`, tenantID, memberID, tag)
	return err
}
