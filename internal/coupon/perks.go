package coupon

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Perk kinds.
const (
	MemberDay = "member_day" // a recurring day: the batch's audience gets a coupon
	Birthday  = "birthday"   // members who gave their birthday get a coupon on it, once a year
)

// Perk grants a batch's coupons on a day: a member day (a day of the
// month, or a weekday) to the batch's audience, or each opted-in member's
// birthday.
type Perk struct {
	ID         int64
	TenantID   int64
	Kind       string
	Name       string
	BatchID    int64
	DayOfMonth int // member day: 1–31 (31 means the month's last day in shorter months); 0 none
	Weekday    int // member day: 0 (Sunday) – 6; -1 none
	Active     bool
	CreatedAt  time.Time

	// The last day it ran (filled by Perks): "" when never.
	LastDay     string
	LastGranted int
	LastSkipped int // left out: sold out, a disabled or expired batch
}

// DueOn reports whether the perk grants on the local date day.
func (p Perk) DueOn(day time.Time) bool {
	if !p.Active {
		return false
	}
	switch p.Kind {
	case Birthday:
		return true
	case MemberDay:
		last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, day.Location()).Day()
		if p.DayOfMonth > 0 && day.Day() == min(p.DayOfMonth, last) {
			return true
		}
		return p.Weekday >= 0 && int(day.Weekday()) == p.Weekday
	}
	return false
}

// CreatePerk validates and stores a perk.
func (s *Service) CreatePerk(ctx context.Context, p Perk) (Perk, error) {
	p.Name, p.Active, p.CreatedAt = textnorm.Line(p.Name), true, s.now().UTC()
	var probs []string
	if p.Name == "" || !textnorm.Limit(p.Name, MaxNameRunes) {
		probs = append(probs, fmt.Sprintf("name must be 1 to %d characters", MaxNameRunes))
	}
	switch p.Kind {
	case MemberDay:
		if p.DayOfMonth < 0 || p.DayOfMonth > 31 || p.Weekday < -1 || p.Weekday > 6 {
			probs = append(probs, "day of month must be 1 to 31, weekday Sunday to Saturday")
		} else if (p.DayOfMonth == 0) == (p.Weekday < 0) {
			probs = append(probs, "a member day is either a day of the month or a weekday")
		}
	case Birthday:
		p.DayOfMonth, p.Weekday = 0, -1
	default:
		probs = append(probs, "perk kind must be member day or birthday")
	}
	if len(probs) > 0 {
		return p, fmt.Errorf("%w: %s", store.ErrInvalid, strings.Join(probs, "; "))
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		b, err := getBatch(ctx, tx, p.TenantID, p.BatchID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: choose one of your coupon batches", store.ErrInvalid)
		}
		if err != nil {
			return err
		}
		if !b.DisabledAt.IsZero() {
			return fmt.Errorf("%w: the coupon batch is disabled", store.ErrInvalid)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO coupon_perks (tenant_id, kind, name, batch_id, day_of_month, weekday, active, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, p.TenantID, p.Kind, p.Name, p.BatchID, p.DayOfMonth, p.Weekday, p.Active,
			store.Millis(p.CreatedAt)).Scan(&p.ID)
	})
	return p, err
}

const perkCols = `id, tenant_id, kind, name, batch_id, day_of_month, weekday, active, created_at`

func scanPerk(r scanner) (Perk, error) {
	var p Perk
	var created int64
	err := r.Scan(&p.ID, &p.TenantID, &p.Kind, &p.Name, &p.BatchID, &p.DayOfMonth, &p.Weekday, &p.Active, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	p.CreatedAt = store.Time(created)
	return p, err
}

// Perks returns the tenant's perks, each with its last run.
func (s *Service) Perks(ctx context.Context, tenantID int64) ([]Perk, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+perkCols+` FROM coupon_perks WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, err
	}
	perks, err := store.Collect(rows, scanPerk)
	if err != nil || len(perks) == 0 {
		return perks, err
	}
	rows, err = s.db.R.QueryContext(ctx, `SELECT r.perk_id, r.day, r.granted, r.skipped FROM coupon_perk_runs r
		WHERE r.tenant_id = $1 AND r.day = (SELECT MAX(l.day) FROM coupon_perk_runs l WHERE l.tenant_id = r.tenant_id AND l.perk_id = r.perk_id)`, tenantID)
	if err != nil {
		return nil, err
	}
	type last struct {
		perk             int64
		day              string
		granted, skipped int
	}
	runs, err := store.Collect(rows, func(r scanner) (last, error) {
		var l last
		return l, r.Scan(&l.perk, &l.day, &l.granted, &l.skipped)
	})
	if err != nil {
		return nil, err
	}
	for _, l := range runs {
		for i := range perks {
			if perks[i].ID == l.perk {
				perks[i].LastDay, perks[i].LastGranted, perks[i].LastSkipped = l.day, l.granted, l.skipped
			}
		}
	}
	return perks, nil
}

// SetPerkActive turns a perk on or off.
func (s *Service) SetPerkActive(ctx context.Context, tenantID, id int64, active bool) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE coupon_perks SET active = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, id, active)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// SetBirthday records a member's birthday (month and day) for the birthday
// gift; month 0 removes it.
func (s *Service) SetBirthday(ctx context.Context, tenantID, memberID int64, month, day int) error {
	if month == 0 {
		_, err := s.db.W.ExecContext(ctx, `DELETE FROM coupon_birthdays WHERE tenant_id = $1 AND member_id = $2`, tenantID, memberID)
		return err
	}
	if month < 1 || month > 12 || day < 1 || day > time.Date(2024, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return fmt.Errorf("%w: that is not a day of the year", store.ErrInvalid)
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO coupon_birthdays (tenant_id, member_id, month, day, set_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, member_id) DO UPDATE SET month = excluded.month, day = excluded.day, set_at = excluded.set_at`,
		tenantID, memberID, month, day, store.Millis(s.now().UTC()))
	return err
}

// BirthdayOf is a member's recorded birthday (0, 0: none).
func (s *Service) BirthdayOf(ctx context.Context, tenantID, memberID int64) (month, day int, err error) {
	err = s.db.R.QueryRowContext(ctx, `SELECT month, day FROM coupon_birthdays WHERE tenant_id = $1 AND member_id = $2`,
		tenantID, memberID).Scan(&month, &day)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return month, day, err
}

// PerkRun is what one perk did on one day.
type PerkRun struct {
	PerkID  int64
	Day     string
	Granted int // codes granted (a rerun counts the ones it found again)
	Skipped int // members left out: sold out, unreachable members still get the code
}

// RunPerks grants every active perk due at now in each brand's time zone,
// and reports what it did. A perk's day is recorded once finished, so
// later passes skip it; a pass stopped halfway is finished by the next,
// and the grant refs (perk:<id>:<date>:<member>, birthday:<id>:<year>:<member>)
// make the repeated part add nothing — on any number of nodes.
func (s *Service) RunPerks(ctx context.Context, now time.Time) ([]PerkRun, error) {
	type brand struct {
		id       int64
		tz, lang string
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT DISTINCT t.id, t.timezone, t.locale FROM coupon_perks p JOIN tenants t ON t.id = p.tenant_id
		WHERE p.active ORDER BY t.id`)
	if err != nil {
		return nil, err
	}
	brands, err := store.Collect(rows, func(r scanner) (brand, error) {
		var b brand
		return b, r.Scan(&b.id, &b.tz, &b.lang)
	})
	if err != nil {
		return nil, err
	}
	var out []PerkRun
	for _, b := range brands {
		loc, err := time.LoadLocation(b.tz)
		if err != nil {
			loc = time.UTC
		}
		local := now.In(loc)
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
		perks, err := s.Perks(ctx, b.id)
		if err != nil {
			return out, err
		}
		for _, p := range perks {
			if !p.DueOn(day) {
				continue
			}
			run, err := s.runPerk(ctx, p, day, b.lang, now)
			if err != nil {
				return out, fmt.Errorf("coupon: perk %d on %s: %w", p.ID, run.Day, err)
			}
			if run.Day != "" {
				out = append(out, run)
			}
		}
	}
	return out, nil
}

// runPerk grants p's coupons for day; an empty Day in the result means
// the day had been done before.
func (s *Service) runPerk(ctx context.Context, p Perk, day time.Time, brandLang string, now time.Time) (PerkRun, error) {
	date := day.Format("2006-01-02")
	run := PerkRun{PerkID: p.ID}
	if done, err := store.Exists(ctx, s.db.R, `SELECT COUNT(*) FROM coupon_perk_runs WHERE tenant_id = $1 AND perk_id = $2 AND day = $3`,
		p.TenantID, p.ID, date); err != nil || done {
		return run, err
	}
	b, err := getBatch(ctx, s.db.R, p.TenantID, p.BatchID)
	if err != nil {
		return run, err
	}
	members, err := s.perkMembers(ctx, p, b, day, now)
	if err != nil {
		return run, err
	}
	run.Day = date
	if b.ValidDays == 0 && !b.ValidUntil.IsZero() && !now.Before(b.ValidUntil) {
		// The batch's codes have expired: granting one is no gift.
		run.Skipped = len(members)
		return run, s.markRun(ctx, p, date, run, now)
	}
	for _, m := range members {
		ref := fmt.Sprintf("perk:%d:%s:%d", p.ID, date, m)
		if p.Kind == Birthday {
			ref = fmt.Sprintf("birthday:%d:%d:%d", p.ID, day.Year(), m)
		}
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			c, err := s.GrantTx(ctx, tx, p.TenantID, p.BatchID, m, ref)
			if err != nil {
				return err
			}
			return s.tell(ctx, tx, p, b, c, brandLang)
		})
		switch {
		case errors.Is(err, ErrSoldOut) || errors.Is(err, ErrDisabled):
			run.Skipped += len(members) - run.Granted - run.Skipped
			return run, s.markRun(ctx, p, date, run, now)
		case errors.Is(err, store.ErrConflict):
			run.Skipped++ // a racing node is granting the same ref; it tells the member
		case err != nil:
			return run, err
		default:
			run.Granted++
		}
	}
	return run, s.markRun(ctx, p, date, run, now)
}

func (s *Service) markRun(ctx context.Context, p Perk, date string, run PerkRun, now time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO coupon_perk_runs (tenant_id, perk_id, day, granted, skipped, at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (perk_id, day) DO NOTHING`, p.TenantID, p.ID, date, run.Granted, run.Skipped, store.Millis(now))
	return err
}

// perkMembers are who p grants to on day: for a member day the batch's
// audience among the brand's people; for a birthday the members born on
// that month and day (29 February counts on the 28th in other years).
func (s *Service) perkMembers(ctx context.Context, p Perk, b Batch, day, now time.Time) ([]int64, error) {
	collect := func(rows *sql.Rows, err error) ([]int64, error) {
		if err != nil {
			return nil, err
		}
		return store.Collect(rows, func(r scanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
	}
	if p.Kind == Birthday {
		q := `SELECT bd.member_id FROM coupon_birthdays bd JOIN members m ON m.tenant_id = bd.tenant_id AND m.id = bd.member_id
			WHERE bd.tenant_id = $1 AND m.merged_into IS NULL AND bd.month = $2 AND (bd.day = $3 OR (bd.month = 2 AND bd.day = 29 AND $3 = 28 AND $4))
			ORDER BY bd.member_id`
		leap := time.Date(day.Year(), 2, 29, 0, 0, 0, 0, time.UTC).Day() == 29
		return collect(s.db.R.QueryContext(ctx, q, p.TenantID, int(day.Month()), day.Day(), !leap))
	}
	all, err := collect(s.db.R.QueryContext(ctx, `SELECT id FROM members WHERE tenant_id = $1 AND merged_into IS NULL ORDER BY id`, p.TenantID))
	if err != nil || b.Audience.Empty() {
		return all, err
	}
	var in []int64
	for _, m := range all {
		err := s.audienceRefusal(ctx, s.db.R, b, m, now)
		if err == nil {
			in = append(in, m)
		} else if Reason(err) == "" {
			return nil, err
		}
	}
	return in, nil
}

// tell queues the member's message about a perk's coupon, in their
// language; a member liveloop cannot reach keeps the coupon silently.
func (s *Service) tell(ctx context.Context, tx *store.Tx, p Perk, b Batch, c Code, brandLang string) error {
	if s.Notifier == nil || s.Catalog == nil {
		return nil
	}
	lang, err := notify.LocaleTx(ctx, tx, p.TenantID, c.MemberID)
	if err != nil {
		return err
	}
	if lang == "" {
		lang = brandLang
	}
	key := "coupons.dm.member_day"
	if p.Kind == Birthday {
		key = "coupons.dm.birthday"
	}
	body := s.Catalog.T(lang, key, b.Name, c.Code)
	ref := fmt.Sprintf("coupon:%d:told", c.ID)
	if s.Link != nil {
		link, err := s.Link(ctx, tx, p.TenantID, c.MemberID, b.ID, ref)
		if err != nil {
			return err
		}
		if link != "" {
			body += "\n" + link
		}
	}
	_, err = s.Notifier.DMTx(ctx, tx, notify.Message{TenantID: p.TenantID, MemberID: c.MemberID, Key: ref, Body: body})
	if errors.Is(err, notify.ErrUnreachable) || errors.Is(err, store.ErrInvalid) {
		return nil // no channel to reach them on: the coupon is on their coupons page
	}
	return err
}
