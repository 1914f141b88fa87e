// Package report makes the review report (复盘): for a week, a month or
// any period, every metric beside the period before, the charts' data,
// findings in plain language derived by rules from the numbers, and the
// teardown (拆解, seed 004) of each group checked against its playbooks.
//
// A report is built once (Build), stored whole as JSON in the history
// (table reports) and rendered again from that JSON in any language, so
// what was reported stays what it was. The schedule (Service.RunDue)
// makes last week's report after Monday 06:00 and last month's after the
// 1st 06:00 in each brand's time zone, once (a unique key), and sends it
// to the brand's staff group through the outbox (key report:<id>:<group>).
//
// The package reads: it never changes the data it reports on. Findings
// (Findings) are a pure function of a Report, table-tested; they divide
// only by numbers known to be positive, so no NaN or Inf reaches a page.
package report
