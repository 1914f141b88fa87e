// Package coupon owns community coupons: batches (amount off, percent off
// or free shipping; a minimum spend; validity; stock; a per-member limit;
// an audience — a group, a tier, a campaign segment, a live's viewers, new
// members — and a claim window), their unique codes, claims, grants by
// other features (GrantTx), the shop's redemption (once per code,
// idempotent by order id), and the perks that grant coupons on a day: the
// member day, the birthday gift, and the brand's free shipping threshold.
//
// The invariants are the database's: a batch's stock is its rows of
// codes, generated with it, so a claim that finds no free row has nothing
// to hand out (no counter to over-run, and on PostgreSQL no hot row:
// claims take different rows with FOR UPDATE SKIP LOCKED); a member's
// holder row is counted up only while under the limit (a conditional
// upsert); a code is redeemed by a conditional UPDATE; grants are unique
// by (batch, ref). Each change appends its event (coupon_issued,
// coupon_redeemed) in the same transaction.
//
// Grant (what a code takes off an order) and Perk.DueOn are pure
// functions. The package must not render pages or know HTTP; the web
// layer maps its refusals (Refusal.Reason) to messages, and the app runs
// RunPerks on a timer.
package coupon
