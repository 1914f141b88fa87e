package member

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Member is one person of a tenant.
type Member struct {
	ID          int64
	TenantID    int64
	DisplayName string
	Phone       string
	Email       string
	Locale      string
	OptedOut    bool  // no marketing messages to this person, on any channel
	MergedInto  int64 // non-zero when this record was merged into another
	CreatedAt   time.Time
}

// Identity is a member's account on one channel.
type Identity struct {
	ID          int64
	TenantID    int64
	MemberID    int64
	Channel     string
	ExternalID  string
	DisplayName string
	CreatedAt   time.Time
}

// Limits on what a member can set.
const (
	MaxNameLen  = 40
	MaxPhoneLen = 32
	MaxEmailLen = 200
	MaxTagLen   = 40
)

// MergeHook moves whatever another package keeps per member from one
// record to another, inside the merge's transaction.
type MergeHook func(ctx context.Context, tx *store.Tx, tenantID, from, to int64) error

// Service manages members.
type Service struct {
	db      *store.DB
	log     *event.Log
	onMerge []MergeHook
}

// NewService returns a Service.
func NewService(db *store.DB, log *event.Log) *Service { return &Service{db: db, log: log} }

// OnMerge registers a hook run by Merge.
func (s *Service) OnMerge(h MergeHook) { s.onMerge = append(s.onMerge, h) }

// Validate normalises a member's editable fields and checks their limits.
func Validate(m *Member) error {
	m.DisplayName = textnorm.Line(m.DisplayName)
	m.Phone = textnorm.Line(m.Phone)
	m.Email = strings.ToLower(textnorm.Line(m.Email))
	switch {
	case m.DisplayName == "":
		return fmt.Errorf("%w: display name is empty", store.ErrInvalid)
	case !textnorm.Limit(m.DisplayName, MaxNameLen):
		return fmt.Errorf("%w: display name longer than %d characters", store.ErrInvalid, MaxNameLen)
	case !textnorm.Limit(m.Phone, MaxPhoneLen) || strings.Trim(m.Phone, "+0123456789 -()") != "":
		return fmt.Errorf("%w: phone %q", store.ErrInvalid, m.Phone)
	case m.Email != "" && (!strings.Contains(m.Email, "@") || !textnorm.Limit(m.Email, MaxEmailLen)):
		return fmt.Errorf("%w: email %q", store.ErrInvalid, m.Email)
	}
	return nil
}

// CreateTx creates a member with one identity inside tx.
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, m Member, id Identity) (Member, error) {
	if err := Validate(&m); err != nil {
		return m, err
	}
	if id.Channel == "" || id.ExternalID == "" {
		return m, fmt.Errorf("%w: identity without channel or external id", store.ErrInvalid)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO members (tenant_id, display_name, phone, email, locale, opted_out, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		m.TenantID, m.DisplayName, m.Phone, m.Email, m.Locale, m.OptedOut, store.Millis(m.CreatedAt)).Scan(&m.ID)
	if err != nil {
		return m, fmt.Errorf("member: create: %w", err)
	}
	if id.DisplayName == "" {
		id.DisplayName = m.DisplayName
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO identities (tenant_id, member_id, channel, external_id, display_name, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, m.TenantID, m.ID, id.Channel, id.ExternalID, textnorm.Line(id.DisplayName), store.Millis(m.CreatedAt))
	if store.IsUniqueViolation(err) {
		return m, fmt.Errorf("%w: identity %s/%s already belongs to a member", store.ErrConflict, id.Channel, id.ExternalID)
	}
	if err != nil {
		return m, fmt.Errorf("member: create identity: %w", err)
	}
	return m, nil
}

// Create creates a member with one identity.
func (s *Service) Create(ctx context.Context, m Member, id Identity) (Member, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		m, err = s.CreateTx(ctx, tx, m, id)
		return err
	})
	return m, err
}

const memberCols = `id, tenant_id, display_name, phone, email, locale, opted_out, merged_into, created_at`

func scanMember(sc interface{ Scan(...any) error }) (Member, error) {
	var m Member
	var merged sql.NullInt64
	var created int64
	err := sc.Scan(&m.ID, &m.TenantID, &m.DisplayName, &m.Phone, &m.Email, &m.Locale, &m.OptedOut, &merged, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return m, store.ErrNotFound
	}
	m.MergedInto, m.CreatedAt = merged.Int64, store.Time(created)
	return m, err
}

// Get returns a member record of the tenant as stored (it may be merged).
func (s *Service) Get(ctx context.Context, tenantID, id int64) (Member, error) {
	return scanMember(s.db.R.QueryRowContext(ctx, `SELECT `+memberCols+` FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// Person returns the member a record stands for: the record itself, or the
// one it was merged into.
func (s *Service) Person(ctx context.Context, tenantID, id int64) (Member, error) {
	m, err := s.Get(ctx, tenantID, id)
	if err != nil || m.MergedInto == 0 {
		return m, err
	}
	return s.Get(ctx, tenantID, m.MergedInto)
}

// ByIdentity returns the person behind a channel identity.
func (s *Service) ByIdentity(ctx context.Context, tenantID int64, channel, externalID string) (Member, error) {
	var id int64
	err := s.db.R.QueryRowContext(ctx, `SELECT member_id FROM identities WHERE tenant_id = $1 AND channel = $2 AND external_id = $3`,
		tenantID, channel, externalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, store.ErrNotFound
	}
	if err != nil {
		return Member{}, err
	}
	return s.Person(ctx, tenantID, id)
}

// Page is one page of a member list.
type Page struct {
	Members []Member
	Total   int
}

// List returns the tenant's people (merged records excluded), newest first,
// optionally filtered by a name, phone or email fragment.
func (s *Service) List(ctx context.Context, tenantID int64, query string, limit, offset int) (Page, error) {
	where := `tenant_id = $1 AND merged_into IS NULL`
	args := []any{tenantID}
	if q := textnorm.Line(query); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
		where += ` AND (LOWER(display_name) LIKE $2 ESCAPE '\' OR phone LIKE $2 ESCAPE '\' OR email LIKE $2 ESCAPE '\')`
		args = append(args, like)
	}
	var p Page
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE `+where, args...).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("member: count: %w", err)
	}
	n := len(args)
	rows, err := s.db.R.QueryContext(ctx, fmt.Sprintf(`SELECT `+memberCols+` FROM members WHERE `+where+
		` ORDER BY id DESC LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, limit, offset)...)
	if err != nil {
		return p, fmt.Errorf("member: list: %w", err)
	}
	p.Members, err = store.Collect(rows, scanMember)
	return p, err
}

// Identities returns the identities of a person (including records merged
// into it).
func (s *Service) Identities(ctx context.Context, tenantID, memberID int64) ([]Identity, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, tenant_id, member_id, channel, external_id, display_name, created_at
		FROM identities WHERE tenant_id = $1 AND member_id = $2 ORDER BY id`, tenantID, memberID)
	if err != nil {
		return nil, fmt.Errorf("member: identities: %w", err)
	}
	defer rows.Close()
	var out []Identity
	for rows.Next() {
		var i Identity
		var created int64
		if err := rows.Scan(&i.ID, &i.TenantID, &i.MemberID, &i.Channel, &i.ExternalID, &i.DisplayName, &created); err != nil {
			return nil, err
		}
		i.CreatedAt = store.Time(created)
		out = append(out, i)
	}
	return out, rows.Err()
}

// RecordIDs returns the person's own id and the ids of records merged into
// it, for reading their events.
func (s *Service) RecordIDs(ctx context.Context, tenantID, memberID int64) ([]int64, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM members WHERE tenant_id = $1 AND (id = $2 OR merged_into = $2) ORDER BY id`, tenantID, memberID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// SetOptOut records a person's consent choice.
func (s *Service) SetOptOut(ctx context.Context, tenantID, id int64, optedOut bool) error {
	return s.exec1(ctx, `UPDATE members SET opted_out = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, id, optedOut)
}

// UpdateContact changes a person's name, phone and email.
func (s *Service) UpdateContact(ctx context.Context, m Member) error {
	if err := Validate(&m); err != nil {
		return err
	}
	return s.exec1(ctx, `UPDATE members SET display_name = $3, phone = $4, email = $5 WHERE tenant_id = $1 AND id = $2`,
		m.TenantID, m.ID, m.DisplayName, m.Phone, m.Email)
}

func (s *Service) exec1(ctx context.Context, q string, args ...any) error {
	res, err := s.db.W.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DMChannel picks the channel a private message to a member goes through:
// prefer when the member has an identity there, else the channel of their
// first identity.
func DMChannel(ids []Identity, prefer string) (string, error) {
	for _, id := range ids {
		if id.Channel == prefer {
			return prefer, nil
		}
	}
	if len(ids) == 0 {
		return "", fmt.Errorf("%w: the member has no channel to reach them on", store.ErrInvalid)
	}
	return ids[0].Channel, nil
}

// EnsureTx returns the person behind a channel identity inside tx,
// creating a member for an identity seen for the first time (a platform
// user who writes or joins). name is the platform's display name.
func (s *Service) EnsureTx(ctx context.Context, tx *store.Tx, tenantID int64, channel, externalID, name string) (Member, bool, error) {
	var id int64
	var merged sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT m.id, m.merged_into FROM identities i JOIN members m ON m.id = i.member_id AND m.tenant_id = i.tenant_id
		WHERE i.tenant_id = $1 AND i.channel = $2 AND i.external_id = $3`, tenantID, channel, externalID).Scan(&id, &merged)
	switch {
	case err == nil:
		if merged.Valid {
			id = merged.Int64
		}
		m, err := scanMember(tx.QueryRowContext(ctx, `SELECT `+memberCols+` FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, id))
		return m, false, err
	case !errors.Is(err, sql.ErrNoRows):
		return Member{}, false, err
	}
	name = textnorm.Line(name)
	if name == "" {
		name = channel + " " + externalID
	}
	if !textnorm.Limit(name, MaxNameLen) {
		name = string([]rune(name)[:MaxNameLen])
	}
	m, err := s.CreateTx(ctx, tx, Member{TenantID: tenantID, DisplayName: name}, Identity{Channel: channel, ExternalID: externalID, DisplayName: name})
	return m, err == nil, err
}
