// Package member owns people: a member record per person and tenant, their
// identities on each channel (web, Telegram, LINE, Discord, WeCom…), tags,
// consent (opt-out, honoured by every sender) and merging two records that
// turn out to be the same person.
//
// It must not know about groups or messages; group membership moves on a
// merge through the MergeHook the community package registers.
package member
