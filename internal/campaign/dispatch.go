package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
)

// MaxJobAttempts bounds how often a job is claimed again after its worker
// did not finish it (a crash, an error): then it fails with the reason.
const MaxJobAttempts = 5

// Reasons recorded on jobs and sends.
const (
	ReasonQuiet    = "deferred: quiet hours"
	ReasonOptedOut = "opted out"
	// ReasonLiveStarted cancels a warm-up step the live overtook.
	ReasonLiveStarted = "the live started before this step"
	ReasonNobody      = "the target reaches nobody now"
)

// Dispatcher sends the due jobs of the queue through the outbox.
type Dispatcher struct {
	DB     *store.DB
	Outbox *outbox.Outbox
	Now    func() time.Time // nil: time.Now
	// Policy applies to tenants that have not set their own (zero:
	// DefaultPolicy).
	Policy Policy
	// Route, when set, names the channel of a group post (memberID 0) or
	// of a private message (groupID 0). Without it a post goes through
	// its group's channel and a private message through the channel of
	// the member's group — one the step targets, else the one they joined
	// last — as the rule runner does; "web" when they are in none. It is
	// called inside the job's transaction: it must not write through
	// DB.W (on SQLite that would wait for the transaction forever).
	Route func(ctx context.Context, tenantID, groupID, memberID int64) (string, error)
	// Link, when set, gives the tracked link ({link}, link and card
	// buttons) for a job's recipient (memberID 0: a group post); without
	// it the content's link is used.
	Link func(ctx context.Context, j Job, c Content, memberID int64) (string, error)
	// Track, when set, makes the links of a message tracked links (the
	// content item and the step are known here), inside the job's
	// transaction, just before the message is queued.
	Track func(ctx context.Context, tx *store.Tx, it *outbox.Item, j Job, c Content) error
	// Lease is how long a claim lasts (default 30 seconds): a crashed
	// worker's jobs are taken again once it passes, so it is short; a
	// job's dispatch is one transaction of seconds even for thousands of
	// recipients. Batch jobs are claimed at once (default 5), so the last
	// of a batch starts well within the lease.
	Lease  time.Duration
	Batch  int
	Poll   time.Duration // Run's pause when nothing is due (default 5 seconds)
	Logger *slog.Logger
}

var errLeaseLost = errors.New("campaign: the job's lease passed to another worker")

func (d *Dispatcher) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

func (d *Dispatcher) policy() Policy {
	if d.Policy == (Policy{}) {
		return DefaultPolicy()
	}
	return d.Policy
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// Run dispatches due jobs until ctx ends: a batch, then the next at once
// if the batch was full, else after Poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	poll := d.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		n, err := d.RunDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.logger().Error("campaign: dispatch", "err", err)
		}
		next := poll
		if err == nil && n > 0 && n >= d.batch() {
			next = 0
		}
		timer.Reset(next)
	}
}

func (d *Dispatcher) batch() int {
	if d.Batch <= 0 {
		return 5
	}
	return d.Batch
}

// RunDue claims the due jobs (one batch) and dispatches each in its own
// transaction; it returns how many it claimed. A job whose dispatch fails
// stays claimed until its lease ends, then is taken again (MaxJobAttempts
// times at most); the errors are joined.
func (d *Dispatcher) RunDue(ctx context.Context) (int, error) {
	lease := d.Lease
	if lease <= 0 {
		lease = 30 * time.Second
	}
	jobs, err := New(d.DB, d.now).Claim(ctx, d.now(), lease, d.batch())
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, j := range jobs {
		if err := d.Dispatch(ctx, j); err != nil {
			errs = append(errs, fmt.Errorf("campaign: job %d (%s): %w", j.ID, j.Key, err))
		}
	}
	return len(jobs), errors.Join(errs...)
}

// Dispatch carries out one claimed job in one transaction: quiet hours
// defer it; otherwise its recipients are resolved, each either queued in
// the outbox (keys <job key> for a post, <job key>:m<member> for a private
// message) or skipped with the reason, every outcome recorded in
// campaign_sends, and the job marked done — only if this claim (its
// Attempts) still holds; if another worker took the job since, everything
// is rolled back and Dispatch returns nil.
func (d *Dispatcher) Dispatch(ctx context.Context, j Job) error {
	err := d.DB.InTx(ctx, func(tx *store.Tx) error { return d.dispatch(ctx, tx, j) })
	if errors.Is(err, errLeaseLost) {
		d.logger().Info("campaign: job taken over by another worker", "job", j.ID)
		return nil
	}
	return err
}

// outcome is what a job did, recipient by recipient.
type outcome struct {
	state   JobState
	reason  string
	sent    int
	skipped map[string]int
}

func (o *outcome) skip(reason string) {
	if o.skipped == nil {
		o.skipped = map[string]int{}
	}
	o.skipped[reason]++
}

func (o *outcome) skips() int {
	n := 0
	for _, k := range o.skipped {
		n += k
	}
	return n
}

// summary is the job's reason: the single reason, or each with its count.
func (o *outcome) summary() string {
	if o.reason != "" {
		return o.reason
	}
	var parts []string
	for r, n := range o.skipped {
		parts = append(parts, fmt.Sprintf("%s (%d)", r, n))
	}
	sort.Strings(parts)
	if len(parts) == 1 && o.sent == 0 {
		return strings.TrimSuffix(parts[0], fmt.Sprintf(" (%d)", o.skips()))
	}
	if len(parts) > 0 {
		return "skipped: " + strings.Join(parts, ", ")
	}
	return ""
}

// send is what the job's recipients share.
type send struct {
	j      Job
	c      Content
	b      brand
	pol    Policy
	now    time.Time
	vars   Vars
	sender struct {
		name, avatar string
		persona      int64
	}
}

func (d *Dispatcher) dispatch(ctx context.Context, tx *store.Tx, j Job) error {
	if j.Attempts > MaxJobAttempts {
		return finish(ctx, tx, j, outcome{state: JobFailed,
			reason: fmt.Sprintf("gave up after %d attempts (the dispatch kept failing)", MaxJobAttempts)}, d.now())
	}
	sd := send{j: j, now: d.now()}
	var err error
	if sd.b, err = loadBrand(ctx, tx, j.TenantID); err != nil {
		return err
	}
	if sd.pol, err = tenantPolicy(ctx, tx, j.TenantID, d.policy()); err != nil {
		return err
	}
	if until, quiet := sd.pol.QuietUntil(sd.now, sd.b.loc); quiet {
		return deferJob(ctx, tx, j, until)
	}
	sd.c, err = getContent(ctx, tx, j.TenantID, j.ContentID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return finish(ctx, tx, j, outcome{state: JobSkipped, reason: "content deleted"}, sd.now)
	case err != nil:
		return err
	case !sd.c.ArchivedAt.IsZero():
		return finish(ctx, tx, j, outcome{state: JobSkipped, reason: "content archived"}, sd.now)
	}
	if sd.c.Type.Sales() && d.DB.Dialect == store.Postgres {
		// Sales caps count earlier sends: two workers must not both see
		// "2 so far" for the same tenant and both send the third.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7270121, CAST(CAST($1 AS BIGINT) % 2147483647 AS INTEGER))`, j.TenantID); err != nil {
			return err
		}
	}
	if err := d.prepare(ctx, tx, &sd); err != nil {
		return err
	}
	var out outcome
	if j.GroupID != 0 {
		out, err = d.toGroup(ctx, tx, sd)
	} else {
		out, err = d.toMembers(ctx, tx, sd)
	}
	if err != nil {
		return err
	}
	return finish(ctx, tx, j, out, sd.now)
}

// prepare loads who speaks and the live the placeholders name.
func (d *Dispatcher) prepare(ctx context.Context, tx *store.Tx, sd *send) error {
	sd.sender.name = sd.b.name
	if sd.c.PersonaID != 0 {
		err := tx.QueryRowContext(ctx, `SELECT name, avatar_url FROM personas WHERE tenant_id = $1 AND id = $2`,
			sd.j.TenantID, sd.c.PersonaID).Scan(&sd.sender.name, &sd.sender.avatar)
		switch {
		case err == nil:
			sd.sender.persona = sd.c.PersonaID
		case errors.Is(err, sql.ErrNoRows):
			sd.sender.name = sd.b.name
		default:
			return err
		}
	}
	sd.vars = Vars{Brand: sd.b.name, Now: sd.now, Loc: sd.b.loc, Link: sd.c.LinkURL}
	if sd.j.LiveID != 0 {
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT title, scheduled_at FROM lives WHERE tenant_id = $1 AND id = $2`,
			sd.j.TenantID, sd.j.LiveID).Scan(&sd.vars.LiveTitle, &at)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		sd.vars.LiveAt = store.Time(at)
	}
	return nil
}

func (d *Dispatcher) link(ctx context.Context, sd send, memberID int64) (string, error) {
	if d.Link == nil {
		return sd.c.LinkURL, nil
	}
	return d.Link(ctx, sd.j, sd.c, memberID)
}

// message is the outbox row for one recipient.
func message(sd send, locale, name, link string, group bool) outbox.Item {
	v := sd.vars
	v.Name, v.Group, v.Link = name, group, link
	text, chosen := Variant(sd.c, locale, sd.b.locale)
	body := strings.TrimSpace(Fill(text, chosen, v))
	it := outbox.Item{TenantID: sd.j.TenantID, SenderName: sd.sender.name, PersonaID: sd.sender.persona,
		SenderAvatar: sd.sender.avatar, NextAttemptAt: sd.now}
	withURL := func(u string) {
		if u != "" && !strings.Contains(body, u) {
			body = strings.TrimSpace(body + "\n" + u)
		}
	}
	switch sd.c.Format {
	case FormatImage, FormatVideo:
		withURL(sd.c.MediaURL)
	case FormatLink:
		withURL(link)
	case FormatProductCard:
		withURL(link)
		card := &channel.Card{Title: sd.c.Title, ButtonURL: link}
		if strings.HasPrefix(sd.c.MediaURL, "https://") {
			card.ImageURL = sd.c.MediaURL
		}
		if link != "" {
			card.ButtonLabel = wordsFor(chosen).cardButton
		}
		it.Card = card
	}
	it.Body = body
	return it
}

// toGroup posts the job's content in its group, unless the group is gone
// or has had its sales posts for the window.
func (d *Dispatcher) toGroup(ctx context.Context, tx *store.Tx, sd send) (outcome, error) {
	j := sd.j
	var ch string
	var archived sql.NullInt64
	var unreachable int64
	err := tx.QueryRowContext(ctx, `SELECT channel, archived_at, unreachable_at FROM community_groups WHERE tenant_id = $1 AND id = $2`,
		j.TenantID, j.GroupID).Scan(&ch, &archived, &unreachable)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return outcome{state: JobFailed, reason: fmt.Sprintf("group %d was deleted", j.GroupID)}, nil
	case err != nil:
		return outcome{}, err
	case archived.Valid:
		return outcome{state: JobFailed, reason: fmt.Sprintf("group %d was archived", j.GroupID)}, nil
	case unreachable != 0:
		return outcome{state: JobFailed, reason: fmt.Sprintf("group %d is unreachable (the bot is no longer in it)", j.GroupID)}, nil
	}
	sales := sd.c.Type.Sales()
	if sales {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_sends WHERE tenant_id = $1 AND group_id = $2 AND member_id = 0
			AND sales AND outcome = 'sent' AND sent_at > $3`, j.TenantID, j.GroupID, store.Millis(sd.now.Add(-sd.pol.CapWindow))).Scan(&n); err != nil {
			return outcome{}, err
		}
		if n >= sd.pol.SalesCap {
			reason := fmt.Sprintf("cap: %d sales posts in %d days", sd.pol.SalesCap, days(sd.pol.CapWindow))
			return outcome{state: JobSkipped, reason: reason, skipped: map[string]int{reason: 1}},
				record(ctx, tx, sd, 0, j.GroupID, "skipped", reason)
		}
	}
	if d.Route != nil {
		if ch, err = d.Route(ctx, j.TenantID, j.GroupID, 0); err != nil {
			return outcome{state: JobFailed, reason: "no channel: " + err.Error()}, nil
		}
	}
	link, err := d.link(ctx, sd, 0)
	if err != nil {
		return outcome{}, err
	}
	it := message(sd, sd.b.locale, "", link, true)
	it.Channel, it.GroupID, it.IdemKey = ch, j.GroupID, j.Key
	if err := d.track(ctx, tx, &it, sd); err != nil {
		return outcome{}, err
	}
	if _, _, err := d.Outbox.EnqueueTx(ctx, tx, it); err != nil {
		if errors.Is(err, outbox.ErrInvalid) {
			return outcome{state: JobFailed, reason: "cannot send: " + err.Error()}, nil
		}
		return outcome{}, err
	}
	return outcome{state: JobSent, sent: 1}, record(ctx, tx, sd, 0, j.GroupID, "sent", "")
}

// track hands a message to Track, when set.
func (d *Dispatcher) track(ctx context.Context, tx *store.Tx, it *outbox.Item, sd send) error {
	if d.Track == nil {
		return nil
	}
	return d.Track(ctx, tx, it, sd.j, sd.c)
}

// recipient is one member a private-message job reaches.
type recipient struct {
	id         int64
	name       string
	locale     string
	optedOut   bool
	salesSoFar int
	channel    string
}

// toMembers sends the job's content privately to each member of the
// step's audience — each once, however many of the step's groups they
// are in — skipping those who opted out or had their sales pushes.
func (d *Dispatcher) toMembers(ctx context.Context, tx *store.Tx, sd send) (outcome, error) {
	j := sd.j
	var target Target
	var raw string
	err := tx.QueryRowContext(ctx, `SELECT target FROM campaign_steps WHERE tenant_id = $1 AND id = $2`, j.TenantID, j.StepID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return outcome{state: JobSkipped, reason: "step removed"}, nil
	}
	if err != nil {
		return outcome{}, err
	}
	if err := json.Unmarshal([]byte(raw), &target); err != nil {
		return outcome{}, fmt.Errorf("step %d: target: %w", j.StepID, err)
	}
	au := audience{seg: target.Segment, anyGroups: target.Groups}
	if j.MemberID != 0 {
		au.only = []int64{j.MemberID}
	}
	rs, err := recipients(ctx, tx, sd, au)
	if err != nil {
		return outcome{}, err
	}
	if len(rs) == 0 {
		return outcome{state: JobSkipped, reason: ReasonNobody}, nil
	}
	var out outcome
	capReason := fmt.Sprintf("cap: %d sales pushes in %d days", sd.pol.SalesCap, days(sd.pol.CapWindow))
	for _, r := range rs {
		reason, err := d.toMember(ctx, tx, sd, r, capReason)
		if err != nil {
			return outcome{}, err
		}
		if reason != "" {
			out.skip(reason)
			if err := record(ctx, tx, sd, r.id, 0, "skipped", reason); err != nil {
				return outcome{}, err
			}
			continue
		}
		out.sent++
		if err := record(ctx, tx, sd, r.id, 0, "sent", ""); err != nil {
			return outcome{}, err
		}
	}
	out.state = JobSent
	if out.sent == 0 {
		out.state = JobSkipped
	}
	return out, nil
}

// toMember queues one private message, or returns why it was skipped.
func (d *Dispatcher) toMember(ctx context.Context, tx *store.Tx, sd send, r recipient, capReason string) (string, error) {
	switch {
	case r.optedOut:
		return ReasonOptedOut, nil
	case sd.c.Type.Sales() && r.salesSoFar >= sd.pol.SalesCap:
		return capReason, nil
	}
	ch := r.channel
	if d.Route != nil {
		var err error
		if ch, err = d.Route(ctx, sd.j.TenantID, 0, r.id); err != nil {
			return "no channel: " + err.Error(), nil
		}
	}
	link, err := d.link(ctx, sd, r.id)
	if err != nil {
		return "", err
	}
	it := message(sd, r.locale, r.name, link, false)
	it.Channel, it.MemberID, it.IdemKey = ch, r.id, fmt.Sprintf("%s:m%d", sd.j.Key, r.id)
	if err := d.track(ctx, tx, &it, sd); err != nil {
		return "", err
	}
	if _, _, err := d.Outbox.EnqueueTx(ctx, tx, it); err != nil {
		if errors.Is(err, outbox.ErrInvalid) {
			return "cannot send: " + err.Error(), nil
		}
		return "", err
	}
	return "", nil
}

// recipients reads the audience with what each send needs: one query,
// with the member's sales sends in the window and the default channel.
func recipients(ctx context.Context, q store.Querier, sd send, au audience) ([]recipient, error) {
	var a sqlArgs
	since := a.add(store.Millis(sd.now.Add(-sd.pol.CapWindow)))
	prefer := append([]int64(nil), au.anyGroups...)
	if au.seg.GroupID != 0 {
		prefer = append(prefer, au.seg.GroupID)
	}
	order := ``
	if len(prefer) > 0 {
		order = `CASE WHEN gm.group_id IN (` + a.list(ids(prefer)...) + `) THEN 0 ELSE 1 END, `
	}
	query := `SELECT m.id, m.display_name, m.locale, m.opted_out,
		(SELECT COUNT(*) FROM campaign_sends s WHERE s.tenant_id = m.tenant_id AND s.member_id = m.id AND s.sales
			AND s.outcome = 'sent' AND s.sent_at > ` + since + `),
		COALESCE((SELECT g.channel FROM group_members gm JOIN community_groups g ON g.id = gm.group_id AND g.tenant_id = gm.tenant_id
			WHERE gm.tenant_id = m.tenant_id AND gm.member_id = m.id AND gm.left_at IS NULL AND gm.removed_at IS NULL
			AND g.archived_at IS NULL ORDER BY ` + order + `gm.joined_at DESC, gm.group_id LIMIT 1), 'web')
		FROM members m WHERE `
	query += au.where(&a, sd.j.TenantID, sd.now) + ` ORDER BY m.id`
	rows, err := q.QueryContext(ctx, query, a.args...)
	if err != nil {
		return nil, fmt.Errorf("campaign: recipients: %w", err)
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (recipient, error) {
		var rc recipient
		return rc, r.Scan(&rc.id, &rc.name, &rc.locale, &rc.optedOut, &rc.salesSoFar, &rc.channel)
	})
}

func record(ctx context.Context, tx *store.Tx, sd send, memberID, groupID int64, outcome, reason string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO campaign_sends (tenant_id, job_id, member_id, group_id, sales, sent_at, outcome, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, job_id, member_id, group_id) DO NOTHING`,
		sd.j.TenantID, sd.j.ID, memberID, groupID, sd.c.Type.Sales(), store.Millis(sd.now), outcome, reason)
	if err != nil {
		return fmt.Errorf("campaign: record send: %w", err)
	}
	return nil
}

// finish marks the job done if this worker's claim still holds.
func finish(ctx context.Context, tx *store.Tx, j Job, out outcome, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE campaign_jobs SET state = $4, reason = $5, sent = $6, skipped = $7, done_at = $8, lease_until = 0
		WHERE tenant_id = $1 AND id = $2 AND state = 'running' AND attempts = $3`,
		j.TenantID, j.ID, j.Attempts, string(out.state), out.summary(), out.sent, out.skips(), store.Millis(now))
	return claimHeld(res, err)
}

// deferJob puts the job back to wait for the end of the quiet hours; the
// deferral does not count as an attempt.
func deferJob(ctx context.Context, tx *store.Tx, j Job, until time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE campaign_jobs SET state = 'pending', run_at = $4, reason = $5, lease_until = 0, attempts = attempts - 1
		WHERE tenant_id = $1 AND id = $2 AND state = 'running' AND attempts = $3`,
		j.TenantID, j.ID, j.Attempts, store.Millis(until), ReasonQuiet)
	return claimHeld(res, err)
}

func claimHeld(res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("campaign: finish job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errLeaseLost
	}
	return nil
}

func days(d time.Duration) int { return int(d / (24 * time.Hour)) }
