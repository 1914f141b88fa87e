package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/liveloop/liveloop/internal/app/apptest"
)

// A group's join question: a wrong answer stores nothing and says why, the
// right one (any accepted form, width and case folded) joins.
func TestJoinQuestion(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b := e.Brand("question")
		op := e.Client()
		op.Login(b)
		g := b.Group
		must(t, op.PostForm(fmt.Sprintf("/console/groups/%d", g.ID), url.Values{"name": {g.Name}, "kind": {"vertical"},
			"capacity": {"500"}, "join_question": {"你是从哪场直播来的？"}, "join_answers": {"周五直播\nFriday"}}), http.StatusSeeOther)
		must(t, op.PostForm(fmt.Sprintf("/console/groups/%d", g.ID), url.Values{"name": {g.Name}, "kind": {"vertical"},
			"capacity": {"500"}, "join_question": {"没有答案的问题"}}), http.StatusBadRequest, "accepted answer")

		v := e.Client()
		must(t, v.Get("/j/"+b.JoinCode.Code), 200, "你是从哪场直播来的？", `name="answer"`)
		must(t, v.PostForm("/j/"+b.JoinCode.Code, url.Values{"name": {"小美"}, "answer": {"周六"}}), http.StatusBadRequest, "answer we expected")
		if v.Cookie(fmt.Sprintf("ll_m%d", b.Tenant.ID)) != nil {
			t.Fatal("a wrong answer set a member cookie")
		}
		var members int
		e.App.DB.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM members WHERE tenant_id = $1`, b.Tenant.ID).Scan(&members)
		if members != 0 {
			t.Fatalf("%d members stored after a wrong answer", members)
		}
		r := v.PostForm("/j/"+b.JoinCode.Code, url.Values{"name": {"小美"}, "answer": {" ＦＲＩＤＡＹ！"}})
		must(t, r, http.StatusSeeOther)

		// The wishlist page: add a wish (a double submit is one wish), see it.
		wishes := fmt.Sprintf("/m/%s/wishes", b.Tenant.Slug)
		must(t, v.Get(wishes), 200, "My wishlist")
		for range 2 {
			must(t, v.PostForm(wishes, url.Values{"text": {"<script>敏感肌粉底液</script>"}, "once": {"wish-form-0001"}}), http.StatusSeeOther)
		}
		must(t, v.PostForm(wishes, url.Values{"text": {"  "}, "once": {"wish-form-0002"}}), http.StatusBadRequest, "1–200")
		must(t, v.Get(wishes), 200, "&lt;script&gt;敏感肌粉底液&lt;/script&gt;")
		board, err := e.App.Bot.DemandBoard(context.Background(), b.Tenant.ID, 10)
		if err != nil || len(board) != 1 || board[0].Count != 1 {
			t.Fatalf("board %+v %v", board, err)
		}
	})
}
