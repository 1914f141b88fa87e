package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Seed 004: a product that sells out in a live collects "notify me"
// requests; when stock comes back the brand offers a re-sale to exactly
// those members. And a product added to a live's list that members have
// wished for tells the wishers before the show (the OnProducts hook: the
// runner matches the wishes and writes the messages in the same
// transaction as the list).

// ProductsHook runs inside the transaction that adds products to a live's
// list (scheduling, or AddProduct), with the live and the products added.
type ProductsHook func(ctx context.Context, tx *store.Tx, l Live, added []Product) error

// Limits of a re-sale.
const (
	MaxResaleNoteRunes = 200
	MaxResaleWindow    = 7 * 24 * time.Hour
)

// Errors of restock requests and re-sales; the text after the last ": "
// is for the member.
var (
	ErrInStock        = fmt.Errorf("live: %w: this product is still in stock", store.ErrConflict)
	ErrResaleClosed   = fmt.Errorf("live: %w: the re-sale has closed", store.ErrConflict)
	ErrResaleGone     = fmt.Errorf("live: %w: the re-sale is sold out", store.ErrConflict)
	ErrResaleRepeat   = fmt.Errorf("live: %w: you already have one from this re-sale", store.ErrConflict)
	ErrNotRequester   = fmt.Errorf("live: %w: this re-sale is for the members who asked to be told when it is back", store.ErrConflict)
	errResaleRepeatTx = errors.New("live: repeated re-sale claim")
)

// AddProduct puts one more product at the end of a live's list (before or
// during the show; an ended live's list is its record).
func (s *Service) AddProduct(ctx context.Context, tenantID, liveID int64, p Product) (Product, error) {
	p.Name, p.CoverURL = textnorm.Line(p.Name), strings.TrimSpace(p.CoverURL)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if s.db.Dialect == store.Postgres {
			// Additions to one list run one after the other, so that two
			// cannot take the same next position or both pass the limit
			// (SQLite's write transaction already runs alone).
			err := tx.QueryRowContext(ctx, `SELECT id FROM lives WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, liveID).Scan(new(int64))
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			} else if err != nil {
				return err
			}
		}
		l, err := get(ctx, tx, tenantID, liveID)
		if err != nil {
			return err
		}
		if l.State == StateEnded {
			return fmt.Errorf("live %d: %w", l.ID, ErrEnded)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(position), 0) FROM live_products WHERE tenant_id = $1 AND live_id = $2`,
			tenantID, liveID).Scan(&n, &p.Position); err != nil {
			return err
		}
		if n >= MaxProducts {
			return fmt.Errorf("%w: a live has at most %d products", ErrInvalid, MaxProducts)
		}
		p.Position++
		p.TenantID, p.LiveID = tenantID, liveID
		if problems := productProblems([]Product{p}); len(problems) > 0 {
			return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(strings.Join(problems, "; "), "product 1 "))
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO live_products (tenant_id, live_id, position, name, price, live_price, stock, cover_url)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			p.TenantID, p.LiveID, p.Position, p.Name, p.Price, p.LivePrice, p.Stock, p.CoverURL).Scan(&p.ID); err != nil {
			return fmt.Errorf("live: add product: %w", err)
		}
		if s.OnProducts != nil {
			return s.OnProducts(ctx, tx, l, []Product{p})
		}
		return nil
	})
	return p, err
}

// RequestRestock records that member wants to be told when a sold-out
// product of the live is back; it reports whether the request is new.
func (s *Service) RequestRestock(ctx context.Context, tenantID, liveID, productID, memberID int64) (bool, error) {
	var created bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := product(ctx, tx, tenantID, liveID, productID)
		if err != nil {
			return notOnList(err, productID)
		}
		if !p.SoldOut() {
			return ErrInStock
		}
		if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, memberID); err != nil || !ok {
			return orInvalid(err, "member %d is not one of yours", memberID)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO restock_requests (tenant_id, live_id, product_id, member_id, at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, tenantID, liveID, productID, memberID, store.Millis(s.now()))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		created = n == 1
		return nil
	})
	return created, err
}

// RestockCounts returns, per product of the live, how many members asked
// to be told when it is back.
func (s *Service) RestockCounts(ctx context.Context, tenantID, liveID int64) (map[int64]int, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT product_id, COUNT(*) FROM restock_requests WHERE tenant_id = $1 AND live_id = $2 GROUP BY product_id`,
		tenantID, liveID)
	if err != nil {
		return nil, err
	}
	return store.CollectMap[int64, int](rows)
}

// Requested reports whether member asked to be told about the product.
func (s *Service) Requested(ctx context.Context, tenantID, productID, memberID int64) (bool, error) {
	return store.Exists(ctx, s.db.R, `SELECT COUNT(*) FROM restock_requests WHERE tenant_id = $1 AND product_id = $2 AND member_id = $3`,
		tenantID, productID, memberID)
}

// Resale is a limited re-sale of a sold-out product, open to the members
// who asked for it until ClosesAt. Prices in minor units.
type Resale struct {
	ID        int64
	TenantID  int64
	LiveID    int64
	ProductID int64
	Price     int64
	Quantity  int64
	Claimed   int64
	Note      string
	ClosesAt  time.Time
	StaffID   int64
	CreatedAt time.Time
}

// Left is how many remain.
func (r Resale) Left() int64 { return max(r.Quantity-r.Claimed, 0) }

// CreateResaleTx stores a re-sale inside tx and returns it with the
// members it is offered to (who asked, in the order they asked), for the
// caller to tell them in the same transaction. A product nobody asked for
// has no re-sale.
func (s *Service) CreateResaleTx(ctx context.Context, tx *store.Tx, rs Resale) (Resale, []int64, error) {
	now := s.now().UTC()
	rs.Note, rs.Claimed, rs.CreatedAt = textnorm.Line(rs.Note), 0, now
	var problems []string
	if rs.Price < 0 || rs.Price > MaxPrice {
		problems = append(problems, fmt.Sprintf("price must be 0 to %d", MaxPrice))
	}
	if rs.Quantity < 1 || rs.Quantity > MaxStock {
		problems = append(problems, fmt.Sprintf("quantity must be 1 to %d", MaxStock))
	}
	if !textnorm.Limit(rs.Note, MaxResaleNoteRunes) {
		problems = append(problems, fmt.Sprintf("note is longer than %d characters", MaxResaleNoteRunes))
	}
	if !rs.ClosesAt.After(now) || rs.ClosesAt.Sub(now) > MaxResaleWindow {
		problems = append(problems, "closing time must be in the next 7 days")
	}
	if len(problems) > 0 {
		return rs, nil, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	if _, err := product(ctx, tx, rs.TenantID, rs.LiveID, rs.ProductID); err != nil {
		return rs, nil, notOnList(err, rs.ProductID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT member_id FROM restock_requests WHERE tenant_id = $1 AND product_id = $2 ORDER BY at, member_id`,
		rs.TenantID, rs.ProductID)
	if err != nil {
		return rs, nil, err
	}
	members, err := store.Collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
	if err != nil {
		return rs, nil, err
	}
	if len(members) == 0 {
		return rs, nil, fmt.Errorf("%w: nobody asked to be told when this product is back", ErrInvalid)
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO resales (tenant_id, live_id, product_id, price, quantity, note, closes_at, staff_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, rs.TenantID, rs.LiveID, rs.ProductID, rs.Price, rs.Quantity, rs.Note,
		store.Millis(rs.ClosesAt), rs.StaffID, store.Millis(now)).Scan(&rs.ID)
	return rs, members, err
}

const resaleCols = `id, tenant_id, live_id, product_id, price, quantity, claimed, note, closes_at, staff_id, created_at`

func scanResale(r interface{ Scan(...any) error }) (Resale, error) {
	var rs Resale
	var closes, created int64
	err := r.Scan(&rs.ID, &rs.TenantID, &rs.LiveID, &rs.ProductID, &rs.Price, &rs.Quantity, &rs.Claimed, &rs.Note, &closes, &rs.StaffID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return rs, store.ErrNotFound
	}
	rs.ClosesAt, rs.CreatedAt = store.Time(closes), store.Time(created)
	return rs, err
}

// Resale returns one re-sale of the tenant.
func (s *Service) Resale(ctx context.Context, tenantID, id int64) (Resale, error) {
	return scanResale(s.db.R.QueryRowContext(ctx, `SELECT `+resaleCols+` FROM resales WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// Resales returns a live's re-sales, newest first.
func (s *Service) Resales(ctx context.Context, tenantID, liveID int64) ([]Resale, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+resaleCols+` FROM resales WHERE tenant_id = $1 AND live_id = $2 ORDER BY id DESC`, tenantID, liveID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanResale)
}

// ClaimResale gives member one item of the re-sale: only members who asked
// for the product, one each, never more than the quantity (a conditional
// increment numbers the claims; the claim's keys hold the invariant in the
// database). It returns the claim's number; a member who has one gets
// ErrResaleRepeat with their number.
func (s *Service) ClaimResale(ctx context.Context, tenantID, resaleID, memberID int64) (int64, error) {
	var no int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		rs, err := scanResale(tx.QueryRowContext(ctx, `SELECT `+resaleCols+` FROM resales WHERE tenant_id = $1 AND id = $2`, tenantID, resaleID))
		if err != nil {
			return err
		}
		if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM resale_claims WHERE tenant_id = $1 AND resale_id = $2 AND member_id = $3`,
			tenantID, resaleID, memberID); err != nil || ok {
			return orRepeat(err)
		}
		if ok, err := offeredTo(ctx, tx, rs, memberID); err != nil || !ok {
			if err != nil {
				return err
			}
			return ErrNotRequester
		}
		now := s.now().UTC()
		switch {
		case !now.Before(rs.ClosesAt):
			return ErrResaleClosed
		case rs.Claimed >= rs.Quantity:
			return ErrResaleGone
		}
		err = tx.QueryRowContext(ctx, `UPDATE resales SET claimed = claimed + 1 WHERE tenant_id = $1 AND id = $2 AND claimed < quantity AND closes_at > $3
			RETURNING claimed`, tenantID, resaleID, store.Millis(now)).Scan(&no)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrResaleGone
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO resale_claims (tenant_id, resale_id, member_id, no, at) VALUES ($1, $2, $3, $4, $5)`,
			tenantID, resaleID, memberID, no, store.Millis(now))
		return err
	})
	if errors.Is(err, errResaleRepeatTx) || store.IsUniqueViolation(err) {
		if e := s.db.R.QueryRowContext(ctx, `SELECT no FROM resale_claims WHERE tenant_id = $1 AND resale_id = $2 AND member_id = $3`,
			tenantID, resaleID, memberID).Scan(&no); e != nil {
			return 0, e
		}
		return no, ErrResaleRepeat
	}
	return no, err
}

// OfferedTo reports whether the re-sale was offered to member: they had
// asked to be told about the product when it was made (a member who asks
// later was not told and may not claim it).
func (s *Service) OfferedTo(ctx context.Context, tenantID int64, rs Resale, memberID int64) (bool, error) {
	if rs.TenantID != tenantID {
		return false, nil
	}
	return offeredTo(ctx, s.db.R, rs, memberID)
}

func offeredTo(ctx context.Context, q store.Querier, rs Resale, memberID int64) (bool, error) {
	return store.Exists(ctx, q, `SELECT COUNT(*) FROM restock_requests WHERE tenant_id = $1 AND product_id = $2 AND member_id = $3 AND at <= $4`,
		rs.TenantID, rs.ProductID, memberID, store.Millis(rs.CreatedAt))
}

func orRepeat(err error) error {
	if err != nil {
		return err
	}
	return errResaleRepeatTx
}

// ResaleClaimOf returns member's number in the re-sale (0: none).
func (s *Service) ResaleClaimOf(ctx context.Context, tenantID, resaleID, memberID int64) (int64, error) {
	var no int64
	err := s.db.R.QueryRowContext(ctx, `SELECT no FROM resale_claims WHERE tenant_id = $1 AND resale_id = $2 AND member_id = $3`,
		tenantID, resaleID, memberID).Scan(&no)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return no, err
}

// WishNotices returns, per product of the live, how many wishers were told
// about it.
func (s *Service) WishNotices(ctx context.Context, tenantID, liveID int64) (map[int64]int, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT product_id, COUNT(*) FROM wish_live_notices WHERE tenant_id = $1 AND live_id = $2 GROUP BY product_id`,
		tenantID, liveID)
	if err != nil {
		return nil, err
	}
	return store.CollectMap[int64, int](rows)
}
