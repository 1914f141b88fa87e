//go:build linux

package cli

import (
	"context"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// epollReaders reads the viewers' sockets with one epoll loop per core, a
// load generator's job: a goroutine and a wake-up per viewer per frame
// would take the cores the server is being measured on. (Go's poller
// keeps its own registration of each socket; the extra one here only
// reports readiness, and this package reads the bytes.)
type epollReaders struct {
	st    *viewerStats
	ctx   context.Context
	loops []*epollLoop
	next  int
	wg    sync.WaitGroup
}

type epollLoop struct {
	fd    int
	mu    sync.Mutex
	conns map[int32]*epollConn
}

type epollConn struct {
	fd   int
	buf  []byte // an incomplete frame
	done bool
}

func newViewerReader(ctx context.Context, st *viewerStats) (viewerReader, error) {
	r := &epollReaders{st: st, ctx: ctx}
	for range runtime.GOMAXPROCS(0) {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			r.close()
			return nil, err
		}
		l := &epollLoop{fd: fd, conns: map[int32]*epollConn{}}
		r.loops = append(r.loops, l)
		r.wg.Add(1)
		go r.run(l)
	}
	return r, nil
}

func (r *epollReaders) add(c net.Conn, early []byte) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return errNotSocket
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	ec := &epollConn{fd: fd}
	if len(early) > 0 {
		var closed bool
		ec.buf, closed = r.st.frames(early, time.Now())
		ec.done = closed
	}
	l := r.loops[r.next%len(r.loops)]
	r.next++
	l.mu.Lock()
	l.conns[int32(fd)] = ec
	l.mu.Unlock()
	return unix.EpollCtl(l.fd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)})
}

func (r *epollReaders) run(l *epollLoop) {
	defer r.wg.Done()
	events := make([]unix.EpollEvent, 256)
	scratch := make([]byte, 64<<10)
	for r.ctx.Err() == nil {
		n, err := unix.EpollWait(l.fd, events, 200)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		now := time.Now()
		for _, ev := range events[:n] {
			l.mu.Lock()
			c := l.conns[ev.Fd]
			l.mu.Unlock()
			if c == nil || c.done {
				continue
			}
			m, err := unix.Read(c.fd, scratch)
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != nil || m == 0 {
				r.drop(l, c)
				continue
			}
			data := scratch[:m]
			if len(c.buf) > 0 {
				data = append(c.buf, data...)
			}
			rest, closed := r.st.frames(data, now)
			if closed {
				r.drop(l, c)
				continue
			}
			c.buf = append(c.buf[:0:0], rest...)
		}
	}
}

// drop counts a viewer the server cut off (not one closed at the end).
func (r *epollReaders) drop(l *epollLoop, c *epollConn) {
	c.done = true
	unix.EpollCtl(l.fd, unix.EPOLL_CTL_DEL, c.fd, nil)
	if r.ctx.Err() == nil {
		r.st.dropped.Add(1)
	}
}

func (r *epollReaders) close() {
	for _, l := range r.loops {
		unix.Close(l.fd)
	}
	r.wg.Wait()
}
