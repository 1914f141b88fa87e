package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/liveloop/liveloop/internal/store"
)

// Attribution is the period's orders attributed by last touch to lives,
// pushes (content items) and groups, each list largest GMV first.
//
// An order counts when it was paid in f's period (the tenant's days) and
// track attributed it (order_attribution: its buyer clicked a tracked link
// within the window before it); its GMV is its amount less all its
// refunds. It counts for the live, the content item and the group of its
// last touch's link, each when the link had one (a private message's link
// has no group). A group or channel filter keeps the orders whose last
// touch was a link posted in those groups.
func (s *Service) Attribution(ctx context.Context, f Filter) (lives, pushes, groups []Attributed, err error) {
	if f.Period.Days() <= 0 {
		return nil, nil, nil, nil
	}
	sc := s.scope(f)
	if lives, err = s.attributedBy(ctx, sc, "live_id", "lives", "title", "live"); err != nil {
		return nil, nil, nil, err
	}
	if pushes, err = s.attributedBy(ctx, sc, "content_id", "campaign_content", "title", "content"); err != nil {
		return nil, nil, nil, err
	}
	if groups, err = s.attributedBy(ctx, sc, "group_id", "community_groups", "name", "group"); err != nil {
		return nil, nil, nil, err
	}
	return lives, pushes, groups, nil
}

// attributedBy sums the attributed orders of sc by one column of
// order_attribution (col; rows where it is 0 left out), labelled from
// table.label. col, table and label are fixed words of this file.
func (s *Service) attributedBy(ctx context.Context, sc *scope, col, table, label, prefix string) ([]Attributed, error) {
	q := `SELECT oa.` + col + `, COALESCE(MAX(x.` + label + `), ''), COUNT(*), COALESCE(SUM(o.amount_minor - o.refunded_minor), 0)
		FROM order_attribution oa
		JOIN orders o ON o.tenant_id = oa.tenant_id AND o.id = oa.order_id
		LEFT JOIN ` + table + ` x ON x.tenant_id = oa.tenant_id AND x.id = oa.` + col + `
		WHERE oa.tenant_id = $1 AND oa.at >= $2 AND oa.at < $3 AND oa.` + col + ` <> 0`
	args := []any{sc.f.TenantID, sc.from, sc.to}
	switch {
	case sc.f.GroupID != 0:
		q += ` AND oa.group_id = $4`
		args = append(args, sc.f.GroupID)
	case sc.f.Channel != "":
		q += ` AND oa.group_id IN (SELECT id FROM community_groups WHERE tenant_id = $1 AND (channel = $4 OR channel LIKE $5))`
		args = append(args, sc.f.Channel, sc.f.Channel+"/%")
	}
	rows, err := s.db.R.QueryContext(ctx, q+` GROUP BY oa.`+col, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: attribution by %s: %w", prefix, err)
	}
	out, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (Attributed, error) {
		var a Attributed
		var id int64
		err := r.Scan(&id, &a.Label, &a.Orders, &a.GMV)
		a.Key = prefix + ":" + strconv.FormatInt(id, 10)
		if a.Label == "" {
			a.Label = "#" + strconv.FormatInt(id, 10) // deleted since
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: attribution by %s: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b Attributed) int {
		return cmp.Or(cmp.Compare(b.GMV, a.GMV), cmp.Compare(b.Orders, a.Orders), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}
