package sale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Limits of a chain order.
const (
	MaxTitleRunes  = 100
	MaxChainOpts   = 10
	MaxOptionRunes = 30
	MaxTiers       = 5
	MaxQtyPerReply = 99
	MaxTarget      = 100_000
	MaxChainOpen   = 30 * 24 * time.Hour
	// ListEvery is the least time between two list posts of a chain
	// while replies keep coming.
	ListEvery = 30 * time.Second
)

// Option is one thing a chain sells (a SKU): its label, which members
// name in replies ("+1 红色"), and its price before tiers.
type Option struct {
	Label      string `json:"label"`
	PriceMinor int64  `json:"price_minor"`
}

// Tier is a price that applies once Min members take part: the first
// option's unit price; the other options get the same amount off.
type Tier struct {
	Min        int64 `json:"min"`
	PriceMinor int64 `json:"price_minor"`
}

// Chain is a chain order (接龙) of one group.
//
// Each reply is a new line ("+1" twice is two lines); "-1" or "取消"
// cancels the member's latest line. Lines keep their number of arrival
// (Seq); the list shows the lines still standing numbered 1..n.
type Chain struct {
	ID        int64
	TenantID  int64
	GroupID   int64
	Title     string
	Options   []Option
	Tiers     []Tier // by participants, ascending
	MaxQty    int64  // per reply
	Target    int64  // units that close the chain (0: the deadline only)
	ClosesAt  time.Time
	PersonaID int64
	StaffID   int64
	CreatedAt time.Time
	Rev       int64 // changes so far
	ListedRev int64 // the change last posted as the list
	ListedAt  time.Time
	ClosedAt  time.Time
}

// OpenAt reports whether replies are taken at t.
func (c Chain) OpenAt(t time.Time) bool { return c.ClosedAt.IsZero() && t.Before(c.ClosesAt) }

// TierAt is the tier reached with p participants.
func (c Chain) TierAt(p int64) (Tier, bool) {
	var best Tier
	ok := false
	for _, t := range c.Tiers {
		if p >= t.Min {
			best, ok = t, true
		}
	}
	return best, ok
}

// NextTier is the first tier not reached with p participants.
func (c Chain) NextTier(p int64) (Tier, bool) {
	for _, t := range c.Tiers {
		if p < t.Min {
			return t, true
		}
	}
	return Tier{}, false
}

// UnitPrice is option's (1-based) unit price with p participants.
func (c Chain) UnitPrice(option int, p int64) int64 {
	if option < 1 || option > len(c.Options) {
		return 0
	}
	base := c.Options[option-1].PriceMinor
	if t, ok := c.TierAt(p); ok {
		return max(base-(c.Options[0].PriceMinor-t.PriceMinor), 0)
	}
	return base
}

// ParseOptions reads options typed one a line, "label price" ("红色 89",
// "A 蓝色 99.00"); a line without a price is free (0).
func ParseOptions(text string) ([]Option, error) {
	var out []Option
	for _, l := range strings.Split(text, "\n") {
		if l = textnorm.Line(l); l == "" {
			continue
		}
		o := Option{Label: l}
		if i := strings.LastIndexAny(l, " \t=:："); i > 0 {
			if p, err := ParseMoney(l[i+1:]); err == nil && strings.TrimSpace(l[i+1:]) != "" {
				o = Option{Label: strings.TrimSpace(strings.TrimRight(l[:i], " =:：")), PriceMinor: p}
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// ParseTiers reads tiers typed one a line, "participants price" ("10 89").
func ParseTiers(text string) ([]Tier, error) {
	var out []Tier
	for _, l := range strings.Split(text, "\n") {
		if l = textnorm.Line(l); l == "" {
			continue
		}
		f := strings.FieldsFunc(l, func(r rune) bool {
			return r == ' ' || r == '=' || r == ':' || r == '：' || r == '≥' || r == '>' || r == '→'
		})
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: tier %q: write the number of participants and the price, e.g. \"10 89\"", ErrInvalid, l)
		}
		var min int64
		if _, err := fmt.Sscan(f[0], &min); err != nil {
			return nil, fmt.Errorf("%w: tier %q: %q is not a number of participants", ErrInvalid, l, f[0])
		}
		p, err := ParseMoney(f[1])
		if err != nil {
			return nil, fmt.Errorf("%w: tier %q: %q is not a price", ErrInvalid, l, f[1])
		}
		out = append(out, Tier{Min: min, PriceMinor: p})
	}
	return out, nil
}

// ValidateChain checks c as staff or a persona set it up, at now.
func ValidateChain(c Chain, now time.Time) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch t := strings.TrimSpace(c.Title); {
	case t == "":
		bad("write the title")
	case !textnorm.Limit(t, MaxTitleRunes):
		bad("the title is longer than %d characters", MaxTitleRunes)
	}
	if len(c.Options) < 1 || len(c.Options) > MaxChainOpts {
		bad("a chain has 1 to %d options (one a line: label and price)", MaxChainOpts)
	}
	seen := map[string]bool{}
	for i, o := range c.Options {
		switch {
		case o.Label == "":
			bad("option %d has no label", i+1)
		case !textnorm.Limit(o.Label, MaxOptionRunes):
			bad("option %d is longer than %d characters", i+1, MaxOptionRunes)
		case seen[strings.ToLower(o.Label)]:
			bad("option %d repeats an earlier one", i+1)
		}
		if o.PriceMinor < 0 || o.PriceMinor > MaxPriceMinor {
			bad("option %d has a bad price", i+1)
		}
		seen[strings.ToLower(o.Label)] = true
	}
	if len(c.Tiers) > MaxTiers {
		bad("at most %d price tiers", MaxTiers)
	}
	for i, t := range c.Tiers {
		switch {
		case t.Min < 2:
			bad("tier %d: at least 2 participants", i+1)
		case i > 0 && t.Min <= c.Tiers[i-1].Min:
			bad("tier %d: participants must grow from tier to tier", i+1)
		case i > 0 && t.PriceMinor >= c.Tiers[i-1].PriceMinor:
			bad("tier %d: the price must fall from tier to tier", i+1)
		case len(c.Options) > 0 && (t.PriceMinor < 0 || t.PriceMinor >= c.Options[0].PriceMinor):
			bad("tier %d: the price must be below the first option's price", i+1)
		}
	}
	if c.MaxQty < 1 || c.MaxQty > MaxQtyPerReply {
		bad("the quantity per reply is 1 to %d", MaxQtyPerReply)
	}
	if c.Target < 0 || c.Target > MaxTarget {
		bad("the target is 0 (none) to %d", MaxTarget)
	}
	switch {
	case !c.ClosesAt.After(now):
		bad("the deadline must be in the future")
	case c.ClosesAt.Sub(now) > MaxChainOpen:
		bad("the deadline is at most 30 days ahead")
	}
	if c.GroupID == 0 {
		bad("choose a group")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// CreateChainTx stores a new chain inside tx (the runner announces it in
// the same transaction). A zero MaxQty is 10.
func (s *Service) CreateChainTx(ctx context.Context, tx *store.Tx, c Chain) (Chain, error) {
	now := s.now().UTC()
	c.Title = strings.TrimSpace(textnorm.Clean(c.Title))
	for i := range c.Options {
		c.Options[i].Label = textnorm.Line(c.Options[i].Label)
	}
	if c.MaxQty == 0 {
		c.MaxQty = 10
	}
	c.CreatedAt = now
	if err := ValidateChain(c, now); err != nil {
		return c, err
	}
	if ok, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.GroupID); err != nil {
		return c, err
	} else if !ok {
		return c, fmt.Errorf("%w: the group is not one of yours", ErrInvalid)
	}
	opts, _ := json.Marshal(c.Options)
	tiers, _ := json.Marshal(append([]Tier{}, c.Tiers...))
	err := tx.QueryRowContext(ctx, `INSERT INTO chains (tenant_id, group_id, title, options, tiers, max_qty, target, closes_at, persona_id, staff_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		c.TenantID, c.GroupID, c.Title, string(opts), string(tiers), c.MaxQty, c.Target, store.Millis(c.ClosesAt), c.PersonaID, c.StaffID,
		store.Millis(now)).Scan(&c.ID)
	if err != nil {
		return c, fmt.Errorf("sale: create chain: %w", err)
	}
	return c, nil
}

const chainCols = `id, tenant_id, group_id, title, options, tiers, max_qty, target, closes_at, persona_id, staff_id, created_at,
	rev, listed_rev, listed_at, closed_at`

func scanChain(r interface{ Scan(...any) error }) (Chain, error) {
	var c Chain
	var opts, tiers string
	var closes, created, listed, closed int64
	err := r.Scan(&c.ID, &c.TenantID, &c.GroupID, &c.Title, &opts, &tiers, &c.MaxQty, &c.Target, &closes, &c.PersonaID, &c.StaffID,
		&created, &c.Rev, &c.ListedRev, &listed, &closed)
	if err != nil {
		return c, noRows(err)
	}
	c.ClosesAt, c.CreatedAt, c.ListedAt, c.ClosedAt = store.Time(closes), store.Time(created), store.Time(listed), store.Time(closed)
	if err := json.Unmarshal([]byte(opts), &c.Options); err != nil {
		return c, fmt.Errorf("chain %d: options: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(tiers), &c.Tiers); err != nil {
		return c, fmt.Errorf("chain %d: tiers: %w", c.ID, err)
	}
	return c, nil
}

// Chain returns one chain of the tenant.
func (s *Service) Chain(ctx context.Context, tenantID, id int64) (Chain, error) {
	return getChain(ctx, s.db.R, tenantID, id)
}

func getChain(ctx context.Context, q store.Querier, tenantID, id int64) (Chain, error) {
	return scanChain(q.QueryRowContext(ctx, `SELECT `+chainCols+` FROM chains WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// lockChain reads the chain inside tx holding its row (FOR UPDATE on
// PostgreSQL; SQLite's write transaction already runs alone), so the
// replies and cancels of one chain decide one after the other: two "-1"s
// cannot pick the same latest line, two "+1"s cannot both see the target
// not yet reached. Nothing is written, so a refusal leaves tx usable.
func (s *Service) lockChain(ctx context.Context, tx *store.Tx, tenantID, id int64) (Chain, error) {
	lock := ""
	if s.db.Dialect == store.Postgres {
		lock = " FOR UPDATE"
	}
	return scanChain(tx.QueryRowContext(ctx, `SELECT `+chainCols+` FROM chains WHERE tenant_id = $1 AND id = $2`+lock, tenantID, id))
}

// Chains returns the tenant's chains, newest first.
func (s *Service) Chains(ctx context.Context, tenantID int64, limit int) ([]Chain, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+chainCols+` FROM chains WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanChain)
}

// ChainsIn returns the group's chains open at t, oldest first (q may be
// a transaction).
func (s *Service) ChainsIn(ctx context.Context, q store.Querier, tenantID, groupID int64, t time.Time) ([]Chain, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+chainCols+` FROM chains WHERE tenant_id = $1 AND group_id = $2 AND closed_at = 0 AND closes_at > $3
		ORDER BY id`, tenantID, groupID, store.Millis(t))
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanChain)
}

// Line is one reply of a chain.
type Line struct {
	Pos       int   // in the list of standing lines, 1..n (0 for a cancelled line)
	Seq       int64 // in order of arrival
	MemberID  int64
	Name      string
	Option    int // 1-based
	Qty       int64
	At        time.Time
	Cancelled bool
}

// JoinChain adds a line in its own transaction (see JoinChainTx).
func (s *Service) JoinChain(ctx context.Context, tenantID, chainID, memberID int64, option int, qty int64, src string) (Line, error) {
	var l Line
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		l, err = s.JoinChainTx(ctx, tx, tenantID, chainID, memberID, option, qty, src, s.now().UTC())
		return err
	})
	if store.IsUniqueViolation(err) {
		// The same reply racing itself (a double submit): the first is in.
		return s.lineBySrc(ctx, s.db.R, tenantID, chainID, src)
	}
	return l, err
}

// JoinChainTx adds member's reply to the chain inside tx: option (1-based;
// 0 is the first) × qty. src names the reply (a message, a form
// submission), so the same reply twice adds one line. The line's number
// comes from the chain's row under its lock, so racing replies are
// numbered 1..n without gap or repeat. Refusals write nothing.
func (s *Service) JoinChainTx(ctx context.Context, tx *store.Tx, tenantID, chainID, memberID int64, option int, qty int64, src string, at time.Time) (Line, error) {
	c, err := s.lockChain(ctx, tx, tenantID, chainID)
	if err != nil {
		return Line{}, err
	}
	if option == 0 {
		option = 1
	}
	switch {
	case !c.OpenAt(at):
		return Line{}, ErrClosed
	case option < 1 || option > len(c.Options):
		return Line{}, fmt.Errorf("%w: choose an option from 1 to %d", ErrInvalid, len(c.Options))
	case qty > c.MaxQty:
		return Line{}, TooMany{Max: c.MaxQty}
	case qty < 1:
		return Line{}, fmt.Errorf("%w: the quantity is 1 to %d", ErrInvalid, c.MaxQty)
	case src == "":
		return Line{}, fmt.Errorf("%w: a reply needs its id", ErrInvalid)
	}
	if l, err := s.lineBySrc(ctx, tx, tenantID, chainID, src); err == nil {
		return l, nil // a repeat of the same reply
	} else if !errors.Is(err, store.ErrNotFound) {
		return Line{}, err
	}
	if ok, err := inGroup(ctx, tx, tenantID, c.GroupID, memberID); err != nil {
		return Line{}, err
	} else if !ok {
		return Line{}, ErrNotInGroup
	}
	if c.Target > 0 {
		var units int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(qty), 0) FROM chain_lines WHERE tenant_id = $1 AND chain_id = $2 AND cancelled_at = 0`,
			tenantID, chainID).Scan(&units); err != nil {
			return Line{}, err
		}
		if units >= c.Target {
			return Line{}, ErrClosed
		}
	}
	l := Line{MemberID: memberID, Option: option, Qty: qty, At: at}
	err = tx.QueryRowContext(ctx, `UPDATE chains SET next_seq = next_seq + 1, rev = rev + 1
		WHERE tenant_id = $1 AND id = $2 AND closed_at = 0 AND closes_at > $3 RETURNING next_seq`, tenantID, chainID, store.Millis(at)).Scan(&l.Seq)
	if errors.Is(noRows(err), store.ErrNotFound) {
		return Line{}, ErrClosed
	} else if err != nil {
		return Line{}, fmt.Errorf("sale: chain %d: %w", chainID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO chain_lines (tenant_id, chain_id, seq, member_id, option_no, qty, src, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tenantID, chainID, l.Seq, memberID, option, qty, src, store.Millis(at)); err != nil {
		return Line{}, err
	}
	e := event.Event{TenantID: tenantID, Type: event.ChainJoined, Source: event.SourceSale, SourceID: fmt.Sprintf("line:%d:%d", chainID, l.Seq),
		At: at, MemberID: memberID, GroupID: c.GroupID, Data: event.MustData(event.SaleData{ChainID: chainID, Seq: l.Seq, Option: option, Qty: qty})}
	_, err = s.log.AppendTx(ctx, tx, &e)
	return l, err
}

func (s *Service) lineBySrc(ctx context.Context, q store.Querier, tenantID, chainID int64, src string) (Line, error) {
	var l Line
	var at, cancelled int64
	err := q.QueryRowContext(ctx, `SELECT seq, member_id, option_no, qty, at, cancelled_at FROM chain_lines WHERE tenant_id = $1 AND chain_id = $2 AND src = $3`,
		tenantID, chainID, src).Scan(&l.Seq, &l.MemberID, &l.Option, &l.Qty, &at, &cancelled)
	l.At, l.Cancelled = store.Time(at), cancelled != 0
	return l, noRows(err)
}

// CancelChain cancels member's latest standing line in its own
// transaction (see CancelChainTx).
func (s *Service) CancelChain(ctx context.Context, tenantID, chainID, memberID int64, src string) (Line, error) {
	var l Line
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		l, err = s.CancelChainTx(ctx, tx, tenantID, chainID, memberID, src, s.now().UTC())
		return err
	})
	if store.IsUniqueViolation(err) {
		return l, ErrNothing // the same cancel racing itself
	}
	return l, err
}

// CancelChainTx cancels member's latest standing line of an open chain
// ("-1", "取消"). src names the request, so a repeat cancels nothing more.
func (s *Service) CancelChainTx(ctx context.Context, tx *store.Tx, tenantID, chainID, memberID int64, src string, at time.Time) (Line, error) {
	c, err := s.lockChain(ctx, tx, tenantID, chainID)
	if err != nil {
		return Line{}, err
	}
	if !c.OpenAt(at) {
		return Line{}, ErrClosed
	}
	sourceID := fmt.Sprintf("cancel:%d:%s", chainID, src)
	if done, err := store.Exists(ctx, tx, `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND source = $2 AND source_id = $3`,
		tenantID, event.SourceSale, sourceID); err != nil || done {
		if err == nil {
			err = ErrNothing
		}
		return Line{}, err
	}
	var l Line
	var lat int64
	err = tx.QueryRowContext(ctx, `SELECT seq, member_id, option_no, qty, at FROM chain_lines
		WHERE tenant_id = $1 AND chain_id = $2 AND member_id = $3 AND cancelled_at = 0 ORDER BY seq DESC LIMIT 1`,
		tenantID, chainID, memberID).Scan(&l.Seq, &l.MemberID, &l.Option, &l.Qty, &lat)
	if errors.Is(noRows(err), store.ErrNotFound) {
		return Line{}, ErrNothing
	} else if err != nil {
		return Line{}, err
	}
	l.At, l.Cancelled = store.Time(lat), true
	if _, err := tx.ExecContext(ctx, `UPDATE chain_lines SET cancelled_at = $4 WHERE tenant_id = $1 AND chain_id = $2 AND seq = $3 AND cancelled_at = 0`,
		tenantID, chainID, l.Seq, store.Millis(at)); err != nil {
		return Line{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chains SET rev = rev + 1 WHERE tenant_id = $1 AND id = $2`, tenantID, chainID); err != nil {
		return Line{}, err
	}
	e := event.Event{TenantID: tenantID, Type: event.ChainCancelled, Source: event.SourceSale, SourceID: sourceID,
		At: at, MemberID: memberID, GroupID: c.GroupID, Data: event.MustData(event.SaleData{ChainID: chainID, Seq: l.Seq})}
	_, err = s.log.AppendTx(ctx, tx, &e)
	return l, err
}

// ChainList is a chain with its standing lines and where its price
// stands.
type ChainList struct {
	Chain
	Lines        []Line // standing, in order of arrival, numbered 1..n
	Participants int64  // members with a standing line
	Units        int64
	Unit         []int64 // per option: the unit price now
	Tier         Tier    // the tier reached (zero: none)
	Next         Tier    // the next tier (zero: none left)
	ToNext       int64   // participants still needed for Next
}

// Total is a line's amount at the list's unit prices.
func (l ChainList) Total(line Line) int64 {
	if line.Option < 1 || line.Option > len(l.Unit) {
		return 0
	}
	return l.Unit[line.Option-1] * line.Qty
}

// Sum is the amount of all standing lines.
func (l ChainList) Sum() int64 {
	var s int64
	for _, line := range l.Lines {
		s += l.Total(line)
	}
	return s
}

// List returns c with its standing lines.
func (s *Service) List(ctx context.Context, c Chain) (ChainList, error) {
	return list(ctx, s.db.R, c)
}

// ListIn is List through q (a transaction).
func (s *Service) ListIn(ctx context.Context, q store.Querier, c Chain) (ChainList, error) {
	return list(ctx, q, c)
}

func list(ctx context.Context, q store.Querier, c Chain) (ChainList, error) {
	out := ChainList{Chain: c}
	rows, err := q.QueryContext(ctx, `SELECT l.seq, l.member_id, m.display_name, l.option_no, l.qty, l.at FROM chain_lines l
		JOIN members m ON m.id = l.member_id AND m.tenant_id = l.tenant_id
		WHERE l.tenant_id = $1 AND l.chain_id = $2 AND l.cancelled_at = 0 ORDER BY l.seq`, c.TenantID, c.ID)
	if err != nil {
		return out, err
	}
	out.Lines, err = store.Collect(rows, func(r interface{ Scan(...any) error }) (Line, error) {
		var l Line
		var at int64
		err := r.Scan(&l.Seq, &l.MemberID, &l.Name, &l.Option, &l.Qty, &at)
		l.At = store.Time(at)
		return l, err
	})
	if err != nil {
		return out, err
	}
	who := map[int64]bool{}
	for i := range out.Lines {
		out.Lines[i].Pos = i + 1
		out.Units += out.Lines[i].Qty
		who[out.Lines[i].MemberID] = true
	}
	out.Participants = int64(len(who))
	out.Tier, _ = c.TierAt(out.Participants)
	if t, ok := c.NextTier(out.Participants); ok {
		out.Next, out.ToNext = t, t.Min-out.Participants
	}
	for i := range c.Options {
		out.Unit = append(out.Unit, c.UnitPrice(i+1, out.Participants))
	}
	return out, nil
}

// MemberLines returns member's standing lines of the chain.
func (l ChainList) MemberLines(memberID int64) []Line {
	var out []Line
	for _, line := range l.Lines {
		if line.MemberID == memberID {
			out = append(out, line)
		}
	}
	return out
}

// CloseChainNow moves an open chain's deadline to now; the runner then
// posts the final list.
func (s *Service) CloseChainNow(ctx context.Context, tenantID, id int64) error {
	now := store.Millis(s.now())
	res, err := s.db.W.ExecContext(ctx, `UPDATE chains SET closes_at = $3 WHERE tenant_id = $1 AND id = $2 AND closed_at = 0 AND closes_at > $3`,
		tenantID, id, now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Chain(ctx, tenantID, id); err != nil {
			return err
		}
		return ErrClosed
	}
	return nil
}

// ChainsToClose returns, across tenants, the chains past their deadline
// or at their target whose final list is not yet posted.
func (s *Service) ChainsToClose(ctx context.Context, now time.Time, limit int) ([]Chain, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+chainCols+` FROM chains c WHERE closed_at = 0 AND (closes_at <= $1
		OR (target > 0 AND (SELECT COALESCE(SUM(qty), 0) FROM chain_lines l WHERE l.chain_id = c.id AND l.tenant_id = c.tenant_id AND l.cancelled_at = 0) >= target))
		ORDER BY closes_at, id LIMIT $2`, store.Millis(now), limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanChain)
}

// ChainsToList returns, across tenants, the open chains changed since
// their last list post, when that post is at least ListEvery old.
func (s *Service) ChainsToList(ctx context.Context, now time.Time, limit int) ([]Chain, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+chainCols+` FROM chains WHERE closed_at = 0 AND rev > listed_rev AND listed_at <= $1
		ORDER BY listed_at, id LIMIT $2`, store.Millis(now.Add(-ListEvery)), limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanChain)
}

// MarkListedTx records inside tx that the chain's list as of its current
// change was posted at now, and returns that list; false when another
// pass did (post nothing then). The list is read in tx, so it is exactly
// the one of the change recorded.
func (s *Service) MarkListedTx(ctx context.Context, tx *store.Tx, c Chain, now time.Time) (ChainList, bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE chains SET listed_rev = rev, listed_at = $3
		WHERE tenant_id = $1 AND id = $2 AND closed_at = 0 AND rev > listed_rev AND listed_at <= $4`,
		c.TenantID, c.ID, store.Millis(now), store.Millis(now.Add(-ListEvery)))
	if err != nil {
		return ChainList{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ChainList{}, false, nil
	}
	if c, err = getChain(ctx, tx, c.TenantID, c.ID); err != nil {
		return ChainList{}, false, err
	}
	l, err := list(ctx, tx, c)
	return l, err == nil, err
}

// CloseChainTx closes c at `at` inside tx and returns its final list;
// false when another pass closed it first (post nothing then).
func (s *Service) CloseChainTx(ctx context.Context, tx *store.Tx, c Chain, at time.Time) (ChainList, bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE chains SET closed_at = $3, listed_rev = rev, listed_at = $3,
		closes_at = CASE WHEN closes_at > $3 THEN $3 ELSE closes_at END WHERE tenant_id = $1 AND id = $2 AND closed_at = 0`,
		c.TenantID, c.ID, store.Millis(at))
	if err != nil {
		return ChainList{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ChainList{}, false, nil
	}
	if c, err = getChain(ctx, tx, c.TenantID, c.ID); err != nil {
		return ChainList{}, false, err
	}
	e := event.Event{TenantID: c.TenantID, Type: event.ChainClosed, Source: event.SourceSale, SourceID: fmt.Sprintf("chain-closed:%d", c.ID),
		At: at, GroupID: c.GroupID, Data: event.MustData(event.SaleData{ChainID: c.ID})}
	if _, err := s.log.AppendTx(ctx, tx, &e); err != nil {
		return ChainList{}, false, err
	}
	l, err := list(ctx, tx, c)
	return l, err == nil, err
}
