package conformance

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel/line/linetest"
	"github.com/liveloop/liveloop/internal/channel/telegram/telegramtest"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// BenchmarkWebhook measures inbound platform events per second through the
// whole path: HTTP, signature check, parsing, ingestion (group, identity,
// membership, event, deduplication) and the rules applied by the runner —
// timed until the runner's cursor has passed the last event. 50 members
// write in one group, from 8 concurrent deliverers.
//
//	go test -run '^$' -bench Webhook -benchtime 2000x -count 3 ./internal/conformance/
func BenchmarkWebhook(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run("telegram/"+string(d), func(b *testing.B) { benchTelegram(b, d) })
		b.Run("line/"+string(d), func(b *testing.B) { benchLINE(b, d) })
	}
}

func benchTelegram(b *testing.B, d store.Dialect) {
	br, drv := newTelegram(b, d)
	chat := drv.chat
	users := make([]telegramtest.User, 50)
	for i := range users {
		users[i] = telegramtest.User{ID: 6_000_000_000 + int64(i), FirstName: fmt.Sprint("fan", i)}
	}
	deliver(b, br, func(i int) *http.Request {
		return telegramtest.WebhookRequest(drv.hook, drv.secret, telegramtest.TextUpdate(int64(10_000+i), chat, users[i%len(users)], "今天的直播好好看"))
	})
}

func benchLINE(b *testing.B, d store.Dialect) {
	br, drv := newLINE(b, d)
	deliver(b, br, func(i int) *http.Request {
		ev := linetest.Event{ID: fmt.Sprintf("bench-%d", i), Chat: lineGroup, User: fmt.Sprintf("U%032d", i%50)}
		return linetest.Webhook(drv.hook, lineSecret, linetest.Callback(linetest.TextMessage(ev, fmt.Sprint("m", i), "今天的直播好好看")))
	})
}

// deliver posts b.N deliveries from 8 goroutines and waits for the runner.
func deliver(b *testing.B, br *brand, req func(i int) *http.Request) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				resp, err := client.Do(req(i))
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("delivery %d: %d", i, resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The rules have run when the runner's cursor passed the last event.
	for {
		var last, cursor int64
		db := br.e.App.DB
		db.R.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&last)
		db.R.QueryRow(`SELECT last_event_id FROM bot_cursor`).Scan(&cursor)
		if cursor >= last {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
