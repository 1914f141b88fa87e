// Package linetest is a fake LINE Messaging API for tests, written from
// the API reference (https://developers.line.biz/en/reference/messaging-api/)
// and its guide to retrying requests
// (https://developers.line.biz/en/docs/messaging-api/retrying-api-request/).
//
// It enforces what a real bot meets: the Bearer token; push with
// X-Line-Retry-Key semantics (a key already accepted answers 409 with
// x-line-accepted-request-id and is not delivered again); reply tokens
// that are single-use and expire, and replies that refuse a retry key;
// the monthly quota (pushes count, replies do not); rate limiting; groups
// the bot has left; profiles and group summaries. It also builds signed
// webhook requests and event JSON for other packages' tests.
//
// It is not LINE: error texts it invents where the reference gives none
// are marked so below, and it counts a push to a group as one message per
// member it knows of (one when it knows none).
package linetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// ReplyTokenTTL is how long a reply token issued by the fake stays valid.
// LINE says only that a token expires "after a certain period"; one
// minute is what its documentation advises replying within.
const ReplyTokenTTL = time.Minute

// Error messages LINE documents, which clients match on.
const (
	MsgMonthlyLimit   = "You have reached your monthly limit."
	MsgTooManyReqs    = "Too Many Requests"
	MsgInvalidReply   = "Invalid reply token"
	MsgSendFailed     = "Failed to send messages"
	MsgRetryAccepted  = "The retry key is already accepted"
	MsgAuthentication = "Authentication failed. Confirm that the access token in the authorization header is valid."
	// MsgReplyRetryKey is the fake's own wording: the reference says only
	// that reply does not take X-Line-Retry-Key (400).
	MsgReplyRetryKey = "The request header X-Line-Retry-Key is not supported by this endpoint"
)

// maxBody is LINE's limit on a request body (413 above it).
const maxBody = 2 << 20

// Delivery is one accepted push or reply.
type Delivery struct {
	Kind       string            // "push" or "reply"
	To         string            // the recipient; for a reply, the chat its token was issued for
	RetryKey   string            // push only
	RequestID  string            // the x-line-request-id LINE answered with
	MessageIDs []string          // the sent messages' ids
	Messages   []json.RawMessage // the message objects as sent
}

// Request is one request the fake received (any endpoint, any outcome).
// The Authorization header is removed.
type Request struct {
	Method, Path string
	Header       http.Header
	Status       int
}

// Server is the fake LINE API. Its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	token  string
	secret string

	mu           sync.Mutex
	now          func() time.Time
	accepted     map[string]accepted // by retry key
	replyTokens  map[string]*replyToken
	left         map[string]bool
	rateLimited  int
	monthlyLimit int64
	used         int64
	profiles     map[string]string // chat+"/"+user ("" chat: a friend's profile) → display name
	groups       map[string]*group
	sent         []Delivery
	requests     []Request
	nextID       int64
}

type accepted struct {
	requestID string
	sent      []string
}

type replyToken struct {
	to     string
	issued time.Time
	used   bool
}

type group struct {
	name    string
	members []string
}

// New starts a fake LINE API that accepts accessToken; channelSecret is
// kept for Sign and Webhook callers that ask the server for it. The
// server stops when the test ends.
func New(t testing.TB, accessToken, channelSecret string) *Server {
	t.Helper()
	s := &Server{
		token: accessToken, secret: channelSecret, now: time.Now,
		accepted: map[string]accepted{}, replyTokens: map[string]*replyToken{}, left: map[string]bool{},
		profiles: map[string]string{}, groups: map[string]*group{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/bot/message/push", s.push)
	mux.HandleFunc("POST /v2/bot/message/reply", s.reply)
	mux.HandleFunc("GET /v2/bot/message/quota", s.quota)
	mux.HandleFunc("GET /v2/bot/message/quota/consumption", s.consumption)
	mux.HandleFunc("GET /v2/bot/profile/{user}", s.profile)
	mux.HandleFunc("GET /v2/bot/group/{chat}/member/{user}", s.profile)
	mux.HandleFunc("GET /v2/bot/room/{chat}/member/{user}", s.profile)
	mux.HandleFunc("GET /v2/bot/group/{chat}/summary", s.summary)
	s.srv = httptest.NewServer(s.record(s.auth(mux)))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API's base URL (Config.APIURL).
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client for calling the fake directly.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Secret is the channel secret the server was created with.
func (s *Server) Secret() string { return s.secret }

// SetNow replaces the fake's clock (reply-token expiry).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Now is the fake's current time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// ReplyToken issues a reply token for the chat to (a group, room or user
// id), as LINE does with a webhook event: valid once, for ReplyTokenTTL.
func (s *Server) ReplyToken(to string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replyTokens[tok] = &replyToken{to: to, issued: s.now()}
	return tok
}

// SetMonthlyLimit caps the month's pushes (0: no cap, quota type "none").
func (s *Server) SetMonthlyLimit(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.monthlyLimit = n
}

// AddGroup makes a group known: its name (group summary) and members
// (each push to it counts once per member).
func (s *Server) AddGroup(groupID, name string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[groupID] = &group{name: name, members: members}
}

// AddProfile gives user a display name in chat (a group or room id), or as
// a friend of the bot when chat is "".
func (s *Server) AddProfile(chat, user, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[chat+"/"+user] = name
}

// LeaveGroup removes the bot from groupID: later pushes to it fail as
// LINE's do (400 "Failed to send messages"), its summary and member
// profiles are 404.
func (s *Server) LeaveGroup(groupID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.left[groupID] = true
}

// RateLimit makes the next n pushes answer 429 {"message":"Too Many Requests"}.
func (s *Server) RateLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimited = n
}

// Sent returns the accepted deliveries, oldest first.
func (s *Server) Sent() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.sent...)
}

// Requests returns every request received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Used is this month's quota consumption.
func (s *Server) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// statusRecorder keeps the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		h := r.Header.Clone()
		h.Del("Authorization")
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: h, Status: rec.status})
		s.mu.Unlock()
	})
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Line-Request-Id", uuid.NewString())
		if r.Header.Get("Authorization") != "Bearer "+s.token {
			writeError(w, http.StatusUnauthorized, MsgAuthentication)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sendRequest is the body of push and reply.
type sendRequest struct {
	To         string            `json:"to"`
	ReplyToken string            `json:"replyToken"`
	Messages   []json.RawMessage `json:"messages"`
}

// idPattern is the documented form of user, group and room ids.
var idPattern = regexp.MustCompile(`^[UCR][0-9a-f]{32}$`)

func (s *Server) push(w http.ResponseWriter, r *http.Request) {
	req, ok := readSend(w, r)
	if !ok {
		return
	}
	key := r.Header.Get("X-Line-Retry-Key")
	if key != "" {
		if _, err := uuid.Parse(key); err != nil {
			writeError(w, http.StatusBadRequest, "The value of the X-Line-Retry-Key header is invalid")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, dup := s.accepted[key]; key != "" && dup {
		// Documented: a key already accepted is refused whatever the body
		// (even a different one), and the message is not sent again.
		w.Header().Set("X-Line-Accepted-Request-Id", a.requestID)
		writeJSON(w, http.StatusConflict, map[string]any{"message": MsgRetryAccepted, "sentMessages": sentMessages(a.sent)})
		return
	}
	if !idPattern.MatchString(req.To) {
		writeError(w, http.StatusBadRequest, "The property, 'to', in the request body is invalid (line: -, column: -)")
		return
	}
	if details := validateMessages(req.Messages); len(details) > 0 {
		writeDetails(w, details)
		return
	}
	if s.rateLimited > 0 {
		s.rateLimited--
		writeError(w, http.StatusTooManyRequests, MsgTooManyReqs)
		return
	}
	count := int64(1)
	if g := s.groups[req.To]; g != nil && len(g.members) > 0 {
		count = int64(len(g.members))
	}
	if s.monthlyLimit > 0 && s.used+count > s.monthlyLimit {
		writeError(w, http.StatusTooManyRequests, MsgMonthlyLimit)
		return
	}
	if s.left[req.To] {
		writeError(w, http.StatusBadRequest, MsgSendFailed)
		return
	}
	s.used += count
	d := s.deliverLocked(w, "push", req.To, key, req.Messages)
	if key != "" {
		s.accepted[key] = accepted{requestID: d.RequestID, sent: d.MessageIDs}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sentMessages": sentMessages(d.MessageIDs)})
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Line-Retry-Key") != "" {
		writeError(w, http.StatusBadRequest, MsgReplyRetryKey)
		return
	}
	req, ok := readSend(w, r)
	if !ok {
		return
	}
	if details := validateMessages(req.Messages); len(details) > 0 {
		writeDetails(w, details)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.replyTokens[req.ReplyToken]
	if tok == nil || tok.used || s.now().Sub(tok.issued) >= ReplyTokenTTL || s.left[tok.to] {
		writeError(w, http.StatusBadRequest, MsgInvalidReply)
		return
	}
	tok.used = true
	d := s.deliverLocked(w, "reply", tok.to, "", req.Messages)
	writeJSON(w, http.StatusOK, map[string]any{"sentMessages": sentMessages(d.MessageIDs)})
}

// deliverLocked records a delivery; s.mu is held.
func (s *Server) deliverLocked(w http.ResponseWriter, kind, to, key string, msgs []json.RawMessage) Delivery {
	d := Delivery{Kind: kind, To: to, RetryKey: key, RequestID: w.Header().Get("X-Line-Request-Id"), Messages: msgs}
	for range msgs {
		s.nextID++
		d.MessageIDs = append(d.MessageIDs, fmt.Sprint(461230966842064897+s.nextID))
	}
	s.sent = append(s.sent, d)
	return d
}

func readSend(w http.ResponseWriter, r *http.Request) (sendRequest, bool) {
	var req sendRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "The request body is too large")
		return req, false
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "The request body could not be parsed as JSON (line: -, column: -)")
		return req, false
	}
	return req, true
}

func (s *Server) quota(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.monthlyLimit == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"type": "none"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "limited", "value": s.monthlyLimit})
}

func (s *Server) consumption(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"totalUsage": s.used})
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	chat, user := r.PathValue("chat"), r.PathValue("user")
	s.mu.Lock()
	defer s.mu.Unlock()
	name, ok := s.profiles[chat+"/"+user]
	if !ok || s.left[chat] {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"displayName": name, "userId": user, "pictureUrl": "https://profile.line-scdn.net/abcdefghijklmn"})
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("chat")
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil || s.left[id] {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"groupId": id, "groupName": g.name, "pictureUrl": "https://profile.line-scdn.net/abcdefghijklmn"})
}

func sentMessages(ids []string) []map[string]string {
	out := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, map[string]string{"id": id, "quoteToken": "q" + id})
	}
	return out
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg})
}

func writeDetails(w http.ResponseWriter, details []detail) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"message": fmt.Sprintf("The request body has %d error(s)", len(details)), "details": details})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
