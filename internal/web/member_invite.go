package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/liveloop/liveloop/internal/referral"
	"github.com/liveloop/liveloop/internal/track"
)

// inviteTarget is a member's personal invite link of a campaign.
type inviteTarget struct {
	Code     referral.Code
	Campaign referral.Campaign
	Referrer string // display name
}

// deviceCookie names a browser (random, long-lived): stored only as a
// keyed hash, it tells a referrer inviting themselves from their own phone.
const deviceCookie = "ll_dev"

// deviceHash returns the keyed hash of the visitor's device cookie, setting
// one on the first visit.
func (s *Server) deviceHash(w http.ResponseWriter, r *http.Request) string {
	v := ""
	if c, err := r.Cookie(deviceCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		v = c.Value
	} else {
		v = hex.EncodeToString(RandomKey(16))
		http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: v, Path: "/", MaxAge: 2 * 365 * 86400,
			HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	return s.keyedHash("device:" + v)
}

// addrHash is the keyed hash of the client's address: the address itself
// is never stored.
func (s *Server) addrHash(r *http.Request) string { return s.keyedHash("ip:" + clientIP(r)) }

func (s *Server) keyedHash(v string) string {
	m := hmac.New(sha256.New, s.MemberKey)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (s *Server) inviteURL(code string) string { return s.PublicURL + "/r/" + code }

// resolveInvite reads an invite link (/r/{code}) into the join target of
// its campaign.
func (s *Server) resolveInvite(r *http.Request) (joinTarget, error) {
	ctx := r.Context()
	code, camp, err := s.Referral.Resolve(ctx, r.PathValue("code"))
	if err != nil {
		return joinTarget{}, err
	}
	jc, err := s.Referral.JoinCode(ctx, camp)
	if err != nil {
		return joinTarget{}, err
	}
	jt, err := s.joinTargetOf(r, jc, "/r/"+code.Code)
	if err != nil {
		return jt, err
	}
	ref, err := s.Members.Get(ctx, code.TenantID, code.MemberID)
	if err != nil {
		return jt, err
	}
	jt.Invite = &inviteTarget{Code: code, Campaign: camp, Referrer: ref.DisplayName}
	return jt, nil
}

func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	jt, err := s.resolveInvite(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showJoin(w, r, jt)
}

func (s *Server) inviteJoin(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	jt, err := s.resolveInvite(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.doJoin(w, r, jt)
}

type inviteCampaign struct {
	Campaign referral.Campaign
	URL      string
	QR       string
	Counts   referral.Counts
	Invites  []referral.Invite
	Grants   []referral.Grant
	Leaders  []referral.Leader
	Running  bool
}

// memberInvite is a member's invite page: per campaign their personal link
// and QR code, their invitees with each one's state, rewards, and the
// leaderboard (names only).
func (s *Server) memberInvite(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Referral.SeeDevice(ctx, mc.Tenant.ID, mc.Member.ID, s.deviceHash(w, r)); err != nil {
		s.fail(w, r, err)
		return
	}
	camps, err := s.Referral.Campaigns(ctx, mc.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.Referral.Now()
	var out []inviteCampaign
	for _, c := range camps {
		running := c.Running(now)
		if !running && (now.Before(c.StartsAt) || now.Sub(c.EndsAt) > 30*24*time.Hour) {
			continue
		}
		ic := inviteCampaign{Campaign: c, Running: running,
			QR: "/m/" + mc.Tenant.Slug + "/invite/" + itoa(c.ID) + "/qr.svg"}
		if running {
			code, err := s.Referral.CodeFor(ctx, mc.Tenant.ID, c.ID, mc.Member.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			ic.URL = s.inviteURL(code.Code)
		}
		if ic.Counts, err = s.Referral.Count(ctx, mc.Tenant.ID, c.ID, mc.Member.ID); err == nil {
			if ic.Invites, err = s.Referral.Invites(ctx, mc.Tenant.ID, c.ID, mc.Member.ID, 200); err == nil {
				if ic.Grants, err = s.Referral.Grants(ctx, mc.Tenant.ID, c.ID, mc.Member.ID); err == nil {
					ic.Leaders, err = s.Referral.Leaderboard(ctx, mc.Tenant.ID, c.ID, 10)
				}
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out = append(out, ic)
	}
	s.render(w, r, "member_invite", s.memberPage(r, mc.Tenant, s.Catalog.T(s.lang(r, mc.Tenant.Locale), "referral.invite_title"),
		map[string]any{"Tenant": mc.Tenant, "Member": mc.Member, "Campaigns": out}))
}

// memberInviteQR is the QR code of the member's personal link.
func (s *Server) memberInviteQR(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Referral.Campaign(r.Context(), mc.Tenant.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !c.Running(s.Referral.Now()) {
		s.fail(w, r, referral.ErrNotRunning)
		return
	}
	code, err := s.Referral.CodeFor(r.Context(), mc.Tenant.ID, c.ID, mc.Member.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	svg, err := track.QRSVG(s.inviteURL(code.Code))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Write([]byte(svg))
}
