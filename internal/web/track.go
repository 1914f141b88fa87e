package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/track"
)

// Tracked links (/t/<code>): a click is recorded, then the browser goes
// on to the target. Who clicked is the link's recipient (a private
// message), else the member cookie of the link's tenant, else a visitor:
// a random first-party cookie, stored only as a keyed hash.

// visitorCookie names a browser across clicks, joins and live rooms.
const (
	visitorCookie = "ll_v"
	visitorTTL    = 365 * 24 * time.Hour
)

// visitorValue is the request's visitor cookie, "" when it has none (or
// one this server did not make: 22 base64url characters).
func visitorValue(r *http.Request) string {
	ck, err := r.Cookie(visitorCookie)
	if err != nil || len(ck.Value) != 22 {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil {
		return ""
	}
	return ck.Value
}

// visitorOf is the stored form of the request's visitor for a tenant ("":
// none).
func (s *Server) visitorOf(r *http.Request, tenantID int64) string {
	return track.VisitorHash(s.MemberKey, tenantID, visitorValue(r))
}

// ensureVisitor returns the request's visitor cookie, setting a new one
// when it has none.
func (s *Server) ensureVisitor(w http.ResponseWriter, r *http.Request) string {
	if v := visitorValue(r); v != "" {
		return v
	}
	v := base64.RawURLEncoding.EncodeToString(RandomKey(16))
	s.setCookie(w, visitorCookie, v, visitorTTL)
	return v
}

// trackedLink records a click on a tracked link and redirects to its
// target. An unknown code is the not-found page, never a redirect. HEAD
// requests and the platforms' link-preview fetchers are redirected
// without counting (platforms fetch every link posted).
func (s *Server) trackedLink(w http.ResponseWriter, r *http.Request) {
	if s.Track == nil {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	ctx := r.Context()
	l, err := s.Track.Resolve(ctx, r.PathValue("code"))
	if err == nil && !track.Target(l.URL) { // links are made by liveloop; checked all the same
		err = store.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // every click comes back here
	if r.Method == http.MethodGet && !track.IsPreviewBot(r.UserAgent()) {
		v := track.Visit{Visitor: track.VisitorHash(s.MemberKey, l.TenantID, s.ensureVisitor(w, r))}
		if m, err := s.memberFromRequest(r, l.TenantID); err == nil {
			v.MemberID = m.ID
		}
		if _, err := s.Track.Click(ctx, l, v); err != nil {
			// The member still reaches the target; the click is lost.
			s.Logger.Error("track: click not recorded", "link", l.ID, "err", err)
		}
	}
	http.Redirect(w, r, l.URL, http.StatusFound)
}

// enterLive records a member's first entry into a live room, with the
// click that led there (nothing for a viewer who is not a member).
func (s *Server) enterLive(r *http.Request, mc memberCtx, l live.Live) {
	if s.Track == nil || mc.Member.ID == 0 {
		return
	}
	if _, err := s.Track.EnterLive(r.Context(), mc.Tenant.ID, l.ID, mc.Member.ID, s.visitorOf(r, mc.Tenant.ID)); err != nil {
		s.Logger.Warn("track: live entry not recorded", "live", l.ID, "err", err)
	}
}

// joinAttribution is what brought a member joining through a join or
// invite link, inside the join's transaction: see track.JoinSource.
func (s *Server) joinAttribution(ctx context.Context, tx *store.Tx, r *http.Request, tenantID, memberID int64, jt joinTarget) (event.JoinData, error) {
	var referrer int64
	if jt.Invite != nil {
		referrer = jt.Invite.Code.MemberID
	}
	if s.Track == nil {
		return track.JoinSource(jt.Code.Source, referrer, track.Touch{}, false), nil
	}
	return s.Track.JoinTx(ctx, tx, tenantID, memberID, s.visitorOf(r, tenantID), jt.Code.Source, referrer)
}

// --- console: /console/tracking ---

type linkView struct {
	track.LinkRow
	Short string
}

type trackingView struct {
	Links       []linkView
	Page        int
	More        bool
	Clicked     bool
	WindowHours int
	MinHours    int
	MaxHours    int
	Error       string
	Saved       bool
	PrevURL     string // "" on the first page
	NextURL     string // "" on the last
}

// tracking lists the tenant's tracked links with their clicks, newest
// first, and the attribution window.
func (s *Server) tracking(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	v, err := s.trackingView(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Saved = r.URL.Query().Get("saved") == "1"
	s.render(w, r, "tracking", s.staffPage(c, s.Catalog.T(c.Lang, "track.title"), "tracking", v))
}

func (s *Server) trackingView(r *http.Request, c *staffCtx) (trackingView, error) {
	ctx := r.Context()
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	clicked := r.URL.Query().Get("clicked") == "1"
	lp, err := s.Track.Links(ctx, c.Tenant.ID, page, clicked)
	if err != nil {
		return trackingView{}, err
	}
	win, err := s.Track.Window(ctx, c.Tenant.ID)
	if err != nil {
		return trackingView{}, err
	}
	v := trackingView{Page: lp.Page, More: lp.More, Clicked: clicked, WindowHours: int(win.Hours()),
		MinHours: int(track.MinWindow.Hours()), MaxHours: int(track.MaxWindow.Hours())}
	pageURL := func(n int) string {
		q := url.Values{"page": {strconv.Itoa(n)}}
		if clicked {
			q.Set("clicked", "1")
		}
		return "/console/tracking?" + q.Encode()
	}
	if lp.Page > 1 {
		v.PrevURL = pageURL(lp.Page - 1)
	}
	if lp.More {
		v.NextURL = pageURL(lp.Page + 1)
	}
	for _, row := range lp.Rows {
		v.Links = append(v.Links, linkView{LinkRow: row, Short: s.Track.ShortURL(row.Code)})
	}
	return v, nil
}

// trackingSave sets the attribution window (whole hours).
func (s *Server) trackingSave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	hours, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("window_hours")))
	if err == nil {
		err = s.Track.SetWindow(r.Context(), c.Tenant.ID, time.Duration(hours)*time.Hour)
	} else {
		err = fmt.Errorf("%w: not a number of hours", store.ErrInvalid)
	}
	if err != nil {
		v, verr := s.trackingView(r, c)
		if verr != nil || !errors.Is(err, store.ErrInvalid) {
			s.fail(w, r, err)
			return
		}
		v.Error = s.Catalog.T(c.Lang, "track.window_invalid", v.MinHours, v.MaxHours)
		v.WindowHours = hours
		s.renderStatus(w, r, http.StatusBadRequest, "tracking", s.staffPage(c, s.Catalog.T(c.Lang, "track.title"), "tracking", v))
		return
	}
	http.Redirect(w, r, "/console/tracking?saved=1", http.StatusSeeOther)
}
