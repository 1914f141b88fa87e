package track

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
)

// The attribution window: an order, a live-room entry or a join counts
// for the clicks of the same person at most this long before it.
const (
	DefaultWindow = 24 * time.Hour
	MinWindow     = time.Hour
	MaxWindow     = 30 * 24 * time.Hour
)

// Touch is one click as attribution reads it: when, and what its link
// was sent for.
type Touch struct {
	LinkID    int64
	At        time.Time
	LiveID    int64
	ContentID int64
	StepID    int64
	GroupID   int64
}

// Touches picks, from a person's clicks in time order, the first and the
// last that fall within window before at (at-window ≤ click ≤ at). ok is
// false when none does: a click after at, or longer than window before
// it, never counts.
func Touches(clicks []Touch, at time.Time, window time.Duration) (first, last Touch, ok bool) {
	from := at.Add(-window)
	for _, c := range clicks {
		if c.At.Before(from) || c.At.After(at) {
			continue
		}
		if !ok {
			first, ok = c, true
		}
		last = c
	}
	return first, last, ok
}

// JoinSource is the join attribution of a member's join (pure): an
// invite link is a referral (ReferrerID); a live's own join code
// ("live:<id>", the live room's) or, failing that, a last click within the
// window on a link of a live (an alert) is "live" (LiveID); anything else
// keeps the join code's source label. LinkID is the last click's link
// whenever there was one.
func JoinSource(codeSource string, referrerID int64, last Touch, clicked bool) event.JoinData {
	d := event.JoinData{Source: codeSource}
	if clicked {
		d.LinkID = last.LinkID
	}
	switch live := liveOfCode(codeSource); {
	case referrerID != 0:
		d.Source, d.ReferrerID = "referral", referrerID
	case live != 0:
		d.Source, d.LiveID = "live", live
	case clicked && last.LiveID != 0:
		d.Source, d.LiveID = "live", last.LiveID
	}
	return d
}

// liveOfCode is the live of a live room's join code source ("live:12"), or 0.
func liveOfCode(source string) int64 {
	rest, ok := strings.CutPrefix(source, "live:")
	if !ok {
		return 0
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// Window is the tenant's attribution window (DefaultWindow unless set).
func (s *Service) Window(ctx context.Context, tenantID int64) (time.Duration, error) {
	return window(ctx, s.db.R, tenantID)
}

func window(ctx context.Context, q store.Querier, tenantID int64) (time.Duration, error) {
	var minutes int64
	err := q.QueryRowContext(ctx, `SELECT window_minutes FROM track_settings WHERE tenant_id = $1`, tenantID).Scan(&minutes)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return DefaultWindow, nil
	case err != nil:
		return 0, fmt.Errorf("track: window: %w", err)
	}
	return time.Duration(minutes) * time.Minute, nil
}

// SetWindow sets the tenant's attribution window (MinWindow..MaxWindow,
// whole minutes). It applies to what is attributed from now on.
func (s *Service) SetWindow(ctx context.Context, tenantID int64, d time.Duration) error {
	if d < MinWindow || d > MaxWindow {
		return fmt.Errorf("track: %w: the attribution window must be between %d and %d hours", store.ErrInvalid,
			int(MinWindow.Hours()), int(MaxWindow.Hours()))
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO track_settings (tenant_id, window_minutes, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET window_minutes = excluded.window_minutes, updated_at = excluded.updated_at`,
		tenantID, int64(d/time.Minute), store.Millis(s.now()))
	if err != nil {
		return fmt.Errorf("track: set window: %w", err)
	}
	return nil
}

// clicksOf reads the clicks of a member and of a visitor (either may be
// absent) between from and to, in time order.
func clicksOf(ctx context.Context, q store.Querier, tenantID, memberID int64, visitor string, from, to time.Time) ([]Touch, error) {
	var all []Touch
	read := func(col string, key any) error {
		rows, err := q.QueryContext(ctx, `SELECT c.link_id, c.at, l.live_id, l.content_id, l.step_id, l.group_id
			FROM link_clicks c JOIN links l ON l.tenant_id = c.tenant_id AND l.id = c.link_id
			WHERE c.tenant_id = $1 AND c.`+col+` = $2 AND c.at >= $3 AND c.at <= $4 ORDER BY c.at, c.id`,
			tenantID, key, store.Millis(from), store.Millis(to))
		if err != nil {
			return fmt.Errorf("track: clicks: %w", err)
		}
		ts, err := store.Collect(rows, func(r interface{ Scan(...any) error }) (Touch, error) {
			var t Touch
			var at int64
			err := r.Scan(&t.LinkID, &at, &t.LiveID, &t.ContentID, &t.StepID, &t.GroupID)
			t.At = store.Time(at)
			return t, err
		})
		all = merge(all, ts)
		return err
	}
	if memberID != 0 {
		if err := read("member_id", memberID); err != nil {
			return nil, err
		}
	}
	if visitor != "" {
		if err := read("visitor", visitor); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// merge merges two click lists into one in time order; a click found
// by both member and visitor is kept once.
func merge(a, b []Touch) []Touch {
	out := append(a, b...)
	slices.SortStableFunc(out, func(x, y Touch) int { return x.At.Compare(y.At) })
	return slices.Compact(out)
}

// lastTouch is the person's last click within the window before at.
func lastTouch(ctx context.Context, q store.Querier, tenantID, memberID int64, visitor string, at time.Time) (Touch, bool, error) {
	win, err := window(ctx, q, tenantID)
	if err != nil {
		return Touch{}, false, err
	}
	clicks, err := clicksOf(ctx, q, tenantID, memberID, visitor, at.Add(-win), at)
	if err != nil {
		return Touch{}, false, err
	}
	_, last, ok := Touches(clicks, at, win)
	return last, ok, nil
}

// AttributeOrderTx attributes an order to its buyer's clicks, inside the
// order's transaction (commerce's OnOrder hook): the last and the first
// click within the window before the order's time. An order without a
// member, or without clicks in the window, gets no row; one attributed
// before keeps its row.
func (s *Service) AttributeOrderTx(ctx context.Context, tx *store.Tx, tenantID, orderID, memberID int64, at time.Time) error {
	if memberID == 0 {
		return nil
	}
	win, err := window(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	clicks, err := clicksOf(ctx, tx, tenantID, memberID, "", at.Add(-win), at)
	if err != nil {
		return err
	}
	first, last, ok := Touches(clicks, at, win)
	if !ok {
		return nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO order_attribution (tenant_id, order_id, member_id, last_link_id, first_link_id,
			live_id, content_id, step_id, group_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, order_id) DO NOTHING`,
		tenantID, orderID, memberID, last.LinkID, first.LinkID, last.LiveID, last.ContentID, last.StepID, last.GroupID, store.Millis(at))
	if err != nil {
		return fmt.Errorf("track: attribute order %d: %w", orderID, err)
	}
	return nil
}

// Attribution is one order's stored attribution.
type Attribution struct {
	OrderID     int64
	MemberID    int64
	LastLinkID  int64
	FirstLinkID int64
	LiveID      int64
	ContentID   int64
	StepID      int64
	GroupID     int64
	At          time.Time
}

// OrderAttribution returns an order's attribution, or store.ErrNotFound
// when it has none.
func (s *Service) OrderAttribution(ctx context.Context, tenantID, orderID int64) (Attribution, error) {
	var a Attribution
	var at int64
	err := s.db.R.QueryRowContext(ctx, `SELECT order_id, member_id, last_link_id, first_link_id, live_id, content_id, step_id, group_id, at
		FROM order_attribution WHERE tenant_id = $1 AND order_id = $2`, tenantID, orderID).Scan(&a.OrderID, &a.MemberID, &a.LastLinkID,
		&a.FirstLinkID, &a.LiveID, &a.ContentID, &a.StepID, &a.GroupID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return a, store.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("track: order attribution: %w", err)
	}
	a.At = store.Time(at)
	return a, nil
}

// EnterSourceID is the source id of a member's entry into a live room.
func EnterSourceID(liveID, memberID int64) string {
	return fmt.Sprintf("enter:%d:%d", liveID, memberID)
}

// EnterLive records a member's first entry into a live's room (a
// live_entered event, once per member and live) with the click that led
// to it: their last click (as member or as this visitor) within the
// window. It reports whether this was the first entry.
func (s *Service) EnterLive(ctx context.Context, tenantID, liveID, memberID int64, visitor string) (bool, error) {
	if memberID == 0 {
		return false, nil
	}
	sourceID := EnterSourceID(liveID, memberID)
	// Most views are not the first: a read spares them a write.
	seen, err := store.Exists(ctx, s.db.R, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND source = $2 AND source_id = $3`,
		tenantID, event.SourceTrack, sourceID)
	if err != nil || seen {
		return false, err
	}
	now := s.now()
	var entered bool
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		last, ok, err := lastTouch(ctx, tx, tenantID, memberID, visitor, now)
		if err != nil {
			return err
		}
		d := event.TrackData{LiveID: liveID}
		if ok {
			d.ViaLink = last.LinkID
		}
		entered, err = s.log.AppendTx(ctx, tx, &event.Event{TenantID: tenantID, Type: event.LiveEntered, Source: event.SourceTrack,
			SourceID: sourceID, At: now, MemberID: memberID, Data: event.MustData(d)})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("track: live entry: %w", err)
	}
	return entered, nil
}

// JoinTx is the join attribution of a member joining through the web
// (inside the join's transaction): the visitor's clicks before they were
// a member become the member's, and JoinSource decides the source from
// the join code's label, the inviting member and the last click within
// the window.
func (s *Service) JoinTx(ctx context.Context, tx *store.Tx, tenantID, memberID int64, visitor, codeSource string, referrerID int64) (event.JoinData, error) {
	if visitor != "" && memberID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE link_clicks SET member_id = $3 WHERE tenant_id = $1 AND visitor = $2 AND member_id IS NULL`,
			tenantID, visitor, memberID); err != nil {
			return event.JoinData{}, fmt.Errorf("track: claim clicks: %w", err)
		}
	}
	last, ok, err := lastTouch(ctx, tx, tenantID, memberID, visitor, s.now())
	if err != nil {
		return event.JoinData{}, err
	}
	return JoinSource(codeSource, referrerID, last, ok), nil
}

// MoveMember is the member merge hook: the record from's clicks,
// attributed orders and private links become the person to's.
func (s *Service) MoveMember(ctx context.Context, tx *store.Tx, tenantID, from, to int64) error {
	for _, q := range []string{
		`UPDATE link_clicks SET member_id = $3 WHERE tenant_id = $1 AND member_id = $2`,
		`UPDATE order_attribution SET member_id = $3 WHERE tenant_id = $1 AND member_id = $2`,
		`UPDATE links SET member_id = $3 WHERE tenant_id = $1 AND member_id = $2`,
	} {
		if _, err := tx.ExecContext(ctx, q, tenantID, from, to); err != nil {
			return fmt.Errorf("track: move member: %w", err)
		}
	}
	return nil
}
