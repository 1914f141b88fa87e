package outbox

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

// On PostgreSQL only one node sends: a second outbox stands by while the
// first holds the advisory lock and takes over once it is released.
func TestOneSenderOnPostgres(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, second := New(db, channel.NewRegistry(), log), New(db, channel.NewRegistry(), log)
	second.Poll = 10 * time.Millisecond

	release, err := first.lead(context.Background())
	if err != nil || release == nil {
		t.Fatalf("first node: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if r, err := second.lead(ctx); r != nil || err != nil {
		t.Fatalf("second node led while the first held the lock (err %v)", err)
	}
	release()
	r, err := second.lead(context.Background())
	if err != nil || r == nil {
		t.Fatalf("second node after release: %v", err)
	}
	r()
}
