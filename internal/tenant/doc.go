// Package tenant owns tenants (a brand or seller: the unit of isolation),
// their staff accounts, password hashing (argon2id) and console sessions.
//
// Every other package receives a tenant id from here and puts it in every
// WHERE; this package must not know about groups, members or messages.
package tenant
