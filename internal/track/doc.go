// Package track owns what makes a link measurable and shareable: QR
// codes, tracked links, their clicks, and the attribution read from them.
//
// Every link liveloop sends goes through LinkTx (or RewriteTx / ItemTx
// for a whole message) inside the transaction that queues the message, so
// the link exists exactly when the message does and a retried send reuses
// it (one link per tenant, outbox key and target). Members reach the
// target through /t/<code>: the web layer resolves the code, and Click
// records one link_clicked event and one link_clicks row per visitor and
// minute (platforms' preview fetchers and HEAD requests are not clicks).
//
// Attribution is last touch within the tenant's window (default 24 h),
// first touch kept beside it: AttributeOrderTx runs in an order's
// transaction (commerce's OnOrder hook), EnterLive records a member's
// first entry into a live room with the click that led there, and JoinTx
// decides what brought a joining member (JoinSource). The decisions are
// pure functions (Touches, JoinSource, IsPreviewBot), tested as tables.
//
// The package never sends messages and never stores an address: a visitor
// is a keyed hash of a first-party cookie (VisitorHash).
package track
