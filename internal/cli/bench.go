package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// bench is `liveloop bench live`: a load generator, run as its own process
// beside a running liveloop, that holds many viewers in one live room
// while members comment and like at a steady rate, and reports how many
// viewers were held, the delivery latency of comments (p50, p99), what was
// lost, and the server's memory per viewer (from its /metrics).
func bench(e env, args []string) error {
	if len(args) > 0 && args[0] == "analytics" {
		return benchAnalytics(e, args[1:])
	}
	if len(args) == 0 || args[0] != "live" {
		return errors.New("usage: liveloop bench live -url URL -room /l/BRAND/ID -join CODE [-viewers N -commenters N -rate R -duration D]\n" +
			"       liveloop " + benchAnalyticsUsage)
	}
	fs := flag.NewFlagSet("liveloop bench live", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the liveloop to load")
	room := fs.String("room", "", "the live room's path, e.g. /l/bloom/1")
	join := fs.String("join", "", "a join code of the brand (commenters join with it)")
	viewers := fs.Int("viewers", 1000, "viewer connections to hold")
	commenters := fs.Int("commenters", 10, "members who comment (each at most 2 a second: the member send limit)")
	rate := fs.Float64("rate", 10, "comments per second in all")
	likes := fs.Float64("likes", 20, "likes per second in all")
	duration := fs.Duration("duration", 30*time.Second, "how long to comment")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *room == "" || *join == "" {
		return errors.New("-room and -join are required (liveloop demo prints both)")
	}
	ctx := e.ctx
	before, _ := serverRSS(*base)

	// Viewers: anonymous sockets that record when each comment arrives.
	// The generator shares the machine's two cores with the server, so a
	// viewer is as cheap as it can be: on Linux one epoll loop per core
	// reads every socket (no goroutine per viewer), gobwas/ws frames,
	// the timestamps found without decoding JSON, the latencies counted in
	// a shared histogram of milliseconds.
	st := &viewerStats{}
	hist, received, dropped := &st.hist, &st.received, &st.dropped
	readers, err := newViewerReader(ctx, st)
	if err != nil {
		return err
	}
	defer readers.close()
	wsURL := strings.Replace(*base, "http", "ws", 1) + *room + "/ws"
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < *viewers; i++ {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, br, _, err := ws.Dialer{}.Dial(dctx, wsURL)
		cancel()
		if err != nil {
			return fmt.Errorf("viewer %d: %w (held %d)", i, err, i)
		}
		conns = append(conns, c)
		var early []byte
		if br != nil && br.Buffered() > 0 {
			early, _ = br.Peek(br.Buffered())
			early = bytes.Clone(early)
		}
		if err := readers.add(c, early); err != nil {
			return fmt.Errorf("viewer %d: %w", i, err)
		}
	}
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	held, _ := serverRSS(*base)

	// Commenters: members (joined through the code) on their own sockets.
	type member struct{ c *websocket.Conn }
	var members []member
	for i := 0; i < *commenters; i++ {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *base+"/j/"+*join, strings.NewReader(url.Values{"name": {fmt.Sprint("bench", i)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", *base)
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("commenter %d joins: %w", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("commenter %d joins: status %d (a join question on that group?)", i, resp.StatusCode)
		}
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, _, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {*base}},
			HTTPClient: &http.Client{Jar: jar}})
		cancel()
		if err != nil {
			return fmt.Errorf("commenter %d: %w", i, err)
		}
		defer c.CloseNow()
		go func() { // drain
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
		members = append(members, member{c})
	}
	var sent int64
	commentEvery := time.Duration(float64(time.Second) / *rate)
	likeEvery := time.Duration(float64(time.Second) / max(*likes, 0.001))
	tc, tl := time.NewTicker(commentEvery), time.NewTicker(likeEvery)
	defer tc.Stop()
	defer tl.Stop()
	end := time.After(*duration)
	n := 0
loop:
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-end:
			break loop
		case <-tc.C:
			m := members[n%len(members)]
			n++
			b, _ := json.Marshal(map[string]string{"type": "send", "client_id": fmt.Sprintf("bench-%012d", n),
				"text": "bench " + strconv.FormatInt(time.Now().UnixNano(), 10)})
			if m.c.Write(ctx, websocket.MessageText, b) == nil {
				sent++
			}
		case <-tl.C:
			wsutil.WriteClientText(conns[n%len(conns)], []byte(`{"type":"like"}`))
		}
	}
	time.Sleep(3 * time.Second) // the last comments in flight
	pct := hist.percentile
	expected := sent * int64(*viewers)
	fmt.Fprintf(e.stdout, "viewers held: %d (dropped by the server: %d)\n", *viewers-int(dropped.Load()), dropped.Load())
	fmt.Fprintf(e.stdout, "comments: %d sent at %.1f/s, %d of %d deliveries received (%.2f%%)\n", sent, *rate, received.Load(), expected,
		100*float64(received.Load())/float64(max(expected, 1)))
	fmt.Fprintf(e.stdout, "delivery latency: p50 %s, p99 %s, max %s (to the millisecond)\n", pct(0.50), pct(0.99), pct(1))
	if before > 0 && held > 0 {
		fmt.Fprintf(e.stdout, "server memory: %.1f MB before, %.1f MB holding the viewers: %.1f KB per viewer\n",
			float64(before)/1e6, float64(held)/1e6, float64(held-before)/1e3/float64(*viewers))
	}
	return nil
}

// viewerStats is what the viewers saw.
type viewerStats struct {
	hist     latencyHistogram
	received atomic.Int64
	dropped  atomic.Int64
}

// frames reads the complete server frames at the head of b (unmasked, as
// a server sends them), records the comments' latencies, and returns the
// bytes of an incomplete frame left over; closed is true on a close frame.
func (st *viewerStats) frames(b []byte, now time.Time) (rest []byte, closed bool) {
	for len(b) >= 2 {
		op, n, h := ws.OpCode(b[0]&0x0f), int(b[1]&0x7f), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return b, false
			}
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return b, false
			}
			n, h = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		if len(b) < h+n {
			return b, false
		}
		if op == ws.OpClose {
			return nil, true
		}
		st.record(b[h:h+n], now)
		b = b[h+n:]
	}
	return b, false
}

// record finds the send times in a message (a batch holds several).
func (st *viewerStats) record(payload []byte, now time.Time) {
	for rest := payload; ; {
		i := bytes.Index(rest, benchMark)
		if i < 0 {
			return
		}
		j := i + len(benchMark)
		k := j
		for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			k++
		}
		if ns, err := strconv.ParseInt(string(rest[j:k]), 10, 64); err == nil {
			st.received.Add(1)
			st.hist.add(now.Sub(time.Unix(0, ns)))
		}
		rest = rest[k:]
	}
}

// latencyHistogram counts latencies by the millisecond, up to a minute.
type latencyHistogram struct {
	ms [60_001]atomic.Int64 // the last bucket: a minute or more
}

func (h *latencyHistogram) add(d time.Duration) {
	h.ms[min(max(d.Milliseconds(), 0), int64(len(h.ms)-1))].Add(1)
}

// percentile is the latency under which a fraction p of the deliveries
// arrived (p = 1: the slowest).
func (h *latencyHistogram) percentile(p float64) time.Duration {
	var total int64
	for i := range h.ms {
		total += h.ms[i].Load()
	}
	if total == 0 {
		return 0
	}
	want := int64(math.Ceil(p * float64(total)))
	var seen int64
	for i := range h.ms {
		if seen += h.ms[i].Load(); seen >= max(want, 1) {
			return time.Duration(i) * time.Millisecond
		}
	}
	return time.Duration(len(h.ms)-1) * time.Millisecond
}

// benchMark precedes a comment's send time in the frames viewers get.
var benchMark = []byte(`"text":"bench `)

// serverRSS reads process_resident_memory_bytes from liveloop's /metrics.
func serverRSS(base string) (int64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int64(f), err
		}
	}
	return 0, errors.New("no process_resident_memory_bytes in /metrics")
}

// viewerReader reads the viewers' sockets into viewerStats.
type viewerReader interface {
	add(c net.Conn, early []byte) error
	close()
}

var errNotSocket = errors.New("bench: a viewer's connection is not a socket")
