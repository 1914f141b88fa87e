// Package loyalty owns points: an append-only ledger where every entry has
// an idempotency ref (unique per tenant), balances that can never go
// negative (checked under a row lock and by a CHECK constraint), daily
// check-ins (one per member and tenant day, held by the table's primary
// key), leaderboards of earned points by group and period in the tenant's
// time zone, and a reward store whose redemptions take stock and points
// atomically (a conditional UPDATE of the stock). Each change also goes to
// the event log in the same transaction — points_changed (source id
// "points:<ref>"), checked_in ("checkin:<member>:<day>"), reward_redeemed
// ("redeem:<ref>") — so it shows in the member's timeline.
//
// It must not know about chat, rules or channels (the bot runner and the
// pages call it and decide what to award), must never update or delete a
// ledger row (a correction is a new entry: adjust or refund), and must not
// let a unique violation abort a caller's PostgreSQL transaction: inserts
// that can repeat use ON CONFLICT DO NOTHING.
package loyalty
