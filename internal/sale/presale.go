package sale

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Limits of a presale.
const (
	MaxEarlyDays     = 60
	MaxTierRank      = 100
	MaxPresaleAhead  = 365 * 24 * time.Hour
	maxEarlyNotified = 100_000
)

// Presale is a product members reserve before it opens: the early
// audience (a minimum tier rank, a campaign segment, or both — a member
// meeting either is in it) from EarlyDays before OpensAt, everyone from
// OpensAt.
type Presale struct {
	ID          int64
	TenantID    int64
	Name        string
	SKU         string
	PriceMinor  int64
	Stock       int64 // 0: unlimited
	Reserved    int64
	OpensAt     time.Time
	EarlyDays   int
	MinTierRank int
	Segment     campaign.Segment
	StaffID     int64
	CreatedAt   time.Time
	EarlyToldAt time.Time
}

// EarlyAt is when the early audience may reserve.
func (p Presale) EarlyAt() time.Time {
	return p.OpensAt.Add(-time.Duration(p.EarlyDays) * 24 * time.Hour)
}

// HasAudience reports whether anyone has early access.
func (p Presale) HasAudience() bool {
	return p.EarlyDays > 0 && (p.MinTierRank > 0 || !p.Segment.Empty())
}

// Left is the stock not reserved (-1: unlimited).
func (p Presale) Left() int64 {
	if p.Stock == 0 {
		return -1
	}
	return max(p.Stock-p.Reserved, 0)
}

// ValidatePresale checks p as staff set it up, at now.
func ValidatePresale(p *Presale, now time.Time) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch n := strings.TrimSpace(p.Name); {
	case n == "":
		bad("name the product")
	case !textnorm.Limit(n, MaxNameRunes):
		bad("the name is longer than %d characters", MaxNameRunes)
	}
	if !textnorm.Limit(p.SKU, MaxNameRunes) {
		bad("the SKU is longer than %d characters", MaxNameRunes)
	}
	if p.PriceMinor < 0 || p.PriceMinor > MaxPriceMinor {
		bad("the price must be between 0 and %s", Money(MaxPriceMinor))
	}
	if p.Stock < 0 || p.Stock > MaxStock {
		bad("stock must be 0 (unlimited) to %d", MaxStock)
	}
	if p.EarlyDays < 0 || p.EarlyDays > MaxEarlyDays {
		bad("early access is 0 to %d days", MaxEarlyDays)
	}
	if p.MinTierRank < 0 || p.MinTierRank > MaxTierRank {
		bad("the minimum tier rank is 0 (none) to %d", MaxTierRank)
	}
	problems = append(problems, campaign.ValidateSegment(&p.Segment)...)
	if p.EarlyDays > 0 && p.MinTierRank == 0 && p.Segment.Empty() {
		bad("early access needs an audience: a minimum tier or a segment")
	}
	switch {
	case p.OpensAt.IsZero():
		bad("set the opening time")
	case p.OpensAt.Sub(now) > MaxPresaleAhead:
		bad("the opening is at most a year ahead")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// CreatePresale stores a presale.
func (s *Service) CreatePresale(ctx context.Context, p Presale) (Presale, error) {
	now := s.now().UTC()
	p.Name, p.SKU, p.CreatedAt, p.Reserved = textnorm.Line(p.Name), textnorm.Line(p.SKU), now, 0
	if err := ValidatePresale(&p, now); err != nil {
		return p, err
	}
	seg, _ := json.Marshal(p.Segment)
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO presales (tenant_id, name, sku, price_minor, stock, opens_at, early_days, min_tier_rank, segment, staff_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		p.TenantID, p.Name, p.SKU, p.PriceMinor, p.Stock, store.Millis(p.OpensAt), p.EarlyDays, p.MinTierRank, string(seg), p.StaffID,
		store.Millis(now)).Scan(&p.ID)
	if err != nil {
		return p, fmt.Errorf("sale: create presale: %w", err)
	}
	return p, nil
}

const presaleCols = `id, tenant_id, name, sku, price_minor, stock, reserved, opens_at, early_days, min_tier_rank, segment, staff_id, created_at, early_told_at`

func scanPresale(r interface{ Scan(...any) error }) (Presale, error) {
	var p Presale
	var seg string
	var opens, created, told int64
	err := r.Scan(&p.ID, &p.TenantID, &p.Name, &p.SKU, &p.PriceMinor, &p.Stock, &p.Reserved, &opens, &p.EarlyDays, &p.MinTierRank, &seg,
		&p.StaffID, &created, &told)
	if err != nil {
		return p, noRows(err)
	}
	p.OpensAt, p.CreatedAt, p.EarlyToldAt = store.Time(opens), store.Time(created), store.Time(told)
	if err := json.Unmarshal([]byte(seg), &p.Segment); err != nil {
		return p, fmt.Errorf("presale %d: segment: %w", p.ID, err)
	}
	return p, nil
}

// Presale returns one presale of the tenant.
func (s *Service) Presale(ctx context.Context, tenantID, id int64) (Presale, error) {
	return getPresale(ctx, s.db.R, tenantID, id)
}

func getPresale(ctx context.Context, q store.Querier, tenantID, id int64) (Presale, error) {
	return scanPresale(q.QueryRowContext(ctx, `SELECT `+presaleCols+` FROM presales WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// Presales returns the tenant's presales, latest opening first.
func (s *Service) Presales(ctx context.Context, tenantID int64, limit int) ([]Presale, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+presaleCols+` FROM presales WHERE tenant_id = $1 ORDER BY opens_at DESC, id DESC LIMIT $2`,
		tenantID, limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanPresale)
}

// InAudience reports whether member is in p's early audience at now: a
// tier rank of at least MinTierRank, or membership of the segment.
func (s *Service) InAudience(ctx context.Context, q store.Querier, p Presale, memberID int64, now time.Time) (bool, error) {
	if !p.HasAudience() {
		return false, nil
	}
	if p.MinTierRank > 0 && s.TierRank != nil {
		rank, err := s.TierRank(ctx, q, p.TenantID, memberID)
		if err != nil {
			return false, err
		}
		if rank >= p.MinTierRank {
			return true, nil
		}
	}
	if p.Segment.Empty() {
		return false, nil
	}
	return campaign.MemberIn(ctx, q, p.TenantID, memberID, p.Segment, now)
}

// Access is what a member may do with a presale at a time.
type Access struct {
	Presale
	Early    bool      // in the early audience
	From     time.Time // when the member may reserve
	Open     bool      // may reserve now
	Reserved bool      // has reserved
}

// AccessOf says what member may do with p at now.
func (s *Service) AccessOf(ctx context.Context, q store.Querier, p Presale, memberID int64, now time.Time) (Access, error) {
	a := Access{Presale: p, From: p.OpensAt}
	early, err := s.InAudience(ctx, q, p, memberID, now)
	if err != nil {
		return a, err
	}
	if early {
		a.Early, a.From = true, p.EarlyAt()
	}
	a.Open = !now.Before(a.From)
	a.Reserved, err = store.Exists(ctx, q, `SELECT COUNT(*) FROM presale_reservations WHERE tenant_id = $1 AND presale_id = $2 AND member_id = $3`,
		p.TenantID, p.ID, memberID)
	return a, err
}

// ForMember lists the presales a member sees: those not yet opened, or
// opened within the last 30 days, soonest first, with their access.
func (s *Service) ForMember(ctx context.Context, tenantID, memberID int64) ([]Access, error) {
	now := s.now().UTC()
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+presaleCols+` FROM presales WHERE tenant_id = $1 AND opens_at > $2 ORDER BY opens_at, id LIMIT 50`,
		tenantID, store.Millis(now.Add(-30*24*time.Hour)))
	if err != nil {
		return nil, err
	}
	list, err := store.Collect(rows, scanPresale)
	if err != nil {
		return nil, err
	}
	out := make([]Access, 0, len(list))
	for _, p := range list {
		a, err := s.AccessOf(ctx, s.db.R, p, memberID, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Reservation is a member's reservation of a presale.
type Reservation struct {
	PresaleID int64
	MemberID  int64
	Name      string
	Early     bool
	At        time.Time
}

// Reserve records member's reservation: the early audience from EarlyAt,
// everyone from OpensAt (before that, NotOpen says from when), one per
// member (ErrReserved), within the stock (ErrSoldOut). The member is told
// privately in the same transaction.
func (s *Service) Reserve(ctx context.Context, tenantID, presaleID, memberID int64) (Reservation, error) {
	var r Reservation
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now().UTC()
		p, err := getPresale(ctx, tx, tenantID, presaleID)
		if err != nil {
			return err
		}
		if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, memberID); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("%w: member %d is not one of yours", ErrInvalid, memberID)
			}
			return err
		}
		a, err := s.AccessOf(ctx, tx, p, memberID, now)
		if err != nil {
			return err
		}
		switch {
		case a.Reserved:
			return ErrReserved
		case !a.Open:
			return NotOpen{From: a.From}
		}
		r = Reservation{PresaleID: p.ID, MemberID: memberID, Early: now.Before(p.OpensAt), At: now}
		early := 0
		if r.Early {
			early = 1
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO presale_reservations (tenant_id, presale_id, member_id, early, at) VALUES ($1, $2, $3, $4, $5)`,
			tenantID, p.ID, memberID, early, store.Millis(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE presales SET reserved = reserved + 1 WHERE tenant_id = $1 AND id = $2 AND (stock = 0 OR reserved < stock)`,
			tenantID, p.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrSoldOut
		}
		e := event.Event{TenantID: tenantID, Type: event.PresaleReserved, Source: event.SourceSale, SourceID: fmt.Sprintf("reserve:%d:%d", p.ID, memberID),
			At: now, MemberID: memberID, Data: event.MustData(event.SaleData{PresaleID: p.ID, Early: r.Early})}
		if _, err := s.log.AppendTx(ctx, tx, &e); err != nil {
			return err
		}
		lang := s.lang(ctx, tx, tenantID, memberID)
		return s.dm(ctx, tx, tenantID, memberID, fmt.Sprintf("presale:%d:reserved:%d", p.ID, memberID),
			s.cat.T(lang, "sale.presale_dm", p.Name, Money(p.PriceMinor)))
	})
	if store.IsUniqueViolation(err) {
		return r, ErrReserved
	}
	return r, err
}

// Reservations returns a presale's reservations in order, with names.
func (s *Service) Reservations(ctx context.Context, tenantID, presaleID int64) ([]Reservation, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT r.presale_id, r.member_id, m.display_name, r.early, r.at FROM presale_reservations r
		JOIN members m ON m.id = r.member_id AND m.tenant_id = r.tenant_id
		WHERE r.tenant_id = $1 AND r.presale_id = $2 ORDER BY r.at, r.member_id`, tenantID, presaleID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Reservation, error) {
		var v Reservation
		var early, at int64
		err := r.Scan(&v.PresaleID, &v.MemberID, &v.Name, &early, &at)
		v.Early, v.At = early != 0, store.Time(at)
		return v, err
	})
}

// TellEarly tells, across tenants, the early audience of every presale
// whose early access has begun (and whose opening has not): one private
// message per member, keyed by presale and member, queued in the same
// transaction that marks the presale told, so each member hears once.
// It returns how many members were told.
func (s *Service) TellEarly(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+presaleCols+` FROM presales WHERE early_told_at = 0 AND early_days > 0 AND opens_at > $1
		ORDER BY id LIMIT 20`, store.Millis(now))
	if err != nil {
		return 0, err
	}
	list, err := store.Collect(rows, scanPresale)
	if err != nil {
		return 0, err
	}
	told := 0
	for _, p := range list {
		if now.Before(p.EarlyAt()) || !p.HasAudience() {
			continue
		}
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE presales SET early_told_at = $3 WHERE tenant_id = $1 AND id = $2 AND early_told_at = 0`,
				p.TenantID, p.ID, store.Millis(now))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			ids, err := s.audience(ctx, tx, p, now)
			if err != nil {
				return err
			}
			loc := tenantLocation(ctx, tx, p.TenantID)
			for _, m := range ids {
				lang := s.lang(ctx, tx, p.TenantID, m)
				body := s.cat.T(lang, "sale.presale_early_dm", p.Name, Money(p.PriceMinor), p.OpensAt.In(loc).Format("2006-01-02 15:04"))
				if err := s.dm(ctx, tx, p.TenantID, m, fmt.Sprintf("presale:%d:early:%d", p.ID, m), body); err != nil {
					return err
				}
				told++
			}
			e := event.Event{TenantID: p.TenantID, Type: event.PresaleEarlyTold, Source: event.SourceSale, SourceID: fmt.Sprintf("early:%d", p.ID),
				At: now, Data: event.MustData(event.SaleData{PresaleID: p.ID, Qty: int64(len(ids))})}
			_, err = s.log.AppendTx(ctx, tx, &e)
			return err
		})
		if err != nil {
			return told, fmt.Errorf("sale: presale %d early access: %w", p.ID, err)
		}
	}
	return told, nil
}

// audience lists the members in p's early audience.
func (s *Service) audience(ctx context.Context, q store.Querier, p Presale, now time.Time) ([]int64, error) {
	var ids []int64
	if !p.Segment.Empty() {
		var err error
		if ids, err = campaign.Members(ctx, q, p.TenantID, p.Segment, now); err != nil {
			return nil, err
		}
	}
	if p.MinTierRank > 0 && s.TierRank != nil {
		rows, err := q.QueryContext(ctx, `SELECT id FROM members WHERE tenant_id = $1 ORDER BY id LIMIT $2`, p.TenantID, maxEarlyNotified)
		if err != nil {
			return nil, err
		}
		all, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil {
			return nil, err
		}
		for _, m := range all {
			if _, in := slices.BinarySearch(ids, m); in {
				continue
			}
			rank, err := s.TierRank(ctx, q, p.TenantID, m)
			if err != nil {
				return nil, err
			}
			if rank >= p.MinTierRank {
				ids = append(ids, m)
			}
		}
		slices.Sort(ids)
	}
	return ids, nil
}

// tenantLocation is the tenant's time zone (UTC when unknown).
func tenantLocation(ctx context.Context, q store.Querier, tenantID int64) *time.Location {
	var tz string
	if err := q.QueryRowContext(ctx, `SELECT timezone FROM tenants WHERE id = $1`, tenantID).Scan(&tz); err != nil {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}
