package web

import (
	"testing"
	"time"
)

// A quiet room's frame goes out at once; within a tick of a send the next
// frames wait and then go out together, in order; rooms do not wait on
// each other.
func TestFrameBatcherLeadingEdge(t *testing.T) {
	var f frameBatcher
	t0 := time.Unix(1000, 0)
	f.add("a", []byte("1"))
	rooms, next := f.due(t0)
	if len(rooms["a"]) != 1 || next != 0 {
		t.Fatalf("first frame: %q, next %v; want it at once", rooms, next)
	}
	f.add("a", []byte("2"))
	f.add("a", []byte("3"))
	f.add("b", []byte("x"))
	rooms, next = f.due(t0.Add(30 * time.Millisecond))
	if len(rooms["a"]) != 0 || string(rooms["b"][0]) != "x" || next != commentTick-30*time.Millisecond {
		t.Fatalf("within the tick: %q, next %v", rooms, next)
	}
	rooms, next = f.due(t0.Add(commentTick))
	if got := rooms["a"]; len(got) != 2 || string(got[0]) != "2" || string(got[1]) != "3" || next != 0 {
		t.Fatalf("after the tick: %q, next %v", rooms, next)
	}
}

// A like total rides with the next comments, or goes alone after likeLag;
// a newer total replaces the one waiting.
func TestFrameBatcherLazyLikes(t *testing.T) {
	var f frameBatcher
	f.addLikes("a", []byte("L1"))
	f.addLikes("a", []byte("L2"))
	start := f.pending["a"].since
	if rooms, next := f.due(start.Add(10 * time.Millisecond)); len(rooms) != 0 || next != likeLag-10*time.Millisecond {
		t.Fatalf("likes alone went at once: %q, next %v", rooms, next)
	}
	f.add("a", []byte("c"))
	rooms, _ := f.due(start.Add(20 * time.Millisecond))
	if got := rooms["a"]; len(got) != 2 || string(got[0]) != "L2" || string(got[1]) != "c" {
		t.Fatalf("with a comment: %q, want the newest total and the comment", got)
	}
	f.addLikes("b", []byte("L"))
	if rooms, _ := f.due(f.pending["b"].since.Add(likeLag)); string(rooms["b"][0]) != "L" {
		t.Fatalf("likes after the lag: %q", rooms)
	}
}
