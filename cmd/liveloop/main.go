// Command liveloop runs the liveloop platform: see `liveloop help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/liveloop/liveloop/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}
