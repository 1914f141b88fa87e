// Package runner is the imperative shell around the bot's functional core
// (package bot): it stores personas and rules, reads the event log in
// order from a durable cursor, loads the state a rule needs, calls
// bot.Evaluate, and applies the actions — messages to the outbox, points
// to the loyalty ledger, moderation, wishes — in one transaction together
// with the cursor, so every event is acted on exactly once even across
// crashes.
//
// It must not decide anything a rule decides; that is bot.Evaluate's job.
package runner
