//go:build linux

package realtime

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxIovecs stays under the kernel's IOV_MAX (1024).
const maxIovecs = 1000

// rawWriter is a pool writer's scratch space for non-blocking writes: Go's
// net package has no non-blocking write, so this goes under it with the
// raw descriptor (already non-blocking: Go's poller owns it). Everything a
// write needs lives here, reused, so a write allocates nothing.
type rawWriter struct {
	bufs  net.Buffers
	iov   []unix.Iovec
	n     int
	errno syscall.Errno
	call  func(fd uintptr) bool
}

func newRawWriter() *rawWriter {
	w := &rawWriter{}
	w.call = w.writev
	return w
}

func (w *rawWriter) writev(fd uintptr) bool {
	r, _, e := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.iov[0])), uintptr(len(w.iov)))
	w.n, w.errno = int(r), e
	if e != 0 {
		w.n = 0
	}
	return true // never wait here
}

// tryWrite writes bufs to the socket without waiting for it and returns
// what the socket's buffer could not take now.
func (w *rawWriter) tryWrite(rc syscall.RawConn, bufs net.Buffers) (net.Buffers, error) {
	if rc == nil {
		return bufs, nil // not a plain socket (TLS…): the blocking path writes it
	}
	for len(bufs) > 0 {
		chunk := bufs[:min(len(bufs), maxIovecs)]
		w.iov = w.iov[:0]
		total := 0
		for _, b := range chunk {
			if len(b) > 0 {
				var v unix.Iovec
				v.Base = &b[0]
				v.SetLen(len(b))
				w.iov = append(w.iov, v)
				total += len(b)
			}
		}
		if total == 0 {
			bufs = bufs[len(chunk):]
			continue
		}
		err := rc.Write(w.call)
		clear(w.iov) // the iovecs point at payloads
		switch {
		case err != nil:
			return bufs, err
		case w.errno == unix.EAGAIN || w.errno == unix.EINTR:
			return bufs, nil
		case w.errno != 0:
			return bufs, w.errno
		}
		consume(&bufs, w.n)
		if w.n < total {
			return bufs, nil // the socket's buffer is full
		}
	}
	return bufs, nil
}

// consume drops the first n bytes of b.
func consume(b *net.Buffers, n int) {
	for len(*b) > 0 && n > 0 {
		if n < len((*b)[0]) {
			(*b)[0] = (*b)[0][n:]
			return
		}
		n -= len((*b)[0])
		*b = (*b)[1:]
	}
}
