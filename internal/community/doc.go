// Package community owns groups (an owned chat group on some channel), their
// positioning (audience, value promise, tone) and type, join codes (the
// links and QR codes members join by), and membership: who is in which
// group, who left and who was removed.
//
// Joining, leaving and removal are appended to the event log in the same
// transaction as the membership change. It must not send messages: that is
// the outbox's job.
package community
