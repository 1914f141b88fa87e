package realtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// A server-side WebSocket connection built for rooms of thousands: the
// protocol (handshake, framing, masking, control frames, UTF-8 checks) is
// gobwas/ws; what is ours is the shape around it, which no library offers:
//
//   - one goroutine per connection — the reader, blocked in the kernel's
//     poller while the viewer is quiet; no writer goroutine waits on an
//     idle socket, no buffers are held between frames;
//   - writes go to a queue; a small pool of writers (one per core) drains
//     the queues with one non-blocking writev per connection — a
//     broadcast costs each viewer one syscall, and no goroutine. Spawning
//     a goroutine per viewer per frame instead put thousands of runnable
//     goroutines ahead of everything else on every broadcast (the SQLite
//     writer, the sockets' readers), which measured as seconds of p99;
//   - only a connection whose socket is full (a slow client) gets a
//     goroutine of its own, blocked on its socket, until it catches up;
//   - a frame's payload is shared by every viewer of the room (only its
//     2-10 byte header is per connection);
//   - a viewer whose queue is full, or whose socket takes longer than the
//     write timeout, is cut off without delaying anyone else.
//
// coder/websocket (used before) keeps a reader and a writer goroutine and
// bufio buffers per connection: ≈ 50 KB per viewer against a 12 KB budget.

// ConnOptions set a connection's limits.
type ConnOptions struct {
	// MaxMessage is the largest message the client may send; a bigger one
	// closes the connection with 1009 (message too big).
	MaxMessage int64
	// MaxQueue is how many frames may wait for a slow client before Send
	// reports false (the hub then drops the client).
	MaxQueue int
	// WriteTimeout bounds one write to the socket.
	WriteTimeout time.Duration
}

// ErrOrigin is returned by Upgrade for a cross-site handshake.
var ErrOrigin = errors.New("realtime: websocket origin not allowed")

// NewConn returns a connection not yet accepted and held: frames sent
// before Accept and Start wait in its queue, so a client can join its
// room before the handshake and miss nothing published meanwhile.
func NewConn(opts ConnOptions) *Conn { return &Conn{opts: opts, held: true} }

// Accept answers the WebSocket handshake of r. Like a same-origin policy,
// a handshake whose Origin is another host is refused (another site
// cannot open a socket carrying the member's cookie).
func (c *Conn) Accept(w http.ResponseWriter, r *http.Request) error {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			http.Error(w, "websocket: cross-origin request refused", http.StatusForbidden)
			return ErrOrigin
		}
	}
	nc, rw, _, err := ws.HTTPUpgrader{}.Upgrade(r, w)
	if err != nil {
		return err
	}
	// Bytes the client sent right after the handshake may sit in the
	// HTTP server's read buffer: read those first, then the socket, so
	// that 4 KB buffer is not kept for the connection's lifetime.
	var src io.Reader = nc
	if n := rw.Reader.Buffered(); n > 0 {
		early, _ := rw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc)
	}
	c.mu.Lock()
	c.nc = nc
	if sc, ok := nc.(syscall.Conn); ok {
		c.rc, _ = sc.SyscallConn()
	}
	c.rd = wsutil.Reader{Source: src, State: ws.StateServerSide, CheckUTF8: true,
		MaxFrameSize: c.opts.MaxMessage, MaxMessageSize: c.opts.MaxMessage, OnIntermediate: c.control}
	closed := c.closed
	if !closed {
		c.kick()
	}
	c.mu.Unlock()
	if closed { // dropped while the handshake ran
		nc.Close()
		return net.ErrClosed
	}
	return nil
}

// Conn is one client's WebSocket.
type Conn struct {
	nc   net.Conn
	rc   syscall.RawConn // the socket under nc, for non-blocking writes (nil: not a plain socket)
	opts ConnOptions
	rd   wsutil.Reader

	mu       sync.Mutex
	queue    []out // frames waiting to be written, in order
	held     bool  // not started: frames wait
	flushing bool  // a goroutine is writing the queue
	closing  bool  // close once the queue is written
	closed   bool
}

// out is a queued frame: its header, encoded for this connection, and a
// payload shared with the room.
type out struct {
	hdr  [ws.MaxHeaderSize]byte
	n    uint8
	body []byte
}

// frameOut encodes a server frame's header (RFC 6455 §5.2: FIN and the
// opcode, the payload length in 7, 7+16 or 7+64 bits, no mask) in place,
// so queuing a frame allocates nothing.
func frameOut(op ws.OpCode, body []byte) out {
	o := out{body: body}
	o.hdr[0] = 0x80 | byte(op)
	switch n := len(body); {
	case n < 126:
		o.hdr[1], o.n = byte(n), 2
	case n <= 0xffff:
		o.hdr[1], o.n = 126, 4
		binary.BigEndian.PutUint16(o.hdr[2:], uint16(n))
	default:
		o.hdr[1], o.n = 127, 10
		binary.BigEndian.PutUint64(o.hdr[2:], uint64(n))
	}
	return o
}

// Send queues a text message without blocking. It reports false when the
// client is too far behind (or gone): the caller drops it.
func (c *Conn) Send(payload []byte) bool { return c.enqueue(frameOut(ws.OpText, payload)) }

func (c *Conn) enqueue(o out) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.closing {
		return false
	}
	if c.opts.MaxQueue > 0 && len(c.queue) >= c.opts.MaxQueue {
		return false
	}
	c.queue = append(c.queue, o)
	c.kick()
	return true
}

// kick hands the connection to the writers if there is work and nobody
// is on it; c.mu is held.
func (c *Conn) kick() {
	if c.held || c.flushing || len(c.queue) == 0 || c.nc == nil {
		return
	}
	c.flushing = true
	select {
	case writers() <- c:
	default: // the pool is swamped: this one writes on its own
		go c.flush()
	}
}

// The writer pool: GOMAXPROCS goroutines taking connections with frames
// to write, in turn.
var (
	writerPool     chan *Conn
	writerPoolOnce sync.Once
)

func writers() chan *Conn {
	writerPoolOnce.Do(func() {
		writerPool = make(chan *Conn, 1<<16)
		for range runtime.GOMAXPROCS(0) {
			go func() {
				w := newRawWriter()
				for c := range writerPool {
					c.writeReady(w)
				}
			}()
		}
	})
	return writerPool
}

// Start writes first (catch-up) ahead of whatever was queued meanwhile,
// then lets the queue flow.
func (c *Conn) Start(first [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(first) > 0 {
		head := make([]out, 0, len(first)+len(c.queue))
		for _, p := range first {
			head = append(head, frameOut(ws.OpText, p))
		}
		c.queue = append(head, c.queue...)
	}
	c.held = false
	c.kick()
}

// take empties the queue, appending the iovecs of one write to dst; q is
// the queue taken, for the caller to recycle.
func (c *Conn) take(dst net.Buffers) (bufs net.Buffers, q []out, closing bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q = c.queue
	c.queue = nil
	if len(q) == 0 || c.closed {
		c.flushing = false
		return nil, nil, c.closing && !c.closed
	}
	bufs = dst
	for i := range q {
		if q[i].n > 0 {
			bufs = append(bufs, q[i].hdr[:q[i].n])
		}
		if len(q[i].body) > 0 {
			bufs = append(bufs, q[i].body)
		}
	}
	return bufs, q, false
}

// writeReady is a pool writer's turn on the connection: write what is
// queued without blocking; what the socket cannot take now is put back
// at the head of the queue and the connection gets a goroutine of its own
// that waits for the socket. The writer's scratch space makes the common
// case allocate nothing.
func (c *Conn) writeReady(w *rawWriter) {
	bufs, q, closing := c.take(w.bufs[:0])
	if bufs == nil {
		if closing {
			c.halfClose()
		}
		return
	}
	rest, err := w.tryWrite(c.rc, bufs)
	w.bufs = bufs[:0]
	clear(bufs[:cap(bufs)]) // drop the payloads: the room's frames are not ours to keep
	switch {
	case err != nil:
		c.mu.Lock()
		c.flushing = false
		c.mu.Unlock()
		c.shut()
	case len(rest) > 0:
		c.mu.Lock()
		c.queue = append([]out{{body: bytes.Join(rest, nil)}}, c.queue...)
		c.mu.Unlock()
		go c.flush()
	default:
		clear(q)
		c.mu.Lock()
		if c.queue == nil && cap(q) <= 4 {
			c.queue = q[:0] // reuse: the next frame queues without allocating
		}
		c.flushing = false
		c.kick() // frames queued meanwhile, or the close
		if !c.flushing && c.closing && !c.closed && len(c.queue) == 0 {
			c.flushing = true // the half-close is this writer's to do
			c.mu.Unlock()
			c.halfClose()
			c.mu.Lock()
			c.flushing = false
		}
		c.mu.Unlock()
	}
}

// flush writes the queue, blocking on the socket, until it is empty: the
// path of a client the pool could not finish.
func (c *Conn) flush() {
	for {
		bufs, _, closing := c.take(nil)
		if bufs == nil {
			if closing {
				c.halfClose()
			}
			return
		}
		if c.opts.WriteTimeout > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
		}
		if _, err := bufs.WriteTo(c.nc); err != nil {
			c.mu.Lock()
			c.flushing = false
			c.mu.Unlock()
			c.shut()
			return
		}
	}
}

// Close sends a close frame after what is queued, then closes — at once
// if the client is too far behind to be worth the wait.
func (c *Conn) Close(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if c.opts.MaxQueue > 0 && len(c.queue) >= c.opts.MaxQueue {
		c.mu.Unlock()
		c.shut()
		return
	}
	defer c.mu.Unlock()
	if c.closed || c.closing {
		return
	}
	c.queue = append(c.queue, frameOut(ws.OpClose, ws.NewCloseFrameBody(code, reason)))
	c.closing = true
	c.held = false
	c.kick()
}

// lingerTime is how long a closing connection waits for the client's
// close frame and its end of the stream.
const lingerTime = 3 * time.Second

// halfClose ends our side once the close frame is written: the client
// reads it, answers, and closes; closing the socket outright while its
// unread bytes sit in our receive buffer would reset the connection and
// lose the close frame on the way.
func (c *Conn) halfClose() {
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		c.nc.SetReadDeadline(time.Now().Add(lingerTime))
		return
	}
	c.shut()
}

// Linger is how a connection's reader ends: once a close is under way it
// discards what the client still sends until the client closes (or
// lingerTime passes), then closes the socket; otherwise it closes at once.
func (c *Conn) Linger() {
	c.mu.Lock()
	closing, nc := c.closing && !c.closed, c.nc
	c.mu.Unlock()
	if closing && nc != nil {
		nc.SetReadDeadline(time.Now().Add(lingerTime))
		io.Copy(io.Discard, nc)
	}
	c.shut()
}

// CloseNow closes the socket at once (a slow or vanished client).
func (c *Conn) CloseNow() { c.shut() }

func (c *Conn) shut() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue = nil
	nc := c.nc
	c.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
}

// Read blocks for the client's next text or binary message, answering
// pings and close frames on the way. It returns an error when the
// connection ends; a message over MaxMessage closes it with 1009.
func (c *Conn) Read() ([]byte, error) {
	for {
		hdr, err := c.rd.NextFrame()
		if err != nil {
			c.fail(err)
			return nil, err
		}
		if hdr.OpCode.IsControl() {
			if err := c.control(hdr, &c.rd); err != nil {
				c.fail(err)
				return nil, err
			}
			continue
		}
		b, err := io.ReadAll(&c.rd)
		if err != nil {
			c.fail(err)
			return nil, err
		}
		return b, nil
	}
}

// control answers a ping or a close frame (the reader has unmasked it).
func (c *Conn) control(hdr ws.Header, r io.Reader) error {
	var b bytes.Buffer
	err := wsutil.ControlHandler{Src: r, Dst: &b, State: ws.StateServerSide, DisableSrcCiphering: true}.Handle(hdr)
	if b.Len() > 0 {
		c.enqueueRaw(b.Bytes(), hdr.OpCode == ws.OpClose)
	}
	return err
}

// enqueueRaw queues an already encoded control frame (a pong, the close
// reply); after a close reply the connection closes once it is written.
func (c *Conn) enqueueRaw(frame []byte, closeAfter bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.closing {
		return
	}
	var o out
	o.body = bytes.Clone(frame) // header and body together, written as is
	c.queue = append(c.queue, o)
	if closeAfter {
		c.closing = true
		c.held = false
	}
	c.kick()
}

// fail answers a read error the client should hear about with its close
// code (a message too big, a protocol error); the reader then Lingers.
// (A close frame from the client was answered by control.)
func (c *Conn) fail(err error) {
	switch {
	case errors.Is(err, wsutil.ErrFrameTooLarge), errors.Is(err, wsutil.ErrMessageTooLarge):
		c.Close(ws.StatusMessageTooBig, "message too big")
	case errors.Is(err, wsutil.ErrInvalidUTF8), isProtocolError(err):
		c.Close(ws.StatusProtocolError, "protocol error")
	}
}

func isProtocolError(err error) bool {
	var pe ws.ProtocolError
	return errors.As(err, &pe)
}
