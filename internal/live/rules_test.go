package live_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
)

func TestValidate(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ok := live.Live{Title: "夏季新品直播", ScheduledAt: now.Add(time.Hour), StreamURL: "https://live.example.com/room/1",
		EmbedURL: "https://cdn.example.com/live.m3u8",
		Alert:    live.Alert{Groups: []int64{1, 2}, Repeat: 3, Interval: 10 * time.Minute},
		Products: []live.Product{{Position: 1, Name: "连衣裙", Price: 19900, LivePrice: 12900, Stock: 50, CoverURL: "http://img.example.com/a.jpg"}}}
	if err := live.Validate(ok, now); err != nil {
		t.Fatal(err)
	}
	many := make([]live.Product, live.MaxProducts+1)
	for name, c := range map[string]struct {
		change func(*live.Live)
		want   string
	}{
		"no title":          {func(l *live.Live) { l.Title = "  " }, "title is empty"},
		"long title":        {func(l *live.Live) { l.Title = strings.Repeat("长", 101) }, "title is longer than 100"},
		"title 100 runes":   {func(l *live.Live) { l.Title = strings.Repeat("长", 100) }, ""},
		"no time":           {func(l *live.Live) { l.ScheduledAt = time.Time{} }, "time is not set"},
		"past":              {func(l *live.Live) { l.ScheduledAt = now.Add(-2 * time.Hour) }, "time is in the past"},
		"a minute ago":      {func(l *live.Live) { l.ScheduledAt = now.Add(-time.Minute) }, ""},
		"too far":           {func(l *live.Live) { l.ScheduledAt = now.Add(400 * 24 * time.Hour) }, "a year ahead"},
		"javascript stream": {func(l *live.Live) { l.StreamURL = "javascript:alert(1)" }, "stream URL must be an http(s) link"},
		"relative embed":    {func(l *live.Live) { l.EmbedURL = "/live.m3u8" }, "embed URL must be an http(s) link"},
		"data embed":        {func(l *live.Live) { l.EmbedURL = "data:text/html,x" }, "embed URL must be an http(s) link"},
		"long URL":          {func(l *live.Live) { l.StreamURL = "https://a.example/" + strings.Repeat("x", 2000) }, "longer than 2000"},
		"no URLs":           {func(l *live.Live) { l.StreamURL, l.EmbedURL = "", "" }, ""},
		"bad group":         {func(l *live.Live) { l.Alert.Groups = []int64{1, 1} }, "alert group 1 is not valid or repeated"},
		"zero repeat":       {func(l *live.Live) { l.Alert.Repeat = 0 }, "alert repeat must be 1 to 10"},
		"11 repeats":        {func(l *live.Live) { l.Alert.Repeat = 11 }, "alert repeat must be 1 to 10"},
		"short interval":    {func(l *live.Live) { l.Alert.Interval = 30 * time.Second }, "alert interval"},
		"one alert":         {func(l *live.Live) { l.Alert.Repeat, l.Alert.Interval = 1, 0 }, ""},
		"no alerts":         {func(l *live.Live) { l.Alert = live.Alert{} }, ""},
		"no products":       {func(l *live.Live) { l.Products = nil }, ""},
		"101 products":      {func(l *live.Live) { l.Products = many }, "at most 100 products"},
		"no product name":   {func(l *live.Live) { l.Products[0].Name = "" }, "product 1 name is empty"},
		"negative price":    {func(l *live.Live) { l.Products[0].Price = -1 }, "product 1 price must be 0"},
		"negative live":     {func(l *live.Live) { l.Products[0].LivePrice = -5 }, "product 1 live price must be 0"},
		"free":              {func(l *live.Live) { l.Products[0].Price, l.Products[0].LivePrice = 0, 0 }, ""},
		"negative stock":    {func(l *live.Live) { l.Products[0].Stock = -1 }, "product 1 stock must be 0"},
		"position 0":        {func(l *live.Live) { l.Products[0].Position = 0 }, "product 1 position 0"},
		"position twice": {func(l *live.Live) {
			l.Products = append(l.Products, live.Product{Position: 1, Name: "b"})
		}, "product 2 position 1"},
		"cover ftp": {func(l *live.Live) { l.Products[0].CoverURL = "ftp://x/y.jpg" }, "product 1 cover URL must be an http(s) link"},
	} {
		l := ok
		l.Products = slices.Clone(ok.Products)
		l.Alert.Groups = slices.Clone(ok.Alert.Groups)
		c.change(&l)
		err := live.Validate(l, now)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, live.ErrInvalid) || !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestNext(t *testing.T) {
	const (
		move  = "move"
		noop  = "noop"
		bad   = "invalid"
		ended = "ended"
	)
	S, W, L, E := live.StateScheduled, live.StateWarming, live.StateLive, live.StateEnded
	for _, c := range []struct {
		from, to live.State
		want     string
	}{
		{S, W, move}, {W, W, noop}, {L, W, bad}, {E, W, ended},
		{S, L, move}, {W, L, move}, {L, L, noop}, {E, L, ended},
		{S, E, bad}, {W, E, bad}, {L, E, move}, {E, E, noop},
		{S, S, bad}, {L, S, bad}, {E, S, ended}, {S, "paused", bad},
	} {
		m, err := live.Next(c.from, c.to)
		var got string
		switch {
		case errors.Is(err, live.ErrEnded):
			got = ended
		case errors.Is(err, live.ErrInvalid):
			got = bad
		case err != nil:
			got = err.Error()
		case m:
			got = move
		default:
			got = noop
		}
		if got != c.want {
			t.Errorf("%s → %s: %s, want %s", c.from, c.to, got, c.want)
		}
	}
	if _, err := live.Next(E, L); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "has ended") {
		t.Errorf("starting an ended live: %v", err)
	}
}

func TestAlertsDue(t *testing.T) {
	start := time.Date(2025, 6, 1, 20, 0, 0, 0, time.UTC)
	on := live.Live{ID: 7, State: live.StateLive, StartedAt: start,
		Alert: live.Alert{Groups: []int64{1, 2}, Repeat: 3, Interval: 10 * time.Minute}}
	for _, c := range []struct {
		name   string
		change func(*live.Live)
		at     time.Duration // after the start
		want   []int
	}{
		{"at the start", nil, 0, []int{1}},
		{"before the start", nil, -time.Second, nil},
		{"just before the second", nil, 10*time.Minute - time.Millisecond, []int{1}},
		{"second", nil, 10 * time.Minute, []int{1, 2}},
		{"third", nil, 25 * time.Minute, []int{1, 2, 3}},
		{"no more than repeat", nil, 5 * time.Hour, []int{1, 2, 3}},
		{"one alert", func(l *live.Live) { l.Alert.Repeat, l.Alert.Interval = 1, 0 }, time.Hour, []int{1}},
		{"ended", func(l *live.Live) { l.State, l.EndedAt = live.StateEnded, start.Add(15*time.Minute) }, 12 * time.Minute, nil},
		{"not started", func(l *live.Live) { l.State, l.StartedAt = live.StateScheduled, time.Time{} }, 0, nil},
		{"warming", func(l *live.Live) { l.State = live.StateWarming }, 0, nil},
		{"no groups", func(l *live.Live) { l.Alert.Groups = nil }, 0, nil},
	} {
		l := on
		if c.change != nil {
			c.change(&l)
		}
		if got := live.AlertsDue(l, start.Add(c.at)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if at, ok := live.NextAlert(on, start.Add(time.Minute)); !ok || !at.Equal(start.Add(10*time.Minute)) {
		t.Errorf("next after 1 min: %v %v", at, ok)
	}
	if at, ok := live.NextAlert(on, start.Add(-time.Minute)); !ok || !at.Equal(start) {
		t.Errorf("next before the start: %v %v", at, ok)
	}
	if _, ok := live.NextAlert(on, start.Add(20*time.Minute)); ok {
		t.Error("no alert after the last")
	}
	ended := on
	ended.State = live.StateEnded
	if _, ok := live.NextAlert(ended, start); ok {
		t.Error("no alert after the end")
	}
	// One key per live, alert number and group: what the outbox dedups on.
	keys := map[string]bool{}
	for _, n := range live.AlertsDue(on, start.Add(time.Hour)) {
		for _, g := range on.Alert.Groups {
			keys[live.AlertKey(on.ID, n, g)] = true
		}
	}
	if len(keys) != 6 || !keys["live:7:alert:2:1"] {
		t.Errorf("keys %v", keys)
	}
}

func TestRecap(t *testing.T) {
	start := time.Date(2025, 6, 1, 20, 0, 0, 0, time.UTC)
	l := live.Live{ID: 3, Title: "t", State: live.StateEnded, StartedAt: start, EndedAt: start.Add(90 * time.Minute),
		Products: []live.Product{{ID: 1, Position: 1, Stock: 0}, {ID: 2, Position: 2, Stock: 4}, {ID: 3, Position: 3, Stock: 0}}}
	r := live.Recap(l)
	if r.Duration != 90*time.Minute || len(r.Products) != 3 || fmt.Sprint(productIDs(r.SoldOut)) != "[1 3]" {
		t.Fatalf("recap %+v", r)
	}
	if live.RecapKey(3, 9) != "live:3:recap:9" {
		t.Fatal(live.RecapKey(3, 9))
	}
	if r := live.Recap(live.Live{Title: "never on"}); r.Duration != 0 || r.SoldOut != nil {
		t.Fatalf("recap of a live that never ran: %+v", r)
	}
}

func productIDs(ps []live.Product) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}
