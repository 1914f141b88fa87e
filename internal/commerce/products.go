package commerce

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

// Product is an item of the brand's catalogue.
type Product struct {
	ID         int64
	TenantID   int64
	SKU        string
	Name       string
	PriceMinor int64
	Category   string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ValidateProduct normalises p and lists what is wrong with it.
func ValidateProduct(p *Product) error {
	p.SKU, p.Name, p.Category = textnorm.Line(p.SKU), textnorm.Line(p.Name), textnorm.Line(p.Category)
	var problems []string
	switch {
	case p.SKU == "":
		problems = append(problems, "SKU is empty")
	case !textnorm.Limit(p.SKU, MaxSKURunes) || strings.ContainsAny(p.SKU, " \t"):
		problems = append(problems, fmt.Sprintf("SKU must be at most %d characters without spaces", MaxSKURunes))
	}
	switch {
	case p.Name == "":
		problems = append(problems, "name is empty")
	case !textnorm.Limit(p.Name, MaxNameRunes):
		problems = append(problems, fmt.Sprintf("name is longer than %d characters", MaxNameRunes))
	}
	if p.PriceMinor < 0 || p.PriceMinor > MaxAmountMinor {
		problems = append(problems, "price must be zero or more")
	}
	if !textnorm.Limit(p.Category, MaxCategoryRunes) {
		problems = append(problems, fmt.Sprintf("category is longer than %d characters", MaxCategoryRunes))
	}
	if len(problems) > 0 {
		return invalid("%s", strings.Join(problems, "; "))
	}
	return nil
}

// SaveProduct creates p (ID 0) or updates it. A SKU another product has is
// a conflict.
func (s *Service) SaveProduct(ctx context.Context, p Product) (Product, error) {
	if err := ValidateProduct(&p); err != nil {
		return p, err
	}
	now := s.now().UTC()
	p.UpdatedAt = now
	var err error
	if p.ID == 0 {
		p.CreatedAt = now
		err = s.db.W.QueryRowContext(ctx, `INSERT INTO products (tenant_id, sku, name, price_minor, category, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, p.TenantID, p.SKU, p.Name, p.PriceMinor, p.Category, store.Millis(now)).Scan(&p.ID)
	} else {
		var res sql.Result
		res, err = s.db.W.ExecContext(ctx, `UPDATE products SET sku = $3, name = $4, price_minor = $5, category = $6, updated_at = $7
			WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.ID, p.SKU, p.Name, p.PriceMinor, p.Category, store.Millis(now))
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				return p, store.ErrNotFound
			}
		}
	}
	if store.IsUniqueViolation(err) {
		return p, fmt.Errorf("commerce: %w: another product has the SKU %s", store.ErrConflict, p.SKU)
	}
	return p, err
}

const productCols = `id, tenant_id, sku, name, price_minor, category, created_at, updated_at`

func scanProduct(r scanner) (Product, error) {
	var p Product
	var created, updated int64
	err := r.Scan(&p.ID, &p.TenantID, &p.SKU, &p.Name, &p.PriceMinor, &p.Category, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	p.CreatedAt, p.UpdatedAt = store.Time(created), store.Time(updated)
	return p, err
}

// Product returns one product of the tenant.
func (s *Service) Product(ctx context.Context, tenantID, id int64) (Product, error) {
	return scanProduct(s.db.R.QueryRowContext(ctx, `SELECT `+productCols+` FROM products WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// Products returns the tenant's catalogue by SKU.
func (s *Service) Products(ctx context.Context, tenantID int64) ([]Product, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+productCols+` FROM products WHERE tenant_id = $1 ORDER BY sku`, tenantID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanProduct)
}

// catalogue maps the tenant's SKUs to product ids.
func catalogue(ctx context.Context, q store.Querier, tenantID int64) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT sku, id FROM products WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("commerce: catalogue: %w", err)
	}
	return store.CollectMap[string, int64](rows)
}
