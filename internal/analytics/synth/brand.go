package synth

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// brand is one generated brand and the state its history needs.
type brand struct {
	tenantID int64
	staffID  int64
	loc      *time.Location
	groups   []int64
	groupCum []float64 // cumulative weights of the groups' sizes
	contents []int64   // campaign content items
	lives    []live

	// Members in the order of their first join.
	members []int64
	names   []string
	joinAt  []int64 // ms, ascending
	home    []int   // index into groups
	second  []int   // index into groups, -1: none
	lastIn  []int64 // ms of the latest join of the home group
	outAt   []int64 // ms of leaving the home group, 0: in it
	outList []int   // members out of their home group now
	joined  int     // members[:joined] have joined by the walk's time
	next    int     // the next member to join in the day being drawn

	day     int64        // the tenant day being walked (ms of its start)
	checked map[int]bool // members checked in on that day
	entered map[[2]int64]bool
	recent  map[int64][]int64 // group → ids of recent messages (replies)

	// dirty is, for a brand loaded back (Append), the members whose home
	// membership changed: only theirs are written again.
	dirty map[int]bool
}

// touch records that member k's home membership changed.
func (b *brand) touch(k int) {
	if b.dirty != nil {
		b.dirty[k] = true
	}
}

type live struct{ id, start, end int64 }

// setup creates brand i: the tenant, a staff account, the groups, the
// content library, the members (with their join times) and the lives.
func (g *gen) setup(ctx context.Context, i int, p Plan, start, end time.Time, loc *time.Location) (*brand, error) {
	t, err := tenant.NewService(g.db).Create(ctx, tenant.Tenant{Slug: Slug(i), Name: fmt.Sprintf("基准品牌 %d", i+1), Timezone: Zone, Locale: "zh-CN"})
	if err != nil {
		return nil, fmt.Errorf("synth: brand: %w", err)
	}
	b := &brand{tenantID: t.ID, loc: loc, checked: map[int]bool{}, entered: map[[2]int64]bool{}, recent: map[int64][]int64{}}
	// The staff account cannot log in ('!' is no password hash).
	err = g.db.W.QueryRowContext(ctx, `INSERT INTO staff (tenant_id, email, name, role, password_hash, locale, created_at)
		VALUES ($1, $2, '店长', 'owner', '!', '', $3) RETURNING id`, t.ID, fmt.Sprintf("owner@%s.test", Slug(i)), store.Millis(start)).Scan(&b.staffID)
	if err != nil {
		return nil, fmt.Errorf("synth: staff: %w", err)
	}
	if err := g.setupGroups(ctx, b, p.Groups, start); err != nil {
		return nil, err
	}
	if err := g.setupContent(ctx, b, start); err != nil {
		return nil, err
	}
	g.drawMembers(b, p.Members, start, end)
	if err := g.insertMembers(ctx, b); err != nil {
		return nil, err
	}
	return b, g.setupLives(ctx, b, start, end)
}

// setupGroups creates the groups, a day before the history; their sizes
// follow a Zipf-like law (a few large groups, a long tail).
func (g *gen) setupGroups(ctx context.Context, b *brand, n int, start time.Time) error {
	svc := community.NewService(g.db, event.NewLog(g.db, nil))
	var cum float64
	for k := 0; k < n; k++ {
		grp, _, err := svc.CreateGroup(ctx, community.Group{TenantID: b.tenantID, Channel: "web", Name: fmt.Sprintf("粉丝群 %02d", k+1),
			Kind: "vertical", Capacity: 2000, CreatedAt: start.Add(-24 * time.Hour)})
		if err != nil {
			return fmt.Errorf("synth: group: %w", err)
		}
		b.groups = append(b.groups, grp.ID)
		cum += 1 / math.Pow(float64(k+1), 0.7)
		b.groupCum = append(b.groupCum, cum)
	}
	return nil
}

// contentKinds are the content library's items: type × format.
var contentKinds = [][2]string{{"knowledge", "text"}, {"knowledge", "image"}, {"promo", "image"}, {"promo", "video"},
	{"live_preview", "image"}, {"activity", "text"}}

func (g *gen) setupContent(ctx context.Context, b *brand, start time.Time) error {
	for k, c := range contentKinds {
		var id int64
		err := g.db.W.QueryRowContext(ctx, `INSERT INTO campaign_content (tenant_id, title, type, format, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, b.tenantID, fmt.Sprintf("内容 %d", k+1), c[0], c[1], store.Millis(start)).Scan(&id)
		if err != nil {
			return fmt.Errorf("synth: content: %w", err)
		}
		b.contents = append(b.contents, id)
	}
	return nil
}

// drawMembers draws the members' first joins: a fifth in the launch week,
// the rest evenly over the period; each in a home group and a third of
// them in a second one.
func (g *gen) drawMembers(b *brand, n int, start, end time.Time) {
	s, e := store.Millis(start), store.Millis(end)
	launch := min(s+7*24*3600*1000, e)
	b.joinAt = make([]int64, n)
	for k := range b.joinAt {
		if k < n/5 {
			b.joinAt[k] = s + g.r.Int64N(max(launch-s, 1))
		} else {
			b.joinAt[k] = s + g.r.Int64N(max(e-s, 1))
		}
	}
	slices.Sort(b.joinAt)
	b.names = make([]string, n)
	b.home, b.second = make([]int, n), make([]int, n)
	b.lastIn, b.outAt = make([]int64, n), make([]int64, n)
	for k := 0; k < n; k++ {
		b.names[k] = fmt.Sprintf("粉丝%06d", k+1)
		b.home[k] = g.pickGroup(b)
		b.second[k] = -1
		if len(b.groups) > 1 && g.r.IntN(3) == 0 {
			if o := g.r.IntN(len(b.groups) - 1); o >= b.home[k] {
				b.second[k] = o + 1
			} else {
				b.second[k] = o
			}
		}
	}
}

func (g *gen) pickGroup(b *brand) int {
	u := g.r.Float64() * b.groupCum[len(b.groupCum)-1]
	i, _ := slices.BinarySearch(b.groupCum, u)
	return min(i, len(b.groups)-1)
}

// insertMembers inserts the members (created at their first join) and
// reads their ids back by name; the first one is a staff-tagged account
// (an operator's own), whose messages count as the brand's.
func (g *gen) insertMembers(ctx context.Context, b *brand) error {
	rows := make([][]any, len(b.names))
	for k := range rows {
		rows[k] = []any{b.tenantID, b.names[k], b.joinAt[k]}
	}
	err := g.db.InTx(ctx, func(tx *store.Tx) error {
		return insertRows(ctx, tx, g.db.Dialect, `members (tenant_id, display_name, created_at)`, rows)
	})
	if err != nil {
		return fmt.Errorf("synth: members: %w", err)
	}
	q, err := g.db.R.QueryContext(ctx, `SELECT display_name, id FROM members WHERE tenant_id = $1`, b.tenantID)
	if err != nil {
		return fmt.Errorf("synth: members: %w", err)
	}
	ids, err := store.CollectMap[string, int64](q)
	if err != nil {
		return fmt.Errorf("synth: members: %w", err)
	}
	b.members = make([]int64, len(b.names))
	for k, name := range b.names {
		if b.members[k] = ids[name]; b.members[k] == 0 {
			return fmt.Errorf("synth: member %s not stored", name)
		}
	}
	if len(b.members) > 0 {
		_, err = g.db.W.ExecContext(ctx, `INSERT INTO member_tags (tenant_id, member_id, tag, created_at) VALUES ($1, $2, 'staff', $3)`,
			b.tenantID, b.members[0], b.joinAt[0])
	}
	return err
}

// setupLives schedules a live every third evening, 20:00–22:00.
func (g *gen) setupLives(ctx context.Context, b *brand, start, end time.Time) error {
	for d := start.AddDate(0, 0, 1); ; d = d.AddDate(0, 0, 3) {
		from := time.Date(d.Year(), d.Month(), d.Day(), 20, 0, 0, 0, b.loc)
		to := from.Add(2 * time.Hour)
		if to.After(end) {
			return nil
		}
		l := live{start: store.Millis(from), end: store.Millis(to)}
		err := g.db.W.QueryRowContext(ctx, `INSERT INTO lives (tenant_id, title, scheduled_at, state, started_at, ended_at, created_at)
			VALUES ($1, $2, $3, 'ended', $3, $4, $5) RETURNING id`, b.tenantID, "直播 "+from.Format("01-02"), l.start, l.end,
			store.Millis(from.AddDate(0, 0, -3))).Scan(&l.id)
		if err != nil {
			return fmt.Errorf("synth: live: %w", err)
		}
		b.lives = append(b.lives, l)
	}
}

// liveAt is the live running at ms, or the one that started latest within
// the day before it (ok false: none).
func (b *brand) liveAt(ms, within int64) (live, bool) {
	i := sort.Search(len(b.lives), func(j int) bool { return b.lives[j].start > ms })
	if i == 0 || ms-b.lives[i-1].start > within {
		return live{}, false
	}
	return b.lives[i-1], true
}

// writeMemberships writes each member's group memberships as the history
// left them: the home group (joined last at lastIn, left at outAt) and
// the second group.
func (g *gen) writeMemberships(ctx context.Context, b *brand) error {
	var rows [][]any
	for k := 0; k < b.joined; k++ {
		if b.dirty != nil && !b.dirty[k] {
			continue
		}
		var left any
		if b.outAt[k] != 0 {
			left = b.outAt[k]
		}
		rows = append(rows, []any{b.tenantID, b.groups[b.home[k]], b.members[k], b.lastIn[k], left})
		if b.second[k] >= 0 && b.dirty == nil {
			rows = append(rows, []any{b.tenantID, b.groups[b.second[k]], b.members[k], b.joinAt[k], nil})
		}
	}
	err := g.db.InTx(ctx, func(tx *store.Tx) error {
		return insertRows(ctx, tx, g.db.Dialect, `group_members (tenant_id, group_id, member_id, joined_at, left_at)`, rows,
			`ON CONFLICT (group_id, member_id) DO UPDATE SET joined_at = excluded.joined_at, left_at = excluded.left_at`)
	})
	if err != nil {
		return fmt.Errorf("synth: memberships: %w", err)
	}
	return nil
}
