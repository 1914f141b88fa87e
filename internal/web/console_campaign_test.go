package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/campaign"
)

// campaignCount counts a tenant's rows of a campaign table.
func campaignCount(t *testing.T, e *apptest.Env, table string, tenantID int64) int {
	t.Helper()
	var n int
	if err := e.App.DB.R.QueryRow(fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE tenant_id = $1`, table), tenantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// createdID reads the id a create answered with (a redirect to …/{id}).
func createdID(t *testing.T, r apptest.Response, prefix string) int64 {
	t.Helper()
	must(t, r, http.StatusSeeOther)
	var id int64
	if _, err := fmt.Sscanf(r.Header.Get("Location"), prefix+"%d", &id); err != nil || id == 0 {
		t.Fatalf("redirect to %q, want %s{id}", r.Header.Get("Location"), prefix)
	}
	return id
}

// editorForm is the playbook editor's form for a stored playbook, as the
// page would post it back unchanged.
func editorForm(p campaign.Playbook, loc *time.Location) url.Values {
	f := url.Values{"name": {p.Name}, "kind": {string(p.Kind)}, "anchor": {string(p.Anchor)}, "live": {fmt.Sprint(p.LiveID)},
		"steps": {fmt.Sprint(len(p.Steps))}}
	if p.Active {
		f.Set("active", "on")
	}
	if !p.AnchorAt.IsZero() {
		f.Set("anchor_at", p.AnchorAt.In(loc).Format("2006-01-02T15:04"))
	}
	for i, st := range p.Steps {
		pre := fmt.Sprintf("s%d_", i)
		f.Set(pre+"id", fmt.Sprint(st.ID))
		f.Set(pre+"days", fmt.Sprint(st.Days))
		f.Set(pre+"at", st.At)
		f.Set(pre+"minutes", fmt.Sprint(st.Minutes))
		f.Set(pre+"content", fmt.Sprint(st.ContentID))
		f.Set(pre+"target", string(st.Target.Kind))
		for _, g := range st.Target.Groups {
			f.Add(pre+"groups", fmt.Sprint(g))
		}
	}
	return f
}

func localTimes(jobs []campaign.Job, loc *time.Location) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.RunAt.In(loc).Format("2006-01-02 15:04")+" "+string(j.State))
	}
	return out
}

// The campaign engine through the console: the content library with its
// refusals and preview, a playbook refused for a target that reaches
// nobody, a blank playbook edited, the warm-up prepared from a live's
// page (jobs at the tenant's local times), the live moved by a day (its
// pending jobs with it, the sent one not), the calendar, the policy, and
// another tenant's ids.
func TestCampaignConsole(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		b := e.Brand("camp")
		loc := b.Tenant.Location()
		op := e.Client()
		op.Login(b)
		e.Client().Join(b.JoinCode.Code, "小美")
		content := func() int { return campaignCount(t, e, "campaign_content", b.Tenant.ID) }

		// Content: created, listed, filtered.
		item := createdID(t, op.PostForm("/console/content", url.Values{"title": {"护肤干货 #1"}, "type": {"knowledge"}, "format": {"text"},
			"tags": {"干货, 护肤"}, "persona": {"0"}, "text_zh-CN": {"{name}，今天聊聊防晒 👉 {link}"}, "text_en": {"Hi {name}, sunscreen tips 👉 {link}"},
			"link_url": {"https://shop.example/tips"}}), "/console/content/")
		must(t, op.Get("/console/content"), 200, "护肤干货 #1", "data-value", "zh-CN", "en")
		must(t, op.Get("/console/content?type=knowledge&tag=护肤"), 200, "护肤干货 #1")
		if r := op.Get("/console/content?type=promo"); strings.Contains(r.Body, "护肤干货 #1") {
			t.Fatal("a knowledge item listed under promo")
		}
		must(t, op.Get("/console/content?type=spam"), http.StatusBadRequest)
		page := op.Get(fmt.Sprintf("/console/content/%d", item))
		must(t, page, 200, "data-placeholders", "{countdown}", "Hi Amy, sunscreen tips 👉 https://shop.example/tips",
			"Hi everyone, sunscreen tips", "小美，今天聊聊防晒")

		// An unknown placeholder is refused, naming it; the form keeps the
		// input; nothing is stored.
		before := content()
		r := op.PostForm("/console/content", url.Values{"title": {"占位符测试"}, "type": {"promo"}, "format": {"text"},
			"tags": {"预热"}, "text_en": {"Hi {nickname}, {name} and {coupon_code}"}})
		must(t, r, http.StatusBadRequest, "unknown placeholder {nickname}, {coupon_code}", "占位符测试", "Hi {nickname}, {name} and {coupon_code}", `value="预热"`)
		// The same on an update: the stored item is unchanged.
		must(t, op.PostForm(fmt.Sprintf("/console/content/%d", item), url.Values{"title": {"改了"}, "type": {"knowledge"}, "format": {"text"},
			"text_en": {"{bogus}"}}), http.StatusBadRequest, "unknown placeholder {bogus}")
		if c, err := e.App.Campaigns.GetContent(ctx, b.Tenant.ID, item); err != nil || c.Title != "护肤干货 #1" {
			t.Fatalf("refused update changed the item: %+v %v", c, err)
		}
		// Preview of unsaved input stores nothing either.
		must(t, op.PostForm("/console/content", url.Values{"title": {"预览"}, "type": {"promo"}, "format": {"text"},
			"text_en": {"Only {countdown} left"}, "preview": {"1"}}), 200, "data-preview-dm", "days left")
		if n := content(); n != before {
			t.Fatalf("%d items after refusals and a preview, want %d", n, before)
		}

		// Hostile text in a variant previews as text.
		hostile := createdID(t, op.PostForm("/console/content", url.Values{"title": {"<b>标题</b>"}, "type": {"promo"}, "format": {"text"},
			"text_en": {`<script>alert(1)</script><img src=x onerror=alert(2)> {name}`}}), "/console/content/")
		page = op.Get(fmt.Sprintf("/console/content/%d", hostile))
		must(t, page, 200, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; Amy", "&lt;b&gt;标题&lt;/b&gt;")
		if strings.Contains(page.Body, "<script>alert") || strings.Contains(page.Body, "<img src=x") || strings.Contains(page.Body, "<b>标题") {
			t.Fatal("variant text reached the page as markup")
		}

		// A playbook whose only step reaches nobody is refused with the
		// reason, and nothing of it is stored.
		day := time.Now().In(loc).AddDate(0, 0, 5)
		anchor := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
		nobody := url.Values{"name": {"没人收到"}, "kind": {"custom"}, "anchor": {"date"}, "anchor_at": {anchor.Format("2006-01-02T15:04")},
			"active": {"on"}, "steps": {"1"}, "s0_days": {"1"}, "s0_at": {"20:00"}, "s0_content": {fmt.Sprint(item)}, "s0_target": {"dm"},
			"s0_seg_tags": {"nobody-has-this-tag"}}
		must(t, op.PostForm("/console/playbooks", nobody), http.StatusBadRequest, "step 1: the target reaches nobody now", "没人收到", "nobody-has-this-tag")
		nobody.Set("s0_days", "soon")
		must(t, op.PostForm("/console/playbooks", nobody), http.StatusBadRequest, `step 1: the day &#34;soon&#34; is not a whole number`)
		for _, table := range []string{"campaign_playbooks", "campaign_steps", "campaign_jobs"} {
			if n := campaignCount(t, e, table, b.Tenant.ID); n != 0 {
				t.Fatalf("%d rows in %s after refused playbooks", n, table)
			}
		}

		// A blank playbook to a group: saved and armed, then edited.
		pb := createdID(t, op.PostForm("/console/playbooks", url.Values{"name": {"每周干货"}, "kind": {"custom"}, "anchor": {"date"},
			"anchor_at": {anchor.Format("2006-01-02T15:04")}, "active": {"on"}, "steps": {"3"}, "s0_days": {"1"}, "s0_at": {"21:00"},
			"s0_content": {fmt.Sprint(item)}, "s0_target": {"groups"}, "s0_groups": {fmt.Sprint(b.Group.ID)}, "s1_content": {"0"}}),
			"/console/playbooks/")
		jobs, _ := e.App.Campaigns.Jobs(ctx, b.Tenant.ID, pb)
		want := anchor.AddDate(0, 0, 1).Format("2006-01-02") + " 21:00 pending"
		if got := localTimes(jobs, loc); !slices.Equal(got, []string{want}) {
			t.Fatalf("blank playbook's jobs %v, want [%s]", got, want)
		}
		p, err := e.App.Campaigns.GetPlaybook(ctx, b.Tenant.ID, pb)
		if err != nil {
			t.Fatal(err)
		}
		edit := editorForm(p, loc)
		edit.Set("s0_at", "09:30")
		must(t, op.PostForm(fmt.Sprintf("/console/playbooks/%d", pb), edit), http.StatusSeeOther)
		jobs, _ = e.App.Campaigns.Jobs(ctx, b.Tenant.ID, pb)
		want = anchor.AddDate(0, 0, 1).Format("2006-01-02") + " 09:30 pending"
		if got := localTimes(jobs, loc); !slices.Equal(got, []string{want}) {
			t.Fatalf("edited playbook's jobs %v, want [%s]", got, want)
		}
		must(t, op.Get(fmt.Sprintf("/console/playbooks/%d", pb)), 200, "每周干货", "data-jobs", "Group of camp", "pending")

		// The warm-up, prepared from the live's page.
		d := time.Now().In(loc).AddDate(0, 0, 10)
		start := time.Date(d.Year(), d.Month(), d.Day(), 20, 0, 0, 0, loc)
		liveID := createdID(t, op.PostForm("/console/lives", url.Values{"title": {"春季新品直播"}, "scheduled_at": {start.Format("2006-01-02T15:04")},
			"products": {"修护精华 | 129 | 99 | 200\n玫瑰唇釉 | 89 | 69 | 50"}, "groups": {fmt.Sprint(b.Group.ID)}, "alert_repeat": {"1"}, "alert_minutes": {"10"}}), "/console/lives/")
		livePage := fmt.Sprintf("/console/lives/%d", liveID)
		must(t, op.Get(livePage), 200, "data-prepare-warmup", "data-reschedule")
		r = op.PostForm(livePage+"/warmup", url.Values{})
		warm := createdID(t, r, "/console/playbooks/")
		if !strings.HasSuffix(r.Header.Get("Location"), "?armed=5") {
			t.Fatalf("warm-up redirect %q: 5 jobs armed expected", r.Header.Get("Location"))
		}
		must(t, op.Get(fmt.Sprintf("/console/playbooks/%d?armed=5", warm)), 200, "Warm-up · 春季新品直播", "T-3 spoilers", "data-armed")
		jobs, _ = e.App.Campaigns.Jobs(ctx, b.Tenant.ID, warm)
		at := func(days int, clock string) string {
			return start.AddDate(0, 0, days).Format("2006-01-02") + " " + clock + " pending"
		}
		wantWarm := []string{at(-7, "20:00"), at(-3, "20:00"), at(-1, "20:00"), at(0, "10:00"), at(0, "19:50")}
		if got := localTimes(jobs, loc); !slices.Equal(got, wantWarm) {
			t.Fatalf("warm-up jobs\n%v\nwant\n%v", got, wantWarm)
		}
		spoilers, _ := e.App.Campaigns.GetContent(ctx, b.Tenant.ID, jobs[1].ContentID)
		if !strings.Contains(spoilers.Variants["en"], "修护精华, 玫瑰唇釉") {
			t.Fatalf("spoilers without the product list: %q", spoilers.Variants["en"])
		}
		page = op.Get(livePage)
		must(t, page, 200, "Warm-up · 春季新品直播", fmt.Sprintf(`href="/console/playbooks/%d"`, warm))
		if strings.Contains(page.Body, "data-prepare-warmup") {
			t.Fatal("the warm-up button is still offered once the live has its warm-up")
		}
		must(t, op.PostForm(livePage+"/warmup", url.Values{}), http.StatusBadRequest, "already has a warm-up playbook")
		if n := campaignCount(t, e, "campaign_playbooks", b.Tenant.ID); n != 2 {
			t.Fatalf("%d playbooks, want 2", n)
		}

		// The calendar of the live's week: the entries, sales badges, the
		// mix and its warning (two sales sends on the day alone).
		cal := op.Get("/console/calendar?week=" + start.Format("2006-01-02"))
		must(t, cal, 200, "Countdown on the day", "10 minutes before", "data-sales", "data-mix", "data-mix-warning",
			"Group of camp", start.Format("01-02"))
		must(t, op.Get("/console/calendar?week="+start.AddDate(0, 0, -7).Format("2006-01-02")), 200, "T-7 story", "data-value")
		must(t, op.Get("/console/calendar?week=next-week"), http.StatusBadRequest, "is not a date")
		must(t, op.Get("/console/playbooks"), 200, "每周干货", "Warm-up · 春季新品直播", "data-policy")

		// The T-7 post went out; then the live moves by a day: the pending
		// jobs move with it, the sent one stays where it was.
		if _, err := e.App.DB.W.ExecContext(ctx, `UPDATE campaign_jobs SET state = 'sent', sent = 1 WHERE tenant_id = $1 AND id = $2`,
			b.Tenant.ID, jobs[0].ID); err != nil {
			t.Fatal(err)
		}
		must(t, op.PostForm(livePage+"/reschedule", url.Values{"scheduled_at": {"tomorrow"}}), http.StatusBadRequest, "not a date and time")
		must(t, op.PostForm(livePage+"/reschedule", url.Values{"scheduled_at": {start.AddDate(0, 0, 1).Format("2006-01-02T15:04")}}), http.StatusSeeOther)
		l, err := e.App.Lives.Get(ctx, b.Tenant.ID, liveID)
		if err != nil || !l.ScheduledAt.Equal(start.AddDate(0, 0, 1)) {
			t.Fatalf("live at %v (%v), want %v", l.ScheduledAt, err, start.AddDate(0, 0, 1))
		}
		jobs, _ = e.App.Campaigns.Jobs(ctx, b.Tenant.ID, warm)
		wantMoved := []string{strings.Replace(at(-7, "20:00"), "pending", "sent", 1), at(-2, "20:00"), at(0, "20:00"), at(1, "10:00"), at(1, "19:50")}
		if got := localTimes(jobs, loc); !slices.Equal(got, wantMoved) {
			t.Fatalf("after moving the live by a day\n%v\nwant\n%v", got, wantMoved)
		}
		// On air, it cannot move.
		must(t, op.PostForm(livePage+"/start", url.Values{}), http.StatusSeeOther)
		must(t, op.PostForm(livePage+"/reschedule", url.Values{"scheduled_at": {start.AddDate(0, 0, 2).Format("2006-01-02T15:04")}}),
			http.StatusBadRequest, "a live that is live cannot move")
		if page := op.Get(livePage); strings.Contains(page.Body, "data-reschedule") {
			t.Fatal("the reschedule form is offered for a live on air")
		}

		// The policy: refused with the reason (and the input), then set.
		must(t, op.PostForm("/console/policy", url.Values{"quiet_start": {"22:00"}, "quiet_end": {"8am"}, "sales_cap": {"3"}, "cap_days": {"7"}}),
			http.StatusBadRequest, "quiet hours must be HH:MM to HH:MM", `value="8am"`)
		must(t, op.PostForm("/console/policy", url.Values{"quiet_start": {"22:00"}, "quiet_end": {"08:00"}, "sales_cap": {"0"}, "cap_days": {"7"}}),
			http.StatusBadRequest, "the sales cap must be 1 to 50")
		must(t, op.PostForm("/console/policy", url.Values{"quiet_start": {"23:00"}, "quiet_end": {"07:30"}, "sales_cap": {"2"}, "cap_days": {"7"}}),
			http.StatusSeeOther)
		if pol, err := e.App.Campaigns.Policy(ctx, b.Tenant.ID); err != nil || pol.QuietStart != "23:00" || pol.QuietEnd != "07:30" || pol.SalesCap != 2 {
			t.Fatalf("policy %+v %v", pol, err)
		}

		// A template from the playbooks page: the new-member journey.
		journey := createdID(t, op.PostForm("/console/playbooks/template", url.Values{"template": {"new_member"}}), "/console/playbooks/")
		must(t, op.Get(fmt.Sprintf("/console/playbooks/%d", journey)), 200, "New member journey", "Day 7 first-order coupon")
		must(t, op.PostForm("/console/playbooks/template", url.Values{"template": {"warmup"}}), http.StatusBadRequest, "choose the live")
		must(t, op.PostForm("/console/playbooks/template", url.Values{"template": {"mystery"}}), http.StatusBadRequest, "template")

		// Archived content leaves the library list.
		must(t, op.PostForm(fmt.Sprintf("/console/content/%d/archive", hostile), url.Values{}), http.StatusSeeOther)
		if r := op.Get("/console/content"); strings.Contains(r.Body, "&lt;b&gt;标题") {
			t.Fatal("archived item still listed")
		}
		must(t, op.Get("/console/content?archived=1"), 200, "&lt;b&gt;标题")

		// Without the CSRF token nothing is stored.
		saved, items := op.CSRF, content()
		op.CSRF = ""
		must(t, op.PostForm("/console/content", url.Values{"title": {"forged"}, "type": {"knowledge"}, "format": {"text"}, "text_en": {"x"}}), http.StatusForbidden)
		must(t, op.PostForm("/console/playbooks/template", url.Values{"template": {"new_member"}}), http.StatusForbidden)
		must(t, op.PostForm(livePage+"/reschedule", url.Values{"scheduled_at": {start.Format("2006-01-02T15:04")}}), http.StatusForbidden)
		op.CSRF = saved
		if n := content(); n != items {
			t.Fatalf("a forged form stored content: %d items, want %d", n, items)
		}

		// Another tenant's operator: every id of this tenant is "not found",
		// and nothing changes.
		other := e.Brand("camp-other")
		intruder := e.Client()
		intruder.Login(other)
		for _, path := range []string{fmt.Sprintf("/console/content/%d", item), fmt.Sprintf("/console/playbooks/%d", warm)} {
			must(t, intruder.Get(path), http.StatusNotFound)
		}
		for _, path := range []string{fmt.Sprintf("/console/content/%d", item), fmt.Sprintf("/console/content/%d/archive", item),
			fmt.Sprintf("/console/playbooks/%d", warm), fmt.Sprintf("/console/lives/%d/warmup", liveID), fmt.Sprintf("/console/lives/%d/reschedule", liveID)} {
			must(t, intruder.PostForm(path, url.Values{"title": {"hijack"}, "type": {"promo"}, "format": {"text"}, "text_en": {"x"},
				"name": {"hijack"}, "kind": {"custom"}, "anchor": {"date"}, "scheduled_at": {start.Format("2006-01-02T15:04")}}), http.StatusNotFound)
		}
		if c, err := e.App.Campaigns.GetContent(ctx, b.Tenant.ID, item); err != nil || c.Title != "护肤干货 #1" || !c.ArchivedAt.IsZero() {
			t.Fatalf("another tenant changed the item: %+v %v", c, err)
		}
		if p, err := e.App.Campaigns.GetPlaybook(ctx, b.Tenant.ID, warm); err != nil || p.Name != "Warm-up · 春季新品直播" {
			t.Fatalf("another tenant changed the playbook: %+v %v", p, err)
		}
		if r := intruder.Get("/console/calendar?week=" + start.Format("2006-01-02")); strings.Contains(r.Body, "Countdown on the day") {
			t.Fatal("another tenant's calendar shows this tenant's jobs")
		}
		if n := campaignCount(t, e, "campaign_playbooks", other.Tenant.ID) + campaignCount(t, e, "campaign_content", other.Tenant.ID); n != 0 {
			t.Fatalf("the intruder's requests stored %d rows for its own tenant", n)
		}
	})
}

// A job that ran shows, on its playbook's page, each recipient: the one
// queued and the one skipped because they opted out, with the reason.
func TestCampaignSendsShown(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		b := e.Brand("sends")
		loc := b.Tenant.Location()
		op := e.Client()
		op.Login(b)
		e.Client().Join(b.JoinCode.Code, "小美")
		e.Client().Join(b.JoinCode.Code, "阿珍")
		list, err := e.App.Members.List(ctx, b.Tenant.ID, "阿珍", 10, 0)
		if err != nil || len(list.Members) != 1 {
			t.Fatalf("members %+v %v", list, err)
		}
		azhen := list.Members[0].ID
		must(t, op.PostForm(fmt.Sprintf("/console/members/%d/consent", azhen), url.Values{"opted_out": {"true"}}), http.StatusSeeOther)
		// No quiet hours, so the step goes out whenever the test runs.
		must(t, op.PostForm("/console/policy", url.Values{"quiet_start": {"00:00"}, "quiet_end": {"00:00"}, "sales_cap": {"3"}, "cap_days": {"7"}}),
			http.StatusSeeOther)
		item := createdID(t, op.PostForm("/console/content", url.Values{"title": {"新品提醒"}, "type": {"promo"}, "format": {"text"},
			"text_en": {"{name}, new arrivals are in"}}), "/console/content/")
		pb := createdID(t, op.PostForm("/console/playbooks", url.Values{"name": {"现在就发"}, "kind": {"custom"}, "anchor": {"date"},
			"anchor_at": {time.Now().In(loc).Format("2006-01-02T15:04")}, "active": {"on"}, "steps": {"1"}, "s0_days": {"0"},
			"s0_content": {fmt.Sprint(item)}, "s0_target": {"dm"}, "s0_groups": {fmt.Sprint(b.Group.ID)}}), "/console/playbooks/")
		var job campaign.Job
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := e.App.Dispatcher.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			jobs, err := e.App.Campaigns.Jobs(ctx, b.Tenant.ID, pb)
			if err != nil || len(jobs) != 1 {
				t.Fatalf("jobs %+v %v", jobs, err)
			}
			if job = jobs[0]; job.State != campaign.JobPending && job.State != campaign.JobRunning {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the job never ran: %+v", job)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if job.State != campaign.JobSent || job.Sent != 1 || job.Skipped != 1 {
			t.Fatalf("job %+v: one queued, one skipped expected", job)
		}
		page := op.Get(fmt.Sprintf("/console/playbooks/%d", pb))
		must(t, page, 200, `data-outcome="sent"`, `data-outcome="skipped"`, "opted out", fmt.Sprintf(`href="/console/members/%d"`, azhen),
			"DM: in Group of sends", "新品提醒")
	})
}
