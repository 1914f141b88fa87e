//go:build !linux

package cli

import (
	"context"
	"net"
	"time"
)

// goroutineReaders reads each viewer's socket on a goroutine of its own.
type goroutineReaders struct {
	ctx context.Context
	st  *viewerStats
}

func newViewerReader(ctx context.Context, st *viewerStats) (viewerReader, error) {
	return &goroutineReaders{ctx: ctx, st: st}, nil
}

func (r *goroutineReaders) add(c net.Conn, early []byte) error {
	go func() {
		buf := early
		scratch := make([]byte, 16<<10)
		for {
			n, err := c.Read(scratch)
			if err != nil {
				if r.ctx.Err() == nil {
					r.st.dropped.Add(1)
				}
				return
			}
			rest, closed := r.st.frames(append(buf, scratch[:n]...), time.Now())
			if closed {
				if r.ctx.Err() == nil {
					r.st.dropped.Add(1)
				}
				return
			}
			buf = append([]byte(nil), rest...)
		}
	}()
	return nil
}

func (r *goroutineReaders) close() {}
