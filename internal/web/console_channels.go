package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/community"
)

// channelView is an account as the console shows it: never its secrets.
type channelView struct {
	account.Account
	WebhookURL string
	Groups     []community.Group
}

// channels is the console's page of platform accounts: each with its
// webhook URL, masked token, last check and groups, and the forms that
// connect a Telegram bot or a LINE channel.
func (s *Server) channels(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	var views []channelView
	if s.Accounts != nil {
		list, err := s.Accounts.List(ctx, c.Tenant.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		groups, err := s.Community.Groups(ctx, c.Tenant.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, a := range list {
			v := channelView{Account: a, WebhookURL: s.PublicURL + a.HookPath()}
			for _, g := range groups {
				if g.Channel == a.Channel() {
					v.Groups = append(v.Groups, g)
				}
			}
			views = append(views, v)
		}
	}
	s.render(w, r, "channels", s.staffPage(c, s.Catalog.T(c.Lang, "nav.channels"), "channels", map[string]any{
		"Accounts": views, "Personas": s.personasOf(ctx, c.Tenant.ID), "Enabled": s.Accounts != nil,
	}))
}

func (s *Server) channelCreate(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	limitBody(w, r)
	if s.Accounts == nil {
		s.fail(w, r, account.ErrNoKey)
		return
	}
	a := account.Account{TenantID: c.Tenant.ID, Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"),
		PersonaID: formInt(r, "persona"), Mode: r.PostFormValue("mode")}
	secrets := map[string]string{}
	for _, f := range []string{"token", "channel_secret", "access_token"} {
		secrets[f] = r.PostFormValue(f)
	}
	a, err := s.Accounts.Create(r.Context(), a, secrets)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.checkAccount(r.Context(), a)
	http.Redirect(w, r, fmt.Sprintf("/console/channels#account-%d", a.ID), http.StatusSeeOther)
}

// checkAccount asks the platform whether the account works and records
// the answer; a machine without network gets a clear "cannot connect".
func (s *Server) checkAccount(ctx context.Context, a account.Account) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	status, lastErr := "ok", ""
	ch, err := s.Accounts.Adapter(ctx, a)
	if err == nil {
		if ck, ok := account.Unwrap(ch).(account.Checker); ok {
			status, err = ck.Check(ctx)
		}
	}
	if err != nil {
		status, lastErr = "error", err.Error()
	}
	if err := s.Accounts.SetStatus(context.WithoutCancel(ctx), a.ID, status, lastErr); err != nil {
		s.Logger.Error("channels: status", "account", a.ID, "err", err)
	}
}

func (s *Server) channelFor(r *http.Request, c *staffCtx) (account.Account, error) {
	if s.Accounts == nil {
		return account.Account{}, account.ErrNoKey
	}
	id, err := pathID(r, "id")
	if err != nil {
		return account.Account{}, err
	}
	return s.Accounts.Get(r.Context(), c.Tenant.ID, id)
}

func (s *Server) channelCheck(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	a, err := s.channelFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.checkAccount(r.Context(), a)
	http.Redirect(w, r, fmt.Sprintf("/console/channels#account-%d", a.ID), http.StatusSeeOther)
}

// channelWebhook tells the platform where to deliver (Telegram; LINE's
// webhook URL is pasted into the LINE Developers console).
func (s *Server) channelWebhook(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	a, err := s.channelFor(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ch, err := s.Accounts.Adapter(r.Context(), a)
	if err == nil {
		setter, ok := account.Unwrap(ch).(account.WebhookSetter)
		if !ok {
			err = errors.New("this platform's webhook URL is set in its own console")
		} else {
			ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
			err = setter.SetWebhookURL(ctx, s.PublicURL+a.HookPath())
			cancel()
		}
	}
	status, lastErr := "webhook set", ""
	if err != nil {
		status, lastErr = "error", err.Error()
	}
	if err := s.Accounts.SetStatus(r.Context(), a.ID, status, lastErr); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/channels#account-%d", a.ID), http.StatusSeeOther)
}

func (s *Server) channelDelete(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	a, err := s.channelFor(r, c)
	if err == nil {
		err = s.Accounts.Delete(r.Context(), c.Tenant.ID, a.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/channels", http.StatusSeeOther)
}
