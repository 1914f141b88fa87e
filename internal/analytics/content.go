package analytics

import (
	"context"
	"fmt"
	"sort"

	"github.com/liveloop/liveloop/internal/store"
)

// Content is the tenant's content effectiveness over f's period, by the
// content items' type and format (campaign_content), in type then format
// order:
//   - Sends: campaign pushes carried out (campaign jobs with at least one
//     recipient sent in the period: a post to a group, or a private
//     message to a segment);
//   - Reach: their recipients: a group post reaches the group's members
//     at the moment it was sent, a private message its member;
//   - Clicks, Replies: an_content (tracked-link clicks of the item; member
//     messages in the group within ReplyWindow after a post of it);
//   - Orders, GMV: orders paid in the period whose last touch was a link
//     of the item (order_attribution, whose at is the paid time), GMV net
//     of refunds.
//
// The filter's group and channel are not applied: clicks and replies are
// counted per item, not per group.
func (s *Service) Content(ctx context.Context, f Filter) ([]ContentRow, error) {
	out := []ContentRow{}
	if f.Period.Days() <= 0 {
		return out, nil
	}
	loc := orUTC(f.Loc)
	from, to := store.Millis(f.Period.From.Start(loc)), store.Millis(f.Period.To.Start(loc))
	rows := map[[2]string]*ContentRow{}
	row := func(typ, format string) *ContentRow {
		k := [2]string{typ, format}
		if rows[k] == nil {
			rows[k] = &ContentRow{Type: typ, Format: format}
		}
		return rows[k]
	}
	if err := s.contentSends(ctx, f.TenantID, from, to, row); err != nil {
		return nil, err
	}
	if err := s.contentCounters(ctx, f, row); err != nil {
		return nil, err
	}
	if err := s.contentOrders(ctx, f.TenantID, from, to, row); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Format < out[j].Format
	})
	return out, nil
}

// contentSends counts the pushes and their recipients sent in [from, to).
func (s *Service) contentSends(ctx context.Context, tenantID, from, to int64, row func(typ, format string) *ContentRow) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT c.type, c.format, COUNT(DISTINCT s.job_id),
		SUM(CASE WHEN s.member_id <> 0 THEN 1 ELSE (SELECT COUNT(*) FROM group_members gm
			WHERE gm.tenant_id = s.tenant_id AND gm.group_id = s.group_id AND gm.joined_at <= s.sent_at
			AND (gm.left_at IS NULL OR gm.left_at > s.sent_at) AND (gm.removed_at IS NULL OR gm.removed_at > s.sent_at)) END)
		FROM campaign_sends s
		JOIN campaign_jobs j ON j.tenant_id = s.tenant_id AND j.id = s.job_id
		JOIN campaign_content c ON c.tenant_id = j.tenant_id AND c.id = j.content_id
		WHERE s.tenant_id = $1 AND s.outcome = 'sent' AND s.sent_at >= $2 AND s.sent_at < $3
		GROUP BY c.type, c.format`, tenantID, from, to)
	if err != nil {
		return fmt.Errorf("analytics: content sends: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, format string
		var sends, reach int64
		if err := rows.Scan(&typ, &format, &sends, &reach); err != nil {
			return fmt.Errorf("analytics: content sends: %w", err)
		}
		r := row(typ, format)
		r.Sends, r.Reach = sends, reach
	}
	return rows.Err()
}

// contentCounters adds the clicks and replies of the period's days.
func (s *Service) contentCounters(ctx context.Context, f Filter, row func(typ, format string) *ContentRow) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT c.type, c.format, a.metric, SUM(a.value) FROM an_content a
		JOIN campaign_content c ON c.tenant_id = a.tenant_id AND c.id = a.content_id
		WHERE a.tenant_id = $1 AND a.day >= $2 AND a.day < $3 AND a.metric IN ('clicks', 'replies')
		GROUP BY c.type, c.format, a.metric`, f.TenantID, int64(f.Period.From), int64(f.Period.To))
	if err != nil {
		return fmt.Errorf("analytics: content counters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, format, metric string
		var n int64
		if err := rows.Scan(&typ, &format, &metric, &n); err != nil {
			return fmt.Errorf("analytics: content counters: %w", err)
		}
		r := row(typ, format)
		if metric == "clicks" {
			r.Clicks += n
		} else {
			r.Replies += n
		}
	}
	return rows.Err()
}

// contentOrders adds the orders paid in [from, to) whose last touch was a
// link of a content item, and their GMV net of refunds.
func (s *Service) contentOrders(ctx context.Context, tenantID, from, to int64, row func(typ, format string) *ContentRow) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT c.type, c.format, COUNT(*), SUM(o.amount_minor - o.refunded_minor)
		FROM order_attribution oa
		JOIN orders o ON o.tenant_id = oa.tenant_id AND o.id = oa.order_id
		JOIN campaign_content c ON c.tenant_id = oa.tenant_id AND c.id = oa.content_id
		WHERE oa.tenant_id = $1 AND oa.at >= $2 AND oa.at < $3 AND oa.content_id <> 0
		GROUP BY c.type, c.format`, tenantID, from, to)
	if err != nil {
		return fmt.Errorf("analytics: content orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, format string
		var orders, gmv int64
		if err := rows.Scan(&typ, &format, &orders, &gmv); err != nil {
			return fmt.Errorf("analytics: content orders: %w", err)
		}
		r := row(typ, format)
		r.Orders, r.GMV = orders, gmv
	}
	return rows.Err()
}
