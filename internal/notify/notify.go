// Package notify sends one member a private message from inside the
// caller's transaction: the commerce features (a tier change, a coupon of
// a perk, a wish that reaches a live, a referral reward) tell the member
// in the same transaction as the change, so a message is queued exactly
// when the change commits.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
)

// webchat is the built-in web community's channel name (channel/webchat.Name;
// not imported to keep this package below the channels).
const webchat = "web"

// ErrUnreachable is returned when the member has no channel liveloop can
// write to privately.
var ErrUnreachable = fmt.Errorf("%w: the member has no channel to reach them on", store.ErrInvalid)

// Notifier queues private messages.
type Notifier struct {
	Outbox *outbox.Outbox
}

// Message is one private message: Key makes it idempotent (the same key is
// queued once per tenant), Body is the text in the member's language.
type Message struct {
	TenantID int64
	MemberID int64
	Key      string
	Body     string
	Sender   string // display name of the sender; "" = the brand
}

// DMTx queues m inside tx. It reports whether a row was queued (false: the
// key was queued before). A member with no reachable channel is
// ErrUnreachable, which callers usually record and move past; so is a
// message the outbox refuses for that member (the channel of a bot the
// installation no longer runs, a text over the channel's limit), wrapping
// the outbox's reason: the change it tells of stands either way.
func (n *Notifier) DMTx(ctx context.Context, tx *store.Tx, m Message) (bool, error) {
	ch, err := ChannelTx(ctx, tx, m.TenantID, m.MemberID)
	if err != nil {
		return false, err
	}
	_, created, err := n.Outbox.EnqueueTx(ctx, tx, outbox.Item{TenantID: m.TenantID, Channel: ch, MemberID: m.MemberID,
		IdemKey: m.Key, Body: m.Body, SenderName: m.Sender})
	if errors.Is(err, outbox.ErrInvalid) {
		return false, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return created, err
}

// LocaleTx is the member's language ("" when unknown: callers fall back to
// the brand's).
func LocaleTx(ctx context.Context, q store.Querier, tenantID, memberID int64) (string, error) {
	var loc string
	err := q.QueryRowContext(ctx, `SELECT locale FROM members WHERE tenant_id = $1 AND id = $2`, tenantID, memberID).Scan(&loc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return loc, err
}

// ChannelTx is where a member's private messages go: the built-in web
// community when they joined through it, else their first channel. A
// Telegram identity names the platform, not a bot (user ids are the same
// for every bot), so the message goes through the bot of the group they
// joined last on that platform.
func ChannelTx(ctx context.Context, q store.Querier, tenantID, memberID int64) (string, error) {
	rows, err := q.QueryContext(ctx, `SELECT channel FROM identities WHERE tenant_id = $1 AND member_id = $2 ORDER BY id`, tenantID, memberID)
	if err != nil {
		return "", fmt.Errorf("notify: identities: %w", err)
	}
	var chans []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return "", err
		}
		chans = append(chans, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(chans) == 0 {
		return "", ErrUnreachable
	}
	ch := chans[0]
	for _, c := range chans {
		if c == webchat {
			return webchat, nil
		}
	}
	if strings.Contains(ch, "/") {
		return ch, nil
	}
	var g string
	err = q.QueryRowContext(ctx, `SELECT g.channel FROM group_members gm JOIN community_groups g ON g.id = gm.group_id AND g.tenant_id = gm.tenant_id
		WHERE gm.tenant_id = $1 AND gm.member_id = $2 AND g.channel LIKE $3 ORDER BY gm.joined_at DESC, gm.group_id DESC LIMIT 1`,
		tenantID, memberID, ch+"/%").Scan(&g)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: the member is in no %s group of the brand's bots", ErrUnreachable, ch)
	}
	return g, err
}
