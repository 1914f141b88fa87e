package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
)

// problem is how one error shows to a person or a client.
type problem struct {
	Status int
	Code   string // stable, for API clients
	Key    string // catalogue key of the message
	Detail string // the error's own text, for validation errors
}

// classify maps domain errors to HTTP, once for the whole web layer.
func classify(err error) problem {
	switch {
	case errTooLarge(err):
		return problem{http.StatusRequestEntityTooLarge, "too_large", "error.too_large", ""}
	case errors.Is(err, store.ErrNotFound):
		return problem{http.StatusNotFound, "not_found", "error.not_found", ""}
	case errors.Is(err, community.ErrExpired):
		return problem{http.StatusGone, "link_expired", "error.link_expired", ""}
	case errors.Is(err, community.ErrBanned):
		return problem{http.StatusForbidden, "banned", "error.banned", ""}
	case errors.Is(err, community.ErrRemoved):
		return problem{http.StatusForbidden, "removed", "error.removed", ""}
	case errors.Is(err, community.ErrNotIn):
		return problem{http.StatusForbidden, "not_member", "error.not_member", ""}
	case errors.Is(err, community.ErrFull):
		return problem{http.StatusConflict, "group_full", "error.group_full", ""}
	case errors.Is(err, store.ErrForbidden):
		return problem{http.StatusForbidden, "forbidden", "error.forbidden", ""}
	case errors.Is(err, store.ErrConflict):
		return problem{http.StatusConflict, "conflict", "error.conflict", detail(err)}
	case errors.Is(err, account.ErrNoKey):
		return problem{http.StatusConflict, "no_encryption_key", "error.no_encryption_key", ""}
	case errors.Is(err, poll.ErrClosed):
		return problem{http.StatusConflict, "closed", "error.poll_closed", ""}
	case errors.Is(err, poll.ErrNotMember):
		return problem{http.StatusForbidden, "not_member", "error.not_member", ""}
	case errors.Is(err, store.ErrInvalid), errors.Is(err, outbox.ErrInvalid), errors.Is(err, poll.ErrInvalid):
		return problem{http.StatusBadRequest, "invalid", "error.invalid", detail(err)}
	}
	return problem{http.StatusInternalServerError, "internal", "error.internal", ""}
}

func errTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// detail is the part of a validation error after its sentinel's words.
//
// After store.ErrInvalid's "invalid: " the whole reason is kept (a
// refusal naming a step or a placeholder carries ": " of its own);
// otherwise the text after the last ": " (the wrapping packages' prefixes
// dropped).
func detail(err error) string {
	s := err.Error()
	if i := strings.Index(s, "invalid: "); i >= 0 {
		return s[i+len("invalid: "):]
	}
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// fail answers with the error as a page (or JSON for API and script
// requests). Unknown errors are logged once, with the request.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := classify(err)
	if p.Status == http.StatusInternalServerError {
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	lang := s.lang(r, "")
	msg := s.Catalog.T(lang, p.Key)
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.Status)
		json.NewEncoder(w).Encode(map[string]string{"error": p.Code, "message": msg, "detail": p.Detail})
		return
	}
	s.renderStatus(w, r, p.Status, "error", s.newPage(r, lang, msg, map[string]any{"Status": p.Status, "Message": msg, "Detail": p.Detail}))
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json")
}
