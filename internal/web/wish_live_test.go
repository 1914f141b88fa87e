package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
)

// TestWishLiveRestock: a member's wish meets a product on a live's list →
// a private message before the show (once, however often the list is
// touched), the wish planned; a sold-out product takes "notify me" from
// members in the live room; the operator offers a re-sale to exactly
// those members, who alone can claim it.
func TestWishLiveRestock(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		b, op, persona := routineBrand(t, e, "wishlive")
		fan, other, viewer := e.Client(), e.Client(), e.Client()
		fan.Join(b.JoinCode.Code, "小美")
		other.Join(b.JoinCode.Code, "阿珍")
		wishes := fmt.Sprintf("/m/%s/wishes", b.Tenant.Slug)
		must(t, fan.PostForm(wishes, url.Values{"text": {"求 水光粉底液！"}, "once": {"w-1"}}), http.StatusSeeOther)
		must(t, other.PostForm(wishes, url.Values{"text": {"想要口红"}, "once": {"w-2"}}), http.StatusSeeOther)
		var fanID, otherID int64
		e.App.DB.R.QueryRowContext(ctx, `SELECT member_id FROM wishes WHERE tenant_id = $1 AND norm = '水光粉底液'`, b.Tenant.ID).Scan(&fanID)
		e.App.DB.R.QueryRowContext(ctx, `SELECT member_id FROM wishes WHERE tenant_id = $1 AND norm = '口红'`, b.Tenant.ID).Scan(&otherID)
		if fanID == 0 || otherID == 0 {
			t.Fatal("wishes not stored")
		}

		at := time.Now().Add(2 * time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04")
		r := op.PostForm("/console/lives", url.Values{"title": {"周五护肤专场"}, "scheduled_at": {at}, "host": {fmt.Sprint(persona)},
			"products": {"修护精华 | 129 | 99 | 200\n品牌水光粉底液 30ml | 199 | 159 | 0"}, "alert_persona": {fmt.Sprint(persona)}})
		must(t, r, http.StatusSeeOther)
		var id int64
		fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &id)
		dms := func(member int64, like string) []string {
			rows, err := e.App.DB.R.QueryContext(ctx, `SELECT body FROM outbox WHERE tenant_id = $1 AND member_id = $2 AND idem_key LIKE $3 ORDER BY id`,
				b.Tenant.ID, member, like)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var s string
				rows.Scan(&s)
				out = append(out, s)
			}
			return out
		}
		got := dms(fanID, fmt.Sprintf("wishlive:%d:%%", id))
		if len(got) != 1 || !strings.Contains(got[0], "水光粉底液") || !strings.Contains(got[0], "159.00") ||
			!strings.Contains(got[0], fmt.Sprintf("/l/%s/%d", b.Tenant.Slug, id)) {
			t.Fatalf("the wisher's notices: %q", got)
		}
		if n := dms(otherID, "wishlive:%"); len(n) != 0 {
			t.Fatalf("a wish for lipstick was told about foundation: %q", n)
		}
		must(t, fan.Get(wishes), 200, "planned")

		// Adding a lipstick later tells its wisher, not the first one again;
		// a bad line stores nothing.
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/products", id), url.Values{"line": {"丝绒口红 #12"}}), http.StatusBadRequest, "name | price")
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/products", id), url.Values{"line": {"丝绒口红 #12 | 89 | 69 | 30"}}), http.StatusSeeOther)
		if n, m := dms(otherID, "wishlive:%"), dms(fanID, "wishlive:%"); len(n) != 1 || len(m) != 1 {
			t.Fatalf("after adding lipstick: other %q, fan %q", n, m)
		}
		must(t, op.Get(fmt.Sprintf("/console/lives/%d", id)), 200, "丝绒口红 #12", `data-wishers`)

		// The live room: the sold-out foundation takes "notify me" from
		// members (twice is once), not from anonymous viewers.
		l, err := e.App.Lives.Get(ctx, b.Tenant.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		soldOut := l.Products[1]
		room := fmt.Sprintf("/l/%s/%d", b.Tenant.Slug, id)
		must(t, fan.Get(room), 200, "data-notify-me")
		notify := fmt.Sprintf("%s/products/%d/notify", room, soldOut.ID)
		for range 2 {
			must(t, fan.PostForm(notify, url.Values{}), http.StatusSeeOther)
		}
		if r := viewer.PostForm(notify, url.Values{}); r.Status < 400 {
			t.Fatalf("an anonymous viewer's notify-me: %d", r.Status)
		}
		must(t, other.PostForm(fmt.Sprintf("%s/products/%d/notify", room, l.Products[0].ID), url.Values{}), http.StatusConflict, "still in stock")
		must(t, fan.Get(room), 200, "we&#39;ll tell you")

		// The operator sees one waiting and offers a re-sale: one message,
		// to the fan only.
		page := op.Get(fmt.Sprintf("/console/lives/%d", id))
		must(t, page, 200, fmt.Sprintf(`data-requests="%d">1<`, soldOut.ID))
		closes := time.Now().Add(24 * time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04")
		resale := fmt.Sprintf("/console/lives/%d/products/%d/resale", id, soldOut.ID)
		must(t, op.PostForm(resale, url.Values{"price": {"149"}, "quantity": {"0"}, "closes_at": {closes}}), http.StatusBadRequest, "quantity")
		must(t, op.PostForm(fmt.Sprintf("/console/lives/%d/products/%d/resale", id, l.Products[0].ID),
			url.Values{"price": {"149"}, "quantity": {"1"}, "closes_at": {closes}}), http.StatusBadRequest, "nobody asked")
		must(t, op.PostForm(resale, url.Values{"price": {"149"}, "quantity": {"1"}, "closes_at": {closes}, "note": {"<b>限量</b>"}}), http.StatusSeeOther)
		offers := dms(fanID, "resale:%")
		if len(offers) != 1 || !strings.Contains(offers[0], "149.00") || len(dms(otherID, "resale:%")) != 0 {
			t.Fatalf("offers: fan %q, other %q", offers, dms(otherID, "resale:%"))
		}
		var rsID int64
		fmt.Sscanf(offers[0][strings.Index(offers[0], "/resales/"):], "/resales/%d", &rsID)
		offer := fmt.Sprintf("/m/%s/resales/%d", b.Tenant.Slug, rsID)
		must(t, other.Get(offer), 200, "for the members who asked")
		must(t, other.PostForm(offer+"/claim", url.Values{}), http.StatusConflict)
		must(t, fan.Get(offer), 200, "&lt;b&gt;限量&lt;/b&gt;")
		must(t, fan.PostForm(offer+"/claim", url.Values{}), http.StatusSeeOther)
		must(t, fan.Get(offer), 200, "data-resale-mine")
		must(t, fan.PostForm(offer+"/claim", url.Values{}), http.StatusConflict)
		if r := viewer.Get(offer); r.Status < 400 {
			t.Fatalf("an anonymous viewer reads the offer: %d", r.Status)
		}
	})
}
