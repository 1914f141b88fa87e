package store

// Test hooks of the group committer.

// GroupIdle reports whether no worker goroutine of g runs.
func GroupIdle(g *Group) bool { return g.idle() }

// GroupQueued is how many requests wait in g's queue.
func GroupQueued(g *Group) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}
