package telegramtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Update kinds Telegram leaves out unless allowed_updates lists them.
var optIn = []string{"chat_member", "message_reaction", "message_reaction_count"}

var secretShape = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// QueueUpdate adds an update (JSON with an update_id) for getUpdates, and
// wakes a waiting long poll.
func (s *Server) QueueUpdate(update []byte) {
	s.t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(update, &m); err != nil {
		s.t.Fatalf("telegramtest: QueueUpdate: not a JSON object: %v", err)
	}
	id, err := strconv.ParseInt(string(m["update_id"]), 10, 64)
	if err != nil {
		s.t.Fatalf("telegramtest: QueueUpdate: no numeric update_id")
	}
	kind := ""
	for k := range m {
		if k != "update_id" {
			kind = k
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, queued{id: id, kind: kind, raw: update})
	close(s.wake)
	s.wake = make(chan struct{})
}

// Polling is closed once a getUpdates request is waiting for an update,
// so a test can queue one and see the long poll return early.
func (s *Server) Polling() <-chan struct{} { return s.polling }

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]string) {
	offset, _ := strconv.ParseInt(p["offset"], 10, 64)
	timeout, _ := strconv.Atoi(p["timeout"])
	limit, _ := strconv.Atoi(p["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	var allowed []string
	if a := p["allowed_updates"]; a != "" {
		if err := json.Unmarshal([]byte(a), &allowed); err != nil {
			fail(w, http.StatusBadRequest, "Bad Request: can't parse allowed updates", nil)
			return
		}
	}
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.webhook.URL != "" {
			s.mu.Unlock()
			fail(w, http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", nil)
			return
		}
		out := s.pending(offset, limit, allowed)
		wake := s.wake
		if len(out) > 0 || timeout <= 0 {
			s.mu.Unlock()
			ok200(w, out)
			return
		}
		if !s.pollingSet {
			s.pollingSet = true
			close(s.polling)
		}
		s.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			timeout = 0 // answer with what there is
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

// pending confirms (drops) updates below offset and returns the next ones
// of the kinds allowed. A negative offset keeps only the last -offset.
func (s *Server) pending(offset int64, limit int, allowed []string) []json.RawMessage {
	switch {
	case offset > 0:
		s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return q.id < offset })
	case offset < 0 && int(-offset) < len(s.queue):
		s.queue = s.queue[len(s.queue)-int(-offset):]
	}
	var out []json.RawMessage
	for _, q := range s.queue {
		if len(out) == limit {
			break
		}
		if len(allowed) > 0 && !slices.Contains(allowed, q.kind) || len(allowed) == 0 && slices.Contains(optIn, q.kind) {
			continue // Telegram does not deliver it
		}
		out = append(out, q.raw)
	}
	return out
}

func (s *Server) setWebhook(w http.ResponseWriter, p map[string]string) {
	raw := p["url"]
	var allowed []string
	if a := p["allowed_updates"]; a != "" && json.Unmarshal([]byte(a), &allowed) != nil {
		fail(w, http.StatusBadRequest, "Bad Request: can't parse allowed updates", nil)
		return
	}
	if raw != "" {
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Hostname() == "":
			fail(w, http.StatusBadRequest, "Bad Request: bad webhook: Failed to resolve host", nil)
			return
		case u.Scheme != "https":
			fail(w, http.StatusBadRequest, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook", nil)
			return
		case !slices.Contains([]string{"", "80", "88", "443", "8443"}, u.Port()):
			fail(w, http.StatusBadRequest, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443", nil)
			return
		}
	}
	if sec := p["secret_token"]; sec != "" && !secretShape.MatchString(sec) {
		fail(w, http.StatusBadRequest, "Bad Request: secret token contains unallowed characters", nil)
		return
	}
	s.mu.Lock()
	// An empty url removes the webhook, as deleteWebhook does.
	s.webhook = Webhook{URL: raw, SecretToken: p["secret_token"], AllowedUpdates: allowed}
	if raw == "" {
		s.webhook = Webhook{}
	}
	s.mu.Unlock()
	ok200(w, true)
}

// WebhookRequest builds the request Telegram makes to deliver update to a
// webhook at url: a JSON POST carrying secret in
// X-Telegram-Bot-Api-Secret-Token (left out when secret is empty). Send it
// with an http.Client or hand it to a handler's ServeHTTP.
func WebhookRequest(url, secret string, update []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(update))
	if err != nil {
		panic("telegramtest: WebhookRequest: " + err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	return req
}

// Chat is a chat in a built update.
type Chat struct {
	ID    int64  `json:"id"`
	Type  string `json:"type"` // private, group, supergroup
	Title string `json:"title,omitempty"`
}

// User is an account in a built update.
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	Username  string `json:"username,omitempty"`
}

// TextUpdate builds a "message" update: from wrote text in chat.
func TextUpdate(updateID int64, chat Chat, from User, text string) []byte {
	return mustJSON(map[string]any{"update_id": updateID, "message": map[string]any{
		"message_id": updateID, "from": from, "chat": chat, "date": 1700000000, "text": text,
	}})
}

// CallbackUpdate builds a "callback_query" update: from pressed the button
// carrying data under message messageID in chat.
func CallbackUpdate(updateID int64, chat Chat, from User, messageID int64, data string) []byte {
	return mustJSON(map[string]any{"update_id": updateID, "callback_query": map[string]any{
		"id": "cb" + strconv.FormatInt(updateID, 10), "from": from, "chat_instance": "-1",
		"data": data, "message": map[string]any{"message_id": messageID, "chat": chat, "date": 1700000000},
	}})
}

// ChatMemberUpdate builds a "chat_member" update: user's status in chat
// changed from oldStatus to newStatus (left, kicked, member…).
func ChatMemberUpdate(updateID int64, chat Chat, user User, oldStatus, newStatus string) []byte {
	return mustJSON(map[string]any{"update_id": updateID, "chat_member": map[string]any{
		"chat": chat, "from": user, "date": 1700000000,
		"old_chat_member": map[string]any{"status": oldStatus, "user": user},
		"new_chat_member": map[string]any{"status": newStatus, "user": user},
	}})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func itoa(n int) string { return strconv.Itoa(n) }
