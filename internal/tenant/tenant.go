package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Tenant is a brand or seller.
type Tenant struct {
	ID        int64
	Slug      string
	Name      string
	Timezone  string
	Locale    string
	CreatedAt time.Time
}

// Location is the tenant's time zone (UTC if it cannot be loaded).
func (t Tenant) Location() *time.Location {
	if loc, ok := locations.Load(t.Timezone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		loc = time.UTC
	}
	locations.Store(t.Timezone, loc)
	return loc
}

// locations caches time.LoadLocation, which reads and parses the zone
// database on every call (a fifth of the rule runner's CPU before this);
// there are a few hundred zone names at most.
var locations sync.Map

// Role is what a staff account may do.
type Role string

const (
	Owner    Role = "owner"
	Operator Role = "operator"
	Host     Role = "host"
	Analyst  Role = "analyst"
)

// Staff is a console account of one tenant.
type Staff struct {
	ID        int64
	TenantID  int64
	Email     string
	Name      string
	Role      Role
	Locale    string
	CreatedAt time.Time
}

// Service manages tenants, staff and sessions.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,40}$`)

// Create makes a tenant.
func (s *Service) Create(ctx context.Context, t Tenant) (Tenant, error) {
	t.Slug = strings.ToLower(strings.TrimSpace(t.Slug))
	t.Name = textnorm.Line(t.Name)
	if !slugRe.MatchString(t.Slug) {
		return t, fmt.Errorf("%w: tenant slug %q: use 2–41 lowercase letters, digits or dashes", store.ErrInvalid, t.Slug)
	}
	if t.Name == "" {
		return t, fmt.Errorf("%w: tenant name is empty", store.ErrInvalid)
	}
	if t.Timezone == "" {
		t.Timezone = "Asia/Shanghai"
	}
	if _, err := time.LoadLocation(t.Timezone); err != nil {
		return t, fmt.Errorf("%w: time zone %q", store.ErrInvalid, t.Timezone)
	}
	if t.Locale == "" {
		t.Locale = "zh-CN"
	}
	t.CreatedAt = time.Now().UTC()
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO tenants (slug, name, timezone, locale, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, t.Slug, t.Name, t.Timezone, t.Locale, store.Millis(t.CreatedAt)).Scan(&t.ID)
	if store.IsUniqueViolation(err) {
		return t, fmt.Errorf("%w: tenant %q exists", store.ErrConflict, t.Slug)
	}
	if err != nil {
		return t, fmt.Errorf("tenant: create %s: %w", t.Slug, err)
	}
	return t, nil
}

const tenantCols = `id, slug, name, timezone, locale, created_at`

func scanTenant(row *sql.Row) (Tenant, error) {
	var t Tenant
	var created int64
	err := row.Scan(&t.ID, &t.Slug, &t.Name, &t.Timezone, &t.Locale, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.ErrNotFound
	}
	t.CreatedAt = store.Time(created)
	return t, err
}

// Get returns a tenant by id.
func (s *Service) Get(ctx context.Context, id int64) (Tenant, error) {
	return scanTenant(s.db.R.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = $1`, id))
}

// BySlug returns a tenant by slug.
func (s *Service) BySlug(ctx context.Context, slug string) (Tenant, error) {
	return scanTenant(s.db.R.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE slug = $1`, strings.ToLower(slug)))
}

// AddStaff creates a staff account with a password.
func (s *Service) AddStaff(ctx context.Context, st Staff, password string) (Staff, error) {
	st.Email = strings.ToLower(strings.TrimSpace(st.Email))
	st.Name = textnorm.Line(st.Name)
	if !strings.Contains(st.Email, "@") || len(st.Email) > 200 {
		return st, fmt.Errorf("%w: email %q", store.ErrInvalid, st.Email)
	}
	if st.Name == "" {
		st.Name = st.Email
	}
	if st.Role == "" {
		st.Role = Operator
	}
	hash, err := HashPassword(password)
	if err != nil {
		return st, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	st.CreatedAt = time.Now().UTC()
	err = s.db.W.QueryRowContext(ctx, `INSERT INTO staff (tenant_id, email, name, role, password_hash, locale, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		st.TenantID, st.Email, st.Name, string(st.Role), hash, st.Locale, store.Millis(st.CreatedAt)).Scan(&st.ID)
	if store.IsUniqueViolation(err) {
		return st, fmt.Errorf("%w: staff %s exists", store.ErrConflict, st.Email)
	}
	if err != nil {
		return st, fmt.Errorf("tenant: add staff: %w", err)
	}
	return st, nil
}

const staffCols = `id, tenant_id, email, name, role, locale, created_at`

func scanStaff(sc interface{ Scan(...any) error }, extra ...any) (Staff, error) {
	var st Staff
	var role string
	var created int64
	dest := append([]any{&st.ID, &st.TenantID, &st.Email, &st.Name, &role, &st.Locale, &created}, extra...)
	err := sc.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return st, store.ErrNotFound
	}
	st.Role, st.CreatedAt = Role(role), store.Time(created)
	return st, err
}

// Staff returns a staff account of the tenant.
func (s *Service) Staff(ctx context.Context, tenantID, staffID int64) (Staff, error) {
	return scanStaff(s.db.R.QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE tenant_id = $1 AND id = $2`, tenantID, staffID))
}

// ErrBadLogin is returned for any failed login: unknown tenant, unknown
// email or wrong password alike, so a login form reveals none of them.
var ErrBadLogin = errors.New("tenant: wrong tenant, email or password")

// Authenticate checks a staff login.
func (s *Service) Authenticate(ctx context.Context, tenantSlug, email, password string) (Staff, error) {
	t, err := s.BySlug(ctx, strings.TrimSpace(tenantSlug))
	if errors.Is(err, store.ErrNotFound) {
		CheckPassword(dummyHash(), password)
		return Staff{}, ErrBadLogin
	}
	if err != nil {
		return Staff{}, err
	}
	var hash string
	st, err := scanStaff(s.db.R.QueryRowContext(ctx, `SELECT `+staffCols+`, password_hash FROM staff
		WHERE tenant_id = $1 AND email = $2`, t.ID, strings.ToLower(strings.TrimSpace(email))), &hash)
	if errors.Is(err, store.ErrNotFound) {
		CheckPassword(dummyHash(), password)
		return Staff{}, ErrBadLogin
	}
	if err != nil {
		return Staff{}, err
	}
	ok, err := CheckPassword(hash, password)
	if err != nil {
		return Staff{}, fmt.Errorf("tenant: staff %d: %w", st.ID, err)
	}
	if !ok {
		return Staff{}, ErrBadLogin
	}
	return st, nil
}
