package web

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/store"
)

// webhook receives a platform's delivery for one account:
// POST /hooks/{kind}/{key}. The order is the platform contract's: cap the
// body, verify the signature over the raw bytes, parse, store — and only
// then answer 200, so a delivery that could not be stored is redelivered.
// Nothing of a refused delivery is stored, and its body is never logged.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	label := kind // a metric label from the path only when it is a known platform
	if !account.Known(kind) {
		label = "unknown"
	}
	result := func(status int, outcome string) {
		s.metrics.webhooks.WithLabelValues(label, outcome).Inc()
		w.WriteHeader(status)
	}
	if s.Accounts == nil || s.Ingest == nil {
		result(http.StatusNotFound, "unknown_account")
		return
	}
	if !account.Known(kind) {
		result(http.StatusNotFound, "unknown_account")
		return
	}
	a, err := s.Accounts.ByHook(r.Context(), kind, r.PathValue("key"))
	if errors.Is(err, store.ErrNotFound) {
		s.Logger.Warn("webhook: unknown account", "kind", kind)
		result(http.StatusNotFound, "unknown_account")
		return
	}
	if err != nil {
		s.Logger.Error("webhook: account lookup", "kind", kind, "err", err)
		result(http.StatusInternalServerError, "error")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		s.Logger.Warn("webhook: not JSON", "channel", a.Channel(), "content_type", r.Header.Get("Content-Type"))
		result(http.StatusUnsupportedMediaType, "bad_content_type")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, channel.MaxWebhookBody))
	if err != nil {
		s.Logger.Warn("webhook: body refused", "channel", a.Channel(), "err", err)
		if errTooLarge(err) {
			result(http.StatusRequestEntityTooLarge, "too_large")
		} else {
			result(http.StatusBadRequest, "unreadable")
		}
		return
	}
	ch, err := s.Accounts.Adapter(r.Context(), a)
	if err != nil {
		s.Logger.Error("webhook: adapter", "channel", a.Channel(), "err", err)
		result(http.StatusServiceUnavailable, "adapter_unavailable")
		return
	}
	rcv, ok := account.Unwrap(ch).(channel.Receiver)
	if !ok {
		result(http.StatusNotFound, "unknown_account")
		return
	}
	if err := rcv.Verify(r.Header, body); err != nil {
		s.Logger.Warn("webhook: signature refused", "channel", a.Channel(), "remote", r.RemoteAddr)
		result(http.StatusUnauthorized, "bad_signature")
		return
	}
	evs, err := rcv.Parse(body)
	if err != nil {
		s.Logger.Warn("webhook: malformed delivery", "channel", a.Channel(), "err", err)
		result(http.StatusBadRequest, "malformed")
		return
	}
	if p, ok := account.Unwrap(ch).(account.Profiler); ok {
		s.Ingest.FillNames(r.Context(), a, p, evs)
	}
	res, err := s.Ingest.Deliver(r.Context(), a, evs)
	if err != nil {
		s.Logger.Error("webhook: store", "channel", a.Channel(), "err", err)
		result(http.StatusInternalServerError, "error")
		return
	}
	account.AnswerButtons(ch, evs, s.Logger)
	s.metrics.webhookEvents.WithLabelValues(kind, "stored").Add(float64(res.Stored))
	s.metrics.webhookEvents.WithLabelValues(kind, "duplicate").Add(float64(res.Duplicates))
	s.metrics.webhookEvents.WithLabelValues(kind, "ignored").Add(float64(res.Ignored))
	result(http.StatusOK, "ok")
}
