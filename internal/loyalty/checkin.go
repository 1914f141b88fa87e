package loyalty

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// CheckIn is one member's check-in of one tenant day.
type CheckIn struct {
	TenantID, MemberID, GroupID int64
	Day                         string // YYYY-MM-DD in the tenant's time zone
	At                          time.Time
	Streak                      int
	Points, Bonus               int64
}

// CheckInTx records a check-in and its points inside tx. A second check-in
// of the same member and day — however many race — gets
// ErrAlreadyCheckedIn and changes nothing: the table's primary key decides.
func (s *Service) CheckInTx(ctx context.Context, tx *store.Tx, c CheckIn) error {
	if _, err := time.Parse("2006-01-02", c.Day); err != nil || c.TenantID == 0 || c.MemberID == 0 || c.Streak < 1 || c.Points < 0 || c.Bonus < 0 {
		return fmt.Errorf("%w: check-in day %q, streak %d", store.ErrInvalid, c.Day, c.Streak)
	}
	if c.At.IsZero() {
		c.At = time.Now()
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO checkins (tenant_id, member_id, day, group_id, at, streak, points)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		c.TenantID, c.MemberID, c.Day, nullID(c.GroupID), store.Millis(c.At), c.Streak, c.Points+c.Bonus)
	if err != nil {
		return fmt.Errorf("loyalty: check-in: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrAlreadyCheckedIn
	}
	ref := fmt.Sprintf("checkin:%d:%s", c.MemberID, c.Day)
	for _, a := range []struct {
		kind Kind
		pts  int64
		ref  string
	}{{KindCheckIn, c.Points, ref}, {KindStreak, c.Bonus, fmt.Sprintf("streak:%d:%s", c.MemberID, c.Day)}} {
		if a.pts == 0 {
			continue
		}
		if _, _, err := s.AwardTx(ctx, tx, Entry{TenantID: c.TenantID, MemberID: c.MemberID, GroupID: c.GroupID, Delta: a.pts,
			Kind: a.kind, Ref: a.ref, At: c.At}); err != nil {
			return err
		}
	}
	_, err = s.log.AppendTx(ctx, tx, &event.Event{TenantID: c.TenantID, Type: event.CheckedIn, Source: "loyalty", SourceID: ref,
		At: c.At, MemberID: c.MemberID, GroupID: c.GroupID,
		Data: event.MustData(map[string]any{"day": c.Day, "streak": c.Streak, "points": c.Points, "bonus": c.Bonus})})
	return err
}

// LastCheckIn returns a member's latest check-in day and the streak then.
func (s *Service) LastCheckIn(ctx context.Context, q store.Querier, tenantID, memberID int64) (string, int, error) {
	var day string
	var streak int
	err := q.QueryRowContext(ctx, `SELECT day, streak FROM checkins WHERE tenant_id = $1 AND member_id = $2 ORDER BY day DESC LIMIT 1`,
		tenantID, memberID).Scan(&day, &streak)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return day, streak, err
}

func randomRef() string {
	b := make([]byte, 9)
	rand.Read(b)
	return hex.EncodeToString(b)
}
