// Package demo seeds a realistic demo brand — a beauty seller with four
// groups of different types, a few hundred members with Chinese names and
// thirty days of group chat with a real daily rhythm (quiet nights, a
// lunch bump, evening peaks, heavier live nights; check-ins, knowledge
// posts, live previews and alerts, lotteries, wishes) — so that a
// newcomer's first `liveloop demo` shows every feature working.
//
// Everything is generated from a seed and a reference time: the same seed
// and the same day (in the brand's time zone) give the same brand, whose
// history ends where that day begins. It writes through the feature
// services, except for the rows whose services would stamp the wall clock
// (tags, a few past leaves), and must not be used by anything but the demo
// command and tests.
package demo
