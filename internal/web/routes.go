package web

import (
	"io/fs"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Access says who may use a route.
type Access string

const (
	Public Access = "public"
	Staff  Access = "staff"  // console session of the tenant the ids belong to
	Member Access = "member" // member cookie of the tenant in the path
)

// Route is one endpoint.
type Route struct {
	Pattern string // net/http pattern: "METHOD /path/{param}"
	Access  Access
	handler http.Handler
}

// Routes lists every endpoint; tests sweep them (tenant isolation, auth).
func (s *Server) Routes() []Route {
	pub := func(p string, h http.HandlerFunc) Route { return Route{p, Public, h} }
	st := func(p string, h staffHandler) Route { return Route{p, Staff, s.staff(h)} }
	mem := func(p string, h http.HandlerFunc) Route { return Route{p, Member, h} }
	routes := []Route{
		pub("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/console", http.StatusSeeOther) }),
		pub("GET /healthz", s.healthz),
		pub("GET /readyz", s.readyz),
		{"GET /metrics", Public, promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})},
		{"GET /static/", Public, http.StripPrefix("/static/", staticFiles(s.static))},
		pub("GET /login", s.loginPage),
		pub("POST /login", s.login),
		pub("POST /lang", s.setLanguage),
		pub("POST /hooks/{kind}/{key}", s.webhook),
		pub("POST /api/lives/{tenant}/{id}/events", s.liveEvents),

		st("POST /logout", s.logout),
		st("GET /console", s.home),
		st("POST /console/account/language", s.accountLanguage),
		st("GET /console/groups", s.groupsList),
		st("GET /console/groups/new", s.groupNew),
		st("POST /console/groups", s.groupCreate),
		st("GET /console/groups/{id}", s.groupShow),
		st("GET /console/groups/{id}/edit", s.groupEdit),
		st("POST /console/groups/{id}", s.groupUpdate),
		st("POST /console/groups/{id}/joincodes", s.joinCodeCreate),
		st("POST /console/groups/{id}/joincodes/{cid}/disable", s.joinCodeDisable),
		st("GET /console/groups/{id}/qr/{code}", s.groupQR),
		st("GET /console/groups/{id}/messages", s.groupMessages),
		st("POST /console/groups/{id}/messages", s.groupSend),
		st("GET /console/groups/{id}/ws", s.groupWS),
		st("POST /console/groups/{id}/members/{mid}/remove", s.memberRemove),
		st("GET /console/members", s.membersList),
		st("GET /console/members/{id}", s.memberShow),
		st("POST /console/members/{id}/tags", s.memberTagAdd),
		st("POST /console/members/{id}/tags/remove", s.memberTagRemove),
		st("POST /console/members/{id}/consent", s.memberConsent),
		st("POST /console/members/{id}/merge", s.memberMerge),
		st("POST /console/members/{id}/points", s.pointsAdjust),
		st("POST /console/members/{id}/ban", s.memberBan),
		st("POST /console/members/{id}/dm", s.staffDM),
		st("GET /console/members/{id}/dm/ws", s.staffDMWS),
		st("GET /console/routine", s.routine),
		st("POST /console/personas", s.personaSave),
		st("GET /console/rules/new", s.ruleNew),
		st("POST /console/rules", s.ruleSave),
		st("GET /console/rules/{id}/edit", s.ruleEdit),
		st("POST /console/rules/{id}", s.ruleSave),
		st("POST /console/rules/{id}/delete", s.ruleDelete),
		st("GET /console/points", s.points),
		st("POST /console/rewards", s.rewardCreate),
		st("POST /console/rewards/{id}", s.rewardUpdate),
		st("GET /console/wishes", s.wishes),
		st("POST /console/wishes/status", s.wishStatus),
		st("GET /console/channels", s.channels),
		st("POST /console/channels", s.channelCreate),
		st("POST /console/channels/{id}/check", s.channelCheck),
		st("POST /console/channels/{id}/webhook", s.channelWebhook),
		st("POST /console/channels/{id}/delete", s.channelDelete),
		st("GET /console/lives", s.lives),
		st("POST /console/lives", s.liveCreate),
		st("GET /console/lives/{id}", s.liveShow),
		st("POST /console/lives/{id}/{action}", s.liveAction),
		st("POST /console/lives/{id}/warmup", s.liveWarmup),
		st("POST /console/lives/{id}/reschedule", s.liveReschedule),
		st("GET /console/content", s.contentList),
		st("GET /console/content/new", s.contentNew),
		st("POST /console/content", s.contentSave),
		st("GET /console/content/{id}", s.contentShow),
		st("POST /console/content/{id}", s.contentSave),
		st("POST /console/content/{id}/archive", s.contentArchive),
		st("GET /console/playbooks", s.playbooks),
		st("GET /console/playbooks/new", s.playbookNew),
		st("POST /console/playbooks", s.playbookSave),
		st("POST /console/playbooks/template", s.playbookTemplate),
		st("GET /console/playbooks/{id}", s.playbookShow),
		st("POST /console/playbooks/{id}", s.playbookSave),
		st("POST /console/policy", s.policySave),
		st("GET /console/calendar", s.calendar),
		st("GET /console/activities", s.activities),
		st("POST /console/activities", s.activityCreate),
		st("GET /console/activities/{id}", s.activityShow),
		st("POST /console/activities/{id}/close", s.activityClose),
		st("GET /console/moderation", s.moderation),
		st("POST /console/moderation/{id}/undo", s.moderationUndo),

		pub("GET /l/{tenant}/{id}", s.liveRoomPage),
		pub("GET /l/{tenant}/{id}/ws", s.liveRoomWS),
		pub("GET /l/{tenant}/{id}/join.svg", s.liveJoinQR),
		pub("GET /l/{tenant}/{id}/lotteries/{lottery}", s.liveLottery),
		pub("POST /l/{tenant}/{id}/identify", s.liveIdentify),
		mem("POST /l/{tenant}/{id}/drops/{drop}/claim", s.liveClaim),
		mem("POST /l/{tenant}/{id}/lotteries/{lottery}/claim", s.liveLotteryClaim),
		pub("GET /j/{code}", s.joinPage),
		pub("POST /j/{code}", s.join),
		mem("GET /m/{tenant}", s.memberHome),
		mem("GET /m/{tenant}/g/{id}", s.chatPage),
		mem("GET /m/{tenant}/g/{id}/ws", s.chatWS),
		mem("POST /m/{tenant}/g/{id}/leave", s.leave),
		mem("POST /m/{tenant}/g/{id}/polls/{poll}/vote", s.memberVote),
		mem("GET /m/{tenant}/points", s.memberPoints),
		mem("GET /m/{tenant}/inbox", s.memberInbox),
		mem("GET /m/{tenant}/wishes", s.memberWishes),
		mem("POST /m/{tenant}/wishes", s.memberWishAdd),
		mem("GET /m/{tenant}/inbox/ws", s.memberInboxWS),
		mem("POST /m/{tenant}/rewards/{id}/redeem", s.memberRedeem),
	}
	// Commerce and loyalty (#7): each feature lists its own routes.
	for _, more := range [][]Route{s.commerceRoutes(), s.couponRoutes(), s.saleRoutes(), s.referralRoutes(), s.wishRoutes(), s.analyticsRoutes(), s.trackRoutes(), s.reportRoutes()} {
		routes = append(routes, more...)
	}
	return routes
}

// Route constructors for the feature files' route lists.
func (s *Server) pubRoute(p string, h http.HandlerFunc) Route { return Route{p, Public, h} }
func (s *Server) staffRoute(p string, h staffHandler) Route   { return Route{p, Staff, s.staff(h)} }
func (s *Server) memberRoute(p string, h http.HandlerFunc) Route {
	return Route{p, Member, h}
}
func (s *Server) shopRoute(p string, h shopHandler) Route { return Route{p, Public, s.shopAPI(h)} }

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Pattern, rt.handler)
	}
	return s.wrap(mux)
}

func staticFiles(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
	}
	w.Write([]byte("ready\n"))
}
