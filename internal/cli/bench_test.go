package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// The generator's frame reader takes server frames of every length class
// split at any byte, finds each comment's send time, and stops at a close.
func TestViewerStatsFrames(t *testing.T) {
	now := time.Unix(100, 0)
	sent := now.Add(-42 * time.Millisecond).UnixNano()
	var stream bytes.Buffer
	comment := fmt.Sprintf(`{"type":"message","text":"bench %d"}`, sent)
	for _, payload := range []string{comment, "[" + comment + "," + comment + "]" + strings.Repeat(" ", 200), comment + strings.Repeat(" ", 70000)} {
		ws.WriteFrame(&stream, ws.NewTextFrame([]byte(payload)))
	}
	ws.WriteFrame(&stream, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "")))
	all := stream.Bytes()
	for _, cut := range []int{1, 2, 3, 7, 100, 4096, len(all)} {
		var st viewerStats
		var buf []byte
		closed := false
		for off := 0; off < len(all) && !closed; off += cut {
			buf, closed = st.frames(append(buf, all[off:min(off+cut, len(all))]...), now)
		}
		if !closed || st.received.Load() != 4 || st.hist.percentile(1) != 42*time.Millisecond {
			t.Fatalf("cut %d: closed %v, %d comments, max %v; want a close, 4 comments at 42ms", cut, closed, st.received.Load(), st.hist.percentile(1))
		}
	}
}
