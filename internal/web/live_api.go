package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// The ingestion API for streaming platforms: POST /api/lives/{id}/events
// with a JSON body signed like a webhook, X-Liveloop-Signature: sha256=
// hex(HMAC-SHA256(key, raw body)). The key is the live's own, shown on its
// control panel, derived from the installation's secret (so nothing more
// is stored, and one live's key opens no other). docs/live-api.md
// documents the shape.

// liveIngestKey is the live's signing key.
func (s *Server) liveIngestKey(tenantID, liveID int64) string {
	m := hmac.New(sha256.New, s.MemberKey)
	fmt.Fprintf(m, "live-ingest:%d:%d", tenantID, liveID)
	return hex.EncodeToString(m.Sum(nil))
}

type platformEvent struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	At      time.Time `json:"at"`
	Count   int64     `json:"count"`
	User    string    `json:"user"`
	Name    string    `json:"name"`
	Text    string    `json:"text"`
	Amount  int64     `json:"amount"`
	Product string    `json:"product"`
}

const maxPlatformEvents = 500

// liveEvents stores a platform's batch of events for a live.
func (s *Server) liveEvents(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	refuse := func(status int, code, msg string) { answer(status, map[string]string{"error": code, "message": msg}) }
	tenantSlug, id := r.PathValue("tenant"), r.PathValue("id")
	t, err := s.Tenants.BySlug(r.Context(), tenantSlug)
	var l live.Live
	if err == nil {
		var liveID int64
		if liveID, err = pathID(r, "id"); err == nil {
			l, err = s.Lives.Get(r.Context(), t.ID, liveID)
		}
	}
	if err != nil {
		refuse(http.StatusNotFound, "not_found", "no such live: "+tenantSlug+"/"+id)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		refuse(http.StatusRequestEntityTooLarge, "too_large", "the body is over 1 MiB: send smaller batches")
		return
	}
	sig, _ := strings.CutPrefix(r.Header.Get("X-Liveloop-Signature"), "sha256=")
	want := hmac.New(sha256.New, []byte(s.liveIngestKey(t.ID, l.ID)))
	want.Write(body)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want.Sum(nil)) {
		s.Logger.Warn("live api: signature refused", "live", l.ID, "remote", r.RemoteAddr)
		refuse(http.StatusUnauthorized, "bad_signature", "X-Liveloop-Signature must be sha256=<hex HMAC-SHA256 of the body with the live's key>")
		return
	}
	var req struct {
		Events []platformEvent `json:"events"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		refuse(http.StatusBadRequest, "malformed", "the body is not {\"events\": [...]}: "+err.Error())
		return
	}
	if len(req.Events) > maxPlatformEvents {
		refuse(http.StatusBadRequest, "too_many", fmt.Sprintf("at most %d events a request", maxPlatformEvents))
		return
	}
	evs := make([]event.Event, 0, len(req.Events))
	for i, pe := range req.Events {
		if msg := checkPlatformEvent(pe); msg != "" {
			refuse(http.StatusBadRequest, "invalid", fmt.Sprintf("event %d: %s", i, msg))
			return
		}
		if pe.At.IsZero() {
			pe.At = time.Now()
		}
		evs = append(evs, event.Event{TenantID: t.ID, Type: event.LivePlatform, Source: fmt.Sprintf("liveapi:%d", l.ID), SourceID: pe.ID,
			At: pe.At.UTC(), Data: event.MustData(event.LivePlatformData{LiveID: l.ID, Kind: pe.Type, Count: pe.Count,
				User: textnorm.Line(pe.User), Name: textnorm.Line(pe.Name), Text: textnorm.Clean(pe.Text), Amount: pe.Amount,
				Product: textnorm.Line(pe.Product)})})
	}
	n, err := s.Log.AppendBatch(r.Context(), evs)
	if err != nil {
		s.Logger.Error("live api: store", "live", l.ID, "err", err)
		refuse(http.StatusInternalServerError, "internal", "not stored; send the batch again")
		return
	}
	// The room shows the platform's likes in its counter and its viewer
	// count (only for events new to liveloop: a resent batch adds nothing).
	if n > 0 {
		var viewers int64 = -1
		for i, pe := range req.Events {
			if evs[i].ID == 0 {
				continue // a duplicate: AppendBatch left its id unset
			}
			switch pe.Type {
			case "like":
				s.likes.addN(t.ID, l.ID, max(pe.Count, 1))
			case "viewers":
				viewers = pe.Count
			}
		}
		if viewers >= 0 {
			b, _ := json.Marshal(frame{Type: "viewers", Viewers: viewers})
			s.Hub.Broadcast(liveRoom(t.ID, l.ID), b)
		}
	}
	answer(http.StatusOK, map[string]int{"stored": n, "duplicates": len(evs) - n})
}

func checkPlatformEvent(pe platformEvent) string {
	switch {
	case pe.ID == "" || len(pe.ID) > 128:
		return "id is required (your platform's id of the event, ≤ 128 bytes): it makes a resent event count once"
	case pe.Type != "viewers" && pe.Type != "comment" && pe.Type != "like" && pe.Type != "order":
		return "type is viewers, comment, like or order"
	case pe.Count < 0 || pe.Amount < 0:
		return "count and amount are not negative"
	case !textnorm.Limit(pe.Text, 2000) || !textnorm.Limit(pe.Name, 100) || !textnorm.Limit(pe.User, 128) || !textnorm.Limit(pe.Product, 200):
		return "a text field is too long"
	}
	return ""
}
