package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
)

// The campaign engine in the console: the content library (with a preview
// as members see it), playbooks (from a template or blank, their steps,
// their jobs and what each job sent or skipped), the sending policy, and
// the calendar of a week. Every rule is the campaign package's; this file
// reads forms and shows results.

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", store.ErrInvalid, fmt.Sprintf(format, args...))
}

// splitList reads a list typed with commas (ASCII or Chinese) or one item
// a line.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' || r == '\r' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// intField reads an optional whole number: "" is 0; anything else that is
// not a number is reported.
func intField(r *http.Request, name string) (int64, bool) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func parseIntText(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// ---- Content library ----

type contentRow struct {
	campaign.Content
	Sales   bool
	Locales []string
}

func (s *Server) contentList(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	q := r.URL.Query()
	f := campaign.ContentFilter{Type: campaign.Type(q.Get("type")), Tag: q.Get("tag"), Archived: q.Get("archived") == "1"}
	if f.Type != "" && !slices.Contains(campaign.Types, f.Type) {
		s.fail(w, r, invalidf("type %q is not one of %v", f.Type, campaign.Types))
		return
	}
	items, err := s.Campaigns.ListContent(r.Context(), c.Tenant.ID, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]contentRow, len(items))
	for i, it := range items {
		rows[i] = contentRow{Content: it, Sales: it.Type.Sales()}
		for _, l := range campaign.Locales {
			if strings.TrimSpace(it.Variants[l]) != "" {
				rows[i].Locales = append(rows[i].Locales, l)
			}
		}
	}
	s.render(w, r, "content_list", s.staffPage(c, s.Catalog.T(c.Lang, "cp.content"), "campaigns", map[string]any{
		"Items": rows, "Filter": f, "Types": campaign.Types,
	}))
}

// contentForm is the editor of one item, with its preview.
type contentForm struct {
	Content      campaign.Content
	Tags         string // as typed
	Error        string
	Preview      []previewLocale
	Personas     []bot.Persona
	Types        []campaign.Type
	Formats      []campaign.Format
	Locales      []string
	Placeholders []string
	Archived     bool
}

// previewLocale is an item as a member reading in one language sees it.
type previewLocale struct {
	Locale   string
	Chosen   string // the variant shown (another one when this language has none)
	Fallback bool
	Group    string // posted in a group
	Direct   string // sent privately
}

func (s *Server) contentFormPage(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, f contentForm) {
	f.Personas = s.personasOf(r.Context(), c.Tenant.ID)
	f.Types, f.Formats, f.Locales, f.Placeholders = campaign.Types, campaign.Formats, campaign.Locales, campaign.Placeholders
	if f.Tags == "" {
		f.Tags = strings.Join(f.Content.Tags, ", ")
	}
	title := s.Catalog.T(c.Lang, "cp.content_new")
	if f.Content.ID != 0 {
		title = f.Content.Title
	}
	s.renderStatus(w, r, status, "content_form", s.staffPage(c, title, "campaigns", f))
}

func (s *Server) contentNew(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.contentFormPage(w, r, c, http.StatusOK, contentForm{Content: campaign.Content{Type: campaign.TypeKnowledge, Format: campaign.FormatText}})
}

func (s *Server) contentShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	var item campaign.Content
	if err == nil {
		item, err = s.Campaigns.GetContent(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.contentFormPage(w, r, c, http.StatusOK, contentForm{Content: item, Archived: !item.ArchivedAt.IsZero(),
		Preview: s.preview(r.Context(), c, item)})
}

func contentFromForm(r *http.Request, tenantID int64) (campaign.Content, string) {
	item := campaign.Content{TenantID: tenantID, Title: r.PostFormValue("title"), Type: campaign.Type(r.PostFormValue("type")),
		Format: campaign.Format(r.PostFormValue("format")), PersonaID: formInt(r, "persona"),
		MediaURL: r.PostFormValue("media_url"), LinkURL: r.PostFormValue("link_url"), Variants: map[string]string{}}
	for _, l := range campaign.Locales {
		if v := r.PostFormValue("text_" + l); strings.TrimSpace(v) != "" {
			item.Variants[l] = v
		}
	}
	tags := r.PostFormValue("tags")
	item.Tags = splitList(tags)
	return item, tags
}

// contentSave creates (POST /console/content) or updates (POST
// /console/content/{id}) an item; "preview" shows the typed item as
// members would see it and stores nothing. A refusal comes back as the
// form, as typed, with the reason.
func (s *Server) contentSave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	ctx := r.Context()
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = pathID(r, "id"); err == nil {
			var old campaign.Content
			if old, err = s.Campaigns.GetContent(ctx, c.Tenant.ID, id); err == nil && !old.ArchivedAt.IsZero() {
				err = invalidf("this item is archived")
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	item, tags := contentFromForm(r, c.Tenant.ID)
	item.ID = id
	f := contentForm{Content: item, Tags: tags}
	if r.PostFormValue("preview") != "" {
		check := item
		if err := campaign.ValidateContent(&check); err != nil {
			f.Error = detail(err)
		}
		f.Preview = s.preview(ctx, c, item)
		s.contentFormPage(w, r, c, http.StatusOK, f)
		return
	}
	var err error
	if id == 0 {
		item, err = s.Campaigns.CreateContent(ctx, item)
	} else {
		err = s.Campaigns.UpdateContent(ctx, item)
	}
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			f.Error = detail(err)
			s.contentFormPage(w, r, c, http.StatusBadRequest, f)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/content/%d#preview", item.ID), http.StatusSeeOther)
}

func (s *Server) contentArchive(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Campaigns.ArchiveContent(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/content", http.StatusSeeOther)
}

// sampleVars are the placeholders' values in a preview (the member's name
// is a sample one in each language): the tenant's next live (or a sample one three days ahead), its room as
// the link unless the item has its own.
func (s *Server) sampleVars(ctx context.Context, c *staffCtx, item campaign.Content) campaign.Vars {
	loc := c.Tenant.Location()
	now := time.Now()
	v := campaign.Vars{Brand: c.Tenant.Name, Now: now, Loc: loc, Link: item.LinkURL}
	var next *live.Live
	if lives, err := s.Lives.List(ctx, c.Tenant.ID, 50); err == nil {
		for i := range lives {
			l := &lives[i]
			if (l.State == live.StateScheduled || l.State == live.StateWarming) && l.ScheduledAt.After(now) &&
				(next == nil || l.ScheduledAt.Before(next.ScheduledAt)) {
				next = l
			}
		}
	}
	if next != nil {
		v.LiveTitle, v.LiveAt = next.Title, next.ScheduledAt
		if v.Link == "" {
			v.Link = s.Runner.LiveURL(c.Tenant, next.ID)
		}
	} else {
		d := now.In(loc).AddDate(0, 0, 3)
		v.LiveTitle, v.LiveAt = s.Catalog.T(c.Lang, "cp.sample_live"), time.Date(d.Year(), d.Month(), d.Day(), 20, 0, 0, 0, loc)
		if v.Link == "" {
			v.Link = fmt.Sprintf("%s/l/%s", s.PublicURL, c.Tenant.Slug)
		}
	}
	return v
}

// preview renders item in each language, as a group post and as a
// private message.
func (s *Server) preview(ctx context.Context, c *staffCtx, item campaign.Content) []previewLocale {
	v := s.sampleVars(ctx, c, item)
	var out []previewLocale
	for _, lang := range campaign.Locales {
		text, chosen := campaign.Variant(item, lang, c.Tenant.Locale)
		direct := v
		direct.Name = s.Catalog.T(lang, "cp.sample_name") // a member reading this language
		group := v
		group.Group = true
		out = append(out, previewLocale{Locale: lang, Chosen: chosen, Fallback: chosen != lang,
			Group: campaign.Fill(text, chosen, group), Direct: campaign.Fill(text, chosen, direct)})
	}
	return out
}

// ---- Playbooks ----

type playbookRow struct {
	campaign.Playbook
	LiveTitle                      string
	Pending, Sent, Skipped, Failed int
}

type policyForm struct {
	QuietStart, QuietEnd, SalesCap, CapDays string
	Error                                   string
}

func policyFormOf(p campaign.Policy) policyForm {
	return policyForm{QuietStart: p.QuietStart, QuietEnd: p.QuietEnd, SalesCap: strconv.Itoa(p.SalesCap),
		CapDays: strconv.Itoa(int(p.CapWindow / (24 * time.Hour)))}
}

func (s *Server) playbooks(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	s.playbooksPage(w, r, c, http.StatusOK, nil)
}

// playbooksPage lists the playbooks with their jobs' counts, the
// templates and the policy form (pol: the policy as typed, when refused).
func (s *Server) playbooksPage(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, pol *policyForm) {
	ctx := r.Context()
	pbs, err := s.Campaigns.ListPlaybooks(ctx, c.Tenant.ID, 0)
	var jobs []campaign.Job
	if err == nil {
		jobs, err = s.Campaigns.Jobs(ctx, c.Tenant.ID, 0)
	}
	var lives []live.Live
	if err == nil {
		lives, err = s.Lives.List(ctx, c.Tenant.ID, 50)
	}
	if pol == nil && err == nil {
		var p campaign.Policy
		p, err = s.Campaigns.Policy(ctx, c.Tenant.ID)
		f := policyFormOf(p)
		pol = &f
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	titles := map[int64]string{}
	for _, l := range lives {
		titles[l.ID] = l.Title
	}
	rows := make([]playbookRow, len(pbs))
	index := map[int64]*playbookRow{}
	for i, p := range pbs {
		rows[i] = playbookRow{Playbook: p, LiveTitle: titles[p.LiveID]}
		index[p.ID] = &rows[i]
	}
	for _, j := range jobs {
		row := index[j.PlaybookID]
		if row == nil {
			continue
		}
		switch j.State {
		case campaign.JobPending, campaign.JobRunning:
			row.Pending++
		case campaign.JobSent:
			row.Sent++
		case campaign.JobSkipped:
			row.Skipped++
		case campaign.JobFailed:
			row.Failed++
		}
	}
	var upcoming []live.Live
	for _, l := range lives {
		if l.State == live.StateScheduled || l.State == live.StateWarming {
			upcoming = append(upcoming, l)
		}
	}
	s.renderStatus(w, r, status, "playbooks", s.staffPage(c, s.Catalog.T(c.Lang, "cp.playbooks"), "campaigns", map[string]any{
		"Playbooks": rows, "Upcoming": upcoming, "Lives": lives, "Policy": pol,
	}))
}

func (s *Server) policySave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	f := policyForm{QuietStart: strings.TrimSpace(r.PostFormValue("quiet_start")), QuietEnd: strings.TrimSpace(r.PostFormValue("quiet_end")),
		SalesCap: r.PostFormValue("sales_cap"), CapDays: r.PostFormValue("cap_days")}
	capN, ok1 := parseIntText(f.SalesCap)
	days, ok2 := parseIntText(f.CapDays)
	days = min(max(days, -1), campaign.MaxCapWindowDays+1) // no overflow on the way to Validate
	var err error
	if !ok1 || !ok2 {
		err = invalidf("the sales cap and its window are whole numbers")
	} else {
		err = s.Campaigns.SetPolicy(r.Context(), c.Tenant.ID, campaign.Policy{QuietStart: f.QuietStart, QuietEnd: f.QuietEnd,
			SalesCap: int(capN), CapWindow: time.Duration(days) * 24 * time.Hour})
	}
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			f.Error = detail(err)
			s.playbooksPage(w, r, c, http.StatusBadRequest, &f)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/playbooks#policy", http.StatusSeeOther)
}

// savePlaybook stores p and schedules its jobs, in one transaction.
func (s *Server) savePlaybook(ctx context.Context, p campaign.Playbook) (campaign.Playbook, int, error) {
	var saved campaign.Playbook
	n := 0
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if saved, err = s.Campaigns.SavePlaybookTx(ctx, tx, p); err != nil {
			return err
		}
		n, err = s.Campaigns.ArmTx(ctx, tx, saved.TenantID, saved.ID)
		return err
	})
	if err != nil {
		return p, 0, err // p as given: a new one has no id
	}
	return saved, n, nil
}

// fromTemplate creates a ready-made playbook — its content, the playbook
// and its jobs in one transaction, so a refused save leaves nothing
// behind; a live has one warm-up.
func (s *Server) fromTemplate(ctx context.Context, tenantID int64, kind campaign.Kind, liveID int64) (campaign.Playbook, int, error) {
	var saved campaign.Playbook
	n := 0
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var l live.Live
		if kind == campaign.KindWarmup || kind == campaign.KindPostLive {
			if liveID <= 0 {
				return invalidf("choose the live")
			}
			var err error
			if l, err = s.Lives.GetIn(ctx, tx, tenantID, liveID); err != nil {
				return err
			}
		}
		if kind == campaign.KindWarmup {
			// Checked inside the transaction (SQLite's single writer
			// orders two clicks; PostgreSQL: see the note in the issue).
			var existing int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_playbooks WHERE tenant_id = $1 AND live_id = $2 AND kind = 'warmup'`,
				tenantID, liveID).Scan(&existing); err != nil {
				return err
			}
			if existing > 0 {
				return invalidf("this live already has a warm-up playbook")
			}
		}
		var p campaign.Playbook
		var err error
		switch kind {
		case campaign.KindWarmup:
			if l.State != live.StateScheduled && l.State != live.StateWarming {
				return invalidf("the live is %s: a warm-up is for a live that has not started", l.State)
			}
			p, err = s.Campaigns.WarmupFor(ctx, tx, l, campaign.TemplateOptions{})
		case campaign.KindPostLive:
			p, err = s.Campaigns.PostLive(ctx, tx, l, campaign.TemplateOptions{})
		case campaign.KindNewMember:
			p, err = s.Campaigns.NewMemberJourney(ctx, tx, tenantID, campaign.TemplateOptions{})
		default:
			return invalidf("template %q is not one of warmup, post_live, new_member", kind)
		}
		if err != nil {
			return err
		}
		if saved, err = s.Campaigns.SavePlaybookTx(ctx, tx, p); err != nil {
			return err
		}
		n, err = s.Campaigns.ArmTx(ctx, tx, saved.TenantID, saved.ID)
		return err
	})
	return saved, n, err
}

// playbookTemplate creates a playbook from a template (POST
// /console/playbooks/template) and opens its editor.
func (s *Server) playbookTemplate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	p, n, err := s.fromTemplate(r.Context(), c.Tenant.ID, campaign.Kind(r.PostFormValue("template")), formInt(r, "live"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/playbooks/%d?armed=%d", p.ID, n), http.StatusSeeOther)
}

// stepRow is one step of the editor as typed (numbers kept as text, so a
// refused form comes back as it was).
type stepRow struct {
	Index, Number                        int
	ID                                   int64
	Days, At, Minutes                    string
	Best                                 bool
	Content                              int64
	Target                               campaign.TargetKind
	Groups                               map[int64]bool
	SegTags, SegMinPoints, SegActiveDays string
	SegMinTier                           int64 // a tier's rank (0: any)
	SegJoinSource, SegWished             string
	SegGroup                             int64
	Removed                              bool
}

// blankSteps is how many empty steps the editor offers.
const blankSteps = 2

func itoa(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func rowsOf(p campaign.Playbook) []stepRow {
	var rows []stepRow
	for _, st := range p.Steps {
		row := stepRow{ID: st.ID, Days: strconv.Itoa(st.Days), At: st.At, Minutes: itoa(int64(st.Minutes)), Best: st.BestTime,
			Content: st.ContentID, Target: st.Target.Kind, Groups: map[int64]bool{},
			SegTags: strings.Join(st.Target.Segment.Tags, ", "), SegMinPoints: itoa(st.Target.Segment.MinPoints),
			SegActiveDays: itoa(int64(st.Target.Segment.ActiveDays)), SegJoinSource: st.Target.Segment.JoinSource,
			SegWished: st.Target.Segment.WishedProduct, SegGroup: st.Target.Segment.GroupID, SegMinTier: int64(st.Target.Segment.MinTier)}
		for _, g := range st.Target.Groups {
			row.Groups[g] = true
		}
		rows = append(rows, row)
	}
	return rows
}

func withBlanks(rows []stepRow) []stepRow {
	for range blankSteps {
		rows = append(rows, stepRow{Days: "0", Target: campaign.TargetGroups, Groups: map[int64]bool{}})
	}
	for i := range rows {
		rows[i].Index, rows[i].Number = i, i+1
	}
	return rows
}

func rowsFromForm(r *http.Request) []stepRow {
	n := int(formInt(r, "steps"))
	n = min(max(n, 0), campaign.MaxSteps+blankSteps+10)
	var rows []stepRow
	for i := range n {
		pre := fmt.Sprintf("s%d_", i)
		v := func(name string) string { return r.PostFormValue(pre + name) }
		row := stepRow{ID: formInt(r, pre+"id"), Days: v("days"), At: strings.TrimSpace(v("at")), Minutes: v("minutes"),
			Best: v("best") == "on", Content: formInt(r, pre+"content"), Target: campaign.TargetKind(v("target")),
			Groups: map[int64]bool{}, SegTags: v("seg_tags"), SegMinPoints: v("seg_min_points"), SegActiveDays: v("seg_active_days"),
			SegJoinSource: v("seg_join_source"), SegWished: v("seg_wished"), SegGroup: formInt(r, pre+"seg_group"),
			SegMinTier: max(formInt(r, pre+"seg_min_tier"), 0),
			Removed:    v("remove") == "on"}
		for _, g := range r.PostForm[pre+"groups"] {
			if id, err := strconv.ParseInt(g, 10, 64); err == nil {
				row.Groups[id] = true
			}
		}
		if row.ID == 0 && row.Content == 0 {
			continue // an empty step
		}
		rows = append(rows, row)
	}
	return rows
}

// stepsOf turns the typed steps into the playbook's (removed ones left
// out), naming the numbers that are not numbers.
func stepsOf(rows []stepRow) ([]campaign.Step, []string) {
	var steps []campaign.Step
	var problems []string
	for _, row := range rows {
		if row.Removed {
			continue
		}
		pos := len(steps) + 1
		num := func(what, text string) int64 {
			n, ok := parseIntText(text)
			if !ok {
				problems = append(problems, fmt.Sprintf("step %d: %s %q is not a whole number", pos, what, text))
			}
			return n
		}
		days, minutes := num("the day", row.Days), num("the minute offset", row.Minutes)
		seg := campaign.Segment{Tags: splitList(row.SegTags), MinPoints: num("minimum points", row.SegMinPoints),
			ActiveDays: int(num("active days", row.SegActiveDays)), JoinSource: row.SegJoinSource, WishedProduct: row.SegWished,
			GroupID: row.SegGroup, MinTier: int(row.SegMinTier)}
		var groups []int64
		for g, on := range row.Groups {
			if on {
				groups = append(groups, g)
			}
		}
		slices.Sort(groups)
		steps = append(steps, campaign.Step{ID: row.ID, Days: int(days), At: row.At, Minutes: int(minutes), BestTime: row.Best,
			ContentID: row.Content, Target: campaign.Target{Kind: row.Target, Groups: groups, Segment: seg}})
	}
	return steps, problems
}

type jobRow struct {
	campaign.Job
	Title  string // the content's
	Target string
	Sends  []sendRow
	More   int // sends not listed
}

type sendRow struct {
	campaign.Send
	Who string
}

// maxSendsShown bounds the send records listed per job.
const maxSendsShown = 50

// playbookForm is the editor of a playbook, and its jobs.
type playbookForm struct {
	P        campaign.Playbook
	AnchorAt string // datetime-local, tenant time
	Rows     []stepRow
	Error    string
	Armed    string // how many jobs the last save scheduled
	Contents []campaign.Content
	Groups   []community.Group
	Tiers    []commerce.Tier // for a segment's minimum tier
	Lives    []live.Live
	Kinds    []campaign.Kind
	Anchors  []campaign.Anchor
	Targets  []campaign.TargetKind
	Jobs     []jobRow
	HasJobs  bool
}

func (s *Server) playbookFormPage(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, f playbookForm) {
	ctx := r.Context()
	var err error
	if f.Contents, err = s.Campaigns.ListContent(ctx, c.Tenant.ID, campaign.ContentFilter{}); err != nil {
		s.fail(w, r, err)
		return
	}
	// A step keeps showing its content after it was archived (saving then
	// says so).
	listed := map[int64]bool{}
	for _, it := range f.Contents {
		listed[it.ID] = true
	}
	for _, row := range f.Rows {
		if row.Content != 0 && !listed[row.Content] {
			listed[row.Content] = true
			if it, err := s.Campaigns.GetContent(ctx, c.Tenant.ID, row.Content); err == nil {
				f.Contents = append(f.Contents, it)
			}
		}
	}
	if f.Groups, err = s.Community.Groups(ctx, c.Tenant.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Lives, err = s.Lives.List(ctx, c.Tenant.ID, 50); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Commerce != nil {
		if f.Tiers, err = s.Commerce.Tiers(ctx, c.Tenant.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	f.Kinds, f.Anchors, f.Targets = campaign.Kinds, campaign.Anchors, []campaign.TargetKind{campaign.TargetGroups, campaign.TargetDM}
	f.Rows = withBlanks(f.Rows)
	if f.P.ID != 0 {
		if err := s.loadJobs(ctx, c, &f, groupNames(f.Groups)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	title := s.Catalog.T(c.Lang, "cp.playbook_new")
	if f.P.ID != 0 {
		title = f.P.Name
	}
	s.renderStatus(w, r, status, "playbook", s.staffPage(c, title, "campaigns", f))
}

// loadJobs lists the playbook's jobs and, for those that ran, what each
// recipient got or why it was skipped.
func (s *Server) loadJobs(ctx context.Context, c *staffCtx, f *playbookForm, groups map[int64]string) error {
	jobs, err := s.Campaigns.Jobs(ctx, c.Tenant.ID, f.P.ID)
	if err != nil {
		return err
	}
	targets := map[int64]campaign.Target{}
	for _, st := range f.P.Steps {
		targets[st.ID] = st.Target
	}
	titles := map[int64]string{}
	for _, it := range f.Contents {
		titles[it.ID] = it.Title
	}
	for _, j := range jobs {
		row := jobRow{Job: j, Title: titles[j.ContentID], Target: s.targetText(c.Lang, j, targets[j.StepID], groups)}
		if j.Sent+j.Skipped > 0 {
			sends, err := s.Campaigns.Sends(ctx, c.Tenant.ID, j.ID)
			if err != nil {
				return err
			}
			if len(sends) > maxSendsShown {
				row.More = len(sends) - maxSendsShown
				sends = sends[:maxSendsShown]
			}
			for _, sd := range sends {
				who := groups[sd.GroupID]
				if sd.MemberID != 0 {
					who = fmt.Sprintf("#%d", sd.MemberID)
				}
				row.Sends = append(row.Sends, sendRow{Send: sd, Who: who})
			}
		}
		f.Jobs = append(f.Jobs, row)
	}
	f.HasJobs = len(f.Jobs) > 0
	return nil
}

// targetText says who a job reaches: the group of a post, or the segment
// of private messages ("DM: …").
func (s *Server) targetText(lang string, j campaign.Job, t campaign.Target, groups map[int64]string) string {
	if j.GroupID != 0 {
		if name, ok := groups[j.GroupID]; ok {
			return name
		}
		return fmt.Sprintf("#%d", j.GroupID)
	}
	if j.MemberID != 0 {
		return s.Catalog.T(lang, "cp.dm_member", j.MemberID)
	}
	return s.Catalog.T(lang, "cp.dm", s.segmentText(lang, t, groups))
}

// segmentText describes a private-message audience.
func (s *Server) segmentText(lang string, t campaign.Target, groups map[int64]string) string {
	seg := t.Segment
	var parts []string
	if len(seg.Tags) > 0 {
		parts = append(parts, s.Catalog.T(lang, "cp.seg_text.tags", strings.Join(seg.Tags, ", ")))
	}
	if seg.MinPoints > 0 {
		parts = append(parts, s.Catalog.T(lang, "cp.seg_text.points", seg.MinPoints))
	}
	if seg.MinTier > 0 {
		parts = append(parts, s.Catalog.T(lang, "cp.seg_text.tier", seg.MinTier))
	}
	if seg.ActiveDays > 0 {
		parts = append(parts, s.Catalog.T(lang, "cp.seg_text.active", seg.ActiveDays))
	}
	if seg.JoinSource != "" {
		parts = append(parts, s.Catalog.T(lang, "cp.seg_text.source", seg.JoinSource))
	}
	if seg.WishedProduct != "" {
		parts = append(parts, s.Catalog.T(lang, "cp.seg_text.wished", seg.WishedProduct))
	}
	in := t.Groups
	if seg.GroupID != 0 {
		in = append(slices.Clone(in), seg.GroupID)
	}
	if len(in) > 0 {
		var names []string
		for _, g := range in {
			names = append(names, groups[g])
		}
		parts = append(parts, s.Catalog.T(lang, "cp.seg_text.groups", strings.Join(names, ", ")))
	}
	if len(parts) == 0 {
		return s.Catalog.T(lang, "cp.seg_text.everyone")
	}
	return strings.Join(parts, " · ")
}

func (s *Server) playbookNew(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	p := campaign.Playbook{Kind: campaign.KindCustom, Anchor: campaign.AnchorDate, Active: true}
	at := time.Now().In(c.Tenant.Location()).AddDate(0, 0, 1)
	s.playbookFormPage(w, r, c, http.StatusOK, playbookForm{P: p,
		AnchorAt: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, at.Location()).Format(datetimeLocal)})
}

func (s *Server) playbookShow(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	var p campaign.Playbook
	if err == nil {
		p, err = s.Campaigns.GetPlaybook(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := playbookForm{P: p, Rows: rowsOf(p), Armed: r.URL.Query().Get("armed")}
	if !p.AnchorAt.IsZero() {
		f.AnchorAt = p.AnchorAt.In(c.Tenant.Location()).Format(datetimeLocal)
	}
	s.playbookFormPage(w, r, c, http.StatusOK, f)
}

// playbookSave creates (POST /console/playbooks) or updates (POST
// /console/playbooks/{id}) a playbook and arms it. A refusal — a step's
// content with an unknown placeholder, a target reaching nobody, … —
// comes back as the editor, as typed, with the reason; nothing is stored.
func (s *Server) playbookSave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	ctx := r.Context()
	var old campaign.Playbook
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id")
		if err == nil {
			old, err = s.Campaigns.GetPlaybook(ctx, c.Tenant.ID, id)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p := campaign.Playbook{ID: old.ID, TenantID: c.Tenant.ID, Name: r.PostFormValue("name"), Kind: campaign.Kind(r.PostFormValue("kind")),
		Anchor: campaign.Anchor(r.PostFormValue("anchor")), Active: r.PostFormValue("active") == "on"}
	f := playbookForm{AnchorAt: r.PostFormValue("anchor_at"), Rows: rowsFromForm(r)}
	steps, problems := stepsOf(f.Rows)
	p.Steps = steps
	switch p.Anchor {
	case campaign.AnchorLiveStart, campaign.AnchorLiveEnd:
		p.LiveID = formInt(r, "live")
	case campaign.AnchorDate:
		if strings.TrimSpace(f.AnchorAt) != "" {
			at, err := time.ParseInLocation(datetimeLocal, f.AnchorAt, c.Tenant.Location())
			if err != nil {
				problems = append(problems, "the date is not a date and time")
			}
			p.AnchorAt = at
		}
	}
	f.P = p
	f.P.Steps = old.Steps // the jobs listed below are the stored steps'
	var err error
	if len(problems) > 0 {
		err = invalidf("%s", strings.Join(problems, "; "))
	}
	n := 0
	if err == nil {
		p, n, err = s.savePlaybook(ctx, p)
	}
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			f.Error = detail(err)
			s.playbookFormPage(w, r, c, http.StatusBadRequest, f)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/playbooks/%d?armed=%d", p.ID, n), http.StatusSeeOther)
}

// ---- Live page: warm-up and reschedule ----

// livePost starts a form post on a live of the staff's tenant: the body
// capped, the live's id checked; false when it answered with the error.
func (s *Server) livePost(w http.ResponseWriter, r *http.Request, c *staffCtx) (int64, bool) {
	limitBody(w, r)
	id, err := pathID(r, "id")
	if err == nil {
		_, err = s.Lives.Head(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return 0, false
	}
	return id, true
}

// liveWarmup creates the live's warm-up playbook, pre-filled from its
// product list, and opens its editor.
func (s *Server) liveWarmup(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	id, ok := s.livePost(w, r, c)
	if !ok {
		return
	}
	p, n, err := s.fromTemplate(ctx, c.Tenant.ID, campaign.KindWarmup, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/playbooks/%d?armed=%d", p.ID, n), http.StatusSeeOther)
}

// liveReschedule moves a live that is not on air yet, and its pending
// campaign steps with it, in one transaction.
func (s *Server) liveReschedule(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	id, ok := s.livePost(w, r, c)
	if !ok {
		return
	}
	at, err := time.ParseInLocation(datetimeLocal, r.PostFormValue("scheduled_at"), c.Tenant.Location())
	if err != nil {
		s.fail(w, r, invalidf("the new start is not a date and time"))
		return
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		l, err := s.Lives.RescheduleTx(ctx, tx, c.Tenant.ID, id, at)
		if err != nil {
			return err
		}
		if _, err = s.Campaigns.Reanchor(ctx, tx, c.Tenant.ID, id, l.ScheduledAt); err != nil {
			return err
		}
		// Steps left out as too late may be due again at the new time.
		_, err = s.Campaigns.ArmLiveTx(ctx, tx, c.Tenant.ID, id)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/lives/%d", id), http.StatusSeeOther)
}

// livePlaybooks is what the live page shows of the campaign engine.
func (s *Server) livePlaybooks(ctx context.Context, c *staffCtx, l live.Live) (pbs []campaign.Playbook, canWarmup bool, err error) {
	if s.Campaigns == nil {
		return nil, false, nil
	}
	if pbs, err = s.Campaigns.ListPlaybooks(ctx, c.Tenant.ID, l.ID); err != nil {
		return nil, false, err
	}
	canWarmup = l.State == live.StateScheduled || l.State == live.StateWarming
	for _, p := range pbs {
		if p.Kind == campaign.KindWarmup {
			canWarmup = false
		}
	}
	return pbs, canWarmup, nil
}

// ---- Calendar ----

type calEntry struct {
	campaign.CalendarEntry
	Clock  string
	Sales  bool
	Target string
}

type calDay struct {
	Date    time.Time
	Entries []calEntry
}

// calendar is a week of jobs (GET /console/calendar?week=YYYY-MM-DD, any
// day of the week, tenant time) with the week's mix and its warnings.
func (s *Server) calendar(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	loc := c.Tenant.Location()
	day := time.Now().In(loc)
	if q := r.URL.Query().Get("week"); q != "" {
		d, err := time.ParseInLocation("2006-01-02", q, loc)
		if err != nil {
			s.fail(w, r, invalidf("week %q is not a date (YYYY-MM-DD)", q))
			return
		}
		day = d
	}
	monday := time.Date(day.Year(), day.Month(), day.Day()-(int(day.Weekday())+6)%7, 0, 0, 0, 0, loc)
	next := monday.AddDate(0, 0, 7)
	cal, err := s.Campaigns.Calendar(ctx, c.Tenant.ID, monday, next)
	var pbs []campaign.Playbook
	if err == nil {
		pbs, err = s.Campaigns.ListPlaybooks(ctx, c.Tenant.ID, 0)
	}
	var groups []community.Group
	if err == nil {
		groups, err = s.Community.Groups(ctx, c.Tenant.ID)
	}
	var pol campaign.Policy
	if err == nil {
		pol, err = s.Campaigns.Policy(ctx, c.Tenant.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := groupNames(groups)
	targets := map[int64]campaign.Target{}
	for _, p := range pbs {
		for _, st := range p.Steps {
			targets[st.ID] = st.Target
		}
	}
	var days [7]calDay
	for i := range days {
		days[i].Date = monday.AddDate(0, 0, i)
	}
	shown := 0
	for _, e := range cal.Entries {
		if e.State == campaign.JobCancelled {
			continue // not going out: the step changed or the playbook was paused
		}
		shown++
		local := e.RunAt.In(loc)
		for i := 6; i >= 0; i-- {
			if !local.Before(days[i].Date) {
				days[i].Entries = append(days[i].Entries, calEntry{CalendarEntry: e, Clock: local.Format("15:04"),
					Sales: e.ContentType.Sales(), Target: s.targetText(c.Lang, e.Job, targets[e.StepID], names)})
				break
			}
		}
	}
	mix := campaign.WeekMix{Start: monday}
	for _, wm := range cal.Weeks {
		if wm.Start.Equal(monday) {
			mix = wm
		}
	}
	percent := 0
	if total := mix.Value + mix.Sales; total > 0 {
		percent = (mix.Sales*100 + total/2) / total
	}
	week := func(t time.Time) string {
		return "/console/calendar?" + url.Values{"week": {t.Format("2006-01-02")}}.Encode()
	}
	s.render(w, r, "calendar", s.staffPage(c, s.Catalog.T(c.Lang, "cp.calendar"), "campaigns", map[string]any{
		"Days": days, "Mix": mix, "Percent": percent, "Policy": pol, "CapDays": int(pol.CapWindow / (24 * time.Hour)),
		"Monday": monday, "Sunday": next.AddDate(0, 0, -1), "Prev": week(monday.AddDate(0, 0, -7)), "Next": week(next),
		"Entries": shown,
	}))
}
