package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/liveloop/liveloop/internal/app"
	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/config"
	"github.com/liveloop/liveloop/internal/store"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A second `liveloop serve` on the same SQLite file refuses with a clear
// message while the first runs, and starts once the first has stopped.
func TestSecondServeOnSameFileRefuses(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	apptest.StartDSN(t, dbPath)

	cfg := config.Default()
	cfg.DB = dbPath
	cfg.Addr = "127.0.0.1:0"
	b, err := app.Open(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = b.Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "another liveloop serve") || !strings.Contains(err.Error(), dbPath) {
		t.Fatalf("second serve: %v", err)
	}
}

// Shutdown drains: open WebSockets are closed with 1001 (going away), the
// HTTP server stops, and Serve returns without error.
func TestGracefulShutdownClosesWebSockets(t *testing.T) {
	cfg := config.Default()
	cfg.DB = filepath.Join(t.TempDir(), "x.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	cfg.BaseURL = "http://" + cfg.Addr
	a, err := app.Open(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()

	h := apptest.Attach(t, a, cfg.BaseURL)
	brand := h.Brand("drain")
	m := h.Client()
	chat := m.Join(brand.JoinCode.Code, "Dora")
	conn, _, err := m.Dial(context.Background(), chat+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()

	cancel()
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	_, _, err = conn.Read(rctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Fatalf("websocket closed with %v (%v), want 1001 going away", got, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-rctx.Done():
		t.Fatal("serve did not return after shutdown")
	}
}

// With auto_migrate off, a database that lacks migrations is refused with
// the command that fixes it.
func TestStaleSchemaRefused(t *testing.T) {
	cfg := config.Default()
	cfg.DB = filepath.Join(t.TempDir(), "new.db")
	cfg.AutoMigrate = false
	_, err := app.Open(context.Background(), cfg, quiet())
	if err == nil || !strings.Contains(err.Error(), "liveloop migrate") {
		t.Fatalf("open without migrations: %v", err)
	}
	db, err := store.Open(context.Background(), cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	db.Migrate(context.Background())
	db.Close()
	a, err := app.Open(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatalf("open after migrate: %v", err)
	}
	a.Close()
}
