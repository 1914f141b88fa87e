// Package outbox makes every outbound message durable before it is sent:
// a row with an idempotency key (unique per tenant), moved by one worker
// through pending → sending → sent | failed | unknown, paced by each
// channel's declared limits and by the platform's retry-after.
//
// A crash loses nothing: rows left in "sending" are re-sent on start when
// the channel's send is idempotent, and marked unknown — never resent
// blindly — when it is not. Enqueueing the same key twice stores one row.
//
// It must not decide what to send; campaigns, bots and the console do.
package outbox
