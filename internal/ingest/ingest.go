// Package ingest turns what a platform delivered (normalised by its
// adapter into channel.Inbound) into liveloop's records: the chat becomes a
// group, the platform user an identity of a member, and each message, join
// or leave an event — so the rule runner, the console and analytics work
// the same for every channel.
//
// A delivery is one transaction. Every event carries the platform's own id
// as its source id under the account's channel name, so a redelivery (LINE
// resends, Telegram repeats after a timeout) is stored once; joins are
// idempotent by membership (Telegram announces one join twice).
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/account"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/poll"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
)

// Ingester stores deliveries.
type Ingester struct {
	DB        *store.DB
	Log       *event.Log
	Members   *member.Service
	Community *community.Service
	Polls     *poll.Service
	Logger    *slog.Logger
	// ParseVote reads a button's payload as a poll vote (the runner's
	// format); nil ignores buttons.
	ParseVote func(data string) (pollID int64, choice int, ok bool)
	// Press handles other buttons after the delivery is stored (a coupon
	// drop's "claim"), with the member who pressed: it reports whether the
	// payload was its own. Its own transaction makes it idempotent.
	Press func(ctx context.Context, tenantID, memberID int64, data string) bool
}

// press is a button press to hand to Press once the delivery is stored.
type press struct {
	member int64
	data   string
}

// Result counts what a delivery did.
type Result struct {
	Stored     int // new events
	Duplicates int // events seen before (redeliveries)
	Ignored    int // kinds liveloop does not act on, or refused joins

	presses []press
}

// IdentityChannel is the identities' channel of an account's users.
// Telegram user ids are the same for every bot, so one person is one
// identity across a tenant's bots; LINE user ids differ per provider, so
// they are scoped to the account.
func IdentityChannel(a account.Account) string {
	if a.Kind == account.Telegram {
		return account.Telegram
	}
	return a.Channel()
}

// Deliver stores one delivery of account a.
//
// Two deliveries that see a new user (or chat) at once both try to create
// it; the one that loses the unique index is rolled back and tried again,
// and then finds what the other created.
func (in *Ingester) Deliver(ctx context.Context, a account.Account, evs []channel.Inbound) (Result, error) {
	var res Result
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = in.DB.InTx(ctx, func(tx *store.Tx) error {
			res = Result{}
			for _, ev := range evs {
				if err := in.one(ctx, tx, a, ev, &res); err != nil {
					return fmt.Errorf("ingest %s %s %s: %w", a.Channel(), ev.Kind, ev.ID, err)
				}
			}
			return nil
		})
		if !errors.Is(err, store.ErrConflict) && !store.IsUniqueViolation(err) {
			break
		}
	}
	if err == nil && in.Press != nil {
		for _, p := range res.presses {
			if in.Press(ctx, a.TenantID, p.member, p.data) {
				res.Stored++
			} else {
				res.Ignored++
			}
		}
	}
	return res, err
}

func (in *Ingester) one(ctx context.Context, tx *store.Tx, a account.Account, ev channel.Inbound, res *Result) error {
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	ev.At = ev.At.UTC()
	count := func(inserted bool, err error) error {
		switch {
		case err != nil:
			return err
		case inserted:
			res.Stored++
		default:
			res.Duplicates++
		}
		return nil
	}
	src := a.Channel()
	if ev.Private {
		return in.private(ctx, tx, a, ev, res, count)
	}
	if ev.Chat == "" {
		res.Ignored++
		return nil
	}
	switch ev.Kind {
	case channel.InboundMigrate:
		return in.Community.MoveExternal(ctx, tx, a.TenantID, src, ev.Chat, ev.NewChat)
	case channel.InboundBotRemoved:
		g, err := in.Community.GroupByExternal(ctx, tx, a.TenantID, src, ev.Chat)
		if errors.Is(err, store.ErrNotFound) {
			res.Ignored++
			return nil
		}
		if err != nil {
			return err
		}
		in.Logger.Warn("ingest: the bot was removed from a group; it is unreachable", "channel", src, "group", g.ID)
		return in.Community.SetReachable(ctx, tx, a.TenantID, g.ID, false, ev.At)
	}
	g, err := in.group(ctx, tx, a, ev)
	if err != nil {
		return err
	}
	switch ev.Kind {
	case channel.InboundBotAdded:
		return in.Community.SetReachable(ctx, tx, a.TenantID, g.ID, true, ev.At)
	case channel.InboundJoin:
		for _, u := range ev.Users {
			if u.IsBot || u.ID == "" {
				continue
			}
			m, _, err := in.Members.EnsureTx(ctx, tx, a.TenantID, IdentityChannel(a), u.ID, displayName(u))
			if err != nil {
				return err
			}
			joined, err := in.Community.JoinTx(ctx, tx, community.JoinRequest{TenantID: a.TenantID, GroupID: g.ID, MemberID: m.ID,
				Source: src, SourceID: ev.ID + ":" + u.ID, At: ev.At})
			if errors.Is(err, community.ErrBanned) || errors.Is(err, community.ErrRemoved) || errors.Is(err, community.ErrFull) {
				// The platform let them in; liveloop's ban list did not.
				// Moderation on the platform is the runner's job (mute or
				// remove through the adapter); here the join is not counted.
				in.Logger.Warn("ingest: join refused by liveloop", "channel", src, "group", g.ID, "member", m.ID, "reason", err)
				res.Ignored++
				continue
			}
			if err := count(joined, err); err != nil {
				return err
			}
		}
		return nil
	case channel.InboundLeave:
		for _, u := range ev.Users {
			if u.IsBot || u.ID == "" {
				continue
			}
			m, _, err := in.Members.EnsureTx(ctx, tx, a.TenantID, IdentityChannel(a), u.ID, displayName(u))
			if err != nil {
				return err
			}
			err = in.Community.LeaveTx(ctx, tx, a.TenantID, g.ID, m.ID, src, ev.ID+":"+u.ID, ev.At)
			if errors.Is(err, community.ErrNotIn) {
				res.Duplicates++ // left before (or never seen in): nothing to record
				continue
			}
			if err := count(true, err); err != nil {
				return err
			}
		}
		return nil
	case channel.InboundMessage:
		var memberID int64
		name := displayName(ev.User)
		if ev.User.ID != "" {
			m, err := in.memberIn(ctx, tx, a, g, ev)
			if err != nil {
				return err
			}
			memberID, name = m.ID, m.DisplayName
		}
		e := event.Event{TenantID: a.TenantID, Type: event.Message, Source: src, SourceID: ev.ID, At: ev.At,
			MemberID: memberID, GroupID: g.ID,
			Data: event.MustData(event.MessageData{Text: textnorm.Clean(ev.Text), SenderName: name, ReplyToken: ev.ReplyToken})}
		return count(in.Log.AppendTx(ctx, tx, &e))
	case channel.InboundButton:
		if in.ParseVote == nil || in.Polls == nil || ev.User.ID == "" {
			res.Ignored++
			return nil
		}
		pollID, choice, ok := in.ParseVote(ev.Data)
		if !ok {
			if in.Press == nil {
				res.Ignored++
				return nil
			}
			m, err := in.memberIn(ctx, tx, a, g, ev)
			if err != nil {
				return err
			}
			res.presses = append(res.presses, press{member: m.ID, data: ev.Data})
			return nil
		}
		m, err := in.memberIn(ctx, tx, a, g, ev)
		if err != nil {
			return err
		}
		p, err := in.Polls.VoteTx(ctx, tx, a.TenantID, pollID, m.ID, choice, ev.At, src, ev.ID)
		if err == nil && p.GroupID != g.ID {
			return fmt.Errorf("%w: a vote for another group's poll", store.ErrInvalid)
		}
		if errors.Is(err, poll.ErrClosed) || errors.Is(err, poll.ErrInvalid) || errors.Is(err, poll.ErrNotMember) || errors.Is(err, store.ErrNotFound) {
			res.Ignored++
			return nil
		}
		return count(true, err)
	}
	res.Ignored++
	return nil
}

// private handles 1:1 chats with the bot: messages go to the member's
// private thread; follow/unfollow say whether the bot may write to them.
func (in *Ingester) private(ctx context.Context, tx *store.Tx, a account.Account, ev channel.Inbound, res *Result,
	count func(bool, error) error) error {
	if ev.User.ID == "" {
		ev.User.ID = ev.Chat
	}
	if ev.User.ID == "" {
		res.Ignored++
		return nil
	}
	m, _, err := in.Members.EnsureTx(ctx, tx, a.TenantID, IdentityChannel(a), ev.User.ID, displayName(ev.User))
	if err != nil {
		return err
	}
	switch ev.Kind {
	case channel.InboundFollow, channel.InboundUnfollow:
		var at int64
		if ev.Kind == channel.InboundUnfollow {
			at = store.Millis(ev.At)
		}
		_, err := tx.ExecContext(ctx, `UPDATE identities SET unreachable_at = $4 WHERE tenant_id = $1 AND channel = $2 AND external_id = $3`,
			a.TenantID, IdentityChannel(a), ev.User.ID, at)
		return err
	case channel.InboundMessage:
		e := event.Event{TenantID: a.TenantID, Type: event.DirectMessage, Source: a.Channel(), SourceID: ev.ID, At: ev.At, MemberID: m.ID,
			Data: event.MustData(event.MessageData{Text: textnorm.Clean(ev.Text), SenderName: m.DisplayName, FromMember: true, ReplyToken: ev.ReplyToken})}
		return count(in.Log.AppendTx(ctx, tx, &e))
	}
	res.Ignored++
	return nil
}

// group finds the chat's group, creating it the first time the chat is
// seen (the bot was added, or was there before liveloop): the operator
// then gives it its positioning in the console.
func (in *Ingester) group(ctx context.Context, tx *store.Tx, a account.Account, ev channel.Inbound) (community.Group, error) {
	g, err := in.Community.GroupByExternal(ctx, tx, a.TenantID, a.Channel(), ev.Chat)
	if !errors.Is(err, store.ErrNotFound) {
		return g, err
	}
	name := textnorm.Line(ev.ChatTitle)
	if name == "" {
		name = fmt.Sprintf("%s %s", a.Name, ev.Chat)
	}
	if !textnorm.Limit(name, community.MaxGroupName) {
		name = string([]rune(name)[:community.MaxGroupName])
	}
	in.Logger.Info("ingest: a new group on the platform", "channel", a.Channel(), "chat", ev.Chat)
	// The platform enforces its own group size.
	return in.Community.CreateGroupTx(ctx, tx, community.Group{TenantID: a.TenantID, Channel: a.Channel(), ExternalID: ev.Chat,
		Name: name, Kind: community.Vertical, Capacity: community.MaxCapacity, CreatedAt: ev.At})
}

// memberIn returns the sender as a member of g, adding the membership
// when the platform shows them writing in a group liveloop had not seen
// them join (they were there before the bot).
func (in *Ingester) memberIn(ctx context.Context, tx *store.Tx, a account.Account, g community.Group, ev channel.Inbound) (member.Member, error) {
	m, _, err := in.Members.EnsureTx(ctx, tx, a.TenantID, IdentityChannel(a), ev.User.ID, displayName(ev.User))
	if err != nil {
		return m, err
	}
	_, err = in.Community.JoinTx(ctx, tx, community.JoinRequest{TenantID: a.TenantID, GroupID: g.ID, MemberID: m.ID,
		Source: a.Channel(), SourceID: "seen:" + ev.ID, At: ev.At})
	if errors.Is(err, community.ErrBanned) || errors.Is(err, community.ErrRemoved) || errors.Is(err, community.ErrFull) {
		err = nil // still their message: stored, and moderation sees it
	}
	return m, err
}

func displayName(u channel.User) string {
	if u.Name != "" {
		return u.Name
	}
	if u.Username != "" {
		return "@" + u.Username
	}
	return ""
}

// FillNames asks the platform for the display names of users it delivered
// without one (LINE) and seen here for the first time, and for the name of
// a group seen for the first time — before the delivery's transaction,
// never inside it. A few users per delivery, a few
// seconds in all; a failed lookup leaves the name empty (the member's
// name can be set later), it never fails the delivery.
func (in *Ingester) FillNames(ctx context.Context, a account.Account, p account.Profiler, evs []channel.Inbound) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	names := map[string]string{}
	lookups := 0
	fill := func(chat string, u *channel.User) {
		if u.ID == "" || u.Name != "" {
			return
		}
		if n, ok := names[u.ID]; ok {
			u.Name = n
			return
		}
		if lookups >= 10 || ctx.Err() != nil {
			return
		}
		if _, err := in.Members.ByIdentity(ctx, a.TenantID, IdentityChannel(a), u.ID); err == nil {
			names[u.ID] = "" // known: keep the member's name
			return
		}
		lookups++
		got, err := p.Profile(ctx, chat, u.ID)
		if err != nil {
			in.Logger.Warn("ingest: profile lookup failed", "channel", a.Channel(), "err", err)
			names[u.ID] = ""
			return
		}
		names[u.ID], u.Name = got.Name, got.Name
	}
	groupNames := map[string]string{}
	namer, _ := p.(account.GroupNamer)
	for i := range evs {
		chat := evs[i].Chat // in a 1:1 chat, the user's own id
		if namer != nil && !evs[i].Private && chat != "" && evs[i].ChatTitle == "" && lookups < 10 && ctx.Err() == nil {
			name, seen := groupNames[chat]
			if !seen {
				if _, err := in.Community.GroupByExternal(ctx, in.DB.R, a.TenantID, a.Channel(), chat); errors.Is(err, store.ErrNotFound) {
					lookups++
					if name, err = namer.GroupSummary(ctx, chat); err != nil {
						in.Logger.Warn("ingest: group name lookup failed", "channel", a.Channel(), "err", err)
					}
				}
				groupNames[chat] = name
			}
			evs[i].ChatTitle = name
		}
		fill(chat, &evs[i].User)
		for j := range evs[i].Users {
			fill(chat, &evs[i].Users[j])
		}
	}
}
