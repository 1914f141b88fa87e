package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/i18n"
)

// TeardownView is the teardown ready for a page.
type TeardownView struct {
	Personas  []PersonaRow
	Playbooks []PlaybookRow
	Groups    []GroupView
	Private   []RunRow
	Mix       MixView
}

// PersonaRow is one persona and its job.
type PersonaRow struct {
	Name, Role, Rules string
}

// PlaybookRow is one playbook's steps.
type PlaybookRow struct {
	Name, Kind, Anchor string
	Active             bool
	Steps              []StepRow
}

// StepRow is one step of a playbook.
type StepRow struct {
	When, Content, Type, Format, Target string
}

// GroupView is one group's teardown.
type GroupView struct {
	Name, Kind, Channel, Audience, Promise, Tone, Rules string
	Capacity, Members, Created                          string
	Routine                                             []RoutineRow
	Runs                                                []RunRow
	Mix                                                 MixView
}

// RoutineRow is one bot rule acting in the group.
type RoutineRow struct {
	Kind, Persona, Scope, Text, Window, Points string
	Enabled                                    bool
}

// RunRow is one playbook step planned in the period and what became of it.
type RunRow struct {
	When, Playbook, Content, Type, State, Reason, Sent, Skipped string
	Missed                                                      bool // skipped or failed
}

// MixView is a content mix: planned and sent, with the sales shares.
type MixView struct {
	Planned, Sent string
	Over          bool // sales above the 7:3 rule in what was sent
	None          bool // nothing planned
}

func teardownView(cat *i18n.Catalog, lang string, td Teardown, loc *time.Location) TeardownView {
	var v TeardownView
	for _, p := range td.Personas {
		v.Personas = append(v.Personas, PersonaRow{Name: p.Name, Role: named(cat, lang, "persona.role."+p.Role, p.Role), Rules: fmt.Sprint(p.Rules)})
	}
	for _, pb := range td.Playbooks {
		v.Playbooks = append(v.Playbooks, playbookRow(cat, lang, pb))
	}
	for _, g := range td.Groups {
		v.Groups = append(v.Groups, groupView(cat, lang, g, loc))
	}
	v.Private = runRows(cat, lang, td.Private, loc)
	v.Mix = mixView(cat, lang, td.Mix)
	return v
}

func playbookRow(cat *i18n.Catalog, lang string, pb PlaybookSOP) PlaybookRow {
	row := PlaybookRow{Name: pb.Name, Kind: named(cat, lang, "cp.kind."+pb.Kind, pb.Kind),
		Anchor: named(cat, lang, "cp.anchor."+pb.Anchor, pb.Anchor), Active: pb.Active}
	for _, s := range pb.Steps {
		target := named(cat, lang, "cp.target."+s.Target, s.Target)
		if len(s.Groups) > 0 {
			target += ": " + strings.Join(s.Groups, ", ")
		}
		row.Steps = append(row.Steps, StepRow{When: stepWhen(cat, lang, s), Content: s.Content,
			Type: named(cat, lang, "cp.type."+s.Type, s.Type), Format: named(cat, lang, "cp.format."+s.Format, s.Format), Target: target})
	}
	return row
}

// stepWhen shows a step's time: "D-3 20:00", "D+0 best time", "−10 min".
func stepWhen(cat *i18n.Catalog, lang string, s StepSOP) string {
	switch {
	case s.BestTime:
		return fmt.Sprintf("D%+d %s", s.Days, cat.T(lang, "cp.best_time"))
	case s.At != "":
		return fmt.Sprintf("D%+d %s", s.Days, s.At)
	}
	return cat.T(lang, "report.td.minutes", fmt.Sprintf("%+d", s.Minutes))
}

func groupView(cat *i18n.Catalog, lang string, g GroupTeardown, loc *time.Location) GroupView {
	v := GroupView{Name: g.Name, Kind: named(cat, lang, "kind."+g.Kind, g.Kind), Channel: g.Channel, Audience: g.Audience,
		Promise: g.Promise, Tone: g.Tone, Rules: g.Rules, Capacity: FormatCount(int64(g.Capacity)),
		Members: FormatCount(int64(g.Members)), Created: localTime(g.Created, loc)}
	for _, r := range g.Routine {
		row := RoutineRow{Kind: named(cat, lang, "rule.kind."+r.Kind, r.Kind), Persona: r.Persona, Text: r.Text,
			Window: r.Window, Enabled: r.Enabled, Scope: cat.T(lang, "report.td.scope_group")}
		if r.AllGrps {
			row.Scope = cat.T(lang, "report.td.scope_all")
		}
		if r.Points != 0 {
			row.Points = FormatCount(r.Points)
		}
		v.Routine = append(v.Routine, row)
	}
	v.Runs = runRows(cat, lang, g.Runs, loc)
	v.Mix = mixView(cat, lang, g.Mix)
	return v
}

func runRows(cat *i18n.Catalog, lang string, runs []StepRun, loc *time.Location) []RunRow {
	var out []RunRow
	for _, r := range runs {
		out = append(out, RunRow{When: localTime(r.RunAt, loc), Playbook: r.Playbook, Content: r.Content,
			Type: named(cat, lang, "cp.type."+r.Type, r.Type), State: named(cat, lang, "cp.state."+r.State, r.State),
			Reason: r.Reason, Sent: fmt.Sprint(r.Sent), Skipped: fmt.Sprint(r.Skipped), Missed: r.State == "skipped" || r.State == "failed"})
	}
	return out
}

// mixView shows a mix as "7 knowledge · 3 promo (30.0%)", planned and sent.
func mixView(cat *i18n.Catalog, lang string, m Mix) MixView {
	show := func(value, sales int, share float64, ok bool) string {
		s := NotANumber
		if ok {
			s = FormatPercent(share)
		}
		return cat.T(lang, "report.td.mix", value, sales, s)
	}
	ps, pok := m.PlannedShare()
	ss, sok := m.SentShare()
	return MixView{Planned: show(m.PlannedValue, m.PlannedSales, ps, pok), Sent: show(m.SentValue, m.SentSales, ss, sok),
		Over: sok && ss > SalesShareMax, None: !pok}
}
