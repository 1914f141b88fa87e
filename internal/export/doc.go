// Package export writes one brand's data as CSV files for spreadsheets and
// other tools: members, orders, events and group messages. The console's
// download and `liveloop export` both call Write.
//
// A file is streamed: each row is written as it is read, from one cursor
// held by one read-only transaction (a consistent snapshot; nothing is
// loaded whole into memory). Files are UTF-8 with a byte order mark, times
// are ISO 8601 in the brand's time zone with its offset, and every cell is
// safe from CSV injection (see Cell).
//
// Every query is scoped by the tenant. The package must not decide who may
// export: the web layer and the CLI check that.
package export
