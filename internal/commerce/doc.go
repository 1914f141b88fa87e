// Package commerce owns what liveloop knows of the brand's shop: products
// (SKU, name, price, category), orders (imported from CSV, pushed through
// the shop API, or reported by a live) with their lines and refunds, the
// match of an order to a member (channel identity, phone, email, coupon
// code), each member's purchase totals, and member tiers (普通/银卡/金卡)
// with their benefits, evaluated on every order and refund and nightly.
//
// Storage is plain SQL on both engines, every statement scoped by tenant.
// An order is stored once by the shop's own id (unique per tenant), a
// refund once by its id within the order, and refunds never exceed what
// is left of the order (a conditional UPDATE and a CHECK). Each order or
// refund is one transaction with everything it changes: its lines, the
// order_paid / order_refunded event, the member's totals (member_commerce),
// the tier evaluation, the tier change with its private message (notify)
// and the upgrade hook — so a member's totals and tier never disagree with
// their orders.
//
// Why keep totals instead of summing orders on each page: the member page,
// the tier page and segments read them often, while they change only with
// an order or refund, in whose transaction the update costs one statement.
// The rolling spend of a tier's window is different (it changes with time)
// and is a query over orders_member (tenant, member, paid_at), one index
// range per member.
//
// CSV import (Import) maps a shop's export (Shopify, a generic layout, or
// a JSON mapping) to orders, detects GB18030/Big5/UTF-8, validates each
// row into a report, and commits batches of whole orders, recording its
// progress by the file's SHA-256 so an interrupted import resumes.
//
// It must not render pages, speak HTTP or send messages itself: the web
// layer calls it, and private messages go through notify (the outbox).
package commerce
