package channel_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
)

type named string

func (n named) Name() string                     { return string(n) }
func (named) Capabilities() channel.Capabilities { return channel.Capabilities{} }
func (named) Limits() channel.Limits             { return channel.Limits{} }
func (named) Send(context.Context, channel.Message) (channel.Result, error) {
	return channel.Result{}, nil
}

func TestRegistry(t *testing.T) {
	r := channel.NewRegistry(named("web"), named("telegram"))
	r.Add(named("line"))
	if got := r.Names(); !slices.Equal(got, []string{"line", "telegram", "web"}) {
		t.Fatalf("Names = %v", got)
	}
	if c, ok := r.Get("line"); !ok || c.Name() != "line" {
		t.Fatalf("Get(line) = %v, %v", c, ok)
	}
	if _, ok := r.Get("wecom"); ok {
		t.Fatal("Get of an unregistered channel succeeded")
	}
}

func TestRetryAfterIsAnError(t *testing.T) {
	var err error = &channel.RetryAfter{Wait: 3 * time.Second}
	var ra *channel.RetryAfter
	if !errors.As(err, &ra) || ra.Wait != 3*time.Second || err.Error() != "channel: rate limited, retry after 3s" {
		t.Fatalf("%v", err)
	}
}
