package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/store"
)

// Stored is a report of the history.
type Stored struct {
	ID        int64
	TenantID  int64
	Kind      Kind
	Period    analytics.Period
	CreatedAt time.Time
	CreatedBy int64 // the staff who asked for it; 0: the schedule
	SentAt    time.Time
	Report    Report // filled by Get, not by List
}

// Service keeps the history of reports, makes them on demand and on
// schedule, and sends them to staff.
type Service struct {
	d Deps
	// build makes a report (Build; tests put a stand-in).
	build func(ctx context.Context, tenantID int64, kind Kind, p analytics.Period) (Report, error)
}

// New returns the service.
func New(d Deps) *Service {
	s := &Service{d: d}
	s.build = func(ctx context.Context, tenantID int64, kind Kind, p analytics.Period) (Report, error) {
		return Build(ctx, s.d, tenantID, kind, p)
	}
	return s
}

// Catalog is the translations reports are rendered with.
func (s *Service) Catalog() *i18n.Catalog { return s.d.Catalog }

// checkPeriod refuses a weekly or monthly period that is not a whole
// week or month, and any period out of bounds.
func checkPeriod(kind Kind, p analytics.Period) error {
	if p.Days() <= 0 || p.Days() > MaxDays {
		return fmt.Errorf("%w: report: a period of %d days (1 to %d)", store.ErrInvalid, p.Days(), MaxDays)
	}
	if kind != Custom && PeriodOf(kind, p.From) != p {
		return fmt.Errorf("%w: report: %s is not one %s period", store.ErrInvalid, DayRange(p), kind)
	}
	return nil
}

// Generate makes the brand's report of kind for p and keeps it in the
// history; staffID is who asked (0: the schedule). A weekly or monthly
// report exists once per period: when it does, Generate returns it with
// created false (with its data) and builds nothing.
func (s *Service) Generate(ctx context.Context, tenantID int64, kind Kind, p analytics.Period, staffID int64) (Stored, bool, error) {
	if err := checkPeriod(kind, p); err != nil {
		return Stored{}, false, err
	}
	if kind != Custom {
		st, err := s.existing(ctx, tenantID, kind, p.From)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return st, false, err
		}
	}
	rep, err := s.build(ctx, tenantID, kind, p)
	if err != nil {
		return Stored{}, false, err
	}
	return s.save(ctx, tenantID, kind, p, staffID, rep)
}

// save inserts the report unless its period's report exists (a second
// node was quicker): then that one is returned, created false.
func (s *Service) save(ctx context.Context, tenantID int64, kind Kind, p analytics.Period, staffID int64, rep Report) (Stored, bool, error) {
	data, err := json.Marshal(rep)
	if err != nil {
		return Stored{}, false, fmt.Errorf("report: encode: %w", err)
	}
	st := Stored{TenantID: tenantID, Kind: kind, Period: p, CreatedAt: s.d.now().UTC(), CreatedBy: staffID, Report: rep}
	var by any
	if staffID > 0 {
		by = staffID
	}
	err = s.d.DB.W.QueryRowContext(ctx, `INSERT INTO reports (tenant_id, kind, period_from, period_to, created_at, created_by, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, kind, period_from) WHERE kind <> 'custom' DO NOTHING RETURNING id`,
		tenantID, string(kind), int(p.From), int(p.To), store.Millis(st.CreatedAt), by, string(data)).Scan(&st.ID)
	if errors.Is(err, sql.ErrNoRows) {
		st, err = s.existing(ctx, tenantID, kind, p.From)
		return st, false, err
	}
	if err != nil {
		return Stored{}, false, fmt.Errorf("report: save: %w", err)
	}
	return st, true, nil
}

const storedCols = `id, tenant_id, kind, period_from, period_to, created_at, created_by, sent_at`

func scanStored(r interface{ Scan(...any) error }, extra ...any) (Stored, error) {
	var st Stored
	var kind string
	var from, to int
	var created int64
	var by, sent sql.NullInt64
	err := r.Scan(append([]any{&st.ID, &st.TenantID, &kind, &from, &to, &created, &by, &sent}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return st, store.ErrNotFound
	}
	st.Kind, st.Period = Kind(kind), analytics.Period{From: analytics.Day(from), To: analytics.Day(to)}
	st.CreatedAt, st.CreatedBy, st.SentAt = store.Time(created), by.Int64, store.NullMillis(sent)
	return st, err
}

// find is the brand's weekly or monthly report starting on from.
func (s *Service) find(ctx context.Context, tenantID int64, kind Kind, from analytics.Day) (Stored, error) {
	return scanStored(s.d.DB.R.QueryRowContext(ctx, `SELECT `+storedCols+` FROM reports
		WHERE tenant_id = $1 AND kind = $2 AND period_from = $3 AND kind <> 'custom'`, tenantID, string(kind), int(from)))
}

// existing is the brand's weekly or monthly report starting on from,
// with its data.
func (s *Service) existing(ctx context.Context, tenantID int64, kind Kind, from analytics.Day) (Stored, error) {
	st, err := s.find(ctx, tenantID, kind, from)
	if err != nil {
		return st, err
	}
	return s.Get(ctx, tenantID, st.ID)
}

// Get returns one of the brand's reports with its data.
func (s *Service) Get(ctx context.Context, tenantID, id int64) (Stored, error) {
	var data string
	st, err := scanStored(s.d.DB.R.QueryRowContext(ctx, `SELECT `+storedCols+`, data FROM reports WHERE tenant_id = $1 AND id = $2`,
		tenantID, id), &data)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(data), &st.Report); err != nil {
		return st, fmt.Errorf("report: %d: decode: %w", id, err)
	}
	return st, nil
}

// List returns the brand's reports, newest first, without their data.
func (s *Service) List(ctx context.Context, tenantID int64, limit int) ([]Stored, error) {
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT `+storedCols+` FROM reports WHERE tenant_id = $1
		ORDER BY id DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("report: list: %w", err)
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Stored, error) { return scanStored(r) })
}

// Settings is where a brand's scheduled reports are sent.
type Settings struct {
	SendGroupID int64  // 0: not sent
	Locale      string // "": the brand's language
}

// Settings returns the brand's settings (zero when never saved).
func (s *Service) Settings(ctx context.Context, tenantID int64) (Settings, error) {
	var st Settings
	var group sql.NullInt64
	err := s.d.DB.R.QueryRowContext(ctx, `SELECT send_group_id, locale FROM report_settings WHERE tenant_id = $1`, tenantID).
		Scan(&group, &st.Locale)
	if errors.Is(err, sql.ErrNoRows) {
		return Settings{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("report: settings: %w", err)
	}
	st.SendGroupID = group.Int64
	return st, nil
}

// SaveSettings stores the brand's settings. The group must be one of the
// brand's groups in use; the locale one liveloop speaks, or "".
func (s *Service) SaveSettings(ctx context.Context, tenantID int64, st Settings) error {
	if st.Locale != "" && !i18n.Supported(st.Locale) {
		return fmt.Errorf("%w: report: language %q", store.ErrInvalid, st.Locale)
	}
	var group any
	if st.SendGroupID != 0 {
		g, err := s.d.Community.Group(ctx, tenantID, st.SendGroupID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !g.ArchivedAt.IsZero()) {
			return fmt.Errorf("%w: report: no group %d to send to", store.ErrInvalid, st.SendGroupID)
		}
		if err != nil {
			return err
		}
		group = g.ID
	}
	_, err := s.d.DB.W.ExecContext(ctx, `INSERT INTO report_settings (tenant_id, send_group_id, locale, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id) DO UPDATE SET send_group_id = excluded.send_group_id, locale = excluded.locale, updated_at = excluded.updated_at`,
		tenantID, group, st.Locale, store.Millis(s.d.now()))
	if err != nil {
		return fmt.Errorf("report: save settings: %w", err)
	}
	return nil
}
