//go:build darwin || linux || openbsd

package realtime

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxIovecs stays under the kernel's IOV_MAX (1024).
const maxIovecs = 1000

// tryWrite writes bufs to the socket without waiting for it: what the
// socket's buffer cannot take now is returned. Go's net package has no
// non-blocking write, so this goes under it with the raw descriptor
// (already non-blocking: Go's poller owns it).
func tryWrite(nc net.Conn, bufs net.Buffers) (net.Buffers, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return bufs, nil // not a plain socket (TLS…): the blocking path writes it
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return bufs, nil
	}
	var werr error
	for len(bufs) > 0 && werr == nil {
		chunk := bufs[:min(len(bufs), maxIovecs)]
		var n int
		err := rc.Write(func(fd uintptr) bool {
			n, werr = unix.Writev(int(fd), chunk)
			return true // never wait here
		})
		if err != nil {
			return bufs, err
		}
		if errors.Is(werr, unix.EAGAIN) || errors.Is(werr, unix.EINTR) {
			return bufs, nil
		}
		if werr != nil {
			return bufs, werr
		}
		full := n < chunkLen(chunk)
		consume(&bufs, n)
		if full {
			return bufs, nil // the socket's buffer is full
		}
	}
	return bufs, nil
}

func chunkLen(b net.Buffers) (n int) {
	for _, p := range b {
		n += len(p)
	}
	return n
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
