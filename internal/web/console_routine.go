package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/store"
)

// routine is the console page of the community routine: personas, rules
// (per group or for all groups), and where to find the rest.
func (s *Server) routine(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	ctx := r.Context()
	personas, err := s.Bot.Personas(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rules, err := s.Bot.Rules(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Community.Groups(ctx, c.Tenant.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, p := range personas {
		names[p.ID] = p.Name
	}
	s.render(w, r, "routine", s.staffPage(c, s.Catalog.T(c.Lang, "nav.routine"), "routine", map[string]any{
		"Personas": personas, "PersonaNames": names, "Rules": rules, "Groups": groupNames(groups), "Roles": runner.Roles, "Kinds": ruleKinds,
	}))
}

var ruleKinds = []bot.Kind{bot.KindWelcome, bot.KindKeyword, bot.KindCheckIn, bot.KindDiscussion, bot.KindModeration, bot.KindWishlist}

func groupNames(gs []community.Group) map[int64]string {
	m := map[int64]string{}
	for _, g := range gs {
		m[g.ID] = g.Name
	}
	return m
}

func (s *Server) personaSave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	p := bot.Persona{ID: id, Name: r.PostFormValue("name"), AvatarURL: r.PostFormValue("avatar_url"), Role: bot.Role(r.PostFormValue("role"))}
	if _, err := s.Bot.SavePersona(r.Context(), c.Tenant.ID, p); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/routine#personas", http.StatusSeeOther)
}

type ruleForm struct {
	Rule     bot.Rule
	Personas []bot.Persona
	Groups   []community.Group
	Error    string
	// Text forms of list and map fields.
	Answers, BannedWords, WishKeywords, StreakBonus string
	WishReminders                                   string
}

func (s *Server) ruleFormPage(w http.ResponseWriter, r *http.Request, c *staffCtx, status int, f ruleForm) {
	var err error
	if f.Personas, err = s.Bot.Personas(r.Context(), c.Tenant.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Groups, err = s.Community.Groups(r.Context(), c.Tenant.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Rule.CheckIn != nil && f.Answers == "" {
		f.Answers = strings.Join(f.Rule.CheckIn.Answers, "\n")
		var parts []string
		for day, pts := range f.Rule.CheckIn.StreakBonus {
			parts = append(parts, fmt.Sprintf("%d=%d", day, pts))
		}
		f.StreakBonus = strings.Join(parts, ", ")
	}
	if f.Rule.Moderation != nil && f.BannedWords == "" {
		f.BannedWords = strings.Join(f.Rule.Moderation.BannedWords, "\n")
	}
	if f.Rule.Wishlist != nil && f.WishReminders == "" {
		f.WishReminders = strings.Join(f.Rule.Wishlist.Reminders, ", ")
	}
	if f.Rule.Wishlist != nil && f.WishKeywords == "" {
		f.WishKeywords = strings.Join(f.Rule.Wishlist.Keywords, "\n")
	}
	s.renderStatus(w, r, status, "rule_form", s.staffPage(c, s.Catalog.T(c.Lang, "rule.kind."+string(f.Rule.Kind)), "routine", f))
}

func (s *Server) ruleNew(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	kind := bot.Kind(r.URL.Query().Get("kind"))
	rule, ok := defaultRule(kind, s.Catalog.T(c.Lang, "rule.default_welcome"))
	if !ok {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	s.ruleFormPage(w, r, c, http.StatusOK, ruleForm{Rule: rule})
}

func (s *Server) ruleEdit(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rule, err := s.Bot.Rule(r.Context(), c.Tenant.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.ruleFormPage(w, r, c, http.StatusOK, ruleForm{Rule: rule})
}

// ruleSave creates (POST /console/rules) or updates (POST
// /console/rules/{id}) a rule; an invalid one comes back with the reason.
func (s *Server) ruleSave(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	rule, f := ruleFromForm(r)
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if _, err := s.Bot.Rule(r.Context(), c.Tenant.ID, id); err != nil {
			s.fail(w, r, err)
			return
		}
		rule.ID = id
	}
	f.Rule = rule
	if _, err := s.Bot.SaveRule(r.Context(), c.Tenant.ID, rule); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			f.Error = detail(err)
			s.ruleFormPage(w, r, c, http.StatusBadRequest, f)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/routine#rules", http.StatusSeeOther)
}

func (s *Server) ruleDelete(w http.ResponseWriter, r *http.Request, c *staffCtx) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Bot.DeleteRule(r.Context(), c.Tenant.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/routine#rules", http.StatusSeeOther)
}

func defaultRule(kind bot.Kind, welcome string) (bot.Rule, bool) {
	r := bot.Rule{Kind: kind, Enabled: true}
	switch kind {
	case bot.KindWelcome:
		r.Welcome = &bot.WelcomeConfig{Template: welcome, DebounceSeconds: 20}
	case bot.KindKeyword:
		r.Keyword = &bot.KeywordConfig{Mode: "contains", CooldownSeconds: 60}
	case bot.KindCheckIn:
		r.CheckIn = &bot.CheckInConfig{WindowStart: "08:00", WindowEnd: "23:00", Points: 5, StreakBonus: map[int]int64{7: 20}}
	case bot.KindDiscussion:
		r.Discussion = &bot.DiscussionConfig{PointsPerMessage: 1, DailyCap: 10, MinRunes: 4}
	case bot.KindModeration:
		r.Moderation = &bot.ModerationConfig{NewMemberLinkHours: 24, FloodCount: 6, FloodSeconds: 10, MuteMinutes: 30,
			WarnsBeforeMute: 2, MutesBeforeRemove: 3, WarnDecayHours: 72}
	case bot.KindWishlist:
		r.Wishlist = &bot.WishlistConfig{Keywords: []string{"心愿", "心願", "wish"}}
	default:
		return r, false
	}
	return r, true
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func formInt(r *http.Request, name string) int64 {
	v, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
	return v
}

// ruleFromForm reads a rule from the form; Validate (in SaveRule) judges it.
func ruleFromForm(r *http.Request) (bot.Rule, ruleForm) {
	f := ruleForm{Answers: r.PostFormValue("answers"), BannedWords: r.PostFormValue("banned_words"),
		WishKeywords: r.PostFormValue("wish_keywords"), StreakBonus: r.PostFormValue("streak_bonus"),
		WishReminders: r.PostFormValue("wish_reminders")}
	rule := bot.Rule{Kind: bot.Kind(r.PostFormValue("kind")), PersonaID: formInt(r, "persona_id"), GroupID: formInt(r, "group_id"),
		Enabled: r.PostFormValue("enabled") == "on" || r.PostFormValue("enabled") == "true"}
	switch rule.Kind {
	case bot.KindWelcome:
		rule.Welcome = &bot.WelcomeConfig{Template: r.PostFormValue("template"), GiftPoints: formInt(r, "gift_points"),
			GiftCoupon:      r.PostFormValue("gift_coupon"),
			DebounceSeconds: int(formInt(r, "debounce_seconds"))}
	case bot.KindKeyword:
		rule.Keyword = &bot.KeywordConfig{Mode: bot.MatchMode(r.PostFormValue("mode")), Pattern: r.PostFormValue("pattern"),
			Reply: r.PostFormValue("reply"), CooldownSeconds: int(formInt(r, "cooldown_seconds")), Private: r.PostFormValue("private") == "on"}
	case bot.KindCheckIn:
		bonus := map[int]int64{}
		for _, part := range strings.FieldsFunc(f.StreakBonus, func(r rune) bool { return r == ',' || r == '\n' || r == '，' }) {
			day, pts, ok := strings.Cut(strings.TrimSpace(part), "=")
			d, err1 := strconv.Atoi(strings.TrimSpace(day))
			p, err2 := strconv.ParseInt(strings.TrimSpace(pts), 10, 64)
			if ok && err1 == nil && err2 == nil {
				bonus[d] = p
			} else if strings.TrimSpace(part) != "" {
				bonus[-1] = -1 // Validate refuses it with a message
			}
		}
		rule.CheckIn = &bot.CheckInConfig{Question: r.PostFormValue("question"), Answers: lines(f.Answers), Hint: r.PostFormValue("hint"),
			WindowStart: r.PostFormValue("window_start"), WindowEnd: r.PostFormValue("window_end"),
			Points: formInt(r, "points"), StreakBonus: bonus}
	case bot.KindDiscussion:
		rule.Discussion = &bot.DiscussionConfig{PointsPerMessage: formInt(r, "points_per_message"), DailyCap: formInt(r, "daily_cap"),
			MinRunes: int(formInt(r, "min_runes"))}
	case bot.KindModeration:
		rule.Moderation = &bot.ModerationConfig{BlockLinks: r.PostFormValue("block_links") == "on",
			NewMemberLinkHours: int(formInt(r, "new_member_link_hours")), FloodCount: int(formInt(r, "flood_count")),
			FloodSeconds: int(formInt(r, "flood_seconds")), BannedWords: lines(f.BannedWords), MuteMinutes: int(formInt(r, "mute_minutes")),
			WarnsBeforeMute: int(formInt(r, "warns_before_mute")), MutesBeforeRemove: int(formInt(r, "mutes_before_remove")),
			WarnDecayHours: int(formInt(r, "warn_decay_hours"))}
	case bot.KindWishlist:
		rule.Wishlist = &bot.WishlistConfig{Keywords: lines(f.WishKeywords), Reminders: lines(strings.NewReplacer(",", "\n", "，", "\n").Replace(f.WishReminders))}
	}
	return rule, f
}
