package web

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/live"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
	"github.com/liveloop/liveloop/internal/textnorm"
	"github.com/liveloop/liveloop/internal/track"
)

// The live room: the player, the product on show, coupon drops, lotteries,
// comments in real time, and the call to join the community (a join link
// of its own, so joiners are attributed to the live). Anyone may watch;
// members of the brand's community may comment and claim.

// maxComment is the longest comment (danmaku are short; the room shows
// them over the player).
const maxComment = 200

func liveRoom(tenantID, liveID int64) string { return fmt.Sprintf("live:%d:%d", tenantID, liveID) }

func liveURL(t tenant.Tenant, id int64) string { return fmt.Sprintf("/l/%s/%d", t.Slug, id) }

// roomOf resolves /l/{tenant}/{id} and the viewer (Member.ID 0: anonymous).
func (s *Server) roomOf(r *http.Request) (memberCtx, live.Live, error) {
	t, err := s.Tenants.BySlug(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return memberCtx{}, live.Live{}, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return memberCtx{}, live.Live{}, err
	}
	l, err := s.Lives.Get(r.Context(), t.ID, id)
	if err != nil {
		return memberCtx{}, l, err
	}
	mc := memberCtx{Tenant: t}
	if m, err := s.memberFromRequest(r, t.ID); err == nil {
		mc.Member = m
	}
	return mc, l, nil
}

// liveJoinCode is the live's own join link into its first alert group
// (created on first use): joiners through it are attributed to the live.
func (s *Server) liveJoinCode(ctx context.Context, l live.Live) (community.JoinCode, bool) {
	if len(l.Alert.Groups) == 0 {
		return community.JoinCode{}, false
	}
	source := fmt.Sprintf("live:%d", l.ID)
	codes, err := s.Community.JoinCodes(ctx, l.TenantID, l.Alert.Groups[0])
	if err == nil {
		for _, jc := range codes {
			if jc.Source == source && jc.DisabledAt.IsZero() {
				return jc, true
			}
		}
	}
	jc, err := s.Community.NewJoinCode(ctx, community.JoinCode{TenantID: l.TenantID, GroupID: l.Alert.Groups[0], Source: source})
	if err != nil {
		s.Logger.Warn("live: join code", "live", l.ID, "err", err)
		return jc, false
	}
	return jc, true
}

// liveView is the room's state for a page or a "live" frame.
type liveView struct {
	ID      int64         `json:"id"`
	State   string        `json:"state"`
	Product *live.Product `json:"product,omitempty"`
	Drops   []dropView    `json:"drops"`
}

type dropView struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Left  int64  `json:"left"`
	Open  bool   `json:"open"`
}

func (s *Server) liveViewOf(ctx context.Context, l live.Live) (liveView, error) {
	v := liveView{ID: l.ID, State: string(l.State), Drops: []dropView{}}
	for i := range l.Products {
		if l.Products[i].ID == l.CurrentProductID {
			v.Product = &l.Products[i]
		}
	}
	drops, err := s.Lives.Drops(ctx, l.TenantID, l.ID)
	now := time.Now()
	for _, d := range drops {
		v.Drops = append(v.Drops, dropView{ID: d.ID, Title: d.Title, Left: d.Left(), Open: d.OpenAt(now) && d.Left() > 0})
	}
	return v, err
}

func (s *Server) liveRoomPage(w http.ResponseWriter, r *http.Request) {
	mc, l, err := s.roomOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	s.enterLive(r, mc, l) // a member's first entry, with the click that led here
	view, err := s.liveViewOf(ctx, l)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.Log.LiveComments(ctx, mc.Tenant.ID, l.ID, 0, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs := historyOf(evs, mc.Tenant.Location(), mc.Member.ID)
	var after int64
	if len(msgs) > 0 {
		after = msgs[len(msgs)-1].ID
	}
	lotteries, err := s.Lives.Lotteries(ctx, mc.Tenant.ID, l.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	likes, err := s.likeTotal(ctx, mc.Tenant.ID, l.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Tenant": mc.Tenant, "Member": mc.Member, "Live": l, "View": view, "Messages": msgs, "After": after,
		"WS": liveURL(mc.Tenant, l.ID) + "/ws", "Lotteries": lotteries, "Likes": likes}
	data["SoldOut"], data["Asked"] = s.roomRestock(ctx, l, mc.Member.ID)
	if jc, ok := s.liveJoinCode(ctx, l); ok {
		data["JoinURL"], data["JoinQR"] = s.joinURL(jc.Code), liveURL(mc.Tenant, l.ID)+"/join.svg"
	}
	// The player is another site's page (a platform embed or an HLS
	// player): this page alone may frame https origins.
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy+"; frame-src https:")
	s.render(w, r, "live_room", s.memberPage(r, mc.Tenant, l.Title, data))
}

// liveJoinQR is the QR code of the live's join link.
func (s *Server) liveJoinQR(w http.ResponseWriter, r *http.Request) {
	_, l, err := s.roomOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	jc, ok := s.liveJoinCode(r.Context(), l)
	if !ok {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	svg, err := track.QRSVG(s.joinURL(jc.Code))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write([]byte(svg))
}

// liveRoomWS streams the room: comments, and the room's state after each
// change (product switch, stock, drops, draws). Members may comment.
//
// A room holds thousands of sockets, so what each keeps is small: the
// ids and names it needs, not the tenant's or the live's records, and a
// like limiter made on the first like.
func (s *Server) liveRoomWS(w http.ResponseWriter, r *http.Request) {
	mc, l, err := s.roomOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	viewer := memberCtx{Tenant: tenant.Tenant{ID: mc.Tenant.ID, Locale: mc.Tenant.Locale},
		Member: member.Member{ID: mc.Member.ID, TenantID: mc.Member.TenantID, DisplayName: mc.Member.DisplayName, Locale: mc.Member.Locale}}
	liveID, lang := l.ID, s.lang(r, mc.Tenant.Locale)
	history := func(ctx context.Context, after int64) ([]event.Event, error) {
		return s.Log.LiveComments(ctx, viewer.Tenant.ID, liveID, after, catchUpLimit)
	}
	// Anyone watching may like, a few times a second per connection;
	// members may comment.
	var likes *rate.Limiter
	likedOnce := false // per connection; the event itself is once per member and live
	onFrame := func(ctx context.Context, conn wsConn, f frame) {
		switch {
		case f.Type == "like":
			if likes == nil {
				likes = rate.NewLimiter(5, 10)
			}
			if likes.Allow() {
				s.likes.add(viewer.Tenant.ID, liveID)
				if viewer.Member.ID != 0 && !likedOnce {
					likedOnce = true
					s.Log.Append(ctx, &event.Event{TenantID: viewer.Tenant.ID, Type: event.LiveMemberLiked, Source: event.SourceLive,
						SourceID: fmt.Sprintf("liked:%d:%d", liveID, viewer.Member.ID), MemberID: viewer.Member.ID,
						Data: event.MustData(event.LiveData{LiveID: liveID})})
				}
			}
		case viewer.Member.ID != 0:
			s.liveComment(ctx, conn, viewer, liveID, f)
		default:
			conn.send(frame{Type: "error", Code: "not_member", Message: s.Catalog.T(lang, "lv.comment_join")})
		}
	}
	s.serveWS(w, r, liveRoom(viewer.Tenant.ID, liveID), viewer.Member.ID, history, onFrame)
}

// liveComment stores a member's comment in the room; refused once the live
// has ended.
func (s *Server) liveComment(ctx context.Context, conn wsConn, mc memberCtx, liveID int64, f frame) {
	text, reply, ok := s.memberText(ctx, conn, mc, f)
	if !ok {
		return
	}
	if !textnorm.Limit(text, maxComment) {
		reply("too_long", "lv.comment_too_long")
		return
	}
	if cur, err := s.Lives.Head(ctx, mc.Tenant.ID, liveID); err != nil || cur.State == live.StateEnded {
		reply("ended", "live.ended")
		return
	}
	_, err := s.Log.Append(ctx, &event.Event{TenantID: mc.Tenant.ID, Type: event.LiveComment, Source: event.SourceWeb,
		SourceID: fmt.Sprintf("l%d:m%d:%s", liveID, mc.Member.ID, f.ClientID), MemberID: mc.Member.ID,
		Data: event.MustData(event.MessageData{Text: text, SenderName: mc.Member.DisplayName, ReplyTo: liveID})})
	if err != nil {
		s.Logger.Error("live: comment", "live", liveID, "err", err)
		reply("internal", "error.internal")
	}
}

// memberClaim runs a member's claim in the room (a coupon, a prize):
// the viewer must be a member, the thing claimed (loaded by the id in the
// path parameter param) must belong to this live; then claim acts and the
// member goes back to the room at anchor.
func (s *Server) memberClaim(w http.ResponseWriter, r *http.Request, param, anchor string,
	liveOf func(ctx context.Context, tenantID, id int64) (int64, error), claim func(ctx context.Context, tenantID, id, memberID int64) error) {
	limitBody(w, r)
	mc, l, err := s.roomOf(r)
	if err == nil && mc.Member.ID == 0 {
		err = community.ErrNotIn
	}
	var id, liveID int64
	if err == nil {
		if id, err = pathID(r, param); err == nil {
			liveID, err = liveOf(r.Context(), mc.Tenant.ID, id)
		}
	}
	if err == nil && liveID != l.ID {
		err = store.ErrNotFound
	}
	if err == nil {
		err = claim(r.Context(), mc.Tenant.ID, id, mc.Member.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, liveURL(mc.Tenant, l.ID)+anchor, http.StatusSeeOther)
}

// liveClaim claims a coupon of a drop for the member.
func (s *Server) liveClaim(w http.ResponseWriter, r *http.Request) {
	s.memberClaim(w, r, "drop", "#drops",
		func(ctx context.Context, tenantID, id int64) (int64, error) {
			d, err := s.Lives.Drop(ctx, tenantID, id)
			return d.LiveID, err
		},
		func(ctx context.Context, tenantID, id, memberID int64) error {
			_, err := s.Lives.Claim(ctx, tenantID, id, memberID)
			return err
		})
}

// pushLive broadcasts the room's state after a change.
func (s *Server) pushLive(ctx context.Context, tenantID, liveID int64) {
	l, err := s.Lives.Get(ctx, tenantID, liveID)
	if err != nil {
		return
	}
	v, err := s.liveViewOf(ctx, l)
	if err != nil {
		s.Logger.Warn("live: room state", "live", liveID, "err", err)
		return
	}
	b, _ := json.Marshal(frame{Type: "live", Live: &v})
	s.Hub.Broadcast(liveRoom(tenantID, liveID), b)
}

// liveLottery publishes a lottery as JSON: before the draw its commitment,
// after it also the seed, the eligible list and the winners — what
// `liveloop lottery verify` checks.
func (s *Server) liveLottery(w http.ResponseWriter, r *http.Request) {
	mc, l, err := s.roomOf(r)
	var lt live.Lottery
	if err == nil {
		var id int64
		if id, err = pathID(r, "lottery"); err == nil {
			lt, err = s.Lives.Lottery(r.Context(), mc.Tenant.ID, id)
		}
	}
	if err == nil && lt.LiveID != l.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec := map[string]any{"prize": lt.Prize, "commitment": lt.Commitment, "winner_count": lt.WinnerCount}
	if lt.Drawn() {
		rec["seed"], rec["eligible"], rec["winners"] = hex.EncodeToString(lt.Seed), lt.Eligible, lt.Winners
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rec)
}

// liveLotteryClaim lets a winner claim the prize; winners must be members
// of the community (the seeds' hook: win in the live, claim in the group).
func (s *Server) liveLotteryClaim(w http.ResponseWriter, r *http.Request) {
	s.memberClaim(w, r, "lottery", "#lotteries",
		func(ctx context.Context, tenantID, id int64) (int64, error) {
			lt, err := s.Lives.Lottery(ctx, tenantID, id)
			return lt.LiveID, err
		},
		func(ctx context.Context, tenantID, id, memberID int64) error {
			_, err := s.Lives.ClaimPrize(ctx, tenantID, id, memberID)
			return err
		})
}

// likeCounter aggregates likes in memory: a tap is a counter increment,
// and a few times a second each room's new likes are written as one event
// and its total broadcast — so a room of thousands liking at once costs a
// handful of writes and frames, not one per tap.
type likeCounter struct {
	mu      sync.Mutex
	pending map[[2]int64]int64 // (tenant, live) → likes since the last flush
	total   map[[2]int64]int64 // (tenant, live) → running total (loaded on first use)
}

func (c *likeCounter) add(tenantID, liveID int64) { c.addN(tenantID, liveID, 1) }

func (c *likeCounter) addN(tenantID, liveID, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[[2]int64]int64{}
	}
	c.pending[[2]int64{tenantID, liveID}] += n
}

func (c *likeCounter) take() map[[2]int64]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending
	c.pending = map[[2]int64]int64{}
	return p
}

// flushLikes writes and broadcasts the rooms' new likes until ctx ends.
func (s *Server) flushLikes(ctx context.Context) {
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for k, n := range s.likes.take() {
			total, err := s.likeTotal(ctx, k[0], k[1])
			if err != nil {
				s.Logger.Warn("live: likes", "live", k[1], "err", err)
				continue
			}
			total += n
			now := time.Now()
			_, err = s.Log.Append(ctx, &event.Event{TenantID: k[0], Type: event.LiveLiked, Source: event.SourceLive,
				SourceID: fmt.Sprintf("likes:%d:%d", k[1], now.UnixNano()), At: now,
				Data: event.MustData(event.LiveData{LiveID: k[1], Likes: total, Added: n})})
			if err != nil {
				s.Logger.Warn("live: likes", "live", k[1], "err", err)
				continue
			}
			s.likes.mu.Lock()
			if s.likes.total == nil {
				s.likes.total = map[[2]int64]int64{}
			}
			s.likes.total[k] = total
			s.likes.mu.Unlock()
			// With the room's next comments: one write per viewer a tick.
			b, _ := json.Marshal(frame{Type: "likes", Likes: total})
			s.comments.addLikes(liveRoom(k[0], k[1]), b)
		}
	}
}

// likeTotal is a room's running total: in memory, or the last written.
func (s *Server) likeTotal(ctx context.Context, tenantID, liveID int64) (int64, error) {
	s.likes.mu.Lock()
	total, ok := s.likes.total[[2]int64{tenantID, liveID}]
	s.likes.mu.Unlock()
	if ok {
		return total, nil
	}
	e, err := s.Log.LastLiveLikes(ctx, tenantID, liveID)
	if err != nil || e.ID == 0 {
		return 0, err
	}
	var d event.LiveData
	err = e.Decode(&d)
	return d.Likes, err
}

// frameBatcher collects a live room's comment and like frames and sends
// them as one WebSocket message (a JSON array when there are several), at
// most once per commentTick a room: a quiet room's comment goes out at
// once; a busy room costs each viewer one write per tick, not one per
// comment. The order of the frames is kept. A like total is lazy: it
// rides with the room's next comments, or goes alone after likeLag — and
// a newer total replaces one still waiting.
type frameBatcher struct {
	mu      sync.Mutex
	pending map[string]*roomFrames
	last    map[string]time.Time // room → when it was last sent
	wake    chan struct{}
}

type roomFrames struct {
	frames [][]byte
	urgent bool      // a comment is waiting
	since  time.Time // when the first frame came
	likes  int       // index of the waiting like total in frames, -1: none
}

// likeLag is how long a like total waits for comments to ride with.
const likeLag = 300 * time.Millisecond

func (f *frameBatcher) init() {
	if f.pending == nil {
		f.pending, f.last, f.wake = map[string]*roomFrames{}, map[string]time.Time{}, make(chan struct{}, 1)
	}
}

func (f *frameBatcher) add(room string, frame []byte) { f.put(room, frame, false) }

// addLikes queues a room's like total (lazy; replaces one still waiting).
func (f *frameBatcher) addLikes(room string, frame []byte) { f.put(room, frame, true) }

func (f *frameBatcher) put(room string, frame []byte, like bool) {
	f.mu.Lock()
	f.init()
	rf := f.pending[room]
	if rf == nil {
		rf = &roomFrames{since: time.Now(), likes: -1}
		f.pending[room] = rf
	}
	switch {
	case like && rf.likes >= 0:
		rf.frames[rf.likes] = frame
	case like:
		rf.likes = len(rf.frames)
		rf.frames = append(rf.frames, frame)
	default:
		rf.frames = append(rf.frames, frame)
		rf.urgent = true
	}
	wake := f.wake
	f.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

// due takes the frames of the rooms ready to send — a comment waiting and
// the last send a tick old, or a like total that waited likeLag — and
// says how long until the next of the others is (0: none waiting).
func (f *frameBatcher) due(now time.Time) (map[string][][]byte, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	out := map[string][][]byte{}
	var next time.Duration
	for room, rf := range f.pending {
		at := rf.since.Add(likeLag)
		if rf.urgent {
			at = f.last[room].Add(commentTick)
		}
		if wait := at.Sub(now); wait > 0 {
			if next == 0 || wait < next {
				next = wait
			}
			continue
		}
		out[room] = rf.frames
		f.last[room] = now
		delete(f.pending, room)
	}
	for room, at := range f.last {
		if now.Sub(at) > time.Minute && f.pending[room] == nil {
			delete(f.last, room) // a room gone quiet
		}
	}
	return out, next
}

// commentTick is the shortest gap between two sends to a live room.
const commentTick = 100 * time.Millisecond

func (s *Server) flushComments(ctx context.Context) {
	s.comments.mu.Lock()
	s.comments.init()
	wake := s.comments.wake
	s.comments.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
		rooms, next := s.comments.due(time.Now())
		for room, frames := range rooms {
			if len(frames) == 1 {
				s.Hub.Broadcast(room, frames[0])
				continue
			}
			b := make([]byte, 0, 2+len(frames)*256)
			b = append(b, '[')
			for i, f := range frames {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, f...)
			}
			s.Hub.Broadcast(room, append(b, ']'))
		}
		if next > 0 {
			timer.Reset(next)
		}
	}
}

// liveIdentify lets an anonymous viewer take a display name so they can
// comment (and like as themselves): a member record of the brand with a
// web identity and the member cookie — not yet in any group; the room's
// join call to action is the next step.
func (s *Server) liveIdentify(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r)
	mc, l, err := s.roomOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if mc.Member.ID != 0 {
		http.Redirect(w, r, liveURL(mc.Tenant, l.ID), http.StatusSeeOther)
		return
	}
	m, err := s.Members.Create(r.Context(), member.Member{TenantID: mc.Tenant.ID, DisplayName: r.PostFormValue("name"),
		Locale: s.lang(r, mc.Tenant.Locale)}, member.Identity{Channel: webchat.Name, ExternalID: "web-" + strings.ToLower(randomID())})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setMemberCookie(w, mc.Tenant.ID, m.ID)
	http.Redirect(w, r, liveURL(mc.Tenant, l.ID), http.StatusSeeOther)
}
