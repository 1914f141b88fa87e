package live

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// State is where a live is in its life.
type State string

const (
	StateScheduled State = "scheduled" // announced, not yet on
	StateWarming   State = "warming"   // warming up: the room is open, the stream not yet
	StateLive      State = "live"
	StateEnded     State = "ended"
)

// Limits of a live's settings.
const (
	MaxTitleRunes        = 100
	MaxProducts          = 100
	MaxProductRunes      = 100
	MaxPrice             = 100_000_000 // minor units: one million in the currency
	MaxStock             = 1_000_000
	MaxURLLength         = textnorm.MaxLinkLength
	MaxAlertGroups       = 20
	MaxAlertRepeat       = 10
	MinAlertInterval     = time.Minute
	MaxAlertInterval     = time.Hour
	MaxScheduleAhead     = 366 * 24 * time.Hour
	MaxScheduleInThePast = time.Hour // a form's "now" rounded to the minute is already past
)

// Live is one live session of a tenant.
type Live struct {
	ID            int64
	TenantID      int64
	Title         string
	HostPersonaID int64
	ScheduledAt   time.Time
	StreamURL     string // the external live platform's page
	EmbedURL      string // an embeddable player: HLS or a platform embed
	State         State
	StartedAt     time.Time // zero until started
	EndedAt       time.Time // zero until ended
	Alert         Alert
	// CurrentProductID is the product on show (0: none yet).
	CurrentProductID int64
	StaffID          int64
	CreatedAt        time.Time
	Products         []Product // by position; filled by Get, not by List
}

// Alert is how the groups are told that a live started: Repeat messages
// from the persona, Interval apart, the first at the start, none after the
// end.
type Alert struct {
	Groups    []int64
	Repeat    int
	Interval  time.Duration
	PersonaID int64
}

// Product is one line of a live's product list. Prices are in minor units.
type Product struct {
	ID        int64
	TenantID  int64
	LiveID    int64
	Position  int // order in the show, 1 first
	Name      string
	Price     int64
	LivePrice int64
	Stock     int64
	CoverURL  string
}

// SoldOut reports whether none is left.
func (p Product) SoldOut() bool { return p.Stock == 0 }

// Errors of the service. ErrInvalid and the conflicts wrap the store's
// sentinels, so the web layer maps them without knowing this package; the
// text after the last ": " is the message shown to the operator.
var (
	ErrInvalid = fmt.Errorf("live: %w", store.ErrInvalid)
	ErrEnded   = fmt.Errorf("live: %w: the live has ended and cannot change state again", store.ErrConflict)
)

// Service stores lives and runs their state machine.
type Service struct {
	db  *store.DB
	log *event.Log
	now func() time.Time
	// OnProducts, when set, runs in the transaction that adds products to
	// a live's list (the runner tells the members who wished for them).
	OnProducts ProductsHook
}

// New returns the service.
func New(db *store.DB, log *event.Log) *Service {
	return &Service{db: db, log: log, now: time.Now}
}

// Validate checks l as an operator set it up, at now; errors wrap
// ErrInvalid and name each field to fix.
func Validate(l Live, now time.Time) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch t := strings.TrimSpace(l.Title); {
	case t == "":
		bad("title is empty")
	case !textnorm.Limit(t, MaxTitleRunes):
		bad("title is longer than %d characters", MaxTitleRunes)
	}
	switch {
	case l.ScheduledAt.IsZero():
		bad("time is not set")
	case l.ScheduledAt.Before(now.Add(-MaxScheduleInThePast)):
		bad("time is in the past")
	case l.ScheduledAt.After(now.Add(MaxScheduleAhead)):
		bad("time is more than a year ahead")
	}
	if msg := textnorm.LinkProblem(l.StreamURL); msg != "" {
		bad("stream URL %s", msg)
	}
	if msg := textnorm.LinkProblem(l.EmbedURL); msg != "" {
		bad("embed URL %s", msg)
	}
	if l.HostPersonaID < 0 {
		bad("host is not a persona")
	}
	problems = append(problems, alertProblems(l.Alert)...)
	problems = append(problems, productProblems(l.Products)...)
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

func alertProblems(a Alert) []string {
	var out []string
	seen := map[int64]bool{}
	for _, g := range a.Groups {
		if g <= 0 || seen[g] {
			out = append(out, fmt.Sprintf("alert group %d is not valid or repeated", g))
		}
		seen[g] = true
	}
	if len(a.Groups) > MaxAlertGroups {
		out = append(out, fmt.Sprintf("alerts go to at most %d groups", MaxAlertGroups))
	}
	if len(a.Groups) == 0 {
		return out // no alerts: repeat and interval are not used
	}
	if a.Repeat < 1 || a.Repeat > MaxAlertRepeat {
		out = append(out, fmt.Sprintf("alert repeat must be 1 to %d", MaxAlertRepeat))
	}
	if a.Repeat > 1 && (a.Interval < MinAlertInterval || a.Interval > MaxAlertInterval) {
		out = append(out, "alert interval must be 1 to 60 minutes")
	}
	if a.PersonaID < 0 {
		out = append(out, "alert sender is not a persona")
	}
	return out
}

func productProblems(ps []Product) []string {
	var out []string
	if len(ps) > MaxProducts {
		return []string{fmt.Sprintf("a live has at most %d products", MaxProducts)}
	}
	positions := map[int]bool{}
	for i, p := range ps {
		bad := func(format string, args ...any) {
			out = append(out, fmt.Sprintf("product %d ", i+1)+fmt.Sprintf(format, args...))
		}
		switch n := strings.TrimSpace(p.Name); {
		case n == "":
			bad("name is empty")
		case !textnorm.Limit(n, MaxProductRunes):
			bad("name is longer than %d characters", MaxProductRunes)
		}
		if p.Price < 0 || p.Price > MaxPrice {
			bad("price must be 0 to %d", MaxPrice)
		}
		if p.LivePrice < 0 || p.LivePrice > MaxPrice {
			bad("live price must be 0 to %d", MaxPrice)
		}
		if p.Stock < 0 || p.Stock > MaxStock {
			bad("stock must be 0 to %d", MaxStock)
		}
		if p.Position < 1 || p.Position > MaxProducts || positions[p.Position] {
			bad("position %d is not 1 to %d or is repeated", p.Position, MaxProducts)
		}
		positions[p.Position] = true
		if msg := textnorm.LinkProblem(p.CoverURL); msg != "" {
			bad("cover URL %s", msg)
		}
	}
	return out
}

// clean normalises what an operator typed and numbers unnumbered products
// in list order.
func clean(l *Live) {
	l.Title = textnorm.Line(l.Title)
	l.StreamURL, l.EmbedURL = strings.TrimSpace(l.StreamURL), strings.TrimSpace(l.EmbedURL)
	numbered := slices.ContainsFunc(l.Products, func(p Product) bool { return p.Position != 0 })
	for i := range l.Products {
		p := &l.Products[i]
		p.Name, p.CoverURL = textnorm.Line(p.Name), strings.TrimSpace(p.CoverURL)
		if !numbered {
			p.Position = i + 1
		}
	}
}

// Schedule stores a new live with its product list and returns it with its
// ids. The host and alert personas and the alert groups must be the
// tenant's.
func (s *Service) Schedule(ctx context.Context, l Live) (Live, error) {
	clean(&l)
	now := s.now().UTC()
	if err := Validate(l, now); err != nil {
		return l, err
	}
	l.State, l.CreatedAt, l.StartedAt, l.EndedAt, l.CurrentProductID = StateScheduled, now, time.Time{}, time.Time{}, 0
	if len(l.Alert.Groups) == 0 {
		l.Alert = Alert{PersonaID: l.Alert.PersonaID}
	}
	slices.SortStableFunc(l.Products, func(a, b Product) int { return a.Position - b.Position })
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := owned(ctx, tx, l); err != nil {
			return err
		}
		groups, _ := json.Marshal(orEmpty(l.Alert.Groups))
		if err := tx.QueryRowContext(ctx, `INSERT INTO lives (tenant_id, title, host_persona_id, scheduled_at, stream_url, embed_url,
			alert_groups, alert_repeat, alert_interval_s, alert_persona_id, staff_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			l.TenantID, l.Title, l.HostPersonaID, store.Millis(l.ScheduledAt), l.StreamURL, l.EmbedURL,
			string(groups), l.Alert.Repeat, int64(l.Alert.Interval/time.Second), l.Alert.PersonaID, l.StaffID, store.Millis(now)).Scan(&l.ID); err != nil {
			return fmt.Errorf("live: schedule: %w", err)
		}
		for i := range l.Products {
			p := &l.Products[i]
			p.TenantID, p.LiveID = l.TenantID, l.ID
			if err := tx.QueryRowContext(ctx, `INSERT INTO live_products (tenant_id, live_id, position, name, price, live_price, stock, cover_url)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
				p.TenantID, p.LiveID, p.Position, p.Name, p.Price, p.LivePrice, p.Stock, p.CoverURL).Scan(&p.ID); err != nil {
				return fmt.Errorf("live: product %d: %w", p.Position, err)
			}
		}
		if s.OnProducts != nil && len(l.Products) > 0 {
			return s.OnProducts(ctx, tx, l, l.Products)
		}
		return nil
	})
	return l, err
}

// owned checks that the personas and groups l names are the tenant's: ids
// come from a form, and another tenant's must not be reachable.
func owned(ctx context.Context, q store.Querier, l Live) error {
	for _, p := range []struct {
		id   int64
		what string
	}{{l.HostPersonaID, "host"}, {l.Alert.PersonaID, "alert sender"}} {
		if p.id == 0 {
			continue
		}
		if ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM personas WHERE tenant_id = $1 AND id = $2`, l.TenantID, p.id); err != nil || !ok {
			return orInvalid(err, "%s persona %d is not one of yours", p.what, p.id)
		}
	}
	for _, g := range l.Alert.Groups {
		if ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2`, l.TenantID, g); err != nil || !ok {
			return orInvalid(err, "alert group %d is not one of yours", g)
		}
	}
	return nil
}

// orInvalid returns err, or an ErrInvalid with the message when err is nil.
func orInvalid(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

const liveCols = `id, tenant_id, title, host_persona_id, scheduled_at, stream_url, embed_url, state, started_at, ended_at,
	alert_groups, alert_repeat, alert_interval_s, alert_persona_id, current_product_id, staff_id, created_at`

func scanLive(r interface{ Scan(...any) error }) (Live, error) {
	var l Live
	var state, groups string
	var scheduled, started, ended, created, interval int64
	err := r.Scan(&l.ID, &l.TenantID, &l.Title, &l.HostPersonaID, &scheduled, &l.StreamURL, &l.EmbedURL, &state, &started, &ended,
		&groups, &l.Alert.Repeat, &interval, &l.Alert.PersonaID, &l.CurrentProductID, &l.StaffID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return l, store.ErrNotFound
	}
	if err != nil {
		return l, err
	}
	l.State, l.ScheduledAt, l.StartedAt, l.EndedAt, l.CreatedAt = State(state), store.Time(scheduled), store.Time(started), store.Time(ended), store.Time(created)
	l.Alert.Interval = time.Duration(interval) * time.Second
	if err := json.Unmarshal([]byte(groups), &l.Alert.Groups); err != nil {
		return l, fmt.Errorf("live %d: alert groups: %w", l.ID, err)
	}
	if len(l.Alert.Groups) == 0 {
		l.Alert.Groups = nil
	}
	return l, nil
}

// Get returns one live of the tenant with its products.
func (s *Service) Get(ctx context.Context, tenantID, id int64) (Live, error) {
	return getWith(ctx, s.db.R, tenantID, id)
}

// Head returns one live of the tenant without its products (one query:
// for checks on a hot path, such as each comment in the room).
func (s *Service) Head(ctx context.Context, tenantID, id int64) (Live, error) {
	return get(ctx, s.db.R, tenantID, id)
}

// GetIn is Get through q (a transaction).
func (s *Service) GetIn(ctx context.Context, q store.Querier, tenantID, id int64) (Live, error) {
	return getWith(ctx, q, tenantID, id)
}

func getWith(ctx context.Context, q store.Querier, tenantID, id int64) (Live, error) {
	l, err := get(ctx, q, tenantID, id)
	if err != nil {
		return l, err
	}
	l.Products, err = products(ctx, q, tenantID, id)
	return l, err
}

func get(ctx context.Context, q store.Querier, tenantID, id int64) (Live, error) {
	return scanLive(q.QueryRowContext(ctx, `SELECT `+liveCols+` FROM lives WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// List returns the tenant's lives, latest scheduled first, without their
// products.
func (s *Service) List(ctx context.Context, tenantID int64, limit int) ([]Live, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+liveCols+` FROM lives WHERE tenant_id = $1
		ORDER BY scheduled_at DESC, id DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanLive)
}

// OnAir returns the lives that are live now, across tenants, oldest start
// first: the alert scheduler's work list.
func (s *Service) OnAir(ctx context.Context, limit int) ([]Live, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+liveCols+` FROM lives WHERE state = 'live' ORDER BY started_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanLive)
}

const productCols = `id, tenant_id, live_id, position, name, price, live_price, stock, cover_url`

func scanProduct(r interface{ Scan(...any) error }) (Product, error) {
	var p Product
	err := r.Scan(&p.ID, &p.TenantID, &p.LiveID, &p.Position, &p.Name, &p.Price, &p.LivePrice, &p.Stock, &p.CoverURL)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	return p, err
}

// Products returns a live's product list by position.
func (s *Service) Products(ctx context.Context, tenantID, liveID int64) ([]Product, error) {
	return products(ctx, s.db.R, tenantID, liveID)
}

func products(ctx context.Context, q store.Querier, tenantID, liveID int64) ([]Product, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+productCols+` FROM live_products WHERE tenant_id = $1 AND live_id = $2 ORDER BY position`,
		tenantID, liveID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanProduct)
}

// Product returns one product of a live.
func (s *Service) Product(ctx context.Context, tenantID, liveID, productID int64) (Product, error) {
	return product(ctx, s.db.R, tenantID, liveID, productID)
}

func product(ctx context.Context, q store.Querier, tenantID, liveID, productID int64) (Product, error) {
	return scanProduct(q.QueryRowContext(ctx, `SELECT `+productCols+` FROM live_products WHERE tenant_id = $1 AND live_id = $2 AND id = $3`,
		tenantID, liveID, productID))
}
