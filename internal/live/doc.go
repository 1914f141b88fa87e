// Package live owns the live loop's domain core: live sessions with their
// product lists (直播清单), the session's state machine (scheduled → warming
// → live → ended), the live-start alert schedule, coupon drops with atomic,
// limited claims, and provably fair lotteries.
//
// Storage is plain SQL on both engines, every statement scoped by tenant.
// The invariants live in the database: a live leaves a state only by a
// conditional UPDATE (so starting twice starts once and alerts are never
// doubled), a drop's counter never passes its quantity and a member claims
// a drop once (keys on the claims), a lottery is drawn once. Each
// transition appends its event in the same transaction, under a source id
// that names it, so a retry stores nothing twice.
//
// The rules are pure functions over values, tested as tables: Validate,
// Next (the state machine), AlertsDue, Recap, Eligible, Pick and Verify. The lottery algorithm is
// documented on Pick so anyone can recompute a draw from the published seed
// and eligible list.
//
// It must not send messages, render pages or read events to decide who is
// eligible: the web layer and the runner call it, enqueue the alerts through
// the outbox under AlertKey, and gather the candidates Eligible filters.
package live
