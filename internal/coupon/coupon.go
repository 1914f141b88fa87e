package coupon

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Kind is what a coupon takes off an order.
type Kind string

const (
	Amount       Kind = "amount"        // AmountMinor off (at most the order's amount)
	Percent      Kind = "percent"       // Percent % off, rounded down to the minor unit
	FreeShipping Kind = "free_shipping" // the shop waives shipping
)

// Limits of a batch.
const (
	MaxNameRunes   = 60
	MaxPrefixLen   = 8
	MaxStock       = 100_000
	MaxPerMember   = 100
	MaxValidDays   = 3650
	MaxAmountMinor = 100_000_000 // one million yuan
	MaxRefLen      = 200
	codeLen        = 10
)

// codeAlphabet leaves out look-alikes (0/O, 1/I/L) and lower case, so a
// code read aloud in a live or typed into a shop's checkout comes out
// right; codes are matched case-insensitively.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// Audience is who may claim a batch: every condition set must hold; an
// empty audience is every member.
type Audience struct {
	GroupID       int64             `json:"group_id,omitempty"`        // is in this group now
	MinTierRank   int               `json:"min_tier_rank,omitempty"`   // holds a tier of at least this rank
	Segment       *campaign.Segment `json:"segment,omitempty"`         // is in this campaign segment
	LiveID        int64             `json:"live_id,omitempty"`         // commented, liked or claimed a drop in this live
	NewWithinDays int               `json:"new_within_days,omitempty"` // became a member within N days
}

// Empty reports whether a filters nobody out.
func (a Audience) Empty() bool {
	return a.GroupID == 0 && a.MinTierRank == 0 && (a.Segment == nil || a.Segment.Empty()) && a.LiveID == 0 && a.NewWithinDays == 0
}

// Batch is a set of coupons: Stock codes, handed out by claims (within the
// window, to the audience, PerMember each at most) and grants.
type Batch struct {
	ID            int64
	TenantID      int64
	Name          string
	Prefix        string // optional, before each code: "VIP" → VIP-7XK3M9QP2A
	Kind          Kind
	AmountMinor   int64 // Amount: minor units off
	Percent       int   // Percent: 1–99
	MinSpendMinor int64 // the order must reach this
	ValidFrom     time.Time
	ValidUntil    time.Time // zero with ValidDays set: valid ValidDays from the claim
	ValidDays     int
	Stock         int64
	PerMember     int
	Audience      Audience
	OpensAt       time.Time // claims from
	ClosesAt      time.Time // claims until (zero: until sold out)
	DisabledAt    time.Time
	StaffID       int64
	CreatedAt     time.Time

	Claimed  int64 // counted on reads that ask for it
	Redeemed int64
}

// Left is how many codes remain to hand out (of the counted figures).
func (b Batch) Left() int64 { return max(b.Stock-b.Claimed, 0) }

// Code is one coupon code; MemberID is 0 until it is handed out.
type Code struct {
	ID            int64
	TenantID      int64
	BatchID       int64
	Code          string
	MemberID      int64
	Ref           string
	ClaimedAt     time.Time
	ValidFrom     time.Time
	ValidUntil    time.Time
	RedeemedAt    time.Time
	OrderID       string
	OrderMinor    int64
	DiscountMinor int64
	FreeShipping  bool

	// Filled by listing reads.
	BatchName   string
	Kind        Kind
	AmountMinor int64
	Percent     int
	MinSpend    int64
	MemberName  string
}

// State is where a code stands at now: redeemed, expired, pending (not
// valid yet) or valid.
func (c Code) State(now time.Time) string {
	switch {
	case !c.RedeemedAt.IsZero():
		return "redeemed"
	case !c.ValidUntil.IsZero() && !now.Before(c.ValidUntil):
		return "expired"
	case !c.ValidFrom.IsZero() && now.Before(c.ValidFrom):
		return "pending"
	}
	return "valid"
}

// Refusal is why a claim, a grant or a redemption was refused; Reason is
// a stable word (the web layer translates it), the error text says it in
// English. It is a store.ErrConflict.
type Refusal struct {
	Reason string
	msg    string
}

func (r *Refusal) Error() string { return "coupon: conflict: " + r.msg }
func (r *Refusal) Unwrap() error { return store.ErrConflict }

func refuse(reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, msg: fmt.Sprintf(format, args...)}
}

// Reason is the refusal's reason, or "" when err is not a refusal.
func Reason(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// Message is the refusal's English sentence, or "" when err is not one.
func Message(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.msg
	}
	return ""
}

// The refusals callers test for with errors.Is compare reasons.
func (r *Refusal) Is(target error) bool {
	t, ok := target.(*Refusal)
	return ok && t.Reason == r.Reason
}

// Refusals by reason, for errors.Is.
var (
	ErrDisabled    = refuse("disabled", "this coupon is no longer offered")
	ErrNotOpen     = refuse("not_open", "claims have not opened yet")
	ErrClosed      = refuse("closed", "claims have closed")
	ErrSoldOut     = refuse("sold_out", "all coupons of this batch are taken")
	ErrLimit       = refuse("limit", "you already hold as many of these coupons as one member may")
	ErrUsed        = refuse("used", "the code was already used on another order")
	ErrExpired     = refuse("expired", "the code has expired")
	ErrNotYetValid = refuse("not_yet_valid", "the code is not valid yet")
	ErrMinimum     = refuse("minimum_spend", "the order does not reach the coupon's minimum spend")
)

// TierRankFunc is the member's tier rank (0: no tier), provided by the
// commerce package.
type TierRankFunc func(ctx context.Context, q store.Querier, tenantID, memberID int64) (int, error)

// Service stores batches, hands out and redeems codes, and runs perks.
type Service struct {
	db  *store.DB
	log *event.Log
	// TierRank answers the tier audience; nil: batches for a tier cannot
	// be created.
	TierRank TierRankFunc
	// Notifier and Catalog tell members of their perk coupons; nil
	// Notifier: perks grant without a message.
	Notifier *notify.Notifier
	Catalog  *i18n.Catalog
	// Link, when set, gives the (tracked) link to the member's coupons
	// page that ends a perk's message, inside its transaction; ref is the
	// message's key. nil or "": the message has no link.
	Link func(ctx context.Context, tx *store.Tx, tenantID, memberID, batchID int64, ref string) (string, error)
	now  func() time.Time
}

// New returns the service.
func New(db *store.DB, log *event.Log) *Service {
	return &Service{db: db, log: log, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// NormalizeCode is how a code typed or sent by a shop is matched.
func NormalizeCode(code string) string {
	return strings.ToUpper(strings.Join(strings.Fields(code), ""))
}

func newCode(prefix string) string {
	b := make([]byte, codeLen)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	if prefix != "" {
		return prefix + "-" + string(b)
	}
	return string(b)
}

// Validate normalises b and checks it at now (without the database: the
// audience's group and live are checked by CreateBatch).
func (s *Service) Validate(b *Batch, now time.Time) error {
	b.Name = textnorm.Line(b.Name)
	b.Prefix = strings.ToUpper(strings.TrimSpace(b.Prefix))
	var p []string
	switch {
	case b.Name == "":
		p = append(p, "name is empty")
	case !textnorm.Limit(b.Name, MaxNameRunes):
		p = append(p, fmt.Sprintf("name is longer than %d characters", MaxNameRunes))
	}
	if len(b.Prefix) > MaxPrefixLen || strings.Trim(b.Prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		p = append(p, fmt.Sprintf("prefix has at most %d letters or digits", MaxPrefixLen))
	}
	switch b.Kind {
	case Amount:
		if b.AmountMinor < 1 || b.AmountMinor > MaxAmountMinor {
			p = append(p, "an amount coupon takes 0.01 to 1,000,000 off")
		}
		b.Percent = 0
	case Percent:
		if b.Percent < 1 || b.Percent > 99 {
			p = append(p, "a percent coupon takes 1 to 99 % off")
		}
		b.AmountMinor = 0
	case FreeShipping:
		b.AmountMinor, b.Percent = 0, 0
	default:
		p = append(p, "value kind must be amount, percent or free shipping")
	}
	if b.MinSpendMinor < 0 || b.MinSpendMinor > MaxAmountMinor {
		p = append(p, "minimum spend must be 0 to 1,000,000")
	}
	switch {
	case b.ValidDays < 0 || b.ValidDays > MaxValidDays:
		p = append(p, fmt.Sprintf("days of validity must be 1 to %d", MaxValidDays))
	case b.ValidDays > 0 && !b.ValidUntil.IsZero():
		p = append(p, "give either an end of validity or days after the claim, not both")
	case b.ValidDays == 0 && b.ValidUntil.IsZero():
		p = append(p, "give an end of validity or days after the claim")
	case b.ValidDays == 0 && !b.ValidUntil.After(now):
		p = append(p, "the end of validity must be in the future")
	case !b.ValidFrom.IsZero() && !b.ValidUntil.IsZero() && !b.ValidUntil.After(b.ValidFrom):
		p = append(p, "validity must end after it starts")
	}
	if b.Stock < 1 || b.Stock > MaxStock {
		p = append(p, fmt.Sprintf("stock must be 1 to %d", MaxStock))
	}
	if b.PerMember < 1 || b.PerMember > MaxPerMember {
		p = append(p, fmt.Sprintf("per-member limit must be 1 to %d", MaxPerMember))
	}
	if b.ValidDays == 0 && !b.ValidUntil.IsZero() {
		// A code handed out after the end of validity is expired on
		// arrival: claims end with the validity at the latest.
		switch {
		case b.ClosesAt.IsZero() && b.ValidUntil.After(now): // (a past end is refused above)
			b.ClosesAt = b.ValidUntil
		case b.ClosesAt.After(b.ValidUntil):
			p = append(p, "claims must close by the end of validity")
		}
	}
	if !b.ClosesAt.IsZero() && !b.ClosesAt.After(b.OpensAt) {
		p = append(p, "claims must close after they open")
	}
	if !b.ClosesAt.IsZero() && !b.ClosesAt.After(now) {
		p = append(p, "claims must close in the future")
	}
	p = append(p, s.validateAudience(&b.Audience)...)
	if len(p) > 0 {
		return fmt.Errorf("%w: %s", store.ErrInvalid, strings.Join(p, "; "))
	}
	return nil
}

func (s *Service) validateAudience(a *Audience) []string {
	var p []string
	if a.GroupID < 0 || a.LiveID < 0 {
		p = append(p, "audience group or live is not valid")
	}
	if a.MinTierRank < 0 {
		p = append(p, "minimum tier cannot be negative")
	}
	if a.MinTierRank > 0 && s.TierRank == nil {
		p = append(p, "tiers are not available, so a tier audience cannot be checked")
	}
	if a.NewWithinDays < 0 || a.NewWithinDays > MaxValidDays {
		p = append(p, fmt.Sprintf("new members' days must be 0 to %d", MaxValidDays))
	}
	if a.Segment != nil {
		p = append(p, campaign.ValidateSegment(a.Segment)...)
		if a.Segment.Empty() {
			a.Segment = nil
		}
	}
	return p
}

// CreateBatch validates and stores a batch with its Stock codes, in one
// transaction.
func (s *Service) CreateBatch(ctx context.Context, b Batch) (Batch, error) {
	now := s.now().UTC()
	if b.OpensAt.IsZero() {
		b.OpensAt = now
	}
	b.CreatedAt, b.DisabledAt, b.Claimed, b.Redeemed = now, time.Time{}, 0, 0
	if err := s.Validate(&b, now); err != nil {
		return b, err
	}
	aud, err := json.Marshal(b.Audience)
	if err != nil {
		return b, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkAudienceRefs(ctx, tx, b.TenantID, b.Audience); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO coupon_batches (tenant_id, name, prefix, kind, amount_minor, percent, min_spend_minor,
			valid_from, valid_until, valid_days, stock, per_member, audience, opens_at, closes_at, staff_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
			b.TenantID, b.Name, b.Prefix, string(b.Kind), b.AmountMinor, b.Percent, b.MinSpendMinor,
			store.Millis(b.ValidFrom), store.Millis(b.ValidUntil), b.ValidDays, b.Stock, b.PerMember, string(aud),
			store.Millis(b.OpensAt), store.Millis(b.ClosesAt), b.StaffID, store.Millis(now)).Scan(&b.ID)
		if err != nil {
			return fmt.Errorf("coupon: create batch: %w", err)
		}
		return insertCodes(ctx, tx, b)
	})
	return b, err
}

func checkAudienceRefs(ctx context.Context, q store.Querier, tenantID int64, a Audience) error {
	if a.GroupID != 0 {
		if ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2`, tenantID, a.GroupID); err != nil || !ok {
			return orInvalid(err, "audience group %d is not one of yours", a.GroupID)
		}
	}
	if a.LiveID != 0 {
		if ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM lives WHERE tenant_id = $1 AND id = $2`, tenantID, a.LiveID); err != nil || !ok {
			return orInvalid(err, "audience live %d is not one of yours", a.LiveID)
		}
	}
	return nil
}

func orInvalid(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", store.ErrInvalid, fmt.Sprintf(format, args...))
}

// codeRows is how many codes one INSERT writes (3 parameters a row).
const codeRows = 200

// insertCodes writes the batch's codes; a code that collides with one the
// tenant already has is drawn again.
func insertCodes(ctx context.Context, tx *store.Tx, b Batch) error {
	for left := b.Stock; left > 0; {
		n := min(left, codeRows)
		var sb strings.Builder
		sb.WriteString(`INSERT INTO coupon_codes (tenant_id, batch_id, code) VALUES `)
		args := make([]any, 0, 3*n)
		for i := range n {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
			args = append(args, b.TenantID, b.ID, newCode(b.Prefix))
		}
		sb.WriteString(` ON CONFLICT DO NOTHING`)
		res, err := tx.ExecContext(ctx, sb.String(), args...)
		if err != nil {
			return fmt.Errorf("coupon: codes of batch %d: %w", b.ID, err)
		}
		done, err := res.RowsAffected()
		if err != nil {
			return err
		}
		left -= done
	}
	return nil
}

const batchCols = `b.id, b.tenant_id, b.name, b.prefix, b.kind, b.amount_minor, b.percent, b.min_spend_minor, b.valid_from, b.valid_until,
	b.valid_days, b.stock, b.per_member, b.audience, b.opens_at, b.closes_at, b.disabled_at, b.staff_id, b.created_at`

type scanner = interface{ Scan(...any) error }

func scanBatch(r scanner, extra ...any) (Batch, error) {
	var b Batch
	var kind, aud string
	var vf, vu, opens, closes, disabled, created int64
	dest := append([]any{&b.ID, &b.TenantID, &b.Name, &b.Prefix, &kind, &b.AmountMinor, &b.Percent, &b.MinSpendMinor, &vf, &vu,
		&b.ValidDays, &b.Stock, &b.PerMember, &aud, &opens, &closes, &disabled, &b.StaffID, &created}, extra...)
	if err := r.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return b, store.ErrNotFound
		}
		return b, err
	}
	b.Kind = Kind(kind)
	b.ValidFrom, b.ValidUntil, b.OpensAt, b.ClosesAt = store.Time(vf), store.Time(vu), store.Time(opens), store.Time(closes)
	b.DisabledAt, b.CreatedAt = store.Time(disabled), store.Time(created)
	if err := json.Unmarshal([]byte(aud), &b.Audience); err != nil {
		return b, fmt.Errorf("coupon: batch %d audience: %w", b.ID, err)
	}
	return b, nil
}

// Batch returns one batch of the tenant with its counts.
func (s *Service) Batch(ctx context.Context, tenantID, id int64) (Batch, error) {
	var claimed, redeemed int64
	b, err := scanBatch(s.db.R.QueryRowContext(ctx, `SELECT `+batchCols+`, `+countCols+` FROM coupon_batches b
		WHERE b.tenant_id = $1 AND b.id = $2`, tenantID, id), &claimed, &redeemed)
	b.Claimed, b.Redeemed = claimed, redeemed
	return b, err
}

// countCols count a batch's handed-out and redeemed codes.
const countCols = `(SELECT COUNT(*) FROM coupon_codes c WHERE c.tenant_id = b.tenant_id AND c.batch_id = b.id AND c.member_id <> 0),
	(SELECT COUNT(*) FROM coupon_codes c WHERE c.tenant_id = b.tenant_id AND c.batch_id = b.id AND c.redeemed_at <> 0)`

func getBatch(ctx context.Context, q store.Querier, tenantID, id int64) (Batch, error) {
	return scanBatch(q.QueryRowContext(ctx, `SELECT `+batchCols+` FROM coupon_batches b WHERE b.tenant_id = $1 AND b.id = $2`, tenantID, id))
}

// Batches returns the tenant's batches, newest first, with their counts.
func (s *Service) Batches(ctx context.Context, tenantID int64) ([]Batch, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+batchCols+`, `+countCols+` FROM coupon_batches b WHERE b.tenant_id = $1 ORDER BY b.id DESC`, tenantID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r scanner) (Batch, error) {
		var claimed, redeemed int64
		b, err := scanBatch(r, &claimed, &redeemed)
		b.Claimed, b.Redeemed = claimed, redeemed
		return b, err
	})
}

// Disable stops a batch's claims and grants; codes already handed out stay
// redeemable.
func (s *Service) Disable(ctx context.Context, tenantID, id int64) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE coupon_batches SET disabled_at = $3 WHERE tenant_id = $1 AND id = $2 AND disabled_at = 0`,
		tenantID, id, store.Millis(s.now().UTC()))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := getBatch(ctx, s.db.R, tenantID, id); err != nil {
			return err
		}
	}
	return nil
}

const codeCols = `c.id, c.tenant_id, c.batch_id, c.code, c.member_id, c.ref, c.claimed_at, c.valid_from, c.valid_until, c.redeemed_at,
	c.order_id, c.order_minor, c.discount_minor, c.free_shipping`

func scanCode(r scanner, extra ...any) (Code, error) {
	var c Code
	var claimed, vf, vu, redeemed int64
	dest := append([]any{&c.ID, &c.TenantID, &c.BatchID, &c.Code, &c.MemberID, &c.Ref, &claimed, &vf, &vu, &redeemed,
		&c.OrderID, &c.OrderMinor, &c.DiscountMinor, &c.FreeShipping}, extra...)
	if err := r.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, store.ErrNotFound
		}
		return c, err
	}
	c.ClaimedAt, c.ValidFrom, c.ValidUntil, c.RedeemedAt = store.Time(claimed), store.Time(vf), store.Time(vu), store.Time(redeemed)
	return c, nil
}

// Codes returns a batch's handed-out codes with their members, newest
// first (at most limit).
func (s *Service) Codes(ctx context.Context, tenantID, batchID int64, limit int) ([]Code, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+codeCols+`, COALESCE(m.display_name, '') FROM coupon_codes c
		LEFT JOIN members m ON m.tenant_id = c.tenant_id AND m.id = c.member_id
		WHERE c.tenant_id = $1 AND c.batch_id = $2 AND c.member_id <> 0 ORDER BY c.claimed_at DESC, c.id DESC LIMIT $3`, tenantID, batchID, limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r scanner) (Code, error) {
		var name string
		c, err := scanCode(r, &name)
		c.MemberName = name
		return c, err
	})
}

// MemberCodes returns a member's codes with their batches' values, newest
// first.
func (s *Service) MemberCodes(ctx context.Context, tenantID, memberID int64) ([]Code, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+codeCols+`, b.name, b.kind, b.amount_minor, b.percent, b.min_spend_minor
		FROM coupon_codes c JOIN coupon_batches b ON b.tenant_id = c.tenant_id AND b.id = c.batch_id
		WHERE c.tenant_id = $1 AND c.member_id = $2 ORDER BY c.claimed_at DESC, c.id DESC`, tenantID, memberID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r scanner) (Code, error) {
		var name, kind string
		var amount, spend int64
		var pct int
		c, err := scanCode(r, &name, &kind, &amount, &pct, &spend)
		c.BatchName, c.Kind, c.AmountMinor, c.Percent, c.MinSpend = name, Kind(kind), amount, pct, spend
		return c, err
	})
}

// MoveMember moves the coupons of the merged record from to the person
// to, inside the merge's transaction (member.MergeHook): the codes, the
// holder counts (added up, so the per-member limit counts both records'
// claims) and the birthday, unless the person gave one.
func (s *Service) MoveMember(ctx context.Context, tx *store.Tx, tenantID, from, to int64) error {
	move := []string{
		`UPDATE coupon_codes SET member_id = $3 WHERE tenant_id = $1 AND member_id = $2`,
		`INSERT INTO coupon_holders (tenant_id, batch_id, member_id, held)
			SELECT tenant_id, batch_id, CAST($3 AS BIGINT), held FROM coupon_holders WHERE tenant_id = $1 AND member_id = $2
			ON CONFLICT (batch_id, member_id) DO UPDATE SET held = coupon_holders.held + excluded.held`,
		`INSERT INTO coupon_birthdays (tenant_id, member_id, month, day, set_at)
			SELECT tenant_id, CAST($3 AS BIGINT), month, day, set_at FROM coupon_birthdays WHERE tenant_id = $1 AND member_id = $2
			ON CONFLICT (tenant_id, member_id) DO NOTHING`,
	}
	for _, q := range move {
		if _, err := tx.ExecContext(ctx, q, tenantID, from, to); err != nil {
			return fmt.Errorf("coupon: move member %d to %d: %w", from, to, err)
		}
	}
	// Two statements: PostgreSQL refuses an argument a statement does not use.
	for _, q := range []string{`DELETE FROM coupon_holders WHERE tenant_id = $1 AND member_id = $2`,
		`DELETE FROM coupon_birthdays WHERE tenant_id = $1 AND member_id = $2`} {
		if _, err := tx.ExecContext(ctx, q, tenantID, from); err != nil {
			return fmt.Errorf("coupon: move member %d to %d: %w", from, to, err)
		}
	}
	return nil
}
