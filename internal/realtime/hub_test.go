package realtime

import "testing"

// chanClient is a client whose frames land in a buffered channel: full
// means too slow.
type chanClient struct {
	*Client
	frames chan []byte
	done   chan struct{}
}

func newChanClient(buffer int) *chanClient {
	c := &chanClient{frames: make(chan []byte, buffer), done: make(chan struct{})}
	c.Client = NewClient(0, func(b []byte) bool {
		select {
		case c.frames <- b:
			return true
		default:
			return false
		}
	}, func() { close(c.done) })
	return c
}

func (c *chanClient) dropped() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func TestBroadcastReachesRoomOnly(t *testing.T) {
	h := NewHub()
	a, b := newChanClient(4), newChanClient(4)
	h.Join("g1", a.Client)
	h.Join("g2", b.Client)
	h.Broadcast("g1", []byte("hello"))
	if got := string(<-a.frames); got != "hello" {
		t.Fatalf("a got %q", got)
	}
	select {
	case f := <-b.frames:
		t.Fatalf("b in another room got %q", f)
	default:
	}
}

func TestSlowClientIsDroppedNotBlocking(t *testing.T) {
	h := NewHub()
	slow, fast := newChanClient(1), newChanClient(8)
	h.Join("g", slow.Client)
	h.Join("g", fast.Client)
	dropped := 0
	h.OnDrop = func(string) { dropped++ }
	for i := 0; i < 3; i++ {
		h.Broadcast("g", []byte{byte(i)})
	}
	if !slow.dropped() {
		t.Fatal("slow client not dropped")
	}
	if fast.dropped() || len(fast.frames) != 3 {
		t.Fatalf("fast client has %d frames (dropped %v), want 3", len(fast.frames), fast.dropped())
	}
	if dropped != 1 {
		t.Fatalf("OnDrop called %d times for one slow client, want 1", dropped)
	}
}

func TestDropKeyDropsOnlyThatMember(t *testing.T) {
	h := NewHub()
	a, b := newChanClient(1), newChanClient(1)
	a.Key, b.Key = 7, 8
	h.Join("g", a.Client)
	h.Join("g", b.Client)
	h.DropKey("g", 7)
	if !a.dropped() || b.dropped() {
		t.Fatalf("dropped: a %v b %v, want only a", a.dropped(), b.dropped())
	}
}

func TestCloseDropsAllAndRefusesJoin(t *testing.T) {
	h := NewHub()
	c := newChanClient(1)
	h.Join("g", c.Client)
	h.Close()
	if !c.dropped() {
		t.Fatal("client not dropped at close")
	}
	if h.Join("g", newChanClient(1).Client) {
		t.Fatal("join after close accepted")
	}
	if h.Count("g") != 0 {
		t.Fatal("room not emptied")
	}
}
