package realtime

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
)

// roomServer serves one room over Conn as the web package does: join,
// accept, start, read until the end. Messages a client sends are echoed
// to the room.
type roomServer struct {
	*httptest.Server
	hub     *Hub
	opts    ConnOptions
	dropped atomic.Int64
	joined  sync.WaitGroup
}

func newRoomServer(t *testing.T, opts ConnOptions) *roomServer {
	rs := &roomServer{hub: NewHub(), opts: opts}
	rs.hub.OnDrop = func(string) { rs.dropped.Add(1) }
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := NewConn(rs.opts)
		client := NewClient(0, c.Send, func() { c.Close(ws.StatusGoingAway, "reconnect") })
		rs.hub.Join("room", client)
		if err := c.Accept(w, r); err != nil {
			rs.hub.Leave("room", client)
			return
		}
		c.Start([][]byte{[]byte(`"hello"`)})
		rs.joined.Done()
		go func() {
			defer func() {
				c.Linger()
				rs.hub.Leave("room", client)
			}()
			for {
				b, err := c.Read()
				if err != nil {
					return
				}
				rs.hub.Broadcast("room", b)
			}
		}()
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *roomServer) url() string { return "ws" + strings.TrimPrefix(rs.URL, "http") }

func dial(t *testing.T, rs *roomServer) *websocket.Conn {
	t.Helper()
	rs.joined.Add(1)
	c, _, err := websocket.Dial(context.Background(), rs.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readText(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEveryViewerGetsEveryFrameInOrder(t *testing.T) {
	rs := newRoomServer(t, ConnOptions{MaxMessage: 1 << 10, MaxQueue: 1024, WriteTimeout: 10 * time.Second})
	const viewers, frames = 200, 300
	conns := make([]*websocket.Conn, viewers)
	for i := range conns {
		conns[i] = dial(t, rs)
	}
	rs.joined.Wait()
	var wg sync.WaitGroup
	errs := make(chan error, viewers)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if _, b, err := c.Read(ctx); err != nil || string(b) != `"hello"` {
				errs <- fmt.Errorf("first frame %q, %v", b, err)
				return
			}
			for i := 0; i < frames; i++ {
				_, b, err := c.Read(ctx)
				if err != nil {
					errs <- err
					return
				}
				if want := fmt.Sprint(i); string(b) != want {
					errs <- fmt.Errorf("frame %d is %q", i, b)
					return
				}
			}
		}()
	}
	for i := 0; i < frames; i++ {
		rs.hub.Broadcast("room", []byte(fmt.Sprint(i)))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := rs.dropped.Load(); n != 0 {
		t.Fatalf("%d viewers dropped", n)
	}
}

// A viewer that stops reading is cut off once its queue is full; the
// others get every frame meanwhile — the broadcast never waits for it.
func TestStalledViewerIsDroppedOthersGetEverything(t *testing.T) {
	rs := newRoomServer(t, ConnOptions{MaxMessage: 1 << 10, MaxQueue: 128, WriteTimeout: 30 * time.Second})
	good := []*websocket.Conn{dial(t, rs), dial(t, rs), dial(t, rs)}

	// The stalled viewer: a raw socket that does the handshake and then
	// never reads, so the kernel's buffers fill and its writes block.
	rs.joined.Add(1)
	stalled, err := net.Dial("tcp", strings.TrimPrefix(rs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if tc, ok := stalled.(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10)
	}
	fmt.Fprintf(stalled, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", strings.TrimPrefix(rs.URL, "http://"))
	resp, err := http.ReadResponse(bufio.NewReader(stalled), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("stalled handshake: %v %v", resp, err)
	}
	rs.joined.Wait()

	const frames = 2000
	payload := strings.Repeat("x", 16<<10) // 32 MB in all: more than any socket buffers hold
	done := make(chan error, len(good))
	read := make([]atomic.Int64, len(good)) // frames each good viewer has read
	for k, c := range good {
		go func() {
			defer read[k].Store(1 << 40) // done or failed: the broadcaster stops waiting for it
			if b := readText(t, c); b != `"hello"` {
				done <- fmt.Errorf("first frame %q", b)
				return
			}
			for i := 0; i < frames; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, b, err := c.Read(ctx)
				cancel()
				if err != nil {
					done <- err
					return
				}
				if !strings.HasPrefix(string(b), fmt.Sprintf("%d:", i)) {
					done <- fmt.Errorf("frame %d out of order: %.20q", i, b)
					return
				}
				read[k].Add(1)
			}
			done <- nil
		}()
	}
	for i := 0; i < frames; i++ {
		// Keep the good viewers within half their queue (whatever the
		// machine's load): only the stalled one may fall behind.
		for k := range good {
			for int64(i)-read[k].Load() > 64 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		rs.hub.Broadcast("room", []byte(fmt.Sprintf("%d:%s", i, payload)))
	}
	for range good {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := rs.dropped.Load(); n != 1 {
		t.Fatalf("dropped %d viewers, want exactly the stalled one", n)
	}
	if n := rs.hub.Count("room"); n != len(good) {
		t.Fatalf("%d viewers left in the room, want %d", n, len(good))
	}
}

func TestProtocolLimits(t *testing.T) {
	rs := newRoomServer(t, ConnOptions{MaxMessage: 1 << 10, MaxQueue: 64, WriteTimeout: 10 * time.Second})
	ctx := context.Background()

	t.Run("ping is answered", func(t *testing.T) {
		c := dial(t, rs)
		readText(t, c)
		go c.Read(ctx) // pongs are read by the reader
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := c.Ping(pctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a message over the limit closes with 1009", func(t *testing.T) {
		c := dial(t, rs)
		readText(t, c)
		c.Write(ctx, websocket.MessageText, []byte(strings.Repeat("a", 2<<10)))
		_, _, err := c.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Fatalf("got %v, want close 1009", err)
		}
	})
	t.Run("invalid UTF-8 closes with 1002", func(t *testing.T) {
		c := dial(t, rs)
		readText(t, c)
		c.Write(ctx, websocket.MessageText, []byte{0xff, 0xfe})
		_, _, err := c.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusProtocolError {
			t.Fatalf("got %v, want close 1002", err)
		}
	})
	t.Run("a clean close is answered", func(t *testing.T) {
		c := dial(t, rs)
		readText(t, c)
		if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
			t.Fatalf("close handshake: %v", err)
		}
	})
	t.Run("another site's origin is refused", func(t *testing.T) {
		_, resp, err := websocket.Dial(ctx, rs.url(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin dial: %v %v", resp, err)
		}
	})
	t.Run("a fragmented message is reassembled", func(t *testing.T) {
		c := dial(t, rs)
		readText(t, c)
		w, err := c.Writer(ctx, websocket.MessageText)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(`"frag`))
		w.Write([]byte(`mented"`))
		w.Close()
		if b := readText(t, c); b != `"fragmented"` {
			t.Fatalf("echo %q", b)
		}
	})
}

// frameOut's header is gobwas/ws's, byte for byte, at every length class.
func TestFrameOutHeader(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 0xffff, 0x10000, 1 << 20} {
		o := frameOut(ws.OpText, make([]byte, n))
		var want strings.Builder
		ws.WriteHeader(&want, ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(n)})
		if got := string(o.hdr[:o.n]); got != want.String() {
			t.Errorf("length %d: header %x, want %x", n, got, want.String())
		}
	}
}
