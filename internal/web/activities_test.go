package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/liveloop/liveloop/internal/app/apptest"
)

type tallyFrame struct {
	Type string `json:"type"`
	Poll *struct {
		ID     int64 `json:"id"`
		Counts []int `json:"counts"`
		Total  int   `json:"total"`
		Closed bool  `json:"closed"`
	} `json:"poll"`
}

// readTally reads frames until a poll tally satisfies ok.
func readTally(t *testing.T, c *websocket.Conn, what string, ok func(counts []int, total int, closed bool) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		var f tallyFrame
		if json.Unmarshal(b, &f) == nil && f.Type == "poll" && f.Poll != nil && ok(f.Poll.Counts, f.Poll.Total, f.Poll.Closed) {
			return
		}
	}
}

func counts(want ...int) func([]int, int, bool) bool {
	return func(c []int, _ int, _ bool) bool { return reflect.DeepEqual(c, want) }
}

// startActivity posts the console's form and returns the new activity's id.
func startActivity(t *testing.T, op *apptest.Client, b apptest.Brand, persona int64, fields url.Values) int64 {
	t.Helper()
	fields.Set("group", fmt.Sprint(b.Group.ID))
	fields.Set("persona", fmt.Sprint(persona))
	if fields.Get("closes_at") == "" {
		fields.Set("closes_at", time.Now().Add(time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04"))
	}
	r := op.PostForm("/console/activities", fields)
	must(t, r, http.StatusSeeOther)
	var id int64
	if _, err := fmt.Sscanf(r.Header.Get("Location"), "/console/activities/%d", &id); err != nil {
		t.Fatalf("location %q", r.Header.Get("Location"))
	}
	return id
}

// Polls and prompts through the web community: the operator starts them in
// the console, the persona announces them, members vote by number and by
// button (and change their vote), tallies arrive live, entries earn points
// once, and closing posts the result.
func TestPollsAndPrompts(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, persona := routineBrand(t, e, "polls")
		ctx := context.Background()
		m1 := e.Client()
		chat := m1.Join(b.JoinCode.Code, "小美")
		ws, _, err := m1.Dial(ctx, chat+"/ws?after=0")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		readUntil(t, ws, "welcome", func(f wsFrame) bool { return strings.Contains(f.Text, "欢迎") })
		m2 := e.Client()
		chat2 := m2.Join(b.JoinCode.Code, "阿珍")

		// Bad input is refused with the reason, and nothing is announced.
		must(t, op.PostForm("/console/activities", url.Values{"kind": {"poll"}, "group": {fmt.Sprint(b.Group.ID)},
			"question": {"哪个色号？"}, "options": {"玫瑰红"}, "closes_at": {time.Now().Add(time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04")}}),
			http.StatusBadRequest, "2 to 10 options")
		must(t, op.PostForm("/console/activities", url.Values{"kind": {"poll"}, "group": {fmt.Sprint(b.Group.ID)},
			"question": {"哪个色号？"}, "options": {"a\nb"}, "closes_at": {"2020-01-01T10:00"}}), http.StatusBadRequest, "future")

		id := startActivity(t, op, b, persona, url.Values{"kind": {"poll"}, "question": {"周五返场哪个色号？"}, "options": {"玫瑰红\n珊瑚色\n裸色"}})
		ann := readUntil(t, ws, "announcement", func(f wsFrame) bool { return strings.Contains(f.Text, "周五返场哪个色号") })
		if ann.Sender != "助理小花" || !strings.Contains(ann.Text, "2. 珊瑚色") {
			t.Fatalf("announcement %+v", ann)
		}
		must(t, m1.Get(chat), 200, "周五返场哪个色号", "裸色", fmt.Sprintf("/polls/%d/vote", id))

		// A vote by number in the chat, silently counted and shown live.
		send(t, ws, "vote-by-number", "2")
		readTally(t, ws, "first vote", counts(0, 1, 0))
		// A vote by button (the page's form, as JSON like the script).
		vote := func(c *apptest.Client, chat string, choice, once string) apptest.Response {
			return c.Do(http.MethodPost, chat+fmt.Sprintf("/polls/%d/vote", id), strings.NewReader(url.Values{"choice": {choice}, "once": {once}}.Encode()),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}})
		}
		must(t, vote(m2, chat2, "3", "once-aaaaaaaa"), 200)
		readTally(t, ws, "button vote", counts(0, 1, 1))
		must(t, vote(m2, chat2, "3", "once-aaaaaaaa"), 200) // a double click: one vote
		must(t, vote(m2, chat2, "9", "once-bbbbbbbb"), http.StatusBadRequest)
		// Changing one's mind.
		send(t, ws, "vote-again-1", "投 3")
		readTally(t, ws, "changed vote", counts(0, 0, 2))
		// Someone outside the group cannot vote.
		stranger := e.Client()
		must(t, vote(stranger, chat, "1", "once-cccccccc"), http.StatusForbidden)

		// A prompt: entries with the tag; the first earns points, once.
		pid := startActivity(t, op, b, persona, url.Values{"kind": {"prompt"}, "question": {"晒出你的战利品"}, "tag": {"#晒单"}, "points": {"10"}})
		readUntil(t, ws, "prompt announcement", func(f wsFrame) bool {
			return strings.Contains(f.Text, "晒出你的战利品") && strings.Contains(f.Text, "#晒单")
		})
		send(t, ws, "entry-000001", "#晒单 粉底液到货啦")
		thanks := readUntil(t, ws, "entry thanks", func(f wsFrame) bool { return f.Staff && strings.Contains(f.Text, "your entry is in") })
		if !strings.Contains(thanks.Text, "+10") {
			t.Fatalf("thanks %q", thanks.Text)
		}
		time.Sleep(600 * time.Millisecond) // members' send limit
		send(t, ws, "entry-000002", "再晒一个 #晒单 口红")
		readTally(t, ws, "second entry", func(_ []int, total int, _ bool) bool { return total == 2 })
		must(t, op.Get(fmt.Sprintf("/console/activities/%d", pid)), 200, "粉底液到货啦", "再晒一个")

		// (The brand's language is English: the persona speaks it.)
		// Closing announces the result; later votes are refused.
		must(t, op.PostForm(fmt.Sprintf("/console/activities/%d/close", id), url.Values{}), http.StatusSeeOther)
		res := readUntil(t, ws, "result", func(f wsFrame) bool { return strings.Contains(f.Text, "Results: 周五返场哪个色号") })
		if !strings.Contains(res.Text, "(2 votes)") || !strings.Contains(res.Text, "3. 裸色 — 2 (100%)") {
			t.Fatalf("result %q", res.Text)
		}
		must(t, vote(m2, chat2, "1", "once-dddddddd"), http.StatusConflict)
		must(t, op.Get("/console/activities"), 200, "周五返场哪个色号", "晒出你的战利品")
	})
}
