//go:build !linux

package realtime

import (
	"net"
	"syscall"
)

// rawWriter writes nothing here: every write takes the blocking path.
type rawWriter struct{ bufs net.Buffers }

func newRawWriter() *rawWriter { return &rawWriter{} }

func (w *rawWriter) tryWrite(_ syscall.RawConn, bufs net.Buffers) (net.Buffers, error) {
	return bufs, nil
}
