package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/store"
)

// Teardown is seed 004's 拆解 of the brand's community: each group's basic
// information and routine, the content SOP (playbooks), the persona roles,
// and what the playbooks planned for the period against what ran.
type Teardown struct {
	Personas  []Persona       `json:"personas"`
	Playbooks []PlaybookSOP   `json:"playbooks"`
	Groups    []GroupTeardown `json:"groups"`
	Private   []StepRun       `json:"private"` // the period's private-message steps
	Mix       Mix             `json:"mix"`     // the whole brand's content mix
}

// Persona is one persona and how many enabled rules speak through it.
type Persona struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Rules int    `json:"rules"`
}

// PlaybookSOP is a playbook as a content SOP: its steps in order.
type PlaybookSOP struct {
	ID     int64     `json:"id"`
	Name   string    `json:"name"`
	Kind   string    `json:"kind"`
	Anchor string    `json:"anchor"`
	Active bool      `json:"active"`
	Steps  []StepSOP `json:"steps"`
}

// StepSOP is one step of a playbook: when (Days after the anchor at At,
// or Minutes after it), what content, to whom.
type StepSOP struct {
	Position int      `json:"position"`
	Days     int      `json:"days"`
	At       string   `json:"at,omitempty"`
	Minutes  int      `json:"minutes,omitempty"`
	BestTime bool     `json:"best_time,omitempty"`
	Content  string   `json:"content"` // the content's title
	Type     string   `json:"type"`
	Format   string   `json:"format"`
	Target   string   `json:"target"` // groups or dm
	Groups   []string `json:"groups,omitempty"`
}

// GroupTeardown is one group's part of the teardown.
type GroupTeardown struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Channel  string    `json:"channel"`
	Audience string    `json:"audience"`
	Promise  string    `json:"promise"`
	Tone     string    `json:"tone"`
	Rules    string    `json:"rules"`
	Capacity int       `json:"capacity"`
	Members  int       `json:"members"`
	Created  time.Time `json:"created"`
	Routine  []Routine `json:"routine"` // the bot rules that act in the group
	Runs     []StepRun `json:"runs"`    // playbook steps planned in the period
	Mix      Mix       `json:"mix"`
}

// Routine is one bot rule acting in a group, in the words an operator
// reads: its kind, who speaks, and its main setting.
type Routine struct {
	Kind    string `json:"kind"`
	Persona string `json:"persona"`
	Enabled bool   `json:"enabled"`
	AllGrps bool   `json:"all_groups"` // a rule of every group
	Text    string `json:"text,omitempty"`
	Window  string `json:"window,omitempty"` // check-in hours, "08:00–23:00"
	Points  int64  `json:"points,omitempty"`
}

// StepRun is one playbook step planned in the period and what became of
// it: sent, skipped (every recipient skipped, with the reason), failed,
// cancelled, or still pending.
type StepRun struct {
	Playbook string    `json:"playbook"`
	Content  string    `json:"content"`
	Type     string    `json:"type"`
	RunAt    time.Time `json:"run_at"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Sent     int       `json:"sent"`
	Skipped  int       `json:"skipped"`
}

// Mix is the knowledge (value) against promo (sales) mix the playbooks
// planned for the period, and what was sent. The rule is 7:3.
type Mix struct {
	PlannedValue int `json:"planned_value"`
	PlannedSales int `json:"planned_sales"`
	SentValue    int `json:"sent_value"`
	SentSales    int `json:"sent_sales"`
}

// SalesShareMax is the 7:3 rule: at most 30 % sales content.
const SalesShareMax = 0.3

// PlannedShare is the share of sales in the plan (false: nothing planned).
func (m Mix) PlannedShare() (float64, bool) {
	return share(m.PlannedSales, m.PlannedValue+m.PlannedSales)
}

// SentShare is the share of sales in what was sent (false: nothing sent).
func (m Mix) SentShare() (float64, bool) { return share(m.SentSales, m.SentValue+m.SentSales) }

func share(part, whole int) (float64, bool) {
	if whole <= 0 {
		return 0, false
	}
	return float64(part) / float64(whole), true
}

// add counts one job: planned unless cancelled, sent when it was.
func (m *Mix) add(sales bool, state campaign.JobState) {
	if state == campaign.JobCancelled {
		return
	}
	if sales {
		m.PlannedSales++
	} else {
		m.PlannedValue++
	}
	if state != campaign.JobSent {
		return
	}
	if sales {
		m.SentSales++
	} else {
		m.SentValue++
	}
}

// buildTeardown reads the brand's groups, routine, playbooks and the
// period's jobs. It only reads.
func buildTeardown(ctx context.Context, d Deps, tenantID int64, p analytics.Period, loc *time.Location) (Teardown, error) {
	var td Teardown
	groups, err := d.Community.Groups(ctx, tenantID)
	if err != nil {
		return td, err
	}
	personas, err := d.Bot.Personas(ctx, tenantID)
	if err != nil {
		return td, err
	}
	rules, err := d.Bot.Rules(ctx, tenantID)
	if err != nil {
		return td, err
	}
	personaName := map[int64]string{}
	for _, ps := range personas {
		personaName[ps.ID] = ps.Name
	}
	td.Personas = personaRoles(personas, rules)
	contents, err := contentInfo(ctx, d.DB, tenantID)
	if err != nil {
		return td, err
	}
	groupName := map[int64]string{}
	for _, g := range groups {
		groupName[g.ID] = g.Name
	}
	if td.Playbooks, err = playbookSOPs(ctx, d, tenantID, contents, groupName); err != nil {
		return td, err
	}
	cal, err := d.Campaigns.Calendar(ctx, tenantID, p.From.Start(loc), p.To.Start(loc))
	if err != nil {
		return td, fmt.Errorf("report: calendar: %w", err)
	}
	runs := map[int64][]StepRun{}
	mixes := map[int64]*Mix{}
	for _, e := range cal.Entries {
		run := StepRun{Playbook: e.Playbook, Content: e.Title, Type: string(e.ContentType), RunAt: e.RunAt,
			State: string(e.State), Reason: e.Reason, Sent: e.Sent, Skipped: e.Skipped}
		runs[e.GroupID] = append(runs[e.GroupID], run)
		if mixes[e.GroupID] == nil {
			mixes[e.GroupID] = &Mix{}
		}
		mixes[e.GroupID].add(e.ContentType.Sales(), e.State)
		td.Mix.add(e.ContentType.Sales(), e.State)
	}
	td.Private = runs[0]
	for _, g := range groups {
		if !g.ArchivedAt.IsZero() {
			continue
		}
		gt := groupInfo(g)
		gt.Routine = routineOf(g.ID, rules, personaName)
		gt.Runs = runs[g.ID]
		if m := mixes[g.ID]; m != nil {
			gt.Mix = *m
		}
		td.Groups = append(td.Groups, gt)
	}
	return td, nil
}

func groupInfo(g community.Group) GroupTeardown {
	return GroupTeardown{ID: g.ID, Name: g.Name, Kind: string(g.Kind), Channel: g.Channel, Audience: g.Audience,
		Promise: g.Promise, Tone: g.Tone, Rules: g.Rules, Capacity: g.Capacity, Members: g.MemberCount, Created: g.CreatedAt}
}

// personaRoles lists the personas with the number of enabled rules each
// speaks for (seed 004: each persona has one clear job).
func personaRoles(personas []bot.Persona, rules []bot.Rule) []Persona {
	out := make([]Persona, 0, len(personas))
	for _, ps := range personas {
		n := 0
		for _, r := range rules {
			if r.Enabled && r.PersonaID == ps.ID {
				n++
			}
		}
		out = append(out, Persona{Name: ps.Name, Role: string(ps.Role), Rules: n})
	}
	return out
}

// routineOf is the rules acting in a group: its own and the brand-wide
// ones, in the order the console lists rule kinds.
func routineOf(groupID int64, rules []bot.Rule, personaName map[int64]string) []Routine {
	var out []Routine
	for _, kind := range bot.Kinds {
		for _, r := range rules {
			if r.Kind != kind || (r.GroupID != 0 && r.GroupID != groupID) {
				continue
			}
			rt := Routine{Kind: string(r.Kind), Persona: personaName[r.PersonaID], Enabled: r.Enabled, AllGrps: r.GroupID == 0}
			describeRule(&rt, r)
			out = append(out, rt)
		}
	}
	return out
}

// describeRule fills a routine's main setting from its rule.
func describeRule(rt *Routine, r bot.Rule) {
	switch {
	case r.Welcome != nil:
		rt.Text, rt.Points = r.Welcome.Template, r.Welcome.GiftPoints
	case r.Keyword != nil:
		rt.Text = r.Keyword.Pattern
	case r.CheckIn != nil:
		rt.Text, rt.Points = r.CheckIn.Question, r.CheckIn.Points
		if r.CheckIn.WindowStart != "" || r.CheckIn.WindowEnd != "" {
			rt.Window = r.CheckIn.WindowStart + "–" + r.CheckIn.WindowEnd
		}
	case r.Discussion != nil:
		rt.Points = r.Discussion.PointsPerMessage
	case r.Moderation != nil:
		rt.Text = strings.Join(r.Moderation.BannedWords, ", ")
	case r.Wishlist != nil:
		rt.Text = strings.Join(r.Wishlist.Reminders, ", ")
	}
}

// contentItem is what the SOP shows of a content item.
type contentItem struct{ title, typ, format string }

// contentInfo reads the titles, types and formats of the brand's content
// library, archived items included (a playbook may still name one).
func contentInfo(ctx context.Context, db *store.DB, tenantID int64) (map[int64]contentItem, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT id, title, type, format FROM campaign_content WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("report: content: %w", err)
	}
	defer rows.Close()
	out := map[int64]contentItem{}
	for rows.Next() {
		var id int64
		var c contentItem
		if err := rows.Scan(&id, &c.title, &c.typ, &c.format); err != nil {
			return nil, fmt.Errorf("report: content: %w", err)
		}
		out[id] = c
	}
	return out, rows.Err()
}

// playbookSOPs lists the brand's playbooks, active first, as SOPs.
func playbookSOPs(ctx context.Context, d Deps, tenantID int64, contents map[int64]contentItem, groupName map[int64]string) ([]PlaybookSOP, error) {
	pbs, err := d.Campaigns.ListPlaybooks(ctx, tenantID, 0)
	if err != nil {
		return nil, fmt.Errorf("report: playbooks: %w", err)
	}
	out := make([]PlaybookSOP, 0, len(pbs))
	for _, pb := range pbs {
		sop := PlaybookSOP{ID: pb.ID, Name: pb.Name, Kind: string(pb.Kind), Anchor: string(pb.Anchor), Active: pb.Active}
		for _, st := range pb.Steps {
			c := contents[st.ContentID]
			s := StepSOP{Position: st.Position, Days: st.Days, At: st.At, Minutes: st.Minutes, BestTime: st.BestTime,
				Content: c.title, Type: c.typ, Format: c.format, Target: string(st.Target.Kind)}
			for _, gid := range st.Target.Groups {
				s.Groups = append(s.Groups, groupName[gid])
			}
			sop.Steps = append(sop.Steps, s)
		}
		out = append(out, sop)
	}
	slices.SortStableFunc(out, func(a, b PlaybookSOP) int {
		switch {
		case a.Active == b.Active:
			return 0
		case a.Active:
			return -1
		}
		return 1
	})
	return out, nil
}
