package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/store"
)

// weekRanks is loyalty.Service.Leaderboard for a group's week, read
// through q: the runner answers "排行" inside its batch's transaction, so
// the board includes the points the batch awarded before, and on
// PostgreSQL it must not take a second pool connection while it holds
// locks that the other connections' holders may be waiting for.
func weekRanks(ctx context.Context, q store.Querier, tenantID, groupID int64, now time.Time, loc *time.Location, limit int) ([]loyalty.Rank, error) {
	since, until := loyalty.Week.Since(now, loc), loyalty.Week.Until(now, loc)
	rows, err := q.QueryContext(ctx, `SELECT l.member_id, m.display_name, SUM(l.delta) AS pts
		FROM points_ledger l JOIN members m ON m.id = l.member_id AND m.tenant_id = l.tenant_id
		WHERE l.tenant_id = $1 AND l.at >= $2 AND l.at < $3 AND l.delta > 0
		AND l.kind IN ('checkin','streak','discussion','activity','welcome') AND l.group_id = $4
		GROUP BY l.member_id, m.display_name ORDER BY pts DESC, l.member_id LIMIT $5`,
		tenantID, store.Millis(since), store.Millis(until), groupID, limit)
	if err != nil {
		return nil, fmt.Errorf("bot: leaderboard: %w", err)
	}
	defer rows.Close()
	var out []loyalty.Rank
	for rows.Next() {
		var r loyalty.Rank
		if err := rows.Scan(&r.MemberID, &r.Name, &r.Points); err != nil {
			return nil, err
		}
		r.Position = len(out) + 1
		if n := len(out); n > 0 && out[n-1].Points == r.Points {
			r.Position = out[n-1].Position // equal points share a position
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
