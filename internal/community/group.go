package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Kind is a group's purpose (seed 004).
type Kind string

const (
	Vertical Kind = "vertical" // 垂类群: people who share an interest
	Booster  Kind = "booster"  // 点赞群: likes and comments during lives
	Referral Kind = "referral" // 裂变群: invite friends for rewards
	VIP      Kind = "vip"      // VIP: best customers
)

// Kinds lists every group kind, in display order.
var Kinds = []Kind{Vertical, Booster, Referral, VIP}

func (k Kind) valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Group is a chat group of a tenant on one channel.
type Group struct {
	ID         int64
	TenantID   int64
	Channel    string
	ExternalID string // the platform's id; "" on the built-in web community
	Name       string
	Kind       Kind
	Audience   string // who it is for (seed 000: 定位)
	Promise    string // what members get from it
	Tone       string // how the brand speaks there
	Rules      string // group rules shown to members
	Capacity   int
	// JoinQuestion, when set, must be answered with one of JoinAnswers to
	// join (the brand's own question — "which live did you come from?" —
	// rather than a captcha).
	JoinQuestion string
	JoinAnswers  []string
	CreatedAt    time.Time
	ArchivedAt   time.Time
	MemberCount  int // active members, filled by list queries
}

// Field limits.
const (
	MaxGroupName   = 60
	MaxPositioning = 500
	MaxCapacity    = 100_000
	MaxQuestion    = 200
	MaxAnswers     = 20
	MaxAnswerLen   = 50
)

// Validate normalises a group's fields and checks them.
func Validate(g *Group) error {
	g.Name = textnorm.Line(g.Name)
	g.Audience = textnorm.Clean(g.Audience)
	g.Promise = textnorm.Clean(g.Promise)
	g.Tone = textnorm.Clean(g.Tone)
	g.Rules = textnorm.Clean(g.Rules)
	if g.Capacity == 0 {
		g.Capacity = 500
	}
	switch {
	case g.Name == "" || !textnorm.Limit(g.Name, MaxGroupName):
		return fmt.Errorf("%w: group name must have 1–%d characters", store.ErrInvalid, MaxGroupName)
	case !g.Kind.valid():
		return fmt.Errorf("%w: group type %q", store.ErrInvalid, g.Kind)
	case g.Channel == "":
		return fmt.Errorf("%w: group without channel", store.ErrInvalid)
	case g.Capacity < 1 || g.Capacity > MaxCapacity:
		return fmt.Errorf("%w: capacity must be 1–%d", store.ErrInvalid, MaxCapacity)
	}
	g.JoinQuestion = textnorm.Line(g.JoinQuestion)
	var answers []string
	for _, a := range g.JoinAnswers {
		if a = textnorm.Line(a); a != "" {
			answers = append(answers, a)
		}
	}
	g.JoinAnswers = answers
	switch {
	case !textnorm.Limit(g.JoinQuestion, MaxQuestion):
		return fmt.Errorf("%w: the join question has at most %d characters", store.ErrInvalid, MaxQuestion)
	case g.JoinQuestion != "" && len(answers) == 0:
		return fmt.Errorf("%w: give at least one accepted answer to the join question", store.ErrInvalid)
	case len(answers) > MaxAnswers:
		return fmt.Errorf("%w: at most %d accepted answers", store.ErrInvalid, MaxAnswers)
	}
	for _, a := range answers {
		if !textnorm.Limit(a, MaxAnswerLen) {
			return fmt.Errorf("%w: an accepted answer has at most %d characters", store.ErrInvalid, MaxAnswerLen)
		}
	}
	for _, f := range []string{g.Audience, g.Promise, g.Tone, g.Rules} {
		if !textnorm.Limit(f, MaxPositioning) {
			return fmt.Errorf("%w: positioning fields have at most %d characters", store.ErrInvalid, MaxPositioning)
		}
	}
	return nil
}

// Service manages groups, join codes and membership.
type Service struct {
	db  *store.DB
	log eventAppender
}

// NewService returns a Service.
func NewService(db *store.DB, log eventAppender) *Service { return &Service{db: db, log: log} }

// CreateGroup creates a group and its first join code.
func (s *Service) CreateGroup(ctx context.Context, g Group) (Group, JoinCode, error) {
	if err := Validate(&g); err != nil {
		return g, JoinCode{}, err
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now().UTC()
	}
	var jc JoinCode
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO community_groups
			(tenant_id, channel, external_id, name, kind, audience, promise, tone, rules, capacity, created_at, join_question, join_answers)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			g.TenantID, g.Channel, g.ExternalID, g.Name, string(g.Kind), g.Audience, g.Promise, g.Tone, g.Rules,
			g.Capacity, store.Millis(g.CreatedAt), g.JoinQuestion, strings.Join(g.JoinAnswers, "\n")).Scan(&g.ID)
		if err != nil {
			return fmt.Errorf("community: create group: %w", err)
		}
		jc, err = newJoinCodeTx(ctx, tx, JoinCode{TenantID: g.TenantID, GroupID: g.ID, Source: "default", CreatedAt: g.CreatedAt})
		return err
	})
	return g, jc, err
}

// CreateGroupTx creates a group found on a platform (a bot added to a chat)
// inside tx, with a join code like every group.
func (s *Service) CreateGroupTx(ctx context.Context, tx *store.Tx, g Group) (Group, error) {
	if err := Validate(&g); err != nil {
		return g, err
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now().UTC()
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO community_groups
		(tenant_id, channel, external_id, name, kind, audience, promise, tone, rules, capacity, created_at, join_question, join_answers)
		VALUES ($1, $2, $3, $4, $5, '', '', '', '', $6, $7, '', '') RETURNING id`,
		g.TenantID, g.Channel, g.ExternalID, g.Name, string(g.Kind), g.Capacity, store.Millis(g.CreatedAt)).Scan(&g.ID)
	if err != nil {
		return g, fmt.Errorf("community: create group: %w", err)
	}
	_, err = newJoinCodeTx(ctx, tx, JoinCode{TenantID: g.TenantID, GroupID: g.ID, Source: "default", CreatedAt: g.CreatedAt})
	return g, err
}

// GroupByExternal finds the group of a platform chat (q may be a
// transaction).
func (s *Service) GroupByExternal(ctx context.Context, q store.Querier, tenantID int64, channel, externalID string) (Group, error) {
	return scanGroup(q.QueryRowContext(ctx, `SELECT `+groupCols+` FROM community_groups g
		WHERE g.tenant_id = $1 AND g.channel = $2 AND g.external_id = $3`, tenantID, channel, externalID))
}

// SetReachable records whether the platform still lets the brand post to
// the group (a bot removed from it makes it unreachable).
func (s *Service) SetReachable(ctx context.Context, q store.Querier, tenantID, groupID int64, reachable bool, at time.Time) error {
	var v int64
	if !reachable {
		v = store.Millis(at)
	}
	_, err := q.ExecContext(ctx, `UPDATE community_groups SET unreachable_at = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, groupID, v)
	return err
}

// MoveExternal follows a platform chat to its new id (a Telegram group
// upgraded to a supergroup).
func (s *Service) MoveExternal(ctx context.Context, q store.Querier, tenantID int64, channel, from, to string) error {
	_, err := q.ExecContext(ctx, `UPDATE community_groups SET external_id = $4 WHERE tenant_id = $1 AND channel = $2 AND external_id = $3`,
		tenantID, channel, from, to)
	return err
}

// UpdateGroup changes a group's name, positioning and capacity.
func (s *Service) UpdateGroup(ctx context.Context, g Group) error {
	if err := Validate(&g); err != nil {
		return err
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE community_groups SET name = $3, kind = $4, audience = $5, promise = $6,
		tone = $7, rules = $8, capacity = $9, join_question = $10, join_answers = $11 WHERE tenant_id = $1 AND id = $2`,
		g.TenantID, g.ID, g.Name, string(g.Kind), g.Audience, g.Promise, g.Tone, g.Rules, g.Capacity,
		g.JoinQuestion, strings.Join(g.JoinAnswers, "\n"))
	if err != nil {
		return fmt.Errorf("community: update group %d: %w", g.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

const groupCols = `g.id, g.tenant_id, g.channel, g.external_id, g.name, g.kind, g.audience, g.promise, g.tone, g.rules,
	g.capacity, g.created_at, g.archived_at, g.join_question, g.join_answers,
	(SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id AND gm.left_at IS NULL AND gm.removed_at IS NULL)`

func scanGroup(sc interface{ Scan(...any) error }) (Group, error) {
	var g Group
	var kind string
	var created int64
	var archived sql.NullInt64
	var answers string
	err := sc.Scan(&g.ID, &g.TenantID, &g.Channel, &g.ExternalID, &g.Name, &kind, &g.Audience, &g.Promise, &g.Tone,
		&g.Rules, &g.Capacity, &created, &archived, &g.JoinQuestion, &answers, &g.MemberCount)
	if answers != "" {
		g.JoinAnswers = strings.Split(answers, "\n")
	}
	if errors.Is(err, sql.ErrNoRows) {
		return g, store.ErrNotFound
	}
	g.Kind, g.CreatedAt, g.ArchivedAt = Kind(kind), store.Time(created), store.NullMillis(archived)
	return g, err
}

// Group returns a group of the tenant.
func (s *Service) Group(ctx context.Context, tenantID, id int64) (Group, error) {
	return scanGroup(s.db.R.QueryRowContext(ctx, `SELECT `+groupCols+` FROM community_groups g WHERE g.tenant_id = $1 AND g.id = $2`, tenantID, id))
}

// Groups returns the tenant's groups, oldest first.
func (s *Service) Groups(ctx context.Context, tenantID int64) ([]Group, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+groupCols+` FROM community_groups g WHERE g.tenant_id = $1 ORDER BY g.id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("community: groups: %w", err)
	}
	return store.Collect(rows, scanGroup)
}
