package tenant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/liveloop/liveloop/internal/store"
)

// SessionTTL is how long a console session lasts.
const SessionTTL = 7 * 24 * time.Hour

// Session is a logged-in staff member. The token is only in the cookie; the
// database keeps its SHA-256, so a leaked database holds no live sessions.
type Session struct {
	Token     string // set only by NewSession
	TenantID  int64
	StaffID   int64
	CSRFToken string
	ExpiresAt time.Time
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// NewSession starts a session for a staff account.
func (s *Service) NewSession(ctx context.Context, st Staff) (Session, error) {
	now := time.Now().UTC()
	sess := Session{Token: randomToken(), TenantID: st.TenantID, StaffID: st.ID, CSRFToken: randomToken(), ExpiresAt: now.Add(SessionTTL)}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO sessions (token_hash, tenant_id, staff_id, csrf_token, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, hashToken(sess.Token), sess.TenantID, sess.StaffID, sess.CSRFToken,
		store.Millis(now), store.Millis(sess.ExpiresAt))
	return sess, err
}

// SessionByToken returns the live session for a cookie token.
func (s *Service) SessionByToken(ctx context.Context, token string) (Session, error) {
	var sess Session
	var exp int64
	err := s.db.R.QueryRowContext(ctx, `SELECT tenant_id, staff_id, csrf_token, expires_at FROM sessions
		WHERE token_hash = $1 AND expires_at > $2`, hashToken(token), store.Millis(time.Now())).
		Scan(&sess.TenantID, &sess.StaffID, &sess.CSRFToken, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, store.ErrNotFound
	}
	sess.ExpiresAt = store.Time(exp)
	return sess, err
}

// EndSession deletes a session (logout).
func (s *Service) EndSession(ctx context.Context, token string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token))
	return err
}

// PruneSessions deletes expired sessions.
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, store.Millis(time.Now()))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
