package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
)

// The console's newer forms refuse bad input with the reason and store
// nothing: channel accounts, polls, lives, coupon drops and lotteries.
func TestConsoleBadInput(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	b, op, persona := routineBrand(t, e, "badin")
	count := func(table string) int {
		var n int
		e.App.DB.R.QueryRow(fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE tenant_id = $1`, table), b.Tenant.ID).Scan(&n)
		return n
	}
	// Channel accounts (no platform is called for any of these).
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"kind": {"telegram"}, "name": {"bot"}, "token": {"not-a-token"}}, "token"},
		{url.Values{"kind": {"telegram"}, "name": {"bot"}}, "token is required"},
		{url.Values{"kind": {"line"}, "name": {"oa"}, "access_token": {"x"}}, "channel_secret is required"},
		{url.Values{"kind": {"myspace"}, "name": {"x"}, "token": {"1:2"}}, "unknown kind"},
		{url.Values{"kind": {"telegram"}, "name": {""}, "token": {"123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"}}, "name"},
	} {
		must(t, op.PostForm("/console/channels", c.form), http.StatusBadRequest, c.want)
	}
	if n := count("channel_accounts"); n != 0 {
		t.Fatalf("%d accounts stored from bad forms", n)
	}
	must(t, op.PostForm("/console/channels/999/check", url.Values{}), http.StatusNotFound)
	// An oversized form is refused as too large (not as a forged one), storing nothing.
	must(t, op.PostForm("/console/channels", url.Values{"kind": {"telegram"}, "name": {strings.Repeat("x", 70<<10)}}), http.StatusRequestEntityTooLarge)

	// Polls: a closed one cannot be closed again.
	id := startActivity(t, op, b, persona, url.Values{"kind": {"poll"}, "question": {"q"}, "options": {"a\nb"}})
	must(t, op.PostForm(fmt.Sprintf("/console/activities/%d/close", id), url.Values{}), http.StatusSeeOther)
	must(t, op.PostForm(fmt.Sprintf("/console/activities/%d/close", id), url.Values{}), http.StatusConflict)
	must(t, op.PostForm("/console/activities", url.Values{"kind": {"poll"}, "group": {fmt.Sprint(b.Group.ID)}, "question": {"q"},
		"options": {"a\nb"}, "closes_at": {"tomorrow"}}), http.StatusBadRequest, "not a date")

	// Lives: prices, product lines; drops and lotteries out of range.
	at := time.Now().Add(time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04")
	must(t, op.PostForm("/console/lives", url.Values{"title": {"x"}, "scheduled_at": {at}, "products": {"面霜 | 一百 | 99 | 5"}}),
		http.StatusBadRequest, "prices are amounts")
	must(t, op.PostForm("/console/lives", url.Values{"title": {"x"}, "scheduled_at": {"soon"}}), http.StatusBadRequest, "not a date")
	if n := count("lives"); n != 0 {
		t.Fatalf("%d lives stored from bad forms", n)
	}
	r := op.PostForm("/console/lives", url.Values{"title": {"x"}, "scheduled_at": {at}})
	var live int64
	fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &live)
	must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/drop", live), url.Values{"title": {"券"}, "quantity": {"0"}, "minutes": {"5"}}), http.StatusBadRequest)
	must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/lottery", live), url.Values{"prize": {"奖"}, "winners": {"0"}}), http.StatusBadRequest)
	must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/end", live), url.Values{}), http.StatusBadRequest) // not on air
	must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/dance", live), url.Values{}), http.StatusNotFound)
	if n := count("live_coupon_drops") + count("live_lotteries"); n != 0 {
		t.Fatalf("%d drops or lotteries stored from bad forms", n)
	}
}
