// Package event owns liveloop's event log: the append-only record of
// everything that happens (joins, messages, later check-ins, clicks,
// orders…), each row carrying the id its source gave it so that a duplicate
// delivery is stored once, and the bus that tells the rest of the process
// (and, later, other nodes through NATS JetStream) what was appended.
//
// It must not interpret events beyond their envelope: what a message means
// is for the bot, live and analytics packages.
package event
