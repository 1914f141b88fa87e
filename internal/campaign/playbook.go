package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Kind is what a playbook is for.
type Kind string

const (
	KindWarmup    Kind = "warmup"     // 预热: T-7 … T-0 before a live
	KindNewMember Kind = "new_member" // a new member's first week
	KindPostLive  Kind = "post_live"  // the follow-up after a live
	KindCustom    Kind = "custom"
)

// Kinds lists the playbook kinds.
var Kinds = []Kind{KindWarmup, KindNewMember, KindPostLive, KindCustom}

// Anchor is the moment a playbook's steps are relative to.
type Anchor string

const (
	AnchorLiveStart  Anchor = "live_start"  // the live's scheduled start
	AnchorLiveEnd    Anchor = "live_end"    // the live's end (known once it ended)
	AnchorMemberJoin Anchor = "member_join" // each member's join (one occurrence per member)
	AnchorDate       Anchor = "date"        // a fixed moment, AnchorAt
)

// Anchors lists the anchors.
var Anchors = []Anchor{AnchorLiveStart, AnchorLiveEnd, AnchorMemberJoin, AnchorDate}

// TargetKind is how a step reaches people.
type TargetKind string

const (
	TargetGroups TargetKind = "groups" // a post in each listed group
	TargetDM     TargetKind = "dm"     // a private message to each member of the segment
)

// Target is who a step reaches. For TargetDM, Groups (when set) restricts
// the segment to members of any of them; a member in several of them gets
// one message.
type Target struct {
	Kind    TargetKind `json:"kind"`
	Groups  []int64    `json:"groups,omitempty"`
	Segment Segment    `json:"segment"`
}

// Step is one point of a playbook's timeline: Days after the anchor (in
// the tenant's calendar; negative before it), at the local time At, or —
// when At is empty — Minutes after the anchor (negative before it).
type Step struct {
	ID          int64
	Position    int // 1-based order in the playbook, set by Save
	Days        int
	At          string // "HH:MM" in the tenant's zone; "" to use Minutes
	Minutes     int
	ContentID   int64
	ContentType Type // the content's type, filled when read (not saved)
	Target      Target
	BestTime    bool // send at the group's best hour (BestHour) instead of At
}

// Playbook is a timeline of steps relative to an anchor.
type Playbook struct {
	ID        int64
	TenantID  int64
	Name      string
	Kind      Kind
	Anchor    Anchor
	LiveID    int64     // live_start, live_end
	AnchorAt  time.Time // date
	Active    bool
	Steps     []Step
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits of a playbook.
const (
	MaxNameRunes   = 100
	MaxSteps       = 50
	MaxStepGroups  = 50
	MinStepDays    = -60
	MaxStepDays    = 365
	MaxStepMinutes = 24 * 60
)

// ParseClock reads "HH:MM" (00:00 to 23:59) as minutes after midnight.
func ParseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// ValidatePlaybook normalises p and checks what needs no database; errors
// wrap ErrInvalid and name the step.
func ValidatePlaybook(p *Playbook) error {
	p.Name = textnorm.Line(p.Name)
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case p.Name == "":
		bad("name is empty")
	case !textnorm.Limit(p.Name, MaxNameRunes):
		bad("name is longer than %d characters", MaxNameRunes)
	}
	if !slices.Contains(Kinds, p.Kind) {
		bad("kind %q is not one of %v", p.Kind, Kinds)
	}
	switch p.Anchor {
	case AnchorLiveStart, AnchorLiveEnd:
		if p.LiveID <= 0 {
			bad("choose the live the playbook follows")
		}
	case AnchorDate:
		if p.AnchorAt.IsZero() {
			bad("choose the date the playbook counts from")
		}
	case AnchorMemberJoin:
	default:
		bad("anchor %q is not one of %v", p.Anchor, Anchors)
	}
	switch {
	case len(p.Steps) == 0:
		bad("add at least one step")
	case len(p.Steps) > MaxSteps:
		bad("a playbook has at most %d steps", MaxSteps)
	}
	for i := range p.Steps {
		st := &p.Steps[i]
		st.Position = i + 1
		for _, msg := range stepProblems(st, p.Anchor) {
			bad("step %d: %s", st.Position, msg)
		}
	}
	if len(problems) > 0 {
		return invalid("%s", strings.Join(problems, "; "))
	}
	return nil
}

func stepProblems(st *Step, anchor Anchor) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	st.At = strings.TrimSpace(st.At)
	if st.Days < MinStepDays || st.Days > MaxStepDays {
		bad("day must be %d to %d", MinStepDays, MaxStepDays)
	}
	if anchor == AnchorMemberJoin && (st.Days < 0 || (st.At == "" && st.Days == 0 && st.Minutes < 0)) {
		bad("a member journey cannot send before the member joined")
	}
	switch {
	case st.At != "" && st.Minutes != 0:
		bad("give a time of day or a minute offset, not both")
	case st.At != "":
		if _, ok := ParseClock(st.At); !ok {
			bad("time %q is not HH:MM", st.At)
		}
	case st.Minutes < -MaxStepMinutes || st.Minutes > MaxStepMinutes:
		bad("the minute offset must be within a day (±%d)", MaxStepMinutes)
	}
	if st.BestTime && st.At == "" && st.Minutes != 0 {
		bad("best time picks the hour of the day: leave the minute offset empty")
	}
	if st.ContentID <= 0 {
		bad("choose the content")
	}
	t := &st.Target
	switch t.Kind {
	case TargetGroups:
		t.Segment = Segment{} // posts go to the whole group
		if len(t.Groups) == 0 {
			bad("choose at least one group (the target reaches nobody)")
		}
	case TargetDM:
		for _, msg := range ValidateSegment(&t.Segment) {
			bad("%s", msg)
		}
	default:
		bad("target %q is not groups or dm", t.Kind)
	}
	if len(t.Groups) > MaxStepGroups {
		bad("a step reaches at most %d groups", MaxStepGroups)
	}
	seen := map[int64]bool{}
	for _, g := range t.Groups {
		if g <= 0 || seen[g] {
			bad("group %d is not valid or repeated", g)
		}
		seen[g] = true
	}
	return out
}

// sameSend reports whether o sends the same thing at the same time to the
// same people as st; otherwise the step's pending jobs are stale.
func (st Step) sameSend(o Step) bool {
	a, _ := json.Marshal(st.Target)
	b, _ := json.Marshal(o.Target)
	return st.Days == o.Days && st.At == o.At && st.Minutes == o.Minutes && st.BestTime == o.BestTime &&
		st.ContentID == o.ContentID && string(a) == string(b)
}

// SavePlaybook creates (ID 0) or updates a playbook with its steps in one
// transaction. It refuses, naming the step: content that is not the
// tenant's, archived, or has an unknown placeholder; groups that are not
// the tenant's or are archived; a target that reaches nobody now (no
// groups, or a segment without members — except a member journey's
// private messages, which reach the member who joins). On update, steps
// keep their ids; the pending jobs of a step that changed or was removed
// (or of the whole playbook, when it is paused or re-anchored) are
// cancelled, and Arm schedules the new times.
func (s *Service) SavePlaybook(ctx context.Context, p Playbook) (Playbook, error) {
	var saved Playbook
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		saved, err = s.SavePlaybookTx(ctx, tx, p)
		return err
	})
	if err != nil {
		return p, err
	}
	return saved, nil
}

// SavePlaybookTx is SavePlaybook inside tx, so that a template's content,
// the playbook and its arming commit together.
func (s *Service) SavePlaybookTx(ctx context.Context, tx *store.Tx, p Playbook) (Playbook, error) {
	if err := ValidatePlaybook(&p); err != nil {
		return p, err
	}
	now := s.now().UTC()
	if err := s.checkOwned(ctx, tx, p, now); err != nil {
		return p, err
	}
	var err error
	if p.ID == 0 {
		err = insertPlaybook(ctx, tx, &p, now)
	} else {
		err = updatePlaybook(ctx, tx, &p, now)
	}
	if err != nil {
		return p, err
	}
	return getPlaybook(ctx, tx, p.TenantID, p.ID) // as stored, with the steps' content types
}

// checkOwned checks what p names against the database.
func (s *Service) checkOwned(ctx context.Context, q store.Querier, p Playbook, now time.Time) error {
	if p.Anchor == AnchorLiveStart || p.Anchor == AnchorLiveEnd {
		if ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM lives WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.LiveID); err != nil || !ok {
			return orInvalid(err, "live %d is not one of yours", p.LiveID)
		}
	}
	for _, st := range p.Steps {
		if err := stepOwned(ctx, q, p, st, now); err != nil {
			return err
		}
	}
	return nil
}

func stepOwned(ctx context.Context, q store.Querier, p Playbook, st Step, now time.Time) error {
	c, err := getContent(ctx, q, p.TenantID, st.ContentID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return invalid("step %d: content %d is not one of yours", st.Position, st.ContentID)
	case err != nil:
		return err
	case !c.ArchivedAt.IsZero():
		return invalid("step %d: content %q is archived", st.Position, c.Title)
	}
	for _, l := range Locales {
		if err := ValidateText(c.Variants[l]); err != nil {
			return invalid("step %d: content %q (%s): %s", st.Position, c.Title, l, lastPart(err))
		}
	}
	groups := st.Target.Groups
	if st.Target.Segment.GroupID != 0 {
		groups = append(slices.Clone(groups), st.Target.Segment.GroupID)
	}
	for _, g := range groups {
		ok, err := store.Exists(ctx, q, `SELECT COUNT(*) FROM community_groups WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL`, p.TenantID, g)
		if err != nil || !ok {
			return orInvalid(err, "step %d: group %d is not one of yours (or is archived)", st.Position, g)
		}
	}
	if st.Target.Kind != TargetDM || p.Anchor == AnchorMemberJoin {
		return nil
	}
	ok, err := reaches(ctx, q, p.TenantID, audience{seg: st.Target.Segment, anyGroups: st.Target.Groups}, now)
	if err != nil || !ok {
		return orInvalid(err, "step %d: the target reaches nobody now (no member matches the segment)", st.Position)
	}
	return nil
}

func insertPlaybook(ctx context.Context, tx *store.Tx, p *Playbook, now time.Time) error {
	p.CreatedAt, p.UpdatedAt = now, now
	if err := tx.QueryRowContext(ctx, `INSERT INTO campaign_playbooks (tenant_id, name, kind, anchor, live_id, anchor_at, active, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		p.TenantID, p.Name, string(p.Kind), string(p.Anchor), p.LiveID, store.Millis(p.AnchorAt), p.Active, store.Millis(now)).Scan(&p.ID); err != nil {
		if store.IsUniqueViolation(err) && p.Kind == KindWarmup {
			return invalid("this live already has a warm-up playbook")
		}
		return fmt.Errorf("campaign: create playbook: %w", err)
	}
	for i := range p.Steps {
		p.Steps[i].ID = 0
		if err := insertStep(ctx, tx, p, &p.Steps[i]); err != nil {
			return err
		}
	}
	return nil
}

func updatePlaybook(ctx context.Context, tx *store.Tx, p *Playbook, now time.Time) error {
	old, err := getPlaybook(ctx, tx, p.TenantID, p.ID)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = old.CreatedAt, now
	if _, err := tx.ExecContext(ctx, `UPDATE campaign_playbooks SET name = $3, kind = $4, anchor = $5, live_id = $6, anchor_at = $7,
		active = $8, updated_at = $9 WHERE tenant_id = $1 AND id = $2`,
		p.TenantID, p.ID, p.Name, string(p.Kind), string(p.Anchor), p.LiveID, store.Millis(p.AnchorAt), p.Active, store.Millis(now)); err != nil {
		return fmt.Errorf("campaign: update playbook: %w", err)
	}
	reanchored := old.Anchor != p.Anchor || old.LiveID != p.LiveID || !old.AnchorAt.Equal(p.AnchorAt)
	if !p.Active || reanchored {
		reason := "playbook paused"
		if reanchored {
			reason = "playbook re-anchored"
		}
		if err := cancelPending(ctx, tx, now, p.TenantID, `playbook_id = $2`, reason, p.ID); err != nil {
			return err
		}
	}
	olds := map[int64]Step{}
	for _, st := range old.Steps {
		olds[st.ID] = st
	}
	for i := range p.Steps {
		st := &p.Steps[i]
		if st.ID == 0 {
			if err := insertStep(ctx, tx, p, st); err != nil {
				return err
			}
			continue
		}
		prev, ok := olds[st.ID]
		if !ok {
			return invalid("step %d: step %d is not a step of this playbook", st.Position, st.ID)
		}
		delete(olds, st.ID)
		if err := updateStep(ctx, tx, p, *st); err != nil {
			return err
		}
		if !st.sameSend(prev) {
			if err := cancelPending(ctx, tx, now, p.TenantID, `step_id = $2`, "step changed", st.ID); err != nil {
				return err
			}
		}
	}
	for id := range olds {
		if err := cancelPending(ctx, tx, now, p.TenantID, `step_id = $2`, "step removed", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_steps WHERE tenant_id = $1 AND id = $2`, p.TenantID, id); err != nil {
			return err
		}
	}
	return nil
}

func insertStep(ctx context.Context, tx *store.Tx, p *Playbook, st *Step) error {
	target, _ := json.Marshal(st.Target)
	if err := tx.QueryRowContext(ctx, `INSERT INTO campaign_steps (tenant_id, playbook_id, position, days, at_clock, minutes, content_id, target, best_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		p.TenantID, p.ID, st.Position, st.Days, st.At, st.Minutes, st.ContentID, string(target), st.BestTime).Scan(&st.ID); err != nil {
		return fmt.Errorf("campaign: step %d: %w", st.Position, err)
	}
	return nil
}

func updateStep(ctx context.Context, tx *store.Tx, p *Playbook, st Step) error {
	target, _ := json.Marshal(st.Target)
	_, err := tx.ExecContext(ctx, `UPDATE campaign_steps SET position = $4, days = $5, at_clock = $6, minutes = $7, content_id = $8,
		target = $9, best_time = $10 WHERE tenant_id = $1 AND playbook_id = $2 AND id = $3`,
		p.TenantID, p.ID, st.ID, st.Position, st.Days, st.At, st.Minutes, st.ContentID, string(target), st.BestTime)
	if err != nil {
		return fmt.Errorf("campaign: step %d: %w", st.Position, err)
	}
	return nil
}

const playbookCols = `id, tenant_id, name, kind, anchor, live_id, anchor_at, active, created_at, updated_at`

func scanPlaybook(r interface{ Scan(...any) error }) (Playbook, error) {
	var p Playbook
	var kind, anchor string
	var anchorAt, created, updated int64
	err := r.Scan(&p.ID, &p.TenantID, &p.Name, &kind, &anchor, &p.LiveID, &anchorAt, &p.Active, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	p.Kind, p.Anchor = Kind(kind), Anchor(anchor)
	p.AnchorAt, p.CreatedAt, p.UpdatedAt = store.Time(anchorAt), store.Time(created), store.Time(updated)
	return p, err
}

const stepCols = `s.id, s.playbook_id, s.position, s.days, s.at_clock, s.minutes, s.content_id, COALESCE(c.type, ''), s.target, s.best_time`

// steps reads the steps of the tenant's playbooks matching cond (on s),
// by playbook and position.
func steps(ctx context.Context, q store.Querier, tenantID int64, cond string, args ...any) (map[int64][]Step, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+stepCols+` FROM campaign_steps s
		LEFT JOIN campaign_content c ON c.tenant_id = s.tenant_id AND c.id = s.content_id
		WHERE s.tenant_id = $1 AND `+cond+` ORDER BY s.playbook_id, s.position`, append([]any{tenantID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]Step{}
	for rows.Next() {
		var st Step
		var playbook int64
		var typ, target string
		if err := rows.Scan(&st.ID, &playbook, &st.Position, &st.Days, &st.At, &st.Minutes, &st.ContentID, &typ, &target, &st.BestTime); err != nil {
			return nil, err
		}
		st.ContentType = Type(typ)
		if err := json.Unmarshal([]byte(target), &st.Target); err != nil {
			return nil, fmt.Errorf("campaign: step %d: target: %w", st.ID, err)
		}
		out[playbook] = append(out[playbook], st)
	}
	return out, rows.Err()
}

// GetPlaybook returns one playbook of the tenant with its steps.
func (s *Service) GetPlaybook(ctx context.Context, tenantID, id int64) (Playbook, error) {
	return getPlaybook(ctx, s.db.R, tenantID, id)
}

func getPlaybook(ctx context.Context, q store.Querier, tenantID, id int64) (Playbook, error) {
	p, err := scanPlaybook(q.QueryRowContext(ctx, `SELECT `+playbookCols+` FROM campaign_playbooks WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return p, err
	}
	st, err := steps(ctx, q, tenantID, `s.playbook_id = $2`, id)
	p.Steps = st[id]
	return p, err
}

// ListPlaybooks returns the tenant's playbooks with their steps, newest
// first; liveID > 0 lists only those following that live.
func (s *Service) ListPlaybooks(ctx context.Context, tenantID, liveID int64) ([]Playbook, error) {
	cond, args := `tenant_id = $1`, []any{tenantID}
	if liveID > 0 {
		cond, args = cond+` AND live_id = $2`, append(args, liveID)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+playbookCols+` FROM campaign_playbooks WHERE `+cond+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, err
	}
	out, err := store.Collect(rows, scanPlaybook)
	if err != nil {
		return nil, err
	}
	st, err := steps(ctx, s.db.R, tenantID, `s.playbook_id IN (SELECT id FROM campaign_playbooks WHERE `+cond+`)`, args[1:]...)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Steps = st[out[i].ID]
	}
	return out, nil
}
