package event

import (
	"context"
	"sync"
)

// Bus tells subscribers about appended events. The in-process LocalBus is the
// default; a NATS JetStream bus implements the same interface for several
// nodes. Handlers run on the publisher's goroutine and must not block: the
// real-time hub, for instance, only queues a frame per connection.
type Bus interface {
	Publish(ctx context.Context, events ...Event) error
	Subscribe(fn func(Event)) (unsubscribe func())
}

// LocalBus is a Bus for one process.
type LocalBus struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Event)
}

// NewLocalBus returns an empty in-process bus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[int]func(Event){}} }

// Publish calls every subscriber with each event, in order.
func (b *LocalBus) Publish(_ context.Context, events ...Event) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, e := range events {
		for _, fn := range b.subs {
			fn(e)
		}
	}
	return nil
}

// Subscribe registers fn until the returned function is called.
func (b *LocalBus) Subscribe(fn func(Event)) func() {
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = fn
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}
