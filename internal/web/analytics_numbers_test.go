package web

import (
	"testing"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/i18n"
)

// TestHealthRatiosOverNothing: the health table shows "—" for a ratio
// over nothing, as the metric cards do for the same group (brand_share
// and m2m_ratio filtered to it), never a made-up 0.0%: a group without
// messages has no brand share; one whose members answered nobody has no
// member-to-member ratio; one without member messages no top-three share.
func TestHealthRatiosOverNothing(t *testing.T) {
	s := &Server{Deps: Deps{Catalog: i18n.MustLoad()}}
	d := &dashboard{lang: "en", t: func(k string, _ ...any) string { return k }}
	d.raw.health = []analytics.GroupHealth{
		{GroupID: 1, Name: "quiet", Class: analytics.NotEnoughYet},
		{GroupID: 2, Name: "brand only", Class: analytics.NotEnoughYet,
			Signals: analytics.HealthSignals{Messages: 4, BrandShare: 1}},
		{GroupID: 3, Name: "talking", Class: analytics.Spontaneous,
			Signals: analytics.HealthSignals{Messages: 40, MemberMessages: 30, BrandShare: 0.25, MemberToMember: 0.8, MemberToBrand: 0.2,
				Top3Share: 0.5}},
	}
	s.health(d)
	want := [][3]string{{"—", "—", "—"}, {"100.0%", "—", "—"}, {"25.0%", "80.0%", "50.0%"}}
	for i, r := range d.Health.Rows {
		if got := [3]string{r.BrandShare, r.M2M, r.Top3}; got != want[i] {
			t.Errorf("%s: brand share, m2m, top 3 = %v, want %v", r.Name, got, want[i])
		}
	}
	rows := s.healthRows(d)
	// brand_share_pct, member_to_member_pct, top3_share_pct: empty for
	// not a number, as every other CSV cell.
	for i, w := range [][3]string{{"", "", ""}, {"100.0", "", ""}, {"25.0", "80.0", "50.0"}} {
		r := rows[i+1]
		if got := [3]string{r[5], r[7], r[8]}; got != w {
			t.Errorf("CSV row %d: %v, want %v", i, got, w)
		}
	}
}

// TestDashSourceDirect: the rollup files a join with neither a code's
// source, a referrer nor a live as "direct"; the sources chart and CSV
// name it in the reader's language, not as the key.
func TestDashSourceDirect(t *testing.T) {
	s := &Server{Deps: Deps{Catalog: i18n.MustLoad()}}
	for _, lang := range []string{"en", "zh-CN", "zh-TW"} {
		if got := s.sourceLabel(lang, "direct"); got == "direct" || got == "" {
			t.Errorf("%s: the direct source is shown as %q", lang, got)
		}
	}
}
