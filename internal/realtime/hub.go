// Package realtime fans frames out to connected clients by room: a group's
// chat, later a live room. A frame is encoded once and queued to every
// client of the room without blocking; a client that cannot keep up is
// dropped (it reconnects and catches up from the event log) rather than
// slowing everyone else.
//
// The hub is transport-agnostic: the web package pumps a client's frames to
// its WebSocket. Cross-node fan-out comes from the event bus (NATS
// JetStream when several nodes run), not from the hub.
package realtime

import "sync"

// Client is one connection as the hub sees it: where its frames go.
type Client struct {
	// Key identifies who is connected (a member id; 0 for staff), so that
	// a member removed from a group can be cut off at once.
	Key     int64
	deliver func([]byte) bool
	dropped func()
	once    sync.Once
}

// NewClient returns a client whose frames are handed to deliver, which
// must not block and reports false when the client cannot take more (it
// is then dropped); dropped is called once when the hub drops the client
// (too slow, removed, or shutting down).
func NewClient(key int64, deliver func([]byte) bool, dropped func()) *Client {
	return &Client{Key: key, deliver: deliver, dropped: dropped}
}

// drop reports whether this call dropped the client (the first one).
func (c *Client) drop() (first bool) {
	c.once.Do(func() {
		first = true
		if c.dropped != nil {
			c.dropped()
		}
	})
	return first
}

// Hub holds the rooms.
type Hub struct {
	mu     sync.RWMutex
	rooms  map[string]map[*Client]struct{}
	closed bool
	// OnDrop, if set, is told when a slow client is dropped.
	OnDrop func(room string)
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{rooms: map[string]map[*Client]struct{}{}} }

// Join adds c to room. It reports false once the hub is closed.
func (h *Hub) Join(room string, c *Client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	r := h.rooms[room]
	if r == nil {
		r = map[*Client]struct{}{}
		h.rooms[room] = r
	}
	r[c] = struct{}{}
	return true
}

// Leave removes c from room.
func (h *Hub) Leave(room string, c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[room]; r != nil {
		delete(r, c)
		if len(r) == 0 {
			delete(h.rooms, room)
		}
	}
}

// Broadcast queues frame to every client in room without blocking.
func (h *Hub) Broadcast(room string, frame []byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.rooms[room] {
		if !c.deliver(frame) && c.drop() {
			if h.OnDrop != nil {
				h.OnDrop(room)
			}
		}
	}
}

// DropKey drops every client of room whose Key is key.
func (h *Hub) DropKey(room string, key int64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.rooms[room] {
		if c.Key == key {
			c.drop()
		}
	}
}

// Count returns how many clients are in room.
func (h *Hub) Count(room string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.rooms[room])
}

// Close drops every client and refuses new ones (graceful shutdown: the
// connection handlers see Done and close their sockets).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, r := range h.rooms {
		for c := range r {
			c.drop()
		}
	}
	h.rooms = map[string]map[*Client]struct{}{}
}
