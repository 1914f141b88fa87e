package web

import (
	"fmt"
	"net/http"

	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// memberWishes is the member's wishlist: their wishes with the brand's
// answer (open, planned for a live, fulfilled) and a form to add one.
func (s *Server) memberWishes(w http.ResponseWriter, r *http.Request) {
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderWishes(w, r, mc, http.StatusOK, "")
}

func (s *Server) renderWishes(w http.ResponseWriter, r *http.Request, mc memberCtx, status int, problem string) {
	wishes, err := s.Bot.MemberWishes(r.Context(), mc.Tenant.ID, mc.Member.ID, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r, mc.Tenant.Locale)
	s.renderStatus(w, r, status, "member_wishes", s.memberPage(r, mc.Tenant, s.Catalog.T(lang, "wishes.mine"), map[string]any{
		"Tenant": mc.Tenant, "Member": mc.Member, "Wishes": wishes, "Error": problem,
	}))
}

// memberWishAdd adds a wish from the form. The one-time id of the form
// makes a double submit one wish.
func (s *Server) memberWishAdd(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, err := s.memberOfStrict(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	text := textnorm.Line(r.PostFormValue("text"))
	lang := s.lang(r, mc.Tenant.Locale)
	switch {
	case text == "" || !textnorm.Limit(text, 200):
		s.renderWishes(w, r, mc, http.StatusBadRequest, s.Catalog.T(lang, "wishes.form_invalid"))
		return
	case !s.sendLimiter(mc.Member.ID).Allow():
		s.renderWishes(w, r, mc, http.StatusTooManyRequests, s.Catalog.T(lang, "chat.slow_down"))
		return
	}
	once := r.PostFormValue("once")
	if !validClientID(once) {
		once = randomID()
	}
	err = s.DB.InTx(r.Context(), func(tx *store.Tx) error {
		e := event.Event{TenantID: mc.Tenant.ID, Type: event.WishAdded, Source: event.SourceWeb,
			SourceID: fmt.Sprintf("wish%d:%s", mc.Member.ID, once), MemberID: mc.Member.ID,
			Data: event.MustData(event.MessageData{Text: text, SenderName: mc.Member.DisplayName})}
		added, err := s.Log.AppendTx(r.Context(), tx, &e)
		if err != nil || !added {
			return err
		}
		return runner.AddWishTx(r.Context(), tx, mc.Tenant.ID, mc.Member.ID, 0, e.ID, text, e.At)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/m/%s/wishes", mc.Tenant.Slug), http.StatusSeeOther)
}
