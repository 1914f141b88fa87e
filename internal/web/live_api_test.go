package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/app/apptest"
)

// The streaming platform's ingestion API: signed batches are stored once
// per event id; forged, oversized, malformed or misaddressed ones are
// refused with a clear message and store nothing.
func TestLiveIngestionAPI(t *testing.T) {
	each(t, func(t *testing.T, e *apptest.Env) {
		b, op, persona := routineBrand(t, e, "liveapi")
		at := time.Now().Add(time.Hour).In(b.Tenant.Location()).Format("2006-01-02T15:04")
		r := op.PostForm("/console/lives", url.Values{"title": {"API 测试"}, "scheduled_at": {at}, "host": {fmt.Sprint(persona)}})
		var id int64
		fmt.Sscanf(r.Header.Get("Location"), "/console/lives/%d", &id)
		panel := op.Get(fmt.Sprintf("/console/lives/%d", id)).Body
		m := regexp.MustCompile(`value="([0-9a-f]{64})"`).FindStringSubmatch(panel)
		if m == nil {
			t.Fatal("the control panel shows no signing key")
		}
		key := m[1]
		api := fmt.Sprintf("/api/lives/%s/%d/events", b.Tenant.Slug, id)
		post := func(path, body, sigKey string) apptest.Response {
			mac := hmac.New(sha256.New, []byte(sigKey))
			mac.Write([]byte(body))
			return e.Client().Do(http.MethodPost, path, strings.NewReader(body), http.Header{"Content-Type": {"application/json"},
				"X-Liveloop-Signature": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}})
		}
		roomWS, _, err := e.Client().Dial(context.Background(), fmt.Sprintf("/l/%s/%d/ws", b.Tenant.Slug, id))
		if err != nil {
			t.Fatal(err)
		}
		defer roomWS.CloseNow()
		batch := `{"events":[{"id":"v1","type":"viewers","count":1200},{"id":"c1","type":"comment","user":"u9","name":"小美","text":"<b>上链接</b>"},
			{"id":"o1","type":"order","user":"u9","amount":9900,"product":"修护精华"},{"id":"c1","type":"comment","text":"again"},
			{"id":"l1","type":"like","count":35}]}`
		must(t, post(api, batch, key), 200, `"stored":4`, `"duplicates":1`)
		must(t, post(api, batch, key), 200, `"stored":0`, `"duplicates":5`)
		// The room shows the platform's comment and its likes in the
		// counter (once: the resent batch adds nothing).
		var comment, likes bool
		rctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		for !comment || !likes {
			_, msg, err := roomWS.Read(rctx)
			if err != nil {
				t.Fatalf("room: comment %v, likes %v: %v", comment, likes, err)
			}
			for _, raw := range splitFrames(msg) {
				var f struct {
					Type, Text, Sender string
					Likes              int64
				}
				json.Unmarshal(raw, &f)
				switch {
				case f.Type == "message" && f.Text == "<b>上链接</b>" && f.Sender == "小美":
					comment = true
				case f.Type == "likes" && f.Likes == 35:
					likes = true
				case f.Type == "likes":
					t.Fatalf("room likes %d, want the platform's 35", f.Likes)
				}
			}
		}
		count := func() int {
			var n int
			e.App.DB.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'live_platform'`, b.Tenant.ID).Scan(&n)
			return n
		}
		if n := count(); n != 4 {
			t.Fatalf("%d platform events", n)
		}
		must(t, post(api, batch, strings.Repeat("0", 64)), http.StatusUnauthorized, "X-Liveloop-Signature")
		must(t, post(api, `{"events":[`, key), http.StatusBadRequest, "malformed")
		must(t, post(api, `{"events":[{"id":"x","type":"dance"}]}`, key), http.StatusBadRequest, "viewers, comment, like or order")
		must(t, post(api, `{"events":[{"type":"like"}]}`, key), http.StatusBadRequest, "id is required")
		must(t, post(api, `{"events":[{"id":"big","type":"comment","text":"`+strings.Repeat("x", 2<<20)+`"}]}`, key), http.StatusRequestEntityTooLarge)
		must(t, post(fmt.Sprintf("/api/lives/%s/%d/events", b.Tenant.Slug, id+1000), batch, key), http.StatusNotFound)
		other := e.Brand("other")
		must(t, post(fmt.Sprintf("/api/lives/%s/%d/events", other.Tenant.Slug, id), batch, key), http.StatusNotFound)
		if n := count(); n != 4 {
			t.Fatalf("refused requests stored events: %d", n)
		}
	})
}
