package track

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/liveloop/liveloop/internal/store"
)

// LinkRow is a link with its counted clicks, for the console.
type LinkRow struct {
	Link
	Clicks  int64 // counted clicks
	Members int64 // distinct members among them
	// The names of what the link was sent for ("" when none or gone).
	LiveTitle, ContentTitle, GroupName string
}

// LinkPage is one page of the tenant's links, newest first.
type LinkPage struct {
	Rows []LinkRow
	Page int  // 1-based
	More bool // a next page exists
}

// PerPage is how many links a console page lists.
const PerPage = 50

// Links lists the tenant's links newest first, PerPage a page (page 1 is
// the newest); clicked keeps only links that were clicked. A page past
// math.MaxInt32 is that page (empty): its offset must not overflow.
func (s *Service) Links(ctx context.Context, tenantID int64, page int, clicked bool) (LinkPage, error) {
	page = min(max(page, 1), math.MaxInt32)
	where := ""
	if clicked {
		where = ` AND EXISTS (SELECT 1 FROM link_clicks c WHERE c.tenant_id = l.tenant_id AND c.link_id = l.id)`
	}
	cols := "l." + strings.ReplaceAll(linkCols, ", ", ", l.")
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+cols+`,
			(SELECT COUNT(*) FROM link_clicks c WHERE c.tenant_id = l.tenant_id AND c.link_id = l.id),
			(SELECT COUNT(DISTINCT c.member_id) FROM link_clicks c WHERE c.tenant_id = l.tenant_id AND c.link_id = l.id),
			COALESCE(lv.title, ''), COALESCE(cc.title, ''), COALESCE(g.name, '')
		FROM links l
		LEFT JOIN lives lv ON lv.tenant_id = l.tenant_id AND lv.id = l.live_id
		LEFT JOIN campaign_content cc ON cc.tenant_id = l.tenant_id AND cc.id = l.content_id
		LEFT JOIN community_groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id
		WHERE l.tenant_id = $1`+where+` ORDER BY l.id DESC LIMIT $2 OFFSET $3`,
		tenantID, PerPage+1, (page-1)*PerPage)
	if err != nil {
		return LinkPage{}, fmt.Errorf("track: links: %w", err)
	}
	list, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (LinkRow, error) {
		var row LinkRow
		l, err := scanLink(scanTail{r, []any{&row.Clicks, &row.Members, &row.LiveTitle, &row.ContentTitle, &row.GroupName}})
		row.Link = l
		return row, err
	})
	if err != nil {
		return LinkPage{}, err
	}
	p := LinkPage{Rows: list, Page: page}
	if len(list) > PerPage {
		p.Rows, p.More = list[:PerPage], true
	}
	return p, nil
}

// scanTail scans a link's columns followed by more.
type scanTail struct {
	r    interface{ Scan(...any) error }
	more []any
}

func (s scanTail) Scan(dest ...any) error { return s.r.Scan(append(dest, s.more...)...) }
