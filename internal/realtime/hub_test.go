package realtime

import "testing"

func TestBroadcastReachesRoomOnly(t *testing.T) {
	h := NewHub()
	a, b := NewClient(4), NewClient(4)
	h.Join("g1", a)
	h.Join("g2", b)
	h.Broadcast("g1", []byte("hello"))
	if got := string(<-a.Frames()); got != "hello" {
		t.Fatalf("a got %q", got)
	}
	select {
	case f := <-b.Frames():
		t.Fatalf("b in another room got %q", f)
	default:
	}
}

func TestSlowClientIsDroppedNotBlocking(t *testing.T) {
	h := NewHub()
	slow, fast := NewClient(1), NewClient(8)
	h.Join("g", slow)
	h.Join("g", fast)
	dropped := 0
	h.OnDrop = func(string) { dropped++ }
	for i := 0; i < 3; i++ {
		h.Broadcast("g", []byte{byte(i)})
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow client not dropped")
	}
	if len(fast.Frames()) != 3 {
		t.Fatalf("fast client has %d frames, want 3", len(fast.Frames()))
	}
	if dropped == 0 {
		t.Fatal("OnDrop not called")
	}
}

func TestCloseDropsAllAndRefusesJoin(t *testing.T) {
	h := NewHub()
	c := NewClient(1)
	h.Join("g", c)
	h.Close()
	<-c.Done()
	if h.Join("g", NewClient(1)) {
		t.Fatal("join after close accepted")
	}
	if h.Count("g") != 0 {
		t.Fatal("room not emptied")
	}
}
