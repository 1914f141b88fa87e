package web

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

const sessionCookie = "ll_session"

// staffCtx is what a console handler knows about who is asking.
type staffCtx struct {
	Session tenant.Session
	Staff   tenant.Staff
	Tenant  tenant.Tenant
	Lang    string
	token   string
}

type staffHandler func(w http.ResponseWriter, r *http.Request, c *staffCtx)

// staff guards a console handler: a live session is required (else the
// login page), and unsafe methods must carry the session's CSRF token.
func (s *Server) staff(h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.staffFromRequest(r)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				if r.Method == http.MethodGet && !wantsJSON(r) {
					http.Redirect(w, r, "/login?next="+safeNext(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				s.deny(w, r, http.StatusUnauthorized, "error.login_required")
				return
			}
			s.fail(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			limitBody(w, r)
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				if err := r.ParseForm(); err != nil && errTooLarge(err) {
					s.fail(w, r, err) // 413: the form is over the cap, not forged
					return
				}
				token = r.PostFormValue("csrf")
			}
			if subtle.ConstantTimeCompare([]byte(token), []byte(c.Session.CSRFToken)) != 1 {
				s.deny(w, r, http.StatusForbidden, "error.csrf")
				return
			}
		}
		h(w, r, c)
	}
}

func (s *Server) staffFromRequest(r *http.Request) (*staffCtx, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, store.ErrNotFound
	}
	sess, err := s.Tenants.SessionByToken(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	st, err := s.Tenants.Staff(r.Context(), sess.TenantID, sess.StaffID)
	if err != nil {
		return nil, err
	}
	t, err := s.Tenants.Get(r.Context(), sess.TenantID)
	if err != nil {
		return nil, err
	}
	return &staffCtx{Session: sess, Staff: st, Tenant: t, Lang: s.lang(r, t.Locale, st.Locale), token: ck.Value}, nil
}

func (s *Server) deny(w http.ResponseWriter, r *http.Request, status int, key string) {
	lang := s.lang(r, "")
	msg := s.Catalog.T(lang, key)
	if wantsJSON(r) || r.Header.Get("X-CSRF-Token") != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"error":"` + strings.TrimPrefix(key, "error.") + `"}`))
		return
	}
	s.renderStatus(w, r, status, "error", s.newPage(r, lang, msg, map[string]any{"Status": status, "Message": msg}))
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return "/console"
	}
	return next
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r, "")
	s.render(w, r, "login", s.newPage(r, lang, s.Catalog.T(lang, "login.title"), map[string]any{
		"Next": safeNext(r.URL.Query().Get("next")), "Tenant": r.URL.Query().Get("tenant"),
	}))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r, "")
	slug, email, password := r.PostFormValue("tenant"), r.PostFormValue("email"), r.PostFormValue("password")
	again := func(status int, key string) {
		s.renderStatus(w, r, status, "login", s.newPage(r, lang, s.Catalog.T(lang, "login.title"), map[string]any{
			"Next": safeNext(r.PostFormValue("next")), "Tenant": slug, "Email": email, "Error": s.Catalog.T(lang, key),
		}))
	}
	if !s.logins.allow(clientIP(r), strings.ToLower(strings.TrimSpace(slug))+"/"+strings.ToLower(strings.TrimSpace(email))) {
		again(http.StatusTooManyRequests, "login.too_many")
		return
	}
	st, err := s.Tenants.Authenticate(r.Context(), slug, email, password)
	if errors.Is(err, tenant.ErrBadLogin) {
		again(http.StatusUnauthorized, "login.failed")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.Tenants.NewSession(r.Context(), st)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, sessionCookie, sess.Token, tenant.SessionTTL)
	s.Logger.Info("staff login", "tenant", st.TenantID, "staff", st.ID)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	if err := s.Tenants.EndSession(r.Context(), c.token); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, sessionCookie, "", -time.Second)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLanguage keeps a language choice in a cookie (works for members and
// staff alike; staff may also have one on their account).
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	lang := r.PostFormValue("lang")
	if s.Catalog.Pick("", "", lang) != lang {
		s.fail(w, r, store.ErrInvalid)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "ll_lang", Value: lang, Path: "/", MaxAge: 365 * 86400,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimiter slows password guessing: per client address and per
// account, token buckets that refill slowly. It also keeps the members'
// chat send limiters.
type loginLimiter struct {
	mu       sync.Mutex
	byIP     map[string]*rate.Limiter
	byAcct   map[string]*rate.Limiter
	byMember map[int64]*rate.Limiter
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{byIP: map[string]*rate.Limiter{}, byAcct: map[string]*rate.Limiter{}}
}

const maxLimiterKeys = 50_000

func (l *loginLimiter) allow(ip, account string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.byIP)+len(l.byAcct) > maxLimiterKeys {
		// Bounded memory under a spray of addresses: start over.
		l.byIP, l.byAcct = map[string]*rate.Limiter{}, map[string]*rate.Limiter{}
	}
	ipl, ok := l.byIP[ip]
	if !ok {
		ipl = rate.NewLimiter(rate.Every(3*time.Second), 20)
		l.byIP[ip] = ipl
	}
	al, ok := l.byAcct[account]
	if !ok {
		al = rate.NewLimiter(rate.Every(time.Minute), 5)
		l.byAcct[account] = al
	}
	return ipl.Allow() && al.Allow()
}

// memberLimiter returns the chat send limiter of a member (2 messages a
// second, bursts of 5), kept across reconnects.
func (l *loginLimiter) memberLimiter(memberID int64) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byMember == nil || len(l.byMember) > maxLimiterKeys {
		l.byMember = map[int64]*rate.Limiter{}
	}
	lim, ok := l.byMember[memberID]
	if !ok {
		lim = rate.NewLimiter(2, 5)
		l.byMember[memberID] = lim
	}
	return lim
}
