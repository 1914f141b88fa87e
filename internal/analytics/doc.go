// Package analytics turns the event log into the numbers operators decide
// from: source, process and result metrics, funnels, join cohorts,
// community health, content effectiveness, the best send time, capacity
// advice and the review report (复盘).
//
// The log is never scanned per page view. A Rollup reads it once, from a
// durable cursor, and adds each event to small derived tables (an_daily,
// an_hourly, an_member_day, an_members, an_content) in the same
// transaction as the cursor's advance, so every event counts exactly once:
//   - a duplicate delivery is never a second row of the log (its unique
//     key), so it changes nothing here either;
//   - a late event (a delivery, an import of last week) has a new id and
//     is added to the day it happened on, in the tenant's time zone.
//
// Result metrics (orders, GMV, repurchase) read the orders table, which
// commerce keeps in each order's transaction (itself a rollup of the
// order events, and the only place a buyer matched later is recorded).
//
// Each metric is defined once, in metrics.go (Defs), with the definition
// the console shows next to the number.
package analytics
