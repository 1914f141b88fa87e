package sale

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Limits of a flash sale.
const (
	MaxNameRunes     = 60
	MaxStock         = 1_000_000
	MaxPerMember     = 100
	MaxKeywordRunes  = 40
	MaxCountdownMin  = 24 * 60
	MaxFlashGroups   = 20
	MaxFlashWindow   = 7 * 24 * time.Hour
	MaxFlashAhead    = 60 * 24 * time.Hour
	MaxPriceMinor    = 100_000_000_00
	DefaultKeywords  = "秒杀,搶,grab"
	maxCheckoutRunes = 500
)

// Flash is a flash sale (秒杀) in one or more groups.
type Flash struct {
	ID            int64
	TenantID      int64
	Name          string
	SKU           string // the shop's product, as text (optional)
	PriceMinor    int64
	OriginalMinor int64 // the price before the sale (0: not shown)
	Stock         int64
	Claimed       int64
	PerMember     int64
	Keyword       string // words that claim in the chat, comma-separated ("秒杀,搶,grab")
	CheckoutURL   string // where a winner pays (optional; else "in the shop")
	CountdownMin  int    // minutes before the start the countdown is posted (0: none)
	StartsAt      time.Time
	EndsAt        time.Time // zero: until sold out
	PersonaID     int64
	StaffID       int64
	Groups        []int64
	CreatedAt     time.Time
	CountdownAt   time.Time // the countdown was queued
	OpenedAt      time.Time // the start ("开抢!") was queued
	ClosedAt      time.Time // the result was posted
}

// Left is the stock not yet claimed.
func (f Flash) Left() int64 { return max(f.Stock-f.Claimed, 0) }

// The states of a flash sale at a time.
const (
	StateUpcoming = "upcoming"
	StateOpen     = "open"
	StateSoldOut  = "soldout"
	StateEnded    = "ended"
)

// State is where the sale stands at t.
func (f Flash) State(t time.Time) string {
	switch {
	case f.Claimed >= f.Stock:
		return StateSoldOut
	case !f.ClosedAt.IsZero() || !f.EndsAt.IsZero() && !t.Before(f.EndsAt):
		return StateEnded
	case t.Before(f.StartsAt):
		return StateUpcoming
	}
	return StateOpen
}

// Keywords are the sale's claim words, folded by the caller.
func (f Flash) Keywords() []string {
	var out []string
	for _, k := range strings.Split(f.Keyword, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// ValidateFlash checks f as staff set it up, at now.
func ValidateFlash(f Flash, now time.Time) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch n := strings.TrimSpace(f.Name); {
	case n == "":
		bad("name the product")
	case !textnorm.Limit(n, MaxNameRunes):
		bad("the name is longer than %d characters", MaxNameRunes)
	}
	if !textnorm.Limit(f.SKU, MaxNameRunes) {
		bad("the SKU is longer than %d characters", MaxNameRunes)
	}
	if f.PriceMinor < 0 || f.PriceMinor > MaxPriceMinor || f.OriginalMinor < 0 || f.OriginalMinor > MaxPriceMinor {
		bad("prices must be between 0 and %s", Money(MaxPriceMinor))
	}
	if f.OriginalMinor != 0 && f.OriginalMinor < f.PriceMinor {
		bad("the original price is below the sale price")
	}
	if f.Stock < 1 || f.Stock > MaxStock {
		bad("stock must be 1 to %d", MaxStock)
	}
	if f.PerMember < 1 || f.PerMember > MaxPerMember {
		bad("the limit per member must be 1 to %d", MaxPerMember)
	}
	if !textnorm.Limit(f.Keyword, MaxKeywordRunes) {
		bad("the keywords are longer than %d characters", MaxKeywordRunes)
	}
	if f.CountdownMin < 0 || f.CountdownMin > MaxCountdownMin {
		bad("the countdown is 0 to %d minutes before the start", MaxCountdownMin)
	}
	if f.CheckoutURL != "" {
		u, err := url.Parse(f.CheckoutURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !textnorm.Limit(f.CheckoutURL, maxCheckoutRunes) {
			bad("the checkout link must be an http(s) address")
		}
	}
	switch {
	case f.StartsAt.IsZero():
		bad("set the start time")
	case f.StartsAt.Sub(now) > MaxFlashAhead:
		bad("the start is at most 60 days ahead")
	case !f.EndsAt.IsZero() && !f.EndsAt.After(f.StartsAt):
		bad("the end must be after the start")
	case !f.EndsAt.IsZero() && !f.EndsAt.After(now):
		bad("the end must be in the future")
	case !f.EndsAt.IsZero() && f.EndsAt.Sub(f.StartsAt) > MaxFlashWindow:
		bad("a flash sale lasts at most 7 days")
	}
	if len(f.Groups) == 0 || len(f.Groups) > MaxFlashGroups {
		bad("choose 1 to %d groups", MaxFlashGroups)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// CreateFlash stores a flash sale. A zero StartsAt starts it now, a zero
// PerMember is 1, an empty Keyword the default words. The runner posts
// the countdown, the start and the result.
func (s *Service) CreateFlash(ctx context.Context, f Flash) (Flash, error) {
	now := s.now().UTC()
	f.Name, f.SKU, f.CheckoutURL = textnorm.Line(f.Name), textnorm.Line(f.SKU), strings.TrimSpace(f.CheckoutURL)
	f.Keyword = cleanKeywords(f.Keyword)
	if f.Keyword == "" {
		f.Keyword = DefaultKeywords
	}
	if f.PerMember == 0 {
		f.PerMember = 1
	}
	if f.StartsAt.IsZero() {
		f.StartsAt = now
	}
	f.Groups = dedupe(f.Groups)
	f.CreatedAt, f.Claimed = now, 0
	if err := ValidateFlash(f, now); err != nil {
		return f, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, g := range f.Groups {
			ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2`, f.TenantID, g)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: group %d is not one of yours", ErrInvalid, g)
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO flash_sales (tenant_id, name, sku, price_minor, original_minor, stock, per_member,
			keyword, checkout_url, countdown_min, starts_at, ends_at, persona_id, staff_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
			f.TenantID, f.Name, f.SKU, f.PriceMinor, f.OriginalMinor, f.Stock, f.PerMember, f.Keyword, f.CheckoutURL, f.CountdownMin,
			store.Millis(f.StartsAt), store.Millis(f.EndsAt), f.PersonaID, f.StaffID, store.Millis(now)).Scan(&f.ID)
		if err != nil {
			return fmt.Errorf("sale: create flash: %w", err)
		}
		for _, g := range f.Groups {
			if _, err := tx.ExecContext(ctx, `INSERT INTO flash_sale_groups (tenant_id, sale_id, group_id) VALUES ($1, $2, $3)`, f.TenantID, f.ID, g); err != nil {
				return err
			}
		}
		return nil
	})
	return f, err
}

func cleanKeywords(s string) string {
	var out []string
	for _, k := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' }) {
		if k = textnorm.Line(k); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return strings.Join(out, ",")
}

func dedupe(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id > 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

const flashCols = `id, tenant_id, name, sku, price_minor, original_minor, stock, claimed, per_member, keyword, checkout_url,
	countdown_min, starts_at, ends_at, persona_id, staff_id, created_at, countdown_at, opened_at, closed_at`

func scanFlash(r interface{ Scan(...any) error }) (Flash, error) {
	var f Flash
	var starts, ends, created, countdown, opened, closed int64
	err := r.Scan(&f.ID, &f.TenantID, &f.Name, &f.SKU, &f.PriceMinor, &f.OriginalMinor, &f.Stock, &f.Claimed, &f.PerMember,
		&f.Keyword, &f.CheckoutURL, &f.CountdownMin, &starts, &ends, &f.PersonaID, &f.StaffID, &created, &countdown, &opened, &closed)
	f.StartsAt, f.EndsAt, f.CreatedAt = store.Time(starts), store.Time(ends), store.Time(created)
	f.CountdownAt, f.OpenedAt, f.ClosedAt = store.Time(countdown), store.Time(opened), store.Time(closed)
	return f, noRows(err)
}

// Flash returns one flash sale of the tenant with its groups.
func (s *Service) Flash(ctx context.Context, tenantID, id int64) (Flash, error) {
	return getFlash(ctx, s.db.R, tenantID, id)
}

// FlashIn is Flash through q (a transaction).
func (s *Service) FlashIn(ctx context.Context, q store.Querier, tenantID, id int64) (Flash, error) {
	return getFlash(ctx, q, tenantID, id)
}

func getFlash(ctx context.Context, q store.Querier, tenantID, id int64) (Flash, error) {
	f, err := scanFlash(q.QueryRowContext(ctx, `SELECT `+flashCols+` FROM flash_sales WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return f, err
	}
	f.Groups, err = flashGroups(ctx, q, tenantID, id)
	return f, err
}

func flashGroups(ctx context.Context, q store.Querier, tenantID, id int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT group_id FROM flash_sale_groups WHERE tenant_id = $1 AND sale_id = $2 ORDER BY group_id`, tenantID, id)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (int64, error) {
		var g int64
		return g, r.Scan(&g)
	})
}

// Flashes returns the tenant's flash sales, newest first.
func (s *Service) Flashes(ctx context.Context, tenantID int64, limit int) ([]Flash, error) {
	return s.flashList(ctx, s.db.R, `SELECT `+flashCols+` FROM flash_sales WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`, tenantID, limit)
}

// FlashesIn returns the group's flash sales not yet closed whose end is
// after t (upcoming ones too: a keyword before the start is answered
// with the countdown), oldest first.
func (s *Service) FlashesIn(ctx context.Context, q store.Querier, tenantID, groupID int64, t time.Time) ([]Flash, error) {
	return s.flashList(ctx, q, `SELECT `+prefixed("f", flashCols)+` FROM flash_sales f
		JOIN flash_sale_groups g ON g.sale_id = f.id AND g.tenant_id = f.tenant_id
		WHERE f.tenant_id = $1 AND g.group_id = $2 AND f.closed_at = 0 AND (f.ends_at = 0 OR f.ends_at > $3) ORDER BY f.id`,
		tenantID, groupID, store.Millis(t))
}

func (s *Service) flashList(ctx context.Context, q store.Querier, query string, args ...any) ([]Flash, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	list, err := store.Collect(rows, scanFlash)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Groups, err = flashGroups(ctx, q, list[i].TenantID, list[i].ID); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// prefixed qualifies a column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// Claim is one unit of a flash sale taken by a member; Seq numbers the
// sale's claims 1..stock in the order they were taken.
type Claim struct {
	SaleID   int64
	Seq      int64
	MemberID int64
	Name     string // the member's display name (lists)
	N        int64  // the member's n-th claim of the sale
	GroupID  int64
	Via      string // web, keyword, button
	At       time.Time
	Left     int64 // stock left after this claim
}

// How a claim was made.
const (
	ViaWeb     = "web"
	ViaKeyword = "keyword"
	ViaButton  = "button"
)

// ClaimFlash takes one unit for member (see ClaimFlashTx). groupID is
// where they claimed (0: any of the sale's groups they are in). Claims
// arriving together are group-committed (store.DB.InGroupTx): one
// transaction for the lot, each claim in its own savepoint, so a refused
// claim is rolled back alone — its event and confirmation with it — and
// the stock's row is locked once per batch, not once per claim.
func (s *Service) ClaimFlash(ctx context.Context, tenantID, saleID, memberID, groupID int64, via string) (Claim, error) {
	var c Claim
	err := s.db.InGroupTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		c, err = s.ClaimFlashTx(ctx, tx, tenantID, saleID, memberID, groupID, via, s.now().UTC())
		return err
	})
	if store.IsUniqueViolation(err) {
		return c, ErrLimit // a racing claim of the same member took that place
	}
	return c, err
}

// ClaimFlashTx takes one unit of the sale for member at `at`, inside tx:
// refused before the start (NotStarted, saying when), once sold out or
// ended, beyond the member's limit, and for someone not in the sale's
// groups. Nothing is written before the refusals are decided, so a
// refusal leaves tx usable (the runner's batch carries on). The stock is
// taken by the conditional increment, which numbers the claim; the
// claim's row, its event and the member's confirmation follow in tx.
func (s *Service) ClaimFlashTx(ctx context.Context, tx *store.Tx, tenantID, saleID, memberID, groupID int64, via string, at time.Time) (Claim, error) {
	f, err := getFlash(ctx, tx, tenantID, saleID)
	if err != nil {
		return Claim{}, err
	}
	switch f.State(at) {
	case StateUpcoming:
		return Claim{}, NotStarted{In: f.StartsAt.Sub(at)}
	case StateSoldOut:
		return Claim{}, ErrSoldOut
	case StateEnded:
		return Claim{}, ErrEnded
	}
	if groupID != 0 && !slices.Contains(f.Groups, groupID) {
		return Claim{}, ErrNotInGroup
	}
	in := false
	for _, g := range f.Groups {
		if groupID != 0 && g != groupID {
			continue
		}
		if in, err = inGroup(ctx, tx, tenantID, g, memberID); err != nil {
			return Claim{}, err
		}
		if in {
			groupID = g
			break
		}
	}
	if !in {
		return Claim{}, ErrNotInGroup
	}
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM flash_claims WHERE tenant_id = $1 AND sale_id = $2 AND member_id = $3`,
		tenantID, saleID, memberID).Scan(&n); err != nil {
		return Claim{}, err
	}
	if n >= f.PerMember {
		return Claim{}, ErrLimit
	}
	// What the confirmation needs is read before the stock's row is
	// locked: from the increment to the commit, the row is held for three
	// inserts only.
	lang := s.lang(ctx, tx, tenantID, memberID)
	ch, err := s.dmChannel(ctx, tx, tenantID, memberID)
	if err != nil {
		return Claim{}, err
	}
	c := Claim{SaleID: saleID, MemberID: memberID, N: n + 1, GroupID: groupID, Via: via, At: at}
	err = tx.QueryRowContext(ctx, `UPDATE flash_sales SET claimed = claimed + 1
		WHERE tenant_id = $1 AND id = $2 AND claimed < stock AND closed_at = 0 AND starts_at <= $3 AND (ends_at = 0 OR ends_at > $3)
		RETURNING claimed`, tenantID, saleID, store.Millis(at)).Scan(&c.Seq)
	if err := noRows(err); errors.Is(err, store.ErrNotFound) {
		return Claim{}, ErrSoldOut // a racing claim took the last one
	} else if err != nil {
		return Claim{}, fmt.Errorf("sale: claim flash %d: %w", saleID, err)
	}
	c.Left = f.Stock - c.Seq
	if _, err := tx.ExecContext(ctx, `INSERT INTO flash_claims (tenant_id, sale_id, seq, member_id, n, group_id, via, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tenantID, saleID, c.Seq, memberID, c.N, groupID, via, store.Millis(at)); err != nil {
		return Claim{}, err
	}
	e := event.Event{TenantID: tenantID, Type: event.FlashClaimed, Source: event.SourceSale,
		SourceID: fmt.Sprintf("claim:%d:%d:%d", saleID, memberID, c.N), At: at, MemberID: memberID, GroupID: groupID,
		Data: event.MustData(event.SaleData{SaleID: saleID, Seq: c.Seq, Left: c.Left, Groups: f.Groups})}
	if inserted, err := s.log.AppendTx(ctx, tx, &e); err != nil {
		return Claim{}, err
	} else if !inserted {
		return Claim{}, errRepeat
	}
	next := s.cat.T(lang, "sale.flash_pay_shop")
	if f.CheckoutURL != "" {
		next = s.cat.T(lang, "sale.flash_pay_link", f.CheckoutURL)
	}
	body := s.cat.T(lang, "sale.flash_dm", f.Name, c.Seq, Money(f.PriceMinor), next)
	return c, s.dmOn(ctx, tx, ch, tenantID, memberID, fmt.Sprintf("flash:%d:claim:%d", saleID, c.Seq), body)
}

// FlashClaims returns a sale's claims in the order they were taken, with
// the members' names.
func (s *Service) FlashClaims(ctx context.Context, tenantID, saleID int64) ([]Claim, error) {
	return flashClaims(ctx, s.db.R, tenantID, saleID)
}

func flashClaims(ctx context.Context, q store.Querier, tenantID, saleID int64) ([]Claim, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.sale_id, c.seq, c.member_id, m.display_name, c.n, c.group_id, c.via, c.at
		FROM flash_claims c JOIN members m ON m.id = c.member_id AND m.tenant_id = c.tenant_id
		WHERE c.tenant_id = $1 AND c.sale_id = $2 ORDER BY c.seq`, tenantID, saleID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Claim, error) {
		var c Claim
		var at int64
		err := r.Scan(&c.SaleID, &c.Seq, &c.MemberID, &c.Name, &c.N, &c.GroupID, &c.Via, &at)
		c.At = store.Time(at)
		return c, err
	})
}

// MemberClaims is how many units member holds of the sale.
func (s *Service) MemberClaims(ctx context.Context, tenantID, saleID, memberID int64) (int64, error) {
	var n int64
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM flash_claims WHERE tenant_id = $1 AND sale_id = $2 AND member_id = $3`,
		tenantID, saleID, memberID).Scan(&n)
	return n, err
}

// EndFlashNow ends an open or upcoming sale now; the runner then posts
// its result.
func (s *Service) EndFlashNow(ctx context.Context, tenantID, id int64) error {
	now := store.Millis(s.now())
	res, err := s.db.W.ExecContext(ctx, `UPDATE flash_sales SET ends_at = $3, starts_at = CASE WHEN starts_at > $3 THEN $3 - 1 ELSE starts_at END
		WHERE tenant_id = $1 AND id = $2 AND closed_at = 0 AND (ends_at = 0 OR ends_at > $3)`, tenantID, id, now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Flash(ctx, tenantID, id); err != nil {
			return err
		}
		return ErrEnded
	}
	return nil
}

// The announcements of a flash sale the runner posts.
const (
	DueCountdown = "countdown"
	DueOpen      = "open"
	DueResult    = "result"
)

// FlashDue is a sale with an announcement due.
type FlashDue struct {
	Flash
	What string
}

// FlashesDue returns, across tenants, the sales whose countdown, start or
// result is due at now and not yet posted.
func (s *Service) FlashesDue(ctx context.Context, now time.Time, limit int) ([]FlashDue, error) {
	t := store.Millis(now)
	var out []FlashDue
	for _, q := range []struct{ what, where string }{
		{DueResult, `closed_at = 0 AND (claimed >= stock OR (ends_at > 0 AND ends_at <= $1))`},
		{DueOpen, `opened_at = 0 AND closed_at = 0 AND starts_at <= $1 AND (ends_at = 0 OR ends_at > $1) AND claimed < stock`},
		{DueCountdown, `countdown_at = 0 AND opened_at = 0 AND closed_at = 0 AND countdown_min > 0
			AND starts_at - countdown_min * 60000 <= $1 AND starts_at > $1`},
	} {
		list, err := s.flashList(ctx, s.db.R, `SELECT `+flashCols+` FROM flash_sales WHERE `+q.where+` ORDER BY id LIMIT $2`, t, limit)
		if err != nil {
			return nil, err
		}
		for _, f := range list {
			out = append(out, FlashDue{Flash: f, What: q.what})
		}
	}
	return out, nil
}

// MarkFlashTx records inside tx that what was posted for f at now; false
// when another pass did it first (post nothing then). Marking the result
// closes the sale and returns its claims.
func (s *Service) MarkFlashTx(ctx context.Context, tx *store.Tx, f Flash, what string, now time.Time) (bool, []Claim, error) {
	t := store.Millis(now)
	var query string
	switch what {
	case DueCountdown:
		query = `UPDATE flash_sales SET countdown_at = $3 WHERE tenant_id = $1 AND id = $2 AND countdown_at = 0 AND opened_at = 0 AND closed_at = 0`
	case DueOpen:
		query = `UPDATE flash_sales SET opened_at = $3, countdown_at = CASE WHEN countdown_at = 0 THEN $3 ELSE countdown_at END
			WHERE tenant_id = $1 AND id = $2 AND opened_at = 0 AND closed_at = 0`
	case DueResult:
		query = `UPDATE flash_sales SET closed_at = $3, opened_at = CASE WHEN opened_at = 0 THEN $3 ELSE opened_at END,
			countdown_at = CASE WHEN countdown_at = 0 THEN $3 ELSE countdown_at END WHERE tenant_id = $1 AND id = $2 AND closed_at = 0`
	default:
		return false, nil, fmt.Errorf("sale: unknown announcement %q", what)
	}
	res, err := tx.ExecContext(ctx, query, f.TenantID, f.ID, t)
	if err != nil {
		return false, nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil, nil
	}
	if what != DueResult {
		return true, nil, nil
	}
	e := event.Event{TenantID: f.TenantID, Type: event.FlashClosed, Source: event.SourceSale, SourceID: fmt.Sprintf("flash-closed:%d", f.ID),
		At: now, Data: event.MustData(event.SaleData{SaleID: f.ID, Groups: f.Groups})}
	if _, err := s.log.AppendTx(ctx, tx, &e); err != nil {
		return false, nil, err
	}
	claims, err := flashClaims(ctx, tx, f.TenantID, f.ID)
	return err == nil, claims, err
}
