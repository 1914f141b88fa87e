package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// api returns an SDK client for one call, bound to ctx and the request
// timeout; the caller must call the returned cancel once the SDK call has
// returned (the SDK has read or closed the body by then).
//
// The SDK offers no per-call context: its WithContext sets a field on the
// client, a race between concurrent sends. So each call builds its own
// light client (the SDK's constructor only parses the endpoint) whose
// transport attaches ctx to the request, over the channel's shared
// transport and its connection pool. The http.Client is never
// http.DefaultClient.
func (c *Channel) api(ctx context.Context) (*messaging_api.MessagingApiAPI, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	hc := &http.Client{Transport: boundTransport{ctx: ctx, base: c.transport}}
	api, err := messaging_api.NewMessagingApiAPI(c.token,
		messaging_api.WithEndpoint(c.apiURL), messaging_api.WithHTTPClient(hc))
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("line: client: %w", err)
	}
	return api, cancel, nil
}

// boundTransport gives every request the context of the call it serves
// (the SDK builds its requests without one).
type boundTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t boundTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}

// APIError is a refusal by the LINE API: the status and LINE's own
// description of the problem (its "message" and "details"), never the
// request, the token or the raw response body.
type APIError struct {
	Op      string // "push", "reply", "profile"…
	Status  int
	Message string
	Details []string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("line: %s: %d %s", e.Op, e.Status, e.Message)
	if len(e.Details) > 0 {
		s += " (" + strings.Join(e.Details, "; ") + ")"
	}
	return s
}

// maxErrorBody bounds how much of an error response is decoded.
const maxErrorBody = 64 << 10

// apiError reads LINE's error response from res. The SDK has already read
// the body into memory and put it back as res.Body; its own error string
// (which embeds the whole body) is deliberately not used.
func apiError(op string, res *http.Response) *APIError {
	e := &APIError{Op: op, Status: res.StatusCode}
	var body messaging_api.ErrorResponse
	if res.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		if json.NewDecoder(bytes.NewReader(b)).Decode(&body) == nil {
			e.Message = body.Message
			for i, d := range body.Details {
				if i == 3 {
					e.Details = append(e.Details, fmt.Sprintf("and %d more", len(body.Details)-i))
					break
				}
				e.Details = append(e.Details, strings.TrimSpace(d.Property+" "+d.Message))
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(res.StatusCode)
	}
	return e
}

// notSent reports whether a transport error happened before the request
// could reach LINE (no connection was made), so that nothing was
// delivered.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
