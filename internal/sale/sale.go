// Package sale runs the in-group sales formats of the commerce loop:
// flash sales (秒杀: a stock claimed by button or keyword from a start
// time), chain orders (接龙: members reply "+1", "+2 红色" and the bot keeps
// a numbered list, with a price that drops in tiers as people join) and
// presales (a product that opens to a tier or segment N days before
// everyone else).
//
// The database holds the invariants: a flash sale's stock is taken by a
// conditional increment, so racing claims never exceed it and each claim
// gets its number; a member's claims are keyed (sale, member, n); chain
// lines take their numbers from the chain's row under its lock, so racing
// "+1"s make a list 1..n with no gap or repeat; one reservation per member
// and presale. Every change is an event of the log in the same
// transaction. The package never posts to a group: the rule runner
// announces starts, lists and results (internal/bot/runner/sale.go); the
// member's own confirmation is a private message queued with the change.
package sale

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/notify"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
)

// Errors of the service. Refusals wrap store.ErrConflict with the reason
// after the last ": " (the web shows it); bad settings wrap
// store.ErrInvalid.
var (
	ErrInvalid     = fmt.Errorf("sale: %w", store.ErrInvalid)
	ErrNotStarted  = fmt.Errorf("sale: %w: not started yet", store.ErrConflict)
	ErrSoldOut     = fmt.Errorf("sale: %w: sold out", store.ErrConflict)
	ErrEnded       = fmt.Errorf("sale: %w: the sale has ended", store.ErrConflict)
	ErrLimit       = fmt.Errorf("sale: %w: you have claimed your limit", store.ErrConflict)
	ErrClosed      = fmt.Errorf("sale: %w: the chain is closed", store.ErrConflict)
	ErrNothing     = fmt.Errorf("sale: %w: you have no line to cancel", store.ErrConflict)
	ErrNotYet      = fmt.Errorf("sale: %w: not open to you yet", store.ErrConflict)
	ErrReserved    = fmt.Errorf("sale: %w: you have already reserved", store.ErrConflict)
	ErrNotInGroup  = fmt.Errorf("sale: %w: join the group to take part", store.ErrForbidden)
	errRepeat      = errors.New("sale: repeated request")
	errUnreachable = notify.ErrUnreachable
)

// NotStarted is the refusal of a claim before the start: it says when.
type NotStarted struct{ In time.Duration }

func (e NotStarted) Error() string { return ErrNotStarted.Error() + ": starts in " + Countdown(e.In) }
func (e NotStarted) Unwrap() error { return ErrNotStarted }

// NotOpen is the refusal of a reservation before the member may reserve:
// it says from when they may.
type NotOpen struct{ From time.Time }

func (e NotOpen) Error() string {
	return ErrNotYet.Error() + ": opens " + e.From.UTC().Format("2006-01-02 15:04 UTC")
}
func (e NotOpen) Unwrap() error { return ErrNotYet }

// Countdown formats d as mm:ss (hh:mm:ss from an hour), rounded up.
func Countdown(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// Money formats minor units (fen) as yuan: 8900 → "¥89.00".
func Money(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, minor/100, minor%100)
}

// ParseMoney reads a price typed by staff ("89", "89.9", "¥89.00") into
// minor units.
func ParseMoney(s string) (int64, error) {
	s = strings.TrimSpace(strings.NewReplacer("¥", "", "￥", "", ",", "", "元", "").Replace(s))
	if s == "" {
		return 0, nil
	}
	if !moneyRe.MatchString(s) {
		return 0, fmt.Errorf("%w: %q is not a price (a number with at most two decimals)", ErrInvalid, s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}

var moneyRe = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,2})?$`)

// Service stores the sales formats.
type Service struct {
	db     *store.DB
	log    *event.Log
	notify *notify.Notifier
	cat    *i18n.Catalog
	now    func() time.Time

	// TierRank is the member's tier rank (0: no tier) for a presale's
	// early audience; nil: no tiers (commerce wires it).
	TierRank func(ctx context.Context, q store.Querier, tenantID, memberID int64) (int, error)
}

// New returns the service; members' confirmations go through ob in their
// language from cat (ob nil: none are sent — the demo's history).
func New(db *store.DB, log *event.Log, ob *outbox.Outbox, cat *i18n.Catalog) *Service {
	s := &Service{db: db, log: log, cat: cat, now: time.Now}
	if ob != nil {
		s.notify = &notify.Notifier{Outbox: ob}
	}
	return s
}

// SetClock makes the service read the time from now (tests, the demo).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// lang is the member's language, else the tenant's.
func (s *Service) lang(ctx context.Context, q store.Querier, tenantID, memberID int64) string {
	loc, _ := notify.LocaleTx(ctx, q, tenantID, memberID)
	var tl string
	_ = q.QueryRowContext(ctx, `SELECT locale FROM tenants WHERE id = $1`, tenantID).Scan(&tl)
	return s.cat.Pick("", tl, loc)
}

// dm queues a private message to the member inside tx; a member with no
// channel is not an error of the change.
func (s *Service) dm(ctx context.Context, tx *store.Tx, tenantID, memberID int64, key, body string) error {
	if s.notify == nil {
		return nil
	}
	_, err := s.notify.DMTx(ctx, tx, notify.Message{TenantID: tenantID, MemberID: memberID, Key: key, Body: body})
	if errors.Is(err, errUnreachable) {
		return nil
	}
	return err
}

// dmChannel is where member's private messages go ("" when nowhere, or
// when the service sends none).
func (s *Service) dmChannel(ctx context.Context, q store.Querier, tenantID, memberID int64) (string, error) {
	if s.notify == nil {
		return "", nil
	}
	ch, err := notify.ChannelTx(ctx, q, tenantID, memberID)
	if errors.Is(err, errUnreachable) {
		return "", nil
	}
	return ch, err
}

// dmOn queues a private message on a channel found by dmChannel.
func (s *Service) dmOn(ctx context.Context, tx *store.Tx, ch string, tenantID, memberID int64, key, body string) error {
	if ch == "" {
		return nil
	}
	_, _, err := s.notify.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: tenantID, Channel: ch, MemberID: memberID, IdemKey: key, Body: body})
	return err
}

// inGroup reports whether member is an active member of the group.
func inGroup(ctx context.Context, q store.Querier, tenantID, groupID, memberID int64) (bool, error) {
	return store.Exists(ctx, q, `SELECT COUNT(*) FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3
		AND left_at IS NULL AND removed_at IS NULL`, tenantID, groupID, memberID)
}

func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// TooMany is the refusal of a chain reply over the chain's quantity per
// reply.
type TooMany struct{ Max int64 }

func (e TooMany) Error() string { return fmt.Sprintf("%s: at most %d per reply", ErrInvalid, e.Max) }
func (e TooMany) Unwrap() error { return ErrInvalid }

// Refusal is the member-facing text of a refusal of this package, in
// lang, with times in loc; false for other errors.
func (s *Service) Refusal(lang string, loc *time.Location, err error) (string, bool) {
	var ns NotStarted
	var no NotOpen
	var tm TooMany
	switch {
	case errors.As(err, &ns):
		return s.cat.T(lang, "sale.refused_not_started", Countdown(ns.In)), true
	case errors.As(err, &no):
		return s.cat.T(lang, "sale.refused_not_open", no.From.In(loc).Format("2006-01-02 15:04")), true
	case errors.As(err, &tm):
		return s.cat.T(lang, "sale.refused_qty", tm.Max), true
	case errors.Is(err, ErrSoldOut):
		return s.cat.T(lang, "sale.refused_sold_out"), true
	case errors.Is(err, ErrEnded):
		return s.cat.T(lang, "sale.refused_ended"), true
	case errors.Is(err, ErrLimit):
		return s.cat.T(lang, "sale.refused_limit"), true
	case errors.Is(err, ErrNotInGroup):
		return s.cat.T(lang, "sale.refused_not_in_group"), true
	case errors.Is(err, ErrClosed):
		return s.cat.T(lang, "sale.refused_chain_closed"), true
	case errors.Is(err, ErrNothing):
		return s.cat.T(lang, "sale.refused_nothing"), true
	case errors.Is(err, ErrReserved):
		return s.cat.T(lang, "sale.refused_reserved"), true
	}
	return "", false
}
