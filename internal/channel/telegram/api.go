package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot"

	"github.com/liveloop/liveloop/internal/channel"
)

// Errors of this package, beside the channel package's.
var (
	// ErrTokenRejected: Telegram refused the bot token (revoked or wrong).
	// It is not channel.ErrPermanent: the message is fine and can go out
	// once an operator fixes the token.
	ErrTokenRejected = errors.New("telegram: bot token rejected")
	// ErrNeedsSupergroup: muting works only in supergroups; the chat is a
	// basic group. It also wraps channel.ErrPermanent.
	ErrNeedsSupergroup = errors.New("telegram: muting needs a supergroup, the chat is a basic group")
)

// MigratedError is returned when a group has become a supergroup: the old
// chat id no longer takes messages, NewChatID does. It wraps
// channel.ErrPermanent; liveloop updates the group's id and sends again.
type MigratedError struct{ NewChatID string }

func (e *MigratedError) Error() string {
	return "telegram: the group became a supergroup with chat id " + e.NewChatID
}

// Unwrap makes a migration a permanent failure for the old chat id.
func (e *MigratedError) Unwrap() error { return channel.ErrPermanent }

// APIError is a refusal from the Bot API: its error_code and description.
// It never holds the token or the raw answer.
type APIError struct {
	Method      string
	Code        int
	Description string
	retryAfter  int   // parameters.retry_after, seconds
	migrateTo   int64 // parameters.migrate_to_chat_id
}

func (e *APIError) Error() string {
	return fmt.Sprintf("telegram: %s: %d %s", e.Method, e.Code, e.Description)
}

// transportError is a call that got no readable answer. written tells
// whether the request had been sent in full: after that, Telegram may have
// acted on it.
type transportError struct {
	method  string
	written bool
	err     error
}

func (e *transportError) Error() string { return fmt.Sprintf("telegram: %s: %v", e.method, e.err) }
func (e *transportError) Unwrap() error { return e.err }

// maxAnswer caps a Bot API answer; 100 updates from getUpdates fit easily.
const maxAnswer = 16 << 20

// call posts params as JSON to the Bot API method and decodes the result
// into result. It is used instead of the SDK where the outcome must be
// classified exactly (sendMessage: delivered, refused, or maybe delivered)
// or where the SDK has no matching call (a single getUpdates). The SDK's
// rawRequest loses error_code for codes it does not know (5xx), puts the
// raw answer into its error text when the answer is not JSON, cannot say
// whether the request was written, and fails a delivered sendMessage when
// any part of the returned Message does not decode into its models.
func (c *Channel) call(ctx context.Context, method string, params, result any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("telegram: %s: encode: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL+"/bot"+c.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		// The URL holds the token; say only that it was unusable.
		return fmt.Errorf("telegram: %s: bad API URL", method)
	}
	req.Header.Set("Content-Type", "application/json")
	var written atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				written.Store(true)
			}
		},
	}))
	resp, err := c.client.Do(req)
	if err != nil {
		// *url.Error's text includes the URL, and so the token: keep only
		// the cause (timeouts and context errors stay matchable).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &transportError{method: method, written: written.Load(), err: err}
	}
	defer discard(resp.Body)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return &transportError{method: method, written: true, err: fmt.Errorf("reading the answer: %w", err)}
	}
	if len(raw) > maxAnswer {
		return &transportError{method: method, written: true, err: errors.New("answer too large")}
	}
	var r struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		ErrorCode   int             `json:"error_code"`
		Description string          `json:"description"`
		Parameters  struct {
			RetryAfter      int   `json:"retry_after"`
			MigrateToChatID int64 `json:"migrate_to_chat_id"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		if resp.StatusCode >= 400 {
			// A proxy's error page, not Telegram's: keep the status, not
			// the page.
			return &APIError{Method: method, Code: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
		}
		return &transportError{method: method, written: true, err: fmt.Errorf("unreadable answer (HTTP %d)", resp.StatusCode)}
	}
	if !r.OK {
		e := &APIError{Method: method, Code: r.ErrorCode, Description: r.Description,
			retryAfter: r.Parameters.RetryAfter, migrateTo: r.Parameters.MigrateToChatID}
		if e.Code == 0 {
			e.Code = resp.StatusCode
		}
		return e
	}
	if result != nil {
		if err := json.Unmarshal(r.Result, result); err != nil {
			return &decodeError{method: method, err: err}
		}
	}
	return nil
}

// decodeError: Telegram said ok but its result did not decode. The call
// took effect.
type decodeError struct {
	method string
	err    error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("telegram: %s: unexpected result: %v", e.method, e.err)
}

// Descriptions of 400 answers that mean the bot cannot reach the chat.
var unreachable400 = []string{"chat not found", "group chat was deactivated", "user not found", "peer_id_invalid"}

var retryAfterText = regexp.MustCompile(`retry after (\d+)`)

// kind maps a refusal to what liveloop does about it. uncertain5xx says
// whether a 5xx may hide a completed action (a send) or is just transient.
func (e *APIError) kind(uncertain5xx bool) error {
	switch {
	case e.Code == http.StatusTooManyRequests:
		return &channel.RetryAfter{Wait: e.wait()}
	case e.migrateTo != 0:
		return &MigratedError{NewChatID: strconv.FormatInt(e.migrateTo, 10)}
	case e.Code == http.StatusUnauthorized || e.Code == http.StatusNotFound:
		// 404 is what Telegram answers for a token it does not know.
		return fmt.Errorf("%w: %w", e, ErrTokenRejected)
	case e.Code == http.StatusForbidden || e.Code == http.StatusBadRequest && containsAny(e.Description, unreachable400):
		// Every 403 means this bot may not write there: kicked, blocked,
		// not a member, never started by the user, a deactivated user.
		return fmt.Errorf("%w: %w: %w", e, channel.ErrUnreachable, channel.ErrPermanent)
	case e.Code >= 400 && e.Code < 500:
		return fmt.Errorf("%w: %w", e, channel.ErrPermanent)
	case uncertain5xx:
		return fmt.Errorf("%w: %w", e, channel.ErrUncertain)
	}
	return e
}

// wait is the retry_after Telegram asked for. Telegram always sends it
// with a 429; the description's "retry after N" and then one second are
// fallbacks so that a bare 429 never means "retry at once".
func (e *APIError) wait() time.Duration {
	n := e.retryAfter
	if n <= 0 {
		if m := retryAfterText.FindStringSubmatch(e.Description); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
	}
	if n <= 0 {
		n = 1
	}
	return time.Duration(n) * time.Second
}

// classify maps an error of call to the channel's errors. mutating says
// the call changes something on Telegram (a send): after a request went
// out and no clear answer came back, it may have taken effect.
func classify(err error, mutating bool) error {
	var ae *APIError
	var te *transportError
	var de *decodeError
	switch {
	case errors.As(err, &ae):
		return ae.kind(mutating)
	case errors.As(err, &te) && te.written && mutating:
		return fmt.Errorf("%w: %w", err, channel.ErrUncertain)
	case errors.As(err, &de) && mutating:
		return fmt.Errorf("%w: %w", err, channel.ErrUncertain)
	}
	return err
}

// sdkError maps an error of the go-telegram/bot SDK to the channel's
// errors. The SDK's texts name the method and carry Telegram's
// description, except one: an answer that is not JSON is quoted whole, so
// that one is replaced.
func (c *Channel) sdkError(method string, err error) error {
	var tooMany *bot.TooManyRequestsError
	var migrate *bot.MigrateError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooMany):
		return (&APIError{Method: method, Code: http.StatusTooManyRequests, retryAfter: tooMany.RetryAfter}).kind(false)
	case errors.As(err, &migrate):
		return &MigratedError{NewChatID: strconv.Itoa(migrate.MigrateToChatID)}
	case errors.As(err, &syntax), errors.As(err, &typ):
		return fmt.Errorf("telegram: %s: unreadable answer from the Bot API", method)
	}
	if strings.Contains(err.Error(), c.token) {
		// The SDK strips the token from *url.Error; this is the backstop.
		return fmt.Errorf("telegram: %s: %s", method, strings.ReplaceAll(err.Error(), c.token, "<token>"))
	}
	switch {
	case errors.Is(err, bot.ErrorUnauthorized), errors.Is(err, bot.ErrorNotFound):
		return fmt.Errorf("telegram: %s: %w: %w", method, err, ErrTokenRejected)
	case errors.Is(err, bot.ErrorForbidden):
		return fmt.Errorf("telegram: %s: %w: %w: %w", method, err, channel.ErrUnreachable, channel.ErrPermanent)
	case errors.Is(err, bot.ErrorBadRequest):
		if containsAny(err.Error(), unreachable400) {
			return fmt.Errorf("telegram: %s: %w: %w: %w", method, err, channel.ErrUnreachable, channel.ErrPermanent)
		}
		return fmt.Errorf("telegram: %s: %w: %w", method, err, channel.ErrPermanent)
	case errors.Is(err, bot.ErrorConflict):
		return fmt.Errorf("telegram: %s: %w: %w", method, err, channel.ErrPermanent)
	}
	return fmt.Errorf("telegram: %s: %w", method, err)
}

func containsAny(s string, subs []string) bool {
	s = strings.ToLower(s)
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
