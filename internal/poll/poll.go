// Package poll runs a group's activities: polls (a question with options
// and a deadline; members vote by number in the chat or by button) and UGC
// prompts ("share your haul": messages carrying the prompt's tag become
// entries, the first one of a member earns points).
//
// Votes and entries are rows with the database's uniqueness doing the
// once-only work (one vote per member and poll, changed by voting again;
// one entry per message), and each is also an event in the log, so the
// live views update through the bus and analytics counts from the log.
package poll

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Kind is a poll or a prompt.
type Kind string

const (
	KindPoll   Kind = "poll"
	KindPrompt Kind = "prompt"
)

// Limits of an activity's settings.
const (
	MaxQuestionRunes = 300
	MaxOptionRunes   = 50
	MinOptions       = 2
	MaxOptions       = 10 // voting by a one- or two-digit number, and Telegram/LINE button rows
	MaxTagRunes      = 20
	MaxDuration      = 30 * 24 * time.Hour
	MaxPoints        = 1_000_000
)

// Poll is a poll or a prompt of one group.
type Poll struct {
	ID        int64
	TenantID  int64
	GroupID   int64
	Kind      Kind
	Question  string
	Options   []string // polls: the labels, voted by 1-based number
	Tag       string   // prompts: the word that marks an entry, e.g. "#晒单"
	Points    int64    // prompts: points for a member's first entry
	PersonaID int64
	StaffID   int64
	CreatedAt time.Time
	ClosesAt  time.Time
	ClosedAt  time.Time // zero while the result has not been announced
}

// OpenAt reports whether votes or entries are accepted at t.
func (p Poll) OpenAt(t time.Time) bool { return p.ClosedAt.IsZero() && t.Before(p.ClosesAt) }

// Result is a poll with its tally.
type Result struct {
	Poll
	Counts  []int // per option
	Total   int   // votes (polls) or entries (prompts)
	Members int   // prompts: members with at least one entry
}

// Percent is option i's share of the votes, rounded down.
func (r Result) Percent(i int) int {
	if r.Total == 0 || i < 0 || i >= len(r.Counts) {
		return 0
	}
	return r.Counts[i] * 100 / r.Total
}

// Entry is one answer to a prompt.
type Entry struct {
	MemberID int64
	Name     string
	EventID  int64
	Text     string
	At       time.Time
}

// Errors of the service.
var (
	ErrInvalid   = errors.New("poll: invalid")
	ErrClosed    = errors.New("poll: closed")
	ErrNotMember = errors.New("poll: not a member of the group")
)

// Service stores activities.
type Service struct {
	db  *store.DB
	log *event.Log
	now func() time.Time
}

// New returns the service.
func New(db *store.DB, log *event.Log) *Service {
	return &Service{db: db, log: log, now: time.Now}
}

// Validate checks p as an operator set it up, at now; errors wrap
// ErrInvalid and say what to fix.
func Validate(p Poll, now time.Time) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	q := strings.TrimSpace(p.Question)
	switch {
	case q == "":
		bad("write the question")
	case utf8.RuneCountInString(q) > MaxQuestionRunes:
		bad("the question is longer than %d characters", MaxQuestionRunes)
	}
	switch p.Kind {
	case KindPoll:
		if len(p.Options) < MinOptions || len(p.Options) > MaxOptions {
			bad("a poll has %d to %d options (one a line)", MinOptions, MaxOptions)
		}
		seen := map[string]bool{}
		for i, o := range p.Options {
			switch {
			case strings.TrimSpace(o) == "":
				bad("option %d is empty", i+1)
			case utf8.RuneCountInString(o) > MaxOptionRunes:
				bad("option %d is longer than %d characters", i+1, MaxOptionRunes)
			case seen[strings.ToLower(o)]:
				bad("option %d repeats an earlier one", i+1)
			}
			seen[strings.ToLower(o)] = true
		}
	case KindPrompt:
		t := strings.TrimSpace(p.Tag)
		switch {
		case t == "":
			bad("set the tag members put in an entry (e.g. #晒单)")
		case utf8.RuneCountInString(t) > MaxTagRunes || strings.ContainsAny(t, " \t\n"):
			bad("the tag is one word of at most %d characters", MaxTagRunes)
		}
		if p.Points < 0 || p.Points > MaxPoints {
			bad("points must be between 0 and %d", MaxPoints)
		}
	default:
		bad("unknown kind %q", p.Kind)
	}
	switch {
	case !p.ClosesAt.After(now):
		bad("the deadline must be in the future")
	case p.ClosesAt.Sub(now) > MaxDuration:
		bad("the deadline is at most 30 days ahead")
	}
	if p.GroupID == 0 {
		bad("choose a group")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// CleanOptions splits a textarea of options, one a line, dropping blanks.
func CleanOptions(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = textnorm.Line(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// CreateTx stores a new activity inside tx (the caller announces it in the
// same transaction) and returns it with its id.
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, p Poll) (Poll, error) {
	p.Question = strings.TrimSpace(textnorm.Clean(p.Question))
	p.Tag = textnorm.Line(p.Tag)
	for i := range p.Options {
		p.Options[i] = textnorm.Line(p.Options[i])
	}
	now := s.now().UTC()
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	if err := Validate(p, now); err != nil {
		return p, err
	}
	if p.Kind == KindPrompt {
		p.Options = nil
	}
	opts, _ := json.Marshal(orEmpty(p.Options))
	err := tx.QueryRowContext(ctx, `INSERT INTO polls (tenant_id, group_id, kind, question, options, tag, points, persona_id, staff_id, created_at, closes_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		p.TenantID, p.GroupID, string(p.Kind), p.Question, string(opts), p.Tag, p.Points, p.PersonaID, p.StaffID,
		store.Millis(p.CreatedAt), store.Millis(p.ClosesAt)).Scan(&p.ID)
	if err != nil {
		return p, fmt.Errorf("poll: create: %w", err)
	}
	return p, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const cols = `id, tenant_id, group_id, kind, question, options, tag, points, persona_id, staff_id, created_at, closes_at, closed_at`

func scan(r interface{ Scan(...any) error }) (Poll, error) {
	var p Poll
	var kind, opts string
	var created, closes, closed int64
	if err := r.Scan(&p.ID, &p.TenantID, &p.GroupID, &kind, &p.Question, &opts, &p.Tag, &p.Points, &p.PersonaID, &p.StaffID,
		&created, &closes, &closed); err != nil {
		return p, err
	}
	p.Kind, p.CreatedAt, p.ClosesAt = Kind(kind), store.Time(created), store.Time(closes)
	if closed != 0 {
		p.ClosedAt = store.Time(closed)
	}
	if err := json.Unmarshal([]byte(opts), &p.Options); err != nil {
		return p, fmt.Errorf("poll %d: options: %w", p.ID, err)
	}
	return p, nil
}

// Get returns one activity of the tenant.
func (s *Service) Get(ctx context.Context, tenantID, id int64) (Poll, error) {
	return get(ctx, s.db.R, tenantID, id)
}

// GetIn is Get through q (a transaction).
func (s *Service) GetIn(ctx context.Context, q store.Querier, tenantID, id int64) (Poll, error) {
	return get(ctx, q, tenantID, id)
}

func get(ctx context.Context, q store.Querier, tenantID, id int64) (Poll, error) {
	p, err := scan(q.QueryRowContext(ctx, `SELECT `+cols+` FROM polls WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	return p, err
}

// List returns the tenant's activities, newest first; groupID 0 lists all
// groups.
func (s *Service) List(ctx context.Context, tenantID, groupID int64, limit int) ([]Poll, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+cols+` FROM polls WHERE tenant_id = $1 AND ($2 = 0 OR group_id = $2)
		ORDER BY id DESC LIMIT $3`, tenantID, groupID, limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scan)
}

// OpenIn returns the group's activities open at t, oldest first (the rule
// runner's state; q may be a transaction).
func (s *Service) OpenIn(ctx context.Context, q store.Querier, tenantID, groupID int64, t time.Time) ([]Poll, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+cols+` FROM polls WHERE tenant_id = $1 AND group_id = $2 AND closed_at = 0 AND closes_at > $3
		ORDER BY id`, tenantID, groupID, store.Millis(t))
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scan)
}

// Vote records member's choice (1-based) in poll; voting again changes the
// vote. source and sourceID name the vote's event (a chat message's id, a
// button press's id), so a redelivered vote is stored once.
func (s *Service) Vote(ctx context.Context, tenantID, pollID, memberID int64, choice int, source, sourceID string) (Poll, error) {
	var p Poll
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = s.VoteTx(ctx, tx, tenantID, pollID, memberID, choice, s.now().UTC(), source, sourceID)
		return err
	})
	return p, err
}

// VoteTx is Vote inside tx, at the given time.
func (s *Service) VoteTx(ctx context.Context, tx *store.Tx, tenantID, pollID, memberID int64, choice int, at time.Time, source, sourceID string) (Poll, error) {
	p, err := get(ctx, tx, tenantID, pollID)
	if err != nil {
		return p, err
	}
	switch {
	case p.Kind != KindPoll:
		return p, fmt.Errorf("%w: a prompt takes entries, not votes", ErrInvalid)
	case !p.OpenAt(at):
		return p, ErrClosed
	case choice < 1 || choice > len(p.Options):
		return p, fmt.Errorf("%w: choose an option from 1 to %d", ErrInvalid, len(p.Options))
	}
	if err := s.activeMember(ctx, tx, p, memberID); err != nil {
		return p, err
	}
	e := event.Event{TenantID: tenantID, Type: event.PollVoted, Source: source, SourceID: sourceID, At: at,
		MemberID: memberID, GroupID: p.GroupID, Data: event.MustData(event.PollData{PollID: p.ID, Choice: choice})}
	inserted, err := s.log.AppendTx(ctx, tx, &e)
	if err != nil || !inserted {
		return p, err // a redelivery: the vote is in
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO poll_votes (tenant_id, poll_id, member_id, choice, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (poll_id, member_id) DO UPDATE SET choice = excluded.choice, at = excluded.at`,
		tenantID, p.ID, memberID, choice, store.Millis(at))
	return p, err
}

func (s *Service) activeMember(ctx context.Context, tx *store.Tx, p Poll, memberID int64) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3
		AND left_at IS NULL AND removed_at IS NULL`, p.TenantID, p.GroupID, memberID).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotMember
	}
	return nil
}

// EntryTx records message eventID of member as an entry of prompt p; first
// reports whether it is the member's first entry (the one that earns
// points). A repeat of the same message stores nothing.
func (s *Service) EntryTx(ctx context.Context, tx *store.Tx, p Poll, memberID, eventID int64, text string, at time.Time) (stored, first bool, err error) {
	if p.Kind != KindPrompt {
		return false, false, fmt.Errorf("%w: a poll takes votes, not entries", ErrInvalid)
	}
	var before int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM poll_entries WHERE poll_id = $1 AND member_id = $2`, p.ID, memberID).Scan(&before); err != nil {
		return false, false, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO poll_entries (tenant_id, poll_id, member_id, event_id, text, at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (poll_id, event_id) DO NOTHING`, p.TenantID, p.ID, memberID, eventID, textnorm.Clean(text), store.Millis(at))
	if err != nil {
		return false, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, false, nil
	}
	e := event.Event{TenantID: p.TenantID, Type: event.PromptEntry, Source: "poll", SourceID: fmt.Sprintf("entry:%d:%d", p.ID, eventID), At: at,
		MemberID: memberID, GroupID: p.GroupID, Data: event.MustData(event.PollData{PollID: p.ID, EventID: eventID})}
	if _, err := s.log.AppendTx(ctx, tx, &e); err != nil {
		return false, false, err
	}
	return true, before == 0, nil
}

// Tally returns p with its counts.
func (s *Service) Tally(ctx context.Context, p Poll) (Result, error) {
	return tally(ctx, s.db.R, p)
}

func tally(ctx context.Context, q store.Querier, p Poll) (Result, error) {
	r := Result{Poll: p, Counts: make([]int, len(p.Options))}
	if p.Kind == KindPrompt {
		err := q.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT member_id) FROM poll_entries WHERE poll_id = $1 AND tenant_id = $2`,
			p.ID, p.TenantID).Scan(&r.Total, &r.Members)
		return r, err
	}
	rows, err := q.QueryContext(ctx, `SELECT choice, COUNT(*) FROM poll_votes WHERE poll_id = $1 AND tenant_id = $2 GROUP BY choice`, p.ID, p.TenantID)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var choice, n int
		if err := rows.Scan(&choice, &n); err != nil {
			return r, err
		}
		if choice >= 1 && choice <= len(r.Counts) {
			r.Counts[choice-1] = n
			r.Total += n
		}
	}
	return r, rows.Err()
}

// Choice returns member's current vote in p (0: none).
func (s *Service) Choice(ctx context.Context, p Poll, memberID int64) (int, error) {
	var c int
	err := s.db.R.QueryRowContext(ctx, `SELECT choice FROM poll_votes WHERE poll_id = $1 AND member_id = $2 AND tenant_id = $3`,
		p.ID, memberID, p.TenantID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return c, err
}

// Entries returns a prompt's entries, newest first, with member names.
func (s *Service) Entries(ctx context.Context, p Poll, limit int) ([]Entry, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT e.member_id, m.display_name, e.event_id, e.text, e.at FROM poll_entries e
		JOIN members m ON m.id = e.member_id AND m.tenant_id = e.tenant_id
		WHERE e.poll_id = $1 AND e.tenant_id = $2 ORDER BY e.at DESC, e.event_id DESC LIMIT $3`, p.ID, p.TenantID, limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (Entry, error) {
		var e Entry
		var at int64
		err := r.Scan(&e.MemberID, &e.Name, &e.EventID, &e.Text, &at)
		e.At = store.Time(at)
		return e, err
	})
}

// CloseNow moves an open activity's deadline to now; the runner then
// announces its result.
func (s *Service) CloseNow(ctx context.Context, tenantID, id int64) error {
	now := store.Millis(s.now())
	res, err := s.db.W.ExecContext(ctx, `UPDATE polls SET closes_at = $3 WHERE tenant_id = $1 AND id = $2 AND closed_at = 0 AND closes_at > $3`,
		tenantID, id, now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Get(ctx, tenantID, id); err != nil {
			return err
		}
		return ErrClosed
	}
	return nil
}

// Due returns activities whose deadline has passed and whose result is not
// yet announced, across tenants (the runner's scheduler).
func (s *Service) Due(ctx context.Context, now time.Time, limit int) ([]Poll, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+cols+` FROM polls WHERE closed_at = 0 AND closes_at <= $1 ORDER BY closes_at, id LIMIT $2`,
		store.Millis(now), limit)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scan)
}

// CloseTx marks p closed at `at` and returns its final tally; done is
// false when another pass closed it first (announce nothing then).
func (s *Service) CloseTx(ctx context.Context, tx *store.Tx, p Poll, at time.Time) (r Result, done bool, err error) {
	// Closing before the deadline moves the deadline to the close.
	res, err := tx.ExecContext(ctx, `UPDATE polls SET closed_at = $3, closes_at = CASE WHEN closes_at > $3 THEN $3 ELSE closes_at END
		WHERE tenant_id = $1 AND id = $2 AND closed_at = 0`,
		p.TenantID, p.ID, store.Millis(at))
	if err != nil {
		return r, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return r, false, nil
	}
	p.ClosedAt = at
	if p.ClosesAt.After(at) {
		p.ClosesAt = at
	}
	e := event.Event{TenantID: p.TenantID, Type: event.PollClosed, Source: "poll", SourceID: fmt.Sprintf("closed:%d", p.ID), At: at,
		GroupID: p.GroupID, Data: event.MustData(event.PollData{PollID: p.ID})}
	if _, err := s.log.AppendTx(ctx, tx, &e); err != nil {
		return r, false, err
	}
	r, err = tally(ctx, tx, p)
	return r, err == nil, err
}
