package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
)

// Members of the web community have no password: their browser holds a
// cookie signed with the server's key, one per tenant, naming their member
// id. Losing it means joining again by link (their old record stays, and
// an operator can merge the two).
const memberCookieTTL = 365 * 24 * time.Hour

func memberCookieName(tenantID int64) string { return "ll_m" + strconv.FormatInt(tenantID, 10) }

func (s *Server) signMember(tenantID, memberID int64, exp time.Time) string {
	payload := fmt.Sprintf("%d.%d.%d", tenantID, memberID, exp.Unix())
	mac := hmac.New(sha256.New, s.MemberKey)
	mac.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// verifyMember returns the member id in a cookie value, if it is signed by
// this server for this tenant and has not expired.
func (s *Server) verifyMember(value string, tenantID int64, now time.Time) (int64, bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return 0, false
	}
	payload, sig := value[:i], value[i+1:]
	mac := hmac.New(sha256.New, s.MemberKey)
	mac.Write([]byte(payload))
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return 0, false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return 0, false
	}
	t, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	exp, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || t != tenantID || now.Unix() >= exp {
		return 0, false
	}
	return m, true
}

func (s *Server) setMemberCookie(w http.ResponseWriter, tenantID, memberID int64) {
	s.setCookie(w, memberCookieName(tenantID), s.signMember(tenantID, memberID, time.Now().Add(memberCookieTTL)), memberCookieTTL)
}

// memberFromRequest returns the person behind the request's member cookie
// for the tenant, or store.ErrNotFound.
func (s *Server) memberFromRequest(r *http.Request, tenantID int64) (member.Member, error) {
	ck, err := r.Cookie(memberCookieName(tenantID))
	if err != nil {
		return member.Member{}, store.ErrNotFound
	}
	id, ok := s.verifyMember(ck.Value, tenantID, time.Now())
	if !ok {
		return member.Member{}, store.ErrNotFound
	}
	return s.Members.Person(r.Context(), tenantID, id)
}
