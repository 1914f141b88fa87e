package demo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/track"
)

// seedTrack gives the demo brand's last two weeks tracked links with
// clicks, and orders attributed to them: last Friday's live (ended) was
// alerted in the first two groups with its replay link and a product
// card; a knowledge post went to the first group. One in three of the
// fortnight's matched orders follows a click of its buyer 1–3 hours
// before; visitors who did not buy clicked too. No randomness: the demo
// before this step is unchanged, and the same for the same seed.
func (g *generator) seedTrack(ctx context.Context) error {
	if len(g.groups) < 2 {
		return nil
	}
	tr := track.New(g.d.DB, g.d.Log, "")
	liveAt := g.end.AddDate(0, 0, -3).Add(20 * time.Hour)
	var liveID int64
	err := g.d.DB.InTx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO lives (tenant_id, title, scheduled_at, stream_url, state, started_at, ended_at, staff_id, created_at)
			VALUES ($1, $2, $3, $4, 'ended', $3, $5, $6, $7) RETURNING id`, g.tenant.ID, "上周五直播：保湿专场", store.Millis(liveAt),
			"https://live.example.com/bloom", store.Millis(liveAt.Add(2*time.Hour)), g.staffID, store.Millis(liveAt.AddDate(0, 0, -7))).Scan(&liveID)
	})
	if err != nil {
		return fmt.Errorf("past live: %w", err)
	}
	var content sql.NullInt64 // the library's first knowledge post, when the demo has a library
	if err := g.d.DB.R.QueryRowContext(ctx, `SELECT MIN(id) FROM campaign_content WHERE tenant_id = $1 AND type = 'knowledge'`,
		g.tenant.ID).Scan(&content); err != nil {
		return err
	}
	contentID := content.Int64
	specs := []track.Spec{
		{URL: "https://live.example.com/bloom/replay", Kind: track.KindAlert, LiveID: liveID, GroupID: g.groups[0].ID, Ref: fmt.Sprintf("live:%d:alert:1:%d", liveID, g.groups[0].ID)},
		{URL: "https://live.example.com/bloom/replay", Kind: track.KindAlert, LiveID: liveID, GroupID: g.groups[1].ID, Ref: fmt.Sprintf("live:%d:alert:1:%d", liveID, g.groups[1].ID)},
		{URL: "https://shop.example.com/p/SERUM-30", Kind: track.KindProduct, LiveID: liveID, GroupID: g.groups[0].ID, Ref: fmt.Sprintf("live:%d:product:1", liveID)},
		{URL: "https://shop.example.com/guide/sensitive-skin", Kind: track.KindStep, ContentID: contentID, GroupID: g.groups[0].ID, Ref: "demo:post:1"},
	}
	links := make([]track.Link, len(specs))
	for i, spec := range specs {
		if links[i], err = g.demoLink(ctx, tr, spec); err != nil {
			return err
		}
	}
	// Visitors who only looked: a few clicks on each link, on the live's day.
	for i := range 36 {
		l := links[i%len(links)]
		if _, err := tr.Click(ctx, l, track.Visit{Visitor: fmt.Sprintf("demo-visitor-%02d", i), At: liveAt.Add(time.Duration(i*3-30) * time.Minute)}); err != nil {
			return err
		}
	}
	if err := g.liveAudience(ctx, tr, liveID, liveAt, links[:3]); err != nil {
		return err
	}
	return g.attributeDemoOrders(ctx, tr, links)
}

func inGroup(m demoMember, group int64) bool {
	_, ok := m.joined[group]
	return ok
}

// memberBefore reports whether m was in some group before t.
func memberBefore(m demoMember, t time.Time) bool {
	for _, at := range m.joined {
		if at.Before(t) {
			return true
		}
	}
	return false
}

// liveAudience gives the past live the audience its funnel counts: the
// platform's viewer reports, members entering its room (some after
// clicking its alert or product card), and members who joined the second
// group through it during the show.
func (g *generator) liveAudience(ctx context.Context, tr *track.Service, liveID int64, liveAt time.Time, liveLinks []track.Link) error {
	for i, n := range []int64{860, 2400, 3100, 1900} {
		e := event.Event{TenantID: g.tenant.ID, Type: event.LivePlatform, Source: fmt.Sprintf("liveapi:%d", liveID),
			SourceID: fmt.Sprintf("demo-viewers-%d", i), At: liveAt.Add(time.Duration(i*30) * time.Minute),
			Data: event.MustData(event.LivePlatformData{LiveID: liveID, Kind: "viewers", Count: n})}
		if _, err := g.d.Log.Append(ctx, &e); err != nil {
			return fmt.Errorf("demo viewers: %w", err)
		}
	}
	defer tr.SetClock(time.Now)
	// Joiners go to the second group (everyone is in the first).
	target := g.groups[1].ID
	entered, joined := 0, 0
	for i, m := range g.members {
		at := liveAt.Add(time.Duration(5+i%90) * time.Minute)
		switch {
		case !inGroup(m, target) && joined < 8 && memberBefore(m, at):
			// Joined from the live room's join code.
			joined++
			_, err := g.d.Community.Join(ctx, community.JoinRequest{TenantID: g.tenant.ID, GroupID: target, MemberID: m.id,
				Source: event.SourceDemo, SourceID: fmt.Sprintf("demo-live-join-%d", m.id), At: at,
				JoinCode:    community.JoinCode{Source: fmt.Sprintf("live:%d", liveID)},
				Attribution: event.JoinData{Source: "live", LiveID: liveID}})
			if err != nil {
				return fmt.Errorf("demo live join: %w", err)
			}
		case i%4 != 0 || entered >= 70:
			continue
		}
		if i%3 == 0 { // came through the alert or the product card
			l := liveLinks[i%len(liveLinks)]
			if _, err := tr.Click(ctx, l, track.Visit{MemberID: m.id, Visitor: fmt.Sprintf("demo-viewer-%d", m.id), At: at.Add(-2 * time.Minute)}); err != nil {
				return err
			}
		}
		tr.SetClock(func() time.Time { return at })
		if _, err := tr.EnterLive(ctx, g.tenant.ID, liveID, m.id, ""); err != nil {
			return err
		}
		entered++
	}
	return nil
}

func (g *generator) demoLink(ctx context.Context, tr *track.Service, spec track.Spec) (track.Link, error) {
	var l track.Link
	err := g.d.DB.InTx(ctx, func(tx *store.Tx) error {
		short, err := tr.LinkTx(ctx, tx, g.tenant.ID, spec)
		l.Code = strings.TrimPrefix(short, "/t/") // the demo has no public URL: the path alone
		return err
	})
	if err != nil {
		return l, fmt.Errorf("demo link: %w", err)
	}
	return tr.Resolve(ctx, l.Code)
}

// attributeDemoOrders has the buyer of every third matched order of the
// last fortnight click a link before it, and attributes the order.
func (g *generator) attributeDemoOrders(ctx context.Context, tr *track.Service, links []track.Link) error {
	rows, err := g.d.DB.R.QueryContext(ctx, `SELECT id, member_id, paid_at FROM orders WHERE tenant_id = $1 AND member_id IS NOT NULL
		AND paid_at >= $2 AND paid_at < $3 ORDER BY paid_at, id`, g.tenant.ID, store.Millis(g.end.AddDate(0, 0, -14)), store.Millis(g.end))
	if err != nil {
		return err
	}
	type paid struct {
		id, member int64
		at         time.Time
	}
	list, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (paid, error) {
		var p paid
		var at int64
		err := r.Scan(&p.id, &p.member, &at)
		p.at = store.Time(at)
		return p, err
	})
	if err != nil {
		return err
	}
	for i, o := range list {
		if i%3 != 0 {
			continue
		}
		l := links[(i/3)%len(links)]
		at := o.at.Add(-time.Duration(1+i/3%3) * time.Hour)
		if _, err := tr.Click(ctx, l, track.Visit{MemberID: o.member, Visitor: fmt.Sprintf("demo-buyer-%d", o.member), At: at}); err != nil {
			return err
		}
		if err := g.d.DB.InTx(ctx, func(tx *store.Tx) error {
			return tr.AttributeOrderTx(ctx, tx, g.tenant.ID, o.id, o.member, o.at)
		}); err != nil {
			return fmt.Errorf("demo attribution: %w", err)
		}
	}
	return nil
}
