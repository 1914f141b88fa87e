// Package telegramtest is a fake Telegram Bot API server for tests,
// written from the Bot API documentation (https://core.telegram.org/bots/api).
// It serves /bot<token>/<method> for the methods liveloop's adapter uses,
// records what was sent, and enforces what the real server enforces and a
// friendly fake would not: the broadcast limits (answering 429 with
// retry_after, and counting sends that ignore a retry_after it gave),
// plain-text vs parse_mode rules, callback_data length, the
// 4096-unit text limit, muting only in supergroups, getUpdates refused
// while a webhook is set, and chat_member updates only when asked for.
//
// The rate limits use Server.Now, so tests move time instead of sleeping;
// SetLimits counts them over shorter windows (the same rates) for tests
// that run against the real clock.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a fake Bot API server for one bot token.
type Server struct {
	// Now is the clock of the rate limits. Replace it before the first
	// request; it is called with the server's lock held.
	Now func() time.Time

	t     testing.TB
	token string
	botID int64
	srv   *httptest.Server
	done  chan struct{} // closed at cleanup: releases hung requests

	mu         sync.Mutex
	nextMsgID  int64
	sent       []SentMessage
	calls      []Call
	limits     Limits
	violations int
	perChat    map[int64][]time.Time // accepted sends per chat, newest last
	overall    []time.Time           // accepted sends of the bot
	throttle   time.Time             // Throttle: every send is refused until then
	retryAt    time.Time             // the latest retry_after the throttle gave ends then
	refused    int                   // sends the throttle refused in time
	kicked     map[int64]bool
	migrated   map[int64]int64
	hung       map[int64]bool
	queue      []queued
	wake       chan struct{} // closed and replaced when an update is queued
	polling    chan struct{} // closed once a getUpdates request waits
	pollingSet bool
	webhook    Webhook
}

// SentMessage is one message the fake accepted.
type SentMessage struct {
	MessageID int64
	ChatID    int64
	Text      string
	ParseMode string
	Buttons   []Button // every inline button, row by row
	At        time.Time
}

// Button is one inline keyboard button as sent.
type Button struct {
	Text         string
	CallbackData string
}

// Call is one API call that reached a method: its parameters as strings
// (JSON values other than strings keep their JSON text), when it arrived
// (Server.Now), and the answer's status and retry_after (429).
type Call struct {
	Method     string
	Params     map[string]string
	At         time.Time
	Status     int
	RetryAfter int
}

// Webhook is the webhook setting.
type Webhook struct {
	URL            string
	SecretToken    string
	AllowedUpdates []string
}

type queued struct {
	id   int64
	kind string
	raw  json.RawMessage
}

// New starts a fake server for token ("<bot id>:<secret>") and stops it
// when the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	id, err := strconv.ParseInt(strings.SplitN(token, ":", 2)[0], 10, 64)
	if err != nil {
		t.Fatalf("telegramtest: token must start with the bot id")
	}
	s := &Server{
		Now: time.Now, t: t, token: token, botID: id, done: make(chan struct{}),
		nextMsgID: 1, limits: DocumentedLimits(), perChat: map[int64][]time.Time{}, kicked: map[int64]bool{},
		migrated: map[int64]int64{}, hung: map[int64]bool{},
		wake: make(chan struct{}), polling: make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.done)
		s.srv.Close()
	})
	return s
}

// URL is the server's base URL, for the adapter's APIURL.
func (s *Server) URL() string { return s.srv.URL }

// BotID is the bot's user id (the token's numeric prefix).
func (s *Server) BotID() int64 { return s.botID }

// Sent returns the messages accepted so far, oldest first.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

// Calls returns the calls of method so far (all methods when empty).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// Violations counts sends refused with 429 for breaking a rate limit, and
// sends that arrived before a retry_after the throttle gave had passed.
func (s *Server) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violations
}

// Throttled counts sends refused by Throttle that were not violations:
// the first a client sends before it can know, and any after the
// retry_after it was given (when the throttle lasts longer).
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Throttle makes the server refuse every sendMessage from now for d with
// 429 and a retry_after in whole seconds, rounded up, as Telegram's flood
// control does on its own. The wait applies to the whole bot: a send that
// arrives before the retry_after of an earlier refusal has passed is a
// violation.
func (s *Server) Throttle(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = s.Now().Add(d)
}

// Webhook returns the current webhook setting.
func (s *Server) Webhook() Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

// Kick makes later calls for chatID fail with 403, as after the bot was
// removed from the group (or blocked by the user, for a private chat).
func (s *Server) Kick(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kicked[chatID] = true
}

// Migrate makes later sends to old fail with 400 and migrate_to_chat_id
// new, as after a group became a supergroup.
func (s *Server) Migrate(old, new int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.migrated[old] = new
}

// Hang makes sendMessage for chatID block until the request's context ends
// (or the test ends), like a Telegram that took the message and never
// answered.
func (s *Server) Hang(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hung[chatID] = true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	i := strings.LastIndexByte(rest, '/')
	if !ok || i < 0 || rest[:i] != s.token {
		fail(w, http.StatusUnauthorized, "Unauthorized", nil)
		return
	}
	method := strings.ToLower(rest[i+1:]) // Bot API method names are case-insensitive
	p, err := readParams(w, r)
	if err != nil {
		fail(w, http.StatusBadRequest, "Bad Request: "+err.Error(), nil)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: rest[i+1:], Params: p, At: s.Now()})
	n := len(s.calls) - 1
	s.mu.Unlock()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.mu.Lock()
		s.calls[n].Status, s.calls[n].RetryAfter = rec.status, rec.retryAfter
		s.mu.Unlock()
	}()
	w = rec
	switch method {
	case "sendmessage":
		s.sendMessage(w, r, p)
	case "getupdates":
		s.getUpdates(w, r, p)
	case "setwebhook":
		s.setWebhook(w, p)
	case "deletewebhook":
		s.mu.Lock()
		s.webhook = Webhook{}
		if p["drop_pending_updates"] == "true" {
			s.queue = nil
		}
		s.mu.Unlock()
		ok200(w, true)
	case "getme":
		ok200(w, map[string]any{"id": s.botID, "is_bot": true, "first_name": "liveloop test",
			"username": "liveloop_test_bot", "can_join_groups": true})
	case "answercallbackquery":
		if p["callback_query_id"] == "" {
			fail(w, http.StatusBadRequest, "Bad Request: QUERY_ID_INVALID", nil)
			return
		}
		ok200(w, true)
	case "restrictchatmember", "banchatmember", "unbanchatmember":
		s.moderate(w, method, p)
	default:
		fail(w, http.StatusNotFound, "Not Found", nil)
	}
}

// readParams reads a call's parameters the three ways the Bot API takes
// them: JSON, multipart form (the SDK's way) and URL-encoded form.
func readParams(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	p := map[string]string{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, errors.New("request too large")
	}
	if len(body) == 0 {
		// The SDK sends calls without parameters (getMe) as a multipart
		// request with an empty body; Telegram takes it.
		return p, nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, errors.New("can't parse JSON object")
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				p[k] = str
			} else {
				p[k] = string(v)
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, errors.New("can't parse multipart form")
		}
		for k, v := range r.MultipartForm.Value {
			p[k] = v[0]
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, errors.New("can't parse form")
		}
		for k, v := range r.PostForm {
			p[k] = v[0]
		}
	}
	return p, nil
}

// recorder keeps a call's answer for Calls.
type recorder struct {
	http.ResponseWriter
	status     int
	retryAfter int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func ok200(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func fail(w http.ResponseWriter, code int, description string, parameters map[string]any) {
	body := map[string]any{"ok": false, "error_code": code, "description": description}
	if parameters != nil {
		body["parameters"] = parameters
	}
	if r, ok := w.(*recorder); ok {
		r.retryAfter, _ = parameters["retry_after"].(int)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// chatID reads a chat id parameter; Telegram answers "chat not found" for
// one it cannot resolve.
func chatID(w http.ResponseWriter, p map[string]string) (int64, bool) {
	id, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil || id == 0 {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found", nil)
		return 0, false
	}
	return id, true
}

// isSupergroup: supergroup (and channel) ids are -100 followed by the
// channel id; basic groups have small negative ids.
func isSupergroup(id int64) bool { return id <= -1_000_000_000_000 }

func kickedText(id int64) string {
	switch {
	case id > 0:
		return "Forbidden: bot was blocked by the user"
	case isSupergroup(id):
		return "Forbidden: bot was kicked from the supergroup chat"
	}
	return "Forbidden: bot was kicked from the group chat"
}

func (s *Server) moderate(w http.ResponseWriter, method string, p map[string]string) {
	chat, ok := chatID(w, p)
	if !ok {
		return
	}
	user, err := strconv.ParseInt(p["user_id"], 10, 64)
	s.mu.Lock()
	kicked := s.kicked[chat]
	s.mu.Unlock()
	switch {
	case err != nil || user <= 0:
		fail(w, http.StatusBadRequest, "Bad Request: invalid user_id specified", nil)
	case kicked:
		fail(w, http.StatusForbidden, kickedText(chat), nil)
	case chat > 0:
		fail(w, http.StatusBadRequest, "Bad Request: method is available for supergroup and channel chats only", nil)
	case user == s.botID:
		fail(w, http.StatusBadRequest, "Bad Request: can't restrict self", nil)
	case method == "unbanchatmember" && !isSupergroup(chat):
		fail(w, http.StatusBadRequest, "Bad Request: method is available for supergroup and channel chats only", nil)
	case method == "restrictchatmember" && !isSupergroup(chat):
		fail(w, http.StatusBadRequest, "Bad Request: method is available only for supergroups", nil)
	case method == "restrictchatmember" && !validPermissions(p["permissions"]):
		fail(w, http.StatusBadRequest, "Bad Request: can't parse permissions JSON object", nil)
	default:
		ok200(w, true)
	}
}

func validPermissions(s string) bool {
	var m map[string]bool
	return json.Unmarshal([]byte(s), &m) == nil
}
