// Package loyalty owns points: an append-only ledger where every entry has
// an idempotency ref, balances that can never go negative, daily check-ins
// (one per member and tenant day, held by the database's primary key),
// leaderboards by group and period, and a reward store whose redemptions
// take stock and points atomically. Each change also goes to the event log,
// so it shows in the member's timeline.
//
// It must not know about chat, rules or channels: the rule runner and the
// pages call it.
package loyalty
