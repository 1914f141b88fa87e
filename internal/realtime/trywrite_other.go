//go:build !(darwin || linux || openbsd)

package realtime

import "net"

// tryWrite writes nothing here: every write takes the blocking path.
func tryWrite(_ net.Conn, bufs net.Buffers) (net.Buffers, error) { return bufs, nil }
