// Package demo seeds a realistic demo brand — a beauty seller with four
// groups of different types, a few hundred members with Chinese names and
// thirty days of group chat with a real daily rhythm (quiet nights, a
// lunch bump, evening peaks, heavier live nights) — so that a newcomer's
// first `liveloop demo` shows every feature working.
//
// Everything is generated from a seed and a reference time: the same seed
// and the same day give the same brand. It writes through the feature
// services, never with SQL of its own, and must not be used by anything
// but the demo command and tests.
package demo
