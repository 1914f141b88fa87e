// Package outbox makes every outbound message durable before it is sent:
// a row with an idempotency key (unique per tenant), moved by one worker
// through pending → sending → sent | failed | unknown, paced by each
// channel's declared limits and by the platform's retry-after.
//
// A crash loses nothing: rows left in "sending" are re-sent on start when
// the channel's send is idempotent, and marked unknown — never resent
// blindly — when it is not. Enqueueing the same key twice stores one row.
//
// Pacing (pace.go) keeps every window the platform may count within its
// limit, counting each send from when it was answered: a channel's
// per-second limit as a window of a second, a group's per-minute limit
// spread evenly. A row that must wait goes back to the queue without
// spending an attempt — in its place, with its channel held, when the
// channel is spent or the platform said to wait; due when its slot comes,
// when its group or member is — and rows are claimed in queue order, so
// messages to one group keep their order.
//
// It must not decide what to send; campaigns, bots and the console do.
package outbox
