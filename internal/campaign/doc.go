// Package campaign is the campaign engine: the content library (items of
// a type — knowledge, lifestyle, promo, live preview, flash sale, recap,
// activity — with locale variants and placeholders), segments (a filter
// over members compiled to parameterised SQL), playbooks (a timeline of
// steps relative to an anchor: a live's start or end, a member's join, a
// date) with their ready-made templates (warm-up T-7…T-0, new-member
// journey, post-live), and the durable queue that runs them.
//
// The path of a step, and where each guarantee comes from:
//
//	Expand (pure: playbook + anchor + zone → jobs, keyed pb<id>:s<step>:<target>:<occurrence>)
//	  → Schedule: INSERT … ON CONFLICT (tenant_id, key): expanding again adds nothing
//	  → Claim: due pending rows (and running rows whose lease ended) → running, attempts+1,
//	    one statement (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the single writer)
//	  → Dispatcher.RunDue, one transaction per job: quiet hours (defer), the step's
//	    recipients, opt-outs and sales caps (skip, with the reason), render, outbox rows
//	    under <job key> or <job key>:m<member>, campaign_sends rows, the job marked done
//	    only if this worker still holds its claim (else everything rolls back)
//
// A crash before the job's transaction commits leaves it running; its
// lease ends and another pass takes it again. A crash after the commit
// leaves it done. Either way the outbox's unique idempotency keys mean a
// recipient is queued once, and the outbox delivers it once. Pacing per
// channel and the platform's retry-after are the outbox's: this package
// never sends and never sleeps.
//
// The rules are pure functions over values, tested as tables: Expand,
// Job.Reanchored, Render, ValidateText, Policy.QuietUntil, Mix. Storage is
// plain SQL on both engines, every statement scoped by tenant (Claim, the
// worker's statement, is the one that reads across tenants).
//
// It must not render pages, talk to platforms, or pace sends; it does not
// know HTTP. The web layer and the app call it: the console edits content
// and playbooks, the app runs the Dispatcher and calls Arm, Enroll and
// Reanchor when a live is scheduled or moved or a member joins.
package campaign
