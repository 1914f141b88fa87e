package community

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// JoinCode is a link (and QR code) that admits members to a group, or —
// with SetID — to a set of groups (活码, internal/referral routes it).
type JoinCode struct {
	ID       int64
	TenantID int64
	GroupID  int64
	// SetID, when not 0, makes this a set's code: GroupID then names the
	// set's first group when the code was made (join_codes.group_id is
	// NOT NULL) and the join goes wherever the set routes it.
	SetID      int64
	Code       string
	Source     string // where the link is published: "default", a live, a poster…
	ExpiresAt  time.Time
	DisabledAt time.Time
	CreatedAt  time.Time
}

// ErrExpired is returned for a join code that has expired or was disabled.
var ErrExpired = errors.New("community: join link expired")

// Usable reports whether the code admits members at t.
func (jc JoinCode) Usable(t time.Time) bool {
	return jc.DisabledAt.IsZero() && (jc.ExpiresAt.IsZero() || t.Before(jc.ExpiresAt))
}

// codeAlphabet leaves out look-alike characters (0/O, 1/l/I) so that a code
// read off a poster can be typed.
const codeAlphabet = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

func newCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

func newJoinCodeTx(ctx context.Context, tx *store.Tx, jc JoinCode) (JoinCode, error) {
	jc.Source = textnorm.Line(jc.Source)
	if !textnorm.Limit(jc.Source, 60) {
		return jc, fmt.Errorf("%w: source longer than 60 characters", store.ErrInvalid)
	}
	if jc.CreatedAt.IsZero() {
		jc.CreatedAt = time.Now().UTC()
	}
	var exp any
	if !jc.ExpiresAt.IsZero() {
		exp = store.Millis(jc.ExpiresAt)
	}
	for range 3 { // a collision of 10 random characters is next to impossible; retry anyway
		jc.Code = newCode()
		err := tx.QueryRowContext(ctx, `INSERT INTO join_codes (tenant_id, group_id, code, source, expires_at, created_at, set_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING RETURNING id`,
			jc.TenantID, jc.GroupID, jc.Code, jc.Source, exp, store.Millis(jc.CreatedAt), nullSet(jc.SetID)).Scan(&jc.ID)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return jc, fmt.Errorf("community: new join code: %w", err)
		}
		return jc, nil
	}
	return jc, fmt.Errorf("community: could not draw a unique join code")
}

func nullSet(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// NewJoinCodeTx creates a join link inside tx; the caller has checked that
// the group (and set) belong to the tenant.
func (s *Service) NewJoinCodeTx(ctx context.Context, tx *store.Tx, jc JoinCode) (JoinCode, error) {
	return newJoinCodeTx(ctx, tx, jc)
}

// NewJoinCode creates another join link for a group of the tenant.
func (s *Service) NewJoinCode(ctx context.Context, jc JoinCode) (JoinCode, error) {
	if _, err := s.Group(ctx, jc.TenantID, jc.GroupID); err != nil {
		return jc, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		jc, err = newJoinCodeTx(ctx, tx, jc)
		return err
	})
	return jc, err
}

// DisableJoinCode stops a join link from admitting anyone.
func (s *Service) DisableJoinCode(ctx context.Context, tenantID, id int64) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE join_codes SET disabled_at = $3 WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL`,
		tenantID, id, store.Millis(time.Now()))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

const joinCodeCols = `id, tenant_id, group_id, code, source, expires_at, disabled_at, created_at, set_id`

func scanJoinCode(sc interface{ Scan(...any) error }) (JoinCode, error) {
	var jc JoinCode
	var exp, dis, set sql.NullInt64
	var created int64
	err := sc.Scan(&jc.ID, &jc.TenantID, &jc.GroupID, &jc.Code, &jc.Source, &exp, &dis, &created, &set)
	jc.SetID = set.Int64
	if errors.Is(err, sql.ErrNoRows) {
		return jc, store.ErrNotFound
	}
	jc.ExpiresAt, jc.DisabledAt, jc.CreatedAt = store.NullMillis(exp), store.NullMillis(dis), store.Time(created)
	return jc, err
}

// JoinCodes lists a group's own join links (not those of a set it is in).
func (s *Service) JoinCodes(ctx context.Context, tenantID, groupID int64) ([]JoinCode, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+joinCodeCols+` FROM join_codes WHERE tenant_id = $1 AND group_id = $2 AND set_id IS NULL ORDER BY id`, tenantID, groupID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanJoinCode)
}

// SetJoinCodes lists the join links of a set of groups.
func (s *Service) SetJoinCodes(ctx context.Context, tenantID, setID int64) ([]JoinCode, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+joinCodeCols+` FROM join_codes WHERE tenant_id = $1 AND set_id = $2 ORDER BY id`, tenantID, setID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanJoinCode)
}

// ResolveJoinCode finds the join code behind a link. Codes are unique across
// tenants: the link itself names the tenant. It returns ErrNotFound for an
// unknown code and ErrExpired for one that no longer admits anyone.
func (s *Service) ResolveJoinCode(ctx context.Context, code string) (JoinCode, error) {
	if len(code) == 0 || len(code) > 40 {
		return JoinCode{}, store.ErrNotFound
	}
	jc, err := scanJoinCode(s.db.R.QueryRowContext(ctx, `SELECT `+joinCodeCols+` FROM join_codes WHERE code = $1`, code))
	if err != nil {
		return jc, err
	}
	if !jc.Usable(time.Now()) {
		return jc, ErrExpired
	}
	return jc, nil
}
