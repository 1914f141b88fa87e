package commerce

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// CouponOwner names the member a coupon code was issued to (the coupon
// feature provides it); store.ErrNotFound when the code is no one's.
type CouponOwner func(ctx context.Context, q store.Querier, tenantID int64, code string) (memberID int64, err error)

// OrderHook runs in the transaction that gives an order its member: when
// a matched order is stored, and when Rematch matches an earlier one (the
// tracked-link attribution); an error rolls the order back.
type OrderHook func(ctx context.Context, tx *store.Tx, tenantID, orderID, memberID int64, at time.Time) error

// UpgradeHook runs in the transaction of an upgrade to t (issue the tier's
// coupon bundle, …); an error rolls the order or refund back.
type UpgradeHook func(ctx context.Context, tx *store.Tx, tenantID, memberID int64, t Tier) error

// Service is the commerce store.
type Service struct {
	db       *store.DB
	log      *event.Log
	notifier *notify.Notifier
	cat      *i18n.Catalog
	now      func() time.Time

	// CouponOwner matches an order to a member by its coupon code; nil:
	// orders are not matched by coupon.
	CouponOwner CouponOwner
	// OnUpgrade runs when a member moves up a tier; nil: nothing more.
	OnUpgrade UpgradeHook
	// OnOrder runs when an order is matched to a member (at: its paid
	// time); nil: nothing more.
	OnOrder OrderHook

	// importHook, for tests, runs before a batch of an import commits; an
	// error fails the batch.
	importHook func(batch int) error
}

// New returns the service. out queues the tier-change messages; cat
// translates them.
func New(db *store.DB, log *event.Log, out *outbox.Outbox, cat *i18n.Catalog) *Service {
	return &Service{db: db, log: log, notifier: &notify.Notifier{Outbox: out}, cat: cat, now: time.Now}
}

// SetClock replaces the clock (tests, the demo).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Errors of commerce; each wraps a store sentinel, with the reason after
// the last ": ".
var (
	ErrRefundTooLarge = fmt.Errorf("commerce: %w: the refund is above what is left of the order", store.ErrConflict)
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("commerce: %w: %s", store.ErrInvalid, fmt.Sprintf(format, args...))
}

// Limits of the commerce inputs.
const (
	MaxSKURunes      = 64
	MaxNameRunes     = 200
	MaxCategoryRunes = 40
	MaxExternalRunes = 100
	MaxLines         = 500
	MaxAmountMinor   = 1_000_000_000_00 // a billion in major units
	MaxQty           = 1_000_000        // of one line (order_lines.qty is a 32-bit INTEGER on PostgreSQL)
)

// NormPhone is the phone number as orders and members are matched by: its
// digits, without the 86 / 0086 country prefix of an 11-digit mainland
// China mobile number (1xx xxxx xxxx).
func NormPhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if r >= '０' && r <= '９' { // full-width digits from CJK input methods
			b.WriteRune('0' + (r - '０'))
		}
	}
	d := b.String()
	for _, p := range []string{"0086", "86"} {
		if rest, ok := strings.CutPrefix(d, p); ok && len(rest) == 11 && rest[0] == '1' {
			return rest
		}
	}
	return d
}

// NormEmail is the e-mail address as matched: trimmed, lower case.
func NormEmail(s string) string { return strings.ToLower(strings.TrimSpace(textnorm.Line(s))) }

// phoneDigits is the SQL expression of a member's phone digits; the same
// text as the members_phone_digits index (migration 0010), so the lookup
// is an index seek on both engines. Member phones hold only "+0-9 -()"
// (member.Validate).
const phoneDigits = `REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(m.phone, ' ', ''), '-', ''), '(', ''), ')', ''), '+', '')`

// match finds the member an order belongs to, in order: channel identity,
// phone, email, coupon code. It returns 0 and "" when none matches.
func (s *Service) match(ctx context.Context, q store.Querier, tenantID int64, o *Order) (int64, string, error) {
	var id int64
	if o.Channel != "" && o.ChannelUser != "" {
		err := q.QueryRowContext(ctx, `SELECT COALESCE(m.merged_into, m.id) FROM identities i JOIN members m ON m.id = i.member_id AND m.tenant_id = i.tenant_id
			WHERE i.tenant_id = $1 AND (i.channel = $2 OR i.channel LIKE $3) AND i.external_id = $4 ORDER BY i.id LIMIT 1`,
			tenantID, o.Channel, o.Channel+"/%", o.ChannelUser).Scan(&id)
		if err == nil {
			return id, "channel", nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return 0, "", fmt.Errorf("commerce: match by channel: %w", err)
		}
	}
	if o.Phone != "" {
		alt := o.Phone
		if len(o.Phone) == 11 && o.Phone[0] == '1' {
			alt = "86" + o.Phone
		}
		// MIN rather than ORDER BY id LIMIT 1: SQLite then seeks the
		// expression index instead of walking the tenant's members by id.
		var min sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT MIN(m.id) FROM members m WHERE m.tenant_id = $1 AND `+phoneDigits+` IN ($2, $3)
			AND m.merged_into IS NULL`, tenantID, o.Phone, alt).Scan(&min); err != nil {
			return 0, "", fmt.Errorf("commerce: match by phone: %w", err)
		}
		if min.Valid {
			return min.Int64, "phone", nil
		}
	}
	if o.Email != "" {
		var min sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT MIN(m.id) FROM members m WHERE m.tenant_id = $1 AND m.email = $2 AND m.merged_into IS NULL`,
			tenantID, o.Email).Scan(&min); err != nil {
			return 0, "", fmt.Errorf("commerce: match by email: %w", err)
		}
		if min.Valid {
			return min.Int64, "email", nil
		}
	}
	if o.Coupon != "" && s.CouponOwner != nil {
		id, err := s.CouponOwner(ctx, q, tenantID, o.Coupon)
		switch {
		case err == nil && id > 0:
			return id, "coupon", nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return 0, "", fmt.Errorf("commerce: match by coupon: %w", err)
		}
	}
	return 0, "", nil
}

// tenantLocale is the brand's language, the fallback for a member's.
func tenantLocale(ctx context.Context, q store.Querier, tenantID int64) (string, *time.Location, error) {
	var loc, tz string
	err := q.QueryRowContext(ctx, `SELECT locale, timezone FROM tenants WHERE id = $1`, tenantID).Scan(&loc, &tz)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, store.ErrNotFound
	}
	zone, zerr := time.LoadLocation(tz)
	if zerr != nil {
		zone = time.UTC
	}
	return loc, zone, err
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

type scanner = interface{ Scan(...any) error }

// wtx is a write transaction that, for a batch, prepares each statement
// once: an import batch runs the same dozen statements for hundreds of
// orders, and the SQLite driver would parse each again on every call.
// Outside a batch (cache nil) it passes every call through.
type wtx struct {
	*store.Tx
	cache map[string]*sql.Stmt
	// events, in a batch, collects the orders' events for one multi-row
	// append before the batch commits (flushEvents).
	events []event.Event
	// quiet: tier changes are recorded but not told (a quiet import).
	quiet bool
}

// appendEvent appends e now, or collects it in a batch.
func (s *Service) appendEvent(ctx context.Context, tx *wtx, e event.Event) error {
	if tx.cache != nil {
		tx.events = append(tx.events, e)
		return nil
	}
	_, err := s.log.AppendTx(ctx, tx.Tx, &e)
	return err
}

// flushEvents appends a batch's collected events.
func (s *Service) flushEvents(ctx context.Context, tx *wtx) error {
	if len(tx.events) == 0 {
		return nil
	}
	_, err := s.log.AppendBatchTx(ctx, tx.Tx, tx.events)
	tx.events = nil
	return err
}

func plain(tx *store.Tx) *wtx { return &wtx{Tx: tx} }

func batched(tx *store.Tx) *wtx { return &wtx{Tx: tx, cache: map[string]*sql.Stmt{}} }

func (w *wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	if w.cache == nil {
		return nil
	}
	if st, ok := w.cache[query]; ok {
		return st
	}
	st, err := w.Tx.PrepareContext(ctx, query)
	if err != nil {
		return nil // the plain call reports the error
	}
	w.cache[query] = st
	return st
}

func (w *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := w.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return w.Tx.ExecContext(ctx, query, args...)
}

func (w *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return w.Tx.QueryContext(ctx, query, args...)
}

func (w *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return w.Tx.QueryRowContext(ctx, query, args...)
}
